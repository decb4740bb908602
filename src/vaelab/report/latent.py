"""What to show of a latent space: interpolations, traversals, projections, the manifold.

Everything here goes through the estimator API (``transform``,
``inverse_transform``), so it works the same for PCA, the autoencoder and the
VAE. A model with a prior (one that can ``sample``) is explored in prior
units, N(0, I) for the VAE; the others around the spread of their codes.
"""

from __future__ import annotations

from statistics import NormalDist
from typing import Any

import numpy as np

#: Traversals span this many standard deviations either side of the centre.
TRAVERSAL_SPAN = 3.0


def has_prior(estimator: Any) -> bool:
    """True for models that can draw from a prior p(z) (the VAE)."""
    return callable(getattr(estimator, "sample", None))


def has_standard_normal_codes(estimator: Any) -> bool:
    """True when the codes ``transform`` gives have a N(0, I) prior (not a learned prior, not a lower layer)."""
    module = getattr(estimator, "module_", None)
    prior = getattr(module, "prior", None)
    return (
        getattr(prior, "name", None) == "standard_normal"
        and getattr(module, "prior_latent_dim", None) == getattr(module, "latent_dim", None)
    )


def codes(estimator: Any, x: np.ndarray) -> np.ndarray:
    """Latent codes of ``x`` (posterior means for the VAE), shape (n, latent_dim), float64."""
    return np.asarray(estimator.transform(x), dtype=np.float64)


def decode(estimator: Any, z: np.ndarray) -> np.ndarray:
    """Decoded means of codes ``z`` (n, latent_dim) -> (n, *input_shape)."""
    return np.asarray(estimator.inverse_transform(np.asarray(z, dtype=np.float32)))


def lerp(za: np.ndarray, zb: np.ndarray, steps: int) -> np.ndarray:
    """``steps`` evenly spaced points from ``za`` to ``zb`` (both included), shape (steps, D)."""
    t = np.linspace(0.0, 1.0, steps)[:, None]
    return (1.0 - t) * za[None, :] + t * zb[None, :]


def interpolate(estimator: Any, xa: np.ndarray, xb: np.ndarray, steps: int) -> np.ndarray:
    """Decode the straight line between the codes of two examples, shape (steps, *input_shape)."""
    z = codes(estimator, np.stack([xa, xb]))
    return decode(estimator, lerp(z[0], z[1], steps))


def spread(estimator: Any, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centre and scale of each latent dimension, (D,) each: N(0, I)'s, or that of the codes ``z``."""
    if has_standard_normal_codes(estimator):
        return np.zeros(z.shape[1]), np.ones(z.shape[1])
    return z.mean(axis=0), np.maximum(z.std(axis=0), 1e-8)


def dims_by_spread(z: np.ndarray, k: int) -> list[int]:
    """The ``k`` latent dimensions along which the codes vary most (most used first)."""
    order = np.argsort(-z.var(axis=0), kind="stable")
    return [int(d) for d in order[:k]]


def traverse(
    estimator: Any,
    base: np.ndarray,
    dims: list[int],
    steps: int,
    *,
    centre: np.ndarray,
    scale: np.ndarray,
    span: float = TRAVERSAL_SPAN,
) -> np.ndarray:
    """Vary one latent dimension at a time around ``base``.

    Row ``i`` sets dimension ``dims[i]`` to ``centre + t * scale`` for ``steps``
    values of t in [-span, span], keeping the others at ``base``.

    Returns
    -------
    ndarray of shape (len(dims), steps, *input_shape)
    """
    t = np.linspace(-span, span, steps)
    rows = []
    for d in dims:
        z = np.repeat(base[None, :], steps, axis=0)
        z[:, d] = centre[d] + t * scale[d]
        rows.append(z)
    decoded = decode(estimator, np.concatenate(rows))
    return decoded.reshape(len(dims), steps, *decoded.shape[1:])


def project_2d(z: np.ndarray, method: str = "pca", seed: int = 0) -> tuple[np.ndarray, str]:
    """Two coordinates per code for a scatter plot, and a description of them.

    A 2-D latent is shown as is; a 1-D one against zero; larger ones through
    PCA (linear, fast) or t-SNE (``method="tsne"``, scikit-learn, seeded).
    """
    n, d = z.shape
    if d == 2:
        return z, "the model's own 2-D latent space (z1, z2)"
    if d == 1:
        return np.column_stack([z[:, 0], np.zeros(n)]), "the model's 1-D latent code (horizontal axis)"
    if method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = float(min(30.0, max(2.0, (n - 1) / 3.0)))
        points = TSNE(n_components=2, init="pca", perplexity=perplexity, random_state=seed).fit_transform(z)
        return points, f"a t-SNE projection (perplexity {perplexity:g}) of the {d}-D latent codes"
    if method != "pca":
        raise ValueError(f"projection must be 'pca' or 'tsne', got {method!r}")
    centred = z - z.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    signs = np.sign(vt[np.arange(len(vt)), np.argmax(np.abs(vt), axis=1)])  # deterministic signs (as svd_flip)
    vt = vt * np.where(signs == 0, 1.0, signs)[:, None]
    explained = s[:2] ** 2 / max(float((s**2).sum()), 1e-300)
    return centred @ vt[:2].T, (
        f"a PCA projection of the {d}-D latent codes (the two axes explain "
        f"{explained[0]:.0%} and {explained[1]:.0%} of their variance)"
    )


def manifold(estimator: Any, z: np.ndarray, n: int) -> tuple[np.ndarray, str]:
    """Decode an ``n`` x ``n`` grid over a 2-D latent space, shape (n, n, *input_shape).

    With a N(0, I) prior the grid is spaced by its quantiles 5 %..95 %
    (Kingma & Welling 2014, Fig. 4); otherwise it spans the 1st to 99th
    percentile of the codes ``z``. Rows go from high z2 (top) to low.
    """
    if z.shape[1] != 2:
        raise ValueError(f"the manifold grid needs a 2-D latent space, got {z.shape[1]} dimensions")
    if has_standard_normal_codes(estimator):
        q = np.array([NormalDist().inv_cdf(p) for p in np.linspace(0.05, 0.95, n)])
        z1, z2 = q, q
        about = "prior quantiles 5%-95% on each axis"
    else:
        lo, hi = np.percentile(z, 1, axis=0), np.percentile(z, 99, axis=0)
        z1, z2 = np.linspace(lo[0], hi[0], n), np.linspace(lo[1], hi[1], n)
        about = "the 1st-99th percentile of the codes on each axis"
    grid = np.array([[a, b] for b in z2[::-1] for a in z1])  # row-major, top row = largest z2
    decoded = decode(estimator, grid)
    return decoded.reshape(n, n, *decoded.shape[1:]), about
