"""Name normalisation shared by the country and region look-ups.

Published reports and hand-typed YAML spell the same place many ways ("Türkiye",
"Turkiye", "the Russian Federation", "Nur-Sultan", "U.S.A."). Comparing normalised keys
instead of raw strings makes every look-up tolerant of case, diacritics, a leading "the",
dots, dashes and stray whitespace, in one place.
"""

from __future__ import annotations

import re
import unicodedata

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u02bc": "'"})
_DASHES = re.compile(r"[-\u2010\u2011\u2012\u2013\u2014]")
_SPACES = re.compile(r"\s+")


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
