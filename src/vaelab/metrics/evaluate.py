"""One call that measures a fitted estimator on held-out data: ``evaluate(estimator, X)``.

It gathers, on one scale for PCA, the autoencoder and the VAE where that is
meaningful:

* reconstruction: ``mse``, ``explained_variance``, ``bce`` (binary data);
* likelihood: the VAE's ``elbo`` and its terms, the importance-sampled ``nll``
  (Burda et al. 2016, :mod:`vaelab.metrics.bounds`) when ``nll_samples > 0``;
  PCA's exact probabilistic-PCA likelihood (Tipping & Bishop 1999);
  ``bits_per_dim`` for densities on 8-bit data (:mod:`vaelab.metrics.discrete`);
* latent diagnostics (VAE): ``kl_per_dim``, ``active_units``,
  ``mutual_information``, ``aggregate_kl`` (:mod:`vaelab.metrics.latent`);
* sample quality (VAE on 28x28 images, in the features of a classifier of
  their kind, :mod:`vaelab.metrics.fid`): ``features="digits"`` (MNIST-like
  digits) gives ``frechet_digit_distance``, ``precision``, ``recall`` in the
  shipped digit classifier's features; a classifier trained by ``vaelab
  features train`` gives ``frechet_distance[NAME]``, ``precision[NAME]``,
  ``recall[NAME]``. Without one the figures are absent and a note says why:
  a digit classifier's features say nothing about clothes;
* ``warnings``: plain-language verdicts (posterior collapse, a Bernoulli
  likelihood on grey levels), and ``notes``: how each figure was computed.

References
----------
Burda, Grosse & Salakhutdinov 2016, "Importance Weighted Autoencoders", ICLR, arXiv:1509.00519.
Tipping & Bishop 1999, "Probabilistic Principal Component Analysis", J. R. Stat. Soc. B 61(3).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Protocol

import torch
from torch import Tensor

from vaelab.errors import InputError
from vaelab.metrics import discrete, latent, reconstruction
from vaelab.metrics import features as feature_nets
from vaelab.metrics.bounds import (
    DEFAULT_MEMORY_BUDGET_MB,
    elbo_terms,
    importance_sampled_log_likelihood,
    importance_sampled_nll,
)
from vaelab.metrics.conditional import evaluate_conditional
from vaelab.metrics.mig import DEFAULT_BINS, mutual_information_gap
from vaelab.metrics.sample_quality import NO_FEATURES_NOTE, feature_classifier, sample_quality_figures
from vaelab.models import PCAModel, VAEModel
from vaelab.priors import StandardNormal
from vaelab.serialization import jsonable
from vaelab.validation import check_int

#: (stage, done, total) -> None; stages: "nll", "nll_dequantized"
Progress = Callable[[str, int, int], None]

BATCH = 1000
#: posterior draws per example behind mutual_information and aggregate_kl
MI_DRAWS = 10


class FittedEstimator(Protocol):
    """What :func:`evaluate` uses of a fitted estimator (``PCA``, ``Autoencoder``, ``VAE`` and their kin answer it).

    The kind of model is read from the fitted module ``module_``
    (:class:`~vaelab.models.VAEModel` and its subclasses,
    :class:`~vaelab.models.PCAModel`, else an autoencoder), never from the
    estimator's class: metrics sit below the estimators.
    """

    module_: Any
    input_shape_: tuple[int, ...]

    def _check_X(self, X: Any, name: str = "X") -> Tensor: ...

    def _device(self) -> torch.device: ...

    def reconstruct(self, X: Any) -> Any: ...

    def transform(self, X: Any) -> Any: ...

    def score(self, X: Any, y: Any = None) -> float: ...


def _generator(device: torch.device, seed: int) -> torch.Generator:
    return torch.Generator(device=device).manual_seed(seed)


def _in_batches(fn: Callable[[Tensor], Any], x: Tensor) -> list[Any]:
    return [fn(x[i : i + BATCH]) for i in range(0, x.shape[0], BATCH)]


def _is_continuous(module: Any) -> bool:
    return module.likelihood.name != "bernoulli"


def _reconstruction_metrics(estimator: FittedEstimator, x: Tensor, binary: bool) -> dict[str, float]:
    recon = estimator.reconstruct(x)
    out = {
        "mse": reconstruction.mean_squared_error(x, recon),
        "explained_variance": reconstruction.explained_variance(x, recon),
    }
    if binary:
        out["bce"] = float(reconstruction.binary_cross_entropy(x, recon).mean())
    return out


def _vae_likelihood(
    module: Any,
    x: Tensor,
    *,
    seed: int,
    nll_samples: int,
    memory_budget_mb: float,
    eight_bit: bool,
    progress: Progress | None,
) -> tuple[dict[str, float], list[str]]:
    """ELBO terms, IS-NLL and bits/dim of a VAE on x (on the module's device)."""
    device = x.device
    g = _generator(device, seed)
    terms = _in_batches(lambda xb: elbo_terms(module, xb, generator=g), x)
    rec = torch.cat([t.reconstruction for t in terms]).double()
    kl = torch.cat([t.kl for t in terms]).double()
    out = {"elbo": float((rec - kl).mean()), "reconstruction_nll": float(-rec.mean()), "kl": float(kl.mean())}
    notes = ["elbo = E_q[log p(x|z)] - KL(q(z|x) || p(z)) in nats per example (one posterior draw per example, "
             "beta = 1 whatever beta the model was trained with); reconstruction_nll = -E_q[log p(x|z)]"]
    d = math.prod(x.shape[1:])

    def is_bound(data: Tensor, stage: str, seed_offset: int) -> Tensor:
        report = None if progress is None else (lambda done, total: progress(stage, done, total))
        return importance_sampled_log_likelihood(
            module, data, nll_samples, generator=_generator(device, seed + seed_offset),
            memory_budget_mb=memory_budget_mb, progress=report,
        ).double()

    if nll_samples > 0:
        report = None if progress is None else (lambda done, total: progress("nll", done, total))
        values, note = importance_sampled_nll(module, x, nll_samples, seed=seed, memory_budget_mb=memory_budget_mb,
                                              progress=report)
        out.update(values)
        notes.append(note)
    if _is_continuous(module) and eight_bit:
        g_deq = _generator(device, seed + 2)
        x_deq = discrete.dequantize(x, generator=g_deq)
        if nll_samples > 0:
            ll_deq, bound = is_bound(x_deq, "nll_dequantized", 3), f"the importance-sampled bound (k = {nll_samples})"
        else:
            g_elbo = _generator(device, seed + 3)
            terms_deq = _in_batches(lambda xb: elbo_terms(module, xb, generator=g_elbo), x_deq)
            ll_deq = torch.cat([t.elbo for t in terms_deq])
            bound = "the ELBO"
        out["bits_per_dim"] = discrete.bits_per_dim(ll_deq, d)
        notes.append(discrete.DEQUANTIZATION_NOTE + f"; log p(x) replaced by {bound}")
    return out, notes


def _pca_likelihood(
    estimator: FittedEstimator, x: Tensor, *, seed: int, eight_bit: bool
) -> tuple[dict[str, float], list[str]]:
    module = estimator.module_
    ll = module.log_likelihood(x.double()).double()
    out = {"ppca_log_likelihood": float(ll.mean()), "nll": float(-ll.mean())}
    notes = ["nll (PCA) = -log p(x) under probabilistic PCA, N(mu, W W^T + s2 I) (Tipping & Bishop 1999), exact; "
             "a density in nats, comparable with a VAE's nll when that is a density of the same data too (Gaussian or "
             "continuous-Bernoulli likelihood), never with a Bernoulli likelihood's discrete nats"]
    if eight_bit:
        x_deq = discrete.dequantize(x, generator=_generator(x.device, seed + 2))
        out["bits_per_dim"] = discrete.bits_per_dim(module.log_likelihood(x_deq.double()), math.prod(x.shape[1:]))
        notes.append(discrete.DEQUANTIZATION_NOTE)
    return out, notes


def _latent_metrics(
    module: Any, x: Tensor, *, seed: int, mi_examples: int
) -> tuple[dict[str, Any], list[str], list[str]]:
    """KL per dimension, active units, I(x; z) and KL(q(z) || p(z)) of a VAE."""
    posteriors = _in_batches(module.encode, x)
    mean = torch.cat([p.mean for p in posteriors]).double()
    log_var = torch.cat([p.log_var for p in posteriors]).double()
    out: dict[str, Any] = {}
    notes: list[str] = []
    active = latent.active_units(mean) if x.shape[0] >= 2 else torch.ones(mean.shape[1], dtype=torch.bool)
    kl_dims = latent.kl_per_dim(mean, log_var)
    out["active_units"] = float(active.sum())
    out["latent_dim"] = float(mean.shape[1])
    if isinstance(module.prior, StandardNormal) and getattr(module, "prior_latent_dim", mean.shape[1]) == mean.shape[1]:
        out["kl_per_dim"] = [float(v) for v in kl_dims]
    notes.append(
        f"active_units: dimensions d with Cov_x(E_q[z_d]) > {latent.ACTIVE_UNIT_THRESHOLD} (Burda et al. 2016); "
        "kl_per_dim: E_x KL(q(z_d|x) || N(0, 1)) per dimension, nats"
    )
    mi = None
    n = x.shape[0]
    if n >= 2:
        est = latent.aggregate_posterior_terms(
            mean, log_var, getattr(module, "code_log_prior", module.prior.log_prob),
            max_draw_examples=mi_examples, n_samples=MI_DRAWS,
            generator=_generator(mean.device, seed + 4),
        )
        mi = est.mutual_information
        out["mutual_information"] = est.mutual_information
        out["aggregate_kl"] = est.aggregate_kl
        notes.append(
            f"mutual_information I(x;z) and aggregate_kl KL(q(z)||p(z)) for x uniform over the {n} examples: "
            f"q(z) is the mixture of their {n} posteriors, averaged over {MI_DRAWS} draws z ~ q(z|x) from each of "
            f"{est.n_draw_examples} of them (Hoffman & Johnson 2016; Dieng et al. 2019); I <= log {n} = "
            f"{math.log(n):.2f} nats, a value near it means the codes tell the examples apart. A large "
            "aggregate_kl means that prior samples fall where the encoder puts no data (holes, separated modes)"
        )
    warnings = latent.collapse_warnings(kl_dims, active, mutual_information=mi)
    return out, notes, warnings


def evaluate(
    estimator: FittedEstimator,
    X: Any,
    y: Any = None,
    *,
    factors: Any = None,
    nll_samples: int = 0,
    seed: int = 0,
    mi_examples: int = 2000,
    n_generated: int = 10000,
    sample_quality: bool = True,
    features: Any = None,
    memory_budget_mb: float = DEFAULT_MEMORY_BUDGET_MB,
    progress: Progress | None = None,
    binarize_seed: int | str | None = None,
) -> dict[str, Any]:
    """Metrics of ``estimator`` on ``X``, every figure per example (nats) or per value, as JSON-able data.

    Parameters
    ----------
    estimator : PCA, Autoencoder or VAE (or a subclass), fitted
    X : array-like of shape (n, *input_shape)
        Held-out data (uint8 images are scaled to [0, 1]).
    y : array-like of shape (n,), optional
        The labels of ``X``, which a conditional model (``conditional=True``)
        is measured given (:func:`vaelab.metrics.conditional.evaluate_conditional`;
        ``mi_examples``, ``n_generated``, ``sample_quality``, ``features``,
        ``memory_budget_mb`` and ``progress`` then do not apply). Required for
        a conditional model, ignored for an unconditional one.
    factors : array-like of shape (n, n_factors), optional
        The known generative factors of ``X`` (data sets such as ``shapes``):
        adds the Mutual Information Gap of the codes (:mod:`vaelab.metrics.mig`),
        for models with at least two latent dimensions.
    nll_samples : int
        Importance samples k for the VAE's ``nll`` (0 skips it; 5000 is the
        literature's figure, ~n * k decoder evaluations).
    seed : int
        Seeds every random draw (posterior noise, dequantization, subsamples, model samples).
    mi_examples : int
        Examples the draws behind ``mutual_information`` and ``aggregate_kl`` come from
        (the aggregate posterior always mixes all n; cost O(mi_examples * n)).
    n_generated : int
        Model samples (and examples of X) for the sample-quality metrics.
    sample_quality : bool
        Compute the sample-quality figures when ``features`` allows (VAE, 28x28 images).
    features : "digits", FeatureClassifier, path or None
        The classifier whose features the sample-quality figures use:
        ``"digits"`` for MNIST-like digits (the shipped classifier; figures
        ``frechet_digit_distance``, ``precision``, ``recall``), a classifier
        from ``vaelab features train`` (or its folder; figures
        ``frechet_distance[NAME]``, ``precision[NAME]``, ``recall[NAME]`` and
        its own floor), or None: no such figures, and a note says why.
    memory_budget_mb : float
        Memory of one decoder call in the importance sampler.
    progress : callable, optional
        ``progress(stage, done, total)`` during the importance sampling.
    binarize_seed : int, "auto" or None
        For a model trained on binarized data (``binarize="dynamic"``): grey
        levels in X are binarized once, each value 1 with probability its grey
        level, with a generator seeded by ``binarize_seed``
        (:func:`vaelab.metrics.discrete.binarize_once`), and every figure is
        computed on that binary data, so that a Bernoulli likelihood is a
        likelihood of the data scored. A note records the seed; X that is
        binary already is used as it is. ``"auto"``: the seed
        :data:`vaelab.metrics.discrete.BINARIZE_SEED` (123, the draw the
        benchmarks use as MNIST's binarized test set) for a model trained on
        binarized data (``binarize`` True or ``"dynamic"``), None for others; ``vaelab evaluate`` and ``vaelab
        train`` use it. None (default): X is scored as given.

    Returns
    -------
    dict
        JSON-able: NumPy and torch values become numbers and lists, NaN becomes None.
        The settings: ``n_examples``, ``seed``, ``binarize_seed`` (when one
        was used), ``nll_samples`` (when > 0). Floats: ``mse``,
        ``explained_variance``, ``bce`` (binary X); VAE: ``elbo``,
        ``reconstruction_nll``, ``kl``, ``nll``, ``nll_stderr``, ``nll_samples``,
        ``nll_seconds``, ``nll_samples_per_second`` (with ``nll_samples``),
        ``bits_per_dim`` (continuous likelihood, 8-bit X), ``active_units``,
        ``latent_dim``, ``mutual_information``, ``aggregate_kl``,
        ``frechet_digit_distance``, ``frechet_digit_distance_floor``,
        ``precision``, ``recall`` (``features="digits"``; with a trained
        classifier ``frechet_distance[NAME]``, ``frechet_distance_floor[NAME]``,
        ``precision[NAME]``, ``recall[NAME]``); PCA: ``ppca_log_likelihood``, ``nll``,
        ``bits_per_dim``; autoencoder: ``reconstruction_log_likelihood``;
        conditional model: see :func:`~vaelab.metrics.conditional.evaluate_conditional`.
        ``kl_per_dim``: list of floats (VAE with a standard normal prior).
        ``mig`` and ``mig_per_factor`` (list, in the factors' order) with ``factors``.
        ``warnings``: list of plain-language verdicts (empty when all is well).
        ``notes``: list of how each figure was computed.

    Examples
    --------
    >>> import numpy as np
    >>> from vaelab import VAE
    >>> X = (np.random.default_rng(0).random((64, 10)) > 0.5).astype("float32")
    >>> vae = VAE(latent_dim=2, epochs=2, device="cpu").fit(X)
    >>> result = evaluate(vae, X, nll_samples=10)
    >>> result["n_examples"], result["nll"] <= -result["elbo"] + 1.0
    (64, True)
    """
    if isinstance(binarize_seed, str):
        if binarize_seed != "auto":
            raise InputError(f"binarize_seed must be an integer, 'auto' or None; got {binarize_seed!r}")
        dynamic = getattr(estimator, "binarize", False) in (True, "dynamic")
        binarize_seed = discrete.BINARIZE_SEED if dynamic else None
    settings: dict[str, Any] = {"n_examples": int(len(X)), "seed": seed}
    if getattr(estimator, "conditional", False):
        if y is None:
            raise InputError("y: this model is conditional; pass the labels of X to condition it on (y=...)")
        settings.update({"nll_samples": nll_samples} if nll_samples > 0 else {})
        settings.update({"binarize_seed": binarize_seed} if binarize_seed is not None else {})
        values = evaluate_conditional(
            estimator, X, y, seed=seed, nll_samples=nll_samples, binarize_seed=binarize_seed
        )
    else:
        settings.update({"binarize_seed": binarize_seed} if binarize_seed is not None else {})
        settings.update({"nll_samples": nll_samples} if nll_samples > 0 else {})
        values = _unconditional(
            estimator, X, nll_samples=nll_samples, seed=seed, mi_examples=mi_examples, n_generated=n_generated,
            sample_quality=sample_quality, features=features, memory_budget_mb=memory_budget_mb,
            progress=progress, binarize_seed=binarize_seed,
        )
    result = {**settings, **values}
    if factors is not None and estimator.module_.latent_dim >= 2:
        codes = estimator.transform(X, y) if getattr(estimator, "conditional", False) else estimator.transform(X)
        gap = mutual_information_gap(codes, factors)
        result["mig"], result["mig_per_factor"] = gap["mig"], gap["mig_per_factor"]
        result["notes"].append(
            f"mig: Mutual Information Gap (Chen et al. 2018) of the codes against the data's "
            f"{len(gap['mig_per_factor'])} known factors, histogram estimator with {DEFAULT_BINS} bins per code "
            "dimension (Miller-Madow corrected); mig_per_factor in the data set's factor order"
        )
    return jsonable(result)


def _unconditional(
    estimator: FittedEstimator,
    X: Any,
    *,
    nll_samples: int,
    seed: int,
    mi_examples: int,
    n_generated: int,
    sample_quality: bool,
    features: Any,
    memory_budget_mb: float,
    progress: Progress | None,
    binarize_seed: int | None,
) -> dict[str, Any]:
    """:func:`evaluate`'s figures of an unconditional model (before the settings and JSON conversion)."""
    nll_samples = check_int(nll_samples, "nll_samples", low=0)
    check_int(mi_examples, "mi_examples", low=2)
    check_int(n_generated, "n_generated", low=4)
    classifier = feature_classifier(features)
    x = estimator._check_X(X)
    binarize_notes = []
    if binarize_seed is not None:
        binarize_notes = discrete.binarize_note(x, check_int(binarize_seed, "binarize_seed"))
    if binarize_seed is not None and not discrete.is_binary(x):
        x = discrete.binarize_once(x, binarize_seed)
    binary, eight_bit = discrete.is_binary(x), discrete.is_8bit(x)
    result: dict[str, Any] = _reconstruction_metrics(estimator, x, binary)
    notes = binarize_notes + ["mse: mean squared error per value of the reconstruction E[x | z = mean code]; "
             "explained_variance: 1 - SSE/SST" + ("; bce: binary cross-entropy per example (nats)" if binary else "")]
    warnings: list[str] = []
    module = estimator.module_
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            xd = x.to(estimator._device())
            if isinstance(module, VAEModel):  # the VAE, its two-layer, VAE-GAN and tabular kin
                lik, lik_notes = _vae_likelihood(
                    module, xd, seed=seed, nll_samples=nll_samples, memory_budget_mb=memory_budget_mb,
                    eight_bit=eight_bit and not binary, progress=progress,
                )
                lat, lat_notes, lat_warnings = _latent_metrics(module, xd, seed=seed, mi_examples=mi_examples)
                result.update(lik)
                result.update(lat)
                notes += lik_notes + lat_notes
                warnings += lat_warnings
                if module.likelihood.name == "bernoulli" and not binary:
                    warnings.append(
                        "the Bernoulli likelihood on grey levels is a cross-entropy surrogate, not a likelihood of "
                        "the data: its nats cannot be compared with published figures; evaluate on binarized data "
                        "(train with binarize='dynamic') or use a continuous likelihood"
                    )
                images = math.prod(estimator.input_shape_) == 784 and estimator.input_shape_[-1] in (28, 784)
                if classifier is not None and not images:
                    raise InputError(
                        f"features: the classifier takes 28x28 images, but the model's examples have shape "
                        f"{tuple(estimator.input_shape_)}; leave features out for these data"
                    )
                if sample_quality and classifier == "digits" and not feature_nets.has_digit_classifier():
                    notes.append("no frechet_digit_distance: the digit classifier is not installed")
                elif sample_quality and classifier is not None and x.shape[0] >= 4:
                    quality, quality_notes = sample_quality_figures(
                        estimator, x, classifier, seed=seed, n_generated=n_generated, binary=binary
                    )
                    result.update(quality)
                    notes += quality_notes
                elif sample_quality and classifier is None and images:
                    notes.append(NO_FEATURES_NOTE)
            elif isinstance(module, PCAModel):
                lik, lik_notes = _pca_likelihood(estimator, xd, seed=seed, eight_bit=eight_bit and not binary)
                if nll_samples:
                    lik_notes.append("nll_samples was not needed: the probabilistic-PCA likelihood is exact")
                result.update(lik)
                notes += lik_notes
            else:
                result["reconstruction_log_likelihood"] = estimator.score(x)
                notes.append("reconstruction_log_likelihood: log p(x | z = encoder(x)) in nats, a reconstruction "
                             "score of the autoencoder, not a likelihood of x (there is no prior to integrate over)"
                             + ("; nll_samples was ignored: an autoencoder has no nll" if nll_samples else ""))
    finally:
        module.train(was_training)
    result["warnings"] = warnings
    result["notes"] = notes
    return result
