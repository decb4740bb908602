"""Likelihoods p(x|z): the decoder's output distribution.

A likelihood owns its output parametrization. The decoder emits raw
parameters (logits for the Bernoulli kinds, means for the Gaussian), and only
the likelihood turns them into log-probabilities (computed stably, never as
sigmoid followed by BCE) or into the expected value of x. This keeps the
output range and the loss in one place, the trap STYLE.md names in today's
libraries (a sigmoid decoder on standardized data, a hidden loss scale).

All log-probabilities are in nats, summed over every data dimension: shape (B,).
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vaelab.errors import InputError
from vaelab.registry import Registry

LIKELIHOODS: Registry[type["Likelihood"]] = Registry("likelihood")
LIKELIHOODS.provide("mixed", "vaelab.tabular.likelihood")  # the tables' likelihood, imported when named


def _sum_over_data(values: Tensor) -> Tensor:
    """(B, ...) -> (B,)"""
    return values.reshape(values.shape[0], -1).sum(1)


class Likelihood(nn.Module):
    """Base class: the distribution of x given the decoder's parameters."""

    name: str = ""

    def param_shape(self, data_shape: tuple[int, ...]) -> tuple[int, ...]:
        """Shape of the decoder's output for one example of shape ``data_shape``."""
        return tuple(data_shape)

    def log_prob(self, x: Tensor, params: Tensor) -> Tensor:
        """log p(x|z) per example in nats, (B, *data_shape) -> (B,)."""
        raise NotImplementedError

    def mean(self, params: Tensor) -> Tensor:
        """E[x|z], the reconstruction, same shape as ``params``."""
        raise NotImplementedError

    def sample(self, params: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Draw x ~ p(x|z)."""
        raise NotImplementedError

    def check_data(self, x: Tensor, name: str = "X") -> None:
        """Raise :class:`InputError` if ``x`` lies outside the support of this likelihood."""

    def config(self) -> dict[str, Any]:
        """JSON-able description from which :func:`build_likelihood` rebuilds it."""
        return {"name": self.name}


def _check_unit_interval(x: Tensor, name: str, likelihood: str) -> None:
    lo, hi = float(x.min()), float(x.max())
    if lo < 0.0 or hi > 1.0:
        raise InputError(
            f"{name} has values in [{lo:.4g}, {hi:.4g}], but the {likelihood} likelihood needs values in [0, 1]; "
            "scale the data to [0, 1] (uint8 images are scaled automatically) "
            "or use likelihood='gaussian' for real-valued data"
        )


@LIKELIHOODS.register("bernoulli")
class Bernoulli(Likelihood):
    """Bernoulli over each dimension, parametrized by logits.

    A proper likelihood for binary data; on grey levels in [0, 1] it is the
    usual cross-entropy surrogate (use dynamic binarization for honest nats).
    """

    name = "bernoulli"

    def log_prob(self, x: Tensor, params: Tensor) -> Tensor:
        # log p = x*logit - softplus(logit) = -BCEWithLogits, stable for any logit
        return -_sum_over_data(F.binary_cross_entropy_with_logits(params, x, reduction="none"))

    def mean(self, params: Tensor) -> Tensor:
        return torch.sigmoid(params)

    def sample(self, params: Tensor, generator: torch.Generator | None = None) -> Tensor:
        return torch.bernoulli(torch.sigmoid(params), generator=generator)

    def check_data(self, x: Tensor, name: str = "X") -> None:
        _check_unit_interval(x, name, "bernoulli")


@LIKELIHOODS.register("continuous_bernoulli")
class ContinuousBernoulli(Likelihood):
    """The continuous Bernoulli (Loaiza-Ganem & Cunningham 2019) on [0, 1], parametrized by logits.

    Unlike the Bernoulli it is a normalized density on [0, 1], so its
    log-likelihood of grey-level data is a proper one; note that its mean is
    *not* sigmoid(logits).
    """

    name = "continuous_bernoulli"

    def _dist(self, params: Tensor) -> torch.distributions.ContinuousBernoulli:
        return torch.distributions.ContinuousBernoulli(logits=params, validate_args=False)

    def log_prob(self, x: Tensor, params: Tensor) -> Tensor:
        return _sum_over_data(self._dist(params).log_prob(x))

    def mean(self, params: Tensor) -> Tensor:
        return self._dist(params).mean

    def sample(self, params: Tensor, generator: torch.Generator | None = None) -> Tensor:
        # inverse-CDF sampling so that the draw honours ``generator``
        u = torch.rand(params.shape, generator=generator, device=params.device, dtype=params.dtype)
        return self._dist(params).icdf(u)

    def check_data(self, x: Tensor, name: str = "X") -> None:
        _check_unit_interval(x, name, "continuous_bernoulli")


@LIKELIHOODS.register("gaussian")
class Gaussian(Likelihood):
    """Gaussian N(mean, scale^2) on each dimension; the decoder predicts the mean.

    Parameters
    ----------
    scale : float
        The standard deviation, or its starting value when ``learn_scale``.
    learn_scale : bool
        Learn one shared scale by gradient descent, the calibrated decoder of
        Rybkin et al. 2021 (sigma-VAE): the balance between reconstruction and
        KL is then learned rather than fixed by hand.
    """

    name = "gaussian"

    def __init__(self, scale: float = 1.0, learn_scale: bool = False) -> None:
        super().__init__()
        if not scale > 0.0:
            raise InputError(f"Gaussian likelihood scale must be > 0, got {scale!r}")
        self.learn_scale = bool(learn_scale)
        log_scale = torch.tensor(math.log(scale))
        if self.learn_scale:
            self.log_scale = nn.Parameter(log_scale)
        else:
            self.register_buffer("log_scale", log_scale)

    @property
    def scale(self) -> Tensor:
        return self.log_scale.exp()

    def log_prob(self, x: Tensor, params: Tensor) -> Tensor:
        # log N(x; mu, s^2) = -0.5 * ((x - mu)/s)^2 - log s - 0.5 * log(2 pi)
        z = (x - params) * torch.exp(-self.log_scale)
        return _sum_over_data(-0.5 * z**2 - self.log_scale - 0.5 * math.log(2.0 * math.pi))

    def mean(self, params: Tensor) -> Tensor:
        return params

    def sample(self, params: Tensor, generator: torch.Generator | None = None) -> Tensor:
        noise = torch.randn(params.shape, generator=generator, device=params.device, dtype=params.dtype)
        return params + self.scale * noise

    def config(self) -> dict[str, Any]:
        return {"name": self.name, "scale": float(self.scale.detach()), "learn_scale": self.learn_scale}


def build_likelihood(spec: str | dict[str, Any] | Likelihood) -> Likelihood:
    """Build a likelihood from a registered name, a config dict or an instance.

    >>> build_likelihood("gaussian").config()
    {'name': 'gaussian', 'scale': 1.0, 'learn_scale': False}
    """
    if isinstance(spec, Likelihood):
        return spec
    if isinstance(spec, str):
        spec = {"name": spec}
    if not isinstance(spec, dict) or "name" not in spec:
        raise InputError(f"likelihood must be a name, a dict with a 'name' key or a Likelihood, got {spec!r}")
    options = {k: v for k, v in spec.items() if k != "name"}
    return LIKELIHOODS.get(spec["name"])(**options)
