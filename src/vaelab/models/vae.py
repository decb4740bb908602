"""The variational autoencoder (Kingma & Welling 2014; Rezende et al. 2014).

Generative model p(z) p(x|z), inference model q(z|x) = N(mu(x), diag sigma^2(x)),
trained by maximizing the evidence lower bound

    ELBO(x) = E_q[log p(x|z)] - KL(q(z|x) || p(z))   <= log p(x)

with the reparameterization trick z = mu + sigma * eps, eps ~ N(0, I). ``beta``
weights the KL term (Higgins et al. 2017); beta = 1 is the true bound. A
schedule changes ``model.beta`` during training; a new prior is a new
:class:`~vaelab.priors.Prior`, not a new model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from vaelab.distributions import DiagonalGaussian
from vaelab.models.autoencoder import AutoencoderConfig, AutoencoderModel
from vaelab.models.base import MODELS, ModelOutput
from vaelab.priors import build_prior


@dataclass(frozen=True)
class VAEConfig(AutoencoderConfig):
    """Architecture of a VAE: an autoencoder's plus the prior and the KL weight.

    Parameters
    ----------
    prior : dict
        Prior config, e.g. ``{"name": "standard_normal"}``.
    beta : float
        Weight of the KL term in the loss (1.0 gives the ELBO).
    """

    likelihood: dict[str, Any] = field(default_factory=lambda: {"name": "bernoulli"})
    prior: dict[str, Any] = field(default_factory=lambda: {"name": "standard_normal"})
    beta: float = 1.0


@MODELS.register("VAEModel")
class VAEModel(AutoencoderModel):
    """A VAE: the autoencoder with a Gaussian encoder and a prior."""

    config_class = VAEConfig
    encoder_outputs = 2  # mean and log-variance per latent dimension

    def __init__(self, config: VAEConfig) -> None:
        super().__init__(config)
        self.prior = build_prior(config.prior, config.latent_dim)
        self.beta = float(config.beta)  # a plain attribute, so schedules may change it

    def encode(self, x: Tensor, c: Tensor | None = None) -> DiagonalGaussian:
        """(B, *input_shape) [, condition (B, K)] -> q(z|x[, c]) with mean and log-variance of shape (B, D)."""
        mean, log_var = self.encoder_features(x, c).chunk(2, dim=-1)
        return DiagonalGaussian(mean, log_var)

    def elbo_terms(
        self, x: Tensor, c: Tensor | None = None, *, generator: torch.Generator | None = None
    ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """Per-example terms of the ELBO from one posterior draw (given the condition ``c`` of a conditional model).

        Returns
        -------
        log_px_z : Tensor of shape (B,)
            log p(x|z) at z ~ q(z|x).
        kl : Tensor of shape (B,)
            KL(q(z|x) || p(z)) (closed form for the standard normal prior).
        z : Tensor of shape (B, D)
        params : Tensor of shape (B, *param_shape)
        """
        posterior = self.encode(x, c)
        z = posterior.rsample(generator=generator)
        params = self.decode(z, c)
        return self.likelihood.log_prob(x, params), self.prior.kl(posterior, z), z, params

    def elbo(self, x: Tensor, c: Tensor | None = None, *, generator: torch.Generator | None = None) -> Tensor:
        """ELBO per example in nats (one-sample estimate), shape (B,)."""
        log_px_z, kl, _, _ = self.elbo_terms(x, c, generator=generator)
        return log_px_z - kl

    def forward(self, x: Tensor, c: Tensor | None = None, *, generator: torch.Generator | None = None) -> ModelOutput:
        log_px_z, kl, z, params = self.elbo_terms(x, c, generator=generator)
        reconstruction, kl = -log_px_z.mean(), kl.mean()
        return ModelOutput(loss=reconstruction + self.beta * kl, reconstruction=reconstruction, kl=kl, z=z, params=params)

    def sample(self, n: int, c: Tensor | None = None, *, generator: torch.Generator | None = None) -> Tensor:
        """Decode ``n`` draws from the prior (given conditions ``c`` of shape (n, K)); E[x|z] of shape (n, *input_shape)."""
        return self.decode_mean(self.prior.sample(n, generator=generator), c)
