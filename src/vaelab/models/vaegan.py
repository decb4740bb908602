"""The VAE-GAN (Larsen, Sønderby, Larochelle & Winther 2016): a VAE whose reconstructions are judged by a critic.

A VAE (encoder q(z|x), decoder/generator Dec, prior p(z)) plus a discriminator
Dis. Reconstruction error is measured in the discriminator's hidden features
Dis_l instead of pixels (a Gaussian observation model in feature space, their
Eq. 5), and the discriminator is trained to tell data from reconstructions
x~ = Dec(z), z ~ q(z|x), and prior samples x_p = Dec(z_p), z_p ~ p(z):

    L_prior = KL(q(z|x) || p(z))
    L_llike = 1/2 ||Dis_l(x~) - Dis_l(x)||^2                       (per example, summed over features)
    L_GAN   = log Dis(x) + log(1 - Dis(x~)) + log(1 - Dis(x_p))

and three players move by their own losses (Larsen et al., Algorithm 1):

    encoder        <- grad of  beta * L_prior + L_llike
    decoder        <- grad of  gamma * L_llike - a * L_GAN (non-saturating: -log Dis(x~) - log Dis(x_p))
    discriminator  <- grad of  -L_GAN                       (binary cross-entropy, data = 1)

Update rule (the balance of Larsen et al.'s released code): with
``balance`` on, the discriminator skips a step while it is winning, that is
while its mean cross-entropy on the data or on the fakes is below
``equilibrium - margin`` (0.68 - 0.35 nats; chance is log 2 = 0.69), and the
decoder drops its GAN term while the discriminator is losing (either
cross-entropy above ``equilibrium + margin``); if both would pause, both
train. The decisions are taken from the batch's own losses, so a resumed run
takes the same ones. What the discriminator sees of a decoded batch is
``critic_input``: the means E[x|z] (Larsen et al.), or draws x ~ p(x|z) that
carry the means' gradient (a straight-through estimate), so that on binary
data it compares binary images with binary images. ``pixel_weight`` > 0 adds the decoder likelihood's
-log p(x|z) to the encoder's and decoder's losses (0 in the paper, 1 by default here). That term is a sum over
pixels (about 100 nats on MNIST) against a GAN loss of about 1.4 nats, so ``adversarial_weight`` (a, 1 in the
paper) scales the decoder's GAN term. The model declares the three
optimizer groups and their losses (:mod:`vaelab.training.optimizers`), so the
trainer trains it without knowing what it is. ``forward``'s ``loss`` is the
encoder's objective, beta * KL + feature reconstruction (what validation
tracks); ``reconstruction`` is the pixel -log p(x|z) for comparison with VAEs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from vaelab.errors import InputError
from vaelab.models.base import MODELS, ModelOutput
from vaelab.models.vae import VAEConfig, VAEModel
from vaelab.nn.discriminator import Discriminator

GROUPS = ("encoder", "decoder", "discriminator")
CRITIC_INPUTS = ("mean", "draw")


def feature_reconstruction(features_recon: Tensor, features_real: Tensor) -> Tensor:
    """-log N(Dis_l(x) | Dis_l(x~), I) up to its constant: 1/2 sum_f (a_f - b_f)^2 per example, (B, F) -> (B,)."""
    return 0.5 * (features_recon - features_real).pow(2).sum(1)


def discriminator_loss(logit_real: Tensor, *logits_fake: Tensor) -> Tensor:
    """-L_GAN for the discriminator, per example: -log D(x) - sum_fakes log(1 - D(x_fake)), shapes (B,) -> (B,)."""
    loss = F.binary_cross_entropy_with_logits(logit_real, torch.ones_like(logit_real), reduction="none")
    for logit in logits_fake:
        loss = loss + F.binary_cross_entropy_with_logits(logit, torch.zeros_like(logit), reduction="none")
    return loss


def balance(real_bce: float, fake_bce: float, equilibrium: float, margin: float) -> tuple[bool, bool]:
    """(train the discriminator, train the decoder's GAN term) from the discriminator's mean cross-entropies."""
    train_dis = not (real_bce < equilibrium - margin or fake_bce < equilibrium - margin)
    train_gen = not (real_bce > equilibrium + margin or fake_bce > equilibrium + margin)
    if not (train_dis or train_gen):
        return True, True
    return train_dis, train_gen


def generator_loss(*logits_fake: Tensor) -> Tensor:
    """The generator's non-saturating GAN loss per example: -sum_fakes log D(x_fake), shapes (B,) -> (B,)."""
    return sum(F.binary_cross_entropy_with_logits(l, torch.ones_like(l), reduction="none") for l in logits_fake)


@dataclass(frozen=True)
class VAEGANConfig(VAEConfig):
    """A VAE's architecture plus the discriminator and the weights of the three losses.

    Parameters
    ----------
    discriminator_dims : tuple of int
        Channels of the discriminator's stride-2 convolutions (images) or hidden widths (vectors).
    feature_dim : int
        Width of Dis_l, the discriminator's feature layer where reconstructions are compared.
    gamma : float
        Weight of the feature reconstruction against the GAN loss in the decoder's loss.
    adversarial_weight : float
        Weight a of the GAN term in the decoder's loss (1 in Larsen et al.).
    pixel_weight : float
        Weight of the pixel -log p(x|z) added to the encoder's and decoder's losses (0: Larsen et al.;
        see :mod:`vaelab.estimators.vaegan` for why the default is 1).
    discriminator_lr_scale : float
        The discriminator's learning rate relative to the trainer's.
    balance : bool
        Pause the winning player (see the module docstring).
    equilibrium, margin : float
        The balance's thresholds, nats of the discriminator's cross-entropy.
    """

    discriminator_dims: tuple[int, ...] = (32, 64)
    feature_dim: int = 256
    gamma: float = 1.0
    adversarial_weight: float = 1.0
    pixel_weight: float = 1.0
    discriminator_lr_scale: float = 1.0
    balance: bool = True
    critic_input: str = "mean"
    equilibrium: float = 0.68
    margin: float = 0.35

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "discriminator_dims", tuple(self.discriminator_dims))
        if self.condition_dim:
            raise InputError("the VAE-GAN is unconditional: condition_dim must be 0")
        if not self.discriminator_dims or any(d < 1 for d in self.discriminator_dims) or self.feature_dim < 1:
            raise InputError(
                f"discriminator_dims must be positive integers and feature_dim >= 1, got "
                f"{self.discriminator_dims} and {self.feature_dim}"
            )
        for name in ("gamma", "adversarial_weight", "pixel_weight"):
            if not getattr(self, name) >= 0:
                raise InputError(f"{name} must be >= 0, got {getattr(self, name)!r}")
        if self.critic_input not in CRITIC_INPUTS:
            raise InputError(f"critic_input must be one of {CRITIC_INPUTS}, got {self.critic_input!r}")
        if not self.discriminator_lr_scale > 0:
            raise InputError(f"discriminator_lr_scale must be > 0, got {self.discriminator_lr_scale!r}")


@MODELS.register("VAEGANModel")
class VAEGANModel(VAEModel):
    """A VAE with a discriminator, trained by three optimizers (see the module docstring)."""

    config_class = VAEGANConfig

    def __init__(self, config: VAEGANConfig) -> None:
        super().__init__(config)
        self.discriminator = Discriminator(config.input_shape, config.discriminator_dims, config.feature_dim)

    def optimizer_groups(self) -> dict[str, dict[str, Any]]:
        """The three players in step order, with Adam's betas of GAN training (Radford et al. 2016).

        A learned prior's parameters (the VampPrior's pseudo-inputs) move with the encoder, whose loss holds
        the KL term; a likelihood's own parameters (a learned scale) move with the decoder.
        """
        betas = (0.5, 0.999)
        return {
            "encoder": {"params": [*self.encoder.parameters(), *self.prior.parameters()], "betas": betas},
            "decoder": {"params": [*self.decoder.parameters(), *self.likelihood.parameters()], "betas": betas},
            "discriminator": {
                "params": list(self.discriminator.parameters()),
                "betas": betas,
                "lr_scale": self.config.discriminator_lr_scale,
            },
        }

    def group_losses(self, output: ModelOutput) -> dict[str, Tensor]:
        """The losses of the players that train this step (the discriminator's is left out while it pauses)."""
        losses = {name: output.extra[f"{name}_loss"] for name in GROUPS}
        if float(output.extra["train_discriminator"]) == 0.0:
            del losses["discriminator"]
        return losses

    def _critic_view(self, params: Tensor, generator: torch.Generator | None) -> Tensor:
        """What the discriminator sees of a decoded batch: E[x|z], or a draw x ~ p(x|z) with E[x|z]'s gradient.

        The draw is a straight-through estimate (Bengio et al. 2013): its value is the sample, its gradient
        that of the mean. On binary data it lets the critic compare binary images with binary images instead
        of learning that grey means are fake.
        """
        mean = self.likelihood.mean(params)
        if self.config.critic_input == "mean":
            return mean
        draw = self.likelihood.sample(params, generator=generator).detach()
        return draw + (mean - mean.detach())  # the value exactly draw (the bracket is 0), the gradient the mean's

    def forward(self, x: Tensor, c: Tensor | None = None, *, generator: torch.Generator | None = None) -> ModelOutput:
        cfg = self.config
        posterior = self.encode(x, c)
        z = posterior.rsample(generator=generator)  # (B, D)
        kl = self.prior.kl(posterior, z)  # (B,)
        params = self.decode(z, c)
        x_recon = self._critic_view(params, generator)  # (B, *input_shape)
        x_prior = self._critic_view(self.decode(self.prior.sample(x.shape[0], generator=generator), c), generator)
        logit_real, f_real = self.discriminator(x)
        logit_recon, f_recon = self.discriminator(x_recon)
        logit_prior, _ = self.discriminator(x_prior)

        pixel = -self.likelihood.log_prob(x, params).mean()
        feature = feature_reconstruction(f_recon, f_real).mean()
        kl_mean = kl.mean()
        gan_gen = generator_loss(logit_recon, logit_prior).mean()
        gan_dis = discriminator_loss(logit_real, logit_recon, logit_prior).mean()
        train_dis, train_gen = True, True
        if cfg.balance and self.training:
            real_bce = float(discriminator_loss(logit_real.detach()).mean())
            fake_bce = float(generator_loss(-logit_recon.detach(), -logit_prior.detach()).mean()) / 2
            train_dis, train_gen = balance(real_bce, fake_bce, cfg.equilibrium, cfg.margin)
        encoder_loss = self.beta * kl_mean + feature + cfg.pixel_weight * pixel
        decoder_loss = cfg.gamma * feature + cfg.pixel_weight * pixel
        if train_gen:
            decoder_loss = decoder_loss + cfg.adversarial_weight * gan_gen
        extra = {
            "feature_reconstruction": feature,
            "generator_gan": gan_gen,
            "discriminator_gan": gan_dis,
            "encoder_loss": encoder_loss,
            "decoder_loss": decoder_loss,
            "discriminator_loss": gan_dis,
            "train_discriminator": logit_real.new_tensor(float(train_dis)),
            "train_generator": logit_real.new_tensor(float(train_gen)),
        }
        return ModelOutput(loss=encoder_loss, reconstruction=pixel, kl=kl_mean, z=z, params=params, extra=extra)
