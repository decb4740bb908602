"""Sample quality of a VAE: Fréchet distance, precision and recall of its samples in a classifier's features.

The features are those of a classifier trained on images of the same kind
(:mod:`vaelab.metrics.features`): the shipped digit classifier
(``"digits"``: the Fréchet digit distance, FDD) or one trained by ``vaelab
features train`` (figures named after it). The distances are
:mod:`vaelab.metrics.fid`'s.

References
----------
Heusel et al. 2017, "GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash Equilibrium", NIPS.
Kynkäänniemi et al. 2019, "Improved Precision and Recall Metric for Assessing Generative Models", NeurIPS.
"""

from __future__ import annotations

import os
from typing import Any

import torch
from torch import Tensor

from vaelab.errors import InputError
from vaelab.metrics import features as feature_nets
from vaelab.metrics import fid


def sample_quality_figures(
    estimator: Any, x: Tensor, classifier: Any, *, seed: int, n_generated: int, binary: bool
) -> tuple[dict[str, float], list[str]]:
    """Fréchet distance, precision and recall of the model's samples against x, in ``classifier``'s features.

    ``classifier`` is ``"digits"`` (the shipped digit classifier: FDD) or a
    :class:`~vaelab.metrics.feature_nets.FeatureClassifier` (figures named after it).
    """
    n = min(x.shape[0], n_generated)
    sample_binary = binary and estimator.module_.likelihood.name == "bernoulli"
    samples = torch.from_numpy(estimator.sample(n, seed=seed, mean=not sample_binary)).float()
    real = x[torch.randperm(x.shape[0], generator=torch.Generator().manual_seed(seed + 6))[:n]].cpu()
    digits = isinstance(classifier, str)
    embed = feature_nets.digit_features if digits else classifier.features
    f_real, f_gen = embed(real), embed(samples)
    precision, recall = fid.precision_recall(f_real, f_gen, generator=torch.Generator().manual_seed(seed + 7))
    kind = "draws x ~ p(x|z) (binary)" if sample_binary else "decoded means E[x|z]"
    pr_note = "precision/recall: Kynkäänniemi et al. 2019, k = 3"
    if digits:
        out = {"frechet_digit_distance": fid.frechet_distance(f_real, f_gen), "precision": precision, "recall": recall}
        info = feature_nets.digit_classifier_info()
        floor_key = "fdd_floor_train_vs_test_binarized" if binary else "fdd_floor_train_vs_test"
        if floor_key in info:
            out["frechet_digit_distance_floor"] = float(info[floor_key])
        return out, [
            f"frechet_digit_distance (FDD, not Inception FID): Fréchet distance between {n} model samples "
            f"({kind}, z ~ p(z)) and {n} examples of X in the {info['config']['feature_dim']}-d features of "
            f"vaelab's digit classifier (MNIST test accuracy {info.get('mnist_test_accuracy', float('nan')):.2%}); "
            f"frechet_digit_distance_floor is MNIST train vs test; {pr_note}"
        ]
    name, info = classifier.name, classifier.info
    out = {f"frechet_distance[{name}]": fid.frechet_distance(f_real, f_gen)}
    floor = classifier.floor(binary)
    if floor is not None:
        out[f"frechet_distance_floor[{name}]"] = floor
    out.update({f"precision[{name}]": precision, f"recall[{name}]": recall})
    return out, [
        f"frechet_distance[{name}] (not Inception FID): Fréchet distance between {n} model samples ({kind}, "
        f"z ~ p(z)) and {n} examples of X in the {info['config']['feature_dim']}-d features of the classifier "
        f"{name!r} trained on {info.get('data', '?')} (test accuracy {float(info.get('test_accuracy', 'nan')):.2%}); "
        f"frechet_distance_floor[{name}] is its training vs test data{' (binarized)' if binary else ''}; {pr_note}"
    ]


NO_FEATURES_NOTE = (
    "no sample-quality figures (Fréchet distance, precision, recall): they need a classifier trained on images "
    "of the same kind, and none was given. The shipped digit classifier fits MNIST-like digits only (features="
    "'digits', chosen by the command line for mnist and binarized-mnist); for other labelled 28x28 images train "
    "one with `vaelab features train DATA --out features/NAME` and pass it (--features, or features=)"
)


def feature_classifier(features_: Any) -> Any:
    """``evaluate``'s ``features`` argument: "digits", a FeatureClassifier or None (a path is loaded)."""
    if features_ is None or features_ == "digits" or isinstance(features_, feature_nets.FeatureClassifier):
        return features_
    if isinstance(features_, (str, os.PathLike)):
        return feature_nets.load_feature_classifier(features_)
    raise InputError(
        f"features must be 'digits', a FeatureClassifier, the folder of one, or None; got {type(features_).__name__}"
    )
