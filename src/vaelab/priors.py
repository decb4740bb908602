"""Priors p(z) over the latent space.

A prior is a module (so that learned priors, such as a mixture or the
VampPrior, can hold parameters) with three calls: ``log_prob``, ``sample`` and
``kl`` against a posterior. ``kl`` falls back to a one-sample Monte Carlo
estimate, log q(z|x) - log p(z), so a new prior only has to define
``log_prob`` and ``sample``; the standard normal overrides it with the closed
form.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

from vaelab.distributions import DiagonalGaussian
from vaelab.registry import Registry

PRIORS: Registry[type["Prior"]] = Registry("prior")


class Prior(nn.Module):
    """Base class of priors over a ``latent_dim``-dimensional latent space."""

    name: str = ""

    def __init__(self, latent_dim: int) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        # follows .to(device), so that samples are drawn where the model lives
        self.register_buffer("_anchor", torch.empty(0), persistent=False)

    def log_prob(self, z: Tensor) -> Tensor:
        """log p(z), (..., D) -> (...)."""
        raise NotImplementedError

    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """Draw ``n`` latent codes, shape (n, D)."""
        raise NotImplementedError

    def kl(self, posterior: DiagonalGaussian, z: Tensor) -> Tensor:
        """KL(q(z|x) || p(z)) per example, shape (B,).

        The default is the one-sample estimate log q(z|x) - log p(z) at the
        reparameterized draw ``z`` of shape (B, D).
        """
        return posterior.log_prob(z) - self.log_prob(z)

    def config(self) -> dict[str, Any]:
        """JSON-able description from which :func:`build_prior` rebuilds the prior."""
        return {"name": self.name}


@PRIORS.register("standard_normal")
class StandardNormal(Prior):
    """p(z) = N(0, I)."""

    name = "standard_normal"

    def log_prob(self, z: Tensor) -> Tensor:
        return -0.5 * (z**2 + math.log(2.0 * math.pi)).sum(-1)

    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        return torch.randn(n, self.latent_dim, generator=generator, device=self._anchor.device)

    def kl(self, posterior: DiagonalGaussian, z: Tensor) -> Tensor:
        # closed form (Kingma & Welling 2014, Appendix B), exact rather than estimated
        return posterior.kl_standard_normal().sum(-1)


def build_prior(spec: str | dict[str, Any] | Prior, latent_dim: int) -> Prior:
    """Build a prior from a registered name, a config dict or an instance."""
    if isinstance(spec, Prior):
        return spec
    if isinstance(spec, str):
        spec = {"name": spec}
    options = {k: v for k, v in spec.items() if k != "name"}
    return PRIORS.get(spec["name"])(latent_dim, **options)
