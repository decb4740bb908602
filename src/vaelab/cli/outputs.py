"""Writing a command's arrays: an image grid (.png), a NumPy array (.npy) or a table (.csv).

The format follows the file's suffix. Every file is written atomically; a PNG
of data that are not images is refused with the formats that do work.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from vaelab.errors import InputError
from vaelab.report.images import ImageLayout, png_bytes
from vaelab.serialization import atomic_write_bytes, atomic_write_text

FORMATS = (".png", ".npy", ".csv")


def check_format(path: Path, *, allowed: Sequence[str] = FORMATS) -> str:
    """The lower-case suffix of ``path``, which must be one of ``allowed``."""
    suffix = path.suffix.lower()
    if suffix not in allowed:
        raise InputError(f"--out {path}: unknown format {suffix or '(no suffix)'!r}; use {', '.join(allowed)}")
    return suffix


def write_array(path: Path, array: np.ndarray, *, columns: Sequence[str] | None = None) -> None:
    """An array as .npy (any shape) or .csv (one row per first-axis entry, flattened)."""
    if check_format(path, allowed=(".npy", ".csv")) == ".npy":
        buffer = io.BytesIO()
        np.save(buffer, np.asarray(array), allow_pickle=False)
        atomic_write_bytes(path, buffer.getvalue())
        return
    flat = np.asarray(array).reshape(len(array), -1)
    header = list(columns) if columns is not None else [f"x{j}" for j in range(flat.shape[1])]
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([[_cell(v) for v in row] for row in flat])
    atomic_write_text(path, text.getvalue())


def write_examples(
    path: Path,
    examples: np.ndarray,
    layout: ImageLayout | None,
    canvas: Callable[[], np.ndarray],
) -> None:
    """Decoded examples: ``canvas()`` (a uint8 grid) as .png, else the array as .npy / .csv."""
    suffix = check_format(path)
    if suffix != ".png":
        write_array(path, examples)
        return
    if layout is None:
        raise InputError(
            f"--out {path}: the model's examples are vectors of shape {tuple(examples.shape[-1:])}, not images; "
            "write .npy or .csv instead"
        )
    atomic_write_bytes(path, png_bytes(canvas()))


def _cell(value: object) -> object:
    if isinstance(value, (np.floating, float)):
        return f"{float(value):.8g}"
    if isinstance(value, np.integer):
        return int(value)
    return value
