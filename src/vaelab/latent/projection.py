"""2-D views of latent codes, and the decoded manifold of a 2-D latent space."""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np

from vaelab.errors import InputError
from vaelab.latent.codes import decode, has_standard_normal_codes


@dataclass(frozen=True)
class Projection2D:
    """A linear map of codes to two coordinates: ``(z - mean) @ axes.T``.

    Attributes
    ----------
    mean : ndarray of shape (D,)
    axes : ndarray of shape (2, D)
    about : str
        What the two coordinates are, for a caption.
    """

    mean: np.ndarray
    axes: np.ndarray
    about: str

    def __call__(self, z: np.ndarray) -> np.ndarray:
        """Coordinates of codes (n, D) -> (n, 2)."""
        return (np.asarray(z, dtype=np.float64) - self.mean) @ self.axes.T


def fit_projection(z: np.ndarray) -> Projection2D:
    """The model's own axes for a 1-D or 2-D latent, else the first two principal axes of ``z`` (signs fixed)."""
    z = np.asarray(z, dtype=np.float64)
    n, d = z.shape
    if d == 2:
        return Projection2D(np.zeros(2), np.eye(2), "the model's own 2-D latent space (z1, z2)")
    if d == 1:
        return Projection2D(np.zeros(1), np.array([[1.0], [0.0]]), "the model's 1-D latent code (horizontal axis)")
    mean = z.mean(axis=0)
    _, s, vt = np.linalg.svd(z - mean, full_matrices=False)
    signs = np.sign(vt[np.arange(len(vt)), np.argmax(np.abs(vt), axis=1)])  # deterministic signs (as svd_flip)
    vt = vt * np.where(signs == 0, 1.0, signs)[:, None]
    explained = s[:2] ** 2 / max(float((s**2).sum()), 1e-300)
    axes = vt[:2] if len(vt) >= 2 else np.vstack([vt[:1], np.zeros((1, d))])
    return Projection2D(
        mean,
        axes,
        f"a PCA projection of the {d}-D latent codes (the two axes explain "
        f"{explained[0]:.0%} and {explained[1] if len(explained) > 1 else 0.0:.0%} of their variance)",
    )


def project_2d(z: np.ndarray, method: str = "pca", seed: int = 0) -> tuple[np.ndarray, str]:
    """Two coordinates per code for a scatter plot, and a description of them.

    A 2-D latent is shown as is; a 1-D one against zero; larger ones through
    PCA (linear, fast) or t-SNE (``method="tsne"``, scikit-learn, seeded).
    """
    if method not in ("pca", "tsne"):
        raise InputError(f"projection must be 'pca' or 'tsne', got {method!r}")
    n, d = z.shape
    if method == "tsne" and d > 2:
        from sklearn.manifold import TSNE

        perplexity = float(min(30.0, max(2.0, (n - 1) / 3.0)))
        points = TSNE(n_components=2, init="pca", perplexity=perplexity, random_state=seed).fit_transform(z)
        return points, f"a t-SNE projection (perplexity {perplexity:g}) of the {d}-D latent codes"
    projection = fit_projection(z)
    return projection(z), projection.about


def manifold(estimator: Any, z: np.ndarray, n: int) -> tuple[np.ndarray, str]:
    """Decode an ``n`` x ``n`` grid over a 2-D latent space, shape (n, n, *input_shape).

    With a N(0, I) prior the grid is spaced by its quantiles 5 %..95 %
    (Kingma & Welling 2014, Fig. 4); otherwise it spans the 1st to 99th
    percentile of the codes ``z``. Rows go from high z2 (top) to low.
    """
    if z.shape[1] != 2:
        raise InputError(f"the manifold grid needs a 2-D latent space, got {z.shape[1]} dimensions")
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
