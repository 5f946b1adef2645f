"""Which charts a quarter's report carries, and their data, captions and alt texts.

A `ChartSpec` is everything about a chart except pixels: the drawing functions, the HTML data
table, the alt text and the data annex (CSV, XLSX) all read the same table, so they cannot
disagree.

The planner, not the quarter file, has the last word on a chart's kind: a donut is drawn
only for a few shares of one whole (at most `MAX_DONUT_SLICES` parts, "other" included, and
the parts make up the whole); anything else a file asks to see as a donut becomes bars,
ranked by value, which read better than thin slices.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Literal

import pandas as pd

from mtmreport import compute
from mtmreport.charts.spec import (
    MAX_DONUT_SLICES,
    ChartSpec,
    Column,
    cell_text,
    file_slug,
    records,
)
from mtmreport.wording import Wording


def _ranked(
    labels: list[str],
    values: list[float],
    shares: list[float | None] | None = None,
    other: tuple[str, float, float | None] | None = None,
    *,
    shown: list[float] | None = None,
) -> pd.DataFrame:
    """Categories ranked by value (ties keep their order), a positive remainder last.

    `share` keeps full precision (for the annex); `share_shown` is what the chart and the
    data table print: `shown` when given (aligned with the labels, then the remainder), so
    a chart prints exactly the shares its paragraph prints, else compute's own figures.
    """
    labels, values = list(labels), [float(v) for v in values]
    share_list = list(shares) if shares is not None else [None] * len(labels)
    flags = [False] * len(labels)
    if other is not None and other[1] > 0:
        labels.append(other[0])
        values.append(float(other[1]))
        share_list.append(other[2])
        flags.append(True)
    count = len(labels)
    frame = pd.DataFrame({"label": labels, "value": values, "share": share_list, "is_other": flags})
    if shown is None:
        # compute's figures, which print with the decimals compute chose (a stated share
        # with its own); the chart and its table round them as the text does
        shown = [None if v is None or pd.isna(v) else v for v in share_list]
    frame["share"] = frame["share"].astype("float64")
    frame["share_shown"] = pd.Series(list(shown)[:count], dtype=object)
    named = frame[~frame["is_other"]].sort_values("value", ascending=False, kind="stable")
    return pd.concat([named, frame[frame["is_other"]]]).reset_index(drop=True)


def _rounding_notes(table: pd.DataFrame, w: Wording) -> tuple[str, ...]:
    """ "Shares may not sum to 100 per cent…" where the shares the data table prints miss
    100 by no more than their rounding (a larger gap is a slip the audit reports)."""
    if "share_shown" not in table or table["share_shown"].isna().any():
        return ()
    printed = [cell_text(share, "percent", w) for share in table["share_shown"]]
    if not w.rounding_shows(printed, w.number(100), exact_total=True):
        return ()
    return (w.gettext("Shares may not sum to 100 per cent due to rounding."),)


def _label_column(w: Wording, dimension: str) -> Column:
    headers = {
        "country": w.gettext("Country"),
        "region": w.gettext("Region"),
        "period": w.gettext("Period"),
    }
    return Column("label", headers.get(dimension) or w.gettext("Category"), "text")


def _count_columns(w: Wording, dimension: str, with_share: bool) -> tuple[Column, ...]:
    columns = [_label_column(w, dimension), Column("value", w.gettext("Number"), "count")]
    if with_share:
        columns.append(Column("share", w.gettext("Share (%%)"), "percent", "share_shown"))
    return tuple(columns)


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


# --- one planner per block kind -------------------------------------------------------------


def _flows(f: compute.FlowsFigures, w: Wording) -> list[ChartSpec]:
    period = w.period(f.block.period, "range")
    specs = []
    for name, flow in (("arrivals", f.arrivals), ("departures", f.departures)):
        known = flow.cis.dropna(subset=["number"])  # a country may be listed by share only
        table = _ranked(
            [w.place(name) for name in known["country"]],
            list(known["number"]),
            list(known["share"]),
            (w.gettext("Other CIS"), flow.other_cis, flow.other_cis_share),
        )
        if name == "arrivals":
            caption = w.gettext("Migrant inflow from CIS member states, %(period)s", period=period)
        else:
            caption = w.gettext("Migrant outflow to CIS member states, %(period)s", period=period)
        specs.append(_country_counts(f"{name}-cis", caption, f.block.source, period, table, w))
    return specs


def _country_counts(
    slug: str, caption: str, source: str, period: str, table: pd.DataFrame, w: Wording
) -> ChartSpec:
    """Countries ranked by count with their shares: a half-width bar chart."""
    return ChartSpec(
        slug=slug,
        kind="hbar",
        caption=caption,
        source=source,
        period=period,
        table=table,
        columns=_count_columns(w, "country", with_share=True),
        unit="count",
        notes=_rounding_notes(table, w),
        width="half",
    )


def _residence(f: compute.PermanentResidenceFigures, w: Wording) -> list[ChartSpec]:
    """Holders by country and the balance, per group: four half-width charts, a 2 × 2 grid."""
    period = w.period(f.block.period, "range")
    specs = []
    for name, group in (("cis", f.cis), ("non_cis", f.non_cis)):
        known = group.holders_by_country.dropna(subset=["number"])
        other_label = w.gettext("Other CIS") if name == "cis" else w.gettext("Other non-CIS")
        table = _ranked(
            [w.place(name) for name in known["country"]],
            list(known["number"]),
            list(known["share"]),
            (other_label, group.other_holders, group.other_holders_share),
        )
        slug_group = name.replace("_", "-")
        if name == "cis":
            caption = w.gettext(
                "Permanent residence permit holders from CIS countries, %(period)s", period=period
            )
        else:
            caption = w.gettext(
                "Permanent residence permit holders from non-CIS countries, %(period)s",
                period=period,
            )
        slug = f"residence-holders-{slug_group}"
        specs.append(_country_counts(slug, caption, f.block.source, period, table, w))
        balance = pd.DataFrame(
            {
                "label": [
                    w.gettext("Permit holders"),
                    w.gettext("Terminated and left"),
                    w.gettext("Balance"),
                ],
                "value": [float(group.holders), -float(group.terminated), float(group.balance)],
                "is_other": [False, False, False],
            }
        )
        specs.append(
            ChartSpec(
                slug=f"residence-balance-{slug_group}",
                kind="balance",
                caption=(
                    w.gettext("Migration balance with CIS countries, %(period)s", period=period)
                    if name == "cis"
                    else w.gettext(
                        "Migration balance with non-CIS countries, %(period)s", period=period
                    )
                ),
                source=f.block.source,
                period=period,
                table=balance,
                columns=(
                    _label_column(w, "category"),
                    Column("value", w.gettext("Number"), "signed"),
                ),
                unit="count",
                width="half",
            )
        )
    return specs


def chart_kind_for(requested: str, parts: int, complete: bool) -> Literal["donut", "hbar"]:
    """A donut only for a few shares of one whole; bars for everything else."""
    if requested == "donut" and complete and parts <= MAX_DONUT_SLICES:
        return "donut"
    return "hbar"


def _breakdown(f: compute.BreakdownFigures, w: Wording, slug: str) -> list[ChartSpec]:
    block = f.block
    if block.chart == "none":
        return []
    period = w.period(block.period, "range")
    caption = block.caption or w.gettext(
        "%(subject)s, %(period)s", subject=_capitalised(block.subject), period=period
    )
    # an item may give only the other figure (a share without its number, or the reverse)
    shown_column = "share" if f.shares_only or block.chart == "map" else "number"
    items = f.items.dropna(subset=[shown_column])
    labels = [w.place(label) for label in items["label"]]  # in the edition's language
    if block.chart == "map":
        table = pd.DataFrame(
            {
                "label": labels,
                "code": list(items["label"]),  # the regions' ISO codes, which the map draws
                "value": [float(s) for s in items["share"]],
                "is_other": False,
            }
        ).sort_values("value", ascending=False, kind="stable")
        columns = (
            _label_column(w, "region"),
            Column("value", w.gettext("Share (%%)"), "percent"),
        )
        return [
            ChartSpec(
                slug=slug,
                kind="map",
                caption=caption,
                source=block.source,
                period=period,
                table=table.reset_index(drop=True),
                columns=columns,
                unit="percent",
            )
        ]
    other_label = w.gettext("Other")
    if f.shares_only:
        # Published shares: shown as published (to one decimal), never adjusted.
        shares = list(items["share"])
        other = f.other_share or 0.0
        table = _ranked(labels, shares, shares, (other_label, other, other))
        columns: tuple[Column, ...] = (
            _label_column(w, block.dimension),
            Column("value", w.gettext("Share (%%)"), "percent", "share_shown"),
        )
        unit: Literal["count", "percent"] = "percent"
    else:
        total = f.total
        table = _ranked(
            labels,
            list(items["number"]),
            list(items["share"]) if total else None,
            (other_label, f.other_number or 0.0, f.other_share),
            # as the paragraph prints them: largest remainder when the parts make the whole
            shown=f.display_shares() if f.complete else None,
        )
        columns = _count_columns(w, block.dimension, with_share=bool(total))
        unit = "count"
    kind = chart_kind_for(block.chart, len(table), f.makes_whole)
    return [
        ChartSpec(
            slug=slug,
            kind=kind,
            caption=caption,
            source=block.source,
            period=period,
            table=table,
            columns=columns,
            unit=unit,
            center_label=w.number(f.total) if f.total and kind == "donut" else "",
            notes=_rounding_notes(table, w),
            width="half" if kind == "donut" else "full",
        )
    ]


def _two_periods(
    labels: list[str],
    values: list[float],
    changes: list[float | None],
    unit: Literal["count", "usd"],
    w: Wording,
) -> tuple[pd.DataFrame, tuple[Column, ...]]:
    """A few periods of one figure, each with its change from the first (compute's)."""
    table = pd.DataFrame({"label": labels, "value": values, "change": changes, "is_other": False})
    table["change"] = table["change"].astype("float64")
    columns = (
        _label_column(w, "period"),
        Column("value", w.gettext("Number") if unit == "count" else w.gettext("Million USD"), unit),
        Column("change", w.gettext("Change from the first period (%%)"), "change"),
    )
    return table, columns


def _comparison(f: compute.ComparisonFigures, w: Wording, slug: str) -> list[ChartSpec]:
    block = f.block
    if block.chart == "none":
        return []
    labels = [w.period(v.period, "range") for v in block.values]
    periods = " – ".join(
        [w.period(block.values[0].period, "short"), w.period(block.values[-1].period, "short")]
    )
    caption = block.caption or w.gettext(
        "%(subject)s, %(periods)s", subject=_capitalised(block.subject), periods=periods
    )
    table, columns = _two_periods(labels, list(f.values["value"]), f.changes_from_first, "count", w)
    return [
        ChartSpec(
            slug=slug,
            kind="columns",
            caption=caption,
            source=block.source,
            period=w.sentence_list(labels),
            table=table,
            columns=columns,
            unit="count",
            width="half",
        )
    ]


def _rate_note(
    f: compute.RemittanceFigures, before: compute.EarlierFigures, w: Wording
) -> tuple[str, ...]:
    """Dollar amounts of two periods use two exchange rates; say which, once."""
    if before.source.rate is None or float(before.source.rate) == f.rate:
        return ()
    return (
        w.gettext(
            "US dollar amounts at each period's exchange rate: %(rate)s in %(period)s, "
            "%(earlier_rate)s in %(earlier)s; changes in tenge differ for that reason.",
            rate=w.rate(f.rate),
            period=w.period(f.block.period, "short"),
            earlier_rate=w.rate(before.rate),
            earlier=w.period(before.source.period, "short"),
        ),
    )


def _remittances(f: compute.RemittanceFigures, w: Wording) -> list[ChartSpec]:
    block = f.block
    direction = block.direction
    period_short = w.period(block.period, "short")
    before = f.earlier_by("year_before")
    compared = f.dollar_comparison()
    if before is not None and compared:
        earlier_short = w.period(before.source.period, "short")
        if direction == "outflow":
            caption = w.gettext(
                "Remittances sent from Kazakhstan, %(earlier)s and %(period)s (million USD)",
                period=period_short,
                earlier=earlier_short,
            )
        else:
            caption = w.gettext(
                "Remittances received by Kazakhstan, %(earlier)s and %(period)s (million USD)",
                period=period_short,
                earlier=earlier_short,
            )
        rows = [
            (
                w.gettext("Total") if row.country is None else w.place(row.country),
                row.earlier_usd,
                row.current_usd,
                row.change_kzt,
                row.change_usd,
            )
            for row in compared
        ]
        notes = _rate_note(f, before, w)
        shared: dict[str, Any] = {
            "slug": f"remittances-{direction}-comparison",
            "caption": caption,
            "source": block.source,
            "period": w.sentence_list([earlier_short, period_short]),
            "unit": "usd",
            "notes": notes,
        }
        if len(rows) == 1:
            # The total alone: two columns and the change between them.
            table, columns = _two_periods(
                [earlier_short, period_short],
                [before.total_usd, f.total_usd],
                [None, compared[0].change_usd],
                "usd",
                w,
            )
            table["change_kzt"] = [None, before.change]
            table["change_kzt"] = table["change_kzt"].astype("float64")
            if notes:
                columns = (
                    *columns,
                    Column("change_kzt", w.gettext("Change in KZT (%%)"), "change"),
                )
            return [ChartSpec(kind="columns", table=table, columns=columns, width="half", **shared)]
        table = pd.DataFrame(
            rows, columns=["label", "earlier", "current", "change_kzt", "change"]
        ).assign(is_other=False)
        columns = (
            _label_column(w, "country"),
            Column("earlier", w.gettext("%(period)s (Million USD)", period=earlier_short), "usd"),
            Column("current", w.gettext("%(period)s (Million USD)", period=period_short), "usd"),
            Column("change", w.gettext("Change in USD (%%)"), "change"),
            Column("change_kzt", w.gettext("Change in KZT (%%)"), "change"),
        )
        return [
            ChartSpec(
                kind="paired",
                table=table,
                columns=columns,
                series=("earlier", "current"),
                series_labels=(earlier_short, period_short),
                **shared,
            )
        ]
    if len(f.countries):
        labels = [w.place(name) for name in f.countries["country"]]
        table = _ranked(labels, list(f.countries["usd_mn"]), list(f.countries["share"]))
        # Top countries only: their shares do not make up the whole, so no adjustment.
        columns = (
            _label_column(w, "country"),
            Column("value", w.gettext("Million USD"), "usd"),
            Column("share", w.gettext("Share (%%)"), "percent", "share_shown"),
        )
        return [
            ChartSpec(
                slug=f"remittances-{direction}-countries",
                kind="hbar",
                caption=(
                    w.gettext(
                        "Top receiver countries of remittances from Kazakhstan, %(period)s "
                        "(million USD)",
                        period=period_short,
                    )
                    if direction == "outflow"
                    else w.gettext(
                        "Top sender countries of remittances to Kazakhstan, %(period)s "
                        "(million USD)",
                        period=period_short,
                    )
                ),
                source=block.source,
                period=period_short,
                table=table,
                columns=columns,
                unit="usd",
            )
        ]
    return []


def plan_block(
    f: compute.BlockFigures, wording: Wording, source: compute.BlockFigures | None = None
) -> list[ChartSpec]:
    """The charts of one block's figures (not yet numbered). `source`: the same figures with
    the quarter file's own words (`f` may carry a translation), which name the files."""
    original: Any = f if source is None else source
    match f:
        case compute.FlowsFigures():
            return _flows(f, wording)
        case compute.PermanentResidenceFigures():
            return _residence(f, wording)
        case compute.BreakdownFigures():
            return _breakdown(f, wording, file_slug(original.block.subject))
        case compute.ComparisonFigures():
            return _comparison(f, wording, file_slug(original.block.subject))
        case compute.RemittanceFigures():
            return _remittances(f, wording)
    return []


def plan_charts(
    figures: compute.QuarterFigures,
    wording: Wording,
    extra: Mapping[tuple, list[ChartSpec]] | None = None,
    source: compute.QuarterFigures | None = None,
) -> dict[tuple, list[ChartSpec]]:
    """Charts of each block, keyed by the block's location, numbered in reading order.

    `extra` adds charts made elsewhere (trends over the quarters on file) after a block's own.
    `source`: the figures with the quarter file's own words, where `figures` carries an
    edition's translation (see `texts.translated_figures`): the files are named from them.
    """
    planned: dict[tuple, list[ChartSpec]] = {}
    number = 0
    sources = (source or figures).blocks
    for placed, original in zip(figures.blocks, sources, strict=True):
        own = plan_block(placed.figures, wording, original.figures)
        specs = _share_rows([*own, *(extra or {}).get(placed.location, [])])
        numbered = []
        for spec in specs:
            number += 1
            numbered.append(spec.numbered(number))
        if numbered:
            planned[placed.location] = numbered
    return planned


def _share_rows(specs: list[ChartSpec]) -> list[ChartSpec]:
    """A half-width chart left without a partner (two halves share a row, see
    `render.figure_rows`) takes the block's next chart beside it when that is a trend, which
    reads as well at half width: no row is left half empty (issue 14, Figure 12)."""
    shared: list[ChartSpec] = []
    open_half = False  # the last row holds one half-width chart
    for spec in specs:
        if open_half and spec.kind == "trend" and spec.width == "full":
            spec = replace(spec, width="half")
        open_half = spec.width == "half" and not open_half
        shared.append(spec)
    return shared


# --- alt text -------------------------------------------------------------------------------


def _kind_name(kind: str, w: Wording) -> str:
    return {
        "hbar": w.gettext("Bar chart"),
        "donut": w.gettext("Donut chart"),
        "map": w.gettext("Map of Kazakhstan's regions"),
        "paired": w.gettext("Grouped bar chart"),
        "balance": w.gettext("Column chart around zero"),
        "columns": w.gettext("Column chart"),
        "trend": w.gettext("Line chart"),
    }[kind]


def _value_text(spec: ChartSpec, row: dict, wording: Wording) -> str:
    """ "1,753,689 (43.3%)", "50.3%", "200.8 million USD (33.8%)", as the chart prints them."""
    shown = row.get("share_shown")
    has_share = shown is not None and not pd.isna(shown)
    if spec.unit == "percent":
        return cell_text(shown if has_share else row["value"], "percent", wording)
    if spec.unit == "usd":
        text = wording.million_usd(float(row["value"]))
    elif spec.unit == "kzt":
        text = wording.billion_kzt(float(row["value"]))
    else:
        text = cell_text(row["value"], "count", wording)
    if not has_share:
        return text
    return wording.gettext(
        "%(value)s (%(share)s)", value=text, share=cell_text(shown, "percent", wording)
    )


def _change_text(row: dict, wording: Wording, both: bool) -> str:
    """ "−0.3%", or "−0.3% in USD, −1.1% in KZT" where the two currencies disagree."""
    usd = cell_text(row.get("change"), "change", wording)
    if not both:
        return usd
    kzt = cell_text(row.get("change_kzt"), "change", wording)
    return wording.gettext("%(usd)s in USD, %(kzt)s in KZT", usd=usd, kzt=kzt)


def alt_text(spec: ChartSpec, wording: Wording, listed: int = 10) -> str:
    """What the chart shows and its figures, largest first, for screen readers and `alt`.

    Names the largest real category (never a remainder such as "Other") and its value
    first, so a listener gets the main message before the detail; then the others in the
    chart's order, up to `listed` of them, and any remainder last.
    """
    w = wording
    intro = w.gettext("%(kind)s: %(caption)s.", kind=_kind_name(spec.kind, w), caption=spec.caption)
    rows = records(spec.table)
    both = bool(spec.notes) and "change_kzt" in spec.table
    if spec.kind == "paired":
        earlier, current = spec.series_labels
        parts = [
            w.gettext(
                "%(label)s, %(earlier_amount)s in %(earlier)s and %(current_amount)s in "
                "%(current)s (%(change)s)",
                label=r["label"],
                earlier_amount=w.million_usd(r["earlier"]),
                earlier=earlier,
                current_amount=w.million_usd(r["current"]),
                current=current,
                change=_change_text(r, w, both),
            )
            for r in rows
        ]
        return f"{intro} {'; '.join(parts)}."
    if spec.kind == "balance":
        holders, terminated, balance = rows
        return (
            f"{intro} {holders['label']}: {w.number(round(holders['value']))}; "
            f"{terminated['label'].lower()}: {w.number(round(-terminated['value']))}; "
            f"{balance['label'].lower()}: {w.signed(round(balance['value']))}."
        )
    if spec.kind == "trend":
        parts = [f"{r['label']}: {_value_text(spec, r, w)}" for r in rows]
        top = max(rows, key=lambda r: r["value"])
        highest = w.gettext(
            "The highest is %(label)s, with %(value)s.",
            label=top["label"],
            value=_value_text(spec, top, w),
        )
        return f"{intro} {'; '.join(parts)}. {highest}"
    if spec.kind == "columns":

        def amount(value: float) -> str:
            if spec.unit == "usd":
                return w.million_usd(value)
            return cell_text(value, "count", w)

        parts = [
            w.gettext("%(amount)s in %(period)s", amount=amount(r["value"]), period=r["label"])
            for r in rows
        ]
        text = f"{intro} {w.sentence_list(parts)}"
        change = rows[-1].get("change")
        if change is not None and not pd.isna(change):
            text += w.gettext(", a change of %(change)s", change=_change_text(rows[-1], w, both))
        return text + "."
    named = sorted((r for r in rows if not r["is_other"]), key=lambda r: r["value"], reverse=True)
    if not named:
        return intro
    top = named[0]
    text = (
        intro
        + " "
        + w.gettext(
            "%(label)s is the largest, with %(value)s",
            label=top["label"],
            value=_value_text(spec, top, w),
        )
    )
    rest = [
        w.gettext("%(label)s with %(value)s", label=r["label"], value=_value_text(spec, r, w))
        for r in named[1:listed]
    ]
    if rest:
        text += w.gettext(", followed by %(rest)s", rest=w.sentence_list(rest))
    text += "."
    if len(named) > listed:
        more = len(named) - listed
        text += " " + w.ngettext(
            "%(n)s more with a smaller value.", "%(n)s more with smaller values.", more
        )
    for r in rows:
        if r["is_other"]:
            text += f" {r['label']}: {_value_text(spec, r, w)}."
    if spec.kind == "map":
        text += " " + w.gettext("Regions without a published figure are hatched.")
    return text
