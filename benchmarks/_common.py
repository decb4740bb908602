"""Shared pieces of the benchmarks: arguments, machine description, timing, tables.

Every benchmark prints a Markdown table headed by the machine it ran on and
the versions in use, and reports medians of several interleaved runs (on a
shared 2-core machine a single run varies by 15-20 %; interleaving the
compared variants and taking paired ratios cancels most of the drift).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import platform
import statistics
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # run from a checkout without installing

if "--threads" in sys.argv[:-1]:  # before numpy loads its BLAS: --threads limits it too (scikit-learn's PCA)
    _n = sys.argv[sys.argv.index("--threads") + 1]
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, _n)

import numpy as np
import torch

try:
    LOAD_AT_START = " ".join(f"{v:.2f}" for v in os.getloadavg())
except OSError:
    LOAD_AT_START = "n/a"


def parser(description: str, *, repeats: int = 5) -> argparse.ArgumentParser:
    """An argument parser with the options every benchmark shares."""
    p = argparse.ArgumentParser(description=description)
    default_data = os.environ.get("VAELAB_DATA", str(ROOT.parent / "shared" / "data"))
    p.add_argument("--data-dir", default=default_data, help="folder holding mnist/ (default: $VAELAB_DATA or ../shared/data)")
    p.add_argument("--repeats", type=int, default=repeats, help=f"interleaved runs per variant (default {repeats})")
    p.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's choice)")
    return p


def setup(args: argparse.Namespace) -> None:
    if args.threads:
        torch.set_num_threads(args.threads)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_info() -> dict[str, str]:
    """What the figures depend on: hardware, load, versions."""
    import vaelab

    try:
        load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        load = "n/a"
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    return {
        "date": _dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "platform": platform.platform(),
        "cpu": f"{cpu_model()}, {os.cpu_count()} logical CPUs",
        "gpu": gpu,
        "load average (1, 5, 15 min) at start; at the end": f"{LOAD_AT_START}; {load}",
        "python": platform.python_version(),
        "torch": f"{torch.__version__} ({torch.get_num_threads()} threads)",
        "numpy": np.__version__,
        "vaelab": getattr(vaelab, "__version__", "?"),
    }


def print_machine(extra: dict[str, Any] | None = None) -> None:
    info = machine_info()
    info.update({k: str(v) for k, v in (extra or {}).items()})
    print(markdown_table(["", ""], [[f"**{k}**", v] for k, v in info.items()]))
    print()


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    def cell(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:,.4g}" if abs(v) < 1000 else f"{v:,.0f}"
        return str(v)

    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join("---" for _ in headers) + " |"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def spread(values: Sequence[float]) -> str:
    """min-max of a series, for the table."""
    return f"{min(values):,.0f}-{max(values):,.0f}" if max(values) >= 100 else f"{min(values):.3g}-{max(values):.3g}"


def interleave(variants: dict[str, Callable[[], float]], repeats: int) -> dict[str, list[float]]:
    """Run each variant once per round, ``repeats`` rounds, rotating the order each round."""
    names = list(variants)
    results: dict[str, list[float]] = {n: [] for n in names}
    for r in range(repeats):
        order = names[r % len(names):] + names[: r % len(names)]
        for name in order:
            results[name].append(variants[name]())
    return results


def load_mnist_float(data_dir: str, split: str = "train") -> torch.Tensor:
    """MNIST images as a float32 tensor in [0, 1] of shape (n, 784)."""
    from vaelab.data import load_mnist

    images, _ = load_mnist(Path(data_dir) / "mnist", split=split)
    return torch.from_numpy(np.asarray(images).reshape(len(images), -1)).float().div_(255.0)


def binarized_mnist_test(data_dir: str) -> torch.Tensor:
    """MNIST test images (n, 28, 28) binarized once with seed 123: the fixed test set of dynamically binarized MNIST.

    The same draw as ``vaelab evaluate`` scores models trained with ``binarize="dynamic"`` on
    (:func:`vaelab.metrics.discrete.binarize_once`).
    """
    from vaelab.data import load_mnist
    from vaelab.metrics.discrete import BINARIZE_SEED, binarize_once

    images, _ = load_mnist(Path(data_dir) / "mnist", split="test")
    grey = torch.from_numpy(np.asarray(images)).float().div_(255.0)
    return binarize_once(grey, BINARIZE_SEED)


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far, MiB (Linux: ru_maxrss is in KiB)."""
    import resource

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 1024 if sys.platform.startswith("linux") else rss / 2**20
