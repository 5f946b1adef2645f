"""Draft quarters: figures not yet published are written `pending`.

A draft (`status: draft`) may say `pending` wherever a figure or a text will come later. The
file is still checked in full: for validation each pending figure stands in as a placeholder
number, so a misspelt country or key in a draft is caught as early as in a complete quarter.
Blocks with pending figures are then left out of the computation and shown as "data pending".
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mtmreport.load import Location

PENDING = "pending"

# Keys whose values are figures; a pending figure stands in as 1 while the file is validated.
FIGURE_KEYS = frozenset(
    {
        "total",
        "number",
        "share",
        "kzt_bn",
        "usd_mn",
        "rate",
        "change",
        "change_kzt_bn",
        "balance",
        "children",
        "value",
        "transactions",
        "arrivals",
        "departures",
        "net",
    }
)
PLACEHOLDER = 1


def is_pending(value: Any) -> bool:
    return isinstance(value, str) and value.strip().lower() == PENDING


def pending_locations(data: Any, location: Location = ()) -> Iterator[Location]:
    """Where the file says `pending`, in reading order."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield from pending_locations(value, (*location, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from pending_locations(value, (*location, index))
    elif is_pending(data):
        yield location


def with_placeholders(data: Any, location: Location = ()) -> Any:
    """A copy of the data with pending figures replaced by a placeholder number."""
    if isinstance(data, dict):
        return {key: with_placeholders(value, (*location, key)) for key, value in data.items()}
    if isinstance(data, list):
        return [with_placeholders(value, (*location, i)) for i, value in enumerate(data)]
    if is_pending(data) and location and location[-1] in FIGURE_KEYS:
        return PLACEHOLDER
    return data


def within(location: Location, block: Location) -> bool:
    return location[: len(block)] == block
