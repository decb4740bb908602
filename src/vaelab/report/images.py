"""Examples as pictures: which data are images, and image grids as PNG bytes.

Grids are composed in NumPy and encoded with Pillow (imported lazily), pixel
for pixel, so their size is exact: a grid of R x C images of H x W pixels at
scale s with a 1-pixel gap is (R * (s*H + 1) + 1) x (C * (s*W + 1) + 1).

>>> layout = ImageLayout.detect((784,))
>>> layout.height, layout.width, layout.channels
(28, 28, 1)
>>> ImageLayout.detect((10,)) is None
True
>>> grid_size(layout, rows=2, cols=3)
(115, 172)
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vaelab.serialization import atomic_write_bytes

#: Smallest edge, in pixels, that an image is scaled up to in a grid.
MIN_CELL = 32
GAP = 1
GAP_VALUE = 0.5  # mid grey between images


@dataclass(frozen=True)
class ImageLayout:
    """How one example maps to a picture of ``height`` x ``width`` with 1 or 3 channels."""

    height: int
    width: int
    channels: int

    @classmethod
    def detect(cls, example_shape: tuple[int, ...]) -> ImageLayout | None:
        """The layout of examples of ``example_shape``, or None for data that are not images.

        (H, W) and (1, H, W) are grey images, (3, H, W) colour ones; a flat
        vector of s*s values with s >= 8 (64 = 8x8 digits, 784 = 28x28 MNIST)
        is read as a square grey image. Anything else is a feature vector.
        """
        shape = tuple(int(s) for s in example_shape)
        if len(shape) == 2 and min(shape) >= 4:
            return cls(shape[0], shape[1], 1)
        if len(shape) == 3 and shape[0] in (1, 3) and min(shape[1:]) >= 4:
            return cls(shape[1], shape[2], shape[0])
        if len(shape) == 1:
            side = math.isqrt(shape[0])
            if side >= 8 and side * side == shape[0]:
                return cls(side, side, 1)
        return None

    @property
    def scale(self) -> int:
        """Integer upscaling so that small images (8x8 digits) stay visible."""
        return max(1, math.ceil(MIN_CELL / max(self.height, self.width)))

    def pictures(self, x: np.ndarray) -> np.ndarray:
        """Examples (n, *example_shape) -> pictures (n, H, W) or (n, H, W, 3) in [0, 1].

        uint8 data are divided by 255; other values are clipped to [0, 1].
        """
        x = np.asarray(x)
        x = x.astype(np.float32) / 255.0 if x.dtype == np.uint8 else x.astype(np.float32)
        n = x.shape[0]
        if self.channels == 1:
            pics = x.reshape(n, self.height, self.width)
        else:
            pics = x.reshape(n, 3, self.height, self.width).transpose(0, 2, 3, 1)  # (n, 3, H, W) -> (n, H, W, 3)
        return np.clip(np.nan_to_num(pics, nan=0.0), 0.0, 1.0)


def grid_size(layout: ImageLayout, rows: int, cols: int) -> tuple[int, int]:
    """(height, width) in pixels of a grid of ``rows`` x ``cols`` images."""
    s = layout.scale
    return rows * (s * layout.height + GAP) + GAP, cols * (s * layout.width + GAP) + GAP


def tile(pictures: np.ndarray, layout: ImageLayout) -> np.ndarray:
    """Pictures (R, C, H, W[, 3]) in [0, 1] -> one uint8 canvas; NaN pictures are left blank."""
    rows, cols = pictures.shape[:2]
    s, h, w = layout.scale, layout.height, layout.width
    height, width = grid_size(layout, rows, cols)
    canvas = np.full((height, width, 3) if layout.channels == 3 else (height, width), GAP_VALUE, dtype=np.float32)
    for r in range(rows):
        for c in range(cols):
            pic = pictures[r, c]
            if np.isnan(pic).all():
                continue
            big = np.kron(pic, np.ones((s, s, 1) if pic.ndim == 3 else (s, s), dtype=np.float32))
            top, left = GAP + r * (s * h + GAP), GAP + c * (s * w + GAP)
            canvas[top : top + s * h, left : left + s * w] = big
    return np.round(canvas * 255.0).astype(np.uint8)


def arrange(pictures: np.ndarray, cols: int) -> np.ndarray:
    """Pictures (n, H, W[, 3]) -> (ceil(n / cols), cols, H, W[, 3]), the last row padded with blanks."""
    n = pictures.shape[0]
    cols = max(1, min(cols, n))
    rows = math.ceil(n / cols)
    padded = np.full((rows * cols, *pictures.shape[1:]), np.nan, dtype=np.float32)
    padded[:n] = pictures
    return padded.reshape(rows, cols, *pictures.shape[1:])


def image_grid(x: np.ndarray, layout: ImageLayout, cols: int | None = None) -> np.ndarray:
    """Examples (n, *shape) -> a uint8 grid with ``cols`` columns (default: about square)."""
    cols = cols or math.ceil(math.sqrt(x.shape[0]))
    return tile(arrange(layout.pictures(x), cols), layout)


def image_rows(rows: list[np.ndarray], layout: ImageLayout) -> np.ndarray:
    """Equally long rows of examples, each (C, *shape), -> one uint8 grid of len(rows) x C."""
    stacked = np.stack([layout.pictures(r) for r in rows])  # (R, C, H, W[, 3])
    return tile(stacked, layout)


def png_bytes(canvas: np.ndarray) -> bytes:
    """Encode a uint8 (H, W) grey or (H, W, 3) colour array as PNG."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(canvas)).save(buffer, format="PNG")
    return buffer.getvalue()


def write_png(path: str | Path, canvas: np.ndarray) -> Path:
    """Atomically write a uint8 canvas as a PNG file."""
    atomic_write_bytes(path, png_bytes(canvas))
    return Path(path)
