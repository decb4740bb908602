"""The built-in data sets, each registered under its command-line name.

========================  ======================================  =====================
name                      splits                                  files under data_dir
========================  ======================================  =====================
``digits``                deterministic 80/20 split (seed 0)      none (scikit-learn)
``mnist``                 canonical 60,000 / 10,000               ``mnist/`` or root
``fashion-mnist``         canonical 60,000 / 10,000               ``fashion-mnist/`` or root
``binarized-mnist``       50,000 / 10,000 valid / 10,000 test     ``binarized_mnist/`` or root
``shapes``, ``shapes64``  20,000 / 5,000 rendered (seed 0)       none (see ``shapes.py``)
========================  ======================================  =====================
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from vaelab.data.amat import has_binarized_mnist_files, load_binarized_mnist
from vaelab.data.dataset import Dataset, register_dataset
from vaelab.data.mnist import has_mnist_files, load_mnist
from vaelab.errors import DataFileError

#: Seed of the digits train/test split, and the fraction held out for test.
DIGITS_SPLIT_SEED = 0
DIGITS_TEST_FRACTION = 0.2


DIGIT_NAMES = tuple(str(d) for d in range(10))
#: Names of the label values 0..9 of the built-in labelled data sets.
CLASS_NAMES: dict[str, tuple[str, ...]] = {
    "digits": DIGIT_NAMES,
    "mnist": DIGIT_NAMES,
    "fashion-mnist": (
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"
    ),  # Xiao, Rasul & Vollgraf 2017, Table 1
}


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """Load scikit-learn's bundled 8x8 handwritten digits (UCI, 1,797 images).

    Returns
    -------
    images : ndarray of shape (1797, 8, 8), float32
        Intensities 0-16 divided by 16, so in [0, 1].
    labels : ndarray of shape (1797,), int64
        Digits 0-9.
    """
    from sklearn.datasets import load_digits as sklearn_digits  # heavy import, only when used

    bunch = sklearn_digits()
    images = (np.asarray(bunch.images, dtype=np.float32) / 16.0).astype(np.float32)
    return images, np.asarray(bunch.target, dtype=np.int64)


def digits_split(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Return sorted (train, test) index arrays of the fixed 80/20 digits split."""
    perm = np.random.default_rng(DIGITS_SPLIT_SEED).permutation(n)
    n_test = round(DIGITS_TEST_FRACTION * n)
    return np.sort(perm[n_test:]), np.sort(perm[:n_test])


@register_dataset("digits")
def _digits(data_dir: Path, *, download: bool, verify: bool) -> Dataset:
    x, y = load_digits()
    train, test = digits_split(len(x))
    return Dataset(
        name="digits",
        x_train=x[train],
        y_train=y[train],
        x_test=x[test],
        y_test=y[test],
        binary=False,
        description=(
            f"scikit-learn digits: {len(train)} train / {len(test)} test 8x8 images in [0, 1] "
            f"(random 80/20 split, seed {DIGITS_SPLIT_SEED}), labels 0-9"
        ),
        class_names=CLASS_NAMES["digits"],
    )


def _find_folder(data_dir: Path, subfolders: tuple[str, ...], present: Callable[[Path], bool]) -> Path | None:
    for folder in [data_dir / s for s in subfolders] + [data_dir]:
        if present(folder):
            return folder
    return None


def _missing(what: str, data_dir: Path, subfolders: tuple[str, ...], files: str, download_hint: bool) -> DataFileError:
    looked = ", ".join(str(p) for p in [data_dir / s for s in subfolders] + [data_dir])
    fetch = " or pass download=True (--download) to fetch them," if download_hint else ""
    return DataFileError(
        f"{what} files not found: looked for {files} in {looked}. Pass --data-dir (data_dir=) "
        f"pointing to the folder that holds them,{fetch} or set $VAELAB_DATA_DIR."
    )


def _idx_dataset(
    name: str, variant: str, subfolders: tuple[str, ...], title: str, data_dir: Path, download: bool, verify: bool
) -> Dataset:
    folder = _find_folder(data_dir, subfolders, lambda f: has_mnist_files(f, "train") and has_mnist_files(f, "test"))
    if folder is None:
        if not download:
            raise _missing(
                title, data_dir, subfolders, "train-/t10k-images-idx3-ubyte[.gz] and -labels-idx1-ubyte[.gz]", True
            )
        folder = data_dir / subfolders[0]
    x_train, y_train = load_mnist(folder, "train", variant=variant, verify=verify, download=download)
    x_test, y_test = load_mnist(folder, "test", variant=variant, verify=verify, download=download)
    return Dataset(
        name=name,
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
        binary=False,
        description=(
            f"{title}: {len(x_train)} train / {len(x_test)} test 28x28 uint8 images (0-255), labels 0-9, from {folder}"
        ),
        class_names=CLASS_NAMES[name],
    )


@register_dataset("mnist")
def _mnist(data_dir: Path, *, download: bool, verify: bool) -> Dataset:
    return _idx_dataset("mnist", "mnist", ("mnist", "MNIST"), "MNIST (LeCun et al.)", data_dir, download, verify)


@register_dataset("fashion-mnist")
def _fashion_mnist(data_dir: Path, *, download: bool, verify: bool) -> Dataset:
    return _idx_dataset(
        "fashion-mnist",
        "fashion-mnist",
        ("fashion-mnist", "fashion_mnist", "FashionMNIST"),
        "Fashion-MNIST (Xiao et al. 2017)",
        data_dir,
        download,
        verify,
    )


@register_dataset("binarized-mnist")
def _binarized_mnist(data_dir: Path, *, download: bool, verify: bool) -> Dataset:
    subfolders = ("binarized_mnist", "binarized-mnist")
    splits = ("train", "valid", "test")
    folder = _find_folder(data_dir, subfolders, lambda f: all(has_binarized_mnist_files(f, s) for s in splits))
    if folder is None:
        if not download:
            raise _missing(
                "binarized MNIST", data_dir, subfolders, "binarized_mnist_{train,valid,test}.amat[.gz]", True
            )
        folder = data_dir / subfolders[0]
    x = {s: load_binarized_mnist(folder, s, verify=verify, download=download) for s in splits}
    return Dataset(
        name="binarized-mnist",
        x_train=x["train"],
        y_train=None,
        x_test=x["test"],
        y_test=None,
        x_valid=x["valid"],
        binary=True,
        description=(
            f"statically binarized MNIST (Larochelle & Murray 2011): {len(x['train'])} train / "
            f"{len(x['valid'])} valid / {len(x['test'])} test rows of 784 values in {{0, 1}}, "
            f"no labels, from {folder}"
        ),
    )
