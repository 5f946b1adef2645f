"""Kazakhstan's 20 first-level units (since the 2022 reform) and their boundaries.

The reports give figures by region ("Almaty city (17.5%)", "Ulytau and East Kazakhstan
regions") and the report draws them on a map, so every region needs one canonical name, a
tolerant look-up from the many transliterations ("Aqmola", "Zhetysu", "Nur-Sultan"), and a
shape. ``regions.csv`` holds the names; ``kz_regions.geojson`` the simplified boundaries
(see SOURCES.md for where they come from and how they were made).

Since June 2022 there are 17 regions (oblys; Abay, Jetisu and Ulytau are new) and three
cities of national significance (Astana, Almaty, Shymkent).

"Almaty" alone means the city, as in IOM's running text and in the boundary file; the
region is always "Almaty region" (or "... oblast", "Almatinskaya"). A name with a generic
word ("region", "oblast", "oblysy", "province"; "city", "city of ...") is matched on its
stem, restricted to that kind of unit, so spellings nobody listed still resolve.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

from mtmreport.reference._text import closest, normalize, split_aliases, unique_index

RegionKind = Literal["city", "region"]
Ring = list[tuple[float, float]]

_REGION_WORDS = ("regions", "region", "oblasts", "oblast", "oblysy", "oblys", "obl", "province")
_CITY_WORDS = ("city", "qalasy", "kalasy")


@dataclass(frozen=True)
class Region:
    """One row of ``regions.csv``."""

    name: str
    iso: str
    kind: RegionKind
    aliases: tuple[str, ...]
    geo_name: str
    # Official names in other languages, by language code, from the `name_<lang>` columns.
    names: tuple[tuple[str, str], ...] = ()

    def name_in(self, language: str) -> str:
        """The region's name in an edition's language (the English name by default)."""
        return dict(self.names).get(language) or self.name

    @property
    def is_city(self) -> bool:
        """True for the three cities of national significance."""
        return self.kind == "city"

    def __str__(self) -> str:
        return self.name


def _read(filename: str) -> str:
    return resources.files(__package__).joinpath(filename).read_text(encoding="utf-8")


@cache
def all_regions() -> tuple[Region, ...]:
    """The 20 regions and cities, in the CSV's (alphabetical) order; read once."""
    regions = []
    for row in csv.DictReader(_read("regions.csv").splitlines()):
        if row["kind"] not in ("city", "region"):
            raise ValueError(f"regions.csv: unknown kind {row['kind']!r} for {row['name']}")
        regions.append(
            Region(
                name=row["name"],
                iso=row["iso"],
                kind=row["kind"],  # type: ignore[arg-type]  # checked just above
                aliases=split_aliases(row["aliases"]),
                geo_name=row["geo_name"],
                names=tuple(
                    (key.removeprefix("name_"), value.strip())
                    for key, value in row.items()
                    if key.startswith("name_") and value and value.strip()
                ),
            )
        )
    return tuple(regions)


def _spellings(region: Region) -> tuple[str, ...]:
    return (
        region.name,
        region.iso,
        region.geo_name,
        *(n for _, n in region.names),
        *region.aliases,
    )


def _stem(key: str) -> tuple[str, RegionKind | None]:
    """Split a normalised name into its stem and the kind its generic word implies."""
    if key.startswith("city of "):
        return key.removeprefix("city of "), "city"
    for words, kind in ((_REGION_WORDS, "region"), (_CITY_WORDS, "city")):
        for word in words:
            if key.endswith(" " + word):
                return key.removesuffix(" " + word), kind  # type: ignore[return-value]
    return key, None


@cache
def _exact_index() -> dict[str, Region]:
    return unique_index(all_regions(), _spellings, "regions.csv")


@cache
def _stem_index() -> dict[str, tuple[Region, ...]]:
    index: dict[str, set[Region]] = defaultdict(set)
    for region in all_regions():
        for spelling in _spellings(region):
            index[_stem(normalize(spelling))[0]].add(region)
    return {stem: tuple(sorted(found, key=lambda r: r.name)) for stem, found in index.items()}


@cache
def _by_code() -> dict[str, Region]:
    return {region.iso: region for region in all_regions()}


def region_by_code(code: str) -> Region | None:
    """The region whose ISO 3166-2 code is exactly `code` (what the model carries), or None."""
    return _by_code().get(code)


def find_region(text: str) -> Region | None:
    """The region or city ``text`` names (name, ISO code, boundary-file name or alias), or None.

    Case, diacritics, dashes and extra whitespace are ignored; "X region/oblast/oblysy" and
    "X city"/"city of X" resolve through the stem X when the full form is not listed.
    """
    key = normalize(text)
    exact = _exact_index().get(key)
    if exact is not None:
        return exact
    stem, kind = _stem(key)
    candidates = [r for r in _stem_index().get(stem, ()) if kind is None or r.kind == kind]
    return candidates[0] if len(candidates) == 1 else None


@cache
def _suggestion_keys() -> dict[str, Region]:
    """Full spellings and unambiguous stems, longer than three letters (ISO codes left out)."""
    keys = {k: r for k, r in _exact_index().items() if len(k) > 3 and not k.startswith("kz ")}
    for stem, found in _stem_index().items():
        if len(found) == 1 and len(stem) > 3:
            keys.setdefault(stem, found[0])
    return keys


def suggest_region(text: str) -> str | None:
    """The canonical name of the known region closest to ``text`` (a likely misspelling).

    For error messages ("did you mean ...?"): "Pavlodr" gives "Pavlodar region".
    """
    found = find_region(text)
    if found is not None:
        return found.name
    match = closest([normalize(text), _stem(normalize(text))[0]], _suggestion_keys())
    return match.name if match else None


@cache
def _boundary_features() -> dict[str, dict]:
    """The GeoJSON features keyed by their ``name`` property (our ``geo_name``)."""
    collection = json.loads(_read("kz_regions.geojson"))
    return {feature["properties"]["name"]: feature for feature in collection["features"]}


def _feature(region: Region) -> dict:
    try:
        return _boundary_features()[region.geo_name]
    except KeyError:
        raise KeyError(f"kz_regions.geojson has no feature named {region.geo_name!r}") from None


@cache
def region_shapes() -> dict[str, list[Ring]]:
    """Region name -> exterior rings as (longitude, latitude) points, one per polygon part.

    Holes are left out: the only sizeable ones are the three cities' territories, which the
    map draws on top of the surrounding region anyway. Parsed with the stdlib only. Treat
    the result as read-only: it is cached.
    """
    shapes: dict[str, list[Ring]] = {}
    for region in all_regions():
        geometry = _feature(region)["geometry"]
        if geometry["type"] == "Polygon":
            polygons = [geometry["coordinates"]]
        elif geometry["type"] == "MultiPolygon":
            polygons = geometry["coordinates"]
        else:
            raise ValueError(f"{region.geo_name}: unexpected geometry {geometry['type']}")
        shapes[region.name] = [[(x, y) for x, y, *_ in polygon[0]] for polygon in polygons]
    return shapes


@cache
def region_label_points() -> dict[str, tuple[float, float]]:
    """Region name -> (longitude, latitude) of a point well inside it, for placing labels.

    Precomputed (pole of inaccessibility of the largest part) when the boundary file was made.
    """
    points: dict[str, tuple[float, float]] = {}
    for region in all_regions():
        lon, lat = _feature(region)["properties"]["label_point"]
        points[region.name] = (float(lon), float(lat))
    return points
