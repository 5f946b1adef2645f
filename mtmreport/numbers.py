"""Facts about numbers as a source prints them."""

from __future__ import annotations

from decimal import Decimal

Number = int | float | Decimal


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
