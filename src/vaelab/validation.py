"""Checks of user input, shared by every estimator.

Each check raises :class:`~vaelab.errors.InputError` (a ``ValueError``) whose
message names the argument, what was expected and what was received.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import Tensor

from vaelab.errors import InputError, InputTypeError, NotFittedError


def _is_sparse(X: Any) -> bool:
    """Whether ``X`` is a SciPy sparse matrix/array or a sparse torch tensor (without importing SciPy)."""
    if isinstance(X, Tensor):
        return X.layout != torch.strided
    return type(X).__module__.startswith("scipy.sparse") and hasattr(X, "toarray")


def as_tensor(
    X: Any,
    *,
    name: str = "X",
    min_rank: int = 2,
    max_rank: int = 4,
    keep_float64: bool = False,
    check_finite: bool = True,
) -> Tensor:
    """Validate a batch of examples and return it as a float32 CPU tensor.

    Error messages open with scikit-learn's wording where its estimator checks
    look for it (sparse input, complex data, objects, empty data, 1-D input),
    followed by vaelab's explanation.

    Parameters
    ----------
    X : array-like or Tensor of shape (n, d), (n, H, W) or (n, C, H, W)
        Numeric values. ``uint8`` data (images) is scaled to [0, 1]; an object
        array is converted to float64 when every entry is a number.
    name : str
        The argument's name, for error messages.
    keep_float64 : bool
        Keep float64 input in float64 (closed-form fits that must match float64 references).
    check_finite : bool
        Raise on NaN or infinite values (False: the caller checks, see :func:`check_finite_sums`).

    Returns
    -------
    Tensor of float32 (or float64) with the same shape as ``X``.

    Raises
    ------
    InputError
        Sparse, complex, empty, NaN or wrongly shaped input.
    InputTypeError
        Objects that are not numbers (a ``TypeError``).
    """
    if _is_sparse(X):
        raise InputError(
            f"Sparse data was passed for {name}, but dense data is required. Use '.toarray()' to convert to a "
            "dense numpy array: vaelab's models read every value of every example"
        )
    if isinstance(X, Tensor):
        t = X.detach().cpu()
    else:
        try:
            arr = np.asarray(X)
        except (ValueError, TypeError) as exc:
            raise InputError(f"{name} could not be read as an array ({exc}); pass a NumPy array or a torch tensor") from None
        if arr.dtype.kind == "O":
            try:
                arr = arr.astype(np.float64)
            except TypeError as exc:  # numpy: "float() argument must be a string or a (real) number, not 'dict'"
                raise InputTypeError(
                    f"{exc}: {name} is an array of objects and one of them is not a number; convert the "
                    "entries to numbers first (for tables with categories, encode them numerically)"
                ) from None
            except ValueError as exc:
                raise InputError(
                    f"{name} is an array of objects that are not all numbers ({exc}); convert the entries to "
                    "numbers first (for tables with categories, encode them numerically)"
                ) from None
        if arr.dtype.kind == "c":
            raise InputError(f"Complex data not supported: {name} must hold real numbers, got dtype {arr.dtype}")
        if arr.dtype.kind not in "biuf":
            raise InputError(
                f"{name} must hold numbers, got an array of dtype {arr.dtype}; convert strings or objects "
                "to numbers first (for tables with categories, encode them numerically)"
            )
        # a read-only array (a memmap opened with mode "r") is copied: torch tensors are writable
        t = torch.from_numpy(np.ascontiguousarray(arr) if arr.flags.writeable else np.array(arr, order="C"))
    if t.is_complex():
        raise InputError(f"Complex data not supported: {name} must hold real numbers, got dtype {t.dtype}")
    if not (t.is_floating_point() or t.dtype in (torch.bool, torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)):
        raise InputError(f"{name} must hold real numbers, got dtype {t.dtype}")
    if not min_rank <= t.dim() <= max_rank:
        shapes = "(n, d), (n, H, W) or (n, C, H, W)" if min_rank == 2 and max_rank == 4 else f"of rank {min_rank} to {max_rank}"
        if t.dim() == 1 and min_rank == 2:
            raise InputError(
                f"Expected 2D array, got 1D array instead ({name} of shape {tuple(t.shape)}). Reshape your data "
                f"either using {name}.reshape(-1, 1) if your data has a single feature or {name}.reshape(1, -1) "
                f"if it contains a single sample; {name} must have shape {shapes}"
            )
        raise InputError(f"{name} must have shape {shapes}, got shape {tuple(t.shape)}")
    if t.numel() == 0:
        what = "0 sample(s)" if t.shape[0] == 0 else "0 feature(s)"
        raise InputError(
            f"Found array with {what} (shape={tuple(t.shape)}) while a minimum of 1 is required. "
            f"{name} is empty; it needs at least one example and one feature"
        )
    if t.dtype == torch.uint8:
        t = t.to(torch.float32) / 255.0  # 8-bit images -> [0, 1]
    elif not (keep_float64 and t.dtype == torch.float64):
        t = t.to(torch.float32)
    if check_finite and not _all_finite(t):
        raise_not_finite(t, name)
    return t


def raise_not_finite(t: Tensor, name: str) -> None:
    """Raise the error for NaN or infinite values in ``t``, with their counts."""
    n_nan, n_inf = int(torch.isnan(t).sum()), int(torch.isinf(t).sum())
    raise InputError(
        f"{name} contains {n_nan} NaN and {n_inf} infinite values; remove or impute them first"
    )


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


def finite_column_sums(X: Tensor, *, name: str = "X") -> Tensor:
    """Float64 sums over the examples of ``X`` (n, ...) per feature, shape (d,); raises on NaN/inf in ``X``.

    One pass over the data that both sums (for a mean) and checks: the sums
    are finite exactly when every float32 value is (and float64 values unless
    they are near the largest float, where the element-wise check settles it),
    so a caller of ``as_tensor(check_finite=False)`` reads the data once
    instead of twice.

    float64 data is summed in float64. float32 data on CPU is summed in
    float32 over blocks of ``_SUM_BLOCK`` rows, and those partial sums in
    float64: that is 1.2-1.4x faster than casting every value (NumPy's
    casting reduction; ``benchmarks/pca_parts.py``), and each partial sum of 16 values rounds at most 15
    times, so the result is within 15 float32 roundings (1e-6 relative) of
    the exact sum at worst and usually within 1e-8: more exact than the float32
    data's own Gram matrix that PCA forms from it.
    """
    flat = X.reshape(X.shape[0], -1)
    if flat.device.type == "cpu":
        a = flat.numpy()
        with np.errstate(over="ignore", invalid="ignore"):
            if a.dtype == np.float32 and a.flags.c_contiguous:
                m = a.shape[0] // _SUM_BLOCK * _SUM_BLOCK
                blocks = a[:m].reshape(-1, _SUM_BLOCK, a.shape[1]).sum(1)
                sums_np = np.add.reduce(blocks, axis=0, dtype=np.float64) + np.add.reduce(a[m:], axis=0, dtype=np.float64)
            else:
                sums_np = np.add.reduce(a, axis=0, dtype=np.float64)
        sums = torch.from_numpy(sums_np)
    else:
        sums = flat.sum(0, dtype=torch.float64)
    if not bool(np.isfinite(sums.cpu().numpy()).all()) and not _all_finite(flat):
        raise_not_finite(flat, name)
    return sums


#: rows summed in float32 before the float64 accumulation in ``finite_column_sums``
_SUM_BLOCK = 16


def check_example_shape(X: Tensor, expected: tuple[int, ...], *, name: str = "X", owner: str = "the model") -> None:
    """Raise unless every example of ``X`` has shape ``expected``.

    When the number of features differs, the message opens with scikit-learn's
    "X has 3 features, but PCA is expecting 4 features as input"; ``owner``
    names the estimator there.
    """
    got = tuple(X.shape[1:])
    if got == tuple(expected):
        return
    detail = (
        f"{name} has examples of shape {got}, but the model was fitted on examples of shape "
        f"{tuple(expected)} ({name} of shape (n, {', '.join(map(str, expected))}))"
    )
    n_got, n_expected = math.prod(got), math.prod(expected)
    if n_got != n_expected:
        detail = f"{name} has {n_got} features, but {owner} is expecting {n_expected} features as input: " + detail
    raise InputError(detail)


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
