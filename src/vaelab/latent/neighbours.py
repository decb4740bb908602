"""Nearest training examples in latent space: is a generated sample new, or a memorized one?

Exact search by brute force (squared Euclidean distances by the expansion
|q|^2 - 2 q.r + |r|^2, in chunks of queries so that the distance matrix stays
small), which is fast enough for the tens of thousands of codes of a data set
and needs no index structure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vaelab.errors import InputError

CHUNK = 256


def nearest(reference: np.ndarray, queries: np.ndarray, k: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest reference codes of each query code.

    Parameters
    ----------
    reference : ndarray of shape (n, D)
    queries : ndarray of shape (q, D)
    k : int, 1 <= k <= n

    Returns
    -------
    indices : ndarray of shape (q, k), int64, nearest first (ties: lower index first)
    distances : ndarray of shape (q, k), Euclidean
    """
    ref = np.asarray(reference, dtype=np.float64)
    qs = np.asarray(queries, dtype=np.float64)
    if ref.ndim != 2 or qs.ndim != 2 or ref.shape[1] != qs.shape[1]:
        raise InputError(f"reference (n, D) and queries (q, D) must share D, got shapes {ref.shape} and {qs.shape}")
    if not isinstance(k, (int, np.integer)) or not 1 <= k <= len(ref):
        raise InputError(f"k must be an integer in 1..{len(ref)} (the reference codes), got {k!r}")
    ref_sq = (ref**2).sum(axis=1)
    indices = np.empty((len(qs), k), dtype=np.int64)
    distances = np.empty((len(qs), k))
    for i in range(0, len(qs), CHUNK):
        q = qs[i : i + CHUNK]
        d2 = np.maximum((q**2).sum(axis=1)[:, None] - 2.0 * q @ ref.T + ref_sq[None, :], 0.0)  # (c, n)
        part = np.argpartition(d2, k - 1, axis=1)[:, :k] if k < len(ref) else np.tile(np.arange(len(ref)), (len(q), 1))
        rows = np.arange(len(q))[:, None]
        order = np.lexsort((part, d2[rows, part]), axis=1)  # by distance, then by index
        best = part[rows, order]
        indices[i : i + len(q)] = best
        distances[i : i + len(q)] = np.sqrt(d2[rows, best])
    return indices, distances


@dataclass(frozen=True)
class LatentIndex:
    """The codes of a reference set (the training data), searched by :func:`nearest`.

    Attributes
    ----------
    codes : ndarray of shape (n, D)
    """

    codes: np.ndarray

    def query(self, z: np.ndarray, k: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """Indices and distances of the ``k`` nearest codes of each row of ``z`` (q, D) or of one code (D,)."""
        z = np.asarray(z, dtype=np.float64)
        return nearest(self.codes, z[None] if z.ndim == 1 else z, k)
