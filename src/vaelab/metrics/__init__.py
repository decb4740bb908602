"""Evaluation of fitted models: likelihood bounds, reconstruction error, latent diagnostics, sample quality.

=================  ===========================================================
module             holds
=================  ===========================================================
``evaluate``       :func:`evaluate`, every figure of a fitted estimator at once (given labels, known factors)
``bounds``         :func:`elbo_terms`, :func:`importance_sampled_log_likelihood`
``example_noise``  :class:`ExampleNoise`, posterior noise keyed by each example (deterministic scores)
``reconstruction`` MSE, explained variance, binary cross-entropy
``discrete``       8-bit data: dequantization, bits per dimension, one fixed binarization
``latent``         KL per dimension, active units, I(x; z), KL(q(z) || p(z))
``fid``            Fréchet distance, improved precision/recall
``features``       the shipped digit classifier (features of the FDD)
``sample_quality`` Fréchet distance, precision and recall of a VAE's samples in a classifier's features
``mig``            :func:`mig`, the Mutual Information Gap against known factors
``conditional``    metrics of a conditional model given labels
=================  ===========================================================
"""

from vaelab.metrics.bounds import ElboTerms, elbo_terms, importance_sampled_log_likelihood, log_mean_exp
from vaelab.metrics.discrete import bits_per_dim, dequantize
from vaelab.metrics.evaluate import evaluate
from vaelab.metrics.fid import frechet_distance, frechet_distance_from_moments, precision_recall
from vaelab.metrics.mig import mig, mutual_information_gap
from vaelab.metrics.latent import (
    active_unit_statistic,
    active_units,
    aggregate_posterior_terms,
    collapse_warnings,
    kl_per_dim,
)
from vaelab.metrics.reconstruction import binary_cross_entropy, explained_variance, mean_squared_error

__all__ = [
    "ElboTerms",
    "active_unit_statistic",
    "active_units",
    "aggregate_posterior_terms",
    "binary_cross_entropy",
    "bits_per_dim",
    "collapse_warnings",
    "dequantize",
    "elbo_terms",
    "evaluate",
    "explained_variance",
    "frechet_distance",
    "frechet_distance_from_moments",
    "importance_sampled_log_likelihood",
    "kl_per_dim",
    "log_mean_exp",
    "mean_squared_error",
    "mig",
    "mutual_information_gap",
    "precision_recall",
]
