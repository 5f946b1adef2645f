"""Countries: canonical names, ISO codes, CIS status and the aliases reports use.

The quarterly data names countries as the source documents do ("Russia", "the USA",
"Republic of Türkiye", "Turkey"). Checks and charts need one canonical name per country,
and the report's CIS / non-CIS split needs to know which countries count as CIS, so both
live here, in ``countries.csv`` (one row per country or territory).

Names follow UN M49 English names (what IOM uses); ``short_name`` is the form for running
text ("United Kingdom" rather than "United Kingdom of Great Britain and Northern Ireland").
Each edition names countries in its own language from a ``name_<lang>`` column: ``name_ru``
holds the UN's own Russian short names where the UN's English name is the one used
(Российская Федерация, Республика Молдова) and CLDR's Russian names otherwise (see
SOURCES.md); a quarter file may name a country in any of these languages. A new language is
a new column. Kosovo carries the user-assigned codes XK/XKX; IOM publications refer to it in
the context of UN Security Council resolution 1244 (1999).

CIS status follows Kazakhstan's official statistics, which group migration by "CIS
countries" and "other countries":

* ``member``: Armenia, Azerbaijan, Belarus, Kazakhstan, Kyrgyzstan, Republic of Moldova,
  Russian Federation, Tajikistan, Uzbekistan.
* ``associate``: Turkmenistan. It has been an associate member since 2005 but Kazakh
  statistics count it with the CIS, and the Q3 2023 report lists it among CIS countries
  (permanent residence permits), so :attr:`Country.is_cis` is true for it.
* ``former``: Georgia (left in 2009) and Ukraine (stopped taking part in 2014-2018). They
  are *not* CIS for the report's groupings, but the status is kept so a check can explain
  why a report that still files them under the CIS disagrees.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

from mtmreport.reference._text import closest, normalize, split_aliases, unique_index

CisStatus = Literal["member", "associate", "former", ""]
_CIS_STATUSES: frozenset[str] = frozenset({"member", "associate", "former", ""})
# Words of English names that take the definite article in running text.
_ARTICLE_WORDS = (
    "Republic",
    "Federation",
    "United",
    "Kingdom",
    "States",
    "Emirates",
    "Netherlands",
    "Philippines",
    "Islands",
    "Bahamas",
    "Gambia",
)


@dataclass(frozen=True)
class Country:
    """One row of ``countries.csv``."""

    name: str
    short_name: str
    iso2: str
    iso3: str
    cis_status: CisStatus
    aliases: tuple[str, ...] = ()
    # Names in other languages, by language code, from the `name_<lang>` columns.
    names: tuple[tuple[str, str], ...] = ()

    def name_in(self, language: str) -> str:
        """The country's name in an edition's language (the English short name by default)."""
        return dict(self.names).get(language) or self.short_name

    @property
    def takes_article(self) -> bool:
        """True where English running text writes "the": "from the Russian Federation"."""
        return any(word in self.short_name for word in _ARTICLE_WORDS)

    @property
    def is_cis(self) -> bool:
        """True for CIS members and for Turkmenistan (associate), as Kazakh statistics count."""
        return self.cis_status in ("member", "associate")

    def __str__(self) -> str:
        return self.short_name


@cache
def all_countries() -> tuple[Country, ...]:
    """Every country and territory, in the CSV's (alphabetical) order; read once."""
    text = resources.files(__package__).joinpath("countries.csv").read_text(encoding="utf-8")
    countries = []
    for row in csv.DictReader(text.splitlines()):
        status = row["cis"].strip()
        if status not in _CIS_STATUSES:
            raise ValueError(f"countries.csv: unknown CIS status {status!r} for {row['name']}")
        countries.append(
            Country(
                name=row["name"],
                short_name=row["short_name"],
                iso2=row["iso2"],
                iso3=row["iso3"],
                cis_status=status,  # type: ignore[arg-type]  # checked just above
                aliases=split_aliases(row["aliases"]),
                names=_names(row),
            )
        )
    return tuple(countries)


def _names(row: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """The `name_<lang>` columns of a row, as (language, name) pairs."""
    return tuple(
        (key.removeprefix("name_"), value.strip())
        for key, value in row.items()
        if key.startswith("name_") and value and value.strip()
    )


@cache
def _index() -> dict[str, Country]:
    """Normalised name, short name, ISO code or alias -> country."""

    def spellings(country: Country) -> tuple[str, ...]:
        names = (country.name, country.short_name, country.iso2, country.iso3)
        return (*names, *(name for _, name in country.names), *country.aliases)

    return unique_index(all_countries(), spellings, "countries.csv")


@cache
def _suggestion_keys() -> dict[str, Country]:
    """Names and aliases worth guessing from: codes of three letters or fewer are left out,
    because difflib finds any short string close to some code."""
    return {key: country for key, country in _index().items() if len(key) > 3}


@cache
def _by_code() -> dict[str, Country]:
    return {country.iso3: country for country in all_countries()}


def country_by_code(code: str) -> Country | None:
    """The country whose ISO 3166-1 alpha-3 code is exactly `code` (what the model carries),
    or None; no other spelling is taken."""
    return _by_code().get(code)


def find_country(text: str) -> Country | None:
    """The country ``text`` names (name, short name, ISO code or alias), or None.

    Case, diacritics, a leading "the", dots and extra whitespace are ignored.
    """
    return _index().get(normalize(text))


def suggest_country(text: str) -> str | None:
    """The short name of the known country closest to ``text`` (a likely misspelling), or None.

    For error messages ("did you mean ...?"): "Uzbekstan" gives "Uzbekistan".
    """
    found = find_country(text)
    if found is not None:
        return found.short_name
    match = closest([normalize(text)], _suggestion_keys())
    return match.short_name if match else None
