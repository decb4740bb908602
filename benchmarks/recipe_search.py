"""Recipe search: test IS-NLL of MNIST VAEs after a fixed number of epochs, one configuration per run.

This is how the MNIST recipe of ``time_to_quality.py`` was chosen: variants
compared at equal epochs (not equal time), scored with the importance-sampled
bound (k=1000) on the first ``--eval-examples`` test images, binarized once
with seed 123, as in ``time_to_quality.py``. The cosine schedule here is set
once per epoch by a callback (this is the form the comparison was measured
with; the library's ``lr_schedule="cosine"`` sets it every step). Prints one
JSON line per run.

    python benchmarks/recipe_search.py --threads 1 --epochs 60 --latent-dim 16
    python benchmarks/recipe_search.py --threads 1 --epochs 60 --latent-dim 16 --schedule cosine
    python benchmarks/recipe_search.py --threads 1 --epochs 60 --latent-dim 32
    python benchmarks/recipe_search.py --threads 1 --epochs 60 --latent-dim 50
    python benchmarks/recipe_search.py --threads 1 --epochs 200 --latent-dim 32
    python benchmarks/recipe_search.py --threads 1 --epochs 200 --latent-dim 32 --schedule cosine
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import _common
import torch

from vaelab import VAE
from vaelab.data import load_mnist
from vaelab.metrics import importance_sampled_log_likelihood
from vaelab.training import Callback
from vaelab.training.config import scheduled_lr


class EpochCosine(Callback):
    """The step size of epoch e: lr * (1 + cos(pi * e / epochs)) / 2, set at the epoch's start."""

    def __init__(self, lr: float, epochs: int) -> None:
        self.lr, self.epochs = lr, epochs

    def on_epoch_start(self, trainer, epoch: int) -> None:
        for group in trainer.optimizer.param_groups:
            group["lr"] = scheduled_lr("cosine", self.lr, epoch, self.epochs)


def main() -> None:
    p = _common.parser(__doc__.splitlines()[0], repeats=1)
    p.add_argument("--epochs", type=int, required=True)
    p.add_argument("--latent-dim", type=int, default=16)
    p.add_argument("--schedule", default="constant", choices=["constant", "cosine"])
    p.add_argument("--learning-rate", type=float, default=1e-3)
    p.add_argument("--eval-examples", type=int, default=2000)
    p.add_argument("--k", type=int, default=1000)
    args = p.parse_args()
    _common.setup(args)
    x_train, _ = load_mnist(Path(args.data_dir) / "mnist", "train")
    test = _common.binarized_mnist_test(args.data_dir)[: args.eval_examples]
    vae = VAE(latent_dim=args.latent_dim, binarize="dynamic", validation_fraction=0.0, epochs=args.epochs,
              learning_rate=args.learning_rate, seed=0, device="cpu")
    callbacks = [EpochCosine(args.learning_rate, args.epochs)] if args.schedule == "cosine" else []
    started = time.perf_counter()
    vae.fit(x_train, callbacks=callbacks)
    train_s = time.perf_counter() - started
    nll = -importance_sampled_log_likelihood(vae.module_.eval(), test, args.k, generator=torch.Generator().manual_seed(0))
    print(json.dumps({
        "epochs": args.epochs, "latent_dim": args.latent_dim, "schedule": args.schedule, "threads": torch.get_num_threads(),
        "train_s": round(train_s, 1), "train_loss": vae.history_[-1]["train_loss"],
        "test_nll": float(nll.mean()), "sem": float(nll.std() / math.sqrt(len(test))), "test_images": len(test),
    }))


if __name__ == "__main__":
    main()
