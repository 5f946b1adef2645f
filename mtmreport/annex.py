"""The data annex: the figures of every chart and table, as CSV files and one XLSX workbook.

    output/<quarter>/data/figure-01-arrivals-cis.csv          one file a chart, named as it
    output/<quarter>/data/table-remittances-outflow-months.csv one file a table of the report
    output/<quarter>/data/<quarter>-data.xlsx                  all of them, one sheet each,
                                                               after an "About" sheet

Each value is written at the precision it has: a figure as the quarter file gives it (22.12,
454.545) or a sum of such figures (94.6 × 3 = 283.8, not the float 283.79999999999995)
exactly; a quotient (a share, a change, a conversion) rounded half up to the decimals the
report prints it with, two for tenge. CSV and XLSX hold the same numbers, and the workbook's
number formats show each with its own decimals. Charts bring their own table
(`ChartSpec.table` and `columns`, the same the HTML data table shows), and so do the report's
tables (`tables.TableSpec`, the same the report prints).

Both formats are written so that the same figures give the same bytes: no dates, no temp
names, xlsxwriter's fixed zip timestamps and a fixed creation date.

Text from the quarter file (labels, sources, captions) never becomes a formula: the workbook
writes every text as a string, and a CSV text cell that a spreadsheet would read as a formula
(starting with `=`, `+`, `-`, `@`, a tab or a carriage return) gets a leading `'`, as OWASP
advises for CSV injection.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from mtmreport import compute
from mtmreport.charts.spec import CellKind, ChartSpec, Column
from mtmreport.frames import is_missing, records
from mtmreport.numbers import decimals_of, half_up
from mtmreport.tables import TableSpec
from mtmreport.wording import Wording

FOLDER = "data"
# Workbook properties are fixed, so identical data gives an identical file.
_CREATED = dt.datetime(2000, 1, 1)
# The decimals a computed value of each unit is written with: as the report prints it (tenge
# with two, as the sources' monthly figures have).
_DECIMALS: dict[CellKind, int] = {
    "count": 0,
    "signed": 0,
    "percent": 1,
    "change": 1,
    "usd": 1,
    "kzt": 2,
}
# A value with at most this many decimals is a figure as typed (or a sum of such figures,
# float noise removed) and is written exactly; a longer one is a quotient, rounded.
_EXACT_DECIMALS = 3
# Excel number formats by unit, {d} standing for the value's decimals (".0", ".00" or none).
_NUMBER_FORMATS: dict[CellKind, str] = {
    "count": "#,##0",
    "signed": '+#,##0;"−"#,##0;0',
    "percent": "0{d}",
    "change": '+0{d};"−"0{d};0{d}',
    "usd": "#,##0{d}",
    "kzt": "#,##0{d}",
}
_IOM_BLUE = "#0033A0"
_SHEET_NAME_MAX = 31
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


@dataclass(frozen=True)
class DataTable:
    """One table of the annex: a chart's data or one of the report's tables."""

    name: str  # file stem, as the chart's image or "table-…"
    sheet: str  # XLSX sheet name (at most 31 characters, unique)
    caption: str
    source: str
    period: str
    frame: pd.DataFrame
    columns: tuple[Column, ...]


@dataclass(frozen=True)
class Annex:
    """What the annex wrote, as paths relative to the report folder (for links)."""

    csv: dict[str, str]  # table name -> "data/<name>.csv"
    workbook: str

    @property
    def folder(self) -> str:
        return FOLDER


# --- the tables -----------------------------------------------------------------------------


def chart_tables(specs: dict[tuple, list[ChartSpec]], w: Wording) -> list[DataTable]:
    """Each chart's own table, under the chart's file name."""
    return [
        DataTable(
            spec.file_stem,
            w.gettext("Figure %(number)s", number=spec.number),
            w.gettext("Figure %(number)s. %(caption)s", number=spec.number, caption=spec.caption),
            spec.source,
            spec.period,
            spec.table,
            spec.columns,
        )
        for block_specs in specs.values()
        for spec in block_specs
    ]


def report_tables(tables: dict[tuple, list[TableSpec]]) -> list[DataTable]:
    """The report's own tables (remittances by month and by country, the group shares), in
    reading order, under "table-" and their slug."""
    found = [
        DataTable(
            f"table-{spec.slug}",
            spec.sheet,
            spec.caption,
            spec.source,
            spec.period,
            spec.table,
            spec.columns,
        )
        for block_tables in tables.values()
        for spec in block_tables
    ]
    return _unique_names(found)


def _unique_names(tables: list[DataTable]) -> list[DataTable]:
    """A second block of the same kind gets "-2" on its file and sheet name."""
    seen: dict[str, int] = {}
    unique = []
    for table in tables:
        seen[table.name] = seen.get(table.name, 0) + 1
        if seen[table.name] > 1:
            n = seen[table.name]
            table = replace(
                table, name=f"{table.name}-{n}", sheet=f"{table.sheet[: _SHEET_NAME_MAX - 3]} {n}"
            )
        unique.append(table)
    return unique


# --- writing --------------------------------------------------------------------------------


def _plain(value: object, unit: CellKind) -> str | int | Decimal | None:
    """A cell's value for CSV and XLSX: text, an int for counts, else a Decimal with the
    decimals it has (see the module's docstring)."""
    if is_missing(value):
        return None
    if unit == "text":
        return str(value)
    if unit in ("count", "signed"):
        return int(half_up(value, 0))  # type: ignore[arg-type]
    # Float noise lies far beyond the 12th decimal: 283.79999999999995 is 283.8.
    exact = half_up(value, 12).normalize()  # type: ignore[arg-type]
    places = decimals_of(exact)
    if places <= _EXACT_DECIMALS:
        return exact.quantize(Decimal(1).scaleb(-places))  # and 1E+2 is 100
    return half_up(exact, _DECIMALS[unit])


def _text(value: object) -> str:
    """A CSV cell: plain digits, never an exponent (Decimal('1E+2') is written 100)."""
    if value is None:
        return ""
    return format(value, "f") if isinstance(value, Decimal) else str(value)


def _number_format(unit: CellKind, value: Decimal | int) -> str:
    decimals = decimals_of(value) if isinstance(value, Decimal) else 0
    return _NUMBER_FORMATS[unit].format(d="." + "0" * decimals if decimals else "")


def _rows(table: DataTable) -> list[list[object]]:
    return [
        [_plain(record[col.key], col.unit) for col in table.columns]
        for record in records(table.frame)
    ]


def inert_text(text: str) -> str:
    """A CSV text cell no spreadsheet reads as a formula (OWASP's advice on CSV injection)."""
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def _csv_cell(value: object) -> str:
    """A CSV cell: text made inert, numbers as `_text` writes them."""
    return inert_text(value) if isinstance(value, str) else _text(value)


def csv_text(table: DataTable) -> str:
    """The table as CSV: a header row, then each value at its own precision."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([inert_text(col.header) for col in table.columns])
    for row in _rows(table):
        writer.writerow([_csv_cell(v) for v in row])
    return out.getvalue()


@dataclass(frozen=True)
class WorkbookWords:
    """The workbook's own words in the edition's language, from its catalogue (`of`) only."""

    about: str
    note: str
    headers: tuple[str, ...]
    author: str

    @classmethod
    def of(cls, w: Wording) -> WorkbookWords:
        return cls(
            about=w.gettext("About"),
            note=w.gettext(
                "The figures of the report's charts and tables. Shares and changes are in per "
                "cent; amounts in billions of KZT or millions of USD, as each header says."
            ),
            headers=(
                w.gettext("Sheet"),
                w.gettext("CSV file"),
                w.gettext("Caption"),
                w.gettext("Source"),
                w.gettext("Period"),
            ),
            author=w.gettext("International Organization for Migration (IOM)"),
        )


def write_workbook(tables: list[DataTable], path: Path, title: str, words: WorkbookWords) -> None:
    """All tables in one workbook, one sheet each, after an "About" sheet listing them."""
    import xlsxwriter

    # Text is only ever text: no formulas, no links, no numbers guessed from strings.
    workbook = xlsxwriter.Workbook(
        str(path),
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    workbook.set_properties(
        {
            "title": title,
            "author": words.author,
            "comments": words.note,
            "created": _CREATED,
        }
    )
    header = workbook.add_format(
        {"bold": True, "font_color": "#FFFFFF", "bg_color": _IOM_BLUE, "text_wrap": True}
    )
    bold = workbook.add_format({"bold": True})
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
    formats: dict[str, Any] = {}  # one xlsxwriter format a number format

    def number_format(unit: CellKind, value: Decimal | int) -> Any:
        pattern = _number_format(unit, value)
        if pattern not in formats:
            formats[pattern] = workbook.add_format({"num_format": pattern})
        return formats[pattern]

    about = workbook.add_worksheet(words.about[:_SHEET_NAME_MAX])
    about.write_string(0, 0, title, bold)
    about.write_string(1, 0, words.note)
    for col, text in enumerate(words.headers):
        about.write_string(3, col, text, header)
    for row, table in enumerate(tables, start=4):
        cells = [table.sheet, f"{table.name}.csv", table.caption, table.source, table.period]
        for col, text in enumerate(cells):
            about.write_string(row, col, text, wrap)
    for col, width in enumerate((14, 44, 60, 40, 26)):
        about.set_column(col, col, width)

    for table in tables:
        sheet = workbook.add_worksheet(table.sheet)
        for col, column in enumerate(table.columns):
            sheet.write_string(0, col, column.header, header)
            sheet.set_column(col, col, 30 if column.unit == "text" else 16)
        for r, row in enumerate(_rows(table), start=1):
            for col, (value, column) in enumerate(zip(row, table.columns, strict=True)):
                if value is None:
                    continue
                if column.unit == "text":
                    sheet.write_string(r, col, str(value))
                else:
                    number = value if isinstance(value, (int, Decimal)) else Decimal(str(value))
                    sheet.write_number(r, col, float(number), number_format(column.unit, number))
        sheet.freeze_panes(1, 1)
    try:
        workbook.close()
    except xlsxwriter.exceptions.FileCreateError as error:  # a full disk, a read-only folder
        cause = error.args[0] if error.args else None
        if isinstance(cause, OSError):
            raise cause from None
        raise OSError(f"cannot write {path}: {error}") from None


@dataclass(frozen=True)
class AnnexPlan:
    """The annex's tables and where they go: the links are known before anything is written,
    so a build can render the HTML, start the PDF, and write the files while it is laid out."""

    tables: list[DataTable]
    workbook_name: str
    title: str
    words: WorkbookWords

    @property
    def links(self) -> Annex:
        csv_files = {t.name: f"{FOLDER}/{t.name}.csv" for t in self.tables}
        return Annex(csv_files, f"{FOLDER}/{self.workbook_name}")

    def write(self, folder: Path) -> None:
        """Write `folder/data/`: a CSV per chart and per report table, and the workbook."""
        data_dir = folder / FOLDER
        data_dir.mkdir(parents=True, exist_ok=True)
        for table in self.tables:
            (data_dir / f"{table.name}.csv").write_text(csv_text(table), encoding="utf-8")
        write_workbook(self.tables, data_dir / self.workbook_name, self.title, self.words)


def plan_annex(
    specs: dict[tuple, list[ChartSpec]],
    tables: dict[tuple, list[TableSpec]],
    figures: compute.QuarterFigures,
    wording: Wording,
) -> AnnexPlan:
    """The annex of a report: every chart's table and the report's own tables."""
    quarter = figures.quarter_file
    period = wording.period(figures.period, "range")
    return AnnexPlan(
        tables=chart_tables(specs, wording) + report_tables(tables),
        workbook_name=f"{figures.quarter_id}-data.xlsx",
        title=wording.gettext(
            "%(country)s: %(title)s (%(period)s), data annex",
            country=wording.place(quarter.report.country),
            title=quarter.report.title,
            period=period,
        ),
        words=WorkbookWords.of(wording),
    )
