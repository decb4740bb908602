"""From a raw table to the vectors a VAE models, and back: schema, constraints, transformer.

Fitting (:meth:`TablePipeline.fit`):

1. infer the column kinds (:class:`~vaelab.tabular.schema.Schema`, metadata overrides);
2. check the rows against the constraints; rows that break one are reported
   and left out (none satisfying a constraint is an error);
3. build the *model frame*: datetimes as seconds, booleans as labels,
   constant and empty columns set aside (they are reproduced as they are);
4. reparametrize constrained columns (:mod:`vaelab.tabular.constraints`),
   inequalities first, then fixed combinations, then ranges; a column already
   rewritten by an earlier constraint makes a later one on it a projection only;
5. fit the :class:`~vaelab.tabular.transformer.TableTransformer`.

Decoding runs the steps backwards, then rounds, keeps every column in its
seen range, restores the dtypes and projects rows onto the constraints.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np

from vaelab.errors import InputError
from vaelab.tabular.constraints import Categories, Constraint, FixedCombinations, Inequality, Predicate, Range
from vaelab.tabular.rules import Violation, check_table, constraint_from_dict
from vaelab.tabular.schema import Schema, _datetime_seconds
from vaelab.tabular.transformer import TableTransformer

if TYPE_CHECKING:
    import pandas as pd
    import torch

logger = logging.getLogger(__name__)

_ORDER = {Inequality: 0, FixedCombinations: 1, Range: 2}  # the order constraints rewrite columns in


class TablePipeline:
    """The fitted path between a table and its vectors.

    Parameters
    ----------
    constraints : list of Constraint
    metadata : dict, optional
        Column kind overrides (see :mod:`vaelab.tabular.schema`).
    n_modes, max_categories, seed
        Passed to the :class:`TableTransformer`.
    """

    def __init__(
        self,
        constraints: list[Constraint] | None = None,
        metadata: dict[str, Any] | None = None,
        *,
        n_modes: int = 10,
        max_categories: int = 100,
        seed: int = 0,
    ) -> None:
        self.constraints = list(constraints or [])
        self.metadata = metadata
        self.transformer = TableTransformer(n_modes=n_modes, max_categories=max_categories, seed=seed)
        self.schema: Schema | None = None
        self.violations: list[Violation] = []
        self.n_rows = 0

    # ------------------------------------------------------------------ fit

    def fit_transform(self, df: pd.DataFrame) -> np.ndarray:
        """Fit every step on ``df`` and return its rows as vectors, float32 of shape (n_valid_rows, output_dim)."""
        schema, coerced = Schema.infer(df, self.metadata)
        valid, self.violations = check_table(coerced, self.constraints)
        for v in self.violations:
            logger.warning("%d rows violate %s (rows %s); they are left out of training", v.count, v.constraint, v.rows)
        if not valid.all():
            schema, coerced = Schema.infer(df[valid].reset_index(drop=True), self.metadata)
        for note in schema.notes:
            logger.warning(note)
        self.schema, self.n_rows = schema, len(coerced)
        frame = self._model_frame(coerced)
        self.constraints.sort(key=lambda c: _ORDER.get(type(c), 3))
        rewritten: set[str] = set()
        uncapped: set[str] = set()
        for c in self.constraints:
            cols = c.columns()
            modelled = all(col in frame.columns for col in cols) and not (set(cols) & rewritten)
            if isinstance(c, FixedCombinations) and not modelled:
                raise InputError(f"constraint {c.describe()} shares a column with another fixed_combinations; merge them")
            c.fit(frame, reparametrize=modelled and not isinstance(c, (Predicate, Categories)))
            if c.reparametrize:
                frame = c.transform(frame)
                rewritten |= {c.high} if isinstance(c, Inequality) else set(cols)
            if isinstance(c, FixedCombinations):
                uncapped.add(c.merged)
            if isinstance(c, Categories):
                uncapped.add(c.column)
        kinds = {name: "continuous" if frame[name].dtype.kind == "f" else "discrete" for name in frame.columns}
        self.transformer.fit(frame, kinds, uncapped=uncapped)
        return self.transformer.transform(frame)

    def transform(self, df: pd.DataFrame, name: str = "X") -> np.ndarray:
        """Rows of a table with the fitted columns as vectors, float32 (n, output_dim); each number in its likeliest
        mode.

        Raises
        ------
        InputError
            If a column is missing, a label was not seen in fit, or rows break the constraints
            (the model has no code for them).
        """
        coerced = self.schema.read(df, name)
        for spec in self.schema.columns:
            missing = coerced[spec.name].isna().to_numpy()
            if spec.kind not in ("constant", "empty") and spec.missing_rate == 0 and missing.any():
                raise InputError(f"column {spec.name!r} of {name} has a missing or unreadable cell (row "
                                 f"{int(np.argmax(missing))}), and it had none when the model was fitted")
        ok = self.valid(coerced)
        if not ok.all():
            bad = np.flatnonzero(~ok)
            raise InputError(f"{bad.size} rows of {name} break the model's constraints (rows {bad[:10].tolist()}): "
                             "they have no code; leave them out")
        frame = self._model_frame(coerced)
        for c in self.constraints:
            if c.reparametrize:
                frame = c.transform(frame)
        return self.transformer.transform(frame, draw_modes=False)

    def _model_frame(self, coerced: pd.DataFrame) -> pd.DataFrame:
        import pandas as pd

        out = {}
        for c in self.schema.columns:
            if c.kind in ("constant", "empty"):
                continue
            if c.kind == "datetime":
                out[c.name] = _datetime_seconds(coerced[c.name])
            elif c.kind == "numeric":
                out[c.name] = coerced[c.name].to_numpy(dtype=float)
            else:
                out[c.name] = coerced[c.name].astype(object).where(coerced[c.name].notna(), None)
        if not out:
            raise InputError("the table has no column with more than one value: there is nothing to model")
        return pd.DataFrame(out)

    # --------------------------------------------------------------- decode

    @property
    def spans(self) -> list[tuple[str, int]]:
        return self.transformer.spans()

    def decode(self, X: np.ndarray) -> pd.DataFrame:
        """Vectors (n, output_dim) to raw rows in the original columns, rounded, in range and projected."""
        frame = self.transformer.inverse_transform(X)
        for c in reversed(self.constraints):
            if c.reparametrize:
                frame = c.reverse(frame)
        df = self.schema.finalize(frame)
        for c in self.constraints:
            df = c.enforce(df)
        return df[self.schema.names]

    def valid(self, df: pd.DataFrame) -> np.ndarray:
        """Rows meeting every constraint, shape (n,)."""
        ok = np.ones(len(df), dtype=bool)
        for c in self.constraints:
            ok &= c.is_valid(df)
        return ok

    # ------------------------------------------------------------ save/load

    def to_dict(self) -> dict[str, Any]:
        saved = [c for c in self.constraints if not isinstance(c, Predicate)]
        return {
            "schema": self.schema.to_dict(),
            "constraints": [{"spec": c.to_dict(), "state": c.state()} for c in saved],
            "predicates": [c.name for c in self.constraints if isinstance(c, Predicate)],
            "transformer": self.transformer.to_dict(),
            "violations": [v.__dict__ for v in self.violations],
            "n_rows": self.n_rows,
        }

    def tensors(self) -> dict[str, torch.Tensor]:
        return self.transformer.tensors()

    @classmethod
    def from_dict(cls, data: dict[str, Any], tensors: dict[str, torch.Tensor]) -> TablePipeline:
        constraints = []
        for entry in data["constraints"]:
            c = constraint_from_dict(entry["spec"])
            c.set_state(entry["state"])
            constraints.append(c)
        p = cls(constraints)
        p.schema = Schema.from_dict(data["schema"])
        p.transformer = TableTransformer.from_dict(data["transformer"], tensors)
        p.violations = [Violation(**v) for v in data.get("violations", [])]
        p.n_rows = int(data.get("n_rows", 0))
        if data.get("predicates"):
            logger.warning("the model was fitted with predicates %s, which are Python code and not saved; pass them "
                           "again to sample(..., predicates=[...])", data["predicates"])
        return p
