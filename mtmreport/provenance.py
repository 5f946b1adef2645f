"""Figures that know where they come from: the value the report prints, how many decimals it
prints with, and the formula and quarter-file lines behind it.

Compute returns these for every number a report prints, so the review view can show, for
each, "43.3 % = 1,753,689 (line 120) ÷ 4,051,488 (...)". They behave as plain `int` and
`float` everywhere else (comparisons, sorting, pandas), so templates and charts need not
know; arithmetic on them gives plain numbers, which is right, because a figure worked out
outside compute has no provenance to show.

The figure rule lives here too (`stated_or_computed`): a figure the source states and the
report could derive prints as stated when the two agree within the rounding of the inputs,
and the computed value prints when they do not (the audit reports the disagreement).
"""

from __future__ import annotations

import copyreg
import io
import pickle
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from mtmreport.intervals import Interval, meets, published
from mtmreport.numbers import decimals_of

if TYPE_CHECKING:
    from mtmreport.load import Location

Basis = Literal["typed", "stated", "computed"]


@dataclass(frozen=True)
class Input:
    """One figure a computation used: what it is, its value as typed, and where it is typed."""

    label: str
    value: str
    location: Location | None = None
    trace: Trace | None = None  # how the input itself was computed, when it was


@dataclass(frozen=True)
class Trace:
    """How a printed figure was obtained."""

    basis: Basis
    formula: str = ""  # "1,753,689 ÷ 4,051,488 × 100"
    inputs: tuple[Input, ...] = ()
    stated: Input | None = None  # the source's own figure, where it states one
    remark: str = ""  # why the stated or the computed value prints


class _Traced:
    decimals: int
    trace: Trace


class TracedInt(int, _Traced):
    """A count or a sum of counts, with its trace."""

    def __new__(cls, value: int, trace: Trace) -> TracedInt:
        made = super().__new__(cls, value)
        made.decimals = 0
        made.trace = trace
        return made

    def __reduce__(self) -> tuple:  # pickles (for the helper process) as a plain int
        return (int, (int(self),))


class TracedFloat(float, _Traced):
    """An amount, share, average or change, with the decimals it prints with and its trace."""

    def __new__(cls, value: float, decimals: int, trace: Trace) -> TracedFloat:
        made = super().__new__(cls, value)
        made.decimals = decimals
        made.trace = trace
        return made

    def __reduce__(self) -> tuple:
        # To the chart helper: the value and its decimals (labels print them), not the trace.
        return (_untraced_float, (float(self), self.decimals))


def _untraced_float(value: float, decimals: int) -> TracedFloat:
    return TracedFloat(value, decimals, Trace("computed"))


Figure = TracedInt | TracedFloat


def pickled_whole(value: object) -> bytes:
    """`value` pickled with its figures' traces, which plain pickling leaves out (the chart
    helper needs none): for figures computed in one process and written in others."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = {
        **copyreg.dispatch_table,
        TracedInt: lambda figure: (TracedInt, (int(figure), figure.trace)),
        TracedFloat: lambda figure: (
            TracedFloat,
            (float(figure), figure.decimals, figure.trace),
        ),
    }
    pickler.dump(value)
    return buffer.getvalue()


def trace_of(value: object) -> Trace | None:
    return getattr(value, "trace", None)


def decimals_printed(value: object) -> int | None:
    """The decimals compute chose for `value`, or None for a plain number."""
    return getattr(value, "decimals", None) if isinstance(value, _Traced) else None


def shown(value: int | float | Decimal, decimals: int | None = None) -> str:
    """A figure as the review view names it: "4,051,488", "43.5"."""
    if decimals is None:
        decimals = decimals_printed(value)
    if decimals is None:
        decimals = decimals_of(value) if not isinstance(value, float) else 2
    return f"{value:,.{decimals}f}"


def typed(value: int | Decimal, label: str, location: Location | None) -> Figure:
    """A figure as the quarter file types it."""
    trace = Trace("typed", inputs=(Input(label, shown(value), location),))
    if isinstance(value, int):
        return TracedInt(value, trace)
    return TracedFloat(float(value), decimals_of(value), trace)


def as_input(value: object, label: str) -> Input:
    """`value` as the input of another computation: its own typed location when it has one."""
    trace = trace_of(value)
    if trace is not None and trace.basis == "typed" and len(trace.inputs) == 1:
        return Input(label, shown(value), trace.inputs[0].location)  # type: ignore[arg-type]
    return Input(label, shown(value), None, trace)  # type: ignore[arg-type]


def derived_count(value: int, formula: str, inputs: Sequence[Input], remark: str = "") -> Figure:
    return TracedInt(value, Trace("computed", formula, tuple(inputs), remark=remark))


def derived(
    value: float, decimals: int, formula: str, inputs: Sequence[Input], remark: str = ""
) -> Figure:
    return _made(value, decimals, Trace("computed", formula, tuple(inputs), remark=remark))


def _made(value: float, decimals: int, trace: Trace) -> Figure:
    """A whole count stays an int (it prints and compares as one); anything else a float."""
    if decimals == 0 and float(value).is_integer():
        return TracedInt(int(value), trace)
    return TracedFloat(value, decimals, trace)


def stated_or_computed(
    stated: Decimal | int | None,
    computed: float,
    computed_range: Interval,
    decimals: int,
    formula: str,
    inputs: Sequence[Input],
    stated_at: Location | None = None,
) -> Figure:
    """The figure rule: the stated value where it agrees with the computation within the
    rounding of both (`computed_range` carries the inputs' rounding), the computed one else.

    The computed value prints with `decimals`; a stated value keeps its own decimals, so a
    central bank's 135.8 million USD is not replaced by 135.9 from a rounded tenge amount.
    """
    every_input = tuple(inputs)
    as_stated = None if stated is None else Input("stated", shown(stated), stated_at)
    if stated is not None and meets(published(stated), computed_range):
        trace = Trace(
            "stated",
            formula,
            every_input,
            as_stated,
            "as the source states it; the computation agrees within rounding",
        )
        if isinstance(stated, int):
            return TracedInt(stated, trace)
        return TracedFloat(float(stated), decimals_of(stated), trace)
    if stated is None:
        return derived(computed, decimals, formula, every_input)
    remark = (
        f"the source states {shown(stated)}, which the figures used here do not give; "
        "the computed value prints"
    )
    return _made(computed, decimals, Trace("computed", formula, every_input, as_stated, remark))
