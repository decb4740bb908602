"""The data of a run: its splits, and single examples named by index or file.

Built-in data sets keep their own splits; a user's file is split once, with
the run's seed, into train and test (``test_fraction``), so every command that
reads the run's config sees the same test examples.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from vaelab.runs.spec import RunSpec
from vaelab.data import Dataset, load_dataset
from vaelab.errors import DataFileError, InputError
from vaelab.validation import as_tensor

SPLITS = ("test", "train", "valid")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


def load_run_data(spec: RunSpec, *, download: bool = False) -> Dataset:
    """Load the run's data set, with a seeded test split for files that have none.

    ``download`` fetches a missing built-in data set into its data folder.
    """
    label: int | str | None = None
    column = spec.value("label_column")
    if column:
        label = int(column) if column.lstrip("-").isdigit() else column
    dataset = load_dataset(
        spec.value("data"),
        data_dir=spec.value("data_dir"),
        label_column=label,
        image_size=spec.value("image_size"),
        download=download,
        verify=spec.value("verify"),
    )
    fraction = spec.value("test_fraction")
    if dataset.x_test is not None or fraction == 0:
        return dataset
    return split_test(dataset, fraction, spec.seed)


def split_test(dataset: Dataset, fraction: float, seed: int) -> Dataset:
    """Hold out ``fraction`` of the examples (a seeded permutation) as the test split."""
    n = dataset.x_train.shape[0]
    n_test = int(round(n * fraction))
    if n_test == 0 or n_test >= n:
        return dataset
    order = np.random.default_rng(seed).permutation(n)
    train, test = np.sort(order[n_test:]), np.sort(order[:n_test])
    y = dataset.y_train
    return dataclasses.replace(
        dataset,
        x_train=dataset.x_train[train],
        y_train=None if y is None else y[train],
        x_test=dataset.x_train[test],
        y_test=None if y is None else y[test],
        description=f"{dataset.description}; {n - n_test} train / {n_test} test (seeded split, seed {seed})",
    )


def pick_split(dataset: Dataset, split: str) -> tuple[np.ndarray, np.ndarray | None]:
    """The examples and labels (or None) of ``split``: "test", "train" or "valid"."""
    if split not in SPLITS:
        raise InputError(f"--split must be one of {', '.join(SPLITS)}, got {split!r}")
    x = getattr(dataset, f"x_{split}")
    if x is None:
        available = [s for s in SPLITS if getattr(dataset, f"x_{s}") is not None]
        raise InputError(f"the data set {dataset.name!r} has no {split} split; available: {', '.join(available)}")
    return x, getattr(dataset, f"y_{split}")


def read_example(spec: str, pool: np.ndarray, example_shape: tuple[int, ...]) -> np.ndarray:
    """One example named by ``spec``: an index into ``pool``, or a .npy / image file.

    Returns
    -------
    ndarray of shape ``example_shape``, float32 (images scaled to [0, 1]).
    """
    text = str(spec).strip()
    if text.lstrip("-").isdigit():
        i = int(text)
        if not -len(pool) <= i < len(pool):
            raise InputError(
                f"example index {i} is out of range: the split has {len(pool)} examples (0-{len(pool) - 1})"
            )
        return as_tensor(pool[i : i + 1]).numpy()[0]
    path = Path(text).expanduser()
    if not path.is_file():
        raise DataFileError(f"{path}: no such file (give an example index or a .npy / image file)")
    if path.suffix.lower() == ".npy":
        try:
            x = np.load(path, allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise DataFileError(f"{path}: not a readable NumPy array file ({exc})") from None
        if x.ndim == 0 or x.dtype.kind not in "biuf":
            raise InputError(f"{path} does not hold a numeric example (shape {x.shape}, dtype {x.dtype})")
        x = as_tensor(x.reshape(1, -1) if x.ndim == 1 else x, name=str(path), max_rank=5).numpy()
        if x.shape[0] == 1 and x.size == int(np.prod(example_shape)):
            x = x.reshape(example_shape)
    elif path.suffix.lower() in IMAGE_SUFFIXES:
        x = _read_image(path, example_shape)
    else:
        raise DataFileError(f"{path}: expected a .npy file or an image ({', '.join(IMAGE_SUFFIXES)})")
    if x.shape != tuple(example_shape):
        if x.size == int(np.prod(example_shape)):
            return x.reshape(example_shape)
        raise InputError(
            f"{path} holds an example of shape {x.shape}, but the model takes examples of shape {example_shape}"
        )
    return x


def _read_image(path: Path, example_shape: tuple[int, ...]) -> np.ndarray:
    """An image file as an example: grey or RGB as the model needs, resized to its size."""
    from PIL import Image

    from vaelab.report.images import ImageLayout

    layout = ImageLayout.detect(example_shape)
    if layout is None:
        raise InputError(f"the model takes vectors of shape {example_shape}, not images; give a .npy file or an index")
    try:
        with Image.open(path) as img:
            img = img.convert("L" if layout.channels == 1 else "RGB").resize((layout.width, layout.height))
            pixels = np.asarray(img, dtype=np.float32) / np.float32(255.0)
    except OSError as exc:
        raise DataFileError(f"{path}: cannot read image ({exc})") from None
    if layout.channels == 3:
        pixels = pixels.transpose(2, 0, 1)  # (H, W, 3) -> (3, H, W)
    return pixels.reshape(example_shape)
