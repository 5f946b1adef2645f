"""Reference data shipped with the package: countries, Kazakhstan's regions, boundaries.

Everything is read lazily from package data (CSV and GeoJSON files beside this module), once
per process, so the package works the same from a checkout and when installed.
"""

from mtmreport.reference.countries import (
    CisStatus,
    Country,
    all_countries,
    find_country,
    suggest_country,
)
from mtmreport.reference.regions import (
    Region,
    RegionKind,
    all_regions,
    find_region,
    region_label_points,
    region_shapes,
    suggest_region,
)

__all__ = [
    "CisStatus",
    "Country",
    "Region",
    "RegionKind",
    "all_countries",
    "all_regions",
    "find_country",
    "find_region",
    "region_label_points",
    "region_shapes",
    "suggest_country",
    "suggest_region",
]
