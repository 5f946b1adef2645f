"""Choropleth of Kazakhstan's 20 regions, drawn with plain matplotlib patches.

The report maps one figure per region (e.g. the share of temporary residence permits). The
regions come from the shipped, simplified boundary file, so no GIS stack (geopandas,
cartopy, shapely) is needed at run time; the projection is a few lines of spherical Albers.

Reading rules the drawing follows, as in IOM's published maps:

* regions with a figure are shaded on one sequential scale of IOM blue tints, lightest for
  the smallest value; the value is printed on the region, white on dark fills;
* regions without a published figure are light grey *and hatched*, so a missing figure
  never reads as a small one;
* the three cities are too small to carry a label, so theirs sits outside with a leader line.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import matplotlib
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.colors import LinearSegmentedColormap, Normalize, to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import PathPatch, Rectangle
from matplotlib.path import Path

from mtmreport.charts import style
from mtmreport.reference.regions import (
    Region,
    all_regions,
    find_region,
    region_label_points,
    region_shapes,
    suggest_region,
)

LIGHTEST = style.BLUE_TINTS[-1]  # "#D9E0F1"
SCALE = LinearSegmentedColormap.from_list("iom_blues", [LIGHTEST, style.IOM_BLUE])
BORDER = "#FFFFFF"
HATCH_COLOUR = "#BDBDBD"


@dataclass(frozen=True)
class MapWords:
    """The words a map prints, in its edition's language (`charts.draw.map_words` makes them
    from the edition's wording: the catalogue, the reference tables, CLDR): the label of each
    region, the "no data" swatch's text, and how a number and a per cent are written."""

    label: Callable[[Region], str]
    no_data: str
    number: Callable[[float], str]
    percent: Callable[[str], str]


# A halo in the background colour keeps small text legible across hatching and borders.
_HALO_GREY = [patheffects.withStroke(linewidth=2.2, foreground=style.NO_DATA)]
_HALO_WHITE = [patheffects.withStroke(linewidth=2.2, foreground="#FFFFFF")]

# Spherical Albers equal-area conic for Kazakhstan: parallels 44° and 52° N, centre 67° E.
_LAT_1, _LAT_2, _LON_0, _LAT_0 = 44.0, 52.0, 67.0, 48.0

# Labels that do not fit inside their unit go beside it, with a leader line: offsets in
# points from the unit's label point, chosen so the three southern callouts sit side by
# side outside the border.
_CALLOUT_OFFSETS: dict[str, tuple[float, float]] = {
    "Astana city": (16.0, -10.0),
    "Almaty city": (0.0, -22.0),
    "Shymkent city": (14.0, -16.0),
    "Almaty region": (12.0, -20.0),
}
# Moves, in degrees (longitude, latitude), of label points: off a city, or into the wide
# part of a region.
_LABEL_NUDGES: dict[str, tuple[float, float]] = {
    "Turkistan region": (-0.9, 1.1),
    "Almaty region": (4.0, -2.0),
}


def _albers(lon: float, lat: float) -> tuple[float, float]:
    """Project degrees to unit-sphere Albers coordinates (no scale factor needed for a map)."""
    phi1, phi2, phi0 = (math.radians(v) for v in (_LAT_1, _LAT_2, _LAT_0))
    n = (math.sin(phi1) + math.sin(phi2)) / 2
    c = math.cos(phi1) ** 2 + 2 * n * math.sin(phi1)
    rho0 = math.sqrt(c - 2 * n * math.sin(phi0)) / n
    rho = math.sqrt(c - 2 * n * math.sin(math.radians(lat))) / n
    theta = n * math.radians(lon - _LON_0)
    return rho * math.sin(theta), rho0 - rho * math.cos(theta)


def _resolve(values: Mapping[str, float | None]) -> dict[Region, float | None]:
    """Map the caller's names to regions; unknown names raise KeyError, repeats ValueError."""
    resolved: dict[Region, float | None] = {}
    for text, value in values.items():
        region = find_region(text)
        if region is None:
            guess = suggest_region(text)
            hint = f"; did you mean {guess!r}?" if guess else ""
            raise KeyError(f"unknown region {text!r}{hint}")
        if region in resolved:
            raise ValueError(f"{region.name} is given twice (as {text!r} and another name)")
        if value is not None and math.isnan(value):
            value = None
        resolved[region] = value
    return resolved


def _format(value: float, value_label: str, words: MapWords) -> str:
    """17.5 -> "17.5%", 11.0 -> "11%"; other units are left to the legend: 1753689 -> "1,753,689".

    Two decimals at most, trailing zeros dropped, thousands separated in the edition's style.
    """
    number = words.number(value)
    return words.percent(number) if value_label.startswith("%") else number


# White or black: for any fill one of the two reaches at least 4.58:1 (they tie where the
# fill's luminance is 0.179); the report's near-black ink would leave mid-blues at 4.2:1.
LABEL_INKS = ("#FFFFFF", "#000000")


def _luminance(colour: tuple[float, float, float]) -> float:
    """WCAG 2.1 relative luminance of an sRGB colour with channels in 0..1."""

    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(one: tuple[float, float, float], other: tuple[float, float, float]) -> float:
    lighter, darker = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _text_colour(fill: tuple[float, float, float]) -> str:
    """White or near-black, whichever stands out more from the fill (WCAG contrast ratio):
    a fixed luminance cut-off put white on mid-blues at 3.3:1, below the 4.5:1 text needs."""
    return max(LABEL_INKS, key=lambda ink: contrast_ratio(to_rgb(ink), fill))


def _region_path(rings: list[list[tuple[float, float]]]) -> Path:
    parts = [Path([_albers(lon, lat) for lon, lat in ring], closed=True) for ring in rings]
    return Path.make_compound_path(*parts)


def _add_shape(ax: Axes, patch: PathPatch) -> None:
    """`ax.add_patch` without its limit update, which walks every segment in Python (most of
    the map's drawing time); the outlines are straight lines, so their vertices bound them."""
    ax.add_artist(patch)
    ax.update_datalim(patch.get_path().vertices)


def draw_region_map(
    values: Mapping[str, float | None], *, words: MapWords, value_label: str = "%"
) -> Figure:
    """Draw the 20 regions, shading those with a value; return the figure (not shown, not saved).

    ``values`` maps regions (their ISO codes, or names as :func:`find_region` accepts them)
    to a figure or None; ``words`` are the edition's.
    Regions missing from ``values`` or mapped to None (or NaN) are drawn as "no published
    figure". ``value_label`` is the unit: "%" is printed after every value; any other unit
    (e.g. "migrants") once, as the legend's caption, to keep labels short. Raises KeyError
    for a name that is no region of Kazakhstan.
    """
    resolved = _resolve(values)
    shown = [v for v in resolved.values() if v is not None]
    low = min(0.0, *shown) if shown else 0.0
    high = max(shown) if shown else 1.0
    norm = Normalize(vmin=low, vmax=high if high > low else low + 1.0)

    with matplotlib.rc_context({**style.rc_params(), "hatch.linewidth": 0.6}):
        fig = Figure(figsize=(style.FIGURE_WIDTH_IN, style.FIGURE_WIDTH_IN * 0.62), dpi=100)
        ax = fig.add_axes((0.0, 0.13, 1.0, 0.87))
        ax.set_axis_off()
        ax.set_aspect("equal")

        shapes = region_shapes()
        # Regions first, cities on top: the cities lie inside their regions' outlines.
        for region in sorted(all_regions(), key=lambda r: r.is_city):
            value = resolved.get(region)
            path = _region_path(shapes[region.name])
            zorder = 3 if region.is_city else 1
            if value is None:
                fill = PathPatch(
                    path,
                    facecolor=style.NO_DATA,
                    edgecolor=HATCH_COLOUR,
                    hatch=style.NO_DATA_HATCH,
                    linewidth=0,
                    zorder=zorder,
                )
            else:
                fill = PathPatch(path, facecolor=SCALE(norm(value)), linewidth=0, zorder=zorder)
            fill.set_gid(region.name)
            fill.set_label(region.name)
            _add_shape(ax, fill)
            outline_width = 0.6 if region.is_city else 0.8
            outline_colour = style.GREY if region.is_city else BORDER
            _add_shape(
                ax,
                PathPatch(
                    path,
                    facecolor="none",
                    edgecolor=outline_colour,
                    linewidth=outline_width,
                    zorder=zorder + 0.5,
                ),
            )
            _label(ax, region, value, value_label, fill, words)

        ax.margins(0.01)
        ax.autoscale_view()
        _legend(
            fig,
            norm if shown else None,
            value_label,
            has_missing=len(shown) < len(all_regions()),
            words=words,
        )
    return fig


def _label(
    ax: Axes,
    region: Region,
    value: float | None,
    value_label: str,
    fill: PathPatch,
    words: MapWords,
) -> None:
    """Name and value on the region; for a city, beside it with a leader line."""
    lon, lat = region_label_points()[region.name]
    nudge_lon, nudge_lat = _LABEL_NUDGES.get(region.name, (0.0, 0.0))
    x, y = _albers(lon + nudge_lon, lat + nudge_lat)
    name = words.label(region)
    small = style.BASE_SIZE - 1.5
    big = style.BASE_SIZE + 0.5
    value_text = None if value is None else _format(value, value_label, words)
    callout = _CALLOUT_OFFSETS.get(region.name)
    if callout is None and region.is_city:
        callout = (14.0, 14.0)
    if callout is not None:
        dx, dy = callout
        ha = "left" if dx > 0 else "right" if dx < 0 else "center"
        common = {
            "xy": (x, y),
            "textcoords": "offset points",
            "ha": ha,
            "zorder": 6,
            "path_effects": _HALO_WHITE,
        }
        # The leader line runs to the name; the value, if any, hangs below it.
        ax.annotate(
            name,
            xytext=(dx, dy),
            va="bottom" if value_text else "center",
            fontsize=small,
            color="#1A1A1A" if value_text else style.GREY,
            arrowprops={"arrowstyle": "-", "color": style.GREY, "linewidth": 0.5, "shrinkA": 0},
            **common,
        )
        if value_text:
            ax.annotate(
                value_text,
                xytext=(dx, dy - 1),
                va="top",
                fontsize=big,
                fontweight="bold",
                color=style.IOM_BLUE,
                **common,
            )
        return
    if value_text is None:
        ax.text(
            x,
            y,
            name,
            ha="center",
            va="center",
            fontsize=small,
            color=style.GREY,
            zorder=5,
            path_effects=_HALO_GREY,
        )
        return
    background = to_rgb(fill.get_facecolor())
    colour = _text_colour(background)
    # A halo in the fill colour keeps white text legible where it runs over a border.
    halo = [patheffects.withStroke(linewidth=2.0, foreground=background)]
    inside = {
        "xy": (x, y),
        "textcoords": "offset points",
        "ha": "center",
        "color": colour,
        "zorder": 5,
        "path_effects": halo,
    }
    ax.annotate(name, xytext=(0, 1), va="bottom", fontsize=small, **inside)
    ax.annotate(value_text, xytext=(0, 0), va="top", fontsize=big, fontweight="bold", **inside)


def _legend(
    fig: Figure,
    norm: Normalize | None,
    value_label: str,
    *,
    has_missing: bool,
    words: MapWords,
) -> None:
    """A short colour bar for the scale (if any value), a hatched swatch (if any is missing)."""
    left = 0.06
    if norm is not None:
        bar_ax = fig.add_axes((left, 0.07, 0.30, 0.035))
        mappable = ScalarMappable(norm=norm, cmap=SCALE)
        bar = fig.colorbar(mappable, cax=bar_ax, orientation="horizontal")
        bar.outline.set_visible(False)
        bar.ax.tick_params(length=2, width=0.5, labelsize=style.BASE_SIZE - 1, pad=1.5)
        ticks = [t for t in bar.get_ticks() if norm.vmin <= t <= norm.vmax]
        bar.set_ticks(ticks, labels=[_format(t, value_label, words) for t in ticks])
        # "%" goes on every number; any other unit once, as the bar's caption.
        if value_label and not value_label.startswith("%"):
            bar.ax.set_title(value_label, fontsize=style.BASE_SIZE - 1, color=style.GREY, pad=2)
        left = 0.42
    if not has_missing:
        return
    swatch_ax = fig.add_axes((left, 0.07, 0.035, 0.035))
    swatch_ax.set_axis_off()
    swatch_ax.add_patch(
        Rectangle(
            (0, 0),
            1,
            1,
            facecolor=style.NO_DATA,
            edgecolor=HATCH_COLOUR,
            hatch=style.NO_DATA_HATCH,
            linewidth=0,
            transform=swatch_ax.transAxes,
        )
    )
    swatch_ax.text(
        1.3,
        0.5,
        words.no_data,
        transform=swatch_ax.transAxes,
        va="center",
        ha="left",
        fontsize=style.BASE_SIZE - 1,
        color=style.GREY,
    )
