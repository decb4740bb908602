"""Sample quality in a feature space: the Fréchet distance and precision/recall.

Fréchet distance between Gaussians fitted to two feature sets (Dowson &
Landau 1982; the statistic of Heusel et al. 2017's FID):

    d^2 = ||mu_1 - mu_2||^2 + tr(S_1) + tr(S_2) - 2 tr((S_1^{1/2} S_2 S_1^{1/2})^{1/2})

The trace of the matrix square root is computed without scipy from the
eigenvalues of the symmetric positive semi-definite S_1^{1/2} S_2 S_1^{1/2}
(its eigenvalues are those of S_1 S_2), in float64.

Improved precision and recall (Kynkäänniemi et al. 2019): the manifold of a
feature set is the union of balls around each point with radius the distance
to its k-th nearest neighbour in the same set. Precision is the share of
generated points inside the manifold of the real ones, recall the share of
real points inside the manifold of the generated ones.

These functions work in any feature space; vaelab applies them to the small
digit classifier of :mod:`vaelab.metrics.features`, and the result is the
"Fréchet digit distance" (FDD), not the Inception FID.

References
----------
Dowson & Landau 1982, "The Fréchet distance between multivariate normal distributions", J. Multivariate Anal.
Heusel, Ramsauer, Unterthiner, Nessler & Hochreiter 2017, "GANs Trained by a Two Time-Scale Update Rule
Converge to a Local Nash Equilibrium", NIPS, arXiv:1706.08500.
Kynkäänniemi, Karras, Laine, Lehtinen & Aila 2019, "Improved Precision and Recall Metric for Assessing
Generative Models", NeurIPS, arXiv:1904.06991.
"""

from __future__ import annotations

import torch
from torch import Tensor

from vaelab.errors import InputError


def feature_moments(features: Tensor) -> tuple[Tensor, Tensor]:
    """Mean (F,) and unbiased covariance (F, F) of features of shape (N, F), in float64."""
    if features.dim() != 2 or features.shape[0] < 2:
        raise InputError(f"features must have shape (N, F) with N >= 2, got {tuple(features.shape)}")
    f = features.double()
    mu = f.mean(0)
    centred = f - mu
    return mu, centred.T @ centred / (f.shape[0] - 1)


def _psd_sqrt(matrix: Tensor) -> Tensor:
    """Symmetric square root of a symmetric PSD matrix (negative round-off eigenvalues clipped to 0)."""
    evals, evecs = torch.linalg.eigh((matrix + matrix.T) / 2)
    return (evecs * evals.clamp_min(0.0).sqrt()) @ evecs.T


def frechet_distance_from_moments(mu1: Tensor, cov1: Tensor, mu2: Tensor, cov2: Tensor) -> float:
    """Squared Fréchet distance between N(mu1, cov1) and N(mu2, cov2).

    Parameters
    ----------
    mu1, mu2 : Tensor of shape (F,)
    cov1, cov2 : Tensor of shape (F, F), symmetric positive semi-definite

    Returns
    -------
    float, >= 0 (up to round-off)
    """
    if mu1.shape != mu2.shape or cov1.shape != cov2.shape or cov1.shape != (mu1.shape[0], mu1.shape[0]):
        raise InputError(
            f"moments do not match: means {tuple(mu1.shape)} and {tuple(mu2.shape)}, "
            f"covariances {tuple(cov1.shape)} and {tuple(cov2.shape)}"
        )
    mu1, cov1, mu2, cov2 = (t.double() for t in (mu1, cov1, mu2, cov2))
    root1 = _psd_sqrt(cov1)
    middle = root1 @ cov2 @ root1  # symmetric PSD, same eigenvalues as cov1 @ cov2
    evals = torch.linalg.eigvalsh((middle + middle.T) / 2).clamp_min(0.0)
    trace_sqrt = evals.sqrt().sum()
    d2 = ((mu1 - mu2) ** 2).sum() + torch.trace(cov1) + torch.trace(cov2) - 2.0 * trace_sqrt
    return max(float(d2), 0.0)


def frechet_distance(features1: Tensor, features2: Tensor) -> float:
    """Squared Fréchet distance between Gaussians fitted to two feature sets of shape (N1, F) and (N2, F)."""
    return frechet_distance_from_moments(*feature_moments(features1), *feature_moments(features2))


def _kth_neighbour_radii(features: Tensor, k: int, block: int) -> Tensor:
    """Distance of each point to its k-th nearest other point of the same set: (N, F) -> (N,)."""
    out = []
    for start in range(0, features.shape[0], block):
        d = torch.cdist(features[start : start + block], features)  # (b, N); the point itself at 0
        out.append(d.kthvalue(k + 1, dim=1).values)  # k + 1: skip the point itself
    return torch.cat(out)


def _coverage(points: Tensor, centres: Tensor, radii: Tensor, block: int) -> Tensor:
    """For each point, whether it lies in some ball (centre, radius): (P, F) -> bool (P,)."""
    out = []
    for start in range(0, points.shape[0], block):
        d = torch.cdist(points[start : start + block], centres)  # (b, C)
        out.append((d <= radii[None, :]).any(dim=1))
    return torch.cat(out)


def precision_recall(
    real: Tensor,
    generated: Tensor,
    *,
    k: int = 3,
    max_points: int | None = 5000,
    generator: torch.Generator | None = None,
) -> tuple[float, float]:
    """Improved precision and recall of Kynkäänniemi et al. 2019 with k-NN radii.

    Parameters
    ----------
    real : Tensor of shape (N_r, F)
    generated : Tensor of shape (N_g, F)
    k : int
        Neighbour that sets each ball's radius (3 in the paper).
    max_points : int or None
        Use a random subsample of at most this many points of each set (the
        cost is O(N^2 F)); None uses all.
    generator : torch.Generator, optional
        For the subsample.

    Returns
    -------
    precision, recall : float in [0, 1]
    """
    if real.dim() != 2 or generated.dim() != 2 or real.shape[1] != generated.shape[1]:
        raise InputError(
            f"real and generated must be (N, F) with the same F, got {tuple(real.shape)} and {tuple(generated.shape)}"
        )
    if min(real.shape[0], generated.shape[0]) <= k:
        raise InputError(f"precision/recall with k={k} needs more than {k} points per set")

    def subsample(f: Tensor) -> Tensor:
        if max_points is None or f.shape[0] <= max_points:
            return f.double()
        idx = torch.randperm(f.shape[0], generator=generator)[:max_points]
        return f[idx].double()

    real, generated = subsample(real), subsample(generated)
    block = max(1, 2**24 // max(real.shape[0], generated.shape[0]))
    real_radii = _kth_neighbour_radii(real, k, block)
    gen_radii = _kth_neighbour_radii(generated, k, block)
    precision = float(_coverage(generated, real, real_radii, block).double().mean())
    recall = float(_coverage(real, generated, gen_radii, block).double().mean())
    return precision, recall
