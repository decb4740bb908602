"""MNIST and Fashion-MNIST from their original IDX files.

MNIST: LeCun, Cortes & Burges, http://yann.lecun.com/exdb/mnist/.
Fashion-MNIST: Xiao, Rasul & Vollgraf 2017, arXiv:1708.07747.

Both ship as four IDX files (train/t10k x images/labels), usually gzipped.
The loader accepts the files gzipped or not (``train-images-idx3-ubyte`` or
``train-images-idx3-ubyte.gz``) and the other common spelling
``train-images.idx3-ubyte``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from vaelab.data.files import Checksum, download_file, find_existing, read_bytes, verify_checksum
from vaelab.data.idx import parse_idx
from vaelab.errors import DataFileError, InputError

logger = logging.getLogger(__name__)

VARIANTS = ("mnist", "fashion-mnist")
SPLITS = ("train", "test")

#: Base URLs tried in order by ``download=True``; pass ``mirrors=`` to override.
MIRRORS: dict[str, tuple[str, ...]] = {
    "mnist": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ),
    "fashion-mnist": ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
}

# Canonical file stems (without ".gz") -> md5 of the *uncompressed* file, which
# does not depend on how a mirror (or a distribution's package) gzipped it.
# MNIST: LeCun et al.'s files; Fashion-MNIST: the uncompressed files of
# zalandoresearch/fashion-mnist.
CHECKSUMS: dict[str, dict[str, Checksum]] = {
    "mnist": {
        "train-images-idx3-ubyte": Checksum("md5", "6bbc9ace898e44ae57da46a324031adb"),
        "train-labels-idx1-ubyte": Checksum("md5", "a25bea736e30d166cdddb491f175f624"),
        "t10k-images-idx3-ubyte": Checksum("md5", "2646ac647ad5339dbf082846283269ea"),
        "t10k-labels-idx1-ubyte": Checksum("md5", "27ae3e4e09519cfbb04c329615203637"),
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte": Checksum("md5", "f4a8712d7a061bf5bd6d2ca38dc4d50a"),
        "train-labels-idx1-ubyte": Checksum("md5", "9018921c3c673c538a1fc5bad174d6f9"),
        "t10k-images-idx3-ubyte": Checksum("md5", "8181f5470baa50b63fa0f6fddb340f0a"),
        "t10k-labels-idx1-ubyte": Checksum("md5", "15d484375f8d13e6eb1aabb0c3f46965"),
    },
}


def _check_choice(name: str, value: object, choices: Sequence[str]) -> None:
    if value not in choices:
        raise InputError(f"{name} must be one of {list(choices)}, got {value!r}")


def mnist_stems(split: str) -> tuple[str, str]:
    """Return the canonical (images, labels) file stems of ``split`` ("train" or "test")."""
    prefix = "train" if split == "train" else "t10k"
    return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"


def _candidate_names(stem: str) -> list[str]:
    """All accepted spellings of a canonical stem, the canonical ones first."""
    dotted = stem.replace("-idx", ".idx")  # t10k-images.idx3-ubyte
    return [stem + ".gz", stem, dotted + ".gz", dotted]


def has_mnist_files(folder: str | os.PathLike[str], split: str = "train") -> bool:
    """Return whether ``folder`` holds the images and labels of ``split`` in any accepted spelling."""
    folder = Path(folder).expanduser()
    return all(find_existing(folder, _candidate_names(stem)) is not None for stem in mnist_stems(split))


def _read_checked(path: Path, checksum: Checksum | None, what: str, verify: bool) -> np.ndarray:
    data, _ = read_bytes(path)
    if verify and checksum is not None:
        verify_checksum(path, data, checksum, what=what)
    return parse_idx(data, path)


def _download_missing(folder: Path, variant: str, stems: Sequence[str], mirrors: Sequence[str]) -> None:
    checks = CHECKSUMS[variant]
    for stem in stems:
        if find_existing(folder, _candidate_names(stem)) is not None:
            continue

        def check(tmp: Path, stem: str = stem) -> None:
            data, _ = read_bytes(tmp)
            verify_checksum(tmp, data, checks[stem], what=f"{variant} {stem}")
            parse_idx(data, tmp)

        download_file(stem + ".gz", folder, mirrors, check=check)


def load_mnist(
    folder: str | os.PathLike[str],
    split: str = "train",
    *,
    variant: str = "mnist",
    verify: bool = True,
    download: bool = False,
    mirrors: Sequence[str] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Load MNIST or Fashion-MNIST from the original IDX files in ``folder``.

    Parameters
    ----------
    folder : str or os.PathLike
        Folder holding the four IDX files (gzipped or not).
    split : {"train", "test"}, default "train"
        60,000 training or 10,000 test examples.
    variant : {"mnist", "fashion-mnist"}, default "mnist"
        Which data set the files are; selects the checksums and mirrors.
    verify : bool, default True
        Check the files against the published md5s of their uncompressed
        contents: any gzip of the same bytes (or no gzip) passes.
    download : bool, default False
        Fetch missing files into ``folder`` first (needs internet access).
    mirrors : sequence of str, optional
        Base URLs for ``download``; default ``MIRRORS[variant]``.

    Returns
    -------
    images : ndarray of shape (n, 28, 28), uint8
        Pixel intensities 0-255.
    labels : ndarray of shape (n,), int64
        Class indices 0-9.

    Raises
    ------
    InputError
        If ``split`` or ``variant`` is not one of the accepted values.
    DataFileError
        If a file is missing (the message lists the folder and the names looked
        for), corrupt, or fails its checksum.
    """
    _check_choice("split", split, SPLITS)
    _check_choice("variant", variant, VARIANTS)
    folder = Path(folder).expanduser()
    stems = mnist_stems(split)
    if download:
        _download_missing(folder, variant, stems, mirrors if mirrors is not None else MIRRORS[variant])

    paths: list[Path] = []
    missing: list[str] = []
    for stem in stems:
        found = find_existing(folder, _candidate_names(stem))
        if found is None:
            missing.append(stem)
        else:
            paths.append(found)
    if missing:
        looked_for = ", ".join(n for stem in missing for n in _candidate_names(stem))
        where = "does not exist" if not folder.is_dir() else "does not contain them"
        raise DataFileError(
            f"{variant} {split} files not found: looked in {folder} ({where}) for {looked_for}. "
            f"Pass the folder that holds the IDX files, or download=True to fetch them there."
        )
    image_path, label_path = paths
    checks = CHECKSUMS[variant]
    images = _read_checked(image_path, checks[stems[0]], f"{variant} {split} images", verify)
    labels = _read_checked(label_path, checks[stems[1]], f"{variant} {split} labels", verify)

    if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
        raise DataFileError(
            f"{image_path}: expected uint8 images of shape (n, 28, 28), got {images.dtype} of shape {images.shape}"
        )
    if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
        raise DataFileError(
            f"{label_path}: expected {images.shape[0]} labels to match {image_path}, got shape {labels.shape}"
        )
    if labels.size and labels.max() > 9:
        raise DataFileError(f"{label_path}: labels must be 0-9, found {int(labels.max())}")
    return images, labels.astype(np.int64)
