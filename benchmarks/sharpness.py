"""Sharpness of prior samples on MNIST at equal wall-clock budgets: MLP VAE, conv VAE, VAE-GAN.

For each row: train on a seeded MNIST subset (dynamic binarization) until the
budget is spent (checked at epoch ends), then score on a seeded test subset
with ``vaelab.metrics.evaluate``: the Fréchet digit distance (FDD, in the
features of vaelab's digit classifier; its floor is MNIST train vs test),
precision and recall of prior samples (binary draws x ~ p(x|z), as the
binarized test digits are binary; ``vaelab.metrics.evaluate`` draws them so
for a Bernoulli decoder on binary data), and the test ELBO
(nats; for the VAE-GAN a pixel ELBO it does not maximize). Each row is one
command and one result file (benchmarks/results/issue11-sharpness/ROW.json, or
under ``--results-name`` for another budget):

    nice -n 10 python benchmarks/sharpness.py --row mlp --minutes 2 --threads 1
    nice -n 10 python benchmarks/sharpness.py --row conv --minutes 2 --threads 1
    nice -n 10 python benchmarks/sharpness.py --row vaegan --minutes 2 --threads 1
    nice -n 10 python benchmarks/sharpness.py --row vaegan-nopixel --minutes 2 --threads 1   # Larsen's pixel_weight=0
    nice -n 10 python benchmarks/sharpness.py --row vaegan-mlp --minutes 2 --threads 1   # MLP networks, MLP critic
    nice -n 10 python benchmarks/sharpness.py --row vaegan-mlp-adv50 --minutes 2 --threads 1   # its GAN term x50
    nice -n 10 python benchmarks/sharpness.py --row vaegan-mlp-draw --minutes 2 --threads 1   # the critic sees draws
    nice -n 10 python benchmarks/sharpness.py --row mlp-vamp vaegan-mlp-vamp-draw --minutes 2 --threads 1   # VampPrior
    python benchmarks/sharpness.py --table

The full version: ``--minutes 30 --n-train 60000 --n-test 10000`` per row.
"""

from __future__ import annotations

import time

from _common import parser, setup
from _rows import WallClock, mnist, print_table, run_rows

TABLE = "issue11-sharpness"
VAMP = {"name": "vamp", "components": 500}  # the best recipe's prior (issue 10): no holes to sample from
VAE_MLP = {"network": "mlp", "batch_size": 128, "learning_rate": 1e-3}
# the VAE-GAN at the MLP's cost: MLP encoder and decoder, and an MLP discriminator (on the flattened digits; a
# discriminator of images is convolutional). Rows pin the critic's input: the means E[x|z] (Larsen et al.)
# unless "draw" is in their name (binary draws with the means' gradient, the estimator's default on binary data)
VAEGAN_MLP = {"network": "mlp", "batch_size": 128, "discriminator_dims": (512, 256), "critic_input": "mean"}
#: each row's estimator class and options (besides the shared ones set in main)
ROW_OPTIONS: dict[str, tuple[str, dict]] = {
    "mlp": ("VAE", VAE_MLP),
    "conv": ("VAE", {**VAE_MLP, "network": "conv"}),
    "vaegan": ("VAEGAN", {"network": "conv", "batch_size": 64, "critic_input": "mean"}),
    "vaegan-nopixel": ("VAEGAN", {"network": "conv", "batch_size": 64, "pixel_weight": 0.0, "critic_input": "mean"}),
    "vaegan-draw": ("VAEGAN", {"network": "conv", "batch_size": 64, "critic_input": "draw"}),  # conv, the defaults
    "vaegan-mlp": ("VAEGAN", VAEGAN_MLP),
    # the decoder's GAN term weighted 10 or 50 times (adversarial_weight): beside a pixel term of about 100 nats,
    # a GAN loss of about 1.4 nats moves the decoder little
    "vaegan-mlp-adv10": ("VAEGAN", {**VAEGAN_MLP, "adversarial_weight": 10.0}),
    "vaegan-mlp-adv50": ("VAEGAN", {**VAEGAN_MLP, "adversarial_weight": 50.0}),
    # the critic sees binary draws x ~ p(x|z) (straight-through) instead of grey means beside binary digits
    "vaegan-mlp-draw": ("VAEGAN", {**VAEGAN_MLP, "critic_input": "draw"}),
    "vaegan-mlp-draw-adv10": ("VAEGAN", {**VAEGAN_MLP, "critic_input": "draw", "adversarial_weight": 10.0}),
    "vaegan-mlp-draw-nobalance": ("VAEGAN", {**VAEGAN_MLP, "critic_input": "draw", "balance": False}),
    # the VAE and the VAE-GAN with the same learned prior: what the critic adds once the prior has no holes
    "mlp-vamp": ("VAE", {**VAE_MLP, "prior": VAMP}),
    "vaegan-mlp-vamp": ("VAEGAN", {**VAEGAN_MLP, "prior": VAMP}),
    "vaegan-mlp-vamp-draw": ("VAEGAN", {**VAEGAN_MLP, "prior": VAMP, "critic_input": "draw"}),
}
ROWS = tuple(ROW_OPTIONS)


def main() -> None:
    p = parser(__doc__.splitlines()[0], repeats=1)
    p.add_argument("--row", nargs="*", default=[], choices=ROWS, help="rows to run (each writes its own file)")
    p.add_argument("--minutes", type=float, default=2.0, help="training budget per row (wall clock)")
    p.add_argument("--n-train", type=int, default=20000, help="MNIST training examples (a seeded subset)")
    p.add_argument("--n-test", type=int, default=5000, help="test examples, and model samples, behind the FDD")
    p.add_argument("--latent-dim", type=int, default=16)
    p.add_argument("--force", action="store_true", help="redo rows that have a result file")
    p.add_argument("--table", action="store_true", help="print the table of the rows done")
    p.add_argument("--results-name", default=TABLE,
                   help=f"folder of the result files under benchmarks/results/ (default {TABLE}); "
                        "another name keeps runs of another budget apart")
    args = p.parse_args()
    setup(args)
    if args.table:
        print_table(args.results_name, [("model", "row"), ("train s", "train_seconds"), ("epochs", "epochs"),
                            ("examples seen", "examples_seen"), ("FDD", "frechet_digit_distance"),
                            ("FDD floor", "frechet_digit_distance_floor"), ("precision", "precision"),
                            ("recall", "recall"), ("test ELBO", "elbo")])
        return

    def row(name: str):
        def run() -> dict:
            from vaelab import VAE
            from vaelab.estimators import VAEGAN
            from vaelab.metrics import evaluate

            x, _, x_test, _ = mnist(args.n_train, args.n_test)
            common = dict(latent_dim=args.latent_dim, binarize="dynamic", epochs=10_000, device="cpu", seed=0,
                          validation_fraction=0.0)
            kind, options = ROW_OPTIONS[name]
            est = {"VAE": VAE, "VAEGAN": VAEGAN}[kind](**options, **common)
            if kind == "VAEGAN" and options["network"] == "mlp":  # its MLP critic takes vectors
                x, x_test = x.reshape(x.shape[0], -1), x_test.reshape(x_test.shape[0], -1)
            started = time.perf_counter()
            est.fit(x, callbacks=[WallClock(60 * args.minutes)])
            seconds = time.perf_counter() - started
            metrics = evaluate(est, x_test, n_generated=args.n_test, seed=0, features="digits")  # MNIST: the digit classifier
            keep = ("frechet_digit_distance", "frechet_digit_distance_floor", "precision", "recall", "elbo")
            return {"train_seconds": seconds, "epochs": len(est.history_), "examples_seen": len(est.history_) * len(x),
                    "budget_minutes": args.minutes, **{k: metrics[k] for k in keep if k in metrics}}

        return run

    run_rows(args.results_name, {name: row(name) for name in ROWS}, args.row, args.force)


if __name__ == "__main__":
    main()
