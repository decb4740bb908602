"""Labels to condition vectors, for the conditional VAE (Sohn et al. 2015).

A conditional estimator takes ``y`` in one of three forms and turns it into the
float matrix c of shape (n, K) that the model reads:

- class labels, shape (n,): integers, strings, or floats with integral values.
  The sorted distinct labels seen by ``fit`` become ``classes_`` and c is their
  one-hot code (K = number of classes);
- one-hot rows, shape (n, K) of 0/1 with one 1 per row: classes 0..K-1;
- a numeric attribute vector, shape (n, K) (or (n,) floats that are not all
  integral): c = y as float32, K = its width.

:class:`ConditionEncoding` is fitted once, saved with the model as JSON and
applied to every later ``y`` (``transform``, ``sample``, ...), which it checks:
a class unseen in training, a float where a class is expected or a wrong
length is an :class:`~vaelab.errors.InputError` naming what was expected.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from vaelab.errors import InputError

CLASSES, ATTRIBUTES = "classes", "attributes"


def _is_one_hot(y: np.ndarray) -> bool:
    return y.ndim == 2 and y.shape[1] >= 2 and bool(np.isin(y, (0, 1)).all()) and bool((y.sum(1) == 1).all())


def _as_array(y: Any, name: str) -> np.ndarray:
    if isinstance(y, Tensor):
        y = y.detach().cpu().numpy()
    arr = np.asarray(y)
    if arr.dtype == object:
        arr = arr.astype(str)
    if arr.ndim not in (0, 1, 2):
        raise InputError(f"{name} must have shape (n,) (class labels) or (n, K) (one-hot or attributes), got {arr.shape}")
    return arr


@dataclass
class ConditionEncoding:
    """How labels become condition vectors; fitted on the training labels.

    Attributes
    ----------
    kind : str
        ``"classes"`` or ``"attributes"``.
    dim : int
        K, the width of the condition vector.
    classes : list or None
        The sorted class labels (ints or strings), for ``kind="classes"``.
    """

    kind: str
    dim: int
    classes: list[Any] | None = None

    # ------------------------------------------------------------------ fit

    @classmethod
    def fit(cls, y: Any, n: int, name: str = "y") -> "ConditionEncoding":
        """Infer the encoding from training labels ``y`` for ``n`` examples."""
        if y is None:
            raise InputError(f"a conditional model needs labels: fit(X, {name}) with {name} of length {n}, got {name}=None")
        arr = _as_array(y, name)
        _check_length(arr, n, name)
        if arr.ndim == 1:
            if arr.dtype.kind in "iub" or arr.dtype.kind in "US":
                return cls(CLASSES, len(np.unique(arr)), _plain(np.unique(arr)))
            if arr.dtype.kind == "f":
                if not np.isfinite(arr).all():
                    raise InputError(f"{name} holds NaN or infinite values")
                if np.array_equal(arr, np.round(arr)):
                    classes = np.unique(arr.astype(np.int64))
                    return cls(CLASSES, len(classes), _plain(classes))
                return cls(ATTRIBUTES, 1)
            raise InputError(f"{name} must hold numbers or strings, got dtype {arr.dtype}")
        if arr.dtype.kind not in "iubf" or not np.isfinite(arr.astype(np.float64)).all():
            raise InputError(f"{name} of shape (n, K) must be finite numbers (one-hot or attributes), got dtype {arr.dtype}")
        if _is_one_hot(arr):
            return cls(CLASSES, arr.shape[1], list(range(arr.shape[1])))
        return cls(ATTRIBUTES, arr.shape[1])

    # ---------------------------------------------------------------- apply

    def encode(self, y: Any, n: int | None = None, name: str = "y") -> Tensor:
        """Condition vectors of shape (n, K), float32, for labels ``y`` in a form ``fit`` accepts.

        A single class label (a scalar) with ``n`` given is repeated n times.
        """
        if y is None:
            raise InputError(
                f"this model is conditional ({self.describe()}); pass {name}=... "
                f"({'a class label or one per example' if self.kind == CLASSES else f'attributes of shape (n, {self.dim})'})"
            )
        arr = _as_array(y, name)
        if arr.ndim == 0 and n is not None and self.kind == CLASSES:
            arr = np.repeat(arr[None], n)
        if n is not None:
            _check_length(arr, n, name)
        if self.kind == ATTRIBUTES:
            if arr.ndim == 1 and self.dim == 1:
                arr = arr[:, None]
            if arr.ndim != 2 or arr.shape[1] != self.dim or arr.dtype.kind not in "iubf":
                raise InputError(f"{name} must be numeric attributes of shape (n, {self.dim}), got {arr.dtype} {arr.shape}")
            return torch.as_tensor(arr.astype(np.float32))
        if arr.ndim == 2:
            if arr.shape[1] != self.dim or not _is_one_hot(arr):
                raise InputError(
                    f"{name} of shape {arr.shape} is not one-hot over the {self.dim} classes {self.classes}; "
                    "give class labels of shape (n,) or one-hot rows of shape (n, K)"
                )
            return torch.as_tensor(arr.astype(np.float32))
        index = self.class_index(arr, name)
        return torch.nn.functional.one_hot(torch.as_tensor(index), self.dim).float()

    def class_index(self, labels: np.ndarray, name: str = "y") -> np.ndarray:
        """Positions in ``classes`` of class labels of shape (n,); an error for a class not seen in training."""
        classes = self.classes or []
        if labels.dtype.kind == "f":
            if not np.array_equal(labels, np.round(labels)):
                bad = labels[labels != np.round(labels)][:3].tolist()
                raise InputError(
                    f"{name} holds float labels {bad}, but this model is conditioned on the classes {classes}; "
                    "give class labels (integers) or one-hot rows"
                )
            labels = labels.astype(np.int64)
        lookup = {str(c): i for i, c in enumerate(classes)}
        keys = [str(v) for v in labels.tolist()]
        unseen = sorted({k for k in keys if k not in lookup})
        if unseen:
            raise InputError(f"{name} holds classes {unseen[:5]} not seen in training; the model knows the classes {classes}")
        return np.asarray([lookup[k] for k in keys], dtype=np.int64)

    def describe(self) -> str:
        if self.kind == CLASSES:
            return f"{self.dim} classes {self.classes}"
        return f"{self.dim} numeric attributes"

    # ------------------------------------------------------------ save/load

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "dim": self.dim, "classes": self.classes}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ConditionEncoding":
        return cls(str(data["kind"]), int(data["dim"]), data.get("classes"))


def _plain(values: np.ndarray) -> list[Any]:
    """Class labels as JSON-able Python values."""
    return [v.item() if hasattr(v, "item") else v for v in values]


def _check_length(arr: np.ndarray, n: int, name: str) -> None:
    if arr.ndim == 0 or arr.shape[0] != n:
        got = "a single value" if arr.ndim == 0 else f"{arr.shape[0]} labels"
        raise InputError(f"{name} must hold one label per example ({n}), got {got}")
