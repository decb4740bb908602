"""The VAE estimator's options, grouped by concern and turned into model configs and callbacks.

The estimator stores its keyword arguments as given (scikit-learn style);
this module checks them at fit time and builds from them:

- the objective config (``objective``, ``k``, ``gradient``, ``free_bits``,
  ``tc_beta``) -> ``VAEConfig.objective`` (:mod:`vaelab.objectives`);
- the prior config (``prior``) -> ``VAEConfig.prior`` (:mod:`vaelab.priors`);
- the latent structure (``stochastic_layers``) -> the model class;
- the KL schedule (``kl_schedule``, ``beta``) -> a trainer callback
  (:mod:`vaelab.training.schedules`).

Every error names the option, its valid values and what was received.
"""

from __future__ import annotations

from typing import Any

from vaelab.errors import InputError
from vaelab.models.base import MODELS
from vaelab.objectives import OBJECTIVES, build_objective
from vaelab.objectives.iwae import GRADIENTS
from vaelab.priors import PRIORS
from vaelab.training.schedules import KLScheduleCallback, parse_kl_schedule

#: stochastic_layers -> registered model class
LATENT_STRUCTURES = {1: "VAEModel", 2: "TwoLayerVAEModel"}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_vae_options(est: Any) -> None:
    """Raise an InputError for the first bad VAE option of the estimator ``est``."""
    if not _is_number(est.beta) or not est.beta >= 0:
        raise InputError(f"beta must be a number >= 0, got {est.beta!r}")
    parse_kl_schedule(est.kl_schedule)
    if est.objective not in OBJECTIVES:
        raise InputError(f"objective must be one of {', '.join(OBJECTIVES.names())}, got {est.objective!r}")
    if isinstance(est.k, bool) or not isinstance(est.k, int) or est.k < 1:
        raise InputError(f"k (importance samples of objective='iwae') must be an integer >= 1, got {est.k!r}")
    if est.gradient not in GRADIENTS:
        raise InputError(f"gradient must be one of {', '.join(GRADIENTS)}, got {est.gradient!r}")
    if not _is_number(est.free_bits) or not est.free_bits >= 0:
        raise InputError(f"free_bits must be a number of nats >= 0 (0 turns it off), got {est.free_bits!r}")
    if not _is_number(est.tc_beta) or not est.tc_beta >= 0:
        raise InputError(f"tc_beta must be a number >= 0 (1.0: the plain ELBO), got {est.tc_beta!r}")
    if est.objective != "elbo":
        for name, off in (("free_bits", 0.0), ("tc_beta", 1.0)):
            if getattr(est, name) != off:
                raise InputError(
                    f"{name} is an option of objective='elbo'; with objective={est.objective!r} leave it at {off}"
                )
    elif est.gradient != "standard":
        raise InputError(f"gradient={est.gradient!r} is an option of objective='iwae'; the ELBO has one gradient")
    if est.stochastic_layers not in LATENT_STRUCTURES:
        raise InputError(f"stochastic_layers must be one of {sorted(LATENT_STRUCTURES)}, got {est.stochastic_layers!r}")
    prior_config(est)


def prior_config(est: Any) -> dict[str, Any]:
    """The prior as a config dict, checked: ``"mog"`` -> ``{"name": "mog"}``."""
    prior = est.prior if isinstance(est.prior, dict) else {"name": est.prior}
    if not isinstance(prior.get("name"), str) or prior["name"] not in PRIORS:
        names = ", ".join(PRIORS.names())
        raise InputError(f"prior must be one of {names} (or a dict with such a 'name'), got {est.prior!r}")
    components = prior.get("components", 1)
    if isinstance(components, bool) or not isinstance(components, int) or components < 1:
        raise InputError(f"prior components must be an integer >= 1, got {components!r}")
    return dict(prior)


def objective_config(est: Any, n_train: int) -> dict[str, Any]:
    """The objective config stored in the model: the ELBO's options, or the IWAE's ``k`` and ``gradient``."""
    if est.objective == "iwae":
        spec: dict[str, Any] = {"name": "iwae", "k": est.k, "gradient": est.gradient}
    else:
        spec = {"name": "elbo", "free_bits": float(est.free_bits), "tc_beta": float(est.tc_beta)}
        if est.tc_beta != 1.0:
            spec["dataset_size"] = int(n_train)  # the minibatch-weighted TC estimate needs N
    return build_objective(spec).config()


def model_class(est: Any) -> type:
    """The registered model class of ``stochastic_layers``."""
    return MODELS.get(LATENT_STRUCTURES[est.stochastic_layers])


def schedule_callbacks(est: Any) -> list[KLScheduleCallback]:
    """The KL schedule's trainer callback, or none for a constant weight."""
    schedule = parse_kl_schedule(est.kl_schedule)
    return [] if schedule.kind == "constant" else [KLScheduleCallback(schedule, float(est.beta))]
