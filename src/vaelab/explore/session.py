"""What the explorer page asks of a fitted model, as JSON-able answers (no web framework here).

Every latent-space computation goes through :mod:`vaelab.latent`. Outputs are
pictures (PNG data URLs at the model's own size) for image models, and rows
with column names for models of tables.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import Any

import numpy as np

from vaelab import latent
from vaelab.errors import InputError
from vaelab.report.images import ImageLayout, png_bytes

#: Traversal sliders span this many standard deviations either side of the centre.
SPAN = latent.TRAVERSAL_SPAN


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    return x.astype(np.float32) / np.float32(255.0) if x.dtype == np.uint8 else x.astype(np.float32)


class Explorer:
    """A fitted estimator with the examples the page shows: test set (map, encode) and training set (neighbours).

    Parameters
    ----------
    estimator : fitted estimator with ``transform`` / ``inverse_transform``
    x_test : ndarray of shape (n, *input_shape)
        Examples to pick, encode and place on the latent map (at most ``max_test`` are kept).
    y_test : ndarray of shape (n,), optional
        Their labels (colours on the map).
    x_train, y_train : ndarray, optional
        The training examples: the neighbours are searched among them, and
        their labels give the class means of the attribute vectors. Without
        them the test examples serve.
    columns : sequence of str, optional
        Column names of a model of table rows.
    max_test : int
        Test examples kept (a seeded subset when there are more).
    seed : int
        Seeds the subset.
    """

    def __init__(
        self,
        estimator: Any,
        x_test: np.ndarray,
        y_test: np.ndarray | None = None,
        x_train: np.ndarray | None = None,
        y_train: np.ndarray | None = None,
        *,
        columns: Sequence[str] | None = None,
        max_test: int = 2000,
        seed: int = 0,
    ) -> None:
        if len(x_test) == 0:
            raise InputError("the explorer needs at least one test example, got none")
        if len(x_test) > max_test:
            keep = np.sort(np.random.default_rng(seed).choice(len(x_test), max_test, replace=False))
            x_test, y_test = x_test[keep], None if y_test is None else np.asarray(y_test)[keep]
        self.estimator = estimator
        self.input_shape = tuple(int(s) for s in estimator.input_shape_)
        self.layout = ImageLayout.detect(self.input_shape)
        self.x_test, self.y_test = x_test, None if y_test is None else np.asarray(y_test)
        self.x_train = x_train if x_train is not None else x_test
        self.y_train = (None if y_train is None else np.asarray(y_train)) if x_train is not None else self.y_test
        n_features = int(np.prod(self.input_shape))
        self.columns = list(columns) if columns is not None and len(columns) == n_features else None
        self.z_test = latent.codes(estimator, x_test)
        self.latent_dim = self.z_test.shape[1]
        self.ranking = latent.rank_dims(estimator, x_test)
        self.centre, self.scale = latent.spread(estimator, self.z_test)
        self.projection = latent.fit_projection(self.z_test)
        self.z_train = self.z_test if x_train is None else latent.codes(estimator, self.x_train)
        self.index = latent.LatentIndex(self.z_train)
        labels = self.y_train if self.y_train is not None else self.y_test
        self._map: dict[str, Any] | None = None
        self.classes = [] if labels is None else [str(c) for c in np.unique(labels).tolist()]
        self._vectors: dict[tuple[str, str], latent.AttributeVector] = {}

    # ------------------------------------------------------------ outputs

    @property
    def kind(self) -> str:
        return "image" if self.layout is not None else "table"

    def render(self, x: np.ndarray) -> list[dict[str, Any]]:
        """Examples (n, *input_shape) -> one JSON output each: a PNG data URL, or a row of values."""
        x = np.asarray(x)
        if self.layout is None:
            flat = _unit(x).reshape(len(x), -1).astype(np.float64)
            flat = np.where(np.isfinite(flat), flat, np.nan)
            return [{"row": [round(float(v), 6) if np.isfinite(v) else None for v in row]} for row in flat]
        pictures = np.round(self.layout.pictures(x) * 255.0).astype(np.uint8)
        return [{"image": "data:image/png;base64," + base64.b64encode(png_bytes(p)).decode("ascii")} for p in pictures]

    def decode(self, z: np.ndarray) -> list[dict[str, Any]]:
        """Decode codes (n, D) in one batch and render them."""
        return self.render(latent.decode(self.estimator, np.atleast_2d(z)))

    # ----------------------------------------------------------- requests

    def check_code(self, code: Sequence[float], name: str = "code") -> np.ndarray:
        z = np.asarray(code, dtype=np.float64)
        if z.shape != (self.latent_dim,):
            raise InputError(f"{name} must hold {self.latent_dim} values (the latent size), got {z.size}")
        if not np.isfinite(z).all():
            raise InputError(f"{name} must hold finite numbers")
        return z

    def check_index(self, index: int, name: str = "index") -> int:
        if not 0 <= index < len(self.x_test):
            raise InputError(f"{name} must be a test example in 0..{len(self.x_test) - 1}, got {index}")
        return index

    def info(self) -> dict[str, Any]:
        """What the page needs to build itself."""
        est = self.estimator
        return {
            "model": type(est).__name__,
            "latent_dim": self.latent_dim,
            "input_shape": list(self.input_shape),
            "kind": self.kind,
            "image": None
            if self.layout is None
            else {"height": self.layout.height, "width": self.layout.width, "channels": self.layout.channels},
            "columns": self.columns
            or ([f"x{j}" for j in range(int(np.prod(self.input_shape)))] if self.layout is None else None),
            "has_prior": latent.has_prior(est),
            "order": [int(d) for d in self.ranking.order],
            "scores": [round(float(s), 6) for s in self.ranking.score],
            "measure": self.ranking.measure,
            "centre": self.centre.tolist(),
            "scale": self.scale.tolist(),
            "span": SPAN,
            "n_test": len(self.x_test),
            "n_train": len(self.x_train),
            "classes": self.classes,
        }

    def encode_index(self, index: int) -> dict[str, Any]:
        """A test example: its code, the example itself and its reconstruction."""
        i = self.check_index(index)
        z = self.z_test[i]
        return {
            "code": z.tolist(),
            "input": self.render(self.x_test[i : i + 1])[0],
            "output": self.decode(z)[0],
            "label": None if self.y_test is None else str(self.y_test[i]),
        }

    def encode_array(self, x: np.ndarray) -> dict[str, Any]:
        """An uploaded example of the model's shape: its code and reconstruction."""
        z = latent.codes(self.estimator, x[None])[0]
        return {"code": z.tolist(), "input": self.render(x[None])[0], "output": self.decode(z)[0]}

    def sample(self, seed: int) -> dict[str, Any]:
        """A seeded code: from the prior p(z), or from a Gaussian with the codes' centre and spread."""
        module = getattr(self.estimator, "module_", None)
        prior = getattr(module, "prior", None)
        same_space = getattr(module, "prior_latent_dim", None) in (None, getattr(module, "latent_dim", None))
        if prior is not None and same_space and latent.has_prior(self.estimator):  # not z2 of two layers
            import torch

            generator = torch.Generator().manual_seed(seed)
            z = prior.sample(1, generator=generator).double().cpu().numpy()[0]
            about = "a draw from the prior p(z)"
        else:
            z = self.centre + self.scale * np.random.default_rng(seed).standard_normal(self.latent_dim)
            about = "a draw from a diagonal Gaussian with the test codes' mean and spread (the model has no prior)"
        return {"code": z.tolist(), "output": self.decode(z)[0], "about": about}

    def interpolate(self, start: int, end: int, steps: int, method: str) -> dict[str, Any]:
        """The decoded path between two test examples' codes."""
        za, zb = self.z_test[self.check_index(start, "start")], self.z_test[self.check_index(end, "end")]
        z = latent.path(za, zb, steps, method)
        return {"codes": z.tolist(), "outputs": self.decode(z), "ends": self.render(self.x_test[[start, end]])}

    def check_classes(self, source: str, target: str) -> None:
        if not self.classes:
            raise InputError("this model's data have no labels, so there are no class attribute vectors")
        for name, value in (("source", source), ("target", target)):
            if value not in self.classes:
                raise InputError(f"{name} must be one of the classes {', '.join(self.classes)}, got {value!r}")

    def attribute_vector(self, source: str, target: str) -> latent.AttributeVector:
        """The vector from the mean code of class ``source`` to that of ``target`` (cached)."""
        self.check_classes(source, target)
        key = (source, target)
        if key not in self._vectors:
            labels = self.y_train if self.y_train is not None else self.y_test
            text = labels.astype(str)
            z = self.z_train if self.y_train is not None else self.z_test
            self._vectors[key] = latent.attribute_from_codes(
                z[text == source], z[text == target], source=source, target=target
            )
        return self._vectors[key]

    def attribute(self, source: str, target: str, strength: float, code: Sequence[float]) -> dict[str, Any]:
        """``code`` moved by ``strength`` times the source -> target class vector, decoded."""
        vector = self.attribute_vector(source, target)
        z = vector.apply(self.check_code(code), float(strength))
        return {"code": z.tolist(), "output": self.decode(z)[0], "vector": vector.summary()}

    def neighbours(self, code: Sequence[float], k: int) -> dict[str, Any]:
        """The ``k`` training examples whose codes are nearest to ``code``."""
        z = self.check_code(code)
        found, distances = self.index.query(z, min(k, len(self.z_train)))
        rows = found[0]
        return {
            "indices": rows.tolist(),
            "distances": [round(float(d), 6) for d in distances[0]],
            "outputs": self.render(self.x_train[rows]),
        }

    def latent_map(self) -> dict[str, Any]:
        """The test codes in 2-D (the model's own axes, else PCA), with the linear map for any other code."""
        if self._map is None:
            self._map = self._compute_map()
        return self._map

    def _compute_map(self) -> dict[str, Any]:
        points = self.projection(self.z_test)
        return {
            "points": np.round(points, 5).tolist(),
            "labels": None if self.y_test is None else [str(v) for v in self.y_test.tolist()],
            "about": self.projection.about,
            "mean": self.projection.mean.tolist(),
            "axes": self.projection.axes.tolist(),
        }

    def read_image(self, data: bytes) -> np.ndarray:
        """An uploaded image file of the model's size, as one example in [0, 1]."""
        if self.layout is None:
            raise InputError("this model reads table rows, not images; encode a test example instead")
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(io.BytesIO(data)) as img:
                if img.size != (self.layout.width, self.layout.height):
                    raise InputError(
                        f"the image must be {self.layout.width}x{self.layout.height} pixels (the model's size), "
                        f"got {img.size[0]}x{img.size[1]}"
                    )
                pixels = np.asarray(img.convert("L" if self.layout.channels == 1 else "RGB"), dtype=np.float32)
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            if isinstance(exc, InputError):
                raise
            raise InputError(f"the upload is not a readable image ({type(exc).__name__})") from None
        pixels = pixels / np.float32(255.0)
        if self.layout.channels == 3:
            pixels = pixels.transpose(2, 0, 1)  # (H, W, 3) -> (3, H, W)
        return pixels.reshape(self.input_shape)
