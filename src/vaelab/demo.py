"""The first demo: PCA, an autoencoder and a VAE on scikit-learn's bundled digits.

Fits the three members of the family at the same latent size on the same
training split and compares them on the held-out split, so that a user sees
the linear baseline, the non-linear one and the generative model side by side.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from vaelab.data import load_dataset
from vaelab.estimators import PCA, VAE, Autoencoder, EncoderDecoderEstimator


@dataclass
class DemoResult:
    name: str
    estimator: EncoderDecoderEstimator
    mse: float
    score: float
    seconds: float


def demo_models(latent_dim: int, epochs: int, seed: int) -> dict[str, EncoderDecoderEstimator]:
    """The three models the demo compares, configured for 8x8 digits."""
    net = {"kind": "mlp", "hidden_dims": [256, 128]}
    common: dict[str, Any] = dict(latent_dim=latent_dim, network=net, epochs=epochs, seed=seed, batch_size=64)
    return {
        "pca": PCA(latent_dim=latent_dim),
        "autoencoder": Autoencoder(likelihood="gaussian", **common),
        "vae": VAE(likelihood="bernoulli", **common),
    }


def run_demo(latent_dim: int = 8, epochs: int = 60, seed: int = 0, verbose: bool = False) -> list[DemoResult]:
    """Fit the three models on the digits training split; evaluate on its test split."""
    data = load_dataset("digits")
    results = []
    for name, model in demo_models(latent_dim, epochs, seed).items():
        if verbose and hasattr(model, "verbose"):
            model.set_params(verbose=True)
        started = time.perf_counter()
        model.fit(data.x_train)
        seconds = time.perf_counter() - started
        recon = model.reconstruct(data.x_test)
        mse = float(np.mean((recon - data.x_test) ** 2))
        results.append(DemoResult(name, model, mse, model.score(data.x_test), seconds))
    return results


def format_results(results: list[DemoResult]) -> str:
    """A Markdown table of the demo's figures."""
    lines = [
        "| model | test reconstruction MSE | score (nats/example) | what the score is | fit time (s) |",
        "| --- | --- | --- | --- | --- |",
    ]
    meaning = {"pca": "probabilistic-PCA log-likelihood", "autoencoder": "Gaussian log p(x|z), unit scale", "vae": "ELBO (Bernoulli)"}
    for r in results:
        lines.append(f"| {r.name} | {r.mse:.5f} | {r.score:.2f} | {meaning.get(r.name, '')} | {r.seconds:.1f} |")
    return "\n".join(lines)


def main() -> None:  # pragma: no cover - exercised by `make demo`
    results = run_demo(verbose=True)
    print("\nPCA vs autoencoder vs VAE on the bundled digits (latent_dim=8, test split of 360 images)\n")
    print(format_results(results))


if __name__ == "__main__":  # pragma: no cover
    main()
