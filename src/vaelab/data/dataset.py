"""One entry point for every data set: a built-in name or a path.

``load_dataset("mnist")`` looks the name up in a registry that built-in data
sets join with the ``@register_dataset`` decorator (see ``builtin.py``);
anything else is treated as a path to a ``.npy`` / ``.npz`` / ``.csv`` file or
an image folder. Either way the result is one frozen :class:`Dataset`.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from vaelab.data.arrays import load_array, load_csv
from vaelab.data.images import load_image_folder
from vaelab.errors import DataFileError, InputError

#: Environment variables consulted, in order, when ``data_dir`` is not given.
DATA_DIR_ENV_VARS = ("VAELAB_DATA_DIR", "VAELAB_DATA")
DEFAULT_DATA_DIR = Path("~/.cache/vaelab")
FILE_SUFFIXES = (".npy", ".npz", ".csv")


@dataclass(frozen=True, eq=False, repr=False)
class Dataset:
    """A loaded data set: arrays plus what they are.

    Arrays keep the dtype of their source: uint8 images hold 0-255 (the
    streaming sources scale them to [0, 1]); ``binary`` data holds {0, 1}.

    Attributes
    ----------
    name : str
        Registry name, or the file / folder stem for a path.
    x_train : ndarray of shape (n_train, ...)
    y_train : ndarray of shape (n_train,) or None
    x_test : ndarray of shape (n_test, ...) or None
        None when the source has no test split (user files).
    y_test : ndarray of shape (n_test,) or None
    binary : bool
        True when every value is 0 or 1 (binarized MNIST), so a Bernoulli
        likelihood is exact.
    description : str
        One line for logs and reports: source, sizes, value range.
    x_valid : ndarray of shape (n_valid, ...) or None
        Validation split where the source defines one (binarized MNIST).
    y_valid : ndarray of shape (n_valid,) or None
    class_names : tuple of str or None
        Name of each label value 0..K-1 where the data set defines them
        (Fashion-MNIST's "T-shirt/top", ...; the digits' "0".."9").
    factors_train, factors_test : ndarray of shape (n, n_factors) or None
        The known factors of variation of each example, where the data set
        has them (``shapes``), for disentanglement metrics.
    factor_names : tuple of str
        Names of the factors' columns.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray | None
    x_test: np.ndarray | None
    y_test: np.ndarray | None
    binary: bool
    description: str
    x_valid: np.ndarray | None = None
    y_valid: np.ndarray | None = None
    class_names: tuple[str, ...] | None = None
    factors_train: np.ndarray | None = None
    factors_test: np.ndarray | None = None
    factor_names: tuple[str, ...] = ()

    @property
    def example_shape(self) -> tuple[int, ...]:
        """Shape of one example, e.g. ``(28, 28)``."""
        return tuple(self.x_train.shape[1:])

    def __repr__(self) -> str:
        def shape(a: np.ndarray | None) -> str:
            return "None" if a is None else f"{a.dtype}{list(a.shape)}"

        parts = [f"x_train={shape(self.x_train)}", f"y_train={shape(self.y_train)}"]
        if self.x_valid is not None:
            parts.append(f"x_valid={shape(self.x_valid)}")
        parts += [f"x_test={shape(self.x_test)}", f"binary={self.binary}"]
        return f"Dataset({self.name!r}, {', '.join(parts)})"


class DatasetBuilder(Protocol):
    """Signature of a registered built-in loader."""

    def __call__(self, data_dir: Path, *, download: bool, verify: bool) -> Dataset: ...


_REGISTRY: dict[str, DatasetBuilder] = {}


def register_dataset(name: str) -> Callable[[DatasetBuilder], DatasetBuilder]:
    """Class-free registry decorator: ``@register_dataset("mnist")`` on a builder.

    The builder is called as ``builder(data_dir, download=..., verify=...)``
    and returns a :class:`Dataset`.
    """

    def decorate(builder: DatasetBuilder) -> DatasetBuilder:
        if name in _REGISTRY:
            raise InputError(f"a data set named {name!r} is already registered")
        _REGISTRY[name] = builder
        return builder

    return decorate


def available_datasets() -> list[str]:
    """Return the sorted names of the built-in data sets."""
    return sorted(_REGISTRY)


def resolve_data_dir(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """Return the root folder for built-in data sets.

    ``data_dir`` if given, else ``$VAELAB_DATA_DIR``, else ``$VAELAB_DATA``,
    else ``~/.cache/vaelab``.
    """
    if data_dir is None:
        data_dir = next((os.environ[v] for v in DATA_DIR_ENV_VARS if os.environ.get(v)), DEFAULT_DATA_DIR)
    return Path(data_dir).expanduser()


def _looks_like_path(spec: str) -> bool:
    return os.sep in spec or "/" in spec or Path(spec).suffix.lower() in FILE_SUFFIXES or Path(spec).exists()


def load_dataset(
    spec: str | os.PathLike[str],
    *,
    data_dir: str | os.PathLike[str] | None = None,
    download: bool = False,
    verify: bool = True,
    key: str | None = None,
    label_column: int | str | None = None,
    mmap: bool = False,
    image_size: int | tuple[int, int] | None = None,
    grayscale: bool | None = None,
) -> Dataset:
    """Load a built-in data set by name, or user data from a path.

    Parameters
    ----------
    spec : str or os.PathLike
        A built-in name (see :func:`available_datasets`: ``"digits"``,
        ``"mnist"``, ``"fashion-mnist"``, ``"binarized-mnist"``) or a path to a
        ``.npy`` / ``.npz`` / ``.csv`` file or a folder of images. Names win
        over same-named folders; write ``./mnist`` to mean the folder.
    data_dir : str or os.PathLike, optional
        Root folder of the built-in data sets' files (each in a subfolder such
        as ``mnist/`` or ``binarized_mnist/``, or directly in the root).
        Default: ``$VAELAB_DATA_DIR``, ``$VAELAB_DATA``, then ``~/.cache/vaelab``.
    download : bool, default False
        Fetch missing built-in files into ``data_dir``.
    verify : bool, default True
        Check built-in files against their published checksums.
    key : str, optional
        For ``.npz``: the array to use as data (see :func:`load_array`).
    label_column : int or str, optional
        For ``.csv``: the column holding labels (see :func:`load_csv`).
    mmap : bool, default False
        For ``.npy``: memory-map instead of reading.
    image_size : int or (int, int), optional
        For image folders: resize to this (height, width).
    grayscale : bool, optional
        For image folders: force one channel (True) or RGB (False).

    Returns
    -------
    Dataset
        For files, ``x_test`` and ``y_test`` are None.

    Raises
    ------
    InputError
        For an unknown name (the message lists the valid names and the nearest
        match).
    DataFileError
        If a built-in data set's files are missing (the message says where it
        looked) or a path does not exist.

    Examples
    --------
    >>> ds = load_dataset("digits")
    >>> ds.x_train.shape, ds.x_test.shape, ds.x_train.dtype.name
    ((1438, 8, 8), (359, 8, 8), 'float32')
    """
    spec_str = os.fspath(spec)
    if isinstance(spec, str) and spec in _REGISTRY:
        return _REGISTRY[spec](resolve_data_dir(data_dir), download=download, verify=verify)
    if not _looks_like_path(spec_str):
        names = available_datasets()
        close = difflib.get_close_matches(spec_str.lower(), names, n=1, cutoff=0.5)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise InputError(
            f"unknown data set {spec_str!r}.{hint} Valid names: {', '.join(names)}; "
            "or give a path to a .npy/.npz/.csv file or an image folder."
        )
    return _load_path(
        Path(spec_str).expanduser(),
        key=key,
        label_column=label_column,
        mmap=mmap,
        image_size=image_size,
        grayscale=grayscale,
    )


def _load_path(
    path: Path,
    *,
    key: str | None,
    label_column: int | str | None,
    mmap: bool,
    image_size: int | tuple[int, int] | None,
    grayscale: bool | None,
) -> Dataset:
    if not path.exists():
        raise DataFileError(
            f"{path}: no such file or folder (expected a built-in name among "
            f"{', '.join(available_datasets())}, a .npy/.npz/.csv file or an image folder)"
        )
    suffix = path.suffix.lower()
    if path.is_dir():
        x, y, classes = load_image_folder(path, size=image_size, grayscale=grayscale)
        about = f"{len(classes)} classes {classes}" if classes else "no labels"
        description = f"image folder {path}: {x.shape[0]} images of shape {x.shape[1:]}, uint8 0-255, {about}"
    elif suffix in (".npy", ".npz"):
        x, y = load_array(path, key=key, mmap=mmap)
        description = f"array file {path}: {x.shape[0]} examples of shape {x.shape[1:]}, {x.dtype}"
    elif suffix == ".csv":
        x, y, columns = load_csv(path, label_column=label_column)
        description = f"CSV table {path}: {x.shape[0]} rows, columns {columns}"
    else:
        raise DataFileError(f"{path}: unknown data format {suffix!r}; expected .npy, .npz, .csv or a folder of images")
    if x.ndim < 2 or x.shape[0] == 0:
        raise InputError(f"{path}: expected at least one example and shape (n, ...), got {x.shape}")
    # {0, 1} data gets a Bernoulli likelihood; uint8 is read as 0-255 intensities and a
    # memory-mapped array is not scanned (that would read it all).
    binary = x.dtype != np.uint8 and not mmap and bool(np.isin(x, (0, 1)).all())
    return Dataset(
        name=path.stem, x_train=x, y_train=y, x_test=None, y_test=None, binary=binary, description=description
    )
