"""Every module of vaelab imports alone, first, in a fresh interpreter: no import cycle is left to chance.

A cycle among vaelab's modules can hide for years: it breaks only when a
user happens to import one of its modules before the others (``import
vaelab.metrics`` failed that way while ``import vaelab`` worked). This test
imports each module, found by :func:`pkgutil.walk_packages` (so modules
added later are covered), as the first vaelab module of its process.

Speed: one fresh interpreter first imports the third-party libraries that
vaelab uses (torch, NumPy, scikit-learn, pandas, matplotlib with the Agg
backend, ...) and no vaelab module (checked), then forks a child per vaelab
module, two at a time; each child imports its module and reports the last
line of the traceback through a pipe. Preloading third-party libraries
cannot hide a cycle among vaelab's own modules, which is what this test is
about: each child still starts with no vaelab module loaded at all.
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import vaelab

SRC = Path(__file__).resolve().parents[1] / "src"

THIRD_PARTY = (
    "torch", "numpy", "scipy", "sklearn", "sklearn.base", "sklearn.decomposition", "pandas", "matplotlib",
    "matplotlib.pyplot", "PIL.Image", "yaml", "fastapi", "starlette", "uvicorn", "typer", "click", "rich",
    "safetensors.torch", "tqdm", "opacus", "sdmetrics",
)

# Runs in the fresh interpreter: argv[1] is the JSON list of module names; prints one JSON object of failures.
PROBE = r'''
import importlib, json, os, sys, traceback
import matplotlib
matplotlib.use("Agg")
for name in THIRD_PARTY:
    try:
        importlib.import_module(name)
    except Exception:  # an optional library that is missing or broken: the child imports what it can
        pass
loaded = [m for m in sys.modules if m == "vaelab" or m.startswith("vaelab.")]
assert not loaded, f"the preloaded libraries imported vaelab modules: {loaded}"

def start(name):
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: import one module, report, and leave without running any exit handler
        os.close(read)
        try:
            importlib.import_module(name)
            message = ""
        except BaseException as error:
            message = traceback.format_exception_only(type(error), error)[-1].strip() or type(error).__name__
        os.write(write, message.encode())
        os._exit(0)
    os.close(write)
    return pid, read

def finish(pid, read):
    chunks = []
    while chunk := os.read(read, 65536):
        chunks.append(chunk)
    os.close(read)
    _, status = os.waitpid(pid, 0)
    message = b"".join(chunks).decode()
    return message or ("" if status == 0 else f"the child died (wait status {status})")

names = json.loads(sys.argv[1])
failures = {}
for i in range(0, len(names), 2):
    pair = names[i : i + 2]
    for name, (pid, read) in list(zip(pair, [start(n) for n in pair])):
        message = finish(pid, read)
        if message:
            failures[name] = message
print(json.dumps(failures))
'''


def vaelab_modules() -> list[str]:
    """``vaelab`` and every module below it, found by walking the installed package."""
    broken: list[str] = []
    found = pkgutil.walk_packages(vaelab.__path__, "vaelab.", onerror=broken.append)
    return ["vaelab", *sorted({info.name for info in found} | set(broken))]


def test_the_walk_finds_the_package_and_its_subpackages() -> None:
    names = vaelab_modules()
    assert {"vaelab", "vaelab.metrics.evaluate", "vaelab.cli.commands.evaluate", "vaelab.model_output"} <= set(names)
    assert len(names) > 100


def test_every_module_imports_alone_in_a_fresh_interpreter() -> None:
    names = vaelab_modules()
    code = f"THIRD_PARTY = {THIRD_PARTY!r}\n{PROBE}"
    env = {"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin", "MPLBACKEND": "Agg"}
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(names)], capture_output=True, text=True, env=env, timeout=600
    )
    assert out.returncode == 0, out.stderr
    failures = json.loads(out.stdout.strip().splitlines()[-1])
    assert not failures, f"{len(failures)} of {len(names)} modules fail to import alone:\n" + "\n".join(
        f"{name}: {message}" for name, message in failures.items()
    )


def test_the_probe_reports_a_module_that_fails(tmp_path: Path) -> None:
    package = tmp_path / "vaelab"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from vaelab.b import B\nA = 1\n")
    (package / "b.py").write_text("from vaelab.a import A\nB = 2\n")  # a cycle: each fails when imported first
    (package / "fine.py").write_text("X = 1\n")
    code = f"THIRD_PARTY = ()\n{PROBE}"
    names = ["vaelab", "vaelab.a", "vaelab.b", "vaelab.fine"]
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(names)], capture_output=True, text=True, timeout=120,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin", "MPLBACKEND": "Agg"},
    )
    assert out.returncode == 0, out.stderr
    failures = json.loads(out.stdout.strip().splitlines()[-1])
    assert set(failures) == {"vaelab.a", "vaelab.b"}
    assert "cannot import name" in failures["vaelab.a"]
