"""Principal component analysis as a member of the encoder-decoder family.

Closed form: the top eigenvectors of the sample covariance (or the right
singular vectors of the centred data when there are fewer rows than columns),
computed in float64, with the signs fixed as scikit-learn's ``svd_flip`` does
(the largest-magnitude loading of each component is positive), so that
results are deterministic and match ``sklearn.decomposition.PCA``.

Its likelihood is the one of probabilistic PCA (Tipping & Bishop 1999):
x ~ N(mu, W W^T + s2 I), with W = U_k diag(sqrt(lambda_k - s2)) and s2 the mean
of the discarded eigenvalues; this puts the linear baseline on the same
log-likelihood scale as the VAE.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from vaelab.distributions import PointMass
from vaelab.errors import InputError
from vaelab.models.base import MODELS, Model, ModelOutput


@dataclass(frozen=True)
class PCAConfig:
    """Shape of a PCA model: ``input_shape`` of one example and ``latent_dim`` components."""

    input_shape: tuple[int, ...]
    latent_dim: int


def _flip_signs(components: Tensor) -> Tensor:
    """Make the largest-|.| entry of each row positive (scikit-learn's svd_flip, v-based)."""
    idx = components.abs().argmax(dim=1)
    signs = torch.sign(components[torch.arange(components.shape[0]), idx])
    signs[signs == 0] = 1.0
    return components * signs[:, None]


#: centre the data before the Gram product when n * mean_j^2 > this * centred sum of squares_j for any column
_MAX_OFFSET_RATIO = 10.0


def _mean_and_scatter(X: Tensor, mean: Tensor | None = None, block_rows: int = 8192) -> tuple[Tensor, Tensor]:
    """Column means and centred scatter matrix (X - mean)^T (X - mean) of ``X`` (n, d), both float64.

    ``mean`` (float64, shape (d,)), when the caller has it already, saves a pass over the data.

    On CPU the Gram matrix X^T X is one NumPy product, which BLAS computes as a
    symmetric rank-k update (half the work of a general product; torch has no
    such path), in ``X``'s own precision, then centred in float64 as
    scikit-learn does. That subtraction cancels digits when a column's mean is
    large against its spread (more than ``_MAX_OFFSET_RATIO``), so such data,
    and data on other devices, is centred block by block before the product
    instead, each block's product summed in float64. Neither way copies the
    whole data.
    """
    n, d = X.shape
    on_cpu = X.device.type == "cpu"
    if on_cpu:
        Xn = X.detach().numpy()
        mean = torch.from_numpy(Xn.mean(0, dtype=np.float64)) if mean is None else mean.to(torch.float64).cpu()
        scatter = torch.from_numpy((Xn.T @ Xn).astype(np.float64)) - n * torch.outer(mean, mean)
        if bool((n * mean**2 <= _MAX_OFFSET_RATIO * scatter.diagonal()).all()):
            return mean, scatter
    elif mean is None:
        mean = (X.sum(0, dtype=torch.float64) / n).cpu()
    else:
        mean = mean.to(torch.float64).cpu()
    shift = mean.to(X.dtype)  # the rounded mean actually subtracted
    scatter = torch.zeros(d, d, dtype=torch.float64)
    for start in range(0, n, block_rows):
        block = X[start:start + block_rows] - shift.to(X.device)
        if on_cpu:
            b = block.numpy()
            scatter += torch.from_numpy(b.T @ b)
        else:
            scatter += (block.T @ block).cpu()
    # sum(X - shift) = n (mean - shift), so the scatter about `shift` exceeds
    # the one about the exact mean by n * delta delta^T
    delta = mean - shift.to(torch.float64)
    scatter -= n * torch.outer(delta, delta)
    return mean.to(X.device), scatter.to(X.device)


def _top_eigh(matrix: Tensor, k: int) -> tuple[Tensor, Tensor]:
    """The ``k`` largest eigenvalues (descending, shape (k,)) and their eigenvectors (rows, (k, d)) of a symmetric matrix.

    On CPU, LAPACK's MRRR driver (``dsyevr`` through SciPy) computes only the
    k wanted eigenvectors after the tridiagonal reduction, in float64, instead
    of all d of them (the saving that makes the fit faster than scikit-learn's
    float32 ``eigh`` of the full matrix; see ``benchmarks/pca.py``). On other
    devices, torch's full ``eigh``, sliced.
    """
    d = matrix.shape[0]
    if matrix.device.type == "cpu":
        from scipy.linalg import eigh  # a dependency of scikit-learn

        evals, evecs = eigh(matrix.numpy(), subset_by_index=[d - k, d - 1], driver="evr", check_finite=False)
        evals, evecs = torch.from_numpy(evals), torch.from_numpy(evecs)
    else:
        evals, evecs = torch.linalg.eigh(matrix)
        evals, evecs = evals[d - k:], evecs[:, d - k:]
    return evals.flip(0), evecs.flip(1).T


@MODELS.register("PCAModel")
class PCAModel(Model):
    """Linear encoder z = U^T (x - mu) and decoder x = U z + mu, fitted in closed form.

    All statistics are float64 buffers, so they are saved with the weights.
    """

    config_class = PCAConfig

    def __init__(self, config: PCAConfig) -> None:
        super().__init__(config)
        d, k = math.prod(config.input_shape), config.latent_dim
        f64 = torch.float64
        self.register_buffer("mean", torch.zeros(d, dtype=f64))
        self.register_buffer("components", torch.zeros(k, d, dtype=f64))  # (K, d), rows orthonormal
        self.register_buffer("explained_variance", torch.zeros(k, dtype=f64))
        self.register_buffer("explained_variance_ratio", torch.zeros(k, dtype=f64))
        self.register_buffer("noise_variance", torch.zeros((), dtype=f64))

    @torch.no_grad()
    def fit(self, x: Tensor, *, mean: Tensor | None = None) -> "PCAModel":
        """Fit in closed form to ``x`` of shape (n, *input_shape); returns self.

        float64 input is computed in float64 throughout. float32 input has its
        Gram matrix formed in float32, as scikit-learn does, but centred and
        decomposed in float64 (see ``_mean_and_scatter``). Only the top
        ``latent_dim`` eigenvectors are computed; the total variance (for
        ``explained_variance_ratio`` and ``noise_variance``) is the trace of
        the covariance, which equals the sum of all its eigenvalues.

        Parameters
        ----------
        x : Tensor of shape (n, *input_shape)
        mean : Tensor of shape (d,), optional
            The column means in float64, when the caller has computed them already.
        """
        X = x.reshape(x.shape[0], -1)
        if not X.is_floating_point() or X.dtype not in (torch.float32, torch.float64):
            X = X.to(torch.float64)
        n, d = X.shape
        k = self.config.latent_dim
        if not 1 <= k <= min(n, d):
            raise InputError(
                f"PCA latent_dim must be between 1 and min(n_samples, n_features) = {min(n, d)} "
                f"(n_samples={n}, n_features={d}), got {k}"
            )
        rank_bound = min(n, d)
        if n >= d:  # covariance route: one d x d eigendecomposition, cheap when n >> d
            mean, scatter = _mean_and_scatter(X, mean)
            covariance = scatter / (n - 1)
            top, vectors = _top_eigh(covariance, k)
            top = top.clamp_min(0.0)
            total = covariance.diagonal().sum().clamp_min(0.0)
        else:
            X = X.to(torch.float64)
            mean = X.mean(0)
            _, s, vt = torch.linalg.svd(X - mean, full_matrices=False)
            evals = s**2 / (n - 1)
            top, vectors, total = evals[:k], vt[:k], evals.sum()
        self.mean.copy_(mean)
        self.components.copy_(_flip_signs(vectors[:k]))
        self.explained_variance.copy_(top)
        self.explained_variance_ratio.copy_(top / total if total > 0 else torch.zeros(k, dtype=torch.float64))
        rest = max(float(total - top.sum()), 0.0)  # the sum of the discarded eigenvalues
        self.noise_variance.fill_(rest / (rank_bound - k) if k < rank_bound else 0.0)
        return self

    def encode(self, x: Tensor) -> PointMass:
        """(B, *input_shape) -> projections on the components (B, K)."""
        centred = x.reshape(x.shape[0], -1).to(torch.float64) - self.mean
        return PointMass((centred @ self.components.T).to(x.dtype))

    def decode(self, z: Tensor) -> Tensor:
        """(B, K) -> mu + U z, shape (B, *input_shape)."""
        x = z.to(torch.float64) @ self.components + self.mean
        return x.to(z.dtype).reshape(z.shape[0], *self.input_shape)

    decode_mean = decode

    def forward(self, x: Tensor, *, generator: torch.Generator | None = None) -> ModelOutput:
        recon = self.reconstruct(x)
        sq_error = ((x - recon) ** 2).reshape(x.shape[0], -1).sum(1).mean()
        return ModelOutput(loss=sq_error, reconstruction=sq_error, params=recon)

    def log_likelihood(self, x: Tensor) -> Tensor:
        """Probabilistic-PCA log p(x) per example in nats, shape (B,).

        With C = W W^T + s2 I, by the eigenvalues of C (lambda_j along the
        components, s2 elsewhere):
        log p = -0.5 * (d log 2pi + sum log lambda + (d-K) log s2 + r^T C^-1 r).
        """
        s2 = float(self.noise_variance)
        if s2 <= 0.0:
            raise InputError(
                "the probabilistic-PCA likelihood needs latent_dim < rank of the data "
                "(the noise variance is 0 when every component is kept); fit with a smaller latent_dim"
            )
        r = x.reshape(x.shape[0], -1).to(torch.float64) - self.mean  # (B, d)
        d, k = r.shape[1], self.latent_dim
        lam = self.explained_variance.clamp_min(s2)
        proj = r @ self.components.T  # (B, K)
        # C^-1 = (I - U diag(1 - s2/lam) U^T) / s2
        quad = ((r**2).sum(1) - (proj**2 * (1.0 - s2 / lam)).sum(1)) / s2
        logdet = torch.log(lam).sum() + (d - k) * math.log(s2)
        return (-0.5 * (d * math.log(2.0 * math.pi) + logdet + quad)).to(x.dtype)
