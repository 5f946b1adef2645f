"""Which charts a quarter's report carries, and their data, captions and alt texts.

A `ChartSpec` is everything about a chart except pixels: the drawing functions, the HTML data
table, the alt text and the CSV annex all read the same table, so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

from mtmreport import compute as c
from mtmreport.wording import Wording

ChartKind = Literal["hbar", "donut", "map", "paired", "balance", "columns"]


@dataclass(frozen=True)
class ChartSpec:
    """One figure of the report.

    `table` has a `label` column and one value column per series (`value` for a single
    series); `unit` says how the values are written ("count", "percent", "usd").
    """

    slug: str
    kind: ChartKind
    caption: str
    source: str
    table: pd.DataFrame
    unit: Literal["count", "percent", "usd"]
    series: tuple[str, ...] = ("value",)
    series_labels: tuple[str, ...] = ()
    shares: tuple[float | None, ...] = ()
    highlight_last: bool = False
    center_label: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)
    number: int = 0

    @property
    def file_stem(self) -> str:
        return f"figure-{self.number:02d}-{self.slug}"

    def numbered(self, number: int) -> ChartSpec:
        return ChartSpec(**{**self.__dict__, "number": number})


def _count_table(labels: list[str], values: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"label": labels, "value": values})


def _with_other(table: pd.DataFrame, other: float | None, other_label: str) -> pd.DataFrame:
    if other is None or other <= 0:
        return table
    extra = pd.DataFrame({"label": [other_label], "value": [other]})
    return pd.concat([table, extra], ignore_index=True)


def _shares(values: list[float]) -> tuple[float | None, ...]:
    whole = sum(values)
    return tuple(c.percent(v, whole) for v in values)


def _flows(f: c.FlowsFigures, w: Wording) -> list[ChartSpec]:
    period = w.period(f.block.period, "range")
    specs = []
    for name, flow in (("arrivals", f.arrivals), ("departures", f.departures)):
        known = flow.cis.dropna(subset=["number"])  # a country may be listed by share only
        table = _count_table(list(known["country"]), [float(n) for n in known["number"]])
        table = _with_other(table, flow.other_cis, w.text("ui.other_cis"))
        specs.append(
            ChartSpec(
                slug=f"{name}-cis",
                kind="hbar",
                caption=w.text(f"captions.flows_cis_{name}", period=period),
                source=f.block.source,
                table=table,
                unit="count",
                shares=tuple(c.percent(v, flow.cis_total) for v in table["value"]),
            )
        )
    return specs


def _residence(f: c.PermanentResidenceFigures, w: Wording) -> list[ChartSpec]:
    period = w.period(f.block.period, "range")
    specs = []
    for name, group in (("cis", f.cis), ("non_cis", f.non_cis)):
        known = group.holders_by_country.dropna(subset=["number"])
        table = _count_table(list(known["country"]), [float(n) for n in known["number"]])
        other_label = w.text("ui.other_cis" if name == "cis" else "ui.other_non_cis")
        table = _with_other(table, group.other_holders, other_label)
        specs.append(
            ChartSpec(
                slug=f"residence-holders-{name.replace('_', '-')}",
                kind="hbar",
                caption=w.text(f"captions.residence_holders_{name}", period=period),
                source=f.block.source,
                table=table,
                unit="count",
                shares=tuple(c.percent(v, group.holders) for v in table["value"]),
            )
        )
        balance = _count_table(
            [w.text("ui.holders"), w.text("ui.terminated"), w.text("ui.balance")],
            [float(group.holders), -float(group.terminated), float(group.balance)],
        )
        specs.append(
            ChartSpec(
                slug=f"residence-balance-{name.replace('_', '-')}",
                kind="balance",
                caption=w.text(f"captions.residence_balance_{name}", period=period),
                source=f.block.source,
                table=balance,
                unit="count",
                highlight_last=True,
            )
        )
    return specs


def _breakdown(f: c.BreakdownFigures, w: Wording) -> list[ChartSpec]:
    block = f.block
    if block.chart == "none":
        return []
    caption = block.caption or w.text(
        "captions.breakdown",
        subject=block.subject[:1].upper() + block.subject[1:],
        period=w.period(block.period, "range"),
    )
    slug = block.subject.replace(" ", "-")
    if block.chart == "map":
        table = pd.DataFrame({"label": f.items["label"], "value": f.items["share"]})
        return [ChartSpec(slug, "map", caption, block.source, table, "percent")]
    shares_only = f.shares_only
    column = "share" if shares_only else "number"
    known = f.items.dropna(subset=[column])  # an item may give only the other figure
    values = list(known[column])
    labels = list(known["label"])
    other = f.other_share if shares_only else f.other_number
    if other is not None and other > 0:
        labels.append(w.text("ui.other"))
        values.append(other)
    table = _count_table(labels, [float(v) for v in values])
    display = tuple(f.display_shares()) if f.complete or shares_only else ()
    if not display and f.total:
        display = tuple(c.percent(float(v), f.total) for v in values)
    center = w.number(f.total) if f.total else ""
    return [
        ChartSpec(
            slug,
            "donut" if block.chart == "donut" else "hbar",
            caption,
            block.source,
            table,
            "percent" if shares_only else "count",
            shares=display,
            center_label=center,
        )
    ]


def _comparison(f: c.ComparisonFigures, w: Wording) -> list[ChartSpec]:
    block = f.block
    if block.chart == "none":
        return []
    labels = [w.period(v.period, "range") for v in block.values]
    periods = " – ".join(
        [w.period(block.values[0].period, "short"), w.period(block.values[-1].period, "short")]
    )
    caption = block.caption or w.text(
        "captions.comparison",
        subject=block.subject[:1].upper() + block.subject[1:],
        periods=periods,
    )
    table = _count_table(labels, [float(v.value) for v in block.values])
    return [
        ChartSpec(
            block.subject.replace(" ", "-"),
            "columns",
            caption,
            block.source,
            table,
            "count",
            highlight_last=True,
        )
    ]


def _remittances(f: c.RemittanceFigures, w: Wording) -> list[ChartSpec]:
    block = f.block
    direction = block.direction
    period_short = w.period(block.period, "short")
    before = f.earlier_by("year_before")
    if before is not None and before.total_usd is not None:
        earlier_short = w.period(before.source.period, "short")
        labels = [w.text("ui.total")]
        earlier_values = [before.total_usd]
        current_values = [f.total_usd]
        rate_before = float(before.source.rate) if before.source.rate else None
        for row in f.countries.itertuples():
            if pd.notna(row.change) and rate_before:
                labels.append(row.country)
                earlier_kzt = row.kzt_bn / (1 + row.change / 100)
                earlier_values.append(c.usd_mn(earlier_kzt, rate_before))
                current_values.append(row.usd_mn)
        table = pd.DataFrame(
            {"label": labels, "earlier": earlier_values, "current": current_values}
        )
        return [
            ChartSpec(
                f"remittances-{direction}-comparison",
                "paired",
                w.text(
                    f"captions.remittances_{direction}", period=period_short, earlier=earlier_short
                ),
                block.source,
                table,
                "usd",
                series=("earlier", "current"),
                series_labels=(earlier_short, period_short),
            )
        ]
    if len(f.countries):
        table = _count_table(list(f.countries["country"]), list(f.countries["usd_mn"]))
        return [
            ChartSpec(
                f"remittances-{direction}-countries",
                "hbar",
                w.text(f"captions.remittances_{direction}_countries", period=period_short),
                block.source,
                table,
                "usd",
                shares=tuple(f.countries["share"]),
            )
        ]
    return []


def plan_charts(figures: c.QuarterFigures, wording: Wording) -> dict[tuple, list[ChartSpec]]:
    """Charts of each block, keyed by the block's location, numbered in reading order."""
    planned: dict[tuple, list[ChartSpec]] = {}
    number = 0
    for placed in figures.blocks:
        f = placed.figures
        match f:
            case c.FlowsFigures():
                specs = _flows(f, wording)
            case c.PermanentResidenceFigures():
                specs = _residence(f, wording)
            case c.BreakdownFigures():
                specs = _breakdown(f, wording)
            case c.ComparisonFigures():
                specs = _comparison(f, wording)
            case c.RemittanceFigures():
                specs = _remittances(f, wording)
            case _:
                specs = []
        numbered = []
        for spec in specs:
            number += 1
            numbered.append(spec.numbered(number))
        if numbered:
            planned[placed.location] = numbered
    return planned


def alt_text(spec: ChartSpec, wording: Wording) -> str:
    """What the chart shows and its top values, for screen readers and the HTML `alt`."""
    kinds = {
        "hbar": "Bar chart",
        "donut": "Donut chart",
        "map": "Map of Kazakhstan's regions",
        "paired": "Grouped bar chart",
        "balance": "Bar chart around zero",
        "columns": "Column chart",
    }
    parts = [f"{kinds[spec.kind]}: {spec.caption}."]

    def fmt(value: float) -> str:
        if spec.unit == "percent":
            return wording.percent_sign(value, 1)
        if spec.unit == "usd":
            return wording.million_usd(value)
        return wording.signed(int(value)) if spec.kind == "balance" else wording.number(value)

    if spec.kind == "paired":
        rows = [
            f"{r.label}: {spec.series_labels[0]} {fmt(r.earlier)}, {spec.series_labels[1]} "
            f"{fmt(r.current)}"
            for r in spec.table.itertuples()
        ]
        parts.append("; ".join(rows) + ".")
        return " ".join(parts)
    table = spec.table.dropna(subset=["value"])
    if spec.kind != "balance" and spec.kind != "columns":
        table = table.sort_values("value", ascending=False, kind="stable")
    shown = [f"{r.label} {fmt(r.value)}" for r in table.head(5).itertuples()]
    if shown:
        lead = "Largest: " if spec.kind not in ("balance", "columns") else ""
        parts.append(lead + "; ".join(shown) + ".")
    return " ".join(parts)
