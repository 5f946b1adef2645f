"""Reporting periods: quarters, half-years, years, months, month ranges and "as of" dates.

The published reports mix all of these (a quarter's flows, January–September permanent
residence, workers "as of 1 September"), so every data block names its period and the
tool reasons about them: how many months to average over, which earlier period a change is
measured against, whether a block's period fits the report's quarter. Wording lives in the
templates' strings; this module knows only the calendar.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from dataclasses import dataclass
from typing import Literal

PeriodKind = Literal["quarter", "half", "year", "month", "months", "as_of"]

# A quarter's id, as files, folders and the command line name it; the one spelling of it
# (JSON Schema's dialect too). ASCII digits and a true end: "٢٠٢٣-Q3" or "2023-Q3\n" only
# look like quarter ids.
QUARTER_ID_PATTERN = r"\d{4}-Q[1-4]"
QUARTER_ID = re.compile(rf"^{QUARTER_ID_PATTERN}\Z", re.ASCII)
_HALF = re.compile(r"^(\d{4})-H([12])\Z", re.ASCII)
_YEAR = re.compile(r"^(\d{4})\Z", re.ASCII)
_MONTH = re.compile(r"^(\d{4})-(\d{2})\Z", re.ASCII)
_RANGE = re.compile(r"^(\d{4})-(\d{2})\s*\.\.\s*(\d{4})-(\d{2})\Z", re.ASCII)
_DATE = re.compile(r"^(?:as of\s+)?(\d{4}-\d{2}-\d{2})\Z", re.ASCII)

PERIOD_HELP = (
    "write a period as 2023-Q3 (quarter), 2023-H1 (half-year), 2023 (year), 2023-07 (month), "
    "2023-01..2023-09 (months) or a date such as 2023-09-01 (as of that day)"
)


def _month_index(year: int, month: int) -> int:
    return year * 12 + (month - 1)


def _from_index(index: int) -> tuple[int, int]:
    return index // 12, index % 12 + 1


@dataclass(frozen=True, order=True)
class Period:
    """A span of whole months, or a single day for point-in-time counts."""

    first: int  # month index (year * 12 + month - 1) of the first month
    last: int  # month index of the last month, inclusive
    as_of: dt.date | None = None

    @classmethod
    def parse(cls, value: object) -> Period:
        if isinstance(value, Period):
            return value
        if isinstance(value, dt.datetime):
            value = value.date()
        if isinstance(value, dt.date):
            return cls.on(value)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise ValueError(f"expected a period, got {value!r}; {PERIOD_HELP}")
        text = value.strip()
        if QUARTER_ID.match(text):
            year, number = text.split("-Q")
            return cls.quarter(int(year), int(number))
        if m := _HALF.match(text):
            year, half = int(m[1]), int(m[2])
            return cls(_month_index(year, 6 * half - 5), _month_index(year, 6 * half))
        if m := _YEAR.match(text):
            year = int(m[1])
            return cls(_month_index(year, 1), _month_index(year, 12))
        if (m := _MONTH.match(text)) and 1 <= int(m[2]) <= 12:
            index = _month_index(int(m[1]), int(m[2]))
            return cls(index, index)
        if (m := _RANGE.match(text)) and 1 <= int(m[2]) <= 12 and 1 <= int(m[4]) <= 12:
            first, last = _month_index(int(m[1]), int(m[2])), _month_index(int(m[3]), int(m[4]))
            if last < first:
                raise ValueError(f"the period {text!r} ends before it starts")
            return cls(first, last)
        if m := _DATE.match(text):
            try:
                return cls.on(dt.date.fromisoformat(m[1]))
            except ValueError:
                pass
        raise ValueError(f"{text!r} is not a period; {PERIOD_HELP}")

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        return cls(_month_index(year, 3 * quarter - 2), _month_index(year, 3 * quarter))

    @classmethod
    def on(cls, day: dt.date) -> Period:
        index = _month_index(day.year, day.month)
        return cls(index, index, day)

    @property
    def kind(self) -> PeriodKind:
        if self.as_of is not None:
            return "as_of"
        (y1, m1), (y2, _) = self.start, self.end
        length = self.months
        if length == 1:
            return "month"
        if y1 == y2 and length == 3 and m1 % 3 == 1:
            return "quarter"
        if y1 == y2 and length == 6 and m1 in (1, 7):
            return "half"
        if y1 == y2 and length == 12:
            return "year"
        return "months"

    @property
    def start(self) -> tuple[int, int]:
        return _from_index(self.first)

    @property
    def end(self) -> tuple[int, int]:
        return _from_index(self.last)

    @property
    def year(self) -> int:
        return self.end[0]

    @property
    def months(self) -> int:
        """Number of calendar months covered (1 for an "as of" day)."""
        return self.last - self.first + 1

    @property
    def quarter_number(self) -> int | None:
        return (self.start[1] + 2) // 3 if self.kind == "quarter" else None

    @property
    def half_number(self) -> int | None:
        return (
            1 if self.kind == "half" and self.start[1] == 1 else 2 if self.kind == "half" else None
        )

    def month_list(self) -> list[tuple[int, int]]:
        return [_from_index(i) for i in range(self.first, self.last + 1)]

    def shifted(self, *, years: int = 0, months: int = 0) -> Period:
        step = years * 12 + months
        if self.as_of is not None:
            day = self.as_of
            year, month = _from_index(_month_index(day.year, day.month) + step)
            return Period.on(day.replace(year=year, month=month))
        return Period(self.first + step, self.last + step)

    def previous(self) -> Period:
        """The period of the same length just before this one (Q2 for Q3, H1 for H2)."""
        return self.shifted(months=-self.months)

    def year_before(self) -> Period:
        return self.shifted(years=-1)

    def within(self, other: Period) -> bool:
        return other.first <= self.first and self.last <= other.last

    def overlaps(self, other: Period) -> bool:
        return self.first <= other.last and other.first <= self.last

    @staticmethod
    def union(periods: list[Period]) -> Period | None:
        """The single period that the given contiguous, non-overlapping spans make up."""
        spans = sorted(p for p in periods if p.as_of is None)
        if not spans or len(spans) != len(periods):
            return None
        for before, after in itertools.pairwise(spans):
            if after.first != before.last + 1:
                return None
        return Period(spans[0].first, spans[-1].last)

    def __str__(self) -> str:
        if self.as_of is not None:
            return self.as_of.isoformat()
        (y1, m1), (y2, m2) = self.start, self.end
        match self.kind:
            case "quarter":
                return f"{y1}-Q{self.quarter_number}"
            case "half":
                return f"{y1}-H{self.half_number}"
            case "year":
                return f"{y1}"
            case "month":
                return f"{y1}-{m1:02d}"
        return f"{y1}-{m1:02d}..{y2}-{m2:02d}"

    def __repr__(self) -> str:
        return f"Period({str(self)!r})"


def parse_quarter_id(text: str) -> Period:
    """A report's own id, strictly `YYYY-QN`: it names files, so nothing else may pass."""
    if not QUARTER_ID.match(text):
        raise ValueError(f"{text!r} is not a quarter; write it as YYYY-QN, for example 2023-Q3")
    return Period.parse(text)
