"""Training a feature classifier: the network behind the sample-quality figures of one kind of image.

The shipped digit classifier (``scripts/train_feature_classifier.py``) and the
classifiers of ``vaelab features train`` are trained here, the same way:
Adam with a one-cycle learning rate, cross-entropy, and half of every batch
binarized by sampling (pixel on with probability equal to its grey level), so
that the features suit grey-level and binary images alike. After training,
the classifier's *floors* are measured: the Fréchet distance between the
features of its training and test images (grey, and binarized once with a
fixed seed), the smallest value a perfect model could expect against data it
was not fitted on; and precision/recall of train against test.

The architecture is :class:`~vaelab.metrics.features.DigitClassifier` (28x28
grey images); ``n_classes`` follows the labels.
"""

from __future__ import annotations

import logging
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from vaelab.errors import InputError
from vaelab.metrics.features import (
    FORMAT,
    IMAGE_SHAPE,
    DigitClassifier,
    DigitClassifierConfig,
    FeatureClassifier,
    digit_features,
)
from vaelab.metrics.fid import frechet_distance, precision_recall
from vaelab.serialization import atomic_directory, save_tensors, write_json

logger = logging.getLogger(__name__)


def as_unit_images(x: Any, what: str) -> Tensor:
    """28x28 images (uint8 0-255, or floats in [0, 1]) as a float32 tensor (N, 28, 28) in [0, 1]."""
    t = torch.as_tensor(np.asarray(x))
    n = t.shape[0] if t.dim() else 0
    if t.dim() < 2 or t[0].numel() != 784 or tuple(t.shape[1:]) not in ((784,), IMAGE_SHAPE, (1, *IMAGE_SHAPE)):
        raise InputError(f"{what} must be 28x28 grey images, of shape (N, 28, 28) or (N, 784); got {tuple(t.shape)}")
    t = t.reshape(n, *IMAGE_SHAPE)
    return t.float().div_(255.0) if t.dtype == torch.uint8 else t.float().clamp_(0.0, 1.0)


@torch.no_grad()
def accuracy(model: DigitClassifier, x: Tensor, y: Tensor, batch_size: int = 2000) -> float:
    """Share of the images ``x`` (N, 28, 28) whose predicted class is ``y`` (N,)."""
    model.eval()
    correct = sum(
        int((model(x[i : i + batch_size]).argmax(1) == y[i : i + batch_size]).sum())
        for i in range(0, len(x), batch_size)
    )
    return correct / max(1, len(x))


def fit_classifier(
    model: DigitClassifier,
    x: Tensor,
    y: Tensor,
    *,
    epochs: int = 3,
    batch_size: int = 128,
    lr: float = 3e-3,
    seed: int = 0,
    log: Callable[[str], None] | None = None,
) -> float:
    """Train ``model`` in place on images ``x`` (N, 28, 28) in [0, 1] and labels ``y`` (N,); returns seconds.

    Adam with a one-cycle schedule up to ``lr``; half of every batch is
    binarized by sampling (the features then suit binary images too).
    """
    g = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    total_steps = epochs * ((len(x) + batch_size - 1) // batch_size)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=total_steps)
    started = time.perf_counter()
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(x), generator=g)
        total, epoch_started = 0.0, time.perf_counter()
        for i in range(0, len(x), batch_size):
            idx = order[i : i + batch_size]
            xb = x[idx]
            binarize = torch.rand(len(xb), 1, 1, generator=g) < 0.5  # half the batch binarized by sampling
            xb = torch.where(binarize, torch.bernoulli(xb, generator=g), xb)
            loss = F.cross_entropy(model(xb), y[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            total += loss.item() * len(idx)
        if log is not None:
            log(f"epoch {epoch + 1}/{epochs}: loss {total / len(x):.4f} ({time.perf_counter() - epoch_started:.0f} s)")
    model.eval()
    return time.perf_counter() - started


def floors(model: DigitClassifier, x_train: Tensor, x_test: Tensor, *, seed: int = 0) -> dict[str, Any]:
    """The floors of the figures in ``model``'s features: train vs test, grey and binarized (seed + 1).

    Returns ``frechet_distance``, ``frechet_distance_binarized`` and
    ``precision_recall`` ([precision, recall] of test against train, k = 3).
    """
    g = torch.Generator().manual_seed(seed + 1)
    xtr_bin, xte_bin = torch.bernoulli(x_train, generator=g), torch.bernoulli(x_test, generator=g)
    f_train, f_test = digit_features(x_train, model=model), digit_features(x_test, model=model)
    fb_train, fb_test = digit_features(xtr_bin, model=model), digit_features(xte_bin, model=model)
    precision, recall = precision_recall(f_train, f_test, generator=torch.Generator().manual_seed(seed))
    return {
        "frechet_distance": frechet_distance(f_train, f_test),
        "frechet_distance_binarized": frechet_distance(fb_train, fb_test),
        "precision_recall": [precision, recall],
    }


def train_feature_classifier(
    x_train: Any,
    y_train: Any,
    x_test: Any,
    y_test: Any,
    *,
    name: str,
    data: str,
    epochs: int = 3,
    batch_size: int = 128,
    lr: float = 3e-3,
    seed: int = 0,
    command: str = "",
    log: Callable[[str], None] | None = None,
) -> FeatureClassifier:
    """Train a feature classifier on labelled 28x28 images and measure its accuracy and floors.

    Parameters
    ----------
    x_train, x_test : array-like of shape (N, 28, 28) or (N, 784)
        uint8 grey levels 0-255, or floats in [0, 1].
    y_train, y_test : array-like of shape (N,)
        Integer class labels 0..K-1.
    name : str
        Names the figures computed in its features (``frechet_distance[name]``).
    data : str
        What it was trained on (recorded).
    epochs, batch_size, lr, seed :
        Training settings (see :func:`fit_classifier`).
    command : str
        The command that trained it (recorded).

    Returns
    -------
    FeatureClassifier
        With ``info``: data, test accuracy (grey and binarized), floors, training settings.
    """
    if not name or any(c in name for c in "[]/\\\n"):
        raise InputError(f"name must be a non-empty word without brackets or slashes, got {name!r}")
    torch.manual_seed(seed)
    xtr, xte = as_unit_images(x_train, "x_train"), as_unit_images(x_test, "x_test")
    ytr, yte = torch.as_tensor(np.asarray(y_train)).long(), torch.as_tensor(np.asarray(y_test)).long()
    if ytr.shape != (len(xtr),) or yte.shape != (len(xte),) or len(xtr) < 2 or len(xte) < 2:
        raise InputError(
            f"need at least 2 labelled images per split, one label each; got {len(xtr)} train images with labels of "
            f"shape {tuple(ytr.shape)}, {len(xte)} test images with labels of shape {tuple(yte.shape)}"
        )
    if int(min(ytr.min(), yte.min())) < 0:
        raise InputError("labels must be class indices 0..K-1, found a negative label")
    config = DigitClassifierConfig(n_classes=max(2, int(max(ytr.max(), yte.max())) + 1))
    model = DigitClassifier(config)
    seconds = fit_classifier(model, xtr, ytr, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, log=log)
    g = torch.Generator().manual_seed(seed + 1)
    acc, acc_bin = accuracy(model, xte, yte), accuracy(model, torch.bernoulli(xte, generator=g), yte)
    if log is not None:
        log(f"test accuracy: {acc:.4f} (grey), {acc_bin:.4f} (binarized)")
    info = {
        "format": FORMAT,
        "name": name,
        "data": data,
        "config": config.to_dict(),
        "feature_layer": "ReLU output of the hidden fully connected layer",
        "parameters": sum(p.numel() for p in model.parameters()),
        "n_train": len(xtr),
        "n_test": len(xte),
        "test_accuracy": acc,
        "test_accuracy_binarized": acc_bin,
        "floor": floors(model, xtr, xte, seed=seed),
        "training": {
            "command": command,
            "epochs": epochs,
            "batch_size": batch_size,
            "optimizer": f"Adam, one-cycle learning rate up to {lr}",
            "seed": seed,
            "seconds": round(seconds, 1),
            "machine": f"{platform.machine()}, {torch.get_num_threads()} torch threads, torch {torch.__version__}",
        },
    }
    return FeatureClassifier(name, model, info)


def save_feature_classifier(
    classifier: FeatureClassifier, path: str | os.PathLike[str], *, overwrite: bool = False
) -> Path:
    """Write ``config.json`` + ``model.safetensors`` into the folder ``path`` (atomically); returns it."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise FileExistsError(f"{path} is a file; a feature classifier is saved as a folder")
    if path.is_dir() and any(path.iterdir()) and not overwrite:
        raise FileExistsError(f"{path} already holds files; allow overwriting or choose another folder")
    with atomic_directory(path, overwrite=path.exists()) as tmp:
        write_json(tmp / "config.json", classifier.info)
        save_tensors(tmp / "model.safetensors", classifier.model.state_dict(), metadata={"format": FORMAT})
    return path
