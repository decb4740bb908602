"""Priors p(z) over the latent space.

A prior is a module (so that learned priors, such as a mixture or the
VampPrior, can hold parameters) with three calls: ``log_prob``, ``sample`` and
``kl`` against a posterior. ``kl`` falls back to a one-sample Monte Carlo
estimate, log q(z|x) - log p(z), so a new prior only has to define
``log_prob`` and ``sample``; the standard normal overrides it with the closed
form. A prior that needs the model it belongs to (the VampPrior runs the
model's encoder on its pseudo-inputs) receives it in ``bind(model)``, which
the model calls once when it is built.

Registered: ``standard_normal``; ``mog`` (a learned mixture of K diagonal
Gaussians); ``vamp`` (Tomczak & Welling 2018: the mixture of the posteriors
of K learned pseudo-inputs, p(z) = (1/K) sum_k q(z|u_k)).

References
----------
Tomczak & Welling 2018, "VAE with a VampPrior", AISTATS, arXiv:1705.07120.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

from vaelab.distributions import LOG_2PI, DiagonalGaussian
from vaelab.errors import InputError
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

    def bind(self, model: Any) -> None:
        """Called once by the model that owns this prior; most priors need nothing from it."""

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


def _check_components(components: Any, prior: str) -> int:
    if isinstance(components, bool) or not isinstance(components, int) or components < 1:
        raise InputError(f"components (of the {prior!r} prior) must be an integer >= 1, got {components!r}")
    return components


def mixture_log_prob(z: Tensor, means: Tensor, log_vars: Tensor, log_weights: Tensor) -> Tensor:
    """log sum_k pi_k N(z; m_k, diag v_k) for a mixture of K diagonal Gaussians.

    Parameters
    ----------
    z : Tensor of shape (..., D)
    means, log_vars : Tensor of shape (K, D)
    log_weights : Tensor of shape (K,)
        log pi_k (normalized).

    Returns
    -------
    Tensor of shape (...)
    """
    return mixture_joint_log_probs(z, means, log_vars, log_weights).logsumexp(-1)


def mixture_joint_log_probs(z: Tensor, means: Tensor, log_vars: Tensor, log_weights: Tensor) -> Tensor:
    """log pi_k + log N(z; m_k, diag v_k) of each component k, (..., D) -> (..., K).

    Their softmax over k is the posterior p(k | z). The squared distances are
    expanded, sum_d (z_d - m_kd)^2 / v_kd = z^2 . (1/v_k) - 2 z . (m_k / v_k) +
    sum_d m_kd^2 / v_kd, so that the work is two matrix products and memory
    (N, K), never (N, K, D).
    """
    d = z.shape[-1]
    flat = z.reshape(-1, d)  # (N, D)
    inv_var = torch.exp(-log_vars)  # (K, D)
    sq = flat.pow(2) @ inv_var.T - 2.0 * flat @ (means * inv_var).T + (means.pow(2) * inv_var).sum(-1)  # (N, K)
    log_norm = -0.5 * (d * LOG_2PI + log_vars.sum(-1))  # (K,)
    return (log_norm - 0.5 * sq + log_weights).reshape(*z.shape[:-1], -1)  # (..., K)


def mixture_sample(
    n: int, means: Tensor, log_vars: Tensor, logits: Tensor, generator: torch.Generator | None
) -> Tensor:
    """``n`` draws of shape (n, D) from the mixture: a component by its weight, then its Gaussian."""
    with torch.no_grad():
        probs = logits.softmax(-1).expand(n, -1)
        k = torch.multinomial(probs, 1, generator=generator).squeeze(-1)  # (n,)
        eps = torch.randn(n, means.shape[-1], generator=generator, device=means.device, dtype=means.dtype)
        return means[k] + torch.exp(0.5 * log_vars[k]) * eps


@PRIORS.register("mog")
class MixtureOfGaussians(Prior):
    """A learned mixture of K diagonal Gaussians, p(z) = sum_k pi_k N(z; m_k, diag v_k).

    Means start at N(0, I) draws, variances at 1, weights equal; all three are
    trained with the model. The KL against it has no closed form: the model
    uses the Monte Carlo estimate.

    Parameters
    ----------
    latent_dim : int
    components : int
        K >= 1.
    """

    name = "mog"

    def __init__(self, latent_dim: int, components: int = 10) -> None:
        super().__init__(latent_dim)
        self.components = _check_components(components, self.name)
        self.means = nn.Parameter(torch.randn(components, latent_dim))
        self.log_vars = nn.Parameter(torch.zeros(components, latent_dim))
        self.logits = nn.Parameter(torch.zeros(components))

    def log_prob(self, z: Tensor) -> Tensor:
        return self.component_log_probs(z).logsumexp(-1)

    def component_log_probs(self, z: Tensor) -> Tensor:
        """log pi_k + log N(z; m_k, v_k) of each component, (..., D) -> (..., K)."""
        return mixture_joint_log_probs(z, self.means, self.log_vars, self.logits.log_softmax(-1))

    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        return mixture_sample(n, self.means, self.log_vars, self.logits, generator)

    def config(self) -> dict[str, Any]:
        return {"name": self.name, "components": self.components}


@PRIORS.register("vamp")
class VampPrior(Prior):
    """The VampPrior: p(z) = (1/K) sum_k q(z|u_k) over K learned pseudo-inputs u_k (Tomczak & Welling 2018, eq. 9).

    The pseudo-inputs have the data's shape and go through the model's own
    encoder (``model.prior_posterior``), which ``bind`` hands over; they start
    at 0.5 + 0.1 * N(0, 1) noise. The KL against it is the Monte Carlo estimate.

    Parameters
    ----------
    latent_dim : int
    components : int
        K >= 1 (500 in Tomczak & Welling's MNIST experiments).
    """

    name = "vamp"

    def __init__(self, latent_dim: int, components: int = 500) -> None:
        super().__init__(latent_dim)
        self.components = _check_components(components, self.name)
        self._posterior: Any = None

    def bind(self, model: Any) -> None:
        shape = getattr(model, "input_shape", None)
        if not callable(getattr(model, "prior_posterior", None)) or not shape:
            raise InputError(
                f"prior 'vamp' needs a model with an encoder q(z|x) of the data's shape (a VAE); "
                f"{type(model).__name__} has none. Use prior='standard_normal' or 'mog'"
            )
        self.pseudo_inputs = nn.Parameter(0.5 + 0.1 * torch.randn(self.components, *shape))
        self._posterior = model.prior_posterior  # a bound method, not a submodule: no cycle in the module tree

    def _mixture(self) -> tuple[Tensor, Tensor]:
        if self._posterior is None:
            raise InputError("this VampPrior is not bound to a model yet: build it through a VAE's prior option")
        q = self._posterior(self.pseudo_inputs)  # (K, D)
        if q.mean.shape[-1] != self.latent_dim:
            raise InputError(
                f"prior 'vamp': the model's encoder gives codes of size {q.mean.shape[-1]}, the prior is over "
                f"{self.latent_dim}; the encoder must map data of the model's input shape to the prior's latent"
            )
        return q.mean, q.log_var

    def log_prob(self, z: Tensor) -> Tensor:
        return self.component_log_probs(z).logsumexp(-1)

    def component_log_probs(self, z: Tensor) -> Tensor:
        """log (1/K) + log q(z | u_k) of each pseudo-input u_k, (..., D) -> (..., K)."""
        means, log_vars = self._mixture()
        log_weights = torch.full((self.components,), -math.log(self.components), device=z.device, dtype=z.dtype)
        return mixture_joint_log_probs(z, means, log_vars, log_weights)

    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        means, log_vars = self._mixture()
        return mixture_sample(n, means, log_vars, torch.zeros(self.components, device=means.device), generator)

    def config(self) -> dict[str, Any]:
        return {"name": self.name, "components": self.components}


def build_prior(spec: str | dict[str, Any] | Prior, latent_dim: int) -> Prior:
    """Build a prior from a registered name, a config dict or an instance.

    Raises
    ------
    InputError
        For an unknown name (listing the valid ones) or a bad option.
    """
    if isinstance(spec, Prior):
        return spec
    cls, options = PRIORS.from_spec(spec)
    try:
        return cls(latent_dim, **options)
    except TypeError:
        raise InputError(f"prior {cls.name!r} does not take the options {sorted(options)}") from None
