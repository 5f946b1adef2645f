"""Computed tables (pandas DataFrames) read cell by cell, the one way every reader does.

Compute's tables hold traced figures (`provenance`), which `DataFrame.to_dict` would turn into
plain floats and with them lose the decimals they print with; and pandas marks a missing cell
three ways (None, `pd.NA`, NaN). The report's tables, the charts, the annex and the narrative
check all read tables through these two functions.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A table's rows as dicts of its cells as stored."""
    columns = [str(c) for c in frame.columns]
    cells = zip(*(frame[c].tolist() for c in frame.columns), strict=True)
    return [dict(zip(columns, row, strict=True)) for row in cells]


def is_missing(value: object) -> bool:
    """A cell with no value: None, pandas' NA or a float NaN."""
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))
