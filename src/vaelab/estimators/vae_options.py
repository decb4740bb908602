"""The VAE's options turned into model configs and callbacks, and the rules between them.

Each option's own values are declared once in :mod:`vaelab.estimators.params`
and checked from there; this module checks what the declaration cannot say
alone (an option of one objective given to the other) and builds, from the
checked options:

- the objective config (``objective``, ``k``, ``gradient``, ``free_bits``,
  ``tc_beta``) -> ``VAEConfig.objective`` (:mod:`vaelab.objectives`);
- the prior config (``prior``) -> ``VAEConfig.prior`` (:mod:`vaelab.priors`);
- the latent structure (``stochastic_layers``) -> the model class;
- the KL schedule (``kl_schedule``, ``beta``) -> a trainer callback
  (:mod:`vaelab.training.schedules`).
"""

from __future__ import annotations

from typing import Any

from vaelab.errors import InputError, OptionError
from vaelab.models.base import MODELS
from vaelab.objectives import build_objective
from vaelab.priors import PRIORS
from vaelab.training.schedules import KLScheduleCallback, parse_kl_schedule

#: stochastic_layers -> registered model class
LATENT_STRUCTURES = {1: "VAEModel", 2: "TwoLayerVAEModel"}


def check_vae_rules(options: dict[str, Any]) -> None:
    """Raise an InputError for options that do not go together, or a schedule or prior that does not parse."""
    try:
        parse_kl_schedule(options["kl_schedule"])
    except InputError as exc:
        raise OptionError(str(exc)) from None
    if options["objective"] != "elbo":
        for name, off in (("free_bits", 0.0), ("tc_beta", 1.0)):
            if options[name] != off:
                raise OptionError(
                    f"{name} is an option of objective='elbo'; with objective={options['objective']!r} leave it at {off}"
                )
    elif options["gradient"] != "standard":
        raise OptionError(f"gradient={options['gradient']!r} is an option of objective='iwae'; the ELBO has one gradient")
    prior_config(options)


def prior_config(options: dict[str, Any]) -> dict[str, Any]:
    """The prior as a config dict, checked: ``"mog"`` -> ``{"name": "mog"}`` (absent components left out)."""
    prior = options["prior"] if isinstance(options["prior"], dict) else {"name": options["prior"]}
    prior = {k: v for k, v in prior.items() if v is not None}
    PRIORS.get(prior["name"])  # an unknown name: the registry's message lists the valid ones
    return prior


def objective_config(options: dict[str, Any], n_train: int) -> dict[str, Any]:
    """The objective config stored in the model: the ELBO's options, or the IWAE's ``k`` and ``gradient``."""
    if options["objective"] == "iwae":
        spec: dict[str, Any] = {"name": "iwae", "k": options["k"], "gradient": options["gradient"]}
    else:
        spec = {"name": "elbo", "free_bits": float(options["free_bits"]), "tc_beta": float(options["tc_beta"])}
        if options["tc_beta"] != 1.0:
            spec["dataset_size"] = int(n_train)  # the minibatch-weighted TC estimate needs N
    return build_objective(spec).config()


def model_class(options: dict[str, Any]) -> type:
    """The registered model class of ``stochastic_layers``."""
    return MODELS.get(LATENT_STRUCTURES[options["stochastic_layers"]])


def schedule_callbacks(options: dict[str, Any]) -> list[KLScheduleCallback]:
    """The KL schedule's trainer callback, or none for a constant weight."""
    schedule = parse_kl_schedule(options["kl_schedule"])
    return [] if schedule.kind == "constant" else [KLScheduleCallback(schedule, float(options["beta"]))]
