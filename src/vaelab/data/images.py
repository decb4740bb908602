"""A folder of PNG / JPEG images, one subfolder per class (like torchvision's
``ImageFolder``)::

    path/cat/001.png
    path/cat/002.jpg
    path/dog/001.png

Pillow is an optional dependency (``pip install vaelab[images]``) and is only
imported when this loader runs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from vaelab.errors import DataFileError, InputError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
_GRAY_MODES = ("1", "L", "LA", "I", "I;16", "F")


def _import_pillow() -> Any:
    try:
        from PIL import Image
    except ImportError as exc:
        raise ImportError("loading an image folder needs Pillow: pip install vaelab[images]") from exc
    return Image


def _bilinear(pil_image: Any) -> Any:
    """The bilinear filter constant across Pillow versions (``Resampling`` is Pillow >= 9.1)."""
    return getattr(pil_image, "Resampling", pil_image).BILINEAR


def _image_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def _parse_size(size: int | tuple[int, int] | None) -> tuple[int, int] | None:
    """Return (height, width) from an int or a pair; validate positivity."""
    if size is None:
        return None
    pair = (size, size) if isinstance(size, int) else tuple(size)
    if len(pair) != 2 or not all(isinstance(s, int) and s > 0 for s in pair):
        raise InputError(f"size must be a positive int or a (height, width) pair of them, got {size!r}")
    return pair[0], pair[1]


def load_image_folder(
    path: str | os.PathLike[str],
    *,
    size: int | tuple[int, int] | None = None,
    grayscale: bool | None = None,
) -> tuple[np.ndarray, np.ndarray | None, list[str]]:
    """Load every PNG / JPEG image in a folder, with subfolders as classes.

    Parameters
    ----------
    path : str or os.PathLike
        Folder with one subfolder of images per class (sorted subfolder names
        give labels 0, 1, ...), or a flat folder of images (no labels).
    size : int or (int, int), optional
        Resize every image to ``(height, width)`` (an int means square) with
        bilinear filtering. Without it all images must already share one size.
    grayscale : bool, optional
        True converts to one channel ("L"), False to RGB (an alpha channel is
        dropped). None: grayscale if every image is single-channel, else RGB.

    Returns
    -------
    images : ndarray, uint8
        Shape (n, H, W) for grayscale or (n, 3, H, W) for RGB (channels first).
    labels : ndarray of shape (n,), int64, or None
        Class index of each image; None for a flat folder.
    class_names : list of str
        Subfolder name of each class index (empty for a flat folder).

    Raises
    ------
    ImportError
        If Pillow is not installed.
    DataFileError
        If the folder does not exist, holds no images, or an image cannot be read.
    InputError
        If images differ in size and ``size`` was not given, or ``size`` is invalid.
    """
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise DataFileError(f"{folder}: not a folder of images (it does not exist or is a file)")
    target = _parse_size(size)
    pil_image = _import_pillow()  # the PIL.Image module

    class_dirs = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    files: list[Path] = []
    labels: list[int] = []
    class_names: list[str] = []
    for d in class_dirs:
        found = _image_files(d)
        if found:
            labels.extend([len(class_names)] * len(found))
            class_names.append(d.name)
            files.extend(found)
    flat = not files
    if flat:
        files = _image_files(folder)
    if not files:
        raise DataFileError(
            f"{folder}: no {'/'.join(IMAGE_SUFFIXES)} images found, neither directly nor in class subfolders"
        )

    images = []
    for f in files:
        try:
            with pil_image.open(f) as img:
                img.load()
                images.append(img.copy())
        except (OSError, ValueError) as exc:  # PIL.UnidentifiedImageError is an OSError
            raise DataFileError(f"{f}: cannot read image ({exc})") from None
    gray = all(img.mode in _GRAY_MODES for img in images) if grayscale is None else grayscale
    mode = "L" if gray else "RGB"

    arrays = []
    first_size = None
    for f, img in zip(files, images, strict=True):
        img = img.convert(mode)
        if target is not None:
            img = img.resize((target[1], target[0]), _bilinear(pil_image))
        elif first_size is None:
            first_size = (img.height, img.width, files[0])
        elif (img.height, img.width) != first_size[:2]:
            raise InputError(
                f"images differ in size: {first_size[2]} is {first_size[0]}x{first_size[1]} "
                f"(height x width) but {f} is {img.height}x{img.width}; pass size=(height, width) "
                "to resize them all"
            )
        arr = np.asarray(img, dtype=np.uint8)
        arrays.append(arr if gray else arr.transpose(2, 0, 1))  # (H, W, C) -> (C, H, W)
    x = np.stack(arrays)
    y = None if flat else np.asarray(labels, dtype=np.int64)
    return x, y, class_names
