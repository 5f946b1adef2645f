"""The report's own tables (a chart's table is its `ChartSpec`): one `TableSpec` each, which
the report's HTML table, the annex's CSV file and its XLSX sheet all read, so they cannot
disagree.

A spec holds compute's figures, one row a line, and says which columns the annex writes
(`columns`, each value at full precision) and which the report prints (`printed`, under the
headers the page shows; none for a table that is the annex's only, such as the group
shares). Templates place a table and print its cells through the number filters, so the
review view marks them as it marks the text.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd

from mtmreport import compute
from mtmreport.charts.spec import Column
from mtmreport.wording import Wording


@dataclass(frozen=True)
class TableSpec:
    """One table of the report or its annex.

    `table` has the columns that `columns` and `printed` name, and an `is_total` flag for
    total rows (printed in bold). `kind` says which table of its block it is ("months",
    "countries", "groups"): the block's template places it by that, and it is the HTML
    table's class.
    """

    slug: str  # the annex's file is "table-<slug>.csv"
    kind: str
    sheet: str  # the workbook's sheet (at most 31 characters)
    caption: str
    source: str
    period: str
    table: pd.DataFrame
    columns: tuple[Column, ...]  # what the annex writes
    printed: tuple[Column, ...] = ()  # what the report's table prints; none: the annex only
    notes: tuple[str, ...] = ()  # printed under the table


# --- remittances ----------------------------------------------------------------------------


def _remittance_months(f: compute.RemittanceFigures, w: Wording) -> TableSpec:
    block = f.block
    outflow = block.direction == "outflow"
    period = w.period(block.period, "short")
    months = list(f.months["month"])
    table = pd.DataFrame(
        {
            "label": [w.period(m, "long") for m in months] + [w.gettext("Total")],
            "month": [w.month_name(m.start[1]) for m in months] + [w.gettext("Total")],
            "kzt_bn": [*f.months["kzt_bn"], f.total_kzt],
            "usd_mn": [*f.months["usd_mn"], f.total_usd],
            "is_total": [False] * len(months) + [True],
        },
        dtype=object,
    )
    # Decided from the cells as printed: the note is for what the reader sees.
    kzt = [w.number(value) for value in f.months["kzt_bn"]]
    usd = [w.number(value) for value in f.months["usd_mn"]]
    rounding = w.rounding_shows(kzt, w.number(f.total_kzt)) or w.rounding_shows(
        usd, w.number(f.total_usd)
    )
    billion_kzt, million_usd = w.gettext("Billion KZT"), w.gettext("Million USD")
    return TableSpec(
        slug=f"remittances-{block.direction}-months",
        kind="months",
        sheet=w.gettext("Remittances out by month")
        if outflow
        else w.gettext("Remittances in by month"),
        caption=w.gettext("Remittances sent from Kazakhstan by month, %(period)s", period=period)
        if outflow
        else w.gettext("Remittances received by Kazakhstan by month, %(period)s", period=period),
        source=block.source,
        period=period,
        table=table,
        columns=(
            Column("label", w.gettext("Month"), "text"),
            Column("kzt_bn", billion_kzt, "kzt"),
            Column("usd_mn", million_usd, "usd"),
        ),
        printed=(
            Column("month", period, "text"),
            Column("kzt_bn", billion_kzt, "kzt"),
            Column("usd_mn", million_usd, "usd"),
        ),
        notes=(w.gettext("Figures may not sum to the total due to rounding."),) if rounding else (),
    )


def _remittance_countries(f: compute.RemittanceFigures, w: Wording) -> TableSpec:
    block = f.block
    outflow = block.direction == "outflow"
    period = w.period(block.period, "short")
    countries = f.countries
    table = countries.assign(
        country=[w.place(name) for name in countries["country"]], is_total=False
    )
    printed = (
        Column("country", w.gettext("Country"), "text"),
        Column("kzt_bn", w.gettext("Billion KZT"), "kzt"),
        Column("usd_mn", w.gettext("Million USD"), "usd"),
    )
    columns = [*printed, Column("share", w.gettext("Share (%%)"), "percent")]
    # The changes the source states are written in the sentence after the table; the annex
    # gives them a column.
    if countries["change"].notna().any():
        header = w.gettext("Change on the same period a year before (%%)")
        columns.append(Column("change", header, "change"))
    return TableSpec(
        slug=f"remittances-{block.direction}-countries",
        kind="countries",
        sheet=w.gettext("Remittances out by country")
        if outflow
        else w.gettext("Remittances in by country"),
        caption=w.gettext(
            "Top receiver countries of remittances from Kazakhstan, %(period)s", period=period
        )
        if outflow
        else w.gettext(
            "Top sender countries of remittances to Kazakhstan, %(period)s", period=period
        ),
        source=block.source,
        period=period,
        table=table,
        columns=tuple(columns),
        printed=(*printed, Column("share", w.gettext("Share"), "percent")),
    )


def _remittances(f: compute.RemittanceFigures, w: Wording) -> Iterator[TableSpec]:
    if len(f.months):
        yield _remittance_months(f, w)
    if len(f.countries):
        yield _remittance_countries(f, w)


# --- the headline group shares (annex only: the text states them) ------------------------


def _groups(w: Wording, **columns: list) -> pd.DataFrame:
    """Rows for CIS countries, non-CIS countries and their total, the last a total row."""
    labels = [w.gettext("CIS countries"), w.gettext("Non-CIS countries"), w.gettext("Total")]
    return pd.DataFrame(
        {"label": labels, **columns, "is_total": [False, False, True]}, dtype=object
    )


def _flow_groups(f: compute.FlowsFigures, w: Wording) -> TableSpec:
    a, d = f.arrivals, f.departures
    period = w.period(f.block.period, "range")
    return TableSpec(
        slug="flows-groups",
        kind="groups",
        sheet=w.gettext("Flows by group"),
        caption=w.gettext(
            "Migrant arrivals and departures by group of countries, %(period)s", period=period
        ),
        source=f.block.source,
        period=period,
        table=_groups(
            w,
            arrivals=[a.cis_total, a.non_cis_total, a.total],
            arrivals_share=[a.cis_share, a.non_cis_share, None],
            departures=[d.cis_total, d.non_cis_total, d.total],
            departures_share=[d.cis_share, d.non_cis_share, None],
        ),
        columns=(
            Column("label", w.gettext("Group of countries"), "text"),
            Column("arrivals", w.gettext("Arrivals"), "count"),
            Column("arrivals_share", w.gettext("Share of arrivals (%%)"), "percent"),
            Column("departures", w.gettext("Departures"), "count"),
            Column("departures_share", w.gettext("Share of departures (%%)"), "percent"),
        ),
    )


def _residence_groups(f: compute.PermanentResidenceFigures, w: Wording) -> TableSpec:
    period = w.period(f.block.period, "range")
    return TableSpec(
        slug="residence-groups",
        kind="groups",
        sheet=w.gettext("Residence by group"),
        caption=w.gettext(
            "Permanent residence permit holders by group of countries, %(period)s", period=period
        ),
        source=f.block.source,
        period=period,
        table=_groups(
            w,
            holders=[f.cis.holders, f.non_cis.holders, f.holders],
            share=[f.cis_share, f.non_cis_share, None],
        ),
        columns=(
            Column("label", w.gettext("Group of countries"), "text"),
            Column("holders", w.gettext("Permit holders"), "count"),
            Column("share", w.gettext("Share of holders (%%)"), "percent"),
        ),
    )


# --- planning -------------------------------------------------------------------------------


def plan_block(f: compute.BlockFigures, wording: Wording) -> list[TableSpec]:
    """The tables of one block's figures, in reading order."""
    match f:
        case compute.FlowsFigures():
            return [_flow_groups(f, wording)]
        case compute.PermanentResidenceFigures():
            return [_residence_groups(f, wording)]
        case compute.RemittanceFigures():
            return list(_remittances(f, wording))
    return []


def plan_tables(figures: compute.QuarterFigures, wording: Wording) -> dict[tuple, list[TableSpec]]:
    """The tables of each block, keyed by the block's location, in reading order."""
    planned: dict[tuple, list[TableSpec]] = {}
    for placed in figures.blocks:
        if tables := plan_block(placed.figures, wording):
            planned[placed.location] = tables
    return planned
