"""One call that measures a fitted estimator on held-out data."""

from __future__ import annotations

from typing import Any

import numpy as np

from vaelab.estimators import PCA, VAE, EncoderDecoderEstimator


def evaluate(estimator: EncoderDecoderEstimator, X: Any, *, seed: int = 0) -> dict[str, float]:
    """Metrics of ``estimator`` on ``X``, every figure per example.

    Returns
    -------
    dict with ``mse`` (mean squared reconstruction error per value),
    ``explained_variance`` (1 - SSE / total sum of squares), and the model's
    likelihood figure: ``elbo`` (VAE, nats), ``ppca_log_likelihood`` (PCA,
    nats) or ``reconstruction_log_likelihood`` (autoencoder, nats).
    """
    Xn = np.asarray(X, dtype=np.float32) if not np.asarray(X).dtype == np.uint8 else np.asarray(X) / np.float32(255.0)
    recon = np.asarray(estimator.reconstruct(Xn), dtype=np.float64)
    err = (recon - Xn) ** 2
    total = ((Xn - Xn.mean(0)) ** 2).sum()
    out = {"mse": float(err.mean()), "explained_variance": float(1.0 - err.sum() / total) if total > 0 else float("nan")}
    if isinstance(estimator, VAE):
        out["elbo"] = float(np.mean(estimator.score_samples(Xn, seed=seed)))
    elif isinstance(estimator, PCA):
        out["ppca_log_likelihood"] = estimator.score(Xn)
    else:
        out["reconstruction_log_likelihood"] = estimator.score(Xn)
    return out
