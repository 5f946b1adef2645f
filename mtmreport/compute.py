"""From a validated quarter file to the figures the report prints: pure functions, no I/O.

Shares, "other" remainders, CIS/non-CIS totals, balances, monthly averages, dollar amounts
and changes are all computed here from the raw counts and amounts. The audit compares what
a file states with these (reading the statements from the model); the report prints the
computed values, and a stated share only where no count exists to compute it from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from types import SimpleNamespace
from typing import Literal

import pandas as pd

from mtmreport import model
from mtmreport.drafts import within
from mtmreport.frames import is_missing, records
from mtmreport.intervals import divide, exact, published, scale
from mtmreport.load import Location, format_location
from mtmreport.periods import Period
from mtmreport.provenance import (
    Figure,
    Input,
    as_input,
    decimals_printed,
    derived,
    derived_count,
    shown,
    stated_or_computed,
    typed,
)
from mtmreport.reference import country_by_code, english_name

Relation = Literal["previous", "year_before", "other"]


def percent(part: float, whole: float) -> float | None:
    return None if not whole else part / whole * 100


def change_percent(current: float, earlier: float) -> float | None:
    return None if not earlier else (current / earlier - 1) * 100


def change_per_month(now: float, now_months: int, then: float, then_months: int) -> float | None:
    """The per cent change from `then` to `now`, compared per month: spans of different
    length (a quarter against a half-year, a month against a quarter) compare by their
    monthly averages; spans of one length, as they are."""
    return change_percent(float(now) / now_months, float(then) / then_months)


def linked_change(
    now: float, now_period: Period, then: float, then_period: Period, then_file: str
) -> Figure | None:
    """The change of a figure against the same series in an earlier quarter's file
    (`then_file`, its quarter): the change `history.LinkedChange` states."""
    change = change_per_month(now, now_period.months, then, then_period.months)
    if change is None:
        return None
    per_month = now_period.months != then_period.months
    return derived(
        change,
        1,
        "(now per month ÷ then per month − 1) × 100" if per_month else "(now ÷ then − 1) × 100",
        [
            as_input(now, f"{now_period}"),
            Input(f"{then_period}, from the {then_file} quarter file", shown(then)),
        ],
    )


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


def table_rows(frame: pd.DataFrame) -> list[SimpleNamespace]:
    """A computed table's rows with attribute access, for templates and the narrative check:
    its cells as stored, missing ones as None."""
    return [
        SimpleNamespace(**{k: None if is_missing(v) else v for k, v in row.items()})
        for row in records(frame)
    ]


def relation(current: Period, earlier: Period) -> Relation:
    if earlier == current.previous():
        return "previous"
    if earlier == current.year_before():
        return "year_before"
    return "other"


def is_cis(country: str) -> bool:
    """Whether the country of this ISO code counts as CIS (see `reference.countries`)."""
    found = country_by_code(country)
    return bool(found and found.is_cis)


# --- flows ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FlowFigures:
    """Arrivals or departures, regrouped by the reference table's CIS membership."""

    total: Figure
    cis_total: Figure
    non_cis_total: Figure
    cis_share: Figure | None
    non_cis_share: Figure | None
    cis: pd.DataFrame  # country, number, share (of the group), share_of_all
    non_cis: pd.DataFrame

    @property
    def other_cis(self) -> Figure:
        """CIS arrivals or departures not listed by country."""
        listed = [n for n in self.cis["number"] if n is not None and not pd.isna(n)]
        return derived_count(
            self.cis_total - sum(int(n) for n in listed),
            "CIS total − the CIS countries listed",
            [as_input(self.cis_total, "CIS total"), *(as_input(n, "listed") for n in listed)],
        )

    @property
    def other_cis_share(self) -> Figure | None:
        return _part_share(self.other_cis, self.cis_total, "other CIS", "CIS total")


def _part_share(part: Figure, whole: Figure, part_name: str, whole_name: str) -> Figure | None:
    """The share of a computed part (no stated share to compare with)."""
    if not whole:
        return None
    return derived(
        percent(part, whole) or 0.0,
        1,
        f"{part_name} ÷ {whole_name} × 100",
        [as_input(part, part_name), as_input(whole, whole_name)],
    )


def _listed(flow: model.Flow, at: Location) -> pd.DataFrame:
    rows = [
        {
            "country": c.country,
            "number": None
            if c.number is None
            else typed(c.number, english_name(c.country), (*at, heading, "countries", i, "number")),
            "stated_share": c.share,
            "share_at": (*at, heading, "countries", i, "share"),
            "listed_under": heading,
            "is_cis": is_cis(c.country),
        }
        for heading, group in (("cis", flow.cis), ("non_cis", flow.non_cis))
        for i, c in enumerate(group.countries)
    ]
    columns = ["country", "number", "stated_share", "share_at", "listed_under", "is_cis"]
    return pd.DataFrame(rows, columns=columns, dtype=object)


def _cis_total(flow: model.Flow, at: Location, listed: pd.DataFrame, name: str) -> Figure:
    """The CIS total the report builds on.

    The stated CIS total follows the published headings; membership follows the table, so a
    CIS country listed under non-CIS moves its count into the CIS total (and back). A group
    total is never smaller than the CIS countries listed under it: where the parts contradict
    the total, their sum is used (the audit reports the contradiction)."""
    known = listed[listed["number"].notna()]
    moved = known[(known["listed_under"] == "cis") != known["is_cis"]]
    members = known[known["is_cis"].astype(bool)]
    members_sum = int(sum(members["number"]))
    member_inputs = [
        as_input(n, english_name(c))
        for c, n in zip(members["country"], members["number"], strict=True)
    ]
    if flow.cis.total is not None:
        base = typed(flow.cis.total, f"CIS {name} as stated", (*at, "cis", "total"))
    elif flow.non_cis.total is not None:
        non_cis = typed(flow.non_cis.total, f"non-CIS {name} as stated", (*at, "non_cis", "total"))
        base = derived_count(
            flow.total - non_cis,
            "total − non-CIS",
            [
                as_input(typed(flow.total, f"all {name}", (*at, "total")), f"all {name}"),
                as_input(non_cis, f"non-CIS {name} as stated"),
            ],
        )
    else:
        listed_cis = known[known["listed_under"] == "cis"]
        base = derived_count(
            int(sum(listed_cis["number"])),
            "sum of the countries listed under CIS",
            [
                as_input(n, english_name(c))
                for c, n in zip(listed_cis["country"], listed_cis["number"], strict=True)
            ],
        )
    total = int(base)
    inputs = [as_input(base, f"CIS {name} as stated")]
    formula = "stated CIS total"
    for country, number, under in zip(
        moved["country"], moved["number"], moved["listed_under"], strict=True
    ):
        total += int(number) if under == "non_cis" else -int(number)
        sign, heading = ("+", "non-CIS") if under == "non_cis" else ("−", "CIS")
        formula += f" {sign} {english_name(country)} (listed under {heading})"
        inputs.append(as_input(number, f"{english_name(country)}, listed under {heading}"))
    if total < members_sum:
        return derived_count(
            members_sum,
            "sum of the CIS countries listed",
            member_inputs,
            remark=f"the stated CIS total ({shown(base)}) is smaller than the CIS countries "
            "listed under it add up to; the report uses their sum (see the audit)",
        )
    if len(inputs) == 1:
        return base
    return derived_count(total, formula, inputs)


def flow_figures(flow: model.Flow, at: Location = (), name: str = "arrivals") -> FlowFigures:
    listed = _listed(flow, at)
    total = typed(flow.total, f"all {name}", (*at, "total"))
    cis_total = _cis_total(flow, at, listed, name)
    non_cis_total = derived_count(
        total - cis_total,
        "all − CIS",
        [as_input(total, f"all {name}"), as_input(cis_total, f"CIS {name}")],
    )

    def share_of_whole(part: Figure, group: model.CountryGroup, heading: str) -> Figure | None:
        if not total:
            return None
        share = percent(part, total)
        return stated_or_computed(
            group.share,
            share,
            exact(share),
            1,
            f"{heading} ÷ all {name} × 100",
            [as_input(part, heading), as_input(total, f"all {name}")],
            stated_at=(*at, "cis" if group is flow.cis else "non_cis", "share"),
        )

    def group(is_member: bool, whole: Figure, heading: str) -> pd.DataFrame:
        table = listed[listed["is_cis"] == is_member].copy()
        table["share"] = pd.Series(
            [
                None
                if pd.isna(n) or not whole
                else stated_or_computed(
                    stated,
                    percent(n, whole),
                    exact(percent(n, whole)),
                    1,
                    f"{english_name(country)} ÷ {heading} × 100",
                    [as_input(n, english_name(country)), as_input(whole, heading)],
                    stated_at=where,
                )
                for country, n, stated, where in zip(
                    table["country"],
                    table["number"],
                    table["stated_share"],
                    table["share_at"],
                    strict=True,
                )
            ],
            dtype=object,
            index=table.index,
        )
        # What text may also mean by "India's share of arrivals": its share of them all.
        table["share_of_all"] = pd.Series(
            [
                None
                if pd.isna(n)
                else _part_share(n, total, english_name(str(country)), f"all {name}")
                for country, n in zip(table["country"], table["number"], strict=True)
            ],
            dtype=object,
            index=table.index,
        )
        table["_sort"] = [-1 if pd.isna(n) else int(n) for n in table["number"]]
        table = table.sort_values("_sort", ascending=False, kind="stable")
        return table[["country", "number", "share", "share_of_all"]].reset_index(drop=True)

    return FlowFigures(
        total=total,
        cis_total=cis_total,
        non_cis_total=non_cis_total,
        cis_share=share_of_whole(cis_total, flow.cis, f"CIS {name}"),
        non_cis_share=share_of_whole(non_cis_total, flow.non_cis, f"non-CIS {name}"),
        cis=group(True, cis_total, f"CIS {name}"),
        non_cis=group(False, non_cis_total, f"non-CIS {name}"),
    )


@dataclass(frozen=True)
class FlowsFigures:
    block: model.FlowsBlock
    arrivals: FlowFigures
    departures: FlowFigures

    @property
    def net(self) -> Figure:
        a, d = self.arrivals.total, self.departures.total
        return derived_count(
            a - d, "arrivals − departures", [as_input(a, "arrivals"), as_input(d, "departures")]
        )


def flows_figures(block: model.FlowsBlock, at: Location = ()) -> FlowsFigures:
    return FlowsFigures(
        block,
        flow_figures(block.arrivals, (*at, "arrivals"), "arrivals"),
        flow_figures(block.departures, (*at, "departures"), "departures"),
    )


# --- permanent residence -------------------------------------------------------------------


def _share(
    stated: Decimal | None,
    part: Figure,
    whole: Figure,
    part_name: str,
    whole_name: str,
    stated_at: Location,
) -> Figure:
    """A part's share of a whole counted exactly: stated where it agrees, computed else."""
    share = percent(part, whole)
    assert share is not None  # callers pass a non-zero whole
    return stated_or_computed(
        stated,
        share,
        exact(share),
        1,
        f"{part_name} ÷ {whole_name} × 100",
        [as_input(part, part_name), as_input(whole, whole_name)],
        stated_at=stated_at,
    )


def _country_table(
    countries: list[model.CountryFigure], total: Figure | None, at: Location, whole_name: str
) -> pd.DataFrame:
    """Countries with numbers and shares; a share-only entry gets an estimated number."""
    rows = []
    for i, c in enumerate(countries):
        here = (*at, "countries", i)
        name = english_name(c.country)
        number = None if c.number is None else typed(c.number, name, (*here, "number"))
        estimated = False
        if number is None and c.share is not None and total:
            number = derived_count(
                round(float(c.share) * total / 100),
                f"{name}'s share × {whole_name} ÷ 100 (an estimate)",
                [
                    as_input(typed(c.share, "share", (*here, "share")), "share"),
                    as_input(total, whole_name),
                ],
            )
            estimated = True
        if estimated or not total or number is None:
            share = None if c.share is None else typed(c.share, "share", (*here, "share"))
        else:
            share = _share(c.share, number, total, name, whole_name, (*here, "share"))
        rows.append(
            {
                "country": c.country,
                "number": number,
                "estimated": estimated,
                "share": share,
                "stated_share": c.share,
            }
        )
    columns = ["country", "number", "estimated", "share", "stated_share"]
    return pd.DataFrame(rows, columns=columns, dtype=object)


@dataclass(frozen=True)
class GroupResidenceFigures:
    holders: Figure
    terminated: Figure
    balance: Figure
    holders_by_country: pd.DataFrame
    terminated_by_country: pd.DataFrame
    holders_children: Figure | None
    terminated_children: Figure | None

    @property
    def other_holders(self) -> Figure:
        """Holders of the group's countries not listed by name."""
        listed = [n for n in self.holders_by_country["number"] if n is not None]
        return derived_count(
            self.holders - sum(int(n) for n in listed),
            "holders − the countries listed",
            [as_input(self.holders, "holders"), *(as_input(n, "listed") for n in listed)],
        )

    @property
    def other_holders_share(self) -> Figure | None:
        return _part_share(self.other_holders, self.holders, "other countries", "holders")


@dataclass(frozen=True)
class PermanentResidenceFigures:
    block: model.PermanentResidenceBlock
    cis: GroupResidenceFigures
    non_cis: GroupResidenceFigures
    holders: Figure
    cis_share: Figure | None  # of all holders
    non_cis_share: Figure | None

    @property
    def balance(self) -> int:
        return self.cis.balance + self.non_cis.balance


def _group_residence(group: model.GroupResidence, at: Location, name: str) -> GroupResidenceFigures:
    holders = typed(group.holders.total, f"{name} holders", (*at, "holders", "total"))
    terminated = typed(group.terminated.total, f"{name} terminations", (*at, "terminated", "total"))
    balance = holders - terminated
    children = group.holders.children
    children_left = group.terminated.children
    return GroupResidenceFigures(
        holders=holders,
        terminated=terminated,
        balance=stated_or_computed(
            group.balance,
            balance,
            exact(balance),
            0,
            "holders − terminations",
            [as_input(holders, f"{name} holders"), as_input(terminated, f"{name} terminations")],
            stated_at=(*at, "balance"),
        ),
        holders_by_country=_country_table(
            group.holders.countries, holders, (*at, "holders"), f"{name} holders"
        ),
        terminated_by_country=_country_table(
            group.terminated.countries, terminated, (*at, "terminated"), f"{name} terminations"
        ),
        holders_children=None
        if children is None
        else typed(children, "children", (*at, "holders", "children")),
        terminated_children=None
        if children_left is None
        else typed(children_left, "children", (*at, "terminated", "children")),
    )


def permanent_residence_figures(
    block: model.PermanentResidenceBlock, at: Location = ()
) -> PermanentResidenceFigures:
    cis = _group_residence(block.cis, (*at, "cis"), "CIS")
    non_cis = _group_residence(block.non_cis, (*at, "non_cis"), "non-CIS")
    both = cis.holders + non_cis.holders
    holders = stated_or_computed(
        block.total,
        both,
        exact(both),
        0,
        "CIS holders + non-CIS holders",
        [as_input(cis.holders, "CIS holders"), as_input(non_cis.holders, "non-CIS holders")],
        stated_at=(*at, "total"),
    )

    def share(group: GroupResidenceFigures, name: str) -> Figure | None:
        if not holders:
            return None
        return derived(
            percent(group.holders, holders) or 0.0,
            1,
            f"{name} holders ÷ all holders × 100",
            [as_input(group.holders, f"{name} holders"), as_input(holders, "all holders")],
        )

    def with_share_of_all(group: GroupResidenceFigures) -> GroupResidenceFigures:
        """What text may also mean by a country's share of holders: its share of them all."""
        table = group.holders_by_country.copy()
        table["share_of_all"] = pd.Series(
            [
                None
                if n is None or estimated
                else _part_share(n, holders, english_name(str(country)), "all holders")
                for country, n, estimated in zip(
                    table["country"], table["number"], table["estimated"], strict=True
                )
            ],
            dtype=object,
            index=table.index,
        )
        return replace(group, holders_by_country=table)

    return PermanentResidenceFigures(
        block,
        with_share_of_all(cis),
        with_share_of_all(non_cis),
        holders,
        share(cis, "CIS"),
        share(non_cis, "non-CIS"),
    )


# --- breakdowns ----------------------------------------------------------------------------


@dataclass(frozen=True)
class BreakdownFigures:
    """A total split into items; shares computed from numbers where there are numbers."""

    block: model.BreakdownBlock
    total: Figure | None
    items: pd.DataFrame  # label, number, share
    other_number: Figure | None
    other_share: Figure | None
    complete: bool  # items plus "other" make up the whole

    @property
    def shares_only(self) -> bool:
        return all(n is None for n in self.items["number"])

    @property
    def makes_whole(self) -> bool:
        """Whether the parts, "other" included, make up the whole (what a donut needs): counts
        that add up to the total, or published shares that add up to 100 within their
        rounding."""
        if not self.shares_only:
            return self.complete
        shares = [float(s) for s in self.items["share"] if s is not None and not pd.isna(s)]
        if self.other_share is not None and self.other_share > 0:
            shares.append(float(self.other_share))
        return abs(sum(shares) - 100) <= 0.5

    def display_shares(self) -> list[Figure | None]:
        """Item shares then "other", as printed: a share the source states as stated where it
        agrees; computed shares of a complete split rounded so that they add up to 100."""
        shares = list(self.items["share"])
        if self.other_share is not None:
            shares.append(self.other_share)
        computed = [s for s in shares if s is not None and s.trace.basis == "computed"]
        if not (self.complete and not self.shares_only and len(computed) == len(shares)):
            return shares
        rounded = largest_remainder([float(s) for s in shares], 1)
        return [
            derived(
                value,
                1,
                share.trace.formula,
                share.trace.inputs,
                remark="rounded so that the shares add up to 100",
            )
            for value, share in zip(rounded, shares, strict=True)
        ]


def breakdown_figures(block: model.BreakdownBlock, at: Location = ()) -> BreakdownFigures:
    total = None if block.total is None else typed(block.total, "total", (*at, "total"))
    rows = []
    for i, item in enumerate(block.items):
        here = (*at, "items", i)
        name = english_name(item.label)
        number = None if item.number is None else typed(item.number, name, (*here, "number"))
        if number is not None and total:
            share = _share(item.share, number, total, name, "total", (*here, "share"))
        else:
            share = None if item.share is None else typed(item.share, "share", (*here, "share"))
        rows.append({"label": item.label, "number": number, "share": share})
    items = pd.DataFrame(rows, columns=["label", "number", "share"], dtype=object)
    numbers_known = all(n is not None for n in items["number"])
    other_number: Figure | None = None
    other_share: Figure | None = None
    if numbers_known and total is not None:
        listed = [
            as_input(n, english_name(label))
            for label, n in zip(items["label"], items["number"], strict=True)
        ]
        rest = total - sum(int(n) for n in items["number"])
        if rest > 0:
            other_number = derived_count(
                rest, "total − the items listed", [as_input(total, "total"), *listed]
            )
            other_share = derived(
                percent(rest, total) or 0.0,
                1,
                "other ÷ total × 100",
                [as_input(other_number, "other"), as_input(total, "total")],
            )
    elif block.other is not None and block.other.share is not None:
        other_share = typed(block.other.share, "other", (*at, "other", "share"))
    elif not numbers_known and block.dimension != "region":
        stated = [s for s in items["share"] if s is not None]
        remainder = 100 - float(sum(float(s) for s in stated))
        if remainder > 0.05:
            other_share = derived(
                remainder,
                max([decimals_printed(s) or 0 for s in stated] or [1]),
                "100 − the shares listed",
                [
                    as_input(s, english_name(label))
                    for label, s in zip(items["label"], items["share"], strict=True)
                ],
            )
    complete = other_share is not None or (
        numbers_known and total is not None and sum(int(n) for n in items["number"]) == total
    )
    return BreakdownFigures(block, total, items, other_number, other_share, complete)


# --- comparisons ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ComparisonFigures:
    block: model.ComparisonBlock
    values: pd.DataFrame  # period, value
    change: Figure | None
    ratio: Figure | None
    combined_total: Figure

    @property
    def first(self) -> Figure:
        return self.values["value"].iloc[0]

    @property
    def last(self) -> Figure:
        return self.values["value"].iloc[-1]

    @property
    def combined_period(self) -> Period | None:
        return Period.union([v.period for v in self.block.values])

    @property
    def changes_from_first(self) -> list[Figure | None]:
        """Each value's per cent change from the first (none for the first itself)."""
        values = list(self.values["value"])
        return [None, *(_change(v, values[0], "value") for v in values[1:])]


def comparison_figures(block: model.ComparisonBlock, at: Location = ()) -> ComparisonFigures:
    values = [
        typed(v.value, str(v.period), (*at, "values", i, "value"))
        for i, v in enumerate(block.values)
    ]
    table = pd.DataFrame(
        {"period": [v.period for v in block.values], "value": values}, dtype=object
    )
    first, last = values[0], values[-1]
    pair = [as_input(last, "last"), as_input(first, "first")]
    change = None
    ratio = None
    if first:
        computed = change_percent(last, first) or 0.0
        change = stated_or_computed(
            block.change,
            computed,
            exact(computed),
            1,
            "(last ÷ first − 1) × 100",
            pair,
            stated_at=(*at, "change"),
        )
        ratio = derived(last / first, 1, "last ÷ first", pair)
    summed = sum(int(v) for v in values)
    combined = stated_or_computed(
        block.total,
        summed,
        exact(summed),
        0,
        "sum of the values",
        [as_input(v, str(p)) for v, p in zip(values, table["period"], strict=True)],
        stated_at=(*at, "total"),
    )
    return ComparisonFigures(block, table, change, ratio, combined)


# --- remittances ---------------------------------------------------------------------------


def usd_mn(kzt_bn: float, rate: float) -> float:
    """Billions of tenge to millions of US dollars at `rate` tenge per dollar."""
    return kzt_bn * 1000 / rate


def _dollars(money: model.Money, kzt: Figure, rate: Figure, at: Location, what: str) -> Figure:
    """The dollar figure of a tenge amount: the source's own where it agrees with tenge ÷ rate
    within the rounding of both (the central bank's dollars are the more precise), computed
    where the source gives none or one its tenge figure contradicts."""
    computed = usd_mn(float(kzt), float(rate))
    kzt_range = published(money.kzt_bn)
    rate_range = published(Decimal(str(float(rate))))
    return stated_or_computed(
        money.usd_mn,
        computed,
        divide(scale(kzt_range, 1000), rate_range),
        1,
        f"{what} in billions of KZT × 1,000 ÷ KZT per USD",
        [as_input(kzt, f"{what}, billion KZT"), as_input(rate, "KZT per USD")],
        stated_at=(*at, "usd_mn"),
    )


@dataclass(frozen=True)
class EarlierFigures:
    source: model.EarlierRemittances
    relation: Relation
    total_kzt: Figure
    total_usd: Figure | None
    monthly_average_kzt: Figure
    monthly_average_usd: Figure | None
    change: Figure | None  # per cent, current against this period (monthly averages)
    rate: Figure | None  # KZT per USD in that period, where the source gives it
    change_kzt: Figure | None = None  # billions of KZT, current total minus this one


@dataclass(frozen=True)
class DollarComparison:
    """One row of a year-on-year comparison in dollars: the total (`country` None) or a
    country whose change the source states (its earlier amount is implied by that change)."""

    country: str | None
    earlier_usd: Figure
    current_usd: Figure
    change_kzt: Figure | None  # the change in tenge, as the text gives it
    change_usd: Figure | None  # the change in dollars, at each period's rate


@dataclass(frozen=True)
class RemittanceFigures:
    block: model.RemittancesBlock
    rate: Figure
    total_kzt: Figure
    total_usd: Figure
    monthly_average_kzt: Figure
    monthly_average_usd: Figure
    months: pd.DataFrame  # month, kzt_bn, usd_mn
    countries: pd.DataFrame  # country, kzt_bn, usd_mn, share, change (as published)
    earlier: list[EarlierFigures] = field(default_factory=list)
    transactions: Figure | None = None

    @property
    def months_sum_kzt(self) -> float | None:
        return float(sum(self.months["kzt_bn"])) if len(self.months) else None

    def earlier_by(self, wanted: Relation) -> EarlierFigures | None:
        return next((e for e in self.earlier if e.relation == wanted), None)

    def dollar_comparison(self) -> list[DollarComparison]:
        """The total, then each country with a stated change, in dollars at each period's
        rate, against the same period a year before; empty when that period has no dollars."""
        before = self.earlier_by("year_before")
        if before is None or before.total_usd is None:
            return []
        rows = [
            DollarComparison(
                None,
                before.total_usd,
                self.total_usd,
                before.change,
                _change(self.total_usd, before.total_usd, "total"),
            )
        ]
        for country, kzt, usd, change in zip(
            self.countries["country"],
            self.countries["kzt_bn"],
            self.countries["usd_mn"],
            self.countries["change"],
            strict=True,
        ):
            if change is None or pd.isna(change) or before.rate is None:
                continue
            earlier = derived(
                usd_mn(kzt / (1 + change / 100), before.rate),
                1,
                "amount now ÷ (1 + change ÷ 100) × 1,000 ÷ that period's KZT per USD",
                [
                    as_input(kzt, f"{english_name(country)}, billion KZT"),
                    as_input(change, "change, per cent"),
                    as_input(before.rate, "KZT per USD then"),
                ],
            )
            rows.append(
                DollarComparison(
                    country, earlier, usd, change, _change(usd, earlier, english_name(country))
                )
            )
        return rows


def _change(now: Figure, then: Figure, what: str) -> Figure | None:
    """The per cent change from `then` to `now`."""
    change = change_percent(now, then)
    if change is None:
        return None
    return derived(
        change,
        1,
        "(now ÷ then − 1) × 100",
        [as_input(now, f"{what} now"), as_input(then, f"{what} then")],
    )


def _earlier(
    block: model.RemittancesBlock, total: Figure, earlier: model.EarlierRemittances, at: Location
) -> EarlierFigures:
    months = earlier.period.months
    kind, amount, factor = earlier.stated_amount
    stated = typed(amount, f"{earlier.period}, billion KZT", (*at, kind, "kzt_bn"))
    if factor == 1:
        total_kzt = stated
        average_kzt = derived(
            float(stated) / months, 2, "total ÷ months", [as_input(stated, "total")]
        )
    else:
        average_kzt = stated
        total_kzt = derived(
            float(amount * factor), 1, "monthly average × months", [as_input(stated, "average")]
        )
    total_usd: Figure | None = None
    average_usd: Figure | None = None
    money = earlier.total if kind == "total" else earlier.monthly_average
    assert money is not None
    if earlier.rate is not None:
        rate = typed(earlier.rate, "KZT per USD", (*at, "rate"))  # its full precision
        stated_usd = _dollars(money, stated, rate, (*at, kind), str(earlier.period))
    elif money.usd_mn is not None:
        stated_usd = typed(money.usd_mn, "million USD", (*at, kind, "usd_mn"))
    else:
        stated_usd = None
    if stated_usd is not None and factor == 1:
        total_usd = stated_usd
        average_usd = derived(
            float(stated_usd) / months, 1, "total ÷ months", [as_input(stated_usd, "total")]
        )
    elif stated_usd is not None:
        average_usd = stated_usd
        total_usd = derived(
            float(stated_usd) * factor, 1, "average × months", [as_input(stated_usd, "average")]
        )
    computed = change_per_month(total, block.period.months, total_kzt, months)
    change = None
    if computed is not None:
        now_range = scale(published(block.total.kzt_bn), 1 / block.period.months)
        before_range = scale(published(amount), 1 / (months if factor == 1 else 1))
        ratio = divide(now_range, before_range)
        change = stated_or_computed(
            earlier.change,
            computed,
            ((ratio[0] - 1) * 100, (ratio[1] - 1) * 100),
            1,
            "(monthly average now ÷ monthly average then − 1) × 100",
            [as_input(total, "total now, billion KZT"), as_input(total_kzt, "total then")],
            stated_at=(*at, "change"),
        )
    return EarlierFigures(
        source=earlier,
        relation=relation(block.period, earlier.period),
        total_kzt=total_kzt,
        total_usd=total_usd,
        monthly_average_kzt=average_kzt,
        monthly_average_usd=average_usd,
        change=change,
        rate=None
        if earlier.rate is None
        else _rate(earlier.rate, earlier.rate_basis, (*at, "rate")),
        change_kzt=_change_kzt(block, total, earlier, total_kzt, at),
    )


def _change_kzt(
    block: model.RemittancesBlock,
    total: Figure,
    earlier: model.EarlierRemittances,
    total_then: Figure,
    at: Location,
) -> Figure | None:
    """The change in billions of tenge between two periods of the same length."""
    if earlier.period.months != block.period.months:
        return None
    difference = float(Decimal(str(float(total))) - Decimal(str(float(total_then))))
    now_range = published(block.total.kzt_bn)
    then_range = published(earlier.stated_amount[1])
    return stated_or_computed(
        earlier.change_kzt_bn,
        difference,
        (now_range[0] - then_range[1], now_range[1] - then_range[0]),
        1,
        "total now − total then",
        [as_input(total, "total now"), as_input(total_then, "total then")],
        stated_at=(*at, "change_kzt_bn"),
    )


def _rate(rate: Decimal, basis: str, at: Location) -> Figure:
    """KZT per USD as the report prints it: as the source states it, or, read off the
    source's dollar figures (1 / 0.0022 = 454.545…), to one decimal as rates are quoted."""
    stated = typed(rate, "KZT per USD", at)
    if basis != "implied":
        return stated
    return derived(
        float(rate), 1, "read off the source's dollar figures", [as_input(stated, "KZT per USD")]
    )


def remittance_figures(block: model.RemittancesBlock, at: Location = ()) -> RemittanceFigures:
    rate = _rate(block.rate, block.rate_basis, (*at, "rate"))
    total = typed(block.total.kzt_bn, "total, billion KZT", (*at, "total", "kzt_bn"))
    month_rows = []
    for i, a in enumerate(block.months):
        here = (*at, "months", i)
        kzt = typed(a.kzt_bn, str(a.month), (*here, "kzt_bn"))
        month_rows.append(
            {"month": a.month, "kzt_bn": kzt, "usd_mn": _dollars(a, kzt, rate, here, str(a.month))}
        )
    months = pd.DataFrame(month_rows, columns=["month", "kzt_bn", "usd_mn"], dtype=object)
    country_rows = []
    for i, c in enumerate(block.countries):
        here = (*at, "countries", i)
        name = english_name(c.country)
        kzt = typed(c.kzt_bn, name, (*here, "kzt_bn"))
        share_range = divide(published(c.kzt_bn), published(block.total.kzt_bn))
        computed_share = percent(float(kzt), float(total)) or 0.0
        country_rows.append(
            {
                "country": c.country,
                "kzt_bn": kzt,
                "usd_mn": _dollars(c, kzt, rate, here, name),
                "share": stated_or_computed(
                    c.share,
                    computed_share,
                    scale(share_range, 100),
                    1,
                    f"{name} ÷ total × 100",
                    [as_input(kzt, name), as_input(total, "total")],
                    stated_at=(*here, "share"),
                ),
                "change": None
                if c.change is None
                else typed(c.change, "change", (*here, "change")),
            }
        )
    countries = pd.DataFrame(
        country_rows, columns=["country", "kzt_bn", "usd_mn", "share", "change"], dtype=object
    )
    countries["_sort"] = [float(k) for k in countries["kzt_bn"]]
    countries = countries.sort_values("_sort", ascending=False, kind="stable")
    countries = countries.drop(columns="_sort").reset_index(drop=True)
    n = block.period.months
    average = block.monthly_average
    average_kzt = stated_or_computed(
        None if average is None else average.kzt_bn,
        float(total) / n,
        scale(published(block.total.kzt_bn), 1 / n),
        1,
        f"total ÷ {n} months",
        [as_input(total, "total, billion KZT")],
        stated_at=(*at, "monthly_average", "kzt_bn"),
    )
    total_usd = _dollars(block.total, total, rate, (*at, "total"), "total")
    average_usd = stated_or_computed(
        None if average is None else average.usd_mn,
        float(total_usd) / n,
        scale(published(Decimal(str(float(total_usd)))), 1 / n),
        1,
        f"total in USD ÷ {n} months",
        [as_input(total_usd, "total, million USD")],
        stated_at=(*at, "monthly_average", "usd_mn"),
    )
    earlier = [
        _earlier(block, total, e, (*at, "compare_with", i))
        for i, e in enumerate(block.compare_with)
    ]
    transactions = block.transactions
    return RemittanceFigures(
        block,
        rate,
        total,
        total_usd,
        average_kzt,
        average_usd,
        months,
        countries,
        earlier,
        None
        if transactions is None
        else typed(transactions, "transactions", (*at, "transactions")),
    )


# --- migration of the population (permanent residence) ------------------------------------


@dataclass(frozen=True)
class PopulationMigrationFigures:
    """Net migration, and the year-before and CIS figures the published percentages imply."""

    block: model.PopulationMigrationBlock
    at: Location

    @property
    def arrivals(self) -> Figure:
        return typed(self.block.arrivals, "arrivals", (*self.at, "arrivals"))

    @property
    def departures(self) -> Figure:
        return typed(self.block.departures, "departures", (*self.at, "departures"))

    @property
    def net(self) -> Figure:
        net = self.arrivals - self.departures
        return stated_or_computed(
            self.block.net,
            net,
            exact(net),
            0,
            "arrivals − departures",
            [as_input(self.arrivals, "arrivals"), as_input(self.departures, "departures")],
            stated_at=(*self.at, "net"),
        )

    def stated(self, field_name: str, direction: str) -> Figure | None:
        """A published per cent of `change_on_year` or `cis_share`, with its place."""
        figures = getattr(self.block, field_name)
        value = getattr(figures, direction, None) if figures else None
        if value is None:
            return None
        return typed(value, field_name, (*self.at, field_name, direction))

    def year_before(self, direction: str) -> Figure | None:
        """Arrivals or departures a year before, as the published change implies (an
        estimate, to the nearest ten)."""
        change = self.stated("change_on_year", direction)
        if change is None:
            return None
        now = getattr(self, direction)
        return derived_count(
            round(now / (1 + float(change) / 100), -1),
            f"{direction} ÷ (1 + change ÷ 100), to the nearest ten",
            [as_input(now, direction), as_input(change, "change on the year, per cent")],
        )

    def cis(self, direction: str) -> Figure | None:
        """People from or to CIS countries, as the published share implies (an estimate, to
        the nearest ten)."""
        share = self.stated("cis_share", direction)
        if share is None:
            return None
        now = getattr(self, direction)
        return derived_count(
            round(now * float(share) / 100, -1),
            f"{direction} × CIS share ÷ 100, to the nearest ten",
            [as_input(now, direction), as_input(share, "CIS share, per cent")],
        )


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


def block_figures(block: model.Block, at: Location = ()) -> BlockFigures:
    """The figures of one block; `at` is the block's place in its file (the location of its
    kind key), so every figure can name the line it comes from."""
    body = block.body
    match body:
        case model.FlowsBlock():
            return flows_figures(body, at)
        case model.PermanentResidenceBlock():
            return permanent_residence_figures(body, at)
        case model.BreakdownBlock():
            return breakdown_figures(body, at)
        case model.ComparisonBlock():
            return comparison_figures(body, at)
        case model.RemittancesBlock():
            return remittance_figures(body, at)
        case model.PopulationMigrationBlock():
            return PopulationMigrationFigures(body, at)
    return None


@dataclass(frozen=True)
class PlacedBlock:
    """A block with its place in the file (for error locations) and its computed figures.

    A draft's block with pending figures has no figures; `pending` names what is missing.
    """

    location: tuple[str | int, ...]
    block: model.Block
    figures: BlockFigures
    pending: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        return self.block.kind


@dataclass(frozen=True)
class QuarterFigures:
    quarter_file: model.QuarterFile
    blocks: list[PlacedBlock]

    @property
    def quarter_id(self) -> str:
        """The quarter's id, 2023-Q3."""
        return self.quarter_file.quarter

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
        return Period.parse(self.quarter_id)

    def of_kind(self, kind: str) -> list[PlacedBlock]:
        return [b for b in self.blocks if b.kind == kind]


def iter_blocks(quarter: model.QuarterFile) -> list[tuple[tuple[str | int, ...], model.Block]]:
    """Every block with its location in the file, in reading order."""
    found: list[tuple[tuple[str | int, ...], model.Block]] = []
    for s, section in enumerate(quarter.sections):
        for b, block in enumerate(section.blocks):
            found.append((("sections", s, "blocks", b, block.kind), block))
        for u, sub in enumerate(section.subsections):
            for b, block in enumerate(sub.blocks):
                found.append((("sections", s, "subsections", u, "blocks", b, block.kind), block))
    return found


def compute(quarter: model.QuarterFile, pending: Sequence[Location] = ()) -> QuarterFigures:
    """Figures of every block; blocks with pending entries (drafts) are left uncomputed."""
    placed = []
    for location, block in iter_blocks(quarter):
        missing = tuple(
            format_location(where[len(location) :]) for where in pending if within(where, location)
        )
        figures = None if missing else block_figures(block, location)
        placed.append(PlacedBlock(location, block, figures, missing))
    return QuarterFigures(quarter, placed)
