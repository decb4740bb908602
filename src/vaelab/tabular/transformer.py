"""A reversible transform between a table and the vectors a VAE models (Xu et al. 2019, Section 4.2).

Each column of the model frame (numbers as float, labels as objects) becomes
a few *spans* of the output vector:

* a continuous column, by **mode-specific normalization**: a variational
  Gaussian mixture (scikit-learn's ``BayesianGaussianMixture``, a Dirichlet
  process prior, at most ``n_modes`` components, those of weight above 0.005
  kept) is fitted to the column; a value x is assigned a mode k drawn from
  the posterior p(k | x) and encoded as the scalar alpha = (x - mu_k) / (4 sigma_k),
  clipped to (-1, 1), beside the one-hot of k. Columns with missing cells get a
  one-hot missing indicator too, so the missing rate is modelled explicitly;
* a discrete column: the one-hot of its label, the ``max_categories - 1``
  most frequent labels kept and the rest in one ``"<other>"`` bucket;
  missing is a label of its own.

Spans are ``("gaussian", 1)`` for alpha and ``("categorical", k)`` for one-hots;
the ``mixed`` likelihood models the vector with exactly these spans. The
fitted state is JSON (:meth:`TableTransformer.to_dict`) plus tensors (the mode
means and scales, :meth:`TableTransformer.tensors`), never a pickle.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from vaelab._runtime import denormals_kept
from vaelab.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

OTHER = "<other>"
MODE_WEIGHT = 0.005  # modes of smaller weight are dropped, as in Xu et al. 2019
BGM_ROWS = 5000  # the mixture is fitted on at most this many rows (seeded subsample)


@dataclass
class ContinuousColumn:
    """A numeric column: the kept modes of its mixture and whether it has missing cells."""

    name: str
    weights: np.ndarray  # (K,)
    means: np.ndarray  # (K,)
    stds: np.ndarray  # (K,)
    has_missing: bool = False

    def spans(self) -> list[tuple[str, int]]:
        out = [("gaussian", 1), ("categorical", len(self.means))]
        return out + ([("categorical", 2)] if self.has_missing else [])

    def mode_posterior(self, x: np.ndarray) -> np.ndarray:
        """p(k | x) for values ``x`` (n,) -> (n, K)."""
        z = (x[:, None] - self.means[None, :]) / self.stds[None, :]
        log_p = np.log(self.weights)[None, :] - 0.5 * z**2 - np.log(self.stds)[None, :]
        log_p -= log_p.max(1, keepdims=True)
        p = np.exp(log_p)
        return p / p.sum(1, keepdims=True)


@dataclass
class DiscreteColumn:
    """A label column: its labels in one-hot order (``None`` is missing, ``OTHER`` the capped tail)."""

    name: str
    categories: list[Any] = field(default_factory=list)

    def spans(self) -> list[tuple[str, int]]:
        return [("categorical", len(self.categories))]


def _fit_modes(values: np.ndarray, n_modes: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weights, means and standard deviations of the kept modes of a variational mixture."""
    from sklearn.mixture import BayesianGaussianMixture

    rng = np.random.default_rng(seed)
    if values.size > BGM_ROWS:
        values = rng.choice(values, BGM_ROWS, replace=False)
    spread = float(values.std()) or 1.0
    floor = 1e-3 * spread
    distinct = np.unique(values)
    if distinct.size < 2:
        return np.ones(1), np.array([float(values.mean())]), np.array([floor])
    bgm = BayesianGaussianMixture(
        n_components=min(n_modes, distinct.size),
        weight_concentration_prior_type="dirichlet_process",
        weight_concentration_prior=0.001,
        max_iter=100,
        random_state=seed,
        # one feature: the same model as "full" (on Adult's numeric columns the fitted weights, means and
        # variances agree to 8e-10), without the Cholesky factors of 1 x 1 matrices: Adult's six columns take
        # 1.3-1.4 s against 1.66-1.78 s (benchmarks/tabular_parts.py)
        covariance_type="diag",
    )
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings(), denormals_kept():  # the CLI flushes denormals process-wide; the mixture needs them
        warnings.simplefilter("ignore", ConvergenceWarning)
        bgm.fit(values.reshape(-1, 1))
    keep = bgm.weights_ > MODE_WEIGHT
    weights = bgm.weights_[keep] / bgm.weights_[keep].sum()
    means = bgm.means_.reshape(-1)[keep]
    stds = np.sqrt(bgm.covariances_.reshape(-1)[keep]).clip(min=floor)
    return weights, means, stds


class TableTransformer:
    """Fits on a model frame and maps it to and from float vectors.

    Parameters
    ----------
    n_modes : int
        Most mixture components per continuous column.
    max_categories : int
        Most one-hot levels per discrete column (the rest become ``"<other>"``).
    seed : int
        Seeds the mixtures' fits and the mode draws.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"x": [1.0, 2.0, 3.0, 10.0] * 5, "c": ["a", "b", "a", "c"] * 5})
    >>> t = TableTransformer(seed=0).fit(df, {"x": "continuous", "c": "discrete"})
    >>> X = t.transform(df)
    >>> X.shape[0], t.output_dim == X.shape[1]
    (20, True)
    >>> back = t.inverse_transform(X)
    >>> bool((back["c"] == df["c"]).all()), bool(abs(back["x"] - df["x"]).max() < 1e-6)
    (True, True)
    """

    def __init__(self, *, n_modes: int = 10, max_categories: int = 100, seed: int = 0) -> None:
        self.n_modes = n_modes
        self.max_categories = max_categories
        self.seed = seed
        self.columns: list[ContinuousColumn | DiscreteColumn] = []

    # ------------------------------------------------------------------ fit

    def fit(self, df: pd.DataFrame, kinds: dict[str, str], uncapped: Any = ()) -> TableTransformer:
        """Fit to ``df`` whose columns are ``kinds[name]`` = "continuous" (floats, NaN missing) or "discrete".

        Discrete columns named in ``uncapped`` keep all their labels (no ``"<other>"`` bucket)."""
        if self.max_categories < 2:
            raise InputError(f"max_categories must be >= 2, got {self.max_categories!r}")
        self.columns = []
        for i, name in enumerate(df.columns):
            kind = kinds[name]
            if kind == "continuous":
                values = df[name].to_numpy(dtype=float)
                present = values[~np.isnan(values)]
                if present.size == 0:
                    raise InputError(f"column {name!r} has no values to fit")
                w, m, s = _fit_modes(present, self.n_modes, self.seed + i)
                self.columns.append(ContinuousColumn(name, w, m, s, has_missing=bool(np.isnan(values).any())))
            elif kind == "discrete":
                counts = df[name].astype(object).where(df[name].notna(), None).value_counts(dropna=False)
                labels = [_plain(v) for v in counts.index]
                if len(labels) > self.max_categories and name not in uncapped:
                    labels = labels[: self.max_categories - 1] + [OTHER]
                self.columns.append(DiscreteColumn(name, labels))
            else:
                raise InputError(f"column kind must be 'continuous' or 'discrete', got {kind!r} for {name!r}")
        return self

    # ------------------------------------------------------------ structure

    def spans(self) -> list[tuple[str, int]]:
        """The spans of the output vector, in order: ("gaussian", 1) or ("categorical", k)."""
        return [s for c in self.columns for s in c.spans()]

    @property
    def output_dim(self) -> int:
        return sum(w for _, w in self.spans())

    def discrete_offsets(self) -> dict[str, tuple[int, list[Any]]]:
        """For each discrete column: the start of its one-hot in the output vector and its labels."""
        out, start = {}, 0
        for c in self.columns:
            if isinstance(c, DiscreteColumn):
                out[c.name] = (start, list(c.categories))
            start += sum(w for _, w in c.spans())
        return out

    # ------------------------------------------------------------ transform

    def transform(self, df: pd.DataFrame, *, draw_modes: bool = True) -> np.ndarray:
        """The table as float32 vectors, shape (n_rows, output_dim).

        A number's mode is drawn from its posterior over the modes (seeded; what training sees, as in
        Xu et al. 2019), or with ``draw_modes=False`` the most probable one, so that each row's vector
        depends on that row only.
        """
        rng = np.random.default_rng(self.seed)
        n = len(df)
        parts = []
        for c in self.columns:
            if isinstance(c, ContinuousColumn):
                values = df[c.name].to_numpy(dtype=float)
                missing = np.isnan(values)
                filled = np.where(missing, c.means[np.argmax(c.weights)], values)
                post = c.mode_posterior(filled)
                mode = (post.cumsum(1) > rng.random((n, 1))).argmax(1) if draw_modes else post.argmax(1)  # k ~ p(k | x)
                alpha = np.clip((filled - c.means[mode]) / (4 * c.stds[mode]), -0.99, 0.99)
                parts += [alpha[:, None], np.eye(len(c.means))[mode]]
                if c.has_missing:
                    parts.append(np.eye(2)[missing.astype(int)])
            else:
                index = {v: j for j, v in enumerate(c.categories)}
                other = index.get(OTHER)
                codes = np.array([index.get(_plain(v), other if other is not None else -1) for v in df[c.name]])
                if (codes < 0).any():
                    bad = _plain(df[c.name].iloc[int(np.argmax(codes < 0))])
                    raise InputError(
                        f"column {c.name!r} holds {bad!r}, a label not seen in fit; known: {c.categories[:10]}"
                    )
                parts.append(np.eye(len(c.categories))[codes])
        return np.concatenate(parts, axis=1).astype(np.float32) if parts else np.zeros((n, 0), np.float32)

    def inverse_transform(self, X: np.ndarray) -> pd.DataFrame:
        """Vectors (n, output_dim) back to a model frame: modes and labels by argmax, alpha un-normalized."""
        import pandas as pd

        if X.ndim != 2 or X.shape[1] != self.output_dim:
            raise InputError(f"X must have shape (n, {self.output_dim}), got {tuple(X.shape)}")
        out, start = {}, 0
        for c in self.columns:
            if isinstance(c, ContinuousColumn):
                k = len(c.means)
                alpha = np.clip(X[:, start], -1.0, 1.0)
                mode = X[:, start + 1 : start + 1 + k].argmax(1)
                values = alpha * 4 * c.stds[mode] + c.means[mode]
                start += 1 + k
                if c.has_missing:
                    values = np.where(X[:, start : start + 2].argmax(1) == 1, np.nan, values)
                    start += 2
                out[c.name] = values
            else:
                k = len(c.categories)
                labels = np.empty(len(c.categories), dtype=object)
                labels[:] = c.categories
                out[c.name] = labels[X[:, start : start + k].argmax(1)]
                start += k
        return pd.DataFrame(out)

    # ------------------------------------------------------------ save/load

    def to_dict(self) -> dict[str, Any]:
        """The JSON part of the fitted state (the mixtures' arrays are in :meth:`tensors`)."""
        cols = []
        for c in self.columns:
            if isinstance(c, ContinuousColumn):
                cols.append({"name": c.name, "kind": "continuous", "modes": len(c.means), "has_missing": c.has_missing})
            else:
                cols.append({"name": c.name, "kind": "discrete", "categories": c.categories})
        return {"n_modes": self.n_modes, "max_categories": self.max_categories, "seed": self.seed, "columns": cols}

    def tensors(self) -> dict[str, torch.Tensor]:
        """The mixtures' weights, means and standard deviations, float64, keyed by column position."""
        out = {}
        for i, c in enumerate(self.columns):
            if isinstance(c, ContinuousColumn):
                for key in ("weights", "means", "stds"):
                    out[f"transformer.{i}.{key}"] = torch.from_numpy(np.asarray(getattr(c, key), dtype=np.float64))
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any], tensors: dict[str, torch.Tensor]) -> TableTransformer:
        t = cls(n_modes=data["n_modes"], max_categories=data["max_categories"], seed=data["seed"])
        for i, c in enumerate(data["columns"]):
            if c["kind"] == "continuous":
                arrays = [tensors[f"transformer.{i}.{key}"].numpy() for key in ("weights", "means", "stds")]
                if not all(a.shape == (c["modes"],) for a in arrays):
                    raise InputError(f"the saved transformer's arrays for column {c['name']!r} do not match its config")
                t.columns.append(ContinuousColumn(c["name"], *arrays, has_missing=c["has_missing"]))
            else:
                t.columns.append(DiscreteColumn(c["name"], list(c["categories"])))
        return t


def _plain(value: Any) -> Any:
    """A JSON-able label: NumPy scalars become Python ones, NaN becomes None."""
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
