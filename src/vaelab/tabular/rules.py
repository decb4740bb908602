"""Reading rules and checking a table against them.

:func:`parse_constraints` builds constraints from Python objects, dicts, a
``{"constraints": [...]}`` mapping or a YAML/JSON file; :func:`check_table`
checks the real rows first and reports the ones that break a rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from vaelab.errors import InputError
from vaelab.tabular.constraints import CONSTRAINTS, Constraint
from vaelab.tabular.schema import read_metadata

if TYPE_CHECKING:
    import pandas as pd


def parse_constraints(spec: Any) -> list[Constraint]:
    """Constraints from a list of dicts or Constraint objects, ``{"constraints": [...]}``, or a YAML/JSON file's path."""
    if isinstance(spec, (str, Path)):
        spec = read_metadata(spec)
    if isinstance(spec, dict):
        if set(spec) - {"constraints", "columns"}:
            raise InputError(f"a rules file holds 'constraints:' (and optionally 'columns:'), got keys {sorted(spec)}")
        spec = spec.get("constraints") or []
    if spec is None:
        return []
    if not isinstance(spec, (list, tuple)):
        raise InputError(f"constraints must be a list, got {type(spec).__name__}")
    out = []
    for i, item in enumerate(spec):
        if isinstance(item, Constraint):
            out.append(item)
            continue
        if not isinstance(item, dict) or "type" not in item:
            raise InputError(f"constraint {i + 1} must be a mapping with a 'type', got {item!r}")
        options = {k: v for k, v in item.items() if k != "type"}
        if item["type"] == "predicate":
            raise InputError("a predicate constraint is Python code: give Predicate(fn) in Python, not in a file")
        cls = CONSTRAINTS.get(item["type"])
        try:
            out.append(cls(**options))
        except TypeError as exc:
            raise InputError(f"constraint {i + 1} ({item['type']}) has wrong fields {sorted(options)}: {exc}") from None
    return out


def constraint_from_dict(data: dict[str, Any]) -> Constraint:
    return parse_constraints([data])[0]


@dataclass
class Violation:
    """The rows of the data that break one constraint."""

    constraint: str
    count: int
    rows: list[int]  # the first few row numbers (0-based, as in the file without its header)


def check_table(df: pd.DataFrame, constraints: list[Constraint]) -> tuple[np.ndarray, list[Violation]]:
    """Check the real rows against every constraint.

    Returns
    -------
    valid : ndarray of bool, shape (n_rows,)
        Rows that meet every constraint.
    violations : list of Violation
        One entry per broken constraint, with up to 10 row numbers.

    Raises
    ------
    InputError
        If a constraint names a column the table lacks, or no row meets a constraint.
    """
    names = list(df.columns)
    for c in constraints:
        missing = [col for col in c.columns() if col not in names]
        if missing:
            raise InputError(f"constraint {c.describe()} names column {missing[0]!r}, which the table does not have; its columns: {names}")
    valid = np.ones(len(df), dtype=bool)
    violations = []
    for c in constraints:
        ok = c.is_valid(df)
        if not ok.any():
            from vaelab.tabular.transformer import _plain  # (imports torch; only on this error)

            raise InputError(
                f"no row of the data satisfies constraint {c.describe()} (e.g. row 0: "
                f"{ {col: _plain(df[col].iloc[0]) for col in c.columns()} }){c.hint(df)}; fix the rule or the data"
            )
        if not ok.all():
            bad = np.flatnonzero(~ok)
            violations.append(Violation(c.describe(), int(bad.size), [int(i) for i in bad[:10]]))
        valid &= ok
    return valid, violations
