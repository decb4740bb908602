"""Metrics of a conditional VAE, which needs the labels of the data it is measured on.

* ``elbo``: the ELBO of log p(x | y) per example, nats (one seeded posterior draw);
* ``nll`` (with ``nll_samples`` = k > 0): the importance-sampled bound -L_k on
  -log p(x | y) (Burda et al. 2016), with ``nll_stderr`` over the examples;
* ``mse``, ``explained_variance`` (and ``bce`` on binary data) of the
  reconstruction E[x | z = mean code, y];
* ``conditional_accuracy`` (digit images with classes 0-9, when vaelab's digit
  classifier is installed): the share of samples drawn with ``sample(n, y=c)``
  that the classifier labels c, over all classes, and per class as
  ``conditional_accuracy_per_class``. It says whether the label controls the
  sample (Sohn et al. 2015 condition on it; the classifier checks the result).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from vaelab.errors import InputError
from vaelab.metrics import discrete, features, reconstruction
from vaelab.metrics.bounds import importance_sampled_nll
from vaelab.validation import check_int

DIGITS = list(range(10))


def is_digit_model(estimator: Any) -> bool:
    """A conditional model of 28x28 images over the classes 0-9 (what the digit classifier can judge)."""
    encoding = getattr(estimator, "condition_encoding_", None)
    images = math.prod(estimator.input_shape_) == 784 and estimator.input_shape_[-1] in (28, 784)
    return bool(encoding is not None and encoding.classes == DIGITS and images)


@torch.no_grad()
def conditional_accuracy(estimator: Any, *, n_per_class: int = 100, seed: int = 0) -> dict[str, Any]:
    """Share of ``sample(n_per_class, y=c)`` that the digit classifier labels c, overall and per class.

    Returns
    -------
    dict with ``conditional_accuracy`` (float) and ``conditional_accuracy_per_class`` (list of 10 floats).
    """
    if not is_digit_model(estimator):
        raise InputError(
            "conditional_accuracy needs a conditional model of 28x28 images over the classes 0-9, got one over "
            f"{getattr(getattr(estimator, 'condition_encoding_', None), 'classes', None)} with examples of shape "
            f"{tuple(estimator.input_shape_)}"
        )
    classifier = features.load_digit_classifier()
    per_class = []
    for c in DIGITS:
        samples = torch.from_numpy(np.asarray(estimator.sample(n_per_class, y=c, seed=seed + c))).float()
        predicted = torch.cat([classifier(samples[i : i + 1000]).argmax(1) for i in range(0, n_per_class, 1000)])
        per_class.append(float((predicted == c).float().mean()))
    return {"conditional_accuracy": float(np.mean(per_class)), "conditional_accuracy_per_class": per_class}


def evaluate_conditional(
    estimator: Any,
    X: Any,
    y: Any,
    *,
    seed: int = 0,
    n_per_class: int = 100,
    nll_samples: int = 0,
    binarize_seed: int | None = None,
) -> dict[str, Any]:
    """Metrics of a fitted conditional estimator on ``X`` with labels ``y`` (see the module docstring).

    Parameters
    ----------
    nll_samples : int
        k > 0 adds the importance-sampled negative log-likelihood -L_k of x given y.
    binarize_seed : int, optional
        For a model trained on binarized data: X (grey levels in [0, 1]) is
        binarized once with this seed before every figure, as
        :func:`vaelab.metrics.evaluate` does.

    Returns
    -------
    dict of floats plus ``notes`` (how each figure was computed) and ``warnings`` (empty).
    """
    nll_samples = check_int(nll_samples, "nll_samples", low=0)
    x = estimator._check_X(X)
    notes: list[str] = []
    if binarize_seed is not None:
        notes += discrete.binarize_note(x, check_int(binarize_seed, "binarize_seed"))
        if not discrete.is_binary(x):
            x = discrete.binarize_once(x, binarize_seed)
    recon = torch.as_tensor(np.asarray(estimator.reconstruct(x, y)))
    binary = discrete.is_binary(x)
    out: dict[str, Any] = {
        "mse": reconstruction.mean_squared_error(x, recon),
        "explained_variance": reconstruction.explained_variance(x, recon),
    }
    if binary:
        out["bce"] = float(reconstruction.binary_cross_entropy(x, recon).mean())
    out["elbo"] = float(np.mean(np.asarray(estimator.score_samples(x, y, seed=seed), dtype=np.float64)))
    notes.append(
        "conditional model: every figure is given the labels y; elbo = E_q[log p(x|z,y)] - KL(q(z|x,y) || p(z)) in "
        "nats per example (one posterior draw); mse/explained_variance of E[x | z = mean code, y]"
    )
    if nll_samples > 0:
        module, device = estimator.module_, estimator._device()
        was_training = module.training
        module.eval()
        try:
            with torch.no_grad():
                values, note = importance_sampled_nll(
                    module, x.to(device), nll_samples, seed=seed, c=estimator._conditions(y, x.shape[0]).to(device)
                )
        finally:
            module.train(was_training)
        out.update(values)
        notes.append(note)
    if is_digit_model(estimator) and features.has_digit_classifier():
        out.update(conditional_accuracy(estimator, n_per_class=n_per_class, seed=seed))
        notes.append(
            f"conditional_accuracy: share of {n_per_class} samples per class, sample(n, y=c) (decoded means), "
            "that vaelab's digit classifier labels c; mean over the 10 classes"
        )
    return {**out, "warnings": [], "notes": notes}
