"""User data in array files: NumPy ``.npy`` / ``.npz`` and numeric CSV.

NumPy files are always opened with ``allow_pickle=False``: an object array
would run arbitrary code on load, so vaelab refuses it.
"""

from __future__ import annotations

import csv
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from vaelab.errors import DataFileError, InputError

#: Keys of an ``.npz`` archive taken as the data when no ``key`` is given.
DATA_KEYS = ("x", "X", "data")
#: Keys of an ``.npz`` archive taken as the labels.
LABEL_KEYS = ("y", "Y", "labels")


def _existing_file(path: str | os.PathLike[str]) -> Path:
    path = Path(path).expanduser()
    if not path.exists():
        raise DataFileError(f"{path}: no such file")
    if not path.is_file():
        raise DataFileError(f"{path}: expected a file, got a directory")
    return path


def _np_load(path: Path, *, mmap: bool = False) -> Any:
    """``np.load`` without pickle: an ndarray (a read-only memmap if ``mmap``) or an NpzFile."""
    try:
        return np.load(path, allow_pickle=False, mmap_mode="r" if mmap else None)
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise DataFileError(
                f"{path}: holds Python objects, which vaelab never unpickles "
                "(unpickling can run arbitrary code); save a numeric array instead"
            ) from None
        raise DataFileError(f"{path}: not a valid NumPy file ({exc})") from None
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise DataFileError(f"{path}: not a valid NumPy file ({exc})") from None


def _pick_data_key(path: Path, keys: list[str], key: str | None) -> str:
    """The archive member to use as data (see :func:`load_array`)."""
    if key is not None:
        if key not in keys:
            raise InputError(f"key={key!r} is not in {path}; it holds {keys}")
        return key
    if len(keys) == 1:
        return keys[0]
    for candidate in DATA_KEYS:
        if candidate in keys:
            return candidate
    others = [k for k in keys if k not in LABEL_KEYS]
    if len(others) != 1:
        raise InputError(
            f"{path} holds several arrays {keys} and none is named {' / '.join(DATA_KEYS)}; pass key= to choose one"
        )
    return others[0]


def load_array(
    path: str | os.PathLike[str],
    *,
    key: str | None = None,
    mmap: bool = False,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Load data (and labels, if stored) from a ``.npy`` or ``.npz`` file.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.npy`` file (one array) or an ``.npz`` archive.
    key : str, optional
        For ``.npz``: the array to use as data. Without it, a single array is
        used as is; otherwise the first of ``"x"``, ``"X"``, ``"data"`` present,
        else the only array that is not labels.
    mmap : bool, default False
        Memory-map a ``.npy`` file read-only instead of reading it (arrays in an
        ``.npz`` archive are compressed members and are always read).

    Returns
    -------
    X : ndarray of shape (n_samples, ...)
        The data, in its stored dtype.
    y : ndarray of shape (n_samples,) or None
        The ``"y"`` / ``"Y"`` / ``"labels"`` array of an ``.npz`` archive, if any.

    Raises
    ------
    DataFileError
        If the file is missing, not a NumPy file, or holds pickled objects.
    InputError
        If ``key`` is not in the archive, the data array is ambiguous, or the
        labels do not have one entry per example.

    Examples
    --------
    >>> import tempfile, os, numpy as np
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = os.path.join(d, "toy.npz")
    ...     np.savez(p, x=np.zeros((4, 2)), y=np.arange(4))
    ...     X, y = load_array(p)
    >>> X.shape, y.tolist()
    ((4, 2), [0, 1, 2, 3])
    """
    path = _existing_file(path)
    suffix = path.suffix.lower()
    if suffix == ".npy":
        if key is not None:
            raise InputError(f"key={key!r} only applies to .npz archives, got {path}")
        x: np.ndarray = _np_load(path, mmap=mmap)
        return x, None
    if suffix != ".npz":
        raise DataFileError(f"{path}: unknown array format {suffix!r}; expected .npy or .npz")

    with _np_load(path) as archive:
        keys = list(archive.files)
        data_key = _pick_data_key(path, keys, key)
        label_key = next((k for k in LABEL_KEYS if k in keys and k != data_key), None)
        x = archive[data_key]
        y = archive[label_key] if label_key is not None else None
    if y is not None and (y.ndim != 1 or y.shape[0] != x.shape[0]):
        raise InputError(
            f"{path}: labels {label_key!r} must have shape ({x.shape[0]},) to match "
            f"{data_key!r} of shape {x.shape}, got {y.shape}"
        )
    return x, y


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def load_csv(
    path: str | os.PathLike[str],
    *,
    label_column: int | str | None = None,
    delimiter: str = ",",
) -> tuple[np.ndarray, np.ndarray | None, list[str]]:
    """Load a numeric CSV table, with or without a header row.

    The first row is a header if any of its cells is not a number.

    Parameters
    ----------
    path : str or os.PathLike
        The CSV file.
    label_column : int or str, optional
        Column (index, or name when there is a header) holding labels; it is
        removed from ``X`` and returned as ``y``.
    delimiter : str, default ","
        Field separator.

    Returns
    -------
    X : ndarray of shape (n_rows, n_features), float32
    y : ndarray of shape (n_rows,) or None
        int64 if every label is a whole number, else float32.
    column_names : list of str
        Names of the columns of ``X`` (``"column_<j>"`` when there is no header).

    Raises
    ------
    DataFileError
        If the file is missing or empty.
    InputError
        If a cell is not a number (the message names line, column and value),
        rows have different lengths, or ``label_column`` is not a column.

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = os.path.join(d, "t.csv")
    ...     with open(p, "w") as f:
    ...         _ = f.write("a,b,label\\n1,2,0\\n3,4,1\\n")
    ...     X, y, names = load_csv(p, label_column="label")
    >>> X.shape, y.tolist(), names
    ((2, 2), [0, 1], ['a', 'b'])
    """
    path = _existing_file(path)
    rows: list[list[str]] = []
    line_numbers: list[int] = []  # 1-based line in the file of each kept row
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        for row in reader:
            if any(c.strip() for c in row):  # skip blank lines
                rows.append(row)
                line_numbers.append(reader.line_num)
    if not rows:
        raise DataFileError(f"{path}: the CSV file is empty")
    has_header = not all(_is_number(c) for c in rows[0])
    width = len(rows[0])
    header = [c.strip() for c in rows[0]] if has_header else [f"column_{j}" for j in range(width)]
    body = rows[1:] if has_header else rows
    body_lines = line_numbers[1:] if has_header else line_numbers
    if not body:
        raise InputError(f"{path}: has a header row but no data rows")
    for i, row in enumerate(body):
        if len(row) != width:
            raise InputError(f"{path}: line {body_lines[i]} has {len(row)} cells, expected {width} like the first row")
    try:
        table = np.array(body, dtype=np.float64)
    except ValueError:
        for i, row in enumerate(body):
            for j, cell in enumerate(row):
                if not _is_number(cell):
                    what = "is empty" if not cell.strip() else f"holds {cell!r}, which is not a number"
                    raise InputError(
                        f"{path}: line {body_lines[i]}, column {j + 1} ({header[j]!r}) {what}; "
                        "load_csv reads numeric tables only (encode categories as numbers "
                        "and fill missing values first)"
                    ) from None
        raise  # unreachable: some cell failed to parse above

    y = None
    names = list(header)
    if label_column is not None:
        if isinstance(label_column, str):
            if label_column not in header:
                raise InputError(
                    f"label_column={label_column!r} is not a column of {path}; columns are {header}"
                    + ("" if has_header else " (the file has no header row; pass an index)")
                )
            col = header.index(label_column)
        else:
            col = int(label_column)
            if not -width <= col < width:
                raise InputError(f"label_column={label_column} is out of range for {width} columns in {path}")
            col %= width
        labels = table[:, col]
        whole = np.all(np.isfinite(labels)) and np.all(labels == np.round(labels))
        y = labels.astype(np.int64) if whole else labels.astype(np.float32)
        table = np.delete(table, col, axis=1)
        del names[col]
    return table.astype(np.float32), y, names
