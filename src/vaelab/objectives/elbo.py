"""The ELBO objective and its collapse remedies: free bits, a capacity target, a TC weight.

    loss = -E_q[log p(x|z)] + beta * R(KL) + (tc_beta - 1) * TC

- ``beta`` is ``model.beta`` (Higgins et al. 2017), which a KL schedule may
  change at every step (:mod:`vaelab.training.schedules`);
- R is the identity, or with ``free_bits`` = lambda > 0 the free-bits floor
  sum_j max(lambda, E_batch KL_j) (Kingma et al. 2016, Appendix C), and with a
  capacity target C (``model.capacity``, set by the capacity schedule)
  |R - C| (Burgess et al. 2018, eq. 8; ``beta`` plays their gamma);
- TC is the total correlation of the aggregate posterior estimated on the
  batch (Chen et al. 2018, beta-TCVAE); ``tc_beta = 1`` is the plain ELBO.

References
----------
Kingma et al. 2016, "Improved Variational Inference with Inverse Autoregressive Flow", NeurIPS, arXiv:1606.04934.
Burgess et al. 2018, "Understanding disentangling in beta-VAE", arXiv:1804.03599.
Chen et al. 2018, "Isolating Sources of Disentanglement in VAEs", NeurIPS, arXiv:1802.04942.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from vaelab.errors import InputError
from vaelab.model_output import ModelOutput
from vaelab.objectives.base import OBJECTIVES, Objective
from vaelab.objectives.tc import kl_decomposition


def free_bits_kl(kl: Tensor, floor: float) -> Tensor:
    """The free-bits KL term: sum over groups g of max(floor, mean over the batch of KL_g).

    Kingma et al. 2016, Appendix C: a group whose batch-mean KL is below the
    floor contributes the constant ``floor`` (so no gradient pushes it further
    down); above the floor it contributes its KL unchanged.

    Parameters
    ----------
    kl : Tensor of shape (B, G)
        KL per example and group (a group per latent dimension, or one).
    floor : float
        lambda, in nats per group.

    Returns
    -------
    Tensor, scalar
    """
    return kl.mean(0).clamp(min=floor).sum()


def capacity_penalty(kl: Tensor, capacity: float) -> Tensor:
    """|KL - C|, Burgess et al. 2018, eq. 8 (the weight gamma is applied by the caller)."""
    return (kl - capacity).abs()


@OBJECTIVES.register("elbo")
@dataclass(frozen=True)
class ELBO(Objective):
    """The (weighted) evidence lower bound with optional free bits and a total-correlation weight.

    Parameters
    ----------
    free_bits : float
        lambda >= 0, the KL floor per latent dimension in nats (per group: one
        group for priors without a per-dimension closed form); 0 turns it off.
    tc_beta : float
        Weight of the total-correlation term (beta-TCVAE); 1.0 is the ELBO.
    dataset_size : int
        Examples in the training set, for the minibatch-weighted TC estimate;
        the estimator sets it at fit time (0: the batch is taken as the data set).
    """

    free_bits: float = 0.0
    tc_beta: float = 1.0
    dataset_size: int = 0
    name = "elbo"

    def __post_init__(self) -> None:
        if isinstance(self.free_bits, bool) or not isinstance(self.free_bits, (int, float)) or not self.free_bits >= 0:
            raise InputError(f"free_bits must be a number of nats >= 0 (0 turns it off), got {self.free_bits!r}")
        if isinstance(self.tc_beta, bool) or not isinstance(self.tc_beta, (int, float)) or not self.tc_beta >= 0:
            raise InputError(f"tc_beta must be a number >= 0 (1.0 is the plain ELBO), got {self.tc_beta!r}")
        if isinstance(self.dataset_size, bool) or not isinstance(self.dataset_size, int) or self.dataset_size < 0:
            raise InputError(f"dataset_size must be an integer >= 0, got {self.dataset_size!r}")

    def __call__(
        self, model: Any, x: Tensor, c: Tensor | None = None, *, generator: torch.Generator | None = None
    ) -> ModelOutput:
        parts = model.elbo_parts(x, c, generator=generator)
        reconstruction = -parts.log_px_z.mean()
        kl = parts.kl.sum(-1).mean()
        penalty = free_bits_kl(parts.kl, self.free_bits) if self.free_bits > 0 else kl
        capacity = getattr(model, "capacity", None)
        if capacity is not None:
            penalty = capacity_penalty(penalty, capacity)
        loss = reconstruction + model.beta * penalty
        extra: dict[str, Tensor] = {}
        if self.tc_beta != 1.0:
            q = parts.posterior
            log_pz = parts.log_pz if parts.log_pz is not None else model.prior.log_prob(parts.z)
            terms = kl_decomposition(parts.z, q.mean, q.log_var, log_pz, self.dataset_size or x.shape[0])
            tc = terms.total_correlation.mean()
            loss = loss + (self.tc_beta - 1.0) * tc
            extra["tc"] = tc
        return ModelOutput(loss=loss, reconstruction=reconstruction, kl=kl, z=parts.z, params=parts.params, extra=extra)
