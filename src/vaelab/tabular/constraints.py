"""Hard constraints on generated rows, met by construction where possible.

=======================  ===========================================  ========================================
type                     declared as                                  how it is met
=======================  ===========================================  ========================================
``range``                ``{column, low, high}`` (either may be       the column is modelled through a bounded
                         left out; ``strict: true`` for < and >)      map (logit or log of the distance to the
                                                                      bound), projected into range after rounding
``positive``             ``{column}``: a range with low 0, strict     as ``range``
``inequality``           ``{low: A, high: B}``: A <= B                B is modelled as A plus a non-negative gap
                                                                      (log of B - A); projected after rounding
``fixed_combinations``   ``{columns: [a, b, ...]}``                   the combinations seen in the data become
                                                                      one categorical column
``increment``            ``{column, step, offset}``: offset plus      rounded to the nearest such value
                         multiples of step (offset 0 if left out)
``categories``           ``{column, values: [...]}``                  only labels from ``values`` are generated
``predicate``            Python only: ``Predicate(fn, name)``,        rejection, with a bounded number of
                         ``fn(DataFrame) -> bool array``              tries and a clear error when unmet
=======================  ===========================================  ========================================

A missing cell satisfies every constraint. The real data is checked first
(:func:`vaelab.tabular.rules.check_table`): rows that violate a constraint are reported and left
out of training, and a constraint that no row satisfies is an error.

In YAML (``constraints.yaml``)::

    constraints:
      - {type: range, column: age, low: 18, high: 90}
      - {type: positive, column: time}
      - {type: inequality, low: admission_date, high: discharge_date}
      - {type: fixed_combinations, columns: [menostat, horTh]}
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from vaelab.errors import InputError
from vaelab.registry import Registry

if TYPE_CHECKING:
    import pandas as pd

CONSTRAINTS: Registry[type["Constraint"]] = Registry("constraint type")
_EPS = 1e-6


class Constraint:
    """Base class. ``transform``/``reverse`` act on the model frame, ``enforce``/``is_valid`` on raw rows."""

    type: str = ""
    constructive: bool = True  # met by construction (validity must be 100%)

    def columns(self) -> list[str]:
        raise NotImplementedError

    def describe(self) -> str:
        return json.dumps(self.to_dict())

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    def is_valid(self, df: pd.DataFrame) -> np.ndarray:
        """Whether each row satisfies the constraint (missing cells do), shape (n_rows,)."""
        raise NotImplementedError

    def hint(self, df: pd.DataFrame) -> str:
        """A fix to suggest when no row of ``df`` satisfies the constraint ("" for none), starting with "; "."""
        return ""

    def fit(self, df: pd.DataFrame, reparametrize: bool) -> None:
        """Learn what the transform needs from the (valid) model frame; ``reparametrize=False``: enforce only."""
        self.reparametrize = reparametrize

    def transform(self, df: pd.DataFrame) -> pd.DataFrame:
        return df

    def reverse(self, df: pd.DataFrame) -> pd.DataFrame:
        return df

    def enforce(self, df: pd.DataFrame) -> pd.DataFrame:
        """Project rows onto the constraint after rounding (a no-op where it holds)."""
        return df

    _state_keys: tuple[str, ...] = ()  # fitted attributes saved with the model

    def state(self) -> dict[str, Any]:
        """The fitted state as JSON."""
        return {"reparametrize": getattr(self, "reparametrize", False)} | {k: getattr(self, k) for k in self._state_keys}

    def set_state(self, state: dict[str, Any]) -> None:
        for key in ("reparametrize", *self._state_keys):
            setattr(self, key, state[key])


def _numbers(df: pd.DataFrame, column: str) -> np.ndarray:
    import pandas as pd

    s = df[column]
    if pd.api.types.is_datetime64_any_dtype(s):
        out = s.to_numpy(dtype="datetime64[ns]").astype("int64").astype(float) / 1e9
        out[s.isna().to_numpy()] = np.nan
        return out
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)


def _assign(df: pd.DataFrame, column: str, rows: np.ndarray, values: np.ndarray) -> pd.DataFrame:
    """``df`` with ``column[rows] = values[rows]``, kept in the column's dtype (whole numbers for integers)."""
    out = df.copy()
    col = out[column].to_numpy(copy=True)
    if col.dtype.kind in "iu":
        col[rows] = np.round(values[rows]).astype(col.dtype)
    else:
        col = col.astype(float) if col.dtype.kind != "O" else col
        col[rows] = values[rows]
    out[column] = col
    return out


@CONSTRAINTS.register("range")
@dataclass
class Range(Constraint):
    """low <= column <= high (strict: <); either bound may be None."""

    column: str
    low: float | None = None
    high: float | None = None
    strict: bool = False
    type = "range"
    _state_keys = ("margin",)

    def __post_init__(self) -> None:
        if self.low is None and self.high is None:
            raise InputError(f"range constraint on {self.column!r} needs low, high or both")
        for key in ("low", "high"):
            v = getattr(self, key)
            if v is not None and not (isinstance(v, (int, float)) and math.isfinite(v)):
                raise InputError(f"range constraint on {self.column!r}: {key} must be a finite number, got {v!r}")
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise InputError(f"range constraint on {self.column!r}: low {self.low} must be below high {self.high}")

    def columns(self) -> list[str]:
        return [self.column]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "column": self.column}
        out.update({k: getattr(self, k) for k in ("low", "high") if getattr(self, k) is not None})
        return out | ({"strict": True} if self.strict else {})

    def is_valid(self, df: pd.DataFrame) -> np.ndarray:
        x = _numbers(df, self.column)
        ok = np.ones(len(x), dtype=bool)
        with np.errstate(invalid="ignore"):
            if self.low is not None:
                ok &= ~(x < self.low if not self.strict else x <= self.low)
            if self.high is not None:
                ok &= ~(x > self.high if not self.strict else x >= self.high)
        return ok

    def fit(self, df: pd.DataFrame, reparametrize: bool) -> None:
        super().fit(df, reparametrize)
        x = df[self.column].to_numpy(dtype=float)
        spread = float(np.nanstd(x)) if np.isfinite(x).any() else 1.0
        self.margin = max(spread, 1e-12) * 1e-3  # keeps the log/logit finite at the bound itself

    def transform(self, df: pd.DataFrame) -> pd.DataFrame:
        if not self.reparametrize:
            return df
        x = df[self.column].to_numpy(dtype=float)
        m = self.margin
        if self.low is not None and self.high is not None:
            u = (x - self.low + m) / (self.high - self.low + 2 * m)
            y = np.log(u) - np.log1p(-u)  # logit
        elif self.low is not None:
            y = np.log(x - self.low + m)
        else:
            y = np.log(self.high - x + m)
        return df.assign(**{self.column: y})

    def reverse(self, df: pd.DataFrame) -> pd.DataFrame:
        if not self.reparametrize:
            return df
        y = df[self.column].to_numpy(dtype=float)
        m = self.margin
        if self.low is not None and self.high is not None:
            x = 1.0 / (1.0 + np.exp(-y)) * (self.high - self.low + 2 * m) + self.low - m
        elif self.low is not None:
            x = np.exp(np.minimum(y, 700)) + self.low - m
        else:
            x = self.high + m - np.exp(np.minimum(y, 700))
        return df.assign(**{self.column: x})

    def enforce(self, df: pd.DataFrame) -> pd.DataFrame:
        bad = ~self.is_valid(df)
        if not bad.any():
            return df
        x = _numbers(df, self.column)
        fixed = np.clip(x, self.low if self.low is not None else -np.inf, self.high if self.high is not None else np.inf)
        return _assign(df, self.column, bad, fixed)


@CONSTRAINTS.register("positive")
class Positive(Range):
    """column > 0."""

    type = "positive"

    def __init__(self, column: str) -> None:
        super().__init__(column, low=0.0, strict=True)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "column": self.column}


@CONSTRAINTS.register("inequality")
@dataclass
class Inequality(Constraint):
    """low <= high between two numeric or datetime columns (strict: <)."""

    low: str
    high: str
    strict: bool = False
    type = "inequality"
    _state_keys = ("margin",)

    def columns(self) -> list[str]:
        return [self.low, self.high]

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "low": self.low, "high": self.high} | ({"strict": True} if self.strict else {})

    def is_valid(self, df: pd.DataFrame) -> np.ndarray:
        a, b = _numbers(df, self.low), _numbers(df, self.high)
        with np.errstate(invalid="ignore"):
            return ~(a > b if not self.strict else a >= b)

    def fit(self, df: pd.DataFrame, reparametrize: bool) -> None:
        a, b = df[self.low].to_numpy(dtype=float), df[self.high].to_numpy(dtype=float)
        # with missing cells the gap would lose B where A is missing: projection alone then
        super().fit(df, reparametrize and not (np.isnan(a).any() or np.isnan(b).any()))
        gap = b - a
        self.margin = max(float(np.nanstd(gap)) if np.isfinite(gap).any() else 1.0, 1e-12) * 1e-3

    def transform(self, df: pd.DataFrame) -> pd.DataFrame:
        if not self.reparametrize:
            return df
        a, b = df[self.low].to_numpy(dtype=float), df[self.high].to_numpy(dtype=float)
        return df.assign(**{self.high: np.log(b - a + self.margin)})  # B = A + gap, gap >= 0

    def reverse(self, df: pd.DataFrame) -> pd.DataFrame:
        if not self.reparametrize:
            return df
        a, g = df[self.low].to_numpy(dtype=float), df[self.high].to_numpy(dtype=float)
        return df.assign(**{self.high: a + np.maximum(np.exp(np.minimum(g, 700)) - self.margin, 0.0)})

    def enforce(self, df: pd.DataFrame) -> pd.DataFrame:
        bad = ~self.is_valid(df)
        if not bad.any():
            return df
        out = df.copy()
        out.loc[bad, self.high] = out.loc[bad, self.low].to_numpy()
        return out


@CONSTRAINTS.register("fixed_combinations")
@dataclass
class FixedCombinations(Constraint):
    """Only the combinations of these categorical columns seen in the data."""

    columns_: list[str]
    type = "fixed_combinations"
    _state_keys = ("seen",)

    def __init__(self, columns: list[str]) -> None:
        if not isinstance(columns, (list, tuple)) or len(columns) < 2:
            raise InputError(f"fixed_combinations needs columns: a list of at least two names, got {columns!r}")
        self.columns_ = [str(c) for c in columns]
        self.seen: list[list[Any]] | None = None  # None before fit: the data defines the valid set

    def columns(self) -> list[str]:
        return list(self.columns_)

    @property
    def merged(self) -> str:
        return "+".join(self.columns_)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "columns": list(self.columns_)}

    def _keys(self, df: pd.DataFrame) -> list[str]:
        from vaelab.tabular.transformer import _plain

        rows = zip(*(df[c].tolist() for c in self.columns_))
        return [json.dumps([_plain(v) for v in row]) for row in rows]

    def is_valid(self, df: pd.DataFrame) -> np.ndarray:
        if self.seen is None:
            return np.ones(len(df), dtype=bool)
        seen = {json.dumps(s) for s in self.seen}
        return np.array([k in seen for k in self._keys(df)], dtype=bool)

    def fit(self, df: pd.DataFrame, reparametrize: bool) -> None:
        super().fit(df, True)
        self.seen = [json.loads(k) for k in sorted(set(self._keys(df)))]

    def transform(self, df: pd.DataFrame) -> pd.DataFrame:
        keys = self._keys(df)
        out = df.drop(columns=self.columns_)
        out[self.merged] = keys
        return out

    def reverse(self, df: pd.DataFrame) -> pd.DataFrame:
        values = [json.loads(k) for k in df[self.merged]]
        out = df.drop(columns=[self.merged])
        for i, c in enumerate(self.columns_):
            out[c] = [v[i] for v in values]
        return out


@CONSTRAINTS.register("increment")
@dataclass
class Increment(Constraint):
    """column is ``offset`` plus a whole multiple of ``step`` (rounding to fixed increments).

    ``offset`` (default 0) places the grid: the census years 1952, 1957, ... are
    ``{step: 5, offset: 1952}`` (or any other year of the grid).
    """

    column: str
    step: float
    offset: float = 0.0
    type = "increment"

    def __post_init__(self) -> None:
        if isinstance(self.step, bool) or not (isinstance(self.step, (int, float)) and self.step > 0):
            raise InputError(f"increment constraint on {self.column!r}: step must be a number > 0, got {self.step!r}")
        if isinstance(self.offset, bool) or not (isinstance(self.offset, (int, float)) and math.isfinite(self.offset)):
            raise InputError(
                f"increment constraint on {self.column!r}: offset must be a finite number, got {self.offset!r}"
            )

    def columns(self) -> list[str]:
        return [self.column]

    def to_dict(self) -> dict[str, Any]:
        out = {"type": self.type, "column": self.column, "step": self.step}
        if self.offset:
            out["offset"] = self.offset
        return out

    def _steps(self, df: pd.DataFrame) -> np.ndarray:
        return (_numbers(df, self.column) - self.offset) / self.step

    def is_valid(self, df: pd.DataFrame) -> np.ndarray:
        q = self._steps(df)
        with np.errstate(invalid="ignore"):
            return ~(np.abs(q - np.round(q)) > 1e-6)

    def hint(self, df: pd.DataFrame) -> str:
        """Where no value is on the grid but all share one remainder: the offset that puts them on it."""
        x = _numbers(df, self.column)
        x = x[np.isfinite(x)]
        if x.size == 0:
            return ""
        remainder = np.mod(x - self.offset, self.step)
        if np.ptp(remainder) > 1e-6 * self.step:
            return ""
        first = float(x[0])
        return (f"; all its values lie {float(remainder[0]):g} above the rule's grid: set offset: {first:g} in the "
                f"rule (values {first:g} + k * {self.step:g})")

    def enforce(self, df: pd.DataFrame) -> pd.DataFrame:
        bad = ~self.is_valid(df)
        if not bad.any():
            return df
        decimals = max(0, -math.floor(math.log10(self.step)) + 6)
        fixed = np.round(np.round(self._steps(df)) * self.step + self.offset, decimals)
        return _assign(df, self.column, bad, fixed)


@CONSTRAINTS.register("categories")
@dataclass
class Categories(Constraint):
    """column takes its values from ``values`` only (the model never invents a label)."""

    column: str
    values: list[Any] = field(default_factory=list)
    type = "categories"

    def __post_init__(self) -> None:
        if not isinstance(self.values, (list, tuple)) or not self.values:
            raise InputError(f"categories constraint on {self.column!r} needs values: a non-empty list")
        self.values = list(self.values)

    def columns(self) -> list[str]:
        return [self.column]

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "column": self.column, "values": self.values}

    def is_valid(self, df: pd.DataFrame) -> np.ndarray:
        allowed = {str(v) for v in self.values}
        s = df[self.column]
        return (s.isna() | s.astype(str).isin(allowed)).to_numpy()


class Predicate(Constraint):
    """A user rule ``fn(df) -> bool array``, met by rejection (Python only, never from a file).

    Parameters
    ----------
    fn : callable
        Takes a DataFrame of generated rows, returns one bool per row.
    name : str
        Named in reports and errors.
    columns : list of str, optional
        The columns it reads (checked to exist).
    """

    type = "predicate"
    constructive = False

    def __init__(self, fn: Callable[[Any], Any], name: str = "predicate", columns: list[str] | None = None) -> None:
        if not callable(fn):
            raise InputError(f"Predicate needs a callable fn(DataFrame) -> bool array, got {type(fn).__name__}")
        self.fn, self.name, self.columns_ = fn, name, list(columns or [])

    def columns(self) -> list[str]:
        return self.columns_

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "name": self.name, "columns": self.columns_}

    def is_valid(self, df: pd.DataFrame) -> np.ndarray:
        out = np.asarray(self.fn(df), dtype=bool).reshape(-1)
        if out.shape != (len(df),):
            raise InputError(f"predicate {self.name!r} returned {out.shape[0]} values for {len(df)} rows; return one bool per row")
        return out
