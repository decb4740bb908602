"""Statically binarized MNIST (Larochelle & Murray 2011, "The Neural Autoregressive
Distribution Estimator", AISTATS) in its original ``.amat`` text format.

Each of the 50,000 / 10,000 / 10,000 (train / valid / test) lines holds 784
values in {0, 1} separated by single spaces. ``np.loadtxt`` takes tens of
seconds on the training file; :func:`parse_amat` instead reads the bytes with
numpy: when every value is one character followed by one separator (the
canonical layout) the values are simply every other byte. Any other layout
falls back to a generic whitespace split.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from vaelab.data.files import Checksum, download_file, find_existing, read_bytes, verify_checksum
from vaelab.errors import DataFileError, InputError

BINARIZED_SPLITS = ("train", "valid", "test")
N_PIXELS = 784

#: Base URLs tried in order by ``download=True`` (the authors' distribution).
BINARIZED_MIRRORS: tuple[str, ...] = ("http://www.cs.toronto.edu/~larocheh/public/datasets/binarized_mnist/",)

# sha256 of the uncompressed .amat files as distributed by the authors.
BINARIZED_CHECKSUMS: dict[str, Checksum] = {
    "train": Checksum("sha256", "ad693b29f94c14277b095f5238ddefbbdaaae0939789dd2f4f0205278cee3e4d"),
    "valid": Checksum("sha256", "1de3d397c40fe8eeb33dafd4099a1f665ec01e96d9be234aaeeac8a34930e2e2"),
    "test": Checksum("sha256", "e6687bfea3f820c174f33b7865140b2a2dd2930ef786f35d45795fc193b5ab2c"),
}

_SPACE, _NEWLINE, _ZERO, _ONE = 32, 10, 48, 49


def parse_amat(data: bytes, path: str | os.PathLike[str] = "<bytes>", n_cols: int = N_PIXELS) -> np.ndarray:
    """Parse whitespace-separated binary values, one example per line.

    Parameters
    ----------
    data : bytes
        Uncompressed file contents.
    path : str or os.PathLike, optional
        Name used in error messages.
    n_cols : int, default 784
        Values per line.

    Returns
    -------
    ndarray of shape (n, n_cols), float32
        Values in {0, 1}.

    Raises
    ------
    DataFileError
        If a line does not hold ``n_cols`` numbers or a value is not 0 or 1.
    """
    raw = np.frombuffer(data, dtype=np.uint8)
    row_bytes = 2 * n_cols  # "v v v ... v\n"
    if raw.size and raw.size % row_bytes == 0:
        # Canonical layout: values at even offsets, separators at odd offsets,
        # a newline closing each row. Checked in full before it is trusted.
        values = raw[0::2].reshape(-1, n_cols)
        seps = raw[1::2].reshape(-1, n_cols)
        if (
            np.all((values == _ZERO) | (values == _ONE))
            and np.all(seps[:, :-1] == _SPACE)
            and np.all(seps[:, -1] == _NEWLINE)
        ):
            return (values - _ZERO).astype(np.float32)
    return _parse_amat_generic(data, path, n_cols)


def _parse_amat_generic(data: bytes, path: str | os.PathLike[str], n_cols: int) -> np.ndarray:
    """Slow path for any other whitespace layout (e.g. "0.0 1.0", CRLF, tabs)."""
    lines = [line for line in data.splitlines() if line.strip()]
    try:
        flat = np.array(data.split(), dtype=np.float32)
    except ValueError as exc:
        raise DataFileError(f"{path}: not a numeric .amat file ({exc})") from None
    if flat.size != len(lines) * n_cols:
        counts = [len(line.split()) for line in lines]
        bad = next(i for i, c in enumerate(counts) if c != n_cols)
        raise DataFileError(f"{path}: line {bad + 1} has {counts[bad]} values, expected {n_cols}")
    out = flat.reshape(len(lines), n_cols)
    if not np.all((out == 0) | (out == 1)):
        raise DataFileError(f"{path}: values must be 0 or 1, found {out[(out != 0) & (out != 1)][0]}")
    return out


def has_binarized_mnist_files(folder: str | os.PathLike[str], split: str = "train") -> bool:
    """Return whether ``folder`` holds ``binarized_mnist_{split}.amat`` (gzipped or not)."""
    stem = f"binarized_mnist_{split}.amat"
    return find_existing(Path(folder).expanduser(), [stem + ".gz", stem]) is not None


def load_binarized_mnist(
    folder: str | os.PathLike[str],
    split: str = "train",
    *,
    verify: bool = True,
    download: bool = False,
    mirrors: Sequence[str] | None = None,
) -> np.ndarray:
    """Load statically binarized MNIST from ``binarized_mnist_{split}.amat[.gz]``.

    Parameters
    ----------
    folder : str or os.PathLike
        Folder holding the ``.amat`` files (gzipped or not; detected by content).
    split : {"train", "valid", "test"}, default "train"
        50,000 / 10,000 / 10,000 examples.
    verify : bool, default True
        Check the sha256 of the uncompressed file.
    download : bool, default False
        Fetch a missing file into ``folder`` first (uncompressed, ~78 MB for train).
    mirrors : sequence of str, optional
        Base URLs for ``download``; default ``BINARIZED_MIRRORS``.

    Returns
    -------
    ndarray of shape (n, 784), float32
        Pixels in {0, 1}, rows of 28x28 images in C order.

    Raises
    ------
    InputError
        If ``split`` is not one of the three splits.
    DataFileError
        If the file is missing (the message names the folder and the file names
        looked for), malformed, or fails its checksum.
    """
    if split not in BINARIZED_SPLITS:
        raise InputError(f"split must be one of {list(BINARIZED_SPLITS)}, got {split!r}")
    folder = Path(folder).expanduser()
    stem = f"binarized_mnist_{split}.amat"
    names = [stem + ".gz", stem]
    checksum = BINARIZED_CHECKSUMS[split]
    what = f"binarized MNIST {split}"

    if download and find_existing(folder, names) is None:

        def check(tmp: Path) -> None:
            data, _ = read_bytes(tmp)
            verify_checksum(tmp, data, checksum, what=what)

        download_file(stem, folder, mirrors if mirrors is not None else BINARIZED_MIRRORS, check=check)

    path = find_existing(folder, names)
    if path is None:
        where = "does not exist" if not folder.is_dir() else "does not contain them"
        raise DataFileError(
            f"{what} file not found: looked in {folder} ({where}) for {', '.join(names)}. "
            "Pass the folder that holds the .amat files, or download=True to fetch them there."
        )
    data, _ = read_bytes(path)
    if verify:
        verify_checksum(path, data, checksum, what=what)
    return parse_amat(data, path)
