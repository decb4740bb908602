"""Time to quality: test IS-NLL of vaelab's MNIST recipe against wall-clock training time.

The recipe is ``VAE(latent_dim=32, binarize="dynamic", epochs=E,
lr_schedule=...)`` with every other option at its default (MLP 784-512-32 /
32-512-784, ReLU, Bernoulli likelihood, batch 128, Adam at 1e-3), trained on
all 60,000 MNIST training images (``validation_fraction=0``).
E is the number of epochs the budget holds on the machine at hand (``--epochs``;
about 3.2 s each with 2 threads on the 2-core reference machine); training
stops at ``--minutes`` in any case. ``--lr-schedule constant --epochs 0``
trains at a constant step size until the budget runs out.
Weights are snapshotted at the time marks and at the end; after training
(off the clock) each snapshot is scored by the importance-sampled bound with
``--k`` samples on the test images, binarized once with a fixed seed (the
dynamically binarized MNIST protocol of Burda et al. 2016; their one-layer
VAE: 86.76 nats with k=5000 after 3,280 epochs).

    python benchmarks/time_to_quality.py --threads 2 --minutes 15 --epochs 250
    python benchmarks/time_to_quality.py --threads 2 --minutes 60 --epochs 1000 --out ttq60.json
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import _common
import numpy as np
import torch

from vaelab import VAE
from vaelab.data import load_mnist
from vaelab.metrics import importance_sampled_log_likelihood
from vaelab.training import Callback

MARKS = (1, 2, 5, 10, 15, 30, 45, 60, 90, 120)


class TimeBudget(Callback):
    """Snapshots the weights at the first epoch end past each mark and at the end; stops past the budget."""

    def __init__(self, marks_s: list[float], budget_s: float) -> None:
        self.marks_s = sorted(m for m in marks_s if m < budget_s)
        self.budget_s = budget_s
        self.snapshots: list[dict] = []
        self.loads: list[float] = []

    def on_fit_start(self, trainer) -> None:
        self.start = time.perf_counter()

    def _snapshot(self, trainer, row: dict, mark: str, elapsed: float) -> None:
        self.snapshots.append({
            "mark": mark, "elapsed_s": elapsed, "epoch": row["epoch"], "train_loss": row["train_loss"],
            "lr": row["lr"], "weights": {k: v.detach().clone() for k, v in trainer.module.state_dict().items()},
        })
        print(f"[{elapsed / 60:6.2f} min] epoch {row['epoch']}: train -ELBO {row['train_loss']:.2f}, "
              f"{row['samples_per_s']:,.0f} samples/s, load {self.loads[-1]:.1f}", file=sys.stderr, flush=True)

    def on_epoch_end(self, trainer, row: dict) -> None:
        elapsed = time.perf_counter() - self.start
        self.loads.append(os.getloadavg()[0])
        while self.marks_s and elapsed >= self.marks_s[0]:
            self._snapshot(trainer, row, f"{self.marks_s.pop(0) / 60:g}", elapsed)
        last = row["epoch"] == trainer.config.epochs
        if elapsed >= self.budget_s or last:
            self._snapshot(trainer, row, "end of training" if last else "budget spent", elapsed)
            trainer.state.stopped_early = True


def main() -> None:
    p = _common.parser(__doc__.splitlines()[0], repeats=1)
    p.add_argument("--minutes", type=float, default=15.0, help="training budget (wall-clock)")
    p.add_argument("--epochs", type=int, default=250, help="epochs of the recipe (0: as many as the budget holds)")
    p.add_argument("--lr-schedule", default="cosine", choices=["cosine", "constant"])
    p.add_argument("--latent-dim", type=int, default=32)
    p.add_argument("--marks", default="", help="comma-separated minutes to snapshot at (default: 1,2,5,10,15,30,... up to --minutes)")
    p.add_argument("--k", type=int, default=1000, help="importance samples per test image")
    p.add_argument("--eval-examples", type=int, default=10_000, help="test images scoring the last snapshot")
    p.add_argument("--mark-eval-examples", type=int, default=1_000, help="test images scoring earlier snapshots")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="", help="also write the results as JSON here")
    args = p.parse_args()
    _common.setup(args)
    marks = [float(m) for m in args.marks.split(",")] if args.marks else [m for m in MARKS if m < args.minutes]
    if args.epochs == 0 and args.lr_schedule == "cosine":
        p.error("--lr-schedule cosine needs --epochs (the schedule ends at the last epoch)")

    x_train, _ = load_mnist(Path(args.data_dir) / "mnist", "train")
    test = _common.binarized_mnist_test(args.data_dir)  # (n, 28, 28), as the model was fitted
    machine = _common.machine_info()

    budget = TimeBudget([60 * m for m in marks], 60 * args.minutes)
    recipe = {"latent_dim": args.latent_dim, "binarize": "dynamic", "epochs": args.epochs or 100_000, "lr_schedule": args.lr_schedule}
    vae = VAE(**recipe, validation_fraction=0.0, seed=args.seed, device="cpu")
    started = time.perf_counter()
    vae.fit(x_train, callbacks=[budget])
    train_s = time.perf_counter() - started
    history = vae.history_

    module = vae.module_.eval()
    rows, results = [], []
    for i, snap in enumerate(budget.snapshots):
        last = i == len(budget.snapshots) - 1
        n = args.eval_examples if last else args.mark_eval_examples
        module.load_state_dict(snap["weights"])
        t0 = time.perf_counter()
        nll = -importance_sampled_log_likelihood(module, test[:n], args.k, generator=torch.Generator().manual_seed(0))
        eval_s = time.perf_counter() - t0
        mean, sem = float(nll.mean()), float(nll.std() / np.sqrt(n))
        results.append({k: v for k, v in snap.items() if k != "weights"} | {"test_nll": mean, "sem": sem, "n_test": n, "eval_s": eval_s})
        rows.append([snap["mark"], f"{snap['elapsed_s'] / 60:.2f}", snap["epoch"], f"{snap['lr']:.2e}",
                     f"{snap['train_loss']:.2f}", f"{mean:.2f} ± {sem:.2f}", f"{n:,}"])
        print(f"scored snapshot {i + 1}/{len(budget.snapshots)}: {mean:.2f} nats ({eval_s:.0f} s)", file=sys.stderr, flush=True)

    print(f"## Time to quality: vaelab's MNIST recipe, test IS-NLL (k={args.k}) against training time\n")
    _common.print_machine({
        "recipe": f"VAE({', '.join(f'{k}={v!r}' for k, v in recipe.items())}): MLP 784-512, Bernoulli, batch 128, "
                  "Adam 1e-3, all 60,000 training images",
        "budget": f"{args.minutes:g} min",
        "training": f"{len(history)} epochs in {train_s / 60:.1f} min; load average during training: median "
                    f"{np.median(budget.loads):.1f}, max {max(budget.loads):.1f}",
        "test set": "MNIST test, binarized once (torch.bernoulli, seed 123)",
    })
    print(_common.markdown_table(
        ["mark (min)", "training time (min)", "epochs", "step size", "train -ELBO (nats)",
         f"test IS-NLL k={args.k} (nats, ± s.e.)", "test images"],
        rows))
    if args.out:
        Path(args.out).write_text(json.dumps({"machine": machine, "results": results, "history": history}, indent=1))


if __name__ == "__main__":
    main()
