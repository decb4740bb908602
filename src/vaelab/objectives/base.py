"""What every objective shares: the registry, the base class and the ELBO's parts."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from vaelab.distributions import DiagonalGaussian
from vaelab.errors import InputError
from vaelab.model_output import ModelOutput
from vaelab.registry import Registry

OBJECTIVES: Registry[type["Objective"]] = Registry("objective")


@dataclass
class ElboParts:
    """The terms of a one-draw ELBO, as a model reports them to its objective.

    Attributes
    ----------
    log_px_z : Tensor of shape (B,)
        log p(x|z) at z ~ q(z|x).
    kl : Tensor of shape (B, G)
        KL(q(z|x) || p(z)) split into G groups: one per latent dimension where
        the prior factorizes and the KL has a closed form (standard normal),
        else one group holding the one-draw estimate log q(z|x) - log p(z).
    z : Tensor of shape (B, D)
        The draw the decoder was run on (the first layer's, with two layers).
    params : Tensor of shape (B, *param_shape)
        The decoder's output.
    posterior : DiagonalGaussian
        q(z|x) of the first layer, shape (B, D).
    log_pz : Tensor of shape (B,), or None
        log p(z) of the draw under the prior of that layer (for two layers,
        log p(z1|z2) + log p(z2)); None where the KL has a closed form and
        the draw's log p(z) was not computed (``model.prior.log_prob(z)``).
    """

    log_px_z: Tensor
    kl: Tensor
    z: Tensor
    params: Tensor
    posterior: DiagonalGaussian
    log_pz: Tensor | None


class Objective:
    """Base class: ``objective(model, x, generator=...)`` returns the model's :class:`ModelOutput`.

    Subclasses are frozen dataclasses whose fields are the objective's
    options, so that ``config()`` round-trips through ``config.json``.
    """

    name: str = ""

    def __call__(
        self, model: Any, x: Tensor, c: Tensor | None = None, *, generator: torch.Generator | None = None
    ) -> ModelOutput:
        """The loss and its terms for the batch ``x`` (B, *input_shape), given the condition ``c`` (B, K) if any."""
        raise NotImplementedError

    def check_model(self, model: Any) -> None:
        """Raise an InputError if ``model`` cannot be trained with this objective."""
        if not hasattr(model, "importance_terms") or not hasattr(model, "elbo_parts"):
            raise InputError(
                f"objective {self.name!r} needs a model with a stochastic encoder q(z|x) and a prior (a VAE); "
                f"{type(model).__name__} has none. Use objective='elbo' with a VAE, or the plain reconstruction "
                "loss of the autoencoder"
            )

    def config(self) -> dict[str, Any]:
        """JSON-able description from which :func:`build_objective` rebuilds the objective."""
        return {"name": self.name, **dataclasses.asdict(self)}  # type: ignore[call-overload]


def build_objective(spec: str | dict[str, Any] | Objective) -> Objective:
    """An objective from a registered name (``"elbo"``, ``"iwae"``), a config dict or an instance.

    Raises
    ------
    InputError
        For an unknown name (listing the valid ones) or options the objective
        does not take (listing the ones it does).

    Examples
    --------
    >>> build_objective({"name": "iwae", "k": 5, "gradient": "dreg"}).config()
    {'name': 'iwae', 'k': 5, 'gradient': 'dreg'}
    >>> build_objective("elbo").config()
    {'name': 'elbo', 'free_bits': 0.0, 'tc_beta': 1.0, 'dataset_size': 0}
    """
    if isinstance(spec, Objective):
        return spec
    cls, options = OBJECTIVES.from_spec(spec)
    valid = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise InputError(f"objective {cls.name!r} takes the options {valid}; got unknown {unknown}")
    return cls(**options)
