"""The deterministic autoencoder: x -> z = f(x) -> p(x | g(z)).

Trained by maximum likelihood of the reconstruction alone (with a Gaussian
likelihood of fixed unit scale this is half the squared error, plus a constant).
It is the non-linear baseline that every VAE result is judged against.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from vaelab.distributions import PointMass
from vaelab.likelihoods import build_likelihood
from vaelab.models.base import MODELS, Model, ModelOutput
from vaelab.nn import NetworkConfig, build_decoder, build_encoder


@dataclass(frozen=True)
class AutoencoderConfig:
    """Architecture of an autoencoder.

    Parameters
    ----------
    input_shape : tuple of int
        Shape of one example, e.g. ``(784,)`` or ``(1, 28, 28)``.
    latent_dim : int
        Size of the code.
    network : NetworkConfig
        Encoder/decoder architecture.
    likelihood : dict
        Likelihood config, e.g. ``{"name": "bernoulli"}``.
    """

    input_shape: tuple[int, ...]
    latent_dim: int
    network: NetworkConfig = field(default_factory=NetworkConfig)
    likelihood: dict[str, Any] = field(default_factory=lambda: {"name": "gaussian"})


@MODELS.register("AutoencoderModel")
class AutoencoderModel(Model):
    """Deterministic encoder and decoder with an explicit likelihood.

    ``encode`` returns a :class:`~vaelab.distributions.PointMass`, so code that
    works on a VAE's posterior (``.mean``, ``.rsample()``) works here too.
    """

    config_class = AutoencoderConfig
    encoder_outputs = 1  # features per latent dimension the encoder emits

    def __init__(self, config: AutoencoderConfig) -> None:
        super().__init__(config)
        self.likelihood = build_likelihood(config.likelihood)
        param_shape = self.likelihood.param_shape(config.input_shape)
        self.encoder = build_encoder(config.network, config.input_shape, self.encoder_outputs * config.latent_dim)
        self.decoder = build_decoder(config.network, config.latent_dim, param_shape)

    def encode(self, x: Tensor) -> PointMass:
        """(B, *input_shape) -> codes (B, D) as a point mass."""
        return PointMass(self.encoder(x))

    def decode(self, z: Tensor) -> Tensor:
        """(B, D) -> the likelihood's raw parameters (B, *param_shape)."""
        return self.decoder(z)

    def decode_mean(self, z: Tensor) -> Tensor:
        return self.likelihood.mean(self.decode(z))

    def forward(self, x: Tensor, *, generator: torch.Generator | None = None) -> ModelOutput:
        z = self.encode(x).mean
        params = self.decode(z)
        nll = -self.likelihood.log_prob(x, params)  # (B,)
        loss = nll.mean()
        return ModelOutput(loss=loss, reconstruction=loss, z=z, params=params)
