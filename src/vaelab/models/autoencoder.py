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
from vaelab.errors import InputError
from vaelab.likelihoods import build_likelihood
from vaelab.models.base import MODELS, Model, ModelOutput
from vaelab.nn import NetworkConfig, build_decoder, build_encoder
from vaelab.nn.conditioning import ConditionedDecoder, ConditionedEncoder, check_condition


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
    condition_dim : int
        Size K of the condition vector c (0: unconditional). With K > 0 the
        encoder sees (x, c) and the decoder (z, c) (see :mod:`vaelab.nn.conditioning`).
    """

    input_shape: tuple[int, ...]
    latent_dim: int
    network: NetworkConfig = field(default_factory=NetworkConfig)
    likelihood: dict[str, Any] = field(default_factory=lambda: {"name": "gaussian"})
    condition_dim: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.condition_dim, bool) or not isinstance(self.condition_dim, int) or self.condition_dim < 0:
            raise InputError(f"condition_dim must be an int >= 0 (0: unconditional), got {self.condition_dim!r}")


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
        out_dim, k = self.encoder_outputs * config.latent_dim, config.condition_dim
        if k == 0:
            self.encoder = build_encoder(config.network, config.input_shape, out_dim)
            self.decoder = build_decoder(config.network, config.latent_dim, param_shape)
        else:
            self.encoder = ConditionedEncoder(config.network, config.input_shape, out_dim, k)
            self.decoder = ConditionedDecoder(config.network, config.latent_dim, param_shape, k)

    @property
    def condition_dim(self) -> int:
        return self.config.condition_dim

    def encoder_features(self, x: Tensor, c: Tensor | None = None) -> Tensor:
        """The encoder's raw output (B, encoder_outputs * D) for x (and the condition c (B, K))."""
        c = check_condition(c, self.config.condition_dim, x.shape[0])
        return self.encoder(x) if c is None else self.encoder(x, c)

    def encode(self, x: Tensor, c: Tensor | None = None) -> PointMass:
        """(B, *input_shape) [, (B, K)] -> codes (B, D) as a point mass."""
        return PointMass(self.encoder_features(x, c))

    def decode(self, z: Tensor, c: Tensor | None = None) -> Tensor:
        """(B, D) [, (B, K)] -> the likelihood's raw parameters (B, *param_shape)."""
        c = check_condition(c, self.config.condition_dim, z.shape[0])
        return self.decoder(z) if c is None else self.decoder(z, c)

    def decode_mean(self, z: Tensor, c: Tensor | None = None) -> Tensor:
        return self.likelihood.mean(self.decode(z, c))

    def forward(self, x: Tensor, c: Tensor | None = None, *, generator: torch.Generator | None = None) -> ModelOutput:
        z = self.encode(x, c).mean
        params = self.decode(z, c)
        nll = -self.likelihood.log_prob(x, params)  # (B,)
        loss = nll.mean()
        return ModelOutput(loss=loss, reconstruction=loss, z=z, params=params)
