"""Conditional accuracy of a CVAE on MNIST: does ``sample(n, y=c)`` draw the digit c?

Trains ``VAE(conditional=True)`` on a seeded MNIST subset with its labels
(dynamic binarization) for a wall-clock budget, then draws ``--per-class``
samples (decoded means) of every digit and has vaelab's digit classifier
label them (:func:`vaelab.metrics.conditional.conditional_accuracy`). The
table gives the share labelled c, per class and overall (target: 95 % or
more overall). One row per network, each its own command and result file
(benchmarks/results/issue11-conditional/ROW.json, or under ``--results-name``
for another budget):

    nice -n 10 python benchmarks/conditional.py --row cvae-mlp --minutes 3 --threads 1
    nice -n 10 python benchmarks/conditional.py --row cvae-mlp-z4 --minutes 3 --threads 1   # a 4-d code
    nice -n 10 python benchmarks/conditional.py --row cvae-mlp-z2 --minutes 3 --threads 1   # a 2-d code
    python benchmarks/conditional.py --table

The full version: ``--minutes 20 --n-train 60000 --per-class 1000``.
"""

from __future__ import annotations

import time

from _common import parser, setup
from _rows import WallClock, mnist, print_table, run_rows

TABLE = "issue11-conditional"
# (network, latent_dim; None: --latent-dim)
ROWS = {"cvae-mlp": ("mlp", None), "cvae-conv": ("conv", None), "cvae-mlp-z4": ("mlp", 4), "cvae-mlp-z2": ("mlp", 2)}


def main() -> None:
    p = parser(__doc__.splitlines()[0], repeats=1)
    p.add_argument("--row", nargs="*", default=[], choices=list(ROWS), help="rows to run")
    p.add_argument("--minutes", type=float, default=3.0, help="training budget (wall clock)")
    p.add_argument("--n-train", type=int, default=20000, help="MNIST training examples (a seeded subset)")
    p.add_argument("--per-class", type=int, default=200, help="samples drawn per digit")
    p.add_argument("--latent-dim", type=int, default=16)
    p.add_argument("--results-name", default=TABLE,
                   help=f"folder of the result files under benchmarks/results/ (default {TABLE}); "
                        "another budget gets its own folder")
    p.add_argument("--force", action="store_true")
    p.add_argument("--table", action="store_true")
    args = p.parse_args()
    setup(args)
    if args.table:
        print_table(args.results_name, [("model", "row"), ("latent dim", "latent_dim"), ("train s", "train_seconds"),
                            ("epochs", "epochs"),
                            ("samples per class", "per_class"), ("overall", "conditional_accuracy"),
                            *[(str(c), f"class_{c}") for c in range(10)], ("test ELBO", "elbo")])
        return

    def row(network: str, latent_dim: int | None):
        def run() -> dict:
            from vaelab import VAE
            from vaelab.metrics.conditional import conditional_accuracy

            x, y, x_test, y_test = mnist(args.n_train, 2000)
            est = VAE(conditional=True, network=network, latent_dim=latent_dim or args.latent_dim,
                      binarize="dynamic", epochs=10_000, batch_size=128, device="cpu", seed=0, validation_fraction=0.0)
            started = time.perf_counter()
            est.fit(x, y, callbacks=[WallClock(60 * args.minutes)])
            seconds = time.perf_counter() - started
            acc = conditional_accuracy(est, n_per_class=args.per_class, seed=0)
            per = {f"class_{c}": a for c, a in enumerate(acc["conditional_accuracy_per_class"])}
            return {"latent_dim": est.latent_dim, "train_seconds": seconds, "epochs": len(est.history_),
                    "per_class": args.per_class,
                    "conditional_accuracy": acc["conditional_accuracy"], **per, "elbo": est.score(x_test, y_test)}

        return run

    run_rows(args.results_name, {name: row(*spec) for name, spec in ROWS.items()}, args.row, args.force)


if __name__ == "__main__":
    main()
