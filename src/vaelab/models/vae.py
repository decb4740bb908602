"""The variational autoencoder (Kingma & Welling 2014; Rezende et al. 2014).

Generative model p(z) p(x|z), inference model q(z|x) = N(mu(x), diag sigma^2(x)),
trained by maximizing the evidence lower bound

    ELBO(x) = E_q[log p(x|z)] - KL(q(z|x) || p(z))   <= log p(x)

with the reparameterization trick z = mu + sigma * eps, eps ~ N(0, I). ``beta``
weights the KL term (Higgins et al. 2017); beta = 1 is the true bound. A
schedule changes ``model.beta`` (and ``model.capacity``) during training; a new
prior is a new :class:`~vaelab.priors.Prior`, not a new model.

The loss is a strategy too: ``forward`` delegates to the objective of
``config.objective`` (:mod:`vaelab.objectives`: the ELBO with free bits or a
TC weight, the IWAE bound), which asks the model for its terms through
:meth:`VAEModel.elbo_parts` and :meth:`VAEModel.importance_terms`. The
importance sampler of the IS-NLL (:mod:`vaelab.metrics.bounds`) uses the same
``importance_terms``, so a model with another latent structure (two stochastic
layers, :mod:`vaelab.models.hierarchical`) overrides those two methods and
gets every objective and bound.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from vaelab.distributions import DiagonalGaussian
from vaelab.errors import InputError
from vaelab.models.autoencoder import AutoencoderConfig, AutoencoderModel
from vaelab.models.base import MODELS, ModelOutput
from vaelab.objectives import ElboParts, JointLogProbs, build_objective
from vaelab.priors import StandardNormal, build_prior


@dataclass(frozen=True)
class VAEConfig(AutoencoderConfig):
    """Architecture of a VAE: an autoencoder's plus the prior and the KL weight.

    Parameters
    ----------
    prior : dict
        Prior config, e.g. ``{"name": "standard_normal"}``.
    beta : float
        Weight of the KL term in the loss (1.0 gives the ELBO).
    objective : dict
        The training objective, e.g. ``{"name": "elbo", "free_bits": 0.25}`` or
        ``{"name": "iwae", "k": 5, "gradient": "dreg"}`` (see :mod:`vaelab.objectives`).
    """

    likelihood: dict[str, Any] = field(default_factory=lambda: {"name": "bernoulli"})
    prior: dict[str, Any] = field(default_factory=lambda: {"name": "standard_normal"})
    beta: float = 1.0
    objective: dict[str, Any] = field(default_factory=lambda: {"name": "elbo"})


@MODELS.register("VAEModel")
class VAEModel(AutoencoderModel):
    """A VAE: the autoencoder with a Gaussian encoder and a prior."""

    config_class = VAEConfig
    encoder_outputs = 2  # mean and log-variance per latent dimension
    supports_dreg = True  # _draw honours on_sample and detach_posterior, as DReG needs

    def __init__(self, config: VAEConfig) -> None:
        super().__init__(config)
        self.prior = build_prior(config.prior, self.prior_latent_dim)
        if self.condition_dim and self.prior.name == "vamp":
            raise InputError(
                "prior 'vamp' mixes the encoder's posteriors of learned inputs, and a conditional model's encoder "
                "also needs a condition; use prior='mog' or 'standard_normal' with conditional=True"
            )
        self.prior.bind(self)  # a learned prior that needs the model (the VampPrior's encoder) gets it here
        self.objective = build_objective(config.objective)
        self.objective.check_model(self)
        self.beta = float(config.beta)  # a plain attribute, so schedules may change it
        self.capacity: float | None = None  # a KL target C, set by the capacity schedule

    @property
    def prior_latent_dim(self) -> int:
        """Size of the latent the prior p(z) is over (the top layer's)."""
        return self.config.latent_dim

    def encode(self, x: Tensor, c: Tensor | None = None) -> DiagonalGaussian:
        """(B, *input_shape) [, condition (B, K)] -> q(z|x[, c]) with mean and log-variance of shape (B, D)."""
        return DiagonalGaussian.from_params(self.encoder_features(x, c))

    def code_log_prior(self, z: Tensor) -> Tensor:
        """log p(z) of codes of the shape ``encode`` gives, (..., D) -> (...) (for the aggregate-posterior metrics)."""
        return self.prior.log_prob(z)

    def prior_posterior(self, x: Tensor) -> DiagonalGaussian:
        """q(z|x) over the prior's latent, (B, *input_shape) -> (B, prior_latent_dim): what the VampPrior mixes."""
        return self.encode(x)

    def elbo_parts(
        self, x: Tensor, c: Tensor | None = None, *, generator: torch.Generator | None = None
    ) -> ElboParts:
        """The one-draw ELBO's terms (given the condition ``c`` of a conditional model), the KL per latent dimension
        where the prior allows it.

        Returns
        -------
        ElboParts: ``kl`` of shape (B, D) for a standard normal prior over this
        latent (closed form), else (B, 1), the estimate log q(z|x) - log p(z)
        at the draw.
        """
        if isinstance(self.prior, StandardNormal) and self.prior_latent_dim == self.latent_dim:
            # the KL in closed form (Kingma & Welling 2014, Appendix B), (B, D): the draw's log q(z|x) and
            # log p(z) are not needed, so they are not computed (the same draws as _draw's)
            posterior, z, log_px_z, params = self._decoded_draws(x, 1, generator, c=c)
            return ElboParts(log_px_z[0], posterior.kl_standard_normal(), z[0], params, posterior, None)
        terms, z, params, posterior = self._draw(x, 1, generator, c=c)
        kl = (terms.log_qz - terms.log_pz).view(-1, 1)  # (B, 1)
        return ElboParts(terms.log_px_z[0], kl, z[0], params, posterior, terms.log_pz[0])

    def importance_terms(
        self,
        x: Tensor,
        k: int,
        c: Tensor | None = None,
        *,
        generator: torch.Generator | None = None,
        posterior: DiagonalGaussian | None = None,
        detach_posterior: bool = False,
        on_sample: Callable[[Tensor], Tensor] | None = None,
    ) -> JointLogProbs:
        """log p(x|z), log p(z) and log q(z|x) of k draws z ~ q(z|x) per example, each (k, B).

        Parameters
        ----------
        x : Tensor of shape (B, *input_shape)
        k : int
            Draws per example; decoded in one call of k * B rows.
        c : Tensor of shape (B, K), optional
            The condition of a conditional model.
        posterior : DiagonalGaussian, optional
            q(z|x) if already computed (the IS-NLL encodes once for many chunks).
        detach_posterior : bool
            Evaluate log q with its parameters cut from the graph (DReG).
        on_sample : callable, optional
            Applied to the draws (k, B, D) before they are used (DReG's hook).
        """
        return self._draw(x, k, generator, posterior, on_sample, detach_posterior, c=c)[0]

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
        """k draws per example: the log terms (k, B), the codes (k, B, D), decoder output (k*B, *P) and q(z|x).

        A model with another latent structure overrides this one method.
        """
        q, z, log_px_z, params = self._decoded_draws(x, k, generator, posterior, on_sample, c)
        log_qz = (q.detach() if detach_posterior else q).log_prob(z)
        return JointLogProbs(log_px_z, self.prior.log_prob(z), log_qz), z, params, q

    def _decoded_draws(
        self,
        x: Tensor,
        k: int,
        generator: torch.Generator | None,
        posterior: DiagonalGaussian | None = None,
        on_sample: Callable[[Tensor], Tensor] | None = None,
        c: Tensor | None = None,
    ) -> tuple[DiagonalGaussian, Tensor, Tensor, Tensor]:
        """q(z|x), k draws z (k, B, D) from it, log p(x|z) of each (k, B) and the decoder output (k*B, *P)."""
        b = x.shape[0]
        q = self.encode(x, c) if posterior is None else posterior
        z = q.rsample((k,), generator=generator)  # (k, B, D)
        if on_sample is not None:
            z = on_sample(z)
        log_px_z, params = self._decode_draws(x, z.reshape(k * b, -1), c)
        return q, z, log_px_z, params

    def _decode_draws(self, x: Tensor, z: Tensor, c: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """log p(x|z) of k codes per example, (k*B, D) -> (k, B), in one decoder call; and its output (k*B, *P)."""
        b = x.shape[0]
        k = z.shape[0] // b
        c_rep = None if c is None else c.expand(k, *c.shape).reshape(k * b, *c.shape[1:])
        params = self.decode(z, c_rep)
        x_rep = x.expand(k, *x.shape).reshape(k * b, *x.shape[1:])
        return self.likelihood.log_prob(x_rep, params).view(k, b), params

    def elbo(self, x: Tensor, c: Tensor | None = None, *, generator: torch.Generator | None = None) -> Tensor:
        """ELBO per example in nats (one-sample estimate), shape (B,)."""
        parts = self.elbo_parts(x, c, generator=generator)
        return parts.log_px_z - parts.kl.sum(-1)

    def forward(self, x: Tensor, c: Tensor | None = None, *, generator: torch.Generator | None = None) -> ModelOutput:
        """The objective's loss and terms for the batch ``x`` [given ``c``] (see :mod:`vaelab.objectives`)."""
        return self.objective(self, x, c, generator=generator)

    def sample_codes(self, n: int, *, generator: torch.Generator | None = None) -> Tensor:
        """``n`` codes the decoder takes, drawn from the generative model: (n, D)."""
        return self.prior.sample(n, generator=generator)

    def sample(self, n: int, c: Tensor | None = None, *, generator: torch.Generator | None = None) -> Tensor:
        """Decode ``n`` draws from the prior (given conditions ``c`` of shape (n, K)); E[x|z] of shape (n, *input_shape)."""
        return self.decode_mean(self.sample_codes(n, generator=generator), c)
