"""A small digit classifier whose hidden layer is the feature space of the sample-quality metrics.

The Inception network behind FID is a download of ~100 MB trained on natural
images, and its features say little about 28x28 digits. vaelab instead ships
a small CNN trained on MNIST by ``scripts/train_feature_classifier.py``
(weights in ``vaelab/assets/digit_classifier.safetensors``, its config, the
training command, its MNIST test accuracy and the train-vs-test Fréchet
distance in ``digit_classifier.json``). The Fréchet distance in its feature
space is the *Fréchet digit distance* (FDD); it is comparable only with other
FDD figures from the same weights, never with an Inception FID. Its features
describe digits: they are used for MNIST-like data only.

For other labelled 28x28 images (Fashion-MNIST, ...) a classifier of the same
architecture is trained by ``vaelab features train``
(:mod:`vaelab.metrics.feature_training`) into a folder of ``config.json`` +
``model.safetensors``; :func:`load_feature_classifier` reads it back as a
:class:`FeatureClassifier`, whose name, test accuracy and floor go with the
figures computed in its features.

Architecture (the LeNet pattern of LeCun et al. 1998 with ReLUs and max
pooling): three 3x3 convolutions with 2x2 max pooling, 28 -> 14 -> 7 -> 3,
then a fully connected layer whose ReLU output is the feature vector, then
the 10-way linear classifier. Nothing is loaded until features are asked for.

References
----------
LeCun, Bottou, Bengio & Haffner 1998, "Gradient-based learning applied to document recognition", Proc. IEEE.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from vaelab.errors import InputError, ModelFileError
from vaelab.serialization import load_tensors, read_json

ASSET_WEIGHTS = "digit_classifier.safetensors"
ASSET_INFO = "digit_classifier.json"
IMAGE_SHAPE = (28, 28)
#: ``format`` of a trained feature classifier's config.json
FORMAT = "vaelab.feature_classifier"


@dataclass(frozen=True)
class DigitClassifierConfig:
    """Architecture of the feature network, stored in ``digit_classifier.json``.

    Parameters
    ----------
    channels : tuple of int
        Output channels of the three convolutions.
    feature_dim : int
        Width of the hidden layer used as the feature space.
    n_classes : int
    """

    channels: tuple[int, int, int] = (16, 32, 64)
    feature_dim: int = 128
    n_classes: int = 10

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "channels": list(self.channels)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "DigitClassifierConfig":
        return cls(
            channels=tuple(data["channels"]), feature_dim=int(data["feature_dim"]), n_classes=int(data["n_classes"])
        )


class DigitClassifier(nn.Module):
    """CNN for 28x28 grey-level images with values in [0, 1].

    ``features(x)``: (N, 28, 28), (N, 1, 28, 28) or (N, 784) -> (N, feature_dim);
    ``forward(x)``: -> class logits (N, n_classes).
    """

    def __init__(self, config: DigitClassifierConfig = DigitClassifierConfig()) -> None:
        super().__init__()
        self.config = config
        c1, c2, c3 = config.channels
        layers: list[nn.Module] = []
        for c_in, c_out in ((1, c1), (c1, c2), (c2, c3)):
            layers += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]  # halves H, W
        self.conv = nn.Sequential(*layers)  # (N, 1, 28, 28) -> (N, c3, 3, 3)
        self.hidden = nn.Linear(c3 * 3 * 3, config.feature_dim)
        self.head = nn.Linear(config.feature_dim, config.n_classes)

    @staticmethod
    def as_images(x: Tensor) -> Tensor:
        """(N, 784) / (N, 28, 28) / (N, 1, 28, 28) -> (N, 1, 28, 28)."""
        if x.dim() >= 2 and tuple(x.shape[1:]) in ((784,), IMAGE_SHAPE, (1, *IMAGE_SHAPE)):
            return x.reshape(x.shape[0], 1, *IMAGE_SHAPE)
        raise InputError(
            f"the digit feature network takes 28x28 images of shape (N, 784), (N, 28, 28) or (N, 1, 28, 28), "
            f"got shape {tuple(x.shape)}"
        )

    def features(self, x: Tensor) -> Tensor:
        """Feature vectors (N, feature_dim): the ReLU output of the hidden layer."""
        h = self.conv((self.as_images(x) - 0.5) / 0.5)  # [0, 1] -> [-1, 1]
        return torch.relu(self.hidden(h.flatten(1)))

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x))


def _asset(name: str) -> Any:
    return importlib.resources.files("vaelab").joinpath("assets", name)


def has_digit_classifier() -> bool:
    """Whether the package ships the trained weights (``vaelab/assets/digit_classifier.*``)."""
    return _asset(ASSET_WEIGHTS).is_file() and _asset(ASSET_INFO).is_file()


def digit_classifier_info() -> dict[str, Any]:
    """The JSON record of the shipped classifier: config, training command, test accuracy, FDD floor."""
    if not has_digit_classifier():
        raise ModelFileError(
            f"the digit classifier is not installed (vaelab/assets/{ASSET_WEIGHTS} and {ASSET_INFO}); "
            "train it with scripts/train_feature_classifier.py"
        )
    return json.loads(_asset(ASSET_INFO).read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=1)
def load_digit_classifier() -> DigitClassifier:
    """The shipped classifier in eval mode on the CPU (loaded once per process)."""
    from safetensors import SafetensorError
    from safetensors.torch import load

    info = digit_classifier_info()
    model = DigitClassifier(DigitClassifierConfig.from_dict(info["config"]))
    try:
        weights = load(_asset(ASSET_WEIGHTS).read_bytes())
    except (SafetensorError, ValueError, RuntimeError) as exc:
        raise ModelFileError(f"vaelab/assets/{ASSET_WEIGHTS} is not a valid safetensors file ({exc})") from None
    model.load_state_dict({k: v.float() for k, v in weights.items()})
    return model.eval()


@torch.no_grad()
def digit_features(images: Tensor, *, batch_size: int = 2000, model: DigitClassifier | None = None) -> Tensor:
    """Features of 28x28 images in [0, 1] under the shipped classifier (or ``model``).

    Parameters
    ----------
    images : Tensor of shape (N, 784), (N, 28, 28) or (N, 1, 28, 28)
    batch_size : int
    model : DigitClassifier, optional
        Defaults to :func:`load_digit_classifier`.

    Returns
    -------
    Tensor of shape (N, feature_dim), float32 on the CPU.
    """
    model = model if model is not None else load_digit_classifier()
    x = images.detach().float().cpu()
    return torch.cat([model.features(x[i : i + batch_size]) for i in range(0, x.shape[0], batch_size)])


@dataclass(frozen=True)
class FeatureClassifier:
    """A trained classifier whose features the sample-quality figures are computed in.

    Attributes
    ----------
    name : str
        Names the figures: ``frechet_distance[name]``, ``precision[name]``, ...
    model : DigitClassifier
        The network (eval mode, CPU); ``features`` maps (N, 28, 28) images in [0, 1] to (N, F).
    info : dict
        Its record: data set, test accuracy, floors, training command.
    """

    name: str
    model: DigitClassifier
    info: dict[str, Any]

    @property
    def input_shape(self) -> tuple[int, int]:
        return IMAGE_SHAPE

    def floor(self, binary: bool) -> float | None:
        """The Fréchet distance between its training and test data (binarized for binary data), if recorded."""
        floors = self.info.get("floor", {})
        value = floors.get("frechet_distance_binarized" if binary else "frechet_distance")
        return None if value is None else float(value)

    def features(self, images: Tensor) -> Tensor:
        """(N, 28, 28), (N, 784) or (N, 1, 28, 28) in [0, 1] -> (N, F) features, float32 on the CPU."""
        return digit_features(images, model=self.model)


def load_feature_classifier(path: str | os.PathLike[str]) -> FeatureClassifier:
    """Read a classifier written by ``vaelab features train`` (a folder, or its ``config.json``).

    Raises
    ------
    ModelFileError
        If the folder or its files are missing, the config is not a vaelab
        feature classifier's, or the weights are corrupt or do not fit it.
    """
    path = Path(path)
    folder = path.parent if path.name == "config.json" else path
    if not (folder / "config.json").is_file():
        raise ModelFileError(
            f"{path} is not a feature classifier folder (config.json + model.safetensors, written by "
            "`vaelab features train`)"
        )
    info = read_json(folder / "config.json", "feature classifier config")
    if not isinstance(info, dict) or info.get("format") != FORMAT:
        raise ModelFileError(
            f"{folder / 'config.json'} is not a vaelab feature classifier (its format is not {FORMAT!r})"
        )
    try:
        model = DigitClassifier(DigitClassifierConfig.from_dict(info["config"]))
        name = str(info["name"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{folder / 'config.json'} is malformed ({exc!r})") from None
    if not (folder / "model.safetensors").is_file():
        raise ModelFileError(f"{folder / 'model.safetensors'}: no such file; train the classifier again")
    weights = load_tensors(folder / "model.safetensors")
    try:
        model.load_state_dict({k: v.float() for k, v in weights.items()})
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[1:2] or [str(exc)]
        raise ModelFileError(
            f"{folder / 'model.safetensors'} does not fit the network its config.json describes ({first[0].strip()})"
        ) from None
    return FeatureClassifier(name, model.eval(), info)
