"""Quarters linked by their files: series over time, changes against earlier quarters, trends.

Each quarter file holds its own figures and, here and there, figures of earlier periods it
compares with (remittances a year before, India's share in earlier quarters). This module reads
every quarter on file into series keyed by what they measure, so that a report can state its
change against the previous quarter or the same quarter a year before *from those files*,
the audit can flag a baseline typed in one file that contradicts another, and trend charts
can draw every point on file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

from mtmreport import compute
from mtmreport.errors import MtmReportError
from mtmreport.load import Location
from mtmreport.numbers import half_unit
from mtmreport.periods import Period
from mtmreport.provenance import Figure, Input, derived, shown

SeriesKey = tuple[str, ...]
# What a series' values are: counts, billions of tenge, or shares in per cent.
SeriesUnit = Literal["count", "kzt_bn", "percent"]


@dataclass(frozen=True)
class Point:
    """One value of a series: from the quarter's own data, or stated for an earlier period."""

    key: SeriesKey
    period: Period
    value: float
    quarter: str  # the file it was read from
    location: Location  # the block (own data) or the stated value (earlier period)
    stated: bool = False  # True: a figure of an earlier period, as a later file states it
    tolerance: float = 0.0  # half a unit of the printed figure's last decimal
    source: str = ""  # the source the file cites for it: what a report citing it names


def series_unit(key: SeriesKey) -> SeriesUnit:
    """What a series' values are; how it is named is the wording's (`Wording.series_label`)."""
    match key:
        case ("remittances", _):
            return "kzt_bn"
        case ("non_cis_arrival_share", _):
            return "percent"
    return "count"


def points_of(figures: compute.QuarterFigures) -> Iterator[Point]:
    """Every series value one quarter file holds."""
    quarter = figures.quarter_id
    for placed in figures.blocks:
        where = placed.location
        f = placed.figures
        match f:
            case compute.FlowsFigures():
                period, source = f.block.period, f.block.source
                yield Point(
                    ("flows", "arrivals"), period, f.arrivals.total, quarter, where, source=source
                )
                yield Point(
                    ("flows", "departures"),
                    period,
                    f.departures.total,
                    quarter,
                    where,
                    source=source,
                )
                for row in f.arrivals.non_cis.itertuples():
                    if row.share is not None and row.share == row.share:
                        key = ("non_cis_arrival_share", row.country)
                        yield Point(key, period, float(row.share), quarter, where, source=source)
                for index, earlier in enumerate(f.block.earlier_shares):
                    yield Point(
                        ("non_cis_arrival_share", earlier.country),
                        earlier.period,
                        float(earlier.share),
                        quarter,
                        (*where, "earlier_shares", index, "share"),
                        stated=True,
                        tolerance=half_unit(earlier.share),
                        source=source,
                    )
            case compute.RemittanceFigures():
                key, source = ("remittances", f.block.direction), f.block.source
                tolerance = half_unit(f.block.total.kzt_bn)
                yield Point(
                    key,
                    f.block.period,
                    f.total_kzt,
                    quarter,
                    where,
                    tolerance=tolerance,
                    source=source,
                )
                for index, earlier in enumerate(f.earlier):
                    field, amount, times = earlier.source.stated_amount
                    yield Point(
                        key,
                        earlier.source.period,
                        earlier.total_kzt,
                        quarter,
                        (*where, "compare_with", index, field, "kzt_bn"),
                        stated=True,
                        tolerance=half_unit(amount) * times,
                        source=source,
                    )
            case compute.BreakdownFigures() if f.total is not None:
                source = f.block.source
                yield Point(
                    ("total", f.block.subject),
                    f.block.period,
                    f.total,
                    quarter,
                    where,
                    source=source,
                )
            case compute.ComparisonFigures():
                source = f.block.source
                for index, value in enumerate(f.block.values):
                    yield Point(
                        ("total", f.block.subject),
                        value.period,
                        value.value,
                        quarter,
                        (*where, "values", index, "value"),
                        stated=True,
                        source=source,
                    )


@dataclass(frozen=True)
class LinkedChange:
    """A figure of this quarter against the same series in an earlier quarter's file."""

    key: SeriesKey
    current: Point
    earlier: Point
    relation: Literal["previous", "year_before"]
    change: Figure | None  # per cent, per month where the spans differ (`compute.linked_change`)

    @property
    def unit(self) -> SeriesUnit:
        return series_unit(self.key)

    @property
    def before(self) -> Figure:
        """The earlier quarter's figure as this report prints it (counts whole, else to 0.1;
        the wording rounds, half up, as everywhere else)."""
        decimals = 1 if self.unit in ("kzt_bn", "percent") else 0
        value = self.earlier.value
        return derived(
            value,
            decimals,
            "",
            [
                Input(
                    f"{self.earlier.period}, from the {self.earlier.quarter} quarter file",
                    shown(value),
                )
            ],
        )


class History:
    """Every quarter on file, read once, with their series."""

    def __init__(self, quarters: dict[str, compute.QuarterFigures]):
        self.quarters = quarters
        # Each file's points, read once: the links, the audit's contradictions and the trends
        # all start from the current quarter's.
        self.by_quarter = {quarter: list(points_of(f)) for quarter, f in quarters.items()}
        self.points = [p for points in self.by_quarter.values() for p in points]

    @classmethod
    def load(
        cls,
        quarter_ids: Iterable[str],
        current: compute.QuarterFigures,
        figures_of: Callable[[str], compute.QuarterFigures],
    ) -> History:
        """The readable quarters on file (`quarter_ids`) up to `current`, `current` as given.

        Later quarters are left out, so adding next quarter's file never changes a report
        that was already published. `figures_of` gives a quarter's figures (the project's,
        which reads each file once).
        """
        quarters = {current.quarter_id: current}
        for quarter in quarter_ids:
            if quarter in quarters or quarter > current.quarter_id:
                continue
            try:
                quarters[quarter] = figures_of(quarter)
            except MtmReportError:
                continue  # a broken neighbour must not stop this quarter's report
        return cls(quarters)

    def points_in(self, figures: compute.QuarterFigures) -> list[Point]:
        """The points of a quarter on file, as this history read them (`load` reads the
        current quarter's figures as given, so they are the ones the report prints)."""
        return self.by_quarter[figures.quarter_id]

    def own(self, key: SeriesKey, period: Period) -> Point | None:
        """The value a quarter's own file gives for `period` (not a later file's statement)."""
        for point in self.points:
            if point.key == key and point.period == period and not point.stated:
                return point
        return None

    def series(self, key: SeriesKey) -> list[Point]:
        """One point per period, oldest first; a file's own value beats a stated one."""
        best: dict[Period, Point] = {}
        for point in self.points:
            if point.key != key or point.period.as_of is not None:
                continue
            held = best.get(point.period)
            if held is None or (held.stated and not point.stated):
                best[point.period] = point
        return [best[p] for p in sorted(best)]

    def links(self, figures: compute.QuarterFigures) -> dict[Location, list[LinkedChange]]:
        """Changes of this quarter's own figures against earlier quarters' files, by block."""
        found: dict[Location, list[LinkedChange]] = {}
        quarter = figures.quarter_id
        for point in self.points_in(figures):
            if point.stated:
                continue
            for relation, period in (
                ("previous", point.period.previous()),
                ("year_before", point.period.year_before()),
            ):
                earlier = self.own(point.key, period)
                if earlier is not None and earlier.quarter != quarter:
                    change = compute.linked_change(
                        point.value, point.period, earlier.value, earlier.period, earlier.quarter
                    )
                    link = LinkedChange(point.key, point, earlier, relation, change)  # type: ignore[arg-type]
                    found.setdefault(point.location, []).append(link)
        return found

    def contradictions(self, figures: compute.QuarterFigures) -> Iterator[tuple[Point, Point]]:
        """Earlier-period figures this quarter states that another quarter's file contradicts.

        Yields (stated here, held there) pairs whose values differ beyond the stated value's
        printed rounding; the audit turns them into findings.
        """
        for point in self.points_in(figures):
            if not point.stated:
                continue
            held = self.own(point.key, point.period)
            if held is None or held.quarter == point.quarter:
                continue
            if abs(point.value - held.value) > point.tolerance + held.tolerance + 1e-9:
                yield point, held
