"""Does Burda's tanh network leave the data's marginal? Per-epoch training terms of its first epochs, by prior and beta.

The ``1l-vamp`` row of ``vae_remedies.py`` (Burda et al.'s 784-200-200-50 tanh network, VampPrior of 500
pseudo-inputs) stays at the marginal: a training loss of about 206.7 nats, the decoder ignoring z. This
prints the first epochs' loss, reconstruction and KL on all 60,000 training images (dynamic binarization,
batch 100, Adam 1e-3, seed 0) for that network with the VampPrior and with the standard normal prior, at
beta = 1 and beta = 0 (no KL: a plain autoencoder objective with a noisy code):

    OMP_NUM_THREADS=1 python benchmarks/tanh_plateau.py --threads 1 --epochs 2
"""

from __future__ import annotations

from pathlib import Path

import _common

from vaelab import VAE

TANH = {"kind": "mlp", "hidden_dims": [200, 200], "activation": "tanh"}
ROWS = {
    "vamp500, beta 0": {"prior": {"name": "vamp", "components": 500}, "beta": 0.0},
    "standard normal, beta 0": {"beta": 0.0},
    "vamp500, beta 1": {"prior": {"name": "vamp", "components": 500}},
    "standard normal, beta 1": {},
}


def main() -> None:
    p = _common.parser(__doc__.splitlines()[0], repeats=1)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--rows", nargs="*", default=list(ROWS), choices=list(ROWS))
    args = p.parse_args()
    _common.setup(args)
    x = _common.load_mnist_float(Path(args.data_dir), "train")
    _common.print_machine()
    table = []
    for name in args.rows:
        vae = VAE(latent_dim=50, network=TANH, epochs=args.epochs, batch_size=100, binarize="dynamic",
                  validation_fraction=0.0, seed=0, device="cpu", **ROWS[name]).fit(x)
        for h in vae.history_:
            table.append([name, h["epoch"], h["train_loss"], h["train_reconstruction"], h["train_kl"]])
        print(_common.markdown_table(["model", "epoch", "loss", "reconstruction", "KL"], table[-len(vae.history_):]),
              flush=True)


if __name__ == "__main__":
    main()
