"""Benchmarks built one row at a time: each row is its own command and writes its own result file.

A row's result is ``benchmarks/results/<table>/<row>.json`` (written atomically);
a row whose file exists is skipped unless ``--force``. ``--table`` prints the
Markdown table of the rows done so far, with the command of each. Training
rows stop at a wall-clock budget (:class:`WallClock`), checked at the end of
each epoch, so "equal wall clock" means equal budgets, each overrun by at
most one epoch (the rows record their real training seconds).
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from _common import ROOT, machine_info, markdown_table

from vaelab.training import Callback

RESULTS = ROOT / "benchmarks" / "results"


class WallClock(Callback):
    """Stops training at the first epoch end after ``seconds`` of training."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = 0.0

    def on_fit_start(self, trainer: Any) -> None:
        self.started = time.perf_counter()

    def on_epoch_end(self, trainer: Any, row: dict[str, Any]) -> None:
        if time.perf_counter() - self.started >= self.seconds:
            trainer.state.stopped_early = True


def run_rows(table: str, rows: dict[str, Callable[[], dict[str, Any]]], selected: Sequence[str], force: bool) -> None:
    """Run the ``selected`` rows of ``table`` that have no result file yet (all of them with ``force``)."""
    folder = RESULTS / table
    folder.mkdir(parents=True, exist_ok=True)
    for name in selected:
        if name not in rows:
            raise SystemExit(f"unknown row {name!r}; rows: {', '.join(rows)}")
        path = folder / f"{name}.json"
        if path.exists() and not force:
            print(f"{table}/{name}: done already ({path}); --force to redo", file=sys.stderr)
            continue
        print(f"{table}/{name}: running ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        result = rows[name]()
        result.update(
            row=name,
            command="nice -n 10 python " + " ".join(shlex.quote(a) for a in sys.argv),
            wall_seconds=time.perf_counter() - started,
            machine=machine_info(),
        )
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(result, indent=2, default=float))
        os.replace(tmp, path)
        print(f"{table}/{name}: wrote {path}", file=sys.stderr)


def print_table(table: str, columns: Sequence[tuple[str, str]]) -> None:
    """The Markdown table of ``table``'s rows done so far: ``columns`` are (header, key) pairs."""
    files = sorted((RESULTS / table).glob("*.json"))
    if not files:
        print(f"no rows of {table} yet")
        return
    results = [json.loads(f.read_text()) for f in files]
    rows = [[r.get(key, "") for _, key in columns] for r in results]
    print(markdown_table([h for h, _ in columns], rows))
    print()
    loads = {r["machine"]["load average (1, 5, 15 min) at start; at the end"] for r in results}
    cpu = results[0]["machine"]["cpu"]
    print(f"Measured under load on a shared machine ({cpu}; load averages {', '.join(sorted(loads))}).")
    print("Commands:")
    for r in results:
        print(f"- `{r['command']}`")


def mnist(n_train: int, n_test: int, seed: int = 0) -> tuple[Any, Any, Any, Any]:
    """Seeded subsets of MNIST with shape (n, 1, 28, 28), and their labels.

    The training images are grey levels in [0, 1] (the models binarize them
    dynamically); the test images are one fixed binarization (seed 0), so that
    Bernoulli ELBOs are likelihoods and the FDD compares binary images.
    """
    import numpy as np

    from vaelab.data import load_dataset

    data = load_dataset("mnist", data_dir=os.environ.get("VAELAB_DATA", str(ROOT.parent / "shared" / "data")))
    rng = np.random.default_rng(seed)
    train = np.sort(rng.choice(len(data.x_train), n_train, replace=False))
    test = np.sort(rng.choice(len(data.x_test), n_test, replace=False))

    def unit(x: Any) -> Any:
        return (x.astype(np.float32) / 255.0)[:, None]

    x_test = unit(data.x_test[test])
    x_test = (np.random.default_rng(0).random(x_test.shape, dtype=np.float32) < x_test).astype(np.float32)
    return unit(data.x_train[train]), data.y_train[train], x_test, data.y_test[test]
