"""Training objectives of the VAE family, as small registered strategies.

A VAE's loss is not hard-wired into the model: ``VAEConfig.objective`` holds a
config such as ``{"name": "elbo", "free_bits": 0.25}`` or ``{"name": "iwae",
"k": 5, "gradient": "dreg"}``, built here into an :class:`Objective`, and
``VAEModel.forward`` delegates to it. An objective asks the model for its
terms through two methods every VAE model answers:

- ``model.elbo_parts(x)`` -> :class:`ElboParts` (one posterior draw, KL per group),
- ``model.importance_terms(x, k)`` -> :class:`JointLogProbs` (k draws),

so each objective works with one and two stochastic layers, every prior,
network and likelihood. The maths lives in pure functions (``free_bits_kl``,
``capacity_penalty``, ``kl_decomposition``, ``log_mean_exp``,
``normalized_weights``), each tested against an independent computation.
"""

from vaelab.objectives.base import OBJECTIVES, ElboParts, Objective, build_objective
from vaelab.objectives.elbo import ELBO, capacity_penalty, free_bits_kl
from vaelab.objectives.iwae import IWAE
from vaelab.objectives.tc import KLDecomposition, kl_decomposition
from vaelab.objectives.weights import JointLogProbs, log_mean_exp, normalized_weights

__all__ = [
    "ELBO",
    "IWAE",
    "OBJECTIVES",
    "ElboParts",
    "JointLogProbs",
    "KLDecomposition",
    "Objective",
    "build_objective",
    "capacity_penalty",
    "free_bits_kl",
    "kl_decomposition",
    "log_mean_exp",
    "normalized_weights",
]
