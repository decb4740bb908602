"""PCA vs autoencoder vs VAE on MNIST at latent sizes 2, 16 and 50.

Prints a Markdown table of test reconstruction MSE (per pixel, grey levels in
[0, 1]), the test ELBO of the VAE (Bernoulli, on one fixed binarization of the
test set, the VAE trained with dynamic binarization), and seconds per epoch.

    python benchmarks/mnist_family.py --epochs 10 [--data-dir ../shared/data]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch

from vaelab import PCA, VAE, Autoencoder
from vaelab.data import load_mnist


def main() -> None:
    default_dir = os.environ.get("VAELAB_DATA", str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=default_dir)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--latents", type=int, nargs="+", default=[2, 16, 50])
    args = parser.parse_args()

    x_train, _ = load_mnist(Path(args.data_dir) / "mnist", split="train")
    x_test, _ = load_mnist(Path(args.data_dir) / "mnist", split="test")
    test = x_test.astype(np.float32) / 255.0
    test_binary = torch.bernoulli(torch.from_numpy(test), generator=torch.Generator().manual_seed(0)).numpy()
    net = {"kind": "mlp", "hidden_dims": [512]}
    rows = []
    for k in args.latents:
        models = {
            "PCA": PCA(latent_dim=k),
            "Autoencoder": Autoencoder(latent_dim=k, network=net, likelihood="bernoulli", epochs=args.epochs, validation_fraction=0.0),
            "VAE": VAE(latent_dim=k, network=net, likelihood="bernoulli", binarize="dynamic", epochs=args.epochs, validation_fraction=0.0),
        }
        for name, model in models.items():
            started = time.perf_counter()
            model.fit(x_train)
            seconds = time.perf_counter() - started
            mse = float(np.mean((model.reconstruct(test) - test) ** 2))
            elbo = f"{model.score(test_binary):.2f}" if name == "VAE" else "–"
            per_epoch = f"{np.median([r['seconds'] for r in model.history_]):.2f}" if name != "PCA" else f"{seconds:.2f} (fit)"
            rows.append(f"| {k} | {name} | {mse:.5f} | {elbo} | {per_epoch} |")
            print(rows[-1], flush=True)
    print(f"\nMNIST, {args.epochs} epochs, MLP 784-512-k (AE/VAE, Bernoulli likelihood), "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}\n")
    print("| latent | model | test MSE / pixel | test ELBO (nats) | s / epoch |")
    print("| --- | --- | --- | --- | --- |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
