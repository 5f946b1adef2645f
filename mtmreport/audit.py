"""Consistency checks over a quarter's figures: what a report states against what its own
numbers give.

A published value is taken to mean the interval its printed decimals allow ("43.5" is
anything from 43.45 to 43.55), and a value computed from published inputs carries the
intervals of those inputs along (tenge amounts printed to 0.1 billion make dollar amounts
uncertain by about 0.1 million); see `intervals`. A finding is raised only when the two
intervals do not meet, so rounding never raises one, and every real slip does. A stated
figure that is the computed one cut off at its last digit (29.6 for 29.65) is a minor
`truncated` finding; one that differs further is serious.

Each check that compares figures typed in the file also says how (a `Relation`), so that
where one typed figure, typed differently, would reconcile several serious findings at
once, the audit can solve for that value and say so (`one-input`). Figures written in the
text are checked by `narrative`.
"""

from __future__ import annotations

import copy
import json
from bisect import bisect_left
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from mtmreport import compute, model, narrative
from mtmreport.diagnostics import CODES, SERIOUS, SEVERITIES, Diagnostic, listing, ordered
from mtmreport.errors import display_path
from mtmreport.history import History
from mtmreport.intervals import (
    Interval,
    Verdict,
    add,
    divide,
    exact,
    judge,
    meets,
    published,
    scale,
)
from mtmreport.load import Location, YamlDocument, format_location
from mtmreport.numbers import decimals_of
from mtmreport.periods import Period
from mtmreport.provenance import shown
from mtmreport.reference import english_name

Figure = int | Decimal
Values = Sequence[Figure]


@dataclass(frozen=True)
class Relation:
    """A check as a function of the typed figures it reads, so that one of them can be solved
    for: which value, typed instead, would make the check pass with the others as they are."""

    figures: tuple[tuple[Location, Figure], ...]  # where each figure is typed, and its value
    stated: Callable[[Values], Interval]
    computed: Callable[[Values], Interval]

    def side(self, values: Values) -> int:
        """-1, 0 or 1: the computed value lies below, meets or lies above the stated one."""
        stated, computed = self.stated(values), self.computed(values)
        if meets(stated, computed):
            return 0
        return -1 if computed[1] < stated[0] else 1


@dataclass(frozen=True)
class _Raw:
    """A finding before it is placed in the file."""

    location: Location
    message: str
    stated: str = ""
    computed: str = ""
    code: str = ""
    relation: Relation | None = None
    line: int | None = None  # where the file's text puts it, when finer than `location`
    column: int | None = None


def _shown(value: Decimal | int) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def _mid(interval: Interval) -> float:
    return (interval[0] + interval[1]) / 2


def _mismatch(
    where: Location,
    verdict: Verdict,
    what: str,
    against: str,
    stated: str,
    computed: str,
    code: str,
    relation: Relation | None = None,
) -> Iterator[_Raw]:
    """A finding for a figure that does not agree: a truncation is minor whatever it is of."""
    if verdict == "truncated":
        message = f"{what} is truncated, not rounded (checked against {against})"
        yield _Raw(where, message, stated, computed, "truncated")
    elif verdict == "differs":
        yield _Raw(where, f"{what} does not match {against}", stated, computed, code, relation)


def _ratio(values: Values) -> Interval:
    """The share that a count (values[1]) is of a whole (values[2]), in per cent."""
    return exact(float(values[1]) / float(values[2]) * 100) if values[2] else (0.0, 0.0)


def _stated(values: Values) -> Interval:
    return published(values[0])


# --- checks shared by several blocks -------------------------------------------------------


def _share_check(
    where: Location,
    label: str,
    stated: Decimal | None,
    computed: Interval,
    of_what: str,
    relation: Relation | None = None,
) -> Iterator[_Raw]:
    if stated is None:
        return
    label = english_name(label)  # a place's ISO code, named for the analyst
    if float(stated) > 100:
        yield _Raw(
            where,
            f"the share of {label} is over 100 per cent",
            _shown(stated),
            "",
            "share-over-100",
        )
        return
    yield from _mismatch(
        where,
        judge(stated, computed),
        f"the share of {label}",
        f"its count and {of_what}",
        f"{stated}%",
        f"{shown(_mid(computed), max(2, decimals_of(stated)))}%",
        "share",
        relation,
    )


def _count_share(
    where: Location,
    label: str,
    stated: Decimal | None,
    number: tuple[Location, int],
    whole: tuple[Location, int],
    of_what: str,
) -> Iterator[_Raw]:
    """A stated share of a count in a whole, both typed in the file."""
    if stated is None:
        return
    relation = Relation(((where, stated), number, whole), _stated, _ratio)
    computed = _ratio((stated, number[1], whole[1]))
    yield from _share_check(where, label, stated, computed, of_what, relation)


def _order_check(where: Location, labels: list[str], values: list[float]) -> Iterator[_Raw]:
    labels = [english_name(label) for label in labels]
    for index in range(1, len(values)):
        if values[index] > values[index - 1]:
            yield _Raw(
                (*where, index),
                f"{labels[index]} ({values[index]:,g}) is listed after {labels[index - 1]} "
                f"({values[index - 1]:,g}) although its figure is larger",
                code="order",
            )


def _duplicates(where: Location, labels: list[str]) -> Iterator[_Raw]:
    seen: set[str] = set()
    for index, label in enumerate(labels):
        if label in seen:
            yield _Raw(
                (*where, index), f"{english_name(label)} is listed twice", code="listed-twice"
            )
        seen.add(label)


def _parts_total(
    where: Location,
    what: str,
    parts: list[tuple[Location, int]],
    total: int | None,
    total_at: Location | None = None,
    used: int | None = None,
) -> Iterator[_Raw]:
    """Parts listed under a total cannot add up to more than it. `total_at` is where the total
    is typed, when it is typed rather than derived; `used`, the total the report builds on
    instead (a group total is never smaller than its listed parts)."""
    added = sum(number for _, number in parts)
    if total is None or added <= total:
        return
    relation = None
    if total_at is not None:
        relation = Relation(
            ((total_at, total), *parts),
            lambda v: (float("-inf"), float(v[0])),
            lambda v: exact(float(sum(v[1:]))),
        )
    instead = f"; the report uses {used:,}, the sum of the members listed, instead" if used else ""
    yield _Raw(
        where,
        f"the {what} listed add up to more than their stated total{instead}",
        f"{total:,}",
        f"{added:,}",
        "parts-exceed-total",
        relation,
    )


def _shares_sum(where: Location, what: str, shares: list[Decimal]) -> Iterator[_Raw]:
    """Shares that make up a whole should add up to 100 within their printed rounding."""
    if not shares:
        return
    total = add(*(published(s) for s in shares))
    if not meets(total, exact(100.0)):
        yield _Raw(
            where,
            f"the shares of {what} add up to {shown(sum(float(s) for s in shares), 2)} per cent, "
            "not 100",
            "100%",
            f"{shown(sum(float(s) for s in shares), 2)}%",
            "shares-sum",
        )


def _shares_over_100(where: Location, what: str, shares: list[Decimal]) -> Iterator[_Raw]:
    """Shares of parts of a whole (not all of them listed) cannot exceed 100, within rounding."""
    if shares and add(*(published(s) for s in shares))[0] > 100:
        yield _Raw(
            where,
            f"the shares of {what} add up to more than 100 per cent",
            "≤ 100%",
            f"{shown(sum(float(s) for s in shares), 2)}%",
            "shares-sum",
        )


# --- flows ---------------------------------------------------------------------------------


def _flow(
    where: Location, name: str, flow: model.Flow, figures: compute.FlowFigures
) -> Iterator[_Raw]:
    groups = {"cis": flow.cis, "non_cis": flow.non_cis}
    cis_total, non_cis_total = flow.cis.total, flow.non_cis.total
    if (
        cis_total is not None
        and non_cis_total is not None
        and cis_total + non_cis_total != flow.total
    ):
        yield _Raw(
            (*where, "non_cis", "total"),
            f"CIS and non-CIS {name} do not add up to the total {flow.total:,}; the non-CIS "
            "figure should be the total minus the CIS figure",
            f"{non_cis_total:,}",
            f"{flow.total - cis_total:,}",
            "total",
            Relation(
                (
                    ((*where, "non_cis", "total"), non_cis_total),
                    ((*where, "total"), flow.total),
                    ((*where, "cis", "total"), cis_total),
                ),
                lambda v: exact(float(v[0])),
                lambda v: exact(float(v[1]) - float(v[2])),
            ),
        )
    for key, group in groups.items():
        other = groups["non_cis" if key == "cis" else "cis"]
        # The denominator of the published shares: the group's stated total, else the rest.
        whole = group.total
        whole_at: Location | None = (*where, key, "total")
        if whole is None and other.total is not None:
            whole, whole_at = flow.total - other.total, None
        heading = "CIS" if key == "cis" else "non-CIS"
        numbers = [
            ((*where, key, "countries", i, "number"), x.number)
            for i, x in enumerate(group.countries)
            if x.number is not None
        ]
        used = figures.cis_total if key == "cis" and figures.cis_total.trace.remark else None
        yield from _parts_total(
            (*where, key, "countries"), f"{heading} countries", numbers, whole, whole_at, used
        )
        yield from _duplicates((*where, key, "countries"), [x.country for x in group.countries])
        for index, country in enumerate(group.countries):
            place = (*where, key, "countries", index)
            if compute.is_cis(country.country) != (key == "cis"):
                member = (
                    "is a CIS member state"
                    if compute.is_cis(country.country)
                    else "is not in the CIS"
                )
                yield _Raw(
                    (*place, "country"),
                    f"{english_name(country.country)} is listed under {heading} {name} but "
                    f"{member}; the "
                    f"report counts its {country.number or 0:,} with the "
                    f"{'CIS' if compute.is_cis(country.country) else 'non-CIS'} total",
                    heading,
                    "CIS" if compute.is_cis(country.country) else "non-CIS",
                    "group",
                )
            if country.number is None or not whole:
                continue
            of_what = f"the {heading} total of {whole:,}"
            if whole_at is None:
                yield from _share_check(
                    (*place, "share"),
                    country.country,
                    country.share,
                    exact(country.number / whole * 100),
                    of_what,
                )
            else:
                yield from _count_share(
                    (*place, "share"),
                    country.country,
                    country.share,
                    ((*place, "number"), country.number),
                    (whole_at, whole),
                    of_what,
                )
        if group.share is not None and group.total is not None and flow.total:
            yield from _count_share(
                (*where, key, "share"),
                f"{heading} {name}",
                group.share,
                ((*where, key, "total"), group.total),
                ((*where, "total"), flow.total),
                f"the total of {flow.total:,}",
            )


def _flows(where: Location, f: compute.FlowsFigures) -> Iterator[_Raw]:
    block = f.block
    yield from _flow((*where, "arrivals"), "arrivals", block.arrivals, f.arrivals)
    yield from _flow((*where, "departures"), "departures", block.departures, f.departures)
    for key in ("cis", "non_cis"):
        arrivals = {
            x.country: (i, x.number) for i, x in enumerate(getattr(block.arrivals, key).countries)
        }
        for index, country in enumerate(getattr(block.departures, key).countries):
            match = arrivals.get(country.country)
            if match and country.number is not None and match[1] == country.number:
                yield _Raw(
                    (*where, "departures", key, "countries", index, "number"),
                    f"{english_name(country.country)} has exactly the same number of arrivals "
                    "and departures "
                    f"({country.number:,}); check that one was not copied from the other",
                    code="suspicious",
                )


# --- permanent residence -------------------------------------------------------------------


def _residence_count(where: Location, what: str, count: model.ResidenceCount) -> Iterator[_Raw]:
    numbers = [
        ((*where, "countries", i, "number"), x.number)
        for i, x in enumerate(count.countries)
        if x.number is not None
    ]
    yield from _parts_total((*where, "countries"), what, numbers, count.total, (*where, "total"))
    yield from _duplicates((*where, "countries"), [x.country for x in count.countries])
    for index, country in enumerate(count.countries):
        if country.number is not None and count.total:
            yield from _count_share(
                (*where, "countries", index, "share"),
                country.country,
                country.share,
                ((*where, "countries", index, "number"), country.number),
                ((*where, "total"), count.total),
                f"the total of {count.total:,}",
            )
    shares = [x.share for x in count.countries if x.share is not None]
    yield from _shares_over_100((*where, "countries"), what, shares)
    if count.children is not None and count.children > count.total:
        yield _Raw(
            (*where, "children"),
            f"more children than {what} in all",
            f"{count.children:,}",
            f"at most {count.total:,}",
            "parts-exceed-total",
        )


def _residence(where: Location, f: compute.PermanentResidenceFigures) -> Iterator[_Raw]:
    block = f.block
    if block.total is not None and block.total != f.holders:
        yield _Raw(
            (*where, "total"),
            "the total of permanent residence permit holders differs from CIS plus non-CIS "
            f"holders ({block.cis.holders.total:,} + {block.non_cis.holders.total:,})",
            f"{block.total:,}",
            f"{f.holders:,}",
            "total",
            Relation(
                (
                    ((*where, "total"), block.total),
                    ((*where, "cis", "holders", "total"), block.cis.holders.total),
                    ((*where, "non_cis", "holders", "total"), block.non_cis.holders.total),
                ),
                lambda v: exact(float(v[0])),
                lambda v: exact(float(v[1]) + float(v[2])),
            ),
        )
    for key, group, figures in (("cis", block.cis, f.cis), ("non_cis", block.non_cis, f.non_cis)):
        heading = "CIS" if key == "cis" else "non-CIS"
        yield from _residence_count((*where, key, "holders"), f"{heading} holders", group.holders)
        yield from _residence_count(
            (*where, key, "terminated"), f"{heading} terminations", group.terminated
        )
        if group.balance is not None and group.balance != figures.balance:
            yield _Raw(
                (*where, key, "balance"),
                f"the migration balance with {heading} countries is not holders minus "
                f"terminations ({group.holders.total:,} − {group.terminated.total:,})",
                f"{group.balance:+,}",
                f"{figures.balance:+,}",
                "balance",
                Relation(
                    (
                        ((*where, key, "balance"), group.balance),
                        ((*where, key, "holders", "total"), group.holders.total),
                        ((*where, key, "terminated", "total"), group.terminated.total),
                    ),
                    lambda v: exact(float(v[0])),
                    lambda v: exact(float(v[1]) - float(v[2])),
                ),
            )
        for index, country in enumerate(group.holders.countries):
            if compute.is_cis(country.country) != (key == "cis"):
                yield _Raw(
                    (*where, key, "holders", "countries", index, "country"),
                    f"{english_name(country.country)} is listed among {heading} holders but "
                    f"{'is' if compute.is_cis(country.country) else 'is not'} a CIS country",
                    code="group",
                )


# --- breakdowns and comparisons ------------------------------------------------------------


def _breakdown(where: Location, f: compute.BreakdownFigures) -> Iterator[_Raw]:
    block = f.block
    items = block.items
    numbers = [
        ((*where, "items", i, "number"), item.number)
        for i, item in enumerate(items)
        if item.number is not None
    ]
    yield from _parts_total(
        (*where, "items"), block.subject, numbers, block.total, (*where, "total")
    )
    yield from _duplicates((*where, "items"), [i.label for i in items])
    for index, item in enumerate(items):
        if item.number is not None and block.total:
            yield from _count_share(
                (*where, "items", index, "share"),
                item.label,
                item.share,
                ((*where, "items", index, "number"), item.number),
                ((*where, "total"), block.total),
                f"the total of {block.total:,}",
            )
        elif item.share is not None and float(item.share) > 100:
            yield _Raw(
                (*where, "items", index, "share"),
                "a share over 100 per cent",
                str(item.share),
                "",
                "share-over-100",
            )
    key = [float(i.number) if i.number is not None else float(i.share or 0) for i in items]
    yield from _order_check((*where, "items"), [i.label for i in items], key)
    shares = [i.share for i in items if i.share is not None]
    if block.other is not None and block.other.share is not None:
        shares.append(block.other.share)
        yield from _shares_sum((*where, "items"), block.subject, shares)
    elif len(shares) == len(items) and block.dimension != "region":
        yield from _shares_over_100((*where, "items"), block.subject, shares)


def _change(values: Values) -> Interval:
    """The change from values[1] to values[2], in per cent."""
    return exact((float(values[2]) / float(values[1]) - 1) * 100) if values[1] else (0.0, 0.0)


def _comparison(where: Location, f: compute.ComparisonFigures) -> Iterator[_Raw]:
    block = f.block
    first, last = block.values[0], block.values[-1]
    if block.change is not None and f.change is not None:
        yield from _mismatch(
            (*where, "change"),
            judge(block.change, exact(f.change)),
            f"the change in {block.subject}",
            f"its figures ({first.value:,} to {last.value:,})",
            f"{block.change:+}%",
            f"{f.change:+.1f}%",
            "change",
            Relation(
                (
                    ((*where, "change"), block.change),
                    ((*where, "values", 0, "value"), first.value),
                    ((*where, "values", len(block.values) - 1, "value"), last.value),
                ),
                _stated,
                _change,
            ),
        )
    if block.total is not None and block.total != f.combined_total:
        yield _Raw(
            (*where, "total"),
            f"the stated total of {block.subject} is not the sum of its periods",
            f"{block.total:,}",
            f"{f.combined_total:,}",
            "total",
            Relation(
                (
                    ((*where, "total"), block.total),
                    *(
                        ((*where, "values", i, "value"), v.value)
                        for i, v in enumerate(block.values)
                    ),
                ),
                lambda v: exact(float(v[0])),
                lambda v: exact(float(sum(v[1:]))),
            ),
        )
    periods = [v.period for v in block.values]
    if periods != sorted(periods):
        yield _Raw((*where, "values"), "the periods are not in time order", code="period-order")


# --- remittances ---------------------------------------------------------------------------


def _money_check(where: Location, what: str, money: model.Money, rate: Decimal) -> Iterator[_Raw]:
    """A dollar figure against its tenge figure at the period's rate."""
    if money.usd_mn is None:
        return
    computed = scale(published(money.kzt_bn), 1000 / float(rate))
    yield from _mismatch(
        (*where, "usd_mn"),
        judge(money.usd_mn, computed),
        f"the dollar amount of {english_name(what)}",
        f"{money.kzt_bn} billion KZT at {rate} KZT per USD",
        f"{money.usd_mn} million USD",
        f"{shown(_mid(computed), 1)} million USD",
        "conversion",
        Relation(
            (((*where, "usd_mn"), money.usd_mn), ((*where, "kzt_bn"), money.kzt_bn)),
            _stated,
            lambda v: scale(published(v[1]), 1000 / float(rate)),
        ),
    )


def _remittances(where: Location, f: compute.RemittanceFigures) -> Iterator[_Raw]:
    block = f.block
    rate = block.rate
    total = published(block.total.kzt_bn)
    yield from _money_check((*where, "total"), "the total", block.total, rate)
    if block.months:
        months_sum = add(*(published(a.kzt_bn) for a in block.months))
        if not meets(months_sum, total):
            yield _Raw(
                (*where, "months"),
                "the monthly amounts do not add up to the period's total",
                f"{block.total.kzt_bn} billion KZT",
                f"{shown(_mid(months_sum), 2)} billion KZT",
                "months-sum",
                Relation(
                    (
                        ((*where, "total", "kzt_bn"), block.total.kzt_bn),
                        *(
                            ((*where, "months", i, "kzt_bn"), a.kzt_bn)
                            for i, a in enumerate(block.months)
                        ),
                    ),
                    _stated,
                    lambda v: add(*(published(x) for x in v[1:])),
                ),
            )
        months = [a.month for a in block.months]
        expected = [Period.parse(f"{y}-{mo:02d}") for y, mo in block.period.month_list()]
        if sorted(months) != expected:
            yield _Raw(
                (*where, "months"),
                f"the months listed do not cover {block.period} exactly once each",
                ", ".join(str(p) for p in months),
                ", ".join(str(p) for p in expected),
                "period",
            )
    for index, month in enumerate(block.months):
        yield from _money_check((*where, "months", index), str(month.month), month, rate)
    if block.monthly_average is not None:
        months_count = block.period.months
        yield from _mismatch(
            (*where, "monthly_average", "kzt_bn"),
            judge(block.monthly_average.kzt_bn, scale(total, 1 / months_count)),
            "the monthly average",
            f"the period's total divided by its {months_count} months",
            f"{block.monthly_average.kzt_bn} billion KZT",
            f"{shown(_mid(scale(total, 1 / months_count)), 2)} billion KZT",
            "average",
            Relation(
                (
                    ((*where, "monthly_average", "kzt_bn"), block.monthly_average.kzt_bn),
                    ((*where, "total", "kzt_bn"), block.total.kzt_bn),
                ),
                _stated,
                lambda v: scale(published(v[1]), 1 / months_count),
            ),
        )
        yield from _money_check(
            (*where, "monthly_average"), "the monthly average", block.monthly_average, rate
        )
    for index, (earlier, figures) in enumerate(zip(block.compare_with, f.earlier, strict=True)):
        place = (*where, "compare_with", index)
        if earlier.rate is not None:
            for key in ("total", "monthly_average"):
                money = getattr(earlier, key)
                if money is not None:
                    yield from _money_check((*place, key), f"{earlier.period}", money, earlier.rate)
        if earlier.change is not None and figures.change is not None:
            amount_key, amount, factor = earlier.stated_amount
            months_now, months_then = block.period.months, earlier.period.months

            def change(
                values: Values,
                factor: float = factor,
                then: int = months_then,
                now: int = months_now,
            ) -> Interval:
                current = scale(published(values[1]), 1 / now)
                before = scale(published(values[2]), factor / then)  # a month's
                ratio = divide(current, before)
                return ((ratio[0] - 1) * 100, (ratio[1] - 1) * 100)

            figures_read = (
                ((*place, "change"), earlier.change),
                ((*where, "total", "kzt_bn"), block.total.kzt_bn),
            )
            relation = Relation(
                (*figures_read, ((*place, amount_key, "kzt_bn"), amount)), _stated, change
            )
            yield from _mismatch(
                (*place, "change"),
                judge(earlier.change, change((earlier.change, block.total.kzt_bn, amount))),
                f"the change against {earlier.period}",
                "the amounts",
                f"{earlier.change:+}%",
                f"{figures.change:+.1f}%",
                "change",
                relation,
            )
        if earlier.change_kzt_bn is not None and earlier.total is not None:
            difference = (
                total[0] - published(earlier.total.kzt_bn)[1],
                total[1] - published(earlier.total.kzt_bn)[0],
            )
            yield from _mismatch(
                (*place, "change_kzt_bn"),
                judge(earlier.change_kzt_bn, difference),
                f"the change in billion KZT against {earlier.period}",
                "the difference of the amounts",
                str(earlier.change_kzt_bn),
                shown(_mid(difference), 1),
                "change",
            )
        if earlier.period.overlaps(block.period) or earlier.period.first > block.period.first:
            yield _Raw(
                (*place, "period"),
                "an earlier period must come before the report's",
                str(earlier.period),
                str(block.period),
                "period",
            )
    yield from _duplicates((*where, "countries"), [x.country for x in block.countries])
    yield from _order_check(
        (*where, "countries"),
        [x.country for x in block.countries],
        [float(x.kzt_bn) for x in block.countries],
    )
    parts = add(*(published(x.kzt_bn) for x in block.countries)) if block.countries else None
    if parts and parts[0] > total[1]:
        yield _Raw(
            (*where, "countries"),
            "the countries add up to more than the total",
            f"{block.total.kzt_bn}",
            shown(_mid(parts), 1),
            "parts-exceed-total",
        )
    for index, country in enumerate(block.countries):
        place = (*where, "countries", index)
        yield from _money_check(place, country.country, country, rate)
        if country.share is not None:
            yield from _share_check(
                (*place, "share"),
                country.country,
                country.share,
                scale(divide(published(country.kzt_bn), total), 100),
                f"the period's total of {block.total.kzt_bn} billion KZT",
            )


# --- migration of the population -----------------------------------------------------------


def _population(where: Location, f: compute.PopulationMigrationFigures) -> Iterator[_Raw]:
    block = f.block
    if block.net is not None and block.net != f.net:
        yield _Raw(
            (*where, "net"),
            f"net migration is not arrivals minus departures ({block.arrivals:,} − "
            f"{block.departures:,})",
            f"{block.net:+,}",
            f"{f.net:+,}",
            "balance",
            Relation(
                (
                    ((*where, "net"), block.net),
                    ((*where, "arrivals"), block.arrivals),
                    ((*where, "departures"), block.departures),
                ),
                lambda v: exact(float(v[0])),
                lambda v: exact(float(v[1]) - float(v[2])),
            ),
        )
    for direction in ("arrivals", "departures"):
        share = getattr(block.cis_share, direction, None) if block.cis_share else None
        if share is not None and float(share) > 100:
            yield _Raw(
                (*where, "cis_share", direction),
                "a share over 100 per cent",
                f"{share}%",
                "",
                "share-over-100",
            )


# --- the quarter ---------------------------------------------------------------------------


def _block_period(block: model.Block) -> Period | None:
    return getattr(block.body, "period", None)


def _period_fits(where: Location, block: model.Block, quarter: Period) -> Iterator[_Raw]:
    period = _block_period(block)
    if period is None:
        return
    if period.as_of is not None:
        fits = quarter.first <= period.first <= quarter.last
    else:
        fits = period.last == quarter.last or period.within(quarter)
    if not fits:
        yield _Raw(
            (*where, "period"),
            f"the period {period} does not fit the report's quarter {quarter}: data blocks "
            "cover the quarter, or end with it (January–September), or are counted within it",
            str(period),
            str(quarter),
            "period",
        )


def _checks(placed: compute.PlacedBlock, quarter: Period) -> Iterator[_Raw]:
    where = placed.location
    f = placed.figures
    yield from _period_fits(where, placed.block, quarter)
    match f:
        case compute.FlowsFigures():
            yield from _flows(where, f)
        case compute.PermanentResidenceFigures():
            yield from _residence(where, f)
        case compute.BreakdownFigures():
            yield from _breakdown(where, f)
        case compute.ComparisonFigures():
            yield from _comparison(where, f)
        case compute.RemittanceFigures():
            yield from _remittances(where, f)
        case compute.PopulationMigrationFigures():
            yield from _population(where, f)


def _narrative(figures: compute.QuarterFigures, doc: YamlDocument) -> Iterator[_Raw]:
    """Figures written in the text that differ from those the report computes."""
    for found in narrative.check(figures, doc):
        what = f"the text's figure for {found.what}"
        against = "the report's figure"
        yield from (
            replace(raw, line=found.line, column=found.column)
            for raw in _mismatch(
                found.location,
                found.verdict,
                what,
                against,
                found.written,
                found.computed,
                "narrative",
            )
        )


def _raw_findings(figures: compute.QuarterFigures, doc: YamlDocument) -> list[_Raw]:
    found = [raw for placed in figures.blocks for raw in _checks(placed, figures.period)]
    return found + list(_narrative(figures, doc))


def _place(raw: _Raw, doc: YamlDocument) -> Diagnostic:
    line, column = (raw.line, raw.column) if raw.line else doc.position(raw.location)
    return Diagnostic(
        file=doc.name,
        line=line,
        column=column,
        field=format_location(raw.location),
        message=raw.message,
        stated=raw.stated,
        computed=raw.computed,
        code=raw.code,
    )


def audit(figures: compute.QuarterFigures, doc: YamlDocument) -> list[Diagnostic]:
    """Every inconsistency in the quarter's figures, most serious first, then in file order;
    and, where one typed figure would reconcile several of them, a finding that says so."""
    raws = _raw_findings(figures, doc)
    hints = list(_one_input(raws, figures, doc))
    return ordered(_place(raw, doc) for raw in [*raws, *hints])


# --- one corrected input for several findings ----------------------------------------------

_SEARCH_SPAN = 10**7  # steps of the figure's last digit searched on either side


def _step(value: Figure) -> int | Decimal:
    """One unit of a typed figure's last digit: 1 for a count, 0.1 for 280.6."""
    return Decimal(1).scaleb(-decimals_of(value)) if isinstance(value, Decimal) else 1


def _at(k: int, step: int | Decimal) -> Figure:
    """The figure `k` steps from zero, written with the same decimals."""
    return k if isinstance(step, int) else (k * step).quantize(step)


def _solutions(relation: Relation, index: int) -> tuple[int, int] | None:
    """The values figure `index` of `relation` could take, the others as typed, for the check
    to pass: as a range of steps of its last printed digit (whole numbers for a count).

    The checks are monotonic in each figure (sums, differences, ratios of positive
    figures), so the passing values form one range, found by bisection; a figure that is
    positive is kept positive (a zero count or total is no correction).
    """
    _, value = relation.figures[index]
    step = _step(value)
    current = int(value / step)
    low = 1 if value > 0 else current - _SEARCH_SPAN
    high = current + _SEARCH_SPAN

    def side(k: int) -> int:
        values = [figure for _, figure in relation.figures]
        values[index] = _at(k, step)
        return relation.side(values)

    direction = side(high) - side(low)
    if direction == 0:
        return None
    sign = 1 if direction > 0 else -1
    steps = range(low, high + 1)
    start = low + bisect_left(steps, 0, key=lambda k: sign * side(k))
    end = low + bisect_left(steps, 1, key=lambda k: sign * side(k))
    return (start, end - 1) if start < end else None


def _one_input(
    raws: list[_Raw], figures: compute.QuarterFigures, doc: YamlDocument
) -> Iterator[_Raw]:
    """For each typed figure that two or more serious findings read, the value that would
    reconcile the most of them at once, when there is one and it raises no new finding.

    Minor findings take no part: a truncation is not a slip to be explained by a typo.
    """
    readers: dict[Location, list[tuple[_Raw, int]]] = {}
    for raw in raws:
        if raw.relation is None or CODES[raw.code].severity is not SERIOUS:
            continue
        for index, (location, _) in enumerate(raw.relation.figures):
            readers.setdefault(location, []).append((raw, index))
    before = {(r.location, r.code) for r in raws}
    worst_before: dict[Location, int] = {}
    for r in raws:
        worst_before[r.location] = min(worst_before.get(r.location, 9), _rank(r.code))
    for location, reading in readers.items():
        if len(reading) < 2:
            continue
        ranges = [(raw, _solutions(raw.relation, i)) for raw, i in reading if raw.relation]
        solved = [(raw, span) for raw, span in ranges if span is not None]
        best = _most_covered([span for _, span in solved])
        if best is None:
            continue
        (low, high), count = best
        if count < 2:
            continue
        value = reading[0][0].relation.figures[reading[0][1]][1]  # type: ignore[union-attr]
        step = _step(value)
        current = int(value / step)
        # Within a bounded range the middle is the best guess (any value of it reconciles,
        # within rounding); a range open to one side ends nearest the typed value.
        bounded = high < current + _SEARCH_SPAN
        k = (low + high) // 2 if bounded else min(max(current, low), high)
        candidate = _at(k, step)
        resolved = [raw for raw, span in solved if span[0] <= k <= span[1]]
        after = _recheck(figures, doc, location, candidate)
        if after is None:
            continue
        gone = {(r.location, r.code) for r in resolved}
        # Not resolved after all, or something new or worse somewhere (a serious share
        # becoming a mere truncation is no harm).
        worse = [
            (where, code)
            for where, code in after - before
            if _rank(code) < worst_before.get(where, 9)
        ]
        if gone & after or worse:
            continue
        also = f" (or any value from {_shown(_at(low, step))} to {_shown(_at(high, step))})"
        also = also if bounded and low != high else ""
        reconciled = ", ".join(
            f"{_short_field(r.location)} {r.stated} (line {doc.position(r.location)[0]})"
            for r in resolved
        )
        yield _Raw(
            location,
            f"{_shown(candidate)}{also} typed here instead of {_shown(value)} would reconcile "
            f"{len(resolved)} findings at once: {reconciled}",
            _shown(value),
            _shown(candidate),
            "one-input",
        )


def _short_field(location: Location) -> str:
    """A finding's field within its block, as `non_cis.balance` or `total`."""
    kinds = set(model.BLOCK_KINDS)
    start = max((i + 1 for i, part in enumerate(location) if part in kinds), default=0)
    return format_location(location[start:]) or format_location(location)


def _rank(code: str) -> int:
    """How serious a code is: 0 for errors, then serious, then minor."""
    return SEVERITIES.index(CODES[code].severity)


def _most_covered(spans: list[tuple[int, int]]) -> tuple[tuple[int, int], int] | None:
    """The range covered by the most spans, and by how many (each span is a range of steps).

    The best range starts where one of the spans starts; the spans are few, so each start
    is tried in turn.
    """
    best: tuple[tuple[int, int], int] | None = None
    for start, _ in spans:
        covering = [span for span in spans if span[0] <= start <= span[1]]
        common = (start, min(high for _, high in covering))
        if best is None or len(covering) > best[1]:
            best = (common, len(covering))
    return best


def _recheck(
    figures: compute.QuarterFigures, doc: YamlDocument, location: Location, value: Figure
) -> set[tuple] | None:
    """The findings (as location and code) of the file with one figure typed differently.

    Only the block holding the figure is validated and computed again: the checks of the
    other blocks read none of its figures (the text's figures are checked again in full).
    """
    placed = next((p for p in figures.blocks if location[: len(p.location)] == p.location), None)
    if placed is None:
        return None
    data: Any = doc.data
    for part in placed.location[:-1]:
        data = data[part]
    changed = copy.deepcopy(data)
    holder = changed
    for part in location[len(placed.location) - 1 : -1]:
        holder = holder[part]
    holder[location[-1]] = value
    try:
        block = model.Block.model_validate(changed)
    except ValueError:  # pydantic's ValidationError: the value breaks a rule of the schema
        return None
    again = replace(placed, block=block, figures=compute.block_figures(block))
    blocks = [again if p is placed else p for p in figures.blocks]
    figures = replace(figures, blocks=blocks)
    found = [*_checks(again, figures.period), *_narrative(figures, doc)]
    others = {
        (r.location, r.code) for p in blocks if p is not again for r in _checks(p, figures.period)
    }
    return {(r.location, r.code) for r in found} | others


def cross_quarter(
    figures: compute.QuarterFigures, doc: YamlDocument, history: History
) -> list[Diagnostic]:
    """Earlier-period figures this file states that the earlier quarter's own file contradicts."""
    from mtmreport.wording import Wording  # the audit's English; kept out of its start

    english = Wording()
    findings = []
    for stated, held in history.contradictions(figures):
        line, column = doc.position(stated.location)
        findings.append(
            Diagnostic(
                file=doc.name,
                line=line,
                column=column,
                field=format_location(stated.location),
                message=f"this file's figure for {stated.period} differs from the one in "
                f"{display_path(doc.path.with_name(f'{held.quarter}.yaml'))} "
                f"({english.series_label(stated.key)})",
                stated=shown(stated.value, 1),
                computed=shown(held.value, 1),
                code="baseline",
            )
        )
    return findings


def write_findings(findings: list[Diagnostic], folder: Path) -> None:
    """`audit.txt` for people (by severity, each with its count) and `audit.json` for tools."""
    lines = listing(findings)
    text = "\n".join(lines)
    (folder / "audit.txt").write_text(text + ("\n" if text else ""), encoding="utf-8")
    payload = [f.to_dict() for f in ordered(findings)]
    (folder / "audit.json").write_text(
        json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
