"""Published figures as the intervals their printed digits allow, and how a stated figure
stands against a computed one.

"43.5" stands for anything from 43.45 to 43.55; a value computed from published inputs
carries their intervals along. The audit and the narrative check both judge a stated figure
this way, so that rounding never raises a finding and a truncation is told from a slip.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from mtmreport.numbers import half_unit

Interval = tuple[float, float]
Verdict = Literal["agrees", "truncated", "differs"]


def published(value: Decimal | int, half: float | None = None) -> Interval:
    """The values a printed number stands for, given its printed decimals (or `half`, half
    a unit of its last significant digit when that is not its last decimal: 16,500)."""
    half = half_unit(value) if half is None else half
    return (float(value) - half, float(value) + half)


def exact(value: float) -> Interval:
    return (value, value)


def meets(a: Interval, b: Interval, slack: float = 1e-9) -> bool:
    return a[0] <= b[1] + slack and b[0] <= a[1] + slack


def divide(a: Interval, b: Interval) -> Interval:
    """a / b for positive intervals."""
    if b[0] <= 0:
        return (float("-inf"), float("inf"))
    ends = [a[0] / b[0], a[0] / b[1], a[1] / b[0], a[1] / b[1]]
    return (min(ends), max(ends))


def add(*parts: Interval) -> Interval:
    return (sum(p[0] for p in parts), sum(p[1] for p in parts))


def scale(a: Interval, factor: float) -> Interval:
    ends = (a[0] * factor, a[1] * factor)
    return (min(ends), max(ends))


def judge(stated: Decimal | int, computed: Interval, half: float | None = None) -> Verdict:
    """How a stated figure stands against its computed value.

    `agrees` within the stated figure's rounding; `truncated` when it is the computed value
    cut off at its last printed digit (29.6 stated for 29.65: within one unit of that digit,
    towards zero), a matter of presentation; `differs` otherwise (13.4 stated for 17.39).
    """
    half = half_unit(stated) if half is None else half
    if meets(published(stated, half), computed):
        return "agrees"
    value = float(stated)
    cut_from = (value, value + 2 * half) if value >= 0 else (value - 2 * half, value)
    return "truncated" if meets(cut_from, computed) else "differs"
