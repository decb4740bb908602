"""Codes and decodings through the estimator API, and which latent dimensions carry information.

A VAE's dimensions are ranked by their KL divergence from the prior, averaged
over the data (Burgess et al. 2018, "Understanding disentangling in
beta-VAE"): a dimension whose posterior equals the prior for every example
(KL = 0) is unused, however its posterior means vary. Models without a
posterior variance (PCA, the autoencoder) are ranked by the variance of their
codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from vaelab.errors import InputError

CHUNK = 4096


def has_prior(estimator: Any) -> bool:
    """True for models that can draw from a prior p(z) (the VAE)."""
    return callable(getattr(estimator, "sample", None))


def has_standard_normal_codes(estimator: Any) -> bool:
    """True when the codes ``transform`` gives have a N(0, I) prior (not a learned prior, not a lower layer)."""
    module = getattr(estimator, "module_", None)
    prior = getattr(module, "prior", None)
    return getattr(prior, "name", None) == "standard_normal" and getattr(
        module, "prior_latent_dim", getattr(module, "latent_dim", None)
    ) == getattr(module, "latent_dim", None)


def latent_dim(estimator: Any) -> int:
    """Size of the estimator's latent space."""
    module = getattr(estimator, "module_", None)
    if module is not None and hasattr(module, "latent_dim"):
        return int(module.latent_dim)
    return int(estimator.latent_dim)


def codes(estimator: Any, x: np.ndarray, *, chunk: int = CHUNK, y: Any = None) -> np.ndarray:
    """Latent codes of ``x`` (posterior means for the VAE).

    Parameters
    ----------
    x : ndarray of shape (n, *input_shape)
        Examples; uint8 images are scaled to [0, 1] in chunks of ``chunk``, so a
        large uint8 array is never copied as float whole.
    y : array-like of n labels, optional
        The labels of a conditional model (codes of q(z | x, y)).

    Returns
    -------
    ndarray of shape (n, latent_dim), float64
    """
    labels = None if y is None else np.asarray(y)

    def transform(i: int) -> np.ndarray:
        part = _unit(x[i : i + chunk])
        out = estimator.transform(part) if labels is None else estimator.transform(part, labels[i : i + chunk])
        return np.asarray(out, dtype=np.float64)

    parts = [transform(i) for i in range(0, len(x), chunk)]
    return np.concatenate(parts) if parts else np.zeros((0, latent_dim(estimator)))


def decode(estimator: Any, z: np.ndarray, y: Any = None) -> np.ndarray:
    """Decoded means of codes ``z`` (n, latent_dim) -> (n, *input_shape), in one batch (given labels ``y``, n of them)."""
    z = np.asarray(z, dtype=np.float32)
    return np.asarray(estimator.inverse_transform(z) if y is None else estimator.inverse_transform(z, y))


def posterior(estimator: Any, x: np.ndarray, *, chunk: int = CHUNK) -> tuple[np.ndarray, np.ndarray | None]:
    """Posterior means and standard deviations of q(z|x), each (n, latent_dim), float64.

    The standard deviations are None for models with deterministic codes
    (PCA, the autoencoder, or an estimator without vaelab's ``module_``).
    """
    module = getattr(estimator, "module_", None)
    if module is None or not hasattr(estimator, "_map"):
        return codes(estimator, x, chunk=chunk), None
    means, stds = [], []
    for i in range(0, len(x), chunk):
        xt = estimator._check_X(_unit(x[i : i + chunk]))
        both = estimator._map(lambda m, b: _mean_and_std(m.encode(b)), xt)  # (B, 2D) or (B, D)
        if both.shape[1] == 2 * latent_dim(estimator):
            means.append(both[:, : both.shape[1] // 2].double().numpy())
            stds.append(both[:, both.shape[1] // 2 :].double().numpy())
        else:
            means.append(both.double().numpy())
    mean = np.concatenate(means) if means else np.zeros((0, latent_dim(estimator)))
    return mean, (np.concatenate(stds) if stds and len(stds) == len(means) else None)


def _mean_and_std(dist: Any) -> Any:
    import torch

    std = getattr(dist, "stddev", None)
    return dist.mean if std is None else torch.cat([dist.mean, std], dim=1)


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    return x.astype(np.float32) / np.float32(255.0) if x.dtype == np.uint8 else x


def spread(estimator: Any, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centre and scale of each latent dimension, (D,) each: N(0, I)'s, or that of the codes ``z``."""
    if has_standard_normal_codes(estimator):
        return np.zeros(z.shape[1]), np.ones(z.shape[1])
    return z.mean(axis=0), np.maximum(z.std(axis=0), 1e-8)


@dataclass(frozen=True)
class DimensionRanking:
    """Latent dimensions, the informative ones first.

    Attributes
    ----------
    order : ndarray of shape (D,)
        Dimension indices, highest score first (ties keep index order).
    score : ndarray of shape (D,)
        Score of each dimension (indexed by dimension, not by rank).
    measure : str
        ``"kl"`` (mean KL from N(0, 1) in nats) or ``"variance"`` (of the codes).
    """

    order: np.ndarray
    score: np.ndarray
    measure: str

    def top(self, k: int) -> list[int]:
        """The ``k`` most informative dimensions."""
        return [int(d) for d in self.order[:k]]


def kl_per_dim(mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """Mean over examples of KL(N(mean, std^2) || N(0, 1)) per dimension, shape (D,), nats.

    Appendix B of Kingma & Welling 2014: KL = 0.5 * (mu^2 + sigma^2 - 1 - log sigma^2).
    """
    var = np.maximum(std, 1e-30) ** 2
    return (0.5 * (mean**2 + var - 1.0 - np.log(var))).mean(axis=0)


def rank_dims(estimator: Any, x: np.ndarray | None = None, *, z: np.ndarray | None = None) -> DimensionRanking:
    """Rank the latent dimensions, informative first: by KL for a VAE, else by code variance.

    Parameters
    ----------
    x : ndarray of shape (n, *input_shape), optional
        Examples whose posteriors are measured (needed for the KL ranking).
    z : ndarray of shape (n, latent_dim), optional
        Codes, when only the variance ranking is wanted (or ``x`` is not at hand).
    """
    if x is None and z is None:
        raise InputError("rank_dims needs examples x or codes z, got neither")
    std = None
    if x is not None:
        z, std = posterior(estimator, x)
    z = np.asarray(z, dtype=np.float64)
    if std is not None:
        score, measure = kl_per_dim(z, std), "kl"
    else:
        score, measure = z.var(axis=0), "variance"
    return DimensionRanking(np.argsort(-score, kind="stable"), score, measure)
