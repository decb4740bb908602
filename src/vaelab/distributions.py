"""Posterior distributions q(z|x) returned by ``encode``.

Following diffusers' ``DiagonalGaussianDistribution``, an encoder returns a
distribution *object*, not a tuple of tensors: callers ask it for ``.mean``,
draw with ``.rsample(generator=...)`` and score with ``.log_prob``. The
deterministic autoencoder and PCA return a :class:`PointMass`, so every model
of the family answers the same calls.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

LOG_2PI = math.log(2.0 * math.pi)


class PointMass:
    """A distribution with all its mass at one point per example (deterministic codes).

    Parameters
    ----------
    value : Tensor of shape (B, D)
    """

    def __init__(self, value: Tensor) -> None:
        self.value = value

    @property
    def mean(self) -> Tensor:
        """The code itself, shape (B, D)."""
        return self.value

    def mode(self) -> Tensor:
        return self.value

    def rsample(self, sample_shape: tuple[int, ...] = (), generator: torch.Generator | None = None) -> Tensor:
        """The code, expanded to ``sample_shape + (B, D)``; ``generator`` is ignored."""
        return self.value.expand(*sample_shape, *self.value.shape)

    sample = rsample


class NoiseStream:
    """Standard normal noise drawn per example, in order: the base of keyed noise sources.

    Where a ``torch.Generator`` is accepted for posterior draws, a stream may
    stand instead: the i-th call draws the next block of each example's own
    sequence, so a row's draws depend on the row (and the order of calls) but
    not on which other rows share the batch.
    :class:`vaelab.metrics.example_noise.ExampleNoise` makes one per batch.
    """

    def standard_normal(self, shape: tuple[int, ...], *, like: Tensor) -> Tensor:
        """The next draws, shape ``shape`` = (*sample_shape, B, D), on ``like``'s device and dtype."""
        raise NotImplementedError


class DiagonalGaussian:
    """A Gaussian with diagonal covariance, N(mean, diag(exp(log_var))).

    Parameters
    ----------
    mean : Tensor of shape (B, D)
    log_var : Tensor of shape (B, D)
        Log-variances; the encoder predicts these so that the variance stays positive.
    """

    def __init__(self, mean: Tensor, log_var: Tensor) -> None:
        self._mean = mean
        self.log_var = log_var

    @classmethod
    def from_params(cls, params: Tensor) -> "DiagonalGaussian":
        """From a network's output (..., 2D): the first D values are means, the last D log-variances."""
        mean, log_var = params.chunk(2, dim=-1)
        return cls(mean, log_var)

    @property
    def mean(self) -> Tensor:
        """Posterior means, shape (B, D)."""
        return self._mean

    @property
    def stddev(self) -> Tensor:
        return torch.exp(0.5 * self.log_var)

    @property
    def variance(self) -> Tensor:
        return torch.exp(self.log_var)

    def mode(self) -> Tensor:
        return self._mean

    def rsample(self, sample_shape: tuple[int, ...] = (), generator: torch.Generator | None = None) -> Tensor:
        """Reparameterized draws z = mean + std * eps (Kingma & Welling 2014, eq. 10).

        Parameters
        ----------
        sample_shape : tuple of int
            Leading shape of independent draws, e.g. ``(k,)`` for k importance samples.
        generator : torch.Generator or NoiseStream, optional
            Source of randomness, for reproducible draws. A
            :class:`NoiseStream` gives each example its own draws, whatever
            else shares the batch (see :mod:`vaelab.metrics.example_noise`).

        Returns
        -------
        Tensor of shape sample_shape + (B, D)
        """
        shape = (*sample_shape, *self._mean.shape)
        if isinstance(generator, NoiseStream):  # noise keyed by each example (deterministic scores)
            eps = generator.standard_normal(shape, like=self._mean)
        else:
            eps = torch.randn(shape, generator=generator, device=self._mean.device, dtype=self._mean.dtype)
        return self._mean + self.stddev * eps

    def sample(self, sample_shape: tuple[int, ...] = (), generator: torch.Generator | None = None) -> Tensor:
        with torch.no_grad():
            return self.rsample(sample_shape, generator)

    def log_prob_per_dim(self, z: Tensor) -> Tensor:
        """log q(z_d|x) of each latent dimension: (..., B, D) -> (..., B, D) (broadcasts)."""
        return -0.5 * (LOG_2PI + self.log_var + (z - self._mean) ** 2 / self.variance)

    def log_prob(self, z: Tensor) -> Tensor:
        """log q(z|x) summed over latent dimensions: (..., B, D) -> (..., B)."""
        return self.log_prob_per_dim(z).sum(-1)

    def detach(self) -> "DiagonalGaussian":
        """The same distribution with its parameters cut from the graph (DReG's stop-gradient)."""
        return DiagonalGaussian(self._mean.detach(), self.log_var.detach())

    def kl_standard_normal(self) -> Tensor:
        """KL(q || N(0, I)) per latent dimension, shape (B, D).

        Appendix B of Kingma & Welling 2014: KL = -0.5 * sum(1 + log_var - mean^2 - exp(log_var)).
        """
        return -0.5 * (1.0 + self.log_var - self._mean**2 - self.variance)
