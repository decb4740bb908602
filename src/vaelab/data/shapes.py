"""``shapes``: binary images of simple shapes with known factors of variation, rendered by vaelab itself.

A dSprites-like data set (Matthey et al. 2017) for disentanglement studies,
generated deterministically from a seed, with no download. Each image shows
one white shape on black, defined by five independent factors drawn uniformly
from the grids below (those of dSprites):

==========  ======================================  =========
factor      values                                  how many
==========  ======================================  =========
shape       0 square, 1 ellipse, 2 heart            3
scale       0.5 ... 1.0 (evenly spaced)             6
rotation    0 ... 2 pi (radians, endpoint excluded)  40
x           0 ... 1 (left to right, evenly spaced)   32
y           0 ... 1 (top to bottom, evenly spaced)   32
==========  ======================================  =========

Rendering: every pixel centre (u, v) is mapped into the shape's own frame
(translated to the position, rotated by -rotation, divided by the size) and
is white when it falls inside the shape's implicit region: the square
max(|u|, |v|) <= 1, the ellipse u^2 + (v / 0.6)^2 <= 1, the heart
(a^2 + b^2 - 1)^3 - a^2 b^3 <= 0 (the classic heart curve, a = 1.1 u,
b = 1.1 v + 0.1). The shape's half-size is ``scale * size / 5`` pixels and the
positions keep every shape inside the image. As in dSprites the square repeats
every quarter turn and the ellipse every half turn, so rotation is only
partly identifiable from the image.

Built-in names: ``shapes`` (28x28, 20,000 train / 5,000 test, seed 0) and
``shapes64`` (64x64, same counts). Labels ``y`` are the shape index; the five
factors are ``factors_train`` / ``factors_test`` of the :class:`Dataset`.

References
----------
Matthey, Higgins, Hassabis & Lerchner 2017, "dSprites: Disentanglement testing Sprites dataset".
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vaelab.data.dataset import Dataset, register_dataset
from vaelab.errors import InputError

SHAPES = ("square", "ellipse", "heart")
FACTOR_NAMES = ("shape", "scale", "rotation", "x", "y")
FACTOR_GRIDS = {
    "shape": np.arange(len(SHAPES), dtype=np.float64),
    "scale": np.linspace(0.5, 1.0, 6),
    "rotation": np.linspace(0.0, 2 * np.pi, 40, endpoint=False),
    "x": np.linspace(0.0, 1.0, 32),
    "y": np.linspace(0.0, 1.0, 32),
}
SIZES = (28, 64)
N_TRAIN, N_TEST = 20_000, 5_000
CHUNK = 1024


def sample_factors(n: int, *, seed: int = 0) -> np.ndarray:
    """``n`` factor vectors drawn uniformly from the grids: float64 array of shape (n, 5) (see FACTOR_NAMES)."""
    rng = np.random.default_rng(seed)
    return np.stack([grid[rng.integers(0, len(grid), n)] for grid in FACTOR_GRIDS.values()], axis=1)


def _inside(shape: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Whether points (u, v) in the shapes' own frames (n, H, W) are inside shapes ``shape`` (n, 1, 1)."""
    square = np.maximum(np.abs(u), np.abs(v)) <= 1.0
    uu, w = u * u, v / 0.6
    ellipse = uu + w * w <= 1.0
    a2, b = 1.21 * uu, -(1.1 * v) + 0.1  # a = 1.1 u; image v grows downwards, the heart's point is at the bottom
    t = a2 + b * b - 1.0
    heart = t * t * t - a2 * b * b * b <= 0.0
    return np.where(shape == 0, square, np.where(shape == 1, ellipse, heart))


def render(factors: np.ndarray, size: int = 28) -> np.ndarray:
    """Render factor vectors (n, 5) as binary images: float32 array of shape (n, size, size) with values 0 or 1.

    Raises
    ------
    InputError
        For a size other than 28 or 64, or factors that are not of shape (n, 5).
    """
    if size not in SIZES:
        raise InputError(f"size must be one of {SIZES}, got {size!r}")
    factors = np.asarray(factors, dtype=np.float64)
    if factors.ndim != 2 or factors.shape[1] != len(FACTOR_NAMES):
        raise InputError(f"factors must have shape (n, {len(FACTOR_NAMES)}) ({', '.join(FACTOR_NAMES)}), got {factors.shape}")
    half = size / 5.0  # half-size of a shape of scale 1, pixels
    margin = 1.2 * half  # centres stay this far from the border
    centres = np.arange(size, dtype=np.float32) + 0.5
    out = np.empty((len(factors), size, size), dtype=np.float32)
    for start in range(0, len(factors), CHUNK):
        f = factors[start : start + CHUNK, :, None, None].astype(np.float32)  # (b, 5, 1, 1); float32 is enough
        shape, scale, angle, fx, fy = (f[:, i] for i in range(5))  # each (b, 1, 1)
        cx, cy = margin + fx * (size - 2 * margin), margin + fy * (size - 2 * margin)
        du, dv = centres[None, None, :] - cx, centres[None, :, None] - cy  # (b, 1, W), (b, H, 1)
        cos, sin = np.cos(angle), np.sin(angle)
        u = (cos * du + sin * dv) / (scale * half)  # rotate by -angle into the shape's frame
        v = (-sin * du + cos * dv) / (scale * half)
        out[start : start + CHUNK] = _inside(shape, u, v)
    return out


def make_shapes(n: int, *, size: int = 28, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` images and their factors, deterministic for ``seed``.

    Returns
    -------
    images : ndarray of shape (n, size, size), float32 in {0, 1}
    factors : ndarray of shape (n, 5), float64: shape index, scale, rotation (radians), x, y in [0, 1]

    Examples
    --------
    >>> x, f = make_shapes(4, seed=1)
    >>> x.shape, f.shape, sorted(np.unique(x).tolist())
    ((4, 28, 28), (4, 5), [0.0, 1.0])
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise InputError(f"n must be an int >= 1, got {n!r}")
    factors = sample_factors(int(n), seed=seed)
    return render(factors, size), factors


def shapes_dataset(size: int = 28, *, n_train: int = N_TRAIN, n_test: int = N_TEST, seed: int = 0) -> Dataset:
    """The ``shapes`` data set: train and test images from independent draws (seeds ``seed`` and ``seed + 1``)."""
    x_train, f_train = make_shapes(n_train, size=size, seed=seed)
    x_test, f_test = make_shapes(n_test, size=size, seed=seed + 1)
    return Dataset(
        name="shapes" if size == 28 else f"shapes{size}",
        x_train=x_train,
        y_train=f_train[:, 0].astype(np.int64),
        x_test=x_test,
        y_test=f_test[:, 0].astype(np.int64),
        binary=True,
        description=(
            f"shapes: {n_train} train / {n_test} test binary {size}x{size} images of a square, an ellipse or a heart "
            f"(seed {seed}); factors {', '.join(FACTOR_NAMES)}; labels = shape"
        ),
        factors_train=f_train,
        factors_test=f_test,
        factor_names=FACTOR_NAMES,
    )


@register_dataset("shapes")
def _shapes(data_dir: Path, *, download: bool, verify: bool) -> Dataset:
    return shapes_dataset(28)


@register_dataset("shapes64")
def _shapes64(data_dir: Path, *, download: bool, verify: bool) -> Dataset:
    return shapes_dataset(64)
