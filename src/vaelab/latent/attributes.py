"""Attribute vectors: the direction in latent space from one group of examples to another.

Following the "smile vector" of White 2016 ("Sampling generative networks")
and Larsen et al. 2016, an attribute vector is the difference between the mean
posterior codes of the examples with the attribute and those without it:
v = mean(z | target) - mean(z | source). Adding ``strength * v`` to any code
moves it toward the target group; strength 1 moves the source group's mean
exactly onto the target group's. The count and spread behind each mean are
kept, so that a vector estimated from five examples is not mistaken for one
estimated from five thousand.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from vaelab.errors import InputError
from vaelab.latent.codes import codes, decode


@dataclass(frozen=True)
class AttributeVector:
    """The difference of two groups' mean codes, with what stands behind each mean.

    Attributes
    ----------
    vector : ndarray of shape (D,)
        ``target_mean - source_mean``.
    source_mean, target_mean : ndarray of shape (D,)
    source_spread, target_spread : ndarray of shape (D,)
        Standard deviation of each group's codes per dimension.
    source_count, target_count : int
        Examples in each group.
    source, target : str
        Names of the groups (class labels, or "without"/"with" an attribute).
    """

    vector: np.ndarray
    source_mean: np.ndarray
    target_mean: np.ndarray
    source_spread: np.ndarray
    target_spread: np.ndarray
    source_count: int
    target_count: int
    source: str = "source"
    target: str = "target"

    @property
    def norm(self) -> float:
        """Length of the vector."""
        return float(np.linalg.norm(self.vector))

    def apply(self, z: np.ndarray, strengths: Sequence[float] | np.ndarray | float) -> np.ndarray:
        """Codes moved by ``strength * vector``.

        Parameters
        ----------
        z : ndarray of shape (D,) or (n, D)
        strengths : float or sequence of S floats

        Returns
        -------
        ndarray of shape (S, D) for one code (or (D,) for one strength), (n, S, D) for n codes
        """
        z = np.asarray(z, dtype=np.float64)
        if z.shape[-1] != self.vector.shape[0] or z.ndim not in (1, 2):
            raise InputError(
                f"z must be a code of length {self.vector.shape[0]} or (n, {self.vector.shape[0]}), got {z.shape}"
            )
        s = np.asarray(strengths, dtype=np.float64)
        if not np.isfinite(s).all():
            raise InputError(f"strengths must be finite, got {strengths!r}")
        moved = z[..., None, :] + s.reshape(-1, 1) * self.vector  # (..., S, D)
        return moved[..., 0, :] if s.ndim == 0 else moved

    def summary(self) -> dict[str, Any]:
        """The figures behind the vector, as JSON-able numbers."""
        return {
            "source": self.source,
            "target": self.target,
            "norm": self.norm,
            "source_count": self.source_count,
            "target_count": self.target_count,
            "source_spread": float(np.sqrt((self.source_spread**2).sum())),
            "target_spread": float(np.sqrt((self.target_spread**2).sum())),
        }


def attribute_from_codes(
    z_source: np.ndarray, z_target: np.ndarray, *, source: str = "source", target: str = "target"
) -> AttributeVector:
    """The attribute vector between two groups of codes, each (n_i, D) with n_i >= 1."""
    zs, zt = np.asarray(z_source, dtype=np.float64), np.asarray(z_target, dtype=np.float64)
    for name, z in (("source", zs), ("target", zt)):
        if z.ndim != 2 or len(z) == 0:
            raise InputError(f"the {name} group must hold at least one code (an (n, D) array), got shape {z.shape}")
    if zs.shape[1] != zt.shape[1]:
        raise InputError(f"source and target codes differ in length: {zs.shape[1]} and {zt.shape[1]}")
    ms, mt = zs.mean(axis=0), zt.mean(axis=0)
    return AttributeVector(mt - ms, ms, mt, zs.std(axis=0), zt.std(axis=0), len(zs), len(zt), source, target)


def attribute_from_examples(
    estimator: Any, x_source: np.ndarray, x_target: np.ndarray, *, source: str = "source", target: str = "target"
) -> AttributeVector:
    """The attribute vector from two user-chosen sets of examples, each (n_i, *input_shape)."""
    return attribute_from_codes(codes(estimator, x_source), codes(estimator, x_target), source=source, target=target)


def attribute_from_labels(
    estimator: Any, x: np.ndarray, y: np.ndarray, source: Any, target: Any, *, z: np.ndarray | None = None
) -> AttributeVector:
    """The vector from the examples labelled ``source`` to those labelled ``target``.

    Parameters
    ----------
    x : ndarray of shape (n, *input_shape)
    y : ndarray of shape (n,)
    source, target : label values
    z : ndarray of shape (n, D), optional
        The codes of ``x`` when already computed.
    """
    y = np.asarray(y)
    if len(y) != len(x):
        raise InputError(f"y must have one label per example ({len(x)}), got {len(y)}")
    groups = []
    for name, value in (("source", source), ("target", target)):
        mask = y == np.asarray(value, dtype=y.dtype) if y.dtype.kind in "iuf" else y.astype(str) == str(value)
        if not mask.any():
            raise InputError(f"{name} label {value!r} has no examples; labels present: {_labels(y)}")
        groups.append(mask)
    z = codes(estimator, x) if z is None else np.asarray(z, dtype=np.float64)
    return attribute_from_codes(z[groups[0]], z[groups[1]], source=str(source), target=str(target))


def attribute_from_mask(
    estimator: Any, x: np.ndarray, has_attribute: np.ndarray, *, name: str = "attribute", z: np.ndarray | None = None
) -> AttributeVector:
    """The vector from the examples without a boolean attribute to those with it.

    Parameters
    ----------
    has_attribute : ndarray of bool, shape (n,)
    """
    mask = np.asarray(has_attribute)
    if mask.dtype != bool or mask.shape != (len(x),):
        raise InputError(f"has_attribute must be a boolean array of shape ({len(x)},), got {mask.dtype} {mask.shape}")
    z = codes(estimator, x) if z is None else np.asarray(z, dtype=np.float64)
    return attribute_from_codes(z[~mask], z[mask], source=f"without {name}", target=f"with {name}")


def shift(
    estimator: Any,
    attribute: AttributeVector,
    strengths: Sequence[float] | np.ndarray,
    *,
    code: np.ndarray | None = None,
    x: np.ndarray | None = None,
) -> np.ndarray:
    """Decode a code (or an example's code) moved by each strength of the attribute, in one batch.

    Give exactly one of ``code`` (D,) and ``x`` (*input_shape).

    Returns
    -------
    ndarray of shape (len(strengths), *input_shape)
    """
    if (code is None) == (x is None):
        raise InputError("shift needs exactly one of code= and x=")
    base = np.asarray(code, dtype=np.float64) if code is not None else codes(estimator, np.asarray(x)[None])[0]
    return decode(estimator, attribute.apply(base, np.atleast_1d(np.asarray(strengths, dtype=np.float64))))


def _labels(y: np.ndarray) -> str:
    values = np.unique(y)
    shown = ", ".join(map(str, values[:20].tolist()))
    return shown + (", ..." if len(values) > 20 else "")
