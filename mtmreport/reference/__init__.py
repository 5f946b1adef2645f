"""Reference data shipped with the package: countries, Kazakhstan's regions, boundaries.

Everything is read lazily from package data (CSV and GeoJSON files beside this module), once
per process, so the package works the same from a checkout and when installed.

A validated quarter carries places by their ISO code (a country's alpha-3, a region's
ISO 3166-2 code), whatever name or language the file used; every name printed comes from
these tables: an edition's through its wording (`Wording.place`), the analysts' English
diagnostics through `english_name`.
"""

from mtmreport.reference.countries import (
    CisStatus,
    Country,
    all_countries,
    country_by_code,
    find_country,
    suggest_country,
)
from mtmreport.reference.regions import (
    Region,
    RegionKind,
    all_regions,
    find_region,
    region_by_code,
    region_label_points,
    region_shapes,
    suggest_region,
)


def place_by_code(code: str) -> Country | Region | None:
    """The country or region whose ISO code is `code`; None for any other label (a
    breakdown's category, which is the analyst's own text)."""
    return country_by_code(code) or region_by_code(code)


def english_name(label: str) -> str:
    """A place's English name (a country's short name, a region's name) for the analysts'
    diagnostics and the review view's labels; any other label as it is."""
    place = place_by_code(label)
    return label if place is None else place.name_in("en")


__all__ = [
    "CisStatus",
    "Country",
    "Region",
    "RegionKind",
    "all_countries",
    "all_regions",
    "country_by_code",
    "english_name",
    "find_country",
    "find_region",
    "place_by_code",
    "region_by_code",
    "region_label_points",
    "region_shapes",
    "suggest_country",
    "suggest_region",
]
