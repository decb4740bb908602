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

import functools
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


def _flip_signs(components: np.ndarray) -> np.ndarray:
    """Make the largest-|.| entry of each row positive (scikit-learn's svd_flip, v-based)."""
    idx = np.abs(components).argmax(axis=1)
    signs = np.sign(components[np.arange(components.shape[0]), idx])
    signs[signs == 0] = 1.0
    return components * signs[:, None]


#: centre the data before the Gram product when n * mean_j^2 > this * centred sum of squares_j for any column
_MAX_OFFSET_RATIO = 10.0


def _mean_and_scatter(X: Tensor, mean: Tensor | None = None, block_rows: int = 8192) -> tuple[Tensor, Tensor]:
    """Column means and centred scatter matrix (X - mean)^T (X - mean) of ``X`` (n, d), both float64.

    ``mean`` (float64, shape (d,)), when the caller has it already, saves a pass over the data.

    On CPU everything is NumPy (see ``_mean_and_scatter_numpy``); the tensors
    returned share its memory. On other devices the data is centred block by
    block in torch, each block's product summed in float64.
    """
    if X.device.type == "cpu":
        m, scatter = _mean_and_scatter_numpy(X.detach().numpy(), None if mean is None else mean.to(torch.float64).numpy(),
                                             block_rows)
        return torch.from_numpy(m), torch.from_numpy(scatter)
    n, d = X.shape
    mean = (X.sum(0, dtype=torch.float64) / n).cpu() if mean is None else mean.to(torch.float64).cpu()
    shift = mean.to(X.dtype)  # the rounded mean actually subtracted
    scatter = torch.zeros(d, d, dtype=torch.float64)
    for start in range(0, n, block_rows):
        block = X[start:start + block_rows] - shift.to(X.device)
        scatter += (block.T @ block).cpu()
    # sum(X - shift) = n (mean - shift), so the scatter about `shift` exceeds
    # the one about the exact mean by n * delta delta^T
    delta = mean - shift.to(torch.float64)
    scatter -= n * torch.outer(delta, delta)
    return mean.to(X.device), scatter.to(X.device)


def _mean_and_scatter_numpy(X: np.ndarray, mean: np.ndarray | None, block_rows: int = 8192) -> tuple[np.ndarray, np.ndarray]:
    """``_mean_and_scatter`` on CPU, in NumPy only.

    The Gram matrix X^T X is one NumPy product, which BLAS computes as a
    symmetric rank-k update (half the work of a general product; torch has no
    such path), in ``X``'s own precision, then centred in float64 as
    scikit-learn does. That subtraction cancels digits when a column's mean is
    large against its spread (more than ``_MAX_OFFSET_RATIO``), so such data
    is centred block by block before the product instead, each block's product
    summed in float64. Neither way copies the whole data.

    No torch operation runs here: interleaving torch's OpenMP kernels with
    NumPy's BLAS threads makes the two thread pools contend for the cores
    (the previous version, with small torch operations in between, ran at
    0.82x scikit-learn's speed on 2 threads; this one, with ``_top_eigh`` on
    one thread too, at 1.06-1.07x: ``benchmarks/pca.py``).
    """
    n, d = X.shape
    if mean is None:
        mean = X.mean(0, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        scatter = (X.T @ X).astype(np.float64) - n * np.outer(mean, mean)
        if bool((n * mean**2 <= _MAX_OFFSET_RATIO * scatter.diagonal()).all()):
            return mean, scatter
    shift = mean.astype(X.dtype)  # the rounded mean actually subtracted
    scatter = np.zeros((d, d), dtype=np.float64)
    for start in range(0, n, block_rows):
        block = X[start:start + block_rows] - shift
        scatter += block.T @ block
    # sum(X - shift) = n (mean - shift), so the scatter about `shift` exceeds
    # the one about the exact mean by n * delta delta^T
    delta = mean - shift.astype(np.float64)
    scatter -= n * np.outer(delta, delta)
    return mean, scatter


#: up to this size, ``_top_eigh`` runs LAPACK on one thread (see there)
_ONE_THREAD_EIGH_MAX_DIM = 1024


def _top_eigh(matrix: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` largest eigenvalues (descending, shape (k,)) and their eigenvectors (rows, (k, d)) of a symmetric matrix.

    LAPACK's MRRR driver (``dsyevr`` through SciPy) computes only the k wanted
    eigenvectors after the tridiagonal reduction, in float64, instead of all d
    of them (the saving that makes the fit faster than scikit-learn's float32
    ``eigh`` of the full matrix; see ``benchmarks/pca.py``).

    SciPy's BLAS is another library, with its own thread pool, than NumPy's,
    which formed the Gram matrix just before and whose threads still spin
    for a while. Up to d = ``_ONE_THREAD_EIGH_MAX_DIM`` the decomposition runs
    on one thread, so the two pools do not fight for the cores. Measured on 2
    cores (``benchmarks/pca_parts.py``): alone, a 784 x 784 decomposition
    takes 0.066 s on one thread against 0.046 s on two, but inside the MNIST
    fit one thread makes the whole fit faster (1.07-1.18x scikit-learn's
    speed, against 0.97-1.10x with every thread, in two runs). Larger matrices gain more from threads
    (3072 x 3072: 2.6 s on one, 1.7 s on two), so they keep them.
    """
    from scipy.linalg import eigh  # a dependency of scikit-learn

    d = matrix.shape[0]
    if d <= _ONE_THREAD_EIGH_MAX_DIM:
        with _blas_controller().limit(limits=1, user_api="blas"):
            evals, evecs = eigh(matrix, subset_by_index=[d - k, d - 1], driver="evr", check_finite=False)
    else:
        evals, evecs = eigh(matrix, subset_by_index=[d - k, d - 1], driver="evr", check_finite=False)
    return evals[::-1].copy(), np.ascontiguousarray(evecs[:, ::-1].T)


@functools.cache
def _blas_controller():
    """threadpoolctl's view of the loaded BLAS libraries (a dependency of scikit-learn), built once: it scans them."""
    import scipy.linalg  # noqa: F401  (loaded first, so that its BLAS is seen)
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


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
            covariance = scatter.cpu().numpy() / (n - 1)
            top, vectors = _top_eigh(covariance, k)
            top = np.maximum(top, 0.0)
            total = max(float(covariance.trace()), 0.0)
            mean = mean.cpu()
        else:
            X = X.to(torch.float64)
            mean = X.mean(0)
            _, s, vt = torch.linalg.svd(X - mean, full_matrices=False)
            evals = (s**2 / (n - 1)).cpu().numpy()
            top, vectors, total = evals[:k], vt[:k].cpu().numpy(), float(evals.sum())
            mean = mean.cpu()
        rest = max(total - float(top.sum()), 0.0)  # the sum of the discarded eigenvalues
        ratio = top / total if total > 0 else np.zeros(k)
        noise = rest / (rank_bound - k) if k < rank_bound else 0.0
        # assigned, not copied in: a torch kernel here would contend with BLAS's threads (see _mean_and_scatter_numpy)
        device = self.mean.device
        self.mean = mean.to(device)
        self.components = torch.from_numpy(_flip_signs(vectors)).to(device)
        self.explained_variance = torch.from_numpy(top).to(device)
        self.explained_variance_ratio = torch.from_numpy(np.asarray(ratio, dtype=np.float64)).to(device)
        self.noise_variance = torch.tensor(noise, dtype=torch.float64, device=device)
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
