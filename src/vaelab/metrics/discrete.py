"""Densities on discrete data: what kind of data is this, and bits per dimension.

A Gaussian (or continuous-Bernoulli) decoder defines a *density* p(x) on
continuous x, and log p(x) of 8-bit data scaled to [0, 1] is not the log of a
probability: it can be made arbitrarily large by a density that piles up on
the 256 grey levels. The honest figure is the likelihood of the discrete data
under uniform dequantization (Uria et al. 2013; Theis et al. 2016, Section 3.1):
for pixels y in {0, ..., 255}^D and u ~ U[0, 1)^D,

    P(y) = integral over the cube (y + [0,1)^D) / 256 of p(x) dx
    log P(y) >= E_u[ log p((y + u) / 256) ] - D log 256               (Jensen)

so -[log p((y + u) / 256) - D log 256] / (D log 2) is an upper bound (in
expectation) on the discrete negative log-likelihood in bits per dimension.
Replacing log p by a lower bound of it (the ELBO, the importance-sampled bound)
keeps it an upper bound. The same holds for data of L grey levels y in
{0, ..., L-1} stored as y / (L-1) (scikit-learn's 8x8 digits: L = 17), with
x = (y + u) / L and D log L in place of D log 256 (``levels=L``).

References
----------
Uria, Murray & Larochelle 2013, "RNADE: The real-valued neural autoregressive density-estimator", NIPS.
Theis, van den Oord & Bethge 2016, "A note on the evaluation of generative models", ICLR, arXiv:1511.01844.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from vaelab.errors import InputError
from vaelab.metrics.bounds import importance_sampled_log_likelihood

#: the statement printed beside every bits-per-dimension figure
DEQUANTIZATION_NOTE = (
    "bits_per_dim: 8-bit data y in {0..255} dequantized as x = (y + u)/256, u ~ U[0,1), one draw per value; "
    "bits/dim = -(log p(x) - D log 256) / (D log 2), an upper bound on the discrete NLL in bits per dimension"
)


def is_binary(x: Tensor) -> bool:
    """Whether every value of ``x`` is 0 or 1."""
    return bool(((x == 0) | (x == 1)).all())


def is_8bit(x: Tensor, *, levels: int = 255, tol: float = 1e-4) -> bool:
    """Whether ``x`` holds 8-bit values scaled to [0, 1], i.e. multiples of 1/255 (uint8 / 255)."""
    if float(x.min()) < 0.0 or float(x.max()) > 1.0:
        return False
    scaled = x.double() * levels
    return bool(((scaled - scaled.round()).abs() <= tol).all())


def grid_levels(x: Tensor, *, max_levels: int = 256, tol: float = 1e-4) -> int | None:
    """The fewest grey levels L (2..max_levels) such that every value of ``x`` is k / (L - 1); None if none.

    >>> grid_levels(torch.tensor([0.0, 0.25, 1.0]))
    5
    """
    if x.numel() == 0 or float(x.min()) < 0.0 or float(x.max()) > 1.0:
        return None
    values = torch.unique(x.double().flatten())
    for levels in range(2, max_levels + 1):
        scaled = values * (levels - 1)
        if bool(((scaled - scaled.round()).abs() <= tol).all()):
            return levels
    return None


def dequantize(x: Tensor, *, levels: int = 256, generator: torch.Generator | None = None) -> Tensor:
    """Uniform dequantization of data on ``levels`` grey levels: y = round((levels-1) x), returns (y + u) / levels.

    Parameters
    ----------
    x : Tensor of shape (N, ...)
        Values k / (levels - 1) for integers k in 0..levels-1 (k / 255 for
        uint8 images, what they become in vaelab).
    levels : int
        Number of grey levels L (256 for 8-bit data).
    generator : torch.Generator, optional

    Returns
    -------
    Tensor of the same shape and dtype, values in [0, 1).
    """
    y = torch.round(x.double() * (levels - 1))
    u = torch.rand(x.shape, generator=generator, dtype=torch.float64, device=x.device)
    return ((y + u) / levels).to(x.dtype)


#: the seed of the one fixed binarization of a grey-level test set: ``vaelab evaluate``, the closing
#: evaluation of ``vaelab train`` and the benchmarks score models trained on binarized data on it
BINARIZE_SEED = 123


def binarize_once(x: Tensor, seed: int = BINARIZE_SEED) -> Tensor:
    """One fixed binarization of grey levels: each value becomes 1 with probability x, drawn with ``seed``.

    The test set of dynamically binarized MNIST is the test images binarized
    once like this (with a recorded seed), so that every model is scored on
    the same binary data (Salakhutdinov & Murray 2008 fixed one such draw;
    Burda et al. 2016 trained on fresh draws and tested on a fixed one).

    Parameters
    ----------
    x : Tensor of shape (N, ...)
        Values in [0, 1].
    seed : int
        Seeds the draw (a CPU generator, so the result is the same on every device).

    Returns
    -------
    Tensor of the same shape, dtype and device, values in {0, 1}.
    """
    generator = torch.Generator().manual_seed(seed)
    return torch.bernoulli(x.detach().cpu(), generator=generator).to(x.device)


def binarize_note(x: Tensor, seed: int) -> list[str]:
    """The note on ``binarize_seed`` for ``x``, or an error if ``x`` is not grey levels in [0, 1]."""
    if is_binary(x):
        return [f"X is binary already: scored as given (binarize_seed = {seed} was not needed)"]
    low, high = float(x.min()), float(x.max())
    if low < 0.0 or high > 1.0:
        raise InputError(
            f"binarize_seed needs X with grey levels in [0, 1], got values in [{low:.4g}, {high:.4g}]; "
            "scale X to [0, 1] or leave binarize_seed out"
        )
    return [
        f"X was binarized once before every figure, as the model was trained on binarized data: each value is 1 "
        f"with probability its grey level, drawn with seed {seed} (binarize_seed); the figures are likelihoods of "
        "that binary data"
    ]


def bits_per_dim(
    log_likelihood: Tensor | float, n_dims: int, *, dequantized: bool = True, levels: int = 256
) -> float:
    """Mean negative log-likelihood in bits per dimension.

    Parameters
    ----------
    log_likelihood : Tensor of shape (N,) or float
        log p(x) in nats per example (a density at dequantized points when
        ``dequantized``, else a discrete log-probability).
    n_dims : int
        Dimensions D of one example.
    dequantized : bool
        Add the Jacobian of x = (y + u) / L, i.e. subtract D log L from log p.
    levels : int
        Grey levels L of the data (256 for 8-bit data).

    Returns
    -------
    float
        -(mean log p - [D log L]) / (D log 2).
    """
    mean_ll = float(torch.as_tensor(log_likelihood, dtype=torch.float64).mean())
    if dequantized:
        mean_ll -= n_dims * math.log(float(levels))
    return -mean_ll / (n_dims * math.log(2.0))


def model_bits_per_dim(
    estimator: Any, x: Tensor, *, levels: int, seed: int = 0, nll_samples: int = 100
) -> tuple[float, str] | None:
    """Bits per dimension of discrete data ``x`` (``levels`` grey levels) under a fitted model's density.

    One figure on one scale for every model that has a density: the exact
    probabilistic-PCA log p (PCA), or the importance-sampled lower bound on
    log p with ``nll_samples`` draws (a VAE: then the figure is an upper bound
    of an upper bound), at the dequantized points (y + u) / L, one draw u per
    value. The model's likelihood must be a density on [0, 1] (Gaussian,
    continuous Bernoulli); a Bernoulli likelihood's log-probability of grey
    levels is not one.

    Returns
    -------
    (float, str) or None
        The bits per dimension and a note saying how it was computed; None for
        a model without a density of x (an autoencoder, a Bernoulli VAE).
    """
    module = estimator.module_
    x_deq = dequantize(x, levels=levels, generator=torch.Generator().manual_seed(seed))
    n_dims = math.prod(x.shape[1:])
    with torch.no_grad():
        if hasattr(module, "log_likelihood"):  # probabilistic PCA: exact
            ll, how = module.log_likelihood(x_deq.double()), "the exact probabilistic-PCA log p(x)"
        elif hasattr(module, "prior") and getattr(module.likelihood, "name", "") != "bernoulli":
            ll = importance_sampled_log_likelihood(
                module.eval(), x_deq, nll_samples, generator=torch.Generator().manual_seed(seed + 1)
            )
            how = f"the importance-sampled lower bound on log p(x), k = {nll_samples} (Burda et al. 2016)"
        else:
            return None
    note = (
        f"bits_per_dim: data on {levels} grey levels y in {{0..{levels - 1}}} dequantized as x = (y + u)/{levels}, "
        f"u ~ U[0,1), one draw per value; -(log p(x) - D log {levels}) / (D log 2) with {how}: an upper bound on the "
        "discrete NLL in bits per dimension"
    )
    return bits_per_dim(ll, n_dims, levels=levels), note
