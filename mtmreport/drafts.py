"""Draft quarters: figures not yet published are written `pending`.

A draft (`status: draft`) may say `pending` wherever a figure or a text will come later. The
file is still checked in full: for validation each pending figure stands in as a placeholder
number (a value made of figures only, such as an amount, as its required figures: the model
says which places hold figures), so a misspelt country or key in a draft is caught as early
as in a complete quarter.
Blocks with pending figures are then left out of the computation and shown as "data pending".
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from mtmreport.model import QuarterFile, figures_only, is_figure, type_at

if TYPE_CHECKING:
    from mtmreport.load import Location

PENDING = "pending"

# What a pending figure stands in as while the file is validated.
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


def with_placeholders(data: Any, annotation: Any = QuarterFile) -> Any:
    """A copy of the data with every pending figure replaced by a placeholder the model
    accepts, found by the type the model gives each place (`annotation`, the whole file's at
    the top): a number for a figure; for a value made of figures only (`total: pending` for
    an amount), its required figures. A pending text is left as it is: it is text."""
    if isinstance(data, dict):
        return {
            key: with_placeholders(value, type_at(annotation, key)) for key, value in data.items()
        }
    if isinstance(data, list):
        return [with_placeholders(value, type_at(annotation, i)) for i, value in enumerate(data)]
    if is_pending(data):
        placeholder = _placeholder(annotation)
        return data if placeholder is None else placeholder
    return data


def may_be_pending(annotation: Any) -> bool:
    """Whether a draft may write `pending` for a value of this type and stay valid: a figure,
    or a value made of figures only."""
    return _placeholder(annotation) is not None


def _placeholder(annotation: Any) -> Any:
    if is_figure(annotation):
        return PLACEHOLDER
    required = figures_only(annotation)
    if required is None:
        return None
    return {name: _placeholder(kind) for name, kind in required.items()}


def within(location: Location, block: Location) -> bool:
    return location[: len(block)] == block
