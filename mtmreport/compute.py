"""From a validated quarter file to the figures the report prints: pure functions, no I/O.

Shares, "other" remainders, CIS/non-CIS totals, balances, monthly averages, dollar amounts
and changes are all computed here from the raw counts and amounts. The audit compares what
a file states with these (reading the statements from the model); the report prints the
computed values, and a stated share only where no count exists to compute it from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

import pandas as pd

from mtmreport import model as m
from mtmreport.drafts import within
from mtmreport.load import Location, format_location
from mtmreport.numbers import decimals_of
from mtmreport.periods import Period
from mtmreport.reference import find_country

Relation = Literal["previous", "year_before", "other"]


def _f(value: Decimal | int | None) -> float | None:
    return None if value is None else float(value)


def percent(part: float, whole: float) -> float | None:
    return None if not whole else part / whole * 100


def change_percent(current: float, earlier: float) -> float | None:
    return None if not earlier else (current / earlier - 1) * 100


def largest_remainder(values: list[float], decimals: int = 1, total: float = 100) -> list[float]:
    """Round shares so that they add up to `total` exactly (Hare's largest remainder)."""
    if not values:
        return []
    scale = 10**decimals
    scaled = [v * scale for v in values]
    floors = [int(v // 1) for v in scaled]
    missing = round(total * scale) - sum(floors)
    order = sorted(range(len(values)), key=lambda i: scaled[i] - floors[i], reverse=True)
    for i in order[: max(0, missing)]:
        floors[i] += 1
    return [f / scale for f in floors]


def relation(current: Period, earlier: Period) -> Relation:
    if earlier == current.previous():
        return "previous"
    if earlier == current.year_before():
        return "year_before"
    return "other"


def is_cis(country: str) -> bool:
    found = find_country(country)
    return bool(found and found.is_cis)


# --- flows ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FlowFigures:
    """Arrivals or departures, regrouped by the reference table's CIS membership."""

    total: int
    cis_total: int
    non_cis_total: int
    cis: pd.DataFrame  # country, number, share
    non_cis: pd.DataFrame

    @property
    def cis_share(self) -> float | None:
        return percent(self.cis_total, self.total)

    @property
    def non_cis_share(self) -> float | None:
        return percent(self.non_cis_total, self.total)

    @property
    def other_cis(self) -> int:
        return self.cis_total - int(self.cis["number"].sum())


def _listed(flow: m.Flow) -> pd.DataFrame:
    rows = [
        {
            "country": c.country,
            "number": c.number,
            "listed_under": heading,
            "is_cis": is_cis(c.country),
        }
        for heading, group in (("cis", flow.cis), ("non_cis", flow.non_cis))
        for c in group.countries
    ]
    columns = ["country", "number", "listed_under", "is_cis"]
    return pd.DataFrame(rows, columns=columns)


def flow_figures(flow: m.Flow) -> FlowFigures:
    listed = _listed(flow)
    numbers = listed["number"].fillna(0).astype(int)
    moved_mask = (listed["listed_under"] == "cis") != listed["is_cis"]
    # The stated CIS total follows the published headings; membership follows the table, so a
    # CIS country listed under non-CIS moves its count into the CIS total (and back).
    stated_cis = flow.cis.total
    if stated_cis is None:
        stated_cis = flow.total - flow.non_cis.total if flow.non_cis.total is not None else None
    if stated_cis is None:
        stated_cis = int(numbers[listed["listed_under"] == "cis"].sum())
    into_cis = int(numbers[moved_mask & listed["is_cis"]].sum())
    out_of_cis = int(numbers[moved_mask & ~listed["is_cis"]].sum())
    cis_total = stated_cis + into_cis - out_of_cis
    non_cis_total = flow.total - cis_total

    def group(mask: pd.Series, whole: int) -> pd.DataFrame:
        table = listed[mask].copy()
        table["number"] = table["number"].astype("Int64")
        table["share"] = [percent(n, whole) if pd.notna(n) else None for n in table["number"]]
        table = table.sort_values("number", ascending=False, kind="stable")
        columns = ["country", "number", "share"]
        return table[columns].reset_index(drop=True)

    return FlowFigures(
        total=flow.total,
        cis_total=cis_total,
        non_cis_total=non_cis_total,
        cis=group(listed["is_cis"], cis_total),
        non_cis=group(~listed["is_cis"], non_cis_total),
    )


@dataclass(frozen=True)
class FlowsFigures:
    block: m.FlowsBlock
    arrivals: FlowFigures
    departures: FlowFigures

    @property
    def net(self) -> int:
        return self.arrivals.total - self.departures.total


def flows_figures(block: m.FlowsBlock) -> FlowsFigures:
    return FlowsFigures(block, flow_figures(block.arrivals), flow_figures(block.departures))


# --- permanent residence -------------------------------------------------------------------


def _country_table(countries: list[m.CountryFigure], total: int | None) -> pd.DataFrame:
    """Countries with numbers and computed shares; a share-only entry gets an estimated number."""
    rows = []
    for c in countries:
        number = c.number
        estimated = False
        if number is None and c.share is not None and total:
            number = round(float(c.share) * total / 100)
            estimated = True
        rows.append(
            {
                "country": c.country,
                "number": number,
                "estimated": estimated,
                "share": percent(number, total) if number is not None and total else None,
                "stated_share": _f(c.share),
            }
        )
    columns = ["country", "number", "estimated", "share", "stated_share"]
    table = pd.DataFrame(rows, columns=columns)
    table["number"] = table["number"].astype("Int64")
    return table


@dataclass(frozen=True)
class GroupResidenceFigures:
    holders: int
    terminated: int
    holders_by_country: pd.DataFrame
    terminated_by_country: pd.DataFrame
    holders_children: int | None
    terminated_children: int | None

    @property
    def balance(self) -> int:
        return self.holders - self.terminated

    @property
    def other_holders(self) -> int:
        return self.holders - int(self.holders_by_country["number"].fillna(0).sum())


@dataclass(frozen=True)
class PermanentResidenceFigures:
    block: m.PermanentResidenceBlock
    cis: GroupResidenceFigures
    non_cis: GroupResidenceFigures

    @property
    def holders(self) -> int:
        return self.cis.holders + self.non_cis.holders

    @property
    def balance(self) -> int:
        return self.cis.balance + self.non_cis.balance


def _group_residence(group: m.GroupResidence) -> GroupResidenceFigures:
    holders, terminated = group.holders, group.terminated
    return GroupResidenceFigures(
        holders=holders.total,
        terminated=terminated.total,
        holders_by_country=_country_table(holders.countries, holders.total),
        terminated_by_country=_country_table(terminated.countries, terminated.total),
        holders_children=holders.children,
        terminated_children=terminated.children,
    )


def permanent_residence_figures(block: m.PermanentResidenceBlock) -> PermanentResidenceFigures:
    return PermanentResidenceFigures(
        block, _group_residence(block.cis), _group_residence(block.non_cis)
    )


# --- breakdowns ----------------------------------------------------------------------------


@dataclass(frozen=True)
class BreakdownFigures:
    """A total split into items; shares computed from numbers where there are numbers."""

    block: m.BreakdownBlock
    items: pd.DataFrame  # label, number, share
    other_number: int | None
    other_share: float | None
    complete: bool  # items plus "other" make up the whole

    @property
    def total(self) -> int | None:
        return self.block.total

    @property
    def shares_only(self) -> bool:
        return bool(self.items["number"].isna().all())

    def display_shares(self, decimals: int = 1) -> list[float]:
        """Item shares then "other", rounded so that a complete split adds up to 100."""
        shares = [float(s) for s in self.items["share"].fillna(0)]
        if self.other_share is not None:
            shares.append(self.other_share)
        if self.complete and not self.shares_only:
            return largest_remainder(shares, decimals)
        return [round(s, decimals) for s in shares]


def breakdown_figures(block: m.BreakdownBlock) -> BreakdownFigures:
    total = block.total
    rows = []
    for item in block.items:
        share = percent(item.number, total) if item.number is not None and total else _f(item.share)
        rows.append(
            {
                "label": item.label,
                "number": item.number,
                "share": share,
            }
        )
    items = pd.DataFrame(rows, columns=["label", "number", "share"])
    items["number"] = items["number"].astype("Int64")
    numbers_known = bool(items["number"].notna().all())
    other_number: int | None = None
    other_share: float | None = None
    if numbers_known and total is not None:
        other_number = total - int(items["number"].sum())
        other_share = percent(other_number, total)
        if other_number <= 0:
            other_number, other_share = None, None
    elif block.other is not None and block.other.share is not None:
        other_share = float(block.other.share)
    elif not numbers_known and block.dimension != "region":
        remainder = 100 - float(items["share"].fillna(0).sum())
        other_share = remainder if remainder > 0.05 else None
    complete = other_share is not None or (
        numbers_known and total is not None and int(items["number"].sum()) == total
    )
    return BreakdownFigures(block, items, other_number, other_share, complete)


# --- comparisons ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ComparisonFigures:
    block: m.ComparisonBlock
    values: pd.DataFrame  # period, value

    @property
    def first(self) -> int:
        return int(self.values["value"].iloc[0])

    @property
    def last(self) -> int:
        return int(self.values["value"].iloc[-1])

    @property
    def change(self) -> float | None:
        return change_percent(self.last, self.first)

    @property
    def ratio(self) -> float | None:
        return self.last / self.first if self.first else None

    @property
    def combined_period(self) -> Period | None:
        return Period.union([v.period for v in self.block.values])

    @property
    def combined_total(self) -> int:
        return int(self.values["value"].sum())


def comparison_figures(block: m.ComparisonBlock) -> ComparisonFigures:
    values = pd.DataFrame(
        [{"period": v.period, "value": v.value} for v in block.values], columns=["period", "value"]
    )
    return ComparisonFigures(block, values)


# --- remittances ---------------------------------------------------------------------------


def usd_mn(kzt_bn: float, rate: float) -> float:
    """Billions of tenge to millions of US dollars at `rate` tenge per dollar."""
    return kzt_bn * 1000 / rate


@dataclass(frozen=True)
class EarlierFigures:
    source: m.EarlierRemittances
    relation: Relation
    total_kzt: float
    total_usd: float | None
    monthly_average_kzt: float
    change: float | None  # per cent, current against this period's total (same length)


@dataclass(frozen=True)
class RemittanceFigures:
    block: m.RemittancesBlock
    months: pd.DataFrame  # month, kzt_bn, usd_mn
    countries: pd.DataFrame  # country, kzt_bn, usd_mn, share, change (as published)
    earlier: list[EarlierFigures] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return float(self.block.rate)

    @property
    def total_kzt(self) -> float:
        return float(self.block.total.kzt_bn)

    @property
    def total_usd(self) -> float:
        return usd_mn(self.total_kzt, self.rate)

    @property
    def months_sum_kzt(self) -> float | None:
        return float(self.months["kzt_bn"].sum()) if len(self.months) else None

    @property
    def monthly_average_kzt(self) -> float:
        return self.total_kzt / self.block.period.months

    @property
    def monthly_average_usd(self) -> float:
        return usd_mn(self.monthly_average_kzt, self.rate)

    def earlier_by(self, wanted: Relation) -> EarlierFigures | None:
        return next((e for e in self.earlier if e.relation == wanted), None)


def _earlier(block: m.RemittancesBlock, earlier: m.EarlierRemittances) -> EarlierFigures:
    months = earlier.period.months
    _, amount, factor = earlier.stated_amount
    total = float(amount) * factor
    total_usd: float | None = None
    if earlier.rate is not None:
        total_usd = usd_mn(total, float(earlier.rate))
    elif earlier.total is not None and earlier.total.usd_mn is not None:
        total_usd = float(earlier.total.usd_mn)
    current_total = float(block.total.kzt_bn)
    # Periods of different lengths compare by monthly average.
    current = current_total / block.period.months
    return EarlierFigures(
        source=earlier,
        relation=relation(block.period, earlier.period),
        total_kzt=total,
        total_usd=total_usd,
        monthly_average_kzt=total / months,
        change=change_percent(current, total / months),
    )


def remittance_figures(block: m.RemittancesBlock) -> RemittanceFigures:
    rate = float(block.rate)
    months = pd.DataFrame(
        [
            {
                "month": a.month,
                "kzt_bn": float(a.kzt_bn),
                "kzt_decimals": max(1, decimals_of(a.kzt_bn)),
                "usd_mn": usd_mn(float(a.kzt_bn), rate),
            }
            for a in block.months
        ],
        columns=["month", "kzt_bn", "kzt_decimals", "usd_mn"],
    )
    total = float(block.total.kzt_bn)
    countries = pd.DataFrame(
        [
            {
                "country": c.country,
                "kzt_bn": float(c.kzt_bn),
                "kzt_decimals": max(1, decimals_of(c.kzt_bn)),
                "usd_mn": usd_mn(float(c.kzt_bn), rate),
                "share": percent(float(c.kzt_bn), total),
                "change": _f(c.change),
            }
            for c in block.countries
        ],
        columns=[
            "country",
            "kzt_bn",
            "kzt_decimals",
            "usd_mn",
            "share",
            "change",
        ],
    )
    countries = countries.sort_values("kzt_bn", ascending=False, kind="stable")
    earlier = [_earlier(block, e) for e in block.compare_with]
    return RemittanceFigures(block, months, countries.reset_index(drop=True), earlier)


# --- migration of the population (permanent residence) ------------------------------------


@dataclass(frozen=True)
class PopulationMigrationFigures:
    """Net migration, and the year-before and CIS figures the published percentages imply."""

    block: m.PopulationMigrationBlock

    @property
    def net(self) -> int:
        return self.block.arrivals - self.block.departures

    def _implied(self, direction: str) -> float | None:
        change = (
            getattr(self.block.change_on_year, direction, None)
            if self.block.change_on_year
            else None
        )
        if change is None:
            return None
        return getattr(self.block, direction) / (1 + float(change) / 100)

    @property
    def arrivals_year_before(self) -> float | None:
        """Arrivals a year before, as the published change implies (an estimate)."""
        return self._implied("arrivals")

    @property
    def departures_year_before(self) -> float | None:
        return self._implied("departures")

    def cis(self, direction: str) -> float | None:
        """People from or to CIS countries, as the published share implies (an estimate)."""
        shares = self.block.cis_share
        share = getattr(shares, direction, None) if shares else None
        return None if share is None else getattr(self.block, direction) * float(share) / 100


# --- the whole quarter ---------------------------------------------------------------------

BlockFigures = (
    FlowsFigures
    | PermanentResidenceFigures
    | BreakdownFigures
    | ComparisonFigures
    | RemittanceFigures
    | PopulationMigrationFigures
    | None
)


def block_figures(block: m.Block) -> BlockFigures:
    body = block.body
    match body:
        case m.FlowsBlock():
            return flows_figures(body)
        case m.PermanentResidenceBlock():
            return permanent_residence_figures(body)
        case m.BreakdownBlock():
            return breakdown_figures(body)
        case m.ComparisonBlock():
            return comparison_figures(body)
        case m.RemittancesBlock():
            return remittance_figures(body)
        case m.PopulationMigrationBlock():
            return PopulationMigrationFigures(body)
    return None


@dataclass(frozen=True)
class PlacedBlock:
    """A block with its place in the file (for error locations) and its computed figures.

    A draft's block with pending figures has no figures; `pending` names what is missing.
    """

    location: tuple[str | int, ...]
    block: m.Block
    figures: BlockFigures
    pending: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        return self.block.kind


@dataclass(frozen=True)
class QuarterFigures:
    quarter: m.QuarterFile
    blocks: list[PlacedBlock]

    @property
    def pending(self) -> list[str]:
        """Every pending entry, as `block location: field`."""
        return [
            f"{format_location(b.location)}.{field}" if field else format_location(b.location)
            for b in self.blocks
            for field in b.pending
        ]

    @property
    def period(self) -> Period:
        return Period.parse(self.quarter.quarter)

    def of_kind(self, kind: str) -> list[PlacedBlock]:
        return [b for b in self.blocks if b.kind == kind]


def iter_blocks(quarter: m.QuarterFile) -> list[tuple[tuple[str | int, ...], m.Block]]:
    """Every block with its location in the file, in reading order."""
    found: list[tuple[tuple[str | int, ...], m.Block]] = []
    for s, section in enumerate(quarter.sections):
        for b, block in enumerate(section.blocks):
            found.append((("sections", s, "blocks", b, block.kind), block))
        for u, sub in enumerate(section.subsections):
            for b, block in enumerate(sub.blocks):
                found.append((("sections", s, "subsections", u, "blocks", b, block.kind), block))
    return found


def compute(quarter: m.QuarterFile, pending: Sequence[Location] = ()) -> QuarterFigures:
    """Figures of every block; blocks with pending entries (drafts) are left uncomputed."""
    placed = []
    for location, block in iter_blocks(quarter):
        missing = tuple(
            format_location(where[len(location) :]) for where in pending if within(where, location)
        )
        figures = None if missing else block_figures(block)
        placed.append(PlacedBlock(location, block, figures, missing))
    return QuarterFigures(quarter, placed)
