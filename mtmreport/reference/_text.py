"""Name normalisation shared by the country and region look-ups.

Published reports and hand-typed YAML spell the same place many ways ("Türkiye",
"Turkiye", "the Russian Federation", "Nur-Sultan", "U.S.A."). Comparing normalised keys
instead of raw strings makes every look-up tolerant of case, diacritics, a leading "the",
dots, dashes and stray whitespace, in one place.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u02bc": "'"})
_DASHES = re.compile(r"[-\u2010\u2011\u2012\u2013\u2014]")
_SPACES = re.compile(r"\s+")
# How close a misspelling must be to suggest a name (difflib's ratio); 0.75 catches
# "Uzbekstan" and "Pavlodr" without proposing unrelated places.
SUGGEST_CUTOFF = 0.75


def normalize(text: str) -> str:
    """Return the comparison key for a place name.

    Drops diacritics (NFKD, then combining marks), case (casefold), dots, a leading "the ",
    and turns dashes into spaces and runs of whitespace into one space.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    key = plain.casefold().translate(_APOSTROPHES).replace(".", "")
    key = _SPACES.sub(" ", _DASHES.sub(" ", key)).strip()
    if key.startswith("the "):
        key = key[4:]
    return key


def split_aliases(field: str) -> tuple[str, ...]:
    """Split a ``;``-separated CSV field into its non-empty, stripped parts."""
    return tuple(part.strip() for part in field.split(";") if part.strip())


def unique_index(
    items: Iterable[T], spellings: Callable[[T], Iterable[str]], table: str
) -> dict[str, T]:
    """Normalised spelling -> item; a spelling naming two items is an error in `table`."""
    index: dict[str, T] = {}
    for item in items:
        for spelling in spellings(item):
            other = index.setdefault(normalize(spelling), item)
            if other is not item:
                names = (getattr(other, "name", other), getattr(item, "name", item))
                raise ValueError(f"{table}: {spelling!r} names {names[0]} and {names[1]}")
    return index


def closest(queries: Iterable[str], keys: dict[str, T]) -> T | None:
    """The item whose key is closest to the first query that is close to any key, if any."""
    for query in dict.fromkeys(queries):
        matches = difflib.get_close_matches(query, keys, n=1, cutoff=SUGGEST_CUTOFF)
        if matches:
            return keys[matches[0]]
    return None
