"""Disentanglement on ``shapes``: MIG and reconstruction of the VAE, beta-VAE, the capacity schedule and beta-TCVAE.

Each row trains one model with one seed on the built-in ``shapes`` data set
(28x28 binary images with known factors shape, scale, rotation, x, y) for a
wall-clock budget, then reports on the 5,000 test images the Mutual
Information Gap of the posterior means against the five factors
(:func:`vaelab.metrics.mutual_information_gap`) and the reconstruction error
(binary cross-entropy in nats per image, and MSE per pixel). The table gives
the mean and the spread (min-max) over the seeds done.

Models (the KL variants come from issue 10's options; a row whose option is
missing from this vaelab says so and writes nothing):

- ``vae``: ``VAE(beta=1)``;
- ``beta4``: ``VAE(beta=4)`` (Higgins et al. 2017);
- ``capacity``: ``VAE(kl_schedule="capacity:25:STEPS:1000")``, the capacity
  target rising to 25 nats over STEPS steps with weight 1000 (Burgess et al. 2018);
- ``tcvae6``: ``VAE(tc_beta=6)``, the total-correlation weight of beta-TCVAE (Chen et al. 2018).

Each row is one command and one result file
(benchmarks/results/issue11-disentanglement/MODEL-sSEED.json, or under
``--results-name`` for another budget):

    nice -n 10 python benchmarks/disentanglement.py --row vae-s0 --minutes 1.5 --threads 1
    ... one command per MODEL in vae, beta4, capacity, tcvae6 and SEED in 0, 1, 2
    (the capacity rows with ``--capacity-steps 1800``)
    python benchmarks/disentanglement.py --table

STEPS must fit the budget, or the capacity never reaches its maximum: with
batch 64 on the 20,000 training images an epoch is 313 steps, and 1.5 minutes
gave 6 to 16 epochs (1,900 to 5,000 steps) on the shared 2-CPU machine, so the
1.5-minute rows use 1,800 steps (the default). The full version:
``--minutes 20`` for each of the 12 rows, with ``--capacity-steps`` set to
about 70% of the steps 20 minutes give on the machine used (about 20,000 at
the rate measured here).
Reference, for the order of magnitude only (the data differ: dSprites has
737,280 64x64 images and Chen et al. train for far longer with a sampling
estimator of the MI): Chen et al. (2018, Fig. 4) report dSprites MIG values in
the tenths, beta-TCVAE above beta-VAE and both above the plain VAE.
"""

from __future__ import annotations

import inspect
import json
import sys
import time

import numpy as np
from _common import markdown_table, parser, setup
from _rows import RESULTS, WallClock, run_rows

TABLE = "issue11-disentanglement"
MODELS = ("vae", "beta4", "capacity", "tcvae6")
SEEDS = (0, 1, 2)


def model_options(model: str, capacity_steps: int) -> dict:
    return {
        "vae": {"beta": 1.0},
        "beta4": {"beta": 4.0},
        "capacity": {"kl_schedule": f"capacity:25:{capacity_steps}:1000"},
        "tcvae6": {"tc_beta": 6.0},
    }[model]


def print_summary(table: str = TABLE) -> None:
    files = sorted((RESULTS / table).glob("*.json"))
    results = [json.loads(f.read_text()) for f in files]
    rows = []
    for model in MODELS:
        mine = [r for r in results if r["model"] == model]
        if not mine:
            rows.append([model, 0, "not run", "", "", ""])
            continue
        mig = [r["mig"] for r in mine]
        bce = [r["bce"] for r in mine]
        seconds = np.mean([r["train_seconds"] for r in mine])
        rows.append([model, len(mine), f"{np.mean(mig):.3f}", f"{min(mig):.3f}-{max(mig):.3f}", f"{np.mean(bce):.1f}",
                     f"{seconds:.0f}"])
    print(markdown_table(["model", "seeds", "MIG (mean)", "MIG (min-max)", "test BCE (nats/image)", "train s"], rows))
    if results:
        print()
        loads = sorted({r["machine"]["load average (1, 5, 15 min) at start; at the end"] for r in results})
        print(f"Load averages (1, 5, 15 min) at the start and the end of each row: {'; '.join(loads)}.")
        print("Commands:")
        for r in results:
            print(f"- `{r['command']}`")


def main() -> None:
    p = parser(__doc__.splitlines()[0], repeats=1)
    names = [f"{m}-s{s}" for m in MODELS for s in SEEDS]
    p.add_argument("--row", nargs="*", default=[], choices=names, help="rows to run, MODEL-sSEED")
    p.add_argument("--minutes", type=float, default=1.5, help="training budget per row (wall clock)")
    p.add_argument("--latent-dim", type=int, default=10)
    p.add_argument("--capacity-steps", type=int, default=1800,
                   help="steps over which the capacity rises to 25 nats (1800 fits the 1.5-minute budget)")
    p.add_argument("--results-name", default=TABLE,
                   help=f"folder of the result files under benchmarks/results/ (default {TABLE}); "
                        "another budget gets its own folder")
    p.add_argument("--force", action="store_true")
    p.add_argument("--table", action="store_true")
    args = p.parse_args()
    setup(args)
    if args.table:
        print_summary(args.results_name)
        return

    from vaelab import VAE

    accepted = inspect.signature(VAE).parameters

    def row(model: str, seed: int):
        def run() -> dict:
            import torch

            from vaelab.data import load_dataset
            from vaelab.metrics import mutual_information_gap
            from vaelab.metrics.reconstruction import binary_cross_entropy, mean_squared_error

            data = load_dataset("shapes")
            est = VAE(latent_dim=args.latent_dim, network={"kind": "mlp", "hidden_dims": [512, 512]},
                      epochs=10_000, batch_size=64, learning_rate=5e-4, device="cpu", seed=seed,
                      validation_fraction=0.0, **model_options(model, args.capacity_steps))
            started = time.perf_counter()
            est.fit(data.x_train, callbacks=[WallClock(60 * args.minutes)])
            seconds = time.perf_counter() - started
            x = torch.from_numpy(data.x_test)
            recon = torch.from_numpy(np.asarray(est.reconstruct(data.x_test)))
            result = mutual_information_gap(est.transform(data.x_test), data.factors_test)
            return {"model": model, "seed": seed, "options": model_options(model, args.capacity_steps),
                    "train_seconds": seconds, "epochs": len(est.history_),
                    "steps": len(est.history_) * -(-len(data.x_train) // 64),
                    "last_epoch": {k: float(v) for k, v in est.history_[-1].items() if isinstance(v, (int, float))},
                    "mig": result["mig"],
                    "mig_per_factor": dict(zip(data.factor_names, result["mig_per_factor"])),
                    "bce": float(binary_cross_entropy(x, recon).mean()), "mse": mean_squared_error(x, recon)}

        return run

    rows = {}
    for name in args.row:
        model, seed = name.rsplit("-s", 1)
        missing = [k for k in model_options(model, args.capacity_steps) if k not in accepted]
        if missing:
            print(f"{name}: this vaelab's VAE has no option {', '.join(missing)} (it comes with issue 10's "
                  "objectives); merge that branch, then run this row again. Nothing written.", file=sys.stderr)
            continue
        rows[name] = row(model, int(seed))
    run_rows(args.results_name, rows, list(rows), args.force)


if __name__ == "__main__":
    main()
