"""The KL decomposition of beta-TCVAE, estimated on a minibatch (Chen et al. 2018, eq. 2).

Averaged over the data, the ELBO's KL splits into three terms:

    E_x KL(q(z|x) || p(z)) = I(x; z)                        index-code mutual information
                           + KL(q(z) || prod_d q(z_d))       total correlation (TC)
                           + sum_d KL(q(z_d) || p(z_d))      dimension-wise KL

with the aggregate posterior q(z) = (1/N) sum_n q(z|x_n). q(z) is estimated
on a batch of M examples by minibatch-weighted sampling (Chen et al. 2018,
Section 3.1): for z_i ~ q(z|x_i),

    q(z_i) ~ (1/N) q(z_i|x_i) + (N-1)/(N(M-1)) sum_{j != i} q(z_i|x_j),

the example's own posterior with its weight 1/N and the M-1 others standing
in for the remaining N-1 examples (the weights of Chen et al.'s stratified
estimator without the stratum term), and the same for each marginal q(z_d).
When the batch is the whole data set (M = N) every weight is 1/N and the
estimate of q(z) is exact.

References
----------
Chen, Li, Grosse & Duvenaud 2018, "Isolating Sources of Disentanglement in Variational Autoencoders",
NeurIPS, arXiv:1802.04942.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from vaelab.distributions import DiagonalGaussian


@dataclass
class KLDecomposition:
    """Per-example estimates of the three terms, each of shape (B,); they sum to log q(z|x) - log p(z)."""

    mutual_information: Tensor
    total_correlation: Tensor
    dimensionwise_kl: Tensor


def _log_weights(m: int, n: int, like: Tensor) -> Tensor:
    """(M, M) log weights: log 1/N on the diagonal, log (N-1)/(N(M-1)) elsewhere."""
    n = max(n, m)
    w = torch.full((m, m), math.log((n - 1) / (n * (m - 1))) if m > 1 else 0.0, dtype=like.dtype, device=like.device)
    w.fill_diagonal_(-math.log(n) if m > 1 else 0.0)
    return w


def kl_decomposition(z: Tensor, mean: Tensor, log_var: Tensor, log_pz: Tensor, dataset_size: int) -> KLDecomposition:
    """Minibatch-weighted estimates of mutual information, total correlation and dimension-wise KL.

    Parameters
    ----------
    z : Tensor of shape (M, D)
        One draw z_i ~ q(z|x_i) per example of the batch.
    mean, log_var : Tensor of shape (M, D)
        Parameters of the diagonal Gaussian posteriors q(z|x_j).
    log_pz : Tensor of shape (M,)
        log p(z_i) under the prior.
    dataset_size : int
        N, the number of training examples (taken as at least M).

    Returns
    -------
    KLDecomposition with fields of shape (M,).
    """
    m = z.shape[0]
    # log q(z_i,d | x_j) for every pair: (M, 1, D) against (1, M, D) -> (M, M, D)
    log_q_dims = DiagonalGaussian(mean.unsqueeze(0), log_var.unsqueeze(0)).log_prob_per_dim(z.unsqueeze(1))
    log_w = _log_weights(m, dataset_size, z)  # (M, M)
    log_qz_x = log_q_dims.diagonal(dim1=0, dim2=1).sum(0)  # (D, M) -> (M,): log q(z_i|x_i)
    log_qz = (log_w + log_q_dims.sum(-1)).logsumexp(dim=1)  # (M,)
    log_prod_qzd = (log_w.unsqueeze(-1) + log_q_dims).logsumexp(dim=1).sum(-1)  # (M, D) -> (M,)
    return KLDecomposition(
        mutual_information=log_qz_x - log_qz,
        total_correlation=log_qz - log_prod_qzd,
        dimensionwise_kl=log_prod_qzd - log_pz,
    )
