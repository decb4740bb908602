"""Reading a table from a CSV file or a DataFrame, with one clear error per bad file.

Handling of bad files:

* an empty file, or one with a header and no rows: :class:`~vaelab.errors.DataFileError`;
* a file that is not in ``encoding`` (UTF-8 by default): an error naming the
  byte offset and suggesting ``encoding="latin-1"`` (``--encoding`` on the command line);
* ragged rows: a row with more fields than the header is an error naming the
  line; a row with fewer fields has its last cells missing (pandas' reading);
* cells that are empty, ``NA``, ``NaN``, ``null`` or ``?`` are missing values.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vaelab.errors import DataFileError, InputError

if TYPE_CHECKING:
    import pandas as pd

MISSING_MARKERS = ["", "NA", "N/A", "NaN", "nan", "null", "NULL", "None", "?"]


def read_table(data: Any, *, encoding: str = "utf-8", name: str = "data") -> pd.DataFrame:
    """A DataFrame from ``data``: a DataFrame (copied), or the path of a CSV file.

    Parameters
    ----------
    data : DataFrame, str or Path
    encoding : str
        Text encoding of a CSV file.
    name : str
        The argument's name, for error messages.

    Returns
    -------
    DataFrame of shape (n_rows, n_columns), with string column names.

    Raises
    ------
    DataFileError
        If the file is missing, empty, not in ``encoding`` or has ragged rows.
    InputError
        If ``data`` is neither a DataFrame nor a path, or has no rows or columns.
    """
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        df = data.copy()
    elif isinstance(data, (str, Path)):
        df = _read_csv(Path(data), encoding)
    else:
        raise InputError(f"{name} must be a pandas DataFrame or the path of a CSV file, got {type(data).__name__}")
    if df.shape[1] == 0 or df.shape[0] == 0:
        raise InputError(f"{name} has {df.shape[0]} rows and {df.shape[1]} columns; a table needs at least one of each")
    df.columns = [str(c).strip() for c in df.columns]
    duplicated = sorted({c for c in df.columns if list(df.columns).count(c) > 1})
    if duplicated:
        raise InputError(f"{name} has duplicated column names {duplicated}; rename them")
    return df.reset_index(drop=True)


def _read_csv(path: Path, encoding: str) -> pd.DataFrame:
    import pandas as pd

    if not path.is_file():
        raise DataFileError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise DataFileError(f"{path} is empty; a CSV file with a header line and rows was expected")
    try:
        df = pd.read_csv(
            path, encoding=encoding, na_values=MISSING_MARKERS, keep_default_na=False, skipinitialspace=True
        )
    except UnicodeDecodeError as exc:
        raise DataFileError(
            f"{path} is not valid {encoding} text (byte {exc.start} is {exc.object[exc.start:exc.start + 1]!r}); "
            "give its encoding, e.g. encoding='latin-1' (--encoding latin-1)"
        ) from None
    except pd.errors.EmptyDataError:
        raise DataFileError(f"{path} holds no CSV data (no header line)") from None
    except pd.errors.ParserError as exc:
        found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if found:
            expected, line, saw = found.groups()
            raise DataFileError(
                f"{path}: line {line} has {saw} fields but the header has {expected}; "
                "fix the ragged rows (quote fields that contain commas)"
            ) from None
        raise DataFileError(f"{path} is not a readable CSV file ({str(exc).strip()})") from None
    if len(df) == 0:
        raise DataFileError(f"{path} has a header line but no rows")
    return df
