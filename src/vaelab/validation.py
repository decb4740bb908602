"""Checks of user input, shared by every estimator.

Each check raises :class:`~vaelab.errors.InputError` (a ``ValueError``) whose
message names the argument, what was expected and what was received.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from vaelab.errors import InputError, NotFittedError


def as_tensor(X: Any, *, name: str = "X", min_rank: int = 2, max_rank: int = 4, keep_float64: bool = False) -> Tensor:
    """Validate a batch of examples and return it as a float32 CPU tensor.

    Parameters
    ----------
    X : array-like or Tensor of shape (n, d), (n, H, W) or (n, C, H, W)
        Numeric values. ``uint8`` data (images) is scaled to [0, 1].
    name : str
        The argument's name, for error messages.
    keep_float64 : bool
        Keep float64 input in float64 (closed-form fits that must match float64 references).

    Returns
    -------
    Tensor of float32 (or float64) with the same shape as ``X``.
    """
    if isinstance(X, Tensor):
        t = X.detach().cpu()
    else:
        try:
            arr = np.asarray(X)
        except (ValueError, TypeError) as exc:
            raise InputError(f"{name} could not be read as an array ({exc}); pass a NumPy array or a torch tensor") from None
        if arr.dtype.kind not in "biuf":
            raise InputError(
                f"{name} must hold numbers, got an array of dtype {arr.dtype}; convert strings or objects "
                "to numbers first (for tables with categories, encode them numerically)"
            )
        t = torch.from_numpy(np.ascontiguousarray(arr))
    if t.is_complex() or not (t.is_floating_point() or t.dtype in (torch.bool, torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)):
        raise InputError(f"{name} must hold real numbers, got dtype {t.dtype}")
    if not min_rank <= t.dim() <= max_rank:
        hint = " (use X.reshape(-1, 1) for one feature or X.reshape(1, -1) for one example)" if t.dim() == 1 else ""
        raise InputError(
            f"{name} must have shape (n, d), (n, H, W) or (n, C, H, W), got shape {tuple(t.shape)}{hint}"
        )
    if t.numel() == 0:
        raise InputError(f"{name} is empty (shape {tuple(t.shape)}); it needs at least one example and one feature")
    if t.dtype == torch.uint8:
        t = t.to(torch.float32) / 255.0  # 8-bit images -> [0, 1]
    elif not (keep_float64 and t.dtype == torch.float64):
        t = t.to(torch.float32)
    if not _all_finite(t):
        n_nan, n_inf = int(torch.isnan(t).sum()), int(torch.isinf(t).sum())
        raise InputError(
            f"{name} contains {n_nan} NaN and {n_inf} infinite values; remove or impute them before fitting"
        )
    return t


def _all_finite(t: Tensor) -> bool:
    """Whether every value of the float tensor ``t`` is finite.

    On CPU a float64 sum decides first (no temporary the size of ``t``, about
    5x faster): it is finite exactly when every float32 value is, and for
    float64 values unless they are near the largest float, where the
    element-wise check settles it.
    """
    if t.device.type == "cpu" and t.dtype in (torch.float32, torch.float64) and not t.requires_grad:
        with np.errstate(over="ignore", invalid="ignore"):
            if np.isfinite(np.sum(t.numpy(), dtype=np.float64)):
                return True
    return bool(torch.isfinite(t).all())


def check_example_shape(X: Tensor, expected: tuple[int, ...], *, name: str = "X") -> None:
    """Raise unless every example of ``X`` has shape ``expected``."""
    if tuple(X.shape[1:]) != tuple(expected):
        raise InputError(
            f"{name} has examples of shape {tuple(X.shape[1:])}, but the model was fitted on examples of shape "
            f"{tuple(expected)} (X of shape (n, {', '.join(map(str, expected))}))"
        )


def check_is_fitted(estimator: Any, attribute: str = "module_") -> None:
    """Raise :class:`NotFittedError` if ``estimator`` has not been fitted."""
    if not hasattr(estimator, attribute):
        raise NotFittedError(
            f"this {type(estimator).__name__} is not fitted yet; call fit(X) first (or vaelab.load a saved model)"
        )


def check_int(value: Any, name: str, *, low: int | None = None, high: int | None = None) -> int:
    """Raise unless ``value`` is an integer in [low, high]."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InputError(f"{name} must be an integer, got {value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f">= {low}" if high is None else f"between {low} and {high}"
        raise InputError(f"{name} must be {bounds}, got {value}")
    return int(value)
