"""Column types of a table: inferred from a DataFrame, overridable by a metadata file.

Every column gets one *kind*:

===============  ====================================================================
kind             values
===============  ====================================================================
``numeric``      real numbers; ``integer`` ones come back as integers, every one is
                 rounded to the decimals seen in the data and kept in the range seen
``categorical``  labels (strings, or numbers declared categorical)
``boolean``      True/False
``datetime``     dates and times (parsed with pandas, mixed formats allowed)
``constant``     a single value in every row, reproduced as is
``empty``        no value in any row, reproduced as missing
===============  ====================================================================

A numeric column holding a few text cells (at most ``TEXT_IN_NUMBERS`` of
its values) stays numeric: the text cells are read as missing and named in
:attr:`Schema.notes`. A metadata file (YAML or JSON) overrides the inferred
kinds::

    columns:
      tgrade: {type: categorical}
      pnodes: {type: numeric, integer: true}
      admitted: {type: datetime}
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from vaelab.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

logger = logging.getLogger(__name__)

KINDS = ("numeric", "categorical", "boolean", "datetime", "constant", "empty")
#: a column whose non-missing cells are numbers except for at most this share is numeric
TEXT_IN_NUMBERS = 0.05
#: generated numbers are rounded to at most this many decimals
MAX_DECIMALS = 6


@dataclass
class ColumnSpec:
    """What is known of one raw column.

    Attributes
    ----------
    name : str
    kind : str
        One of :data:`KINDS`.
    integer : bool
        Numeric columns: every value is a whole number.
    decimals : int
        Numeric columns: values are rounded to this many decimals.
    low, high : float or None
        Numeric and datetime columns: the range seen in the data (datetimes
        in seconds since the epoch).
    value : Any
        Constant columns: the value.
    missing_rate : float
        Share of missing cells in the data.
    """

    name: str
    kind: str
    integer: bool = False
    decimals: int = MAX_DECIMALS
    low: float | None = None
    high: float | None = None
    value: Any = None
    missing_rate: float = 0.0


@dataclass
class Schema:
    """The kinds of a table's columns, in order, and notes on what was coerced."""

    columns: list[ColumnSpec]
    notes: list[str] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def __getitem__(self, name: str) -> ColumnSpec:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {"columns": [asdict(c) for c in self.columns], "notes": list(self.notes)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Schema:
        return cls([ColumnSpec(**c) for c in data["columns"]], list(data.get("notes", [])))

    # -------------------------------------------------------------- inference

    @classmethod
    def infer(cls, df: pd.DataFrame, metadata: dict[str, Any] | None = None) -> tuple[Schema, pd.DataFrame]:
        """Infer each column's kind and return the schema with the table coerced to it.

        Parameters
        ----------
        df : DataFrame of shape (n_rows, n_columns)
        metadata : dict, optional
            ``{"columns": {name: {"type": kind, "integer": bool}}}`` overriding the inference.

        Returns
        -------
        schema : Schema
        table : DataFrame
            ``df`` with numeric columns as float, datetimes as datetime64 and
            booleans as object True/False (missing as NaN/NaT/None).
        """
        import pandas as pd

        overrides = _column_overrides(metadata, list(df.columns))
        schema = cls([])
        out = {}
        for name in df.columns:
            spec, values = _infer_column(str(name), df[name], overrides.get(str(name), {}), schema.notes)
            schema.columns.append(spec)
            out[str(name)] = values
        return schema, pd.DataFrame(out, index=df.index)

    def read(self, df: pd.DataFrame, name: str = "X") -> pd.DataFrame:
        """Rows of another table with these columns, coerced as :meth:`infer` coerced the table the schema came from.

        Raises
        ------
        InputError
            If ``df`` lacks one of the schema's columns.
        """
        missing = [c for c in self.names if c not in df.columns]
        if missing:
            raise InputError(f"{name} lacks the column(s) {missing} of the table the model was fitted on; its columns: "
                             f"{[str(c) for c in df.columns]}")
        declared: dict[str, dict[str, Any]] = {c.name: {"type": c.kind} for c in self.columns if c.kind in KINDS[:4]}
        for c in self.columns:
            if c.kind == "numeric":
                declared[c.name]["integer"] = c.integer
        return type(self).infer(df[self.names], {"columns": declared})[1]

    # ------------------------------------------------------------- finishing

    def finalize(self, df: pd.DataFrame) -> pd.DataFrame:
        """Give generated columns the raw kinds: round, keep in the seen range, restore dtypes."""
        import pandas as pd

        out = {}
        n = len(df)
        for c in self.columns:
            if c.kind == "constant":
                out[c.name] = pd.Series([c.value] * n, index=df.index)
            elif c.kind == "empty":
                out[c.name] = pd.Series([np.nan] * n, index=df.index, dtype=float)
            elif c.kind == "numeric":
                v = pd.to_numeric(df[c.name], errors="coerce").to_numpy(dtype=float)
                v = np.round(v, 0 if c.integer else c.decimals)
                if c.low is not None:
                    v = np.clip(v, c.low, c.high)
                out[c.name] = pd.Series(v, index=df.index).astype("Int64") if c.integer else pd.Series(v, index=df.index)
                if c.integer and not np.isnan(v).any():
                    out[c.name] = out[c.name].astype("int64")
            elif c.kind == "datetime":
                v = _datetime_seconds(df[c.name])
                v = np.clip(np.round(v), c.low, c.high)
                out[c.name] = pd.to_datetime(pd.Series(v, index=df.index), unit="s")
            elif c.kind == "boolean":
                out[c.name] = df[c.name].map(_as_bool).astype(object)
            else:
                out[c.name] = df[c.name]
        return pd.DataFrame(out, index=df.index)


def _datetime_seconds(series: pd.Series) -> np.ndarray:
    """Datetimes as float seconds since the epoch (NaN for missing); numbers pass through."""
    import pandas as pd

    if pd.api.types.is_datetime64_any_dtype(series):
        values = series.to_numpy(dtype="datetime64[ns]")
        seconds = values.astype("int64").astype(float) / 1e9
        seconds[pd.isna(values)] = np.nan
        return seconds
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)


def _column_overrides(metadata: dict[str, Any] | None, names: list[str]) -> dict[str, dict[str, Any]]:
    if metadata is None:
        return {}
    if not isinstance(metadata, dict) or not isinstance(metadata.get("columns", {}), dict):
        raise InputError(f"metadata must be a mapping with a 'columns' mapping {{name: {{type: ...}}}}, got {metadata!r}")
    columns = metadata.get("columns", {})
    for name, entry in columns.items():
        if name not in names:
            raise InputError(f"metadata names column {name!r}, which the table does not have; its columns: {names}")
        if not isinstance(entry, dict) or entry.get("type", "numeric") not in KINDS[:4]:
            raise InputError(
                f"metadata for column {name!r} must be {{type: numeric|categorical|boolean|datetime}}, got {entry!r}"
            )
    return columns


def _decimals(values: np.ndarray) -> int:
    """The fewest decimals (up to MAX_DECIMALS) that represent every value."""
    finite = values[np.isfinite(values)]
    for d in range(MAX_DECIMALS + 1):
        if np.allclose(np.round(finite, d), finite, rtol=0, atol=1e-9 * max(1.0, float(np.abs(finite).max(initial=0)))):
            return d
    return MAX_DECIMALS


def _numeric_spec(name: str, values: np.ndarray, integer: bool | None) -> ColumnSpec:
    finite = values[~np.isnan(values)]
    is_int = bool(np.all(finite == np.round(finite))) if integer is None else bool(integer)
    return ColumnSpec(
        name,
        "numeric",
        integer=is_int,
        decimals=0 if is_int else _decimals(finite),
        low=float(finite.min()),
        high=float(finite.max()),
        missing_rate=float(np.isnan(values).mean()),
    )


def _infer_column(name: str, series: pd.Series, override: dict[str, Any], notes: list[str]) -> tuple[ColumnSpec, Any]:
    import pandas as pd

    missing = series.isna()
    present = series[~missing]
    rate = float(missing.mean()) if len(series) else 0.0
    kind = override.get("type")
    if len(present) == 0:
        notes.append(f"column {name!r} has no values: it is generated as empty (all missing)")
        return ColumnSpec(name, "empty", missing_rate=1.0), series.astype(object)
    if kind is None and present.nunique() == 1 and rate == 0.0:
        value = present.iloc[0]
        value = value.item() if hasattr(value, "item") else value
        notes.append(f"column {name!r} holds one value ({value!r}) in every row: it is reproduced as a constant")
        return ColumnSpec(name, "constant", value=value), series
    if kind == "categorical":
        return ColumnSpec(name, "categorical", missing_rate=rate), series.astype(object).where(~missing, None)
    if kind == "boolean" or (kind is None and pd.api.types.is_bool_dtype(series.dtype)):
        mapped = series.map(_as_bool)
        if mapped[~missing].isna().any():
            bad = present[mapped[~missing].isna()].iloc[0]
            raise InputError(f"column {name!r} is declared boolean but holds {bad!r}; give true/false values")
        return ColumnSpec(name, "boolean", missing_rate=rate), mapped.astype(object)
    if kind == "datetime" or (kind is None and pd.api.types.is_datetime64_any_dtype(series.dtype)):
        return _datetime_column(name, series, missing, notes, declared=kind == "datetime")
    if pd.api.types.is_numeric_dtype(series.dtype):
        values = series.to_numpy(dtype=float)
        return _numeric_spec(name, values, override.get("integer")), pd.Series(values, index=series.index)
    # text: numbers with a few text cells, dates, or labels
    numbers = pd.to_numeric(present, errors="coerce")
    text_share = float(numbers.isna().mean())
    if kind == "numeric" or text_share <= TEXT_IN_NUMBERS and text_share < 1.0 and len(present) >= 20:
        if text_share > 0:
            bad = present[numbers.isna()]
            notes.append(
                f"column {name!r} is numeric but {len(bad)} cells hold text (e.g. {str(bad.iloc[0])!r}); "
                "they are read as missing"
            )
        values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
        return _numeric_spec(name, values, override.get("integer")), pd.Series(values, index=series.index)
    if kind is None and text_share == 1.0 and _looks_like_dates(present):
        return _datetime_column(name, series, missing, notes, declared=False)
    return ColumnSpec(name, "categorical", missing_rate=rate), series.astype(object).where(~missing, None)


def _as_bool(x: Any) -> Any:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return None
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    text = str(x).strip().lower()
    if text in ("true", "t", "yes", "y", "1", "1.0"):
        return True
    if text in ("false", "f", "no", "n", "0", "0.0"):
        return False
    return None


def _looks_like_dates(present: pd.Series) -> bool:
    import pandas as pd

    sample = present.astype(str).head(200)
    if not sample.str.contains(r"\d", regex=True).all():
        return False
    parsed = pd.to_datetime(sample, errors="coerce", format="mixed")
    return bool(parsed.notna().mean() >= 0.95)


def _datetime_column(name: str, series: pd.Series, missing: pd.Series, notes: list[str], declared: bool) -> tuple[ColumnSpec, Any]:
    """Parse a date column (mixed formats allowed); cells that are no date become missing, with a note."""
    import pandas as pd

    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        parsed = series
    else:
        parsed = pd.to_datetime(series.astype(object).where(~missing, None), errors="coerce", format="mixed")
    unparsed = parsed.isna() & ~missing
    if unparsed.any():
        example = series[unparsed].iloc[0]
        if unparsed.mean() > TEXT_IN_NUMBERS and not declared:
            return ColumnSpec(name, "categorical", missing_rate=float(missing.mean())), series.astype(object)
        notes.append(f"column {name!r}: {int(unparsed.sum())} cells are not dates (e.g. {example!r}); read as missing")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    seconds = _datetime_seconds(parsed)
    finite = seconds[~np.isnan(seconds)]
    if finite.size == 0:
        raise InputError(f"column {name!r} is declared datetime but no cell parses as a date")
    spec = ColumnSpec(
        name, "datetime", low=float(finite.min()), high=float(finite.max()), missing_rate=float(np.isnan(seconds).mean())
    )
    return spec, parsed


def read_metadata(path: str | Path) -> dict[str, Any]:
    """Read a metadata or rules file: YAML (``.yaml``/``.yml``) or JSON.

    Raises
    ------
    InputError
        If the file is missing, not valid YAML/JSON or not a mapping.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file (a YAML or JSON file was expected)")
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except Exception as exc:  # yaml.YAMLError or json.JSONDecodeError
        raise InputError(f"{path} is not valid {path.suffix.lstrip('.').upper() or 'JSON'}: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise InputError(f"{path} must hold a mapping (e.g. 'constraints:' or 'columns:'), got {type(data).__name__}")
    return data
