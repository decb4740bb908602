"""Start-up: ``--version`` and every command's ``--help`` import none of the heavy packages.

Each check runs in a fresh Python process (this test process has imported
torch long ago), and looks at ``sys.modules`` after the command line ran.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
HEAVY = ("torch", "sklearn", "matplotlib", "numpy", "PIL", "pandas")


def loaded_after(code: str) -> list[str]:
    """The HEAVY packages in sys.modules after ``code`` ran in a fresh interpreter (its stdout discarded)."""
    probe = (
        "import contextlib, io, json, sys\n"
        f"with contextlib.redirect_stdout(io.StringIO()):\n    exec({code!r})\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    env = {"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def command_names() -> list[list[str]]:
    """Every command and sub-command path, read from the registered application."""
    from typer.main import get_command

    from vaelab.cli.app import build_app

    def walk(command, prefix: list[str]) -> list[list[str]]:
        found = [prefix]
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            found += walk(sub, [*prefix, name])
        return found

    return walk(get_command(build_app()), [])


def test_version_and_help_import_nothing_heavy() -> None:
    paths = command_names()
    assert ["train"] in paths and ["evaluate"] in paths and len(paths) > 10
    calls = "".join(
        f"try:\n    main({[*p, '--help']!r})\nexcept SystemExit:\n    pass\n" for p in paths
    )
    code = f"from vaelab.cli import main\nmain(['--version'])\n{calls}"
    assert loaded_after(code) == []


def test_import_vaelab_is_light_and_the_estimators_load_on_use() -> None:
    assert loaded_after("import vaelab; vaelab.__version__") == []
    loaded = loaded_after("import vaelab; vaelab.VAE")
    assert "torch" in loaded and "matplotlib" not in loaded


def test_the_public_names_are_the_estimators() -> None:
    import vaelab
    from vaelab.estimators import PCA, VAE, Autoencoder, load

    assert (vaelab.PCA, vaelab.VAE, vaelab.Autoencoder, vaelab.load) == (PCA, VAE, Autoencoder, load)
    assert {"PCA", "VAE", "Autoencoder", "load", "__version__"} <= set(dir(vaelab))
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        vaelab.nothing  # noqa: B018


def test_traverse_default_span_is_the_reports() -> None:
    from vaelab.cli.commands.generate import DEFAULT_SPAN
    from vaelab.latent import TRAVERSAL_SPAN

    assert DEFAULT_SPAN == TRAVERSAL_SPAN
