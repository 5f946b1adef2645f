"""Figures written in the report's text, checked against the figures the report computes.

A paragraph kept as published may state a figure the report also computes: "The third
quarter showed a double increase to 7.4 per cent" (India's share of non-CIS arrivals, which
the report computes as 7.7). This module reads the text blocks, intros, notes and
commentaries of a quarter file, finds the shares, counts and changes written in them, works
out what each is a figure *of* — a country, a group (CIS, non-CIS), a region or the whole; a
topic (arrivals, permanent residence, migrant workers…); a period — and compares it with
the one figure the report computes for that. A mismatch is returned with the line of the
quarter file the number is written on.

False alarms are worse than a missed check, so a written number is compared only when all
of this holds:

- it is a share ("7.4 per cent", "7.4%"), a change ("decreased by 43.3 per cent") or a count
  directly followed by what it counts ("16,500 arrivals"); dates, years, article and decree
  numbers, "50 ethnic Kazakhs", "a 14-day stay" and numbers in words are none of these;
- it is not hedged ("about", "over", "more than", "hardly exceeded", …);
- its country, group or region, its topic and its period are named in its sentence or,
  failing that, earlier in the same paragraph (a number with no country, group or region
  must name its topic and its period in its own sentence);
- exactly one figure of the report fits that description, and it is computed for the
  period the text speaks of.

A written count ending in zeros is taken as rounded to them (16,500 stands for 16,450 to
16,549).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import cache
from typing import Literal

import pandas as pd

from mtmreport import compute, model
from mtmreport.intervals import Interval, Verdict, exact, judge, published
from mtmreport.load import Location, YamlDocument, line_and_column, offset_of
from mtmreport.numbers import decimals_of
from mtmreport.periods import Period
from mtmreport.provenance import decimals_printed, trace_of
from mtmreport.reference import english_name, find_country
from mtmreport.reference.countries import all_countries
from mtmreport.reference.regions import all_regions, find_region

Measure = Literal["share", "count", "change"]


@dataclass(frozen=True)
class Fact:
    """A figure the report computes, described as text would name it."""

    entity: str  # a country's or region's reference name, "CIS", "non-CIS", or "" (the whole)
    topic: str  # one of TOPICS' names
    measure: Measure
    value: float
    period: Period
    what: str  # "India's share of non-CIS arrivals"
    shown: str  # "7.7 per cent (33,109 of 430,939)"
    # Other figures the same words could mean (India's share of *all* arrivals); the text
    # agrees with the report when it gives any of them.
    readings: tuple[float, ...] = ()
    group: str = ""  # the group a country's figure is counted in: "CIS" or "non-CIS"


@dataclass(frozen=True)
class Mismatch:
    """A number in the text that differs from the report's figure for what it describes."""

    location: Location  # the text field
    line: int | None  # where the number stands in the file
    column: int | None
    verdict: Verdict  # truncated or differs
    written: str  # "7.4 per cent"
    computed: str  # "7.7 per cent (33,109 of 430,939)"
    what: str  # "India's share of non-CIS arrivals in 2023-Q3"


# --- words -----------------------------------------------------------------------------------

# Topics in order of precedence: a phrase is claimed by the first topic that matches it, so
# "remittance inflows" is not also "arrivals" and "permanent residence" not "residence".
TOPICS: tuple[tuple[str, str], ...] = (
    ("permanent residence", r"permanent[ -]residen\w*"),
    ("temporary residence", r"temporary[ -]residen\w*"),
    ("migrant workers", r"\bworkers?\b|\blabou?r migra\w*|\bwork permits?\b"),
    ("visas", r"\bvisas?\b(?![-‑]free)"),
    (
        "remittance outflows",
        r"\bremittances? (?:outflows?|sent (?:abroad|from)\b)|\boutflows? of remittances",
    ),
    ("remittance inflows", r"\bremittances? (?:inflows?|sent to\b)|\binflows? of remittances"),
    ("remittances", r"\bremittances?\b|\bmoney transfers?\b"),
    ("arrivals", r"\barriv\w*|\bentr(?:y|ies)\b|\binflows?\b"),
    ("departures", r"\bdepart\w*|\boutflows?\b|\bemigra\w*"),
)
_TOPIC_PATTERNS = [(name, re.compile(pattern, re.IGNORECASE)) for name, pattern in TOPICS]

_NUMBER = re.compile(r"(?<![\w.,\-–/])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(?![\w\-–/]|[.,]\d)")
_PERCENT = re.compile(r"\s*(?:%|per\s?cent\b|percent\b)", re.IGNORECASE)
_COUNTED = re.compile(
    r"\s+(?:migrant\s+)?(?:arrivals?|departures?|migrants?|workers?|permits?|visas?|holders?|"
    r"people|persons|citizens|nationals|foreigners)\b",
    re.IGNORECASE,
)
_HEDGED = re.compile(
    r"\b(?:about|around|approximately|almost|nearly|over|more than|less than|fewer than|"
    r"up to|at least|at most|some|roughly|exceed\w*|under|above|below|close to|"
    r"in excess of)\s+$",
    re.IGNORECASE,
)
_CHANGE = re.compile(
    r"\b(?P<verb>increas\w*|decreas\w*|rose|risen|fell|fallen|grew|grown|drop\w*|declin\w*|"
    r"reduc\w*|up|down|rise|fall|growth|gain\w*)\s+(?:by|of)\s+$",
    re.IGNORECASE,
)
_DOWN = re.compile(r"^(?:decreas|fell|fall|drop|declin|reduc|down)", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+(?=[A-Z(“\"'])")

_ORDINAL = {"first": 1, "second": 2, "third": 3, "fourth": 4, "last": 4}
_MONTHS = [
    *("january", "february", "march", "april", "may", "june"),
    *("july", "august", "september", "october", "november", "december"),
]
_MONTH = "|".join(_MONTHS)
_PERIODS = re.compile(
    r"\b(?P<quarter>first|second|third|fourth|last) quarter(?: of (?P<qyear>\d{4}))?"
    r"|\bQ(?P<qn>[1-4])(?: of)?(?: (?P<qnyear>\d{4}))?\b"
    r"|\b(?P<half>first|second) half(?: of (?P<hyear>\d{4}))?"
    rf"|\b(?P<from>{_MONTH})\s*[–-]\s*(?P<to>{_MONTH}),?\s+(?P<myear>\d{{4}})"
    r"|\b(?:in|of|for|during|since|by) (?P<year>(?:19|20)\d{2})\b",
    re.IGNORECASE,
)
_GROUPS = re.compile(r"\bnon-CIS\b|\bCIS\b|\bCommonwealth of Independent States\b")


@cache
def _places() -> re.Pattern[str]:
    """Every spelling of a country or region the reference tables know, longest first;
    matched with their capitals, so that "turkey" or "china" as common words are not."""
    spellings: set[str] = set()
    for country in all_countries():
        spellings.update(s for s in (country.name, country.short_name, *country.aliases))
    for region in all_regions():
        spellings.update((region.name, *region.aliases))
    usable = sorted((s for s in spellings if len(s) > 3 and s[0].isupper()), key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(re.escape(s) for s in usable) + r")\b")


def topic_of(subject: str) -> str | None:
    """The topic a block's subject ("temporary residence permit holders") belongs to."""
    for name, pattern in _TOPIC_PATTERNS:
        if pattern.search(subject):
            return name
    return None


def _entity_name(label: str, home: str) -> str | None:
    country = find_country(label)
    if country is not None:
        return None if country.name == home else country.name
    region = find_region(label)
    return region.name if region is not None else None


# --- what the report computes ------------------------------------------------------------


def _share_text(share: float, part: float, whole: float) -> str:
    """ "7.7 per cent, 33,109 of 430,939": the share as the report prints it (a stated one
    with its own decimals), with what it is worked out from."""
    decimals = decimals_printed(share)
    return f"{share:.{1 if decimals is None else decimals}f} per cent, {part:,.0f} of {whole:,.0f}"


def _flow_facts(f: compute.FlowsFigures) -> Iterator[Fact]:
    period = f.block.period
    for topic, flow in (("arrivals", f.arrivals), ("departures", f.departures)):
        yield Fact("", topic, "count", flow.total, period, topic, f"{flow.total:,}")
        for group, total, share, table in (
            ("CIS", flow.cis_total, flow.cis_share, flow.cis),
            ("non-CIS", flow.non_cis_total, flow.non_cis_share, flow.non_cis),
        ):
            yield Fact(group, topic, "count", total, period, f"{group} {topic}", f"{total:,}")
            if share is not None:
                yield Fact(
                    group,
                    topic,
                    "share",
                    share,
                    period,
                    f"the share of {group} {topic}",
                    _share_text(share, total, flow.total),
                )
            for row in compute.table_rows(table):
                name = find_country(row.country)
                if name is None or pd.isna(row.number):
                    continue
                number = int(row.number)
                yield Fact(
                    name.name,
                    topic,
                    "count",
                    number,
                    period,
                    f"{name.short_name}'s {topic}",
                    f"{number:,}",
                )
                if row.share is not None:
                    yield Fact(
                        name.name,
                        topic,
                        "share",
                        row.share,
                        period,
                        f"{name.short_name}'s share of {group} {topic}",
                        _share_text(row.share, number, total),
                        () if row.share_of_all is None else (row.share_of_all,),
                        group,
                    )


def _residence_facts(f: compute.PermanentResidenceFigures) -> Iterator[Fact]:
    period, topic = f.block.period, "permanent residence"
    holders = f.holders
    yield Fact(
        "", topic, "count", holders, period, "permanent residence permit holders", f"{holders:,}"
    )
    for group, figures, share in (
        ("CIS", f.cis, f.cis_share),
        ("non-CIS", f.non_cis, f.non_cis_share),
    ):
        what = f"{group} permanent residence permit holders"
        yield Fact(group, topic, "count", figures.holders, period, what, f"{figures.holders:,}")
        if share is not None:
            yield Fact(
                group,
                topic,
                "share",
                share,
                period,
                f"the share of {what}",
                _share_text(share, figures.holders, holders),
            )
        for row in compute.table_rows(figures.holders_by_country):
            name = find_country(row.country)
            if name is None or row.estimated or pd.isna(row.number):
                continue
            number = int(row.number)
            label = f"permanent residence permit holders from {name.short_name}"
            yield Fact(name.name, topic, "count", number, period, label, f"{number:,}")
            if row.share is not None:
                yield Fact(
                    name.name,
                    topic,
                    "share",
                    row.share,
                    period,
                    f"{name.short_name}'s share of {group} permanent residence permit holders",
                    _share_text(row.share, number, figures.holders),
                    () if row.share_of_all is None else (row.share_of_all,),
                    group,
                )


def _breakdown_facts(f: compute.BreakdownFigures, home: str) -> Iterator[Fact]:
    block = f.block
    topic = topic_of(block.subject)
    if topic is None:
        return
    period = block.period
    if block.total is not None:
        yield Fact("", topic, "count", block.total, period, block.subject, f"{block.total:,}")
    for row in compute.table_rows(f.items):
        entity = _entity_name(row.label, home)
        if entity is None:
            continue  # a category, or the report's own country
        has_number = not pd.isna(row.number)
        if has_number:
            number = int(row.number)
            what = f"{block.subject} from {english_name(row.label)}"
            yield Fact(entity, topic, "count", number, period, what, f"{number:,}")
        if not pd.isna(row.share):
            shown = (
                _share_text(row.share, int(row.number), block.total)
                if has_number and block.total
                else f"{row.share:.1f} per cent"
            )
            what = f"{english_name(row.label)}'s share of {block.subject}"
            yield Fact(entity, topic, "share", row.share, period, what, shown)


def _comparison_facts(f: compute.ComparisonFigures) -> Iterator[Fact]:
    block = f.block
    topic = topic_of(block.subject)
    if topic is None:
        return
    for value in block.values:
        yield Fact("", topic, "count", value.value, value.period, block.subject, f"{value.value:,}")
    if f.change is not None:
        first, last = block.values[0], block.values[-1]
        yield Fact(
            "",
            topic,
            "change",
            f.change,
            last.period,
            f"the change in {block.subject} from {first.period}",
            f"{f.change:+.1f} per cent, {first.value:,} to {last.value:,}",
        )


def _remittance_facts(f: compute.RemittanceFigures) -> Iterator[Fact]:
    block = f.block
    topic = "remittance outflows" if block.direction == "outflow" else "remittance inflows"
    for row in compute.table_rows(f.countries):
        name = find_country(row.country)
        if name is None:
            continue
        yield Fact(
            name.name,
            topic,
            "share",
            row.share,
            block.period,
            f"{name.short_name}'s share of {topic}",
            f"{row.share:.1f} per cent, {row.kzt_bn:g} of {f.total_kzt:g} billion KZT",
        )


def facts(figures: compute.QuarterFigures) -> list[Fact]:
    """Every figure of the quarter that text could state: shares, counts, changes."""
    home = _home(figures)
    found: list[Fact] = []
    for placed in figures.blocks:
        match placed.figures:
            case compute.FlowsFigures() as f:
                found.extend(_flow_facts(f))
            case compute.PermanentResidenceFigures() as f:
                found.extend(_residence_facts(f))
            case compute.BreakdownFigures() as f:
                found.extend(_breakdown_facts(f, home))
            case compute.ComparisonFigures() as f:
                found.extend(_comparison_facts(f))
            case compute.RemittanceFigures() as f:
                found.extend(_remittance_facts(f))
    return found


# --- what the text says ------------------------------------------------------------------


@dataclass(frozen=True)
class Written:
    """A number in the text, read as a figure."""

    start: int  # offset in the text
    text: str  # as written, with its unit: "7.4 per cent"
    number: str  # "7.4"
    value: Decimal  # signed for a change
    half: float  # half a unit of its last significant digit
    measure: Measure


@dataclass
class _Context:
    """What the sentences so far in a paragraph have named, most recent last."""

    entity: str | None = None
    topic: str | None = None
    period: Period | None = None


def _mentions(sentence: str, quarter: Period, home: str) -> dict[str, list[tuple[int, object]]]:
    """Entities, topics and periods named in a sentence, each with its offset."""
    found: dict[str, list[tuple[int, object]]] = {"entity": [], "topic": [], "period": []}
    for match in _GROUPS.finditer(sentence):
        group = "non-CIS" if match.group(0) == "non-CIS" else "CIS"
        found["entity"].append((match.start(), group))
    for match in _places().finditer(sentence):
        name = _entity_name(match.group(0), home)
        if name is not None:
            found["entity"].append((match.start(), name))
    claimed: list[tuple[int, int]] = []
    for name, pattern in _TOPIC_PATTERNS:
        for match in pattern.finditer(sentence):
            if any(a <= match.start() < b for a, b in claimed):
                continue
            claimed.append(match.span())
            found["topic"].append((match.start(), name))
    for match in _PERIODS.finditer(sentence):
        period = _period(match, quarter)
        if period is not None:
            found["period"].append((match.start(), period))
    for kind in found:
        found[kind].sort(key=lambda item: item[0])
    return found


def _period(match: re.Match[str], quarter: Period) -> Period | None:
    year = quarter.year
    if match["quarter"]:
        if match["quarter"].lower() == "last" and not match["qyear"]:
            return quarter.previous()
        return Period.quarter(int(match["qyear"] or year), _ORDINAL[match["quarter"].lower()])
    if match["qn"]:
        return Period.quarter(int(match["qnyear"] or year), int(match["qn"]))
    if match["half"]:
        half = 1 if match["half"].lower() == "first" else 2
        return Period.parse(f"{match['hyear'] or year}-H{half}")
    if match["from"]:
        first = _MONTHS.index(match["from"].lower()) + 1
        last = _MONTHS.index(match["to"].lower()) + 1
        if last < first:
            return None
        return Period.parse(f"{match['myear']}-{first:02d}..{match['myear']}-{last:02d}")
    if match["year"]:
        return Period.parse(match["year"])
    return None


def _written(sentence: str) -> Iterator[Written]:
    for match in _NUMBER.finditer(sentence):
        before, after = sentence[: match.start()], sentence[match.end() :]
        if _HEDGED.search(before[-30:]):
            continue
        digits = match.group(1).replace(",", "") + (match.group(2) or "")
        value = Decimal(digits)
        half = 0.5 * 10 ** -decimals_of(value)
        if unit := _PERCENT.match(after):
            change = _CHANGE.search(before[-40:])
            measure: Measure = "change" if change else "share"
            if change and _DOWN.match(change["verb"]):
                value = -value
        elif unit := _COUNTED.match(after):
            measure = "count"
            if match.group(2):
                continue  # "2.5 migrants" is no count
            zeros = len(digits) - len(digits.rstrip("0"))
            half = 0.5 * 10**zeros
        else:
            continue
        text = match.group(0) + unit.group(0)
        yield Written(match.start(), text.strip(), match.group(0), value, half, measure)


def _nearest(mentions: list[tuple[int, object]], offset: int) -> object | None:
    """The mention nearest before `offset`, else the nearest after it."""
    before = [what for at, what in mentions if at < offset]
    if before:
        return before[-1]
    return mentions[0][1] if mentions else None


_CLAUSE_END = re.compile(r",(?!\d)|[;:]|\band\b")  # not the comma of 33,109


def _entity_of(mentions: list[tuple[int, object]], sentence: str, offset: int) -> object | None:
    """The country, group or region a number at `offset` is a figure of: the one named in
    its own clause ("7.4 per cent (33,109 migrants) from India"), the nearest if several,
    else the sentence's nearest before it, else after it."""
    start = max((m.end() for m in _CLAUSE_END.finditer(sentence, 0, offset)), default=0)
    end = next((m.start() for m in _CLAUSE_END.finditer(sentence, offset)), len(sentence))
    inside = [(abs(at - offset), what) for at, what in mentions if start <= at < end]
    # "India's share of non-CIS arrivals": a country or region named beside a group is what
    # the figure is of; the group only qualifies it.
    places = [item for item in inside if item[1] not in ("CIS", "non-CIS")]
    if places or inside:
        return min(places or inside, key=lambda item: item[0])[1]
    return _nearest(mentions, offset)


def _read_paragraph(text: str, quarter: Period, home: str) -> Iterator[tuple[Written, dict]]:
    """Each figure written in a paragraph with what it is a figure of."""
    if next(_written(text), None) is None:
        return  # most paragraphs state no figure: no need to read what they name
    context = _Context()
    offset = 0
    for sentence in _SENTENCE_END.split(text):
        start = text.index(sentence, offset)
        offset = start + len(sentence)
        named = _mentions(sentence, quarter, home)
        for written in _written(sentence):
            entity = _entity_of(named["entity"], sentence, written.start)
            topic = _nearest(named["topic"], written.start)
            period = _nearest(named["period"], written.start)
            if entity is None:
                entity = context.entity  # the sentence goes on about the paragraph's country
            if entity is None and (topic is None or period is None):
                continue  # a figure of the whole names its topic and period itself
            about = {
                "groups": {what for _, what in named["entity"] if what in ("CIS", "non-CIS")},
                "entity": entity,
                "topic": topic if topic is not None else context.topic,
                "period": period if period is not None else context.period,
            }
            yield replace(written, start=start + written.start), about
        for kind in ("entity", "topic", "period"):
            if named[kind]:
                setattr(context, kind, named[kind][-1][1])


def _fits(fact: Fact, written: Written, about: dict) -> bool:
    topic = about["topic"]
    if topic is None or fact.measure != written.measure:
        return False
    if not (fact.topic == topic or (topic == "remittances" and fact.topic.startswith(topic[:-1]))):
        return False
    if (about["entity"] or "") != fact.entity:
        return False
    if fact.group and about["groups"] and fact.group not in about["groups"]:
        return False  # "Belarus, 3.9 per cent of non-CIS arrivals": the report has no such share
    return about["period"] is None or about["period"] == fact.period


def _range(value: float) -> Interval:
    """What a figure of the report stands for: a share the source states (and compute kept,
    since the computation agrees) stands for every value that rounds to it, the source's
    "90" per cent for 89.5 to 90.5; a computed one for itself."""
    trace = trace_of(value)
    decimals = decimals_printed(value)
    if trace is None or trace.basis != "stated" or decimals is None:
        return exact(float(value))
    return published(Decimal(f"{float(value):.{decimals}f}"))


def _verdict(fact: Fact, written: Written) -> Verdict:
    verdicts = {judge(written.value, _range(v), written.half) for v in (fact.value, *fact.readings)}
    for verdict in ("agrees", "truncated"):
        if verdict in verdicts:
            return verdict  # type: ignore[return-value]
    return "differs"


def _texts(
    quarter: model.QuarterFile, figures: compute.QuarterFigures
) -> Iterator[tuple[Location, str]]:
    """Every Markdown text of the file that can state figures, with its location."""
    for index, item in enumerate(quarter.front):
        yield ("front", index, "text"), item.text
    for placed in figures.blocks:
        body, where = placed.block.body, placed.location
        if isinstance(body, model.TextBlock):
            if body.intro:
                yield (*where, "intro"), body.intro
            for key in ("paragraphs", "bullets"):
                for index, paragraph in enumerate(getattr(body, key)):
                    yield (*where, key, index, "text"), paragraph.text
            continue
        for key in ("intro", "note", "commentary"):
            text = getattr(body, key, None)
            if isinstance(text, str):
                yield (*where, key), text


def _locate(doc: YamlDocument, location: Location, text: str, written: Written) -> tuple:
    """The line and column of a written number in the file: the same occurrence of the same
    digits after the place where the text's key stands (YAML folds lines, not digits)."""
    line, column = doc.position(location)
    if line is None or not doc.text:
        return line, column
    pattern = re.compile(r"(?<![\w.,])" + re.escape(written.number) + r"(?![\w]|[.,]\d)")
    occurrence = sum(1 for match in pattern.finditer(text) if match.start() < written.start)
    offset = offset_of(doc.text, line, column or 1)
    for index, match in enumerate(pattern.finditer(doc.text, offset)):
        if index == occurrence:
            return line_and_column(doc.text, match.start())
    return line, column


def _home(figures: compute.QuarterFigures) -> str:
    """The report's own country: text names it all the time, and it has no figures as a
    partner country."""
    home = find_country(figures.quarter_file.report.country) or find_country("Kazakhstan")
    return home.name if home else "Kazakhstan"


def check_text(
    text: str, figures: compute.QuarterFigures, known: list[Fact] | None = None
) -> list[tuple[Written, Fact, Verdict]]:
    """The figures written in one paragraph that differ from the report's (or are its
    figures truncated), each with the report's figure it was read as."""
    known = facts(figures) if known is None else known
    found = []
    for written, about in _read_paragraph(text, figures.period, _home(figures)):
        candidates = [fact for fact in known if _fits(fact, written, about)]
        if len({round(fact.value, 9) for fact in candidates}) != 1:
            continue  # nothing the report computes, or several figures the words could mean
        verdict = _verdict(candidates[0], written)
        if verdict != "agrees":
            found.append((written, candidates[0], verdict))
    return found


def check(figures: compute.QuarterFigures, doc: YamlDocument) -> list[Mismatch]:
    """Figures written in the quarter's text that differ from what the report computes,
    located at the line of the quarter file they are written on."""
    known = facts(figures)
    found = []
    for location, text in _texts(figures.quarter_file, figures):
        for written, fact, verdict in check_text(text, figures, known):
            line, column = _locate(doc, location, text, written)
            found.append(
                Mismatch(
                    location,
                    line,
                    column,
                    verdict,
                    written.text,
                    fact.shown,
                    f"{fact.what} in {fact.period}",
                )
            )
    return found
