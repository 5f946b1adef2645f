"""Consistency checks over a quarter's figures: what a report states against what its own
numbers give.

A published value is taken to mean the interval its printed decimals allow ("43.5" is
anything from 43.45 to 43.55), and a value computed from published inputs carries the
intervals of those inputs along (tenge amounts printed to 0.1 billion make dollar amounts
uncertain by about 0.1 million). A finding is raised only when the two intervals do not
meet, so rounding never raises one, and every real slip does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path

from mtmreport import compute as c
from mtmreport import model as m
from mtmreport.errors import printable
from mtmreport.history import History, describe
from mtmreport.load import Location, YamlDocument, format_location
from mtmreport.numbers import (
    Interval,
    add,
    decimals_of,
    divide,
    exact,
    meets,
    published,
    scale,
)
from mtmreport.periods import Period


@dataclass(frozen=True)
class Finding:
    """One inconsistency, located in the quarter file, with stated and computed values."""

    file: str
    line: int | None
    column: int | None
    field: str
    message: str
    stated: str = ""
    computed: str = ""
    code: str = "inconsistent"

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}:{self.column}"
        shown = [f"{k} {v}" for k, v in (("stated", self.stated), ("computed", self.computed)) if v]
        values = f" ({', '.join(shown)})" if shown else ""
        return printable(f"{where}: {self.field}: {self.message}{values}")

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class _Raw:
    """A finding before it is placed in the file."""

    location: Location
    message: str
    stated: str = ""
    computed: str = ""
    code: str = "inconsistent"


def _show(value: float, decimals: int = 1) -> str:
    if float(value).is_integer() and decimals == 0:
        return f"{int(value):,}"
    return f"{value:,.{decimals}f}"


def _shown(value: Decimal | int) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def _mid(interval: Interval) -> float:
    return (interval[0] + interval[1]) / 2


# --- checks shared by several blocks -------------------------------------------------------


def _share_check(
    where: Location, label: str, stated: Decimal | None, computed: Interval, of_what: str
) -> Iterator[_Raw]:
    if stated is None:
        return
    if float(stated) > 100:
        yield _Raw(where, f"the share of {label} is over 100 per cent", _shown(stated), "", "range")
    elif not meets(published(stated), computed):
        yield _Raw(
            where,
            f"the share of {label} does not match its count and {of_what}",
            f"{stated}%",
            f"{_show(_mid(computed), max(2, decimals_of(stated)))}%",
            "share",
        )


def _order_check(where: Location, labels: list[str], values: list[float]) -> Iterator[_Raw]:
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
            yield _Raw((*where, index), f"{label} is listed twice", code="duplicate")
        seen.add(label)


def _parts_total(
    where: Location, what: str, parts: list[int], total: int | None, used: int | None = None
) -> Iterator[_Raw]:
    """Parts listed under a total add up to more than it. `used`: the total the report builds
    on instead (a group total is never smaller than its listed parts)."""
    if total is not None and sum(parts) > total:
        instead = (
            f"; the report uses {used:,}, the sum of the members listed, instead" if used else ""
        )
        yield _Raw(
            where,
            f"the {what} listed add up to more than their stated total{instead}",
            f"{total:,}",
            f"{sum(parts):,}",
            "parts-exceed-total",
        )


def _shares_sum(where: Location, what: str, shares: list[Decimal]) -> Iterator[_Raw]:
    """Shares that make up a whole should add up to 100 within their printed rounding."""
    if not shares:
        return
    total = add(*(published(s) for s in shares))
    if not meets(total, exact(100.0)):
        yield _Raw(
            where,
            f"the shares of {what} add up to {_show(sum(float(s) for s in shares), 2)} per cent, "
            "not 100",
            "100%",
            f"{_show(sum(float(s) for s in shares), 2)}%",
            "shares-sum",
        )


def _shares_over_100(where: Location, what: str, shares: list[Decimal]) -> Iterator[_Raw]:
    """Shares of parts of a whole (not all of them listed) cannot exceed 100, within rounding."""
    if shares and add(*(published(s) for s in shares))[0] > 100:
        yield _Raw(
            where,
            f"the shares of {what} add up to more than 100 per cent",
            "≤ 100%",
            f"{_show(sum(float(s) for s in shares), 2)}%",
            "shares-sum",
        )


# --- flows ---------------------------------------------------------------------------------


def _flow(where: Location, name: str, flow: m.Flow, figures: c.FlowFigures) -> Iterator[_Raw]:
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
        )
    for key, group in groups.items():
        other = groups["non_cis" if key == "cis" else "cis"]
        # The denominator of the published shares: the group's stated total, else the rest.
        whole = group.total
        if whole is None and other.total is not None:
            whole = flow.total - other.total
        heading = "CIS" if key == "cis" else "non-CIS"
        numbers = [x.number for x in group.countries if x.number is not None]
        used = figures.cis_total if key == "cis" and figures.cis_total.trace.remark else None
        yield from _parts_total(
            (*where, key, "countries"), f"{heading} countries", numbers, whole, used
        )
        yield from _duplicates((*where, key, "countries"), [x.country for x in group.countries])
        for index, country in enumerate(group.countries):
            place = (*where, key, "countries", index)
            if c.is_cis(country.country) != (key == "cis"):
                member = (
                    "is a CIS member state" if c.is_cis(country.country) else "is not in the CIS"
                )
                yield _Raw(
                    (*place, "country"),
                    f"{country.country} is listed under {heading} {name} but {member}; the "
                    f"report counts its {country.number or 0:,} with the "
                    f"{'CIS' if c.is_cis(country.country) else 'non-CIS'} total",
                    heading,
                    "CIS" if c.is_cis(country.country) else "non-CIS",
                    "group",
                )
            if country.number is not None and whole:
                yield from _share_check(
                    (*place, "share"),
                    country.country,
                    country.share,
                    exact(country.number / whole * 100),
                    f"the {heading} total of {whole:,}",
                )
        if group.share is not None and group.total is not None and flow.total:
            yield from _share_check(
                (*where, key, "share"),
                f"{heading} {name}",
                group.share,
                exact(group.total / flow.total * 100),
                f"the total of {flow.total:,}",
            )


def _flows(where: Location, f: c.FlowsFigures) -> Iterator[_Raw]:
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
                    f"{country.country} has exactly the same number of arrivals and departures "
                    f"({country.number:,}); check that one was not copied from the other",
                    code="suspicious",
                )


# --- permanent residence -------------------------------------------------------------------


def _residence_count(where: Location, what: str, count: m.ResidenceCount) -> Iterator[_Raw]:
    numbers = [x.number for x in count.countries if x.number is not None]
    yield from _parts_total((*where, "countries"), what, numbers, count.total)
    yield from _duplicates((*where, "countries"), [x.country for x in count.countries])
    for index, country in enumerate(count.countries):
        if country.number is not None and count.total:
            yield from _share_check(
                (*where, "countries", index, "share"),
                country.country,
                country.share,
                exact(country.number / count.total * 100),
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


def _residence(where: Location, f: c.PermanentResidenceFigures) -> Iterator[_Raw]:
    block = f.block
    if block.total is not None and block.total != f.holders:
        yield _Raw(
            (*where, "total"),
            "the total of permanent residence permit holders differs from CIS plus non-CIS "
            f"holders ({block.cis.holders.total:,} + {block.non_cis.holders.total:,})",
            f"{block.total:,}",
            f"{f.holders:,}",
            "total",
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
            )
        for index, country in enumerate(group.holders.countries):
            if c.is_cis(country.country) != (key == "cis"):
                yield _Raw(
                    (*where, key, "holders", "countries", index, "country"),
                    f"{country.country} is listed among {heading} holders but "
                    f"{'is' if c.is_cis(country.country) else 'is not'} a CIS country",
                    code="group",
                )


# --- breakdowns and comparisons ------------------------------------------------------------


def _breakdown(where: Location, f: c.BreakdownFigures) -> Iterator[_Raw]:
    block = f.block
    items = block.items
    numbers = [i.number for i in items if i.number is not None]
    yield from _parts_total((*where, "items"), block.subject, numbers, block.total)
    yield from _duplicates((*where, "items"), [i.label for i in items])
    for index, item in enumerate(items):
        if item.number is not None and block.total:
            yield from _share_check(
                (*where, "items", index, "share"),
                item.label,
                item.share,
                exact(item.number / block.total * 100),
                f"the total of {block.total:,}",
            )
        elif item.share is not None and float(item.share) > 100:
            yield _Raw(
                (*where, "items", index, "share"),
                "a share over 100 per cent",
                str(item.share),
                "",
                "range",
            )
    key = [float(i.number) if i.number is not None else float(i.share or 0) for i in items]
    yield from _order_check((*where, "items"), [i.label for i in items], key)
    shares = [i.share for i in items if i.share is not None]
    if block.other is not None and block.other.share is not None:
        shares.append(block.other.share)
        yield from _shares_sum((*where, "items"), block.subject, shares)
    elif len(shares) == len(items) and block.dimension != "region":
        yield from _shares_over_100((*where, "items"), block.subject, shares)


def _comparison(where: Location, f: c.ComparisonFigures) -> Iterator[_Raw]:
    block = f.block
    if block.change is not None and f.change is not None:
        computed = exact(f.change)
        if not meets(published(block.change), computed):
            yield _Raw(
                (*where, "change"),
                f"the change in {block.subject} does not match its figures "
                f"({block.values[0].value:,} to {block.values[-1].value:,})",
                f"{block.change:+}%",
                f"{f.change:+.1f}%",
                "change",
            )
    if block.total is not None and block.total != f.combined_total:
        yield _Raw(
            (*where, "total"),
            f"the stated total of {block.subject} is not the sum of its periods",
            f"{block.total:,}",
            f"{f.combined_total:,}",
            "total",
        )
    periods = [v.period for v in block.values]
    if periods != sorted(periods):
        yield _Raw((*where, "values"), "the periods are not in time order", code="period")


# --- remittances ---------------------------------------------------------------------------


def _money_check(where: Location, what: str, money: m.Money, rate: Decimal) -> Iterator[_Raw]:
    """A dollar figure against its tenge figure at the period's rate."""
    if money.usd_mn is None:
        return
    computed = scale(published(money.kzt_bn), 1000 / float(rate))
    if not meets(published(money.usd_mn), computed):
        yield _Raw(
            (*where, "usd_mn"),
            f"the dollar amount of {what} does not match {money.kzt_bn} billion KZT at "
            f"{rate} KZT per USD",
            f"{money.usd_mn} million USD",
            f"{_show(_mid(computed), 1)} million USD",
            "conversion",
        )


def _remittances(where: Location, f: c.RemittanceFigures) -> Iterator[_Raw]:
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
                f"{_show(_mid(months_sum), 2)} billion KZT",
                "months-sum",
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
        computed = scale(total, 1 / block.period.months)
        if not meets(published(block.monthly_average.kzt_bn), computed):
            yield _Raw(
                (*where, "monthly_average", "kzt_bn"),
                f"the monthly average is not the period's total divided by its "
                f"{block.period.months} months",
                f"{block.monthly_average.kzt_bn} billion KZT",
                f"{_show(_mid(computed), 2)} billion KZT",
                "average",
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
            current = scale(total, 1 / block.period.months)
            _, amount, factor = earlier.stated_amount
            before = scale(published(amount), factor / earlier.period.months)  # a month's
            ratio = divide(current, before)
            computed = ((ratio[0] - 1) * 100, (ratio[1] - 1) * 100)
            if not meets(published(earlier.change), computed):
                yield _Raw(
                    (*place, "change"),
                    f"the change against {earlier.period} does not match the amounts",
                    f"{earlier.change:+}%",
                    f"{figures.change:+.1f}%",
                    "change",
                )
        if earlier.change_kzt_bn is not None and earlier.total is not None:
            difference = (
                total[0] - published(earlier.total.kzt_bn)[1],
                total[1] - published(earlier.total.kzt_bn)[0],
            )
            if not meets(published(earlier.change_kzt_bn), difference):
                yield _Raw(
                    (*place, "change_kzt_bn"),
                    f"the change in billion KZT against {earlier.period} is not the difference",
                    str(earlier.change_kzt_bn),
                    _show(_mid(difference), 1),
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
            _show(_mid(parts), 1),
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


def _population(where: Location, f: c.PopulationMigrationFigures) -> Iterator[_Raw]:
    block = f.block
    if block.net is not None and block.net != f.net:
        yield _Raw(
            (*where, "net"),
            f"net migration is not arrivals minus departures ({block.arrivals:,} − "
            f"{block.departures:,})",
            f"{block.net:+,}",
            f"{f.net:+,}",
            "balance",
        )
    for direction in ("arrivals", "departures"):
        share = getattr(block.cis_share, direction, None) if block.cis_share else None
        if share is not None and float(share) > 100:
            yield _Raw(
                (*where, "cis_share", direction),
                "a share over 100 per cent",
                f"{share}%",
                "",
                "range",
            )


# --- the quarter ---------------------------------------------------------------------------


def _block_period(block: m.Block) -> Period | None:
    return getattr(block.body, "period", None)


def _period_fits(where: Location, block: m.Block, quarter: Period) -> Iterator[_Raw]:
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


def _checks(placed: c.PlacedBlock, quarter: Period) -> Iterator[_Raw]:
    where = placed.location
    f = placed.figures
    yield from _period_fits(where, placed.block, quarter)
    match f:
        case c.FlowsFigures():
            yield from _flows(where, f)
        case c.PermanentResidenceFigures():
            yield from _residence(where, f)
        case c.BreakdownFigures():
            yield from _breakdown(where, f)
        case c.ComparisonFigures():
            yield from _comparison(where, f)
        case c.RemittanceFigures():
            yield from _remittances(where, f)
        case c.PopulationMigrationFigures():
            yield from _population(where, f)


def audit(figures: c.QuarterFigures, doc: YamlDocument) -> list[Finding]:
    """Every inconsistency in the quarter's figures, in file order."""
    findings = []
    for placed in figures.blocks:
        for raw in _checks(placed, figures.period):
            line, column = doc.position(raw.location)
            findings.append(
                Finding(
                    file=doc.name,
                    line=line,
                    column=column,
                    field=format_location(raw.location),
                    message=raw.message,
                    stated=raw.stated,
                    computed=raw.computed,
                    code=raw.code,
                )
            )
    return sorted(findings, key=lambda f: (f.line or 0, f.column or 0))


def cross_quarter(figures: c.QuarterFigures, doc: YamlDocument, history: History) -> list[Finding]:
    """Earlier-period figures this file states that the earlier quarter's own file contradicts."""
    findings = []
    for stated, held in history.contradictions(figures):
        line, column = doc.position(stated.location)
        findings.append(
            Finding(
                file=doc.name,
                line=line,
                column=column,
                field=format_location(stated.location),
                message=f"this file's figure for {stated.period} differs from the one in "
                f"data/quarters/{held.quarter}.yaml ({describe(stated.key).label})",
                stated=_show(stated.value, 1),
                computed=_show(held.value, 1),
                code="baseline",
            )
        )
    return findings


def write_findings(findings: list[Finding], folder: Path) -> None:
    """`audit.txt` for people and `audit.json` for tools, beside the report."""
    text = "\n".join(str(f) for f in findings)
    (folder / "audit.txt").write_text(text + ("\n" if text else ""), encoding="utf-8")
    payload = [f.to_dict() for f in findings]
    (folder / "audit.json").write_text(
        json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
