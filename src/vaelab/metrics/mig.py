"""The Mutual Information Gap (MIG, Chen et al. 2018): does each known factor live in one latent dimension?

For data with known factors of variation v_1..v_K and an encoder's codes
z_1..z_D (posterior means),

    MIG = (1/K) sum_k [ I(z_(1); v_k) - I(z_(2); v_k) ] / H(v_k)

where z_(1), z_(2) are the two code dimensions with the largest mutual
information with v_k. It is 1 when every factor is captured by exactly one
dimension (and that dimension determines it), 0 when no dimension stands out.

Estimator (that of ``disentanglement_lib``, Locatello et al. 2019, not Chen
et al.'s sampling estimator, which needs the encoder's densities): every code
dimension is discretized into ``n_bins`` equal-width bins over its range; a
factor with at most ``n_bins`` distinct values is used as it is (categories),
a factor with more is discretized like the codes (so a code equal to a factor
falls in the same cells as the factor). Entropies are those of the empirical
histograms with the Miller-Madow correction, H = H_plugin + (B - 1) / (2 n)
for B occupied cells, and I(a; b) = H(a) + H(b) - H(a, b) (clamped at 0):
the plug-in estimate alone is biased upwards by about
(B_a - 1)(B_b - 1) / (2 n) nats, which would give codes independent of the
factors a positive MIG. With the correction, codes equal to the factors score
1 and independent codes 0, each up to sampling noise of order 1 / n; use a
few thousand examples.

References
----------
Chen, Li, Grosse & Duvenaud 2018, "Isolating Sources of Disentanglement in VAEs", NeurIPS, arXiv:1802.04942.
Locatello et al. 2019, "Challenging Common Assumptions in the Unsupervised Learning of Disentangled
Representations", ICML, arXiv:1811.12359.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vaelab.errors import InputError

DEFAULT_BINS = 20


def discretize(values: np.ndarray, n_bins: int) -> np.ndarray:
    """Equal-width bin index in [0, n_bins) of each value of a 1-D array (one bin for a constant)."""
    lo, hi = float(values.min()), float(values.max())
    if hi <= lo:
        return np.zeros(len(values), dtype=np.int64)
    edges = np.linspace(lo, hi, n_bins + 1)[1:-1]
    return np.digitize(values, edges).astype(np.int64)


def as_categories(values: np.ndarray, n_bins: int) -> np.ndarray:
    """A factor as integer categories: its distinct values if at most ``n_bins``, else equal-width bins."""
    uniques, index = np.unique(values, return_inverse=True)
    return index.astype(np.int64) if len(uniques) <= n_bins else discretize(values, n_bins)


def entropy(labels: np.ndarray) -> float:
    """Entropy of non-negative integer labels, nats: plug-in plus the Miller-Madow term (B - 1) / (2 n)."""
    p = np.bincount(labels) / len(labels)
    p = p[p > 0]
    return float(-(p * np.log(p)).sum() + (len(p) - 1) / (2 * len(labels)))


def mutual_information(a: np.ndarray, b: np.ndarray) -> float:
    """I(a; b) = H(a) + H(b) - H(a, b) of two integer label arrays of the same length (Miller-Madow), >= 0, nats."""
    joint = a * (int(b.max()) + 1) + b  # one label per occupied cell of the joint histogram
    return max(0.0, entropy(a) + entropy(b) - entropy(joint))


def mutual_information_gap(codes: Any, factors: Any, *, n_bins: int = DEFAULT_BINS) -> dict[str, Any]:
    """MIG of codes against known factors.

    Parameters
    ----------
    codes : array-like of shape (n, D)
    factors : array-like of shape (n, K) (or (n,) for one factor)
    n_bins : int
        Bins per code dimension (and per factor with more distinct values).

    Returns
    -------
    dict
        ``mig`` (float, mean over the factors that vary), ``mig_per_factor``
        (list of K floats; NaN for a constant factor), ``mutual_information``
        (K x D list of lists, nats), ``factor_entropy`` (list of K floats, nats).

    Examples
    --------
    >>> f = np.random.default_rng(0).integers(0, 5, size=(1000, 2))
    >>> round(mutual_information_gap(f.astype(float), f)["mig"], 2)
    1.0
    """
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 2:
        raise InputError(f"n_bins must be an int >= 2, got {n_bins!r}")
    z = np.asarray(codes, dtype=np.float64)
    v = np.asarray(factors)
    if v.ndim == 1:
        v = v[:, None]
    if z.ndim != 2:
        raise InputError(f"codes must have shape (n, latent_dim), got {z.shape}")
    if v.ndim != 2 or v.shape[0] != z.shape[0] or v.shape[1] < 1:
        raise InputError(
            f"factors must have shape (n, n_factors) with n = {z.shape[0]} rows (one per example), got {v.shape}"
        )
    if v.dtype.kind not in "biuf" or not np.isfinite(v.astype(np.float64)).all() or not np.isfinite(z).all():
        raise InputError("codes and factors must be finite numbers")
    if z.shape[1] < 2:
        raise InputError(f"the MIG compares the two most informative code dimensions; codes have {z.shape[1]}")
    binned = [discretize(z[:, j], n_bins) for j in range(z.shape[1])]
    mi, entropies, gaps = [], [], []
    for k in range(v.shape[1]):
        cats = as_categories(v[:, k], n_bins)
        h = entropy(cats)
        row = [mutual_information(b, cats) for b in binned]
        top = sorted(row, reverse=True)
        mi.append(row)
        entropies.append(h)
        gaps.append((top[0] - top[1]) / h if h > 0 else float("nan"))
    valid = [g for g in gaps if not np.isnan(g)]
    if not valid:
        raise InputError("every factor is constant over these examples; the MIG needs factors that vary")
    return {"mig": float(np.mean(valid)), "mig_per_factor": gaps, "mutual_information": mi, "factor_entropy": entropies}


def mig(estimator: Any, X: Any, factors: Any, *, y: Any = None, n_bins: int = DEFAULT_BINS) -> float:
    """Mutual Information Gap of a fitted estimator's codes (``transform(X)``) against known factors.

    Parameters
    ----------
    estimator : fitted PCA, Autoencoder or VAE (conditional: pass ``y``)
    X : array-like of shape (n, *input_shape)
    factors : array-like of shape (n, n_factors)
        Discrete or continuous factor values of each example.
    y : array-like, optional
        Labels, for a conditional model.
    n_bins : int

    Returns
    -------
    float in [0, 1] (up to the estimator's small positive bias); see :func:`mutual_information_gap`.
    """
    n = len(X)
    v = np.asarray(factors)
    if v.ndim not in (1, 2) or v.shape[0] != n:
        raise InputError(f"factors must have shape (n, n_factors) with n = {n} (the rows of X), got {v.shape}")
    codes = estimator.transform(X, y) if getattr(estimator, "conditional", False) else estimator.transform(X)
    return mutual_information_gap(np.asarray(codes), v, n_bins=n_bins)["mig"]
