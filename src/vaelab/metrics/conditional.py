"""Metrics of a conditional VAE, which needs the labels of the data it is measured on.

* ``elbo``: the ELBO of log p(x | y) per example, nats (one seeded posterior draw);
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


def evaluate_conditional(estimator: Any, X: Any, y: Any, *, seed: int = 0, n_per_class: int = 100) -> dict[str, Any]:
    """Metrics of a fitted conditional estimator on ``X`` with labels ``y`` (see the module docstring).

    Returns
    -------
    dict of floats plus ``notes`` (how each figure was computed) and ``warnings`` (empty).
    """
    x = estimator._check_X(X)
    recon = torch.as_tensor(np.asarray(estimator.reconstruct(x, y)))
    binary = discrete.is_binary(x)
    out: dict[str, Any] = {
        "mse": reconstruction.mean_squared_error(x, recon),
        "explained_variance": reconstruction.explained_variance(x, recon),
    }
    if binary:
        out["bce"] = float(reconstruction.binary_cross_entropy(x, recon).mean())
    out["elbo"] = float(np.mean(np.asarray(estimator.score_samples(x, y, seed=seed), dtype=np.float64)))
    notes = [
        "conditional model: every figure is given the labels y; elbo = E_q[log p(x|z,y)] - KL(q(z|x,y) || p(z)) in "
        "nats per example (one posterior draw); mse/explained_variance of E[x | z = mean code, y]"
    ]
    if is_digit_model(estimator) and features.has_digit_classifier():
        out.update(conditional_accuracy(estimator, n_per_class=n_per_class, seed=seed))
        notes.append(
            f"conditional_accuracy: share of {n_per_class} samples per class, sample(n, y=c) (decoded means), "
            "that vaelab's digit classifier labels c; mean over the 10 classes"
        )
    return {**out, "warnings": [], "notes": notes}
