"""Reconstruction error, the same for PCA, the autoencoder and the VAE.

All three map x to a code and back to E[x | z = code] (the VAE decodes the
posterior mean), so the same three figures compare them:

* mean squared error per value, (1 / (N d)) sum (x - x_hat)^2;
* explained variance, 1 - SSE / SST with SST the sum of squares about the
  per-feature mean (the R^2 of scikit-learn's ``explained_variance_score``
  with ``multioutput="variance_weighted"`` when the residuals have zero mean);
* for binary data, the binary cross-entropy of x under Bernoulli(x_hat) in nats
  per example, summed over dimensions (x_hat clipped to [eps, 1 - eps], since
  a linear reconstruction can leave [0, 1]).
"""

from __future__ import annotations

import torch
from torch import Tensor

#: reconstructions are clipped to [BCE_EPS, 1 - BCE_EPS] before the binary cross-entropy
BCE_EPS = 1e-6


def _flat(x: Tensor) -> Tensor:
    return x.reshape(x.shape[0], -1).double()


def mean_squared_error(x: Tensor, reconstruction: Tensor) -> float:
    """Mean of (x - x_hat)^2 over every value; ``x`` and ``reconstruction`` of shape (N, ...)."""
    return float(((_flat(x) - _flat(reconstruction)) ** 2).mean())


def explained_variance(x: Tensor, reconstruction: Tensor) -> float:
    """1 - sum (x - x_hat)^2 / sum (x - mean_x)^2, over all values; NaN when x is constant.

    Parameters
    ----------
    x, reconstruction : Tensor of shape (N, ...)

    Returns
    -------
    float
        1 for a perfect reconstruction, 0 for reconstructing every example by the mean.
    """
    xf = _flat(x)
    sse = ((xf - _flat(reconstruction)) ** 2).sum()
    sst = ((xf - xf.mean(0)) ** 2).sum()
    return float(1.0 - sse / sst) if sst > 0 else float("nan")


def binary_cross_entropy(x: Tensor, reconstruction: Tensor, eps: float = BCE_EPS) -> Tensor:
    """-sum_j [x_j log p_j + (1 - x_j) log(1 - p_j)] per example, p = clip(x_hat, eps, 1 - eps).

    Parameters
    ----------
    x : Tensor of shape (N, ...)
        Binary data.
    reconstruction : Tensor of shape (N, ...)
        Reconstructed means x_hat.

    Returns
    -------
    Tensor of shape (N,), nats.
    """
    p = _flat(reconstruction).clamp(eps, 1.0 - eps)
    xf = _flat(x)
    return -(xf * torch.log(p) + (1.0 - xf) * torch.log1p(-p)).sum(1)
