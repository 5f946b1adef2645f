"""Facts about numbers as a source prints them."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from numbers import Integral

Number = int | float | Decimal

# Every figure in a report lies well inside these bounds; beyond them the float arithmetic of
# compute and the charts overflows (1e400 tenge) or divides by zero (a rate of 1e-400).
FIGURE_MAX = Decimal(10) ** 15
FIGURE_MIN = Decimal(10) ** -9
FIGURE_RANGE = "figures lie between 0.000000001 and 999,999,999,999,999 (or are 0)"


def usable_figure(value: int | Decimal) -> bool:
    """True for 0 and for finite values within the bounds above (either sign)."""
    if isinstance(value, Decimal) and not value.is_finite():
        return False
    return not value or FIGURE_MIN <= abs(value) < FIGURE_MAX


def decimals_of(value: Number) -> int:
    """Decimals as written: Decimal('11') -> 0, Decimal('11.42') -> 2; floats count as 1.

    Quarter files keep their decimals (the loader reads them as Decimal), so a figure printed
    "11" and one printed "11.0" stay different: the audit's tolerance and the report's
    display both follow what the source printed.
    """
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        return max(0, -exponent) if isinstance(exponent, int) else 0
    return 0 if isinstance(value, int) else 1


def half_unit(value: Number) -> float:
    """Half a unit of the last printed decimal: how far from its printed value a figure may
    lie (a share printed 43.5 stands for 43.45-43.55)."""
    return 0.5 * 10 ** -decimals_of(value)


def half_up(value: Number, decimals: int = 1) -> Decimal:
    """Round as a reader expects (2.05 -> 2.1), not half-to-even on a binary float (2.0).

    Floats are read by their shortest repr, so 2.05 is 2.05 and not 2.04999...
    """
    if isinstance(value, Decimal):
        exact = value
    elif isinstance(value, Integral):  # numpy's integers too
        exact = Decimal(int(value))
    else:
        exact = Decimal(repr(float(value)))  # numpy's floats repr otherwise as np.float64(…)
    if not exact.is_finite():
        return exact
    return exact.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
