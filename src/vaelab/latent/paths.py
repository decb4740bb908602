"""Paths through latent space: interpolations between two codes, traversals along a dimension or direction.

Linear interpolation between two draws of a d-dimensional N(0, I) prior
passes close to the origin, where the norm is about sqrt(d/2) instead of the
sqrt(d) of typical samples: the midpoints decode to atypical, blurry outputs.
Spherical interpolation (Shoemake 1985; White 2016, "Sampling generative
networks") turns the direction at a constant angular rate and keeps the norm
on the line between the two end norms, so the path stays where the prior's
mass is.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vaelab.errors import InputError
from vaelab.latent.codes import codes, decode, has_standard_normal_codes

#: Traversals span this many standard deviations either side of the centre.
TRAVERSAL_SPAN = 3.0
METHODS = ("lerp", "slerp")


def _check_steps(steps: int) -> None:
    if not isinstance(steps, (int, np.integer)) or steps < 2:
        raise InputError(f"steps must be an integer >= 2 (both ends are included), got {steps!r}")


def _check_pair(za: np.ndarray, zb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    za, zb = np.asarray(za, dtype=np.float64), np.asarray(zb, dtype=np.float64)
    if za.ndim != 1 or za.shape != zb.shape:
        raise InputError(f"za and zb must be two codes of the same length, got shapes {za.shape} and {zb.shape}")
    return za, zb


def lerp(za: np.ndarray, zb: np.ndarray, steps: int) -> np.ndarray:
    """``steps`` evenly spaced points from ``za`` to ``zb`` (both included), shape (steps, D)."""
    _check_steps(steps)
    za, zb = _check_pair(za, zb)
    t = np.linspace(0.0, 1.0, steps)[:, None]
    return (1.0 - t) * za[None, :] + t * zb[None, :]


def slerp(za: np.ndarray, zb: np.ndarray, steps: int) -> np.ndarray:
    """Spherical interpolation from ``za`` to ``zb`` (both included), shape (steps, D).

    The direction turns at a constant angular rate from za/|za| to zb/|zb|
    (Shoemake 1985), and the norm goes linearly from |za| to |zb|: point t is
    ((1 - t)|za| + t|zb|) * (sin((1 - t)w) a + sin(tw) b) / sin(w), with a, b
    the unit directions and w the angle between them. Two codes of equal norm
    give a path of that norm. When a code is zero or the two directions are
    (anti)parallel the direction is undefined and the path is the straight line.
    """
    _check_steps(steps)
    za, zb = _check_pair(za, zb)
    na, nb = float(np.linalg.norm(za)), float(np.linalg.norm(zb))
    if na == 0.0 or nb == 0.0:
        return lerp(za, zb, steps)
    a, b = za / na, zb / nb
    omega = float(np.arccos(np.clip(a @ b, -1.0, 1.0)))
    if np.sin(omega) < 1e-7:
        return lerp(za, zb, steps)
    t = np.linspace(0.0, 1.0, steps)[:, None]
    direction = (np.sin((1.0 - t) * omega) * a + np.sin(t * omega) * b) / np.sin(omega)
    path = ((1.0 - t) * na + t * nb) * direction
    path[0], path[-1] = za, zb  # exact ends, not within rounding
    return path


def path(za: np.ndarray, zb: np.ndarray, steps: int, method: str = "lerp") -> np.ndarray:
    """The ``method`` ("lerp" or "slerp") path from ``za`` to ``zb``, shape (steps, D)."""
    if method not in METHODS:
        raise InputError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    return (lerp if method == "lerp" else slerp)(za, zb, steps)


def interpolate_codes(
    estimator: Any, za: np.ndarray, zb: np.ndarray, steps: int, method: str = "lerp", *, label: Any = None
) -> np.ndarray:
    """Decode the path between two codes in one batch, shape (steps, *input_shape) (under ``label``, if conditional)."""
    return decode(estimator, path(za, zb, steps, method), None if label is None else [label] * steps)


def interpolate(
    estimator: Any,
    xa: np.ndarray,
    xb: np.ndarray,
    steps: int,
    method: str = "lerp",
    *,
    labels: tuple[Any, Any] | None = None,
    label: Any = None,
) -> np.ndarray:
    """Decode the path between the codes of two examples in one batch, shape (steps, *input_shape).

    For a conditional model, ``labels`` are the two examples' own (their codes
    are those of q(z | x, y)) and the whole path is decoded under ``label``
    (default: the first example's): the path then changes the style that the
    code holds and keeps the class.
    """
    if labels is None:
        z = codes(estimator, np.stack([xa, xb]))
        return interpolate_codes(estimator, z[0], z[1], steps, method)
    z = codes(estimator, np.stack([xa, xb]), y=list(labels))
    return interpolate_codes(estimator, z[0], z[1], steps, method, label=labels[0] if label is None else label)


def traverse(
    estimator: Any,
    base: np.ndarray,
    dims: list[int],
    steps: int,
    *,
    centre: np.ndarray,
    scale: np.ndarray,
    span: float = TRAVERSAL_SPAN,
    label: Any = None,
) -> np.ndarray:
    """Vary one latent dimension at a time around ``base``, all decoded in one batch (under ``label``, if conditional).

    Row ``i`` sets dimension ``dims[i]`` to ``centre + t * scale`` for ``steps``
    values of t in [-span, span] (standard deviations of the prior, or of the
    codes, as :func:`~vaelab.latent.spread` gives), keeping the others at ``base``.

    Returns
    -------
    ndarray of shape (len(dims), steps, *input_shape)
    """
    _check_steps(steps)
    base = np.asarray(base, dtype=np.float64)
    bad = [d for d in dims if not 0 <= d < base.shape[0]]
    if bad:
        raise InputError(f"dims {bad} out of range: the latent space has dimensions 0-{base.shape[0] - 1}")
    t = np.linspace(-span, span, steps)
    rows = []
    for d in dims:
        z = np.repeat(base[None, :], steps, axis=0)
        z[:, d] = centre[d] + t * scale[d]
        rows.append(z)
    z = np.concatenate(rows)
    decoded = decode(estimator, z, None if label is None else [label] * len(z))
    return decoded.reshape(len(dims), steps, *decoded.shape[1:])


def direction_scale(estimator: Any, z: np.ndarray, direction: np.ndarray) -> float:
    """One standard deviation along ``direction``: 1 under a N(0, I) prior, else the codes' spread along it."""
    u = _unit_vector(direction)
    if has_standard_normal_codes(estimator):
        return 1.0
    return max(float((np.asarray(z, dtype=np.float64) @ u).std()), 1e-8)


def traverse_direction(
    estimator: Any,
    base: np.ndarray,
    direction: np.ndarray,
    steps: int,
    *,
    scale: float = 1.0,
    span: float = TRAVERSAL_SPAN,
) -> tuple[np.ndarray, np.ndarray]:
    """Move from ``base`` along a direction, ``t * scale`` for t in [-span, span], decoded in one batch.

    Parameters
    ----------
    base : ndarray of shape (D,)
    direction : ndarray of shape (D,)
        Any non-zero vector; only its direction counts.
    scale : float
        Length of one standard deviation along the direction (see :func:`direction_scale`).

    Returns
    -------
    decoded : ndarray of shape (steps, *input_shape)
    z : ndarray of shape (steps, D)
    """
    _check_steps(steps)
    base = np.asarray(base, dtype=np.float64)
    u = _unit_vector(direction)
    if u.shape != base.shape:
        raise InputError(f"direction must have the latent size {base.shape[0]}, got {u.shape[0]}")
    t = np.linspace(-span, span, steps)[:, None]
    z = base[None, :] + t * scale * u[None, :]
    return decode(estimator, z), z


def _unit_vector(direction: np.ndarray) -> np.ndarray:
    v = np.asarray(direction, dtype=np.float64).ravel()
    norm = float(np.linalg.norm(v))
    if not np.isfinite(norm) or norm == 0.0:
        raise InputError(f"direction must be a finite, non-zero vector, got norm {norm}")
    return v / norm
