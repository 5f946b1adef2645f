"""What a chart is, apart from its pixels: `ChartSpec`, its columns, and its cells as text.

Kept apart from the planner (`plan`), which reads the computed figures: the process that
draws charts (`charts.draw`, also run in a helper process) needs only this, and so never
imports the model and computation modules.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from typing import Literal

import pandas as pd

from mtmreport.frames import is_missing, records
from mtmreport.numbers import half_up
from mtmreport.provenance import decimals_printed
from mtmreport.wording import Wording

ChartKind = Literal["hbar", "donut", "map", "paired", "balance", "columns", "trend"]
# What a table cell holds, which says how it is written (`cell_text`, the annex's formats).
CellKind = Literal["text", "count", "signed", "percent", "change", "usd", "kzt"]
Width = Literal["full", "half"]

MAX_DONUT_SLICES = 6
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def file_slug(*parts: str) -> str:
    """The ASCII part of a chart's or table's file names, from the words of the quarter file
    as written (never a translation), so every edition names a figure's files alike:
    "Temporary residence permit holders" gives "temporary-residence-permit-holders"."""
    text = unicodedata.normalize("NFKD", " ".join(parts)).encode("ascii", "ignore").decode()
    return _NOT_SLUG.sub("-", text.lower()).strip("-") or "figure"


@dataclass(frozen=True)
class Column:
    """One column of a chart's data as the HTML table, the CSV and the XLSX sheet show it."""

    key: str  # column of `ChartSpec.table`: the full-precision value the annex writes
    header: str
    unit: CellKind
    shown: str = ""  # column with the value as printed, when rounding is not plain


@dataclass(frozen=True)
class ChartSpec:
    """One figure of the report.

    `table` has a `label` column, the plotted value columns (`value` for a single series,
    or those named by `series`), any further figures the reader may want (shares, changes),
    and an `is_other` flag for remainder rows ("Other CIS"), which are drawn in grey and
    never count as the largest category. `columns` says which of them the data table and
    the annex show, under which headers. `unit` is the unit of the plotted values.
    """

    slug: str  # the same in every edition (`file_slug`): the file names' stable part
    kind: ChartKind
    caption: str
    source: str
    table: pd.DataFrame
    unit: Literal["count", "percent", "usd", "kzt"]
    period: str = ""
    columns: tuple[Column, ...] = ()
    series: tuple[str, ...] = ("value",)
    series_labels: tuple[str, ...] = ()
    center_label: str = ""
    notes: tuple[str, ...] = ()
    width: Width = "full"
    number: int = 0

    @property
    def file_stem(self) -> str:
        return f"figure-{self.number:02d}-{self.slug}"

    def numbered(self, number: int) -> ChartSpec:
        return replace(self, number=number)


# --- formatting shared by the data table, the alt text and the charts ----------------------


def cell_text(value: object, unit: CellKind, wording: Wording) -> str:
    """A value as the report prints it in tables and charts (IOM style, "%" not "per cent")."""
    if is_missing(value):
        return "–"
    if unit == "text":
        return str(value)
    number = float(value)  # type: ignore[arg-type]
    match unit:
        case "count":
            return wording.number(int(half_up(number, 0)))
        case "signed":
            return wording.signed(int(half_up(number, 0)))
        case "percent":
            # One decimal, or those compute chose: a source's 11.44 % is not cut to 11.4.
            chosen = decimals_printed(value)
            return wording.percent_sign(number, 1 if chosen is None else chosen)
        case "change":
            rounded = half_up(number)
            sign = "+" if rounded > 0 else "−" if rounded < 0 else ""
            return sign + wording.percent_sign(abs(rounded), 1)
        case "usd":
            return wording.number(number, 1)
        case "kzt":
            return wording.number(number, 1)
    raise ValueError(f"unknown unit {unit!r}")


def data_rows(spec: ChartSpec, wording: Wording) -> list[list[str]]:
    """The chart's data table as text, one list of cells per row, in `columns` order."""
    return [
        [cell_text(row[col.shown or col.key], col.unit, wording) for col in spec.columns]
        for row in records(spec.table)
    ]


# --- building tables ------------------------------------------------------------------------
