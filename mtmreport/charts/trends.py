"""Trend charts: a headline series over every quarter on file, once three quarters are there."""

from __future__ import annotations

import pandas as pd

from mtmreport.charts.spec import ChartSpec, Column, file_slug
from mtmreport.compute import QuarterFigures
from mtmreport.history import History, series_unit
from mtmreport.reference import english_name
from mtmreport.wording import Wording

MIN_POINTS = 3


def trend_specs(
    history: History, figures: QuarterFigures, wording: Wording
) -> dict[tuple, list[ChartSpec]]:
    """For each series this quarter holds: its quarterly values up to this quarter."""
    last = figures.period.last
    found: dict[tuple, list[ChartSpec]] = {}
    seen: set[tuple[str, ...]] = set()
    for point in history.points_in(figures):
        if point.stated or point.key in seen or point.period.kind != "quarter":
            continue
        seen.add(point.key)
        series = [
            p
            for p in history.series(point.key)
            if p.period.kind == "quarter" and p.period.last <= last
        ]
        if len(series) < MIN_POINTS:
            continue
        table = pd.DataFrame(
            {
                "label": [wording.period(p.period, "short") for p in series],
                "value": [p.value for p in series],
                "stated": [p.stated for p in series],
                "position": [p.period.first // 3 for p in series],  # quarters apart, gaps shown
                "is_other": False,
            }
        )
        unit = {"kzt_bn": "kzt", "percent": "percent", "count": "count"}[series_unit(point.key)]
        first, final = series[0].period, series[-1].period
        caption = wording.gettext(
            "%(series)s, %(first)s – %(last)s%(unit)s",
            series=wording.series_label(point.key),
            first=wording.period(first, "short"),
            last=wording.period(final, "short"),
            unit={
                "kzt": wording.gettext(" (billion KZT)"),
                "percent": wording.gettext(" (%%)"),
                "count": "",
            }[unit],
        )
        # Each point cites the source its own quarter's report cites, once, in time order.
        sources = list(dict.fromkeys(wording.quarter_text(p.source) for p in series if p.source))
        hollow = [wording.period(p.period, "short") for p in series if p.stated]
        spec = ChartSpec(
            # named in the quarter file's words and places' English names: alike in every edition
            slug=file_slug("trend", *(english_name(part) for part in point.key)),
            kind="trend",
            caption=caption,
            source="; ".join(sources),
            table=table,
            unit=unit,
            period=f"{table['label'].iloc[0]} – {table['label'].iloc[-1]}",
            columns=(
                Column("label", wording.gettext("Period"), "text"),
                Column(
                    "value",
                    {
                        "count": wording.gettext("Number"),
                        "percent": wording.gettext("Share (%%)"),
                        "kzt": wording.gettext("Billion KZT"),
                    }[unit],
                    unit,
                ),
            ),
            notes=(
                wording.gettext(
                    "Hollow points (%(periods)s): figures cited for comparison in a later "
                    "issue of this report.",
                    periods=", ".join(hollow),
                ),
            )
            if hollow
            else (),
        )
        found.setdefault(point.location, []).append(spec)
    return found
