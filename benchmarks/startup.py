"""Start-up: how long the command line and ``import vaelab`` take, in fresh processes.

Each row is a fresh Python process, started ``--repeats`` times in
interleaved rounds; the table gives the median and the range of the wall
time (process start to exit, as a user waits for it), and which heavy
packages the process had loaded when it finished (one extra run each).

    python benchmarks/startup.py --repeats 7

The targets: ``vaelab --help`` and ``--version`` at most 0.5 s on 2 cores;
``import vaelab`` no slower than ``import torch, sklearn.base``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import _common

HEAVY = ("torch", "sklearn", "numpy", "matplotlib", "typer", "rich")

CLI = "import sys; from vaelab.cli import main; sys.argv = ['vaelab', *{args!r}]; code = main({args!r})"

# name -> Python source run with ``python -c`` (the CLI rows run what the ``vaelab`` script runs)
ROWS: dict[str, str] = {
    "vaelab --version": CLI.format(args=["--version"]),
    "vaelab --help": CLI.format(args=["--help"]),
    "vaelab train --help": CLI.format(args=["train", "--help"]),
    "import vaelab": "import vaelab",
    "from vaelab import VAE (the estimators)": "from vaelab import VAE",
    "import torch": "import torch",
    "import torch, sklearn.base": "import torch, sklearn.base",
}


def run_once(source: str) -> float:
    """Wall seconds of ``python -c source`` in a fresh process (its output discarded)."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", source], check=True, stdout=subprocess.DEVNULL, env=ENV)
    return time.perf_counter() - start


def loaded_heavy(source: str) -> str:
    """Which of HEAVY the process has in sys.modules when ``source`` has run."""
    probe = (
        "import contextlib, io, sys\n"
        f"with contextlib.redirect_stdout(io.StringIO()):\n    exec({source!r})\n"
        f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True, env=ENV)
    return out.stdout.strip() or "none"


def main() -> None:
    global ENV
    p = _common.parser(__doc__.splitlines()[0], repeats=7)
    args = p.parse_args()
    ENV = dict(os.environ, PYTHONPATH=str(_common.ROOT / "src"))
    for source in ROWS.values():  # warm the file cache once: the first start of a process reads everything
        run_once(source)
    times = _common.interleave({name: (lambda s=source: run_once(s)) for name, source in ROWS.items()}, args.repeats)
    print(f"`python benchmarks/startup.py --repeats {args.repeats}`\n")
    _common.print_machine({"runs per row": args.repeats})
    rows = [
        [f"`{name}`", _common.median(t), _common.spread(t), loaded_heavy(ROWS[name])] for name, t in times.items()
    ]
    print(_common.markdown_table(["what (fresh process)", "median s", "range s", "loaded at exit"], rows))
    base = _common.median(times["import torch, sklearn.base"])
    print(
        f"\n`import vaelab` / `import torch, sklearn.base`: {_common.median(times['import vaelab']) / base:.2f}; "
        f"`from vaelab import VAE` / `import torch, sklearn.base`: "
        f"{_common.median(times['from vaelab import VAE (the estimators)']) / base:.2f}"
    )


ENV: dict[str, str] = {}

if __name__ == "__main__":
    main()
