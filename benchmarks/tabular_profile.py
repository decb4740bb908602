"""Where TabularVAE.fit spends its time on the UCI Adult subsample of ``benchmarks/tabular.py``: cProfile.

Prints the fit time and cProfile's entries by cumulative time (the transformer's
mixture fits, the trainer's steps, the likelihood, ...). Run single-threaded::

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/tabular_profile.py --epochs 20
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tabular import ADULT_RULES, ROOT, load_adult  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("VAELAB_DATA", ROOT.parent / "shared/data")))
    parser.add_argument("--adult-rows", type=int, default=5000)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--top", type=int, default=40, help="entries to print")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    import torch
    import torch._dynamo  # noqa: F401  (a one-off import of the first fused Adam, kept out of the profile)

    from vaelab.tabular import TabularVAE

    torch.set_num_threads(1)
    train = load_adult(args.data_dir, args.adult_rows, 0)[0]
    model = TabularVAE(constraints=ADULT_RULES, epochs=args.epochs, seed=0, device="cpu")
    print("Command: " + " ".join(["python", *sys.argv]))
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.enable()
    model.fit(train)
    profile.disable()
    print(f"fit: {time.perf_counter() - started:.2f} s for {args.epochs} epochs; load average at end: {os.getloadavg()[0]:.2f}")
    pstats.Stats(profile).sort_stats("cumulative").print_stats(args.top)


if __name__ == "__main__":
    main()
