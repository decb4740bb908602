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
keeps it an upper bound.

References
----------
Uria, Murray & Larochelle 2013, "RNADE: The real-valued neural autoregressive density-estimator", NIPS.
Theis, van den Oord & Bethge 2016, "A note on the evaluation of generative models", ICLR, arXiv:1511.01844.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

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


def dequantize(x: Tensor, *, generator: torch.Generator | None = None) -> Tensor:
    """Uniform dequantization of 8-bit data in [0, 1]: y = round(255 x), returns (y + u) / 256.

    Parameters
    ----------
    x : Tensor of shape (N, ...)
        Values k / 255 for integers k in 0..255 (what uint8 images become in vaelab).
    generator : torch.Generator, optional

    Returns
    -------
    Tensor of the same shape and dtype, values in [0, 1).
    """
    y = torch.round(x.double() * 255.0)
    u = torch.rand(x.shape, generator=generator, dtype=torch.float64, device=x.device)
    return ((y + u) / 256.0).to(x.dtype)


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


def bits_per_dim(log_likelihood: Tensor | float, n_dims: int, *, dequantized: bool = True) -> float:
    """Mean negative log-likelihood in bits per dimension.

    Parameters
    ----------
    log_likelihood : Tensor of shape (N,) or float
        log p(x) in nats per example (a density at dequantized points when
        ``dequantized``, else a discrete log-probability).
    n_dims : int
        Dimensions D of one example.
    dequantized : bool
        Add the Jacobian of x = (y + u) / 256, i.e. subtract D log 256 from log p.

    Returns
    -------
    float
        -(mean log p - [D log 256]) / (D log 2).
    """
    mean_ll = float(torch.as_tensor(log_likelihood, dtype=torch.float64).mean())
    if dequantized:
        mean_ll -= n_dims * math.log(256.0)
    return -mean_ll / (n_dims * math.log(2.0))
