"""A VAE with two stochastic layers (Burda et al. 2016, Section 5; their MNIST architecture).

Generative model and inference model mirror each other:

    p(x, z1, z2) = p(z2) p(z1|z2) p(x|z1)          q(z1, z2 | x) = q(z1|x) q(z2|z1)

with diagonal Gaussians p(z1|z2), q(z1|x), q(z2|z1) whose means and
log-variances come from MLPs, and p(z2) the configured prior. Burda et al.
use x -> two tanh layers of 200 -> z1 (100 units) -> two tanh layers of 100
-> z2 (50 units): the x <-> z1 networks are the model's ``network`` and the
z1 <-> z2 ones are MLPs of ``top_hidden_dims`` with the same activation.

The model is the one-layer :class:`~vaelab.models.vae.VAEModel` with a deeper
latent: it overrides only ``_draw`` (k joint draws of (z1, z2) and their log
densities, behind ``importance_terms`` and ``elbo_parts``) and
:meth:`sample_codes`; the objectives (ELBO, IWAE), the IS-NLL bound, sampling
and save/load are the VAE's. ``encode``/``transform`` give q(z1|x).

References
----------
Burda, Grosse & Salakhutdinov 2016, "Importance Weighted Autoencoders", ICLR, arXiv:1509.00519.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from vaelab.distributions import DiagonalGaussian
from vaelab.errors import InputError
from vaelab.models.base import MODELS
from vaelab.models.vae import VAEConfig, VAEModel
from vaelab.nn import NetworkConfig, build_decoder, build_encoder
from vaelab.objectives import JointLogProbs
from vaelab.priors import mixture_log_prob


@dataclass(frozen=True)
class TwoLayerVAEConfig(VAEConfig):
    """A VAE's config plus the second stochastic layer.

    Parameters
    ----------
    top_latent_dim : int
        Size of z2 (0: half of ``latent_dim``, Burda et al.'s 100 -> 50).
    top_hidden_dims : tuple of int
        Hidden widths of the z1 <-> z2 MLPs (empty: the network's widths
        halved, Burda et al.'s 200 -> 100).
    """

    top_latent_dim: int = 0
    top_hidden_dims: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.condition_dim:
            raise InputError(
                "two stochastic layers are not conditional yet: use stochastic_layers=1 with conditional=True"
            )
        if not self.top_latent_dim:
            object.__setattr__(self, "top_latent_dim", max(1, self.latent_dim // 2))
        if not self.top_hidden_dims:
            object.__setattr__(self, "top_hidden_dims", tuple(max(1, h // 2) for h in self.network.hidden_dims))
        object.__setattr__(self, "top_hidden_dims", tuple(self.top_hidden_dims))
        if self.top_latent_dim < 1:
            raise InputError(f"top_latent_dim must be an integer >= 1, got {self.top_latent_dim!r}")


@MODELS.register("TwoLayerVAEModel")
class TwoLayerVAEModel(VAEModel):
    """Two stochastic layers: p(z2) p(z1|z2) p(x|z1) and q(z1|x) q(z2|z1)."""

    config_class = TwoLayerVAEConfig

    def __init__(self, config: TwoLayerVAEConfig) -> None:
        super().__init__(config)
        net = NetworkConfig(kind="mlp", hidden_dims=config.top_hidden_dims, activation=config.network.activation)
        self.top_encoder = build_encoder(net, (config.latent_dim,), 2 * config.top_latent_dim)  # z1 -> q(z2|z1)
        self.top_decoder = build_decoder(net, config.top_latent_dim, (2 * config.latent_dim,))  # z2 -> p(z1|z2)

    @property
    def prior_latent_dim(self) -> int:
        return self.config.top_latent_dim

    def encode_top(self, z1: Tensor) -> DiagonalGaussian:
        """q(z2|z1): (N, D1) -> Gaussian of shape (N, D2)."""
        return DiagonalGaussian.from_params(self.top_encoder(z1))

    def conditional_prior(self, z2: Tensor) -> DiagonalGaussian:
        """p(z1|z2): (N, D2) -> Gaussian of shape (N, D1)."""
        return DiagonalGaussian.from_params(self.top_decoder(z2))

    def code_log_prior(self, z: Tensor, n_samples: int = 512) -> Tensor:
        """log p(z1) = log E_{z2 ~ p(z2)} p(z1|z2), estimated by a mixture of ``n_samples`` fixed (seeded) draws of z2.

        (..., D1) -> (...); the estimate is exact as ``n_samples`` grows (and low in expectation for finite ones).
        """
        generator = torch.Generator(device=z.device).manual_seed(0)
        p1 = self.conditional_prior(self.prior.sample(n_samples, generator=generator))  # (S, D1)
        uniform = torch.full((n_samples,), -math.log(n_samples), device=z.device, dtype=z.dtype)
        return mixture_log_prob(z, p1.mean.to(z.dtype), p1.log_var.to(z.dtype), uniform)

    def prior_posterior(self, x: Tensor) -> DiagonalGaussian:
        """q(z2 | z1 = E[z1|x]): the posterior over the prior's latent, for the VampPrior."""
        return self.encode_top(self.encode(x).mean)

    def _draw(
        self,
        x: Tensor,
        k: int,
        generator: torch.Generator | None,
        posterior: DiagonalGaussian | None = None,
        on_sample: Callable[[Tensor], Tensor] | None = None,
        detach_posterior: bool = False,
        c: Tensor | None = None,
    ) -> tuple[JointLogProbs, Tensor, Tensor, DiagonalGaussian]:
        """k joint draws (z1, z2) per example: log terms (k, B), z1 (k, B, D1), decoder output (k*B, *P), q(z1|x).

        ``on_sample`` (DReG's weight hook) is applied to the copies of z1 and z2 that enter log w, not to the
        z1 that q(z2|z1) is sampled from, so the path z2 -> z1 -> encoder is weighted once; with
        ``detach_posterior`` both log q factors are evaluated with the encoders' parameters cut from the
        graph (q(z2|z1) through ``torch.func.functional_call``), the draws still differentiable.
        """
        b = x.shape[0]
        q1 = self.encode(x) if posterior is None else posterior
        z1 = q1.rsample((k,), generator=generator)  # (k, B, D1)
        q2 = self.encode_top(z1.reshape(k * b, -1))  # (k*B, D2)
        z2 = q2.rsample(generator=generator).view(k, b, -1)  # (k, B, D2)
        if on_sample is not None:
            z1, z2 = on_sample(z1), on_sample(z2)  # the copies log w is computed from
        flat1, flat2 = z1.reshape(k * b, -1), z2.reshape(k * b, -1)
        if detach_posterior:
            frozen = {name: p.detach() for name, p in self.top_encoder.named_parameters()}
            q1 = q1.detach()
            q2 = DiagonalGaussian.from_params(torch.func.functional_call(self.top_encoder, frozen, (flat1,)))
        log_qz = q1.log_prob(z1) + q2.log_prob(flat2).view(k, b)
        log_pz = (self.conditional_prior(flat2).log_prob(flat1) + self.prior.log_prob(flat2)).view(k, b)
        log_px_z, params = self._decode_draws(x, flat1)
        return JointLogProbs(log_px_z, log_pz, log_qz), z1, params, q1

    def sample_codes(self, n: int, *, generator: torch.Generator | None = None) -> Tensor:
        """z2 ~ p(z2), then z1 ~ p(z1|z2): (n, D1)."""
        z2 = self.prior.sample(n, generator=generator)
        return self.conditional_prior(z2).sample(generator=generator)
