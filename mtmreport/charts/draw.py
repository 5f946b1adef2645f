"""Drawing a `ChartSpec` with matplotlib, one function per chart kind, in the IOM style.

Figures are made with `matplotlib.figure.Figure` rather than pyplot: no global state, no
window, safe to draw several at once. Values are labelled directly on the marks, so the
charts need no value axis, no grid and (where a direct label fits) no legend.

Each figure is drawn at the size it is printed (full or half the text width), so its type
is the size the style says, and laid out by hand from measured text widths rather than by
a layout engine: category labels get exactly the room they need, and the value axis ends
where the longest value label still fits.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Rectangle
from matplotlib.textpath import text_to_path

from mtmreport.charts import style
from mtmreport.charts.spec import ChartSpec, cell_text
from mtmreport.frames import records
from mtmreport.numbers import half_up
from mtmreport.wording import Wording

if TYPE_CHECKING:
    from mtmreport.charts.regionmap import MapWords
    from mtmreport.reference import Region

DPI = 200
# Agg draws text a little wider than its outline (hinting): measure with some slack.
_TEXT_SLACK = 1.05
_PAD_IN = 0.06  # between a bar's end and its label


def _text_width_in(text: str, size: float = style.BASE_SIZE, bold: bool = False) -> float:
    """Width of one line of text in the chart font, in inches."""
    prop = FontProperties(family=style.FONT_FAMILY, size=size, weight="bold" if bold else "normal")
    widest = max(
        (text_to_path.get_text_width_height_descent(line, prop, ismath=False)[0])
        for line in text.split("\n")
    )
    return widest * _TEXT_SLACK / 72


def _wrap(label: str, width_in: float) -> str:
    """Break a long category label over lines of at most `width_in` inches."""
    if _text_width_in(label) <= width_in:
        return label
    for chars in range(len(label), 4, -1):
        wrapped = "\n".join(textwrap.wrap(label, chars))
        if _text_width_in(wrapped) <= width_in:
            return wrapped
    return "\n".join(textwrap.wrap(label, 5))


def _figure(spec: ChartSpec, height: float) -> Figure:
    width = style.HALF_WIDTH_IN if spec.width == "half" else style.FULL_WIDTH_IN
    return Figure(figsize=(width, height))


def _bare(ax: Axes) -> None:
    """No spines, no ticks: the values are on the marks."""
    ax.spines[["left", "bottom", "top", "right"]].set_visible(False)
    ax.set_xticks([])
    ax.set_yticks([])


def _axes_in(fig: Figure, left: float, bottom: float, right: float, top: float) -> Axes:
    """Axes placed by margins in inches, so the layout never depends on a layout engine."""
    width, height = fig.get_size_inches()
    return fig.add_axes(
        (left / width, bottom / height, 1 - (left + right) / width, 1 - (bottom + top) / height)
    )


def _value_limit(values: Sequence[float], labels: Sequence[str], bar_width_in: float) -> float:
    """The axis end that leaves room for every bar's label after its bar."""
    limit = max([*values, 0]) or 1.0
    for value, label in zip(values, labels, strict=True):
        room = bar_width_in - _PAD_IN - _text_width_in(label) - 0.02
        if value > 0 and room > 0:
            limit = max(limit, value * bar_width_in / room)
    return limit


def _bar_labels(spec: ChartSpec, wording: Wording) -> list[str]:
    """ "1,753,689 (43.3%)" for counts with shares, "50.3%" for shares, "200.8" for USD."""
    labels = []
    for row in records(spec.table):
        shown = row.get("share_shown")
        has_share = shown is not None and not pd.isna(shown)
        if spec.unit == "percent":
            labels.append(cell_text(shown if has_share else row["value"], "percent", wording))
            continue
        text = cell_text(row["value"], "usd" if spec.unit == "usd" else "count", wording)
        if has_share:
            text += f" ({cell_text(shown, 'percent', wording)})"
        labels.append(text)
    return labels


# --- bars of categories ranked by value -----------------------------------------------------

_ROW_IN = 0.2


def _hbar(spec: ChartSpec, wording: Wording) -> Figure:
    """Categories ranked by value; a negative value (a net outflow) runs left of zero."""
    table = spec.table
    count = len(table)
    fig = _figure(spec, 0.08 + _ROW_IN * count)
    fig_width = fig.get_size_inches()[0]
    categories = [_wrap(str(label), fig_width * 0.36) for label in table["label"]]
    left = max(_text_width_in(label) for label in categories) + 0.08
    ax = _axes_in(fig, left, 0.04, 0.02, 0.04)
    values = [float(v) for v in table["value"]]
    value_labels = _bar_labels(spec, wording)
    colours = [
        style.OTHER if other else style.ORANGE if value < 0 else style.IOM_BLUE
        for other, value in zip(table["is_other"], values, strict=True)
    ]
    positions = list(range(count))[::-1]
    ax.barh(positions, values, color=colours, height=0.68)
    bar_width_in = fig_width - left - 0.02
    # Room for the labels beyond both ends: the positive side and, if any, the negative one.
    high = _value_limit([max(v, 0) for v in values], value_labels, bar_width_in)
    low = -_value_limit([max(-v, 0) for v in values], value_labels, bar_width_in)
    if low < 0:
        low, high = low * 1.05, high * 1.05
    span = high - low
    pad = span * _PAD_IN / bar_width_in
    for pos, value, text in zip(positions, values, value_labels, strict=True):
        if value < 0:
            ax.text(value - pad, pos, text, va="center", ha="right", color=style.INK)
        else:
            ax.text(value + pad, pos, text, va="center", ha="left", color=style.INK)
    for pos, label in zip(positions, categories, strict=True):
        ax.text(low - pad, pos, label, va="center", ha="right", color=style.INK_SOFT)
    ax.set_xlim(low if low < 0 else 0, high)
    ax.set_ylim(-0.5, count - 0.5)
    _bare(ax)
    ax.axvline(0, color=style.GREY, linewidth=0.6)
    return fig


# --- a few shares of one whole --------------------------------------------------------------


def _donut(spec: ChartSpec, wording: Wording) -> Figure:
    table = spec.table
    fig = _figure(spec, 1.75)
    fig_width, fig_height = fig.get_size_inches()
    ring = fig_height - 0.1
    ax = _axes_in(fig, 0.02, 0.05, fig_width - ring - 0.02, 0.05)
    values = [float(v) for v in table["value"]]
    colours = [
        style.OTHER if other else style.CATEGORICAL[i % len(style.CATEGORICAL)]
        for i, other in enumerate(table["is_other"])
    ]
    ax.pie(
        values,
        colors=colours,
        startangle=90,
        counterclock=False,
        wedgeprops={"width": 0.36, "edgecolor": "white", "linewidth": 1},
    )
    ax.set_aspect("equal")
    if spec.center_label:
        ax.text(0, 0, spec.center_label, ha="center", va="center", fontsize=style.BASE_SIZE + 2)
        ax.texts[-1].set_fontweight("bold")
        ax.texts[-1].set_color(style.IOM_BLUE)
    # The parts listed beside the ring, in the ring's clockwise order: swatch, name, share.
    shares = (
        _bar_labels(spec, wording)
        if spec.unit == "percent"
        else [cell_text(s, "percent", wording) for s in table["share_shown"]]
    )
    x0 = ring + 0.12
    room = fig_width - 0.04 - (x0 + 0.15) - max(_text_width_in(s) for s in shares) - 0.08
    names = [_wrap(str(label), room) for label in table["label"]]
    # Rows of 0.19 in, 0.13 in more for each extra line of a wrapped name; centred overall.
    heights = [0.19 + 0.13 * name.count("\n") for name in names]
    y = fig_height / 2 + sum(heights) / 2
    for name, share, colour, height in zip(names, shares, colours, heights, strict=True):
        y -= height / 2
        fig.patches.append(
            Rectangle(
                (x0 / fig_width, (y - 0.045) / fig_height),
                0.09 / fig_width,
                0.09 / fig_height,
                transform=fig.transFigure,
                facecolor=colour,
                figure=fig,
            )
        )
        fig.text((x0 + 0.15) / fig_width, y / fig_height, name, va="center", color=style.INK_SOFT)
        fig.text(
            (fig_width - 0.04) / fig_width,
            y / fig_height,
            share,
            va="center",
            ha="right",
            color=style.INK,
        )
        y -= height / 2
    return fig


# --- this period against an earlier one ----------------------------------------------------


def _paired(spec: ChartSpec, wording: Wording) -> Figure:
    """Two bars a row (earlier light, current dark) and the change at the right."""
    table = spec.table
    count = len(table)
    notes_kzt = any(c.key == "change_kzt" for c in spec.columns) and bool(spec.notes)
    row_in = 0.44
    header = 0.2
    fig = _figure(spec, header + row_in * count + 0.04)
    fig_width = fig.get_size_inches()[0]
    categories = [_wrap(str(label), 1.4) for label in table["label"]]
    left = max(_text_width_in(label) for label in categories) + 0.08
    change_column = 1.0
    ax = _axes_in(fig, left, 0.04, change_column, header)
    earlier, current = spec.series
    bar = 0.36
    values = [float(v) for column in (earlier, current) for v in table[column]]
    texts = [cell_text(v, "usd", wording) for v in values]
    bar_width_in = fig_width - left - change_column
    limit = _value_limit(values, texts, bar_width_in)
    pad = limit * _PAD_IN / bar_width_in
    positions = list(range(count))[::-1]
    colours = (style.BLUE_TINTS[2], style.IOM_BLUE)
    for offset, column, colour in ((bar / 2, earlier, colours[0]), (-bar / 2, current, colours[1])):
        ys = [p + offset for p in positions]
        ax.barh(ys, table[column], height=bar, color=colour)
        for y, value in zip(ys, table[column], strict=True):
            ax.text(value + pad, y, cell_text(value, "usd", wording), va="center", color=style.INK)
    for pos, label in zip(positions, categories, strict=True):
        ax.text(-pad, pos, label, va="center", ha="right", color=style.INK_SOFT)
    ax.set_xlim(0, limit)
    ax.set_ylim(-0.5, count - 0.5)
    _bare(ax)
    ax.axvline(0, color=style.GREY, linewidth=0.6)
    _series_names(ax, spec, positions[0], bar, limit, bar_width_in)
    # The change column: what the change is of, then one figure a row.
    x_change = 1 - 0.06 / fig_width
    fig.text(
        x_change,
        1 - 0.1 / fig.get_size_inches()[1],
        wording.gettext("Change in USD"),
        ha="right",
        va="center",
        color=style.GREY,
        fontsize=style.BASE_SIZE - 0.5,
    )
    for pos, row in zip(positions, records(table), strict=True):
        y = ax.transData.transform((0, pos))[1]
        y_fig = fig.transFigure.inverted().transform((0, y))[1]
        change = row.get("change")
        ax_text = cell_text(change, "change", wording)
        fig.text(
            x_change,
            y_fig + (0.07 / fig.get_size_inches()[1] if notes_kzt else 0),
            ax_text,
            ha="right",
            va="center",
            fontweight="bold",
            color=style.INK,
        )
        if notes_kzt:
            fig.text(
                x_change,
                y_fig - 0.09 / fig.get_size_inches()[1],
                wording.gettext(
                    "KZT %(value)s", value=cell_text(row["change_kzt"], "change", wording)
                ),
                ha="right",
                va="center",
                color=style.GREY,
                fontsize=style.BASE_SIZE - 1,
            )
    return fig


def _series_names(
    ax: Axes, spec: ChartSpec, top: float, bar: float, limit: float, bar_width_in: float
) -> None:
    """Name the two series inside the first row's bars; a legend only where they do not fit."""
    earlier, current = spec.series
    first = spec.table.iloc[0]
    names = spec.series_labels
    fits = all(
        float(first[column]) / limit * bar_width_in > _text_width_in(name) + 0.12
        for column, name in zip((earlier, current), names, strict=True)
    )
    if fits:
        inset = limit * 0.05 / bar_width_in
        ax.text(inset, top + bar / 2, names[0], va="center", color=style.INK)
        ax.text(inset, top - bar / 2, names[1], va="center", color="white")
        return
    handles = ax.patches[: len(spec.table)][:1] + ax.patches[len(spec.table) :][:1]
    ax.legend(handles, names, loc="lower left", bbox_to_anchor=(0, 1), ncols=2, frameon=False)


def _change_marker(
    ax: Axes, first: float, last: float, x_last: float, texts: list[str], width: float
) -> None:
    """A dashed line at the first value's level and an arrow to the last, with the change."""
    x_arrow = x_last + width / 2 + 0.1
    ax.plot(
        [-width / 2, x_arrow + 0.02],
        [first, first],
        linestyle=(0, (2, 2)),
        color=style.GREY,
        linewidth=0.7,
    )
    ax.annotate(
        "",
        xy=(x_arrow, last),
        xytext=(x_arrow, first),
        arrowprops={
            "arrowstyle": "-|>",
            "color": style.INK,
            "linewidth": 0.9,
            "shrinkA": 0,
            "shrinkB": 0,
            "mutation_scale": 7,
        },
    )
    main, *more = texts
    middle = (first + last) / 2
    ax.annotate(
        main,
        (x_arrow, middle),
        xytext=(4, 5 if more else 0),
        textcoords="offset points",
        va="center",
        ha="left",
        fontweight="bold",
        color=style.INK,
    )
    for text in more:
        ax.annotate(
            text,
            (x_arrow, middle),
            xytext=(4, -6),
            textcoords="offset points",
            va="center",
            ha="left",
            fontsize=style.BASE_SIZE - 1,
            color=style.GREY,
        )


def _columns(spec: ChartSpec, wording: Wording) -> Figure:
    """A figure over a few periods, the last one dark, and its change from the first."""
    table = spec.table
    fig = _figure(spec, 1.75)
    fig_width = fig.get_size_inches()[0]
    ax = _axes_in(fig, 0.02, 0.3, 0.02, 0.05)
    values = [float(v) for v in table["value"]]
    count = len(values)
    positions = list(range(count))
    colours = [style.BLUE_TINTS[2]] * count
    colours[-1] = style.IOM_BLUE
    width = 0.55
    unit = "usd" if spec.unit == "usd" else "count"
    change = table["change"].iloc[-1] if "change" in table else None
    texts: list[str] = []
    if count > 1 and change is not None and not pd.isna(change):
        texts = [cell_text(change, "change", wording)]
        if spec.notes and "change_kzt" in table:
            kzt = cell_text(table["change_kzt"].iloc[-1], "change", wording)
            texts.append(wording.gettext("KZT %(value)s", value=kzt))
    # Room at the right for the change: the arrow, then its widest label.
    label_in = max([_text_width_in(t, bold=True) for t in texts], default=0)
    slot_in = (fig_width - 0.04) / (count + 0.1)
    extra = (0.2 + label_in / slot_in + 0.15) if texts else 0.0
    ax.bar(positions, values, color=colours, width=width)
    peak = max([*values, 0]) or 1.0
    for x, value in zip(positions, values, strict=True):
        ax.text(
            x,
            value + peak * 0.03,
            cell_text(value, unit, wording),
            ha="center",
            va="bottom",
            fontweight="bold",
            color=style.INK,
        )
    if texts:
        _change_marker(ax, values[0], values[-1], positions[-1], texts, width)
    slot = (fig_width - 0.04) / (count + extra)
    for x, label in zip(positions, table["label"], strict=True):
        ax.text(
            x,
            -peak * 0.04,
            _wrap(str(label), slot - 0.06),
            ha="center",
            va="top",
            color=style.INK_SOFT,
        )
    ax.set_xlim(-0.5, count - 0.5 + extra)
    ax.set_ylim(0, peak * 1.16)
    _bare(ax)
    ax.axhline(0, color=style.GREY, linewidth=0.6)
    return fig


# --- a balance: in, out and what remains, around zero ---------------------------------------


def _balance(spec: ChartSpec, wording: Wording) -> Figure:
    table = spec.table
    fig = _figure(spec, 1.75)
    ax = _axes_in(fig, 0.02, 0.3, 0.02, 0.05)
    values = [float(v) for v in table["value"]]
    positions = list(range(len(values)))
    balance_colour = style.IOM_BLUE if values[-1] >= 0 else style.RED
    colours = [style.LIGHT_BLUE, style.ORANGE, balance_colour][: len(values)]
    ax.bar(positions, values, color=colours, width=0.55)
    low, high = min([*values, 0]), max([*values, 0])
    span = (high - low) or 1.0
    for x, value in zip(positions, values, strict=True):
        last = x == positions[-1]
        text = (
            wording.signed(int(half_up(value, 0)))
            if last
            else cell_text(abs(value), "count", wording)
        )
        if value < 0 and not last:
            text = "−" + text
        ax.text(
            x,
            value + (span * 0.03 if value >= 0 else -span * 0.03),
            text,
            ha="center",
            va="bottom" if value >= 0 else "top",
            fontweight="bold" if last else "normal",
            color=style.INK,
        )
    fig_width = fig.get_size_inches()[0]
    slot = (fig_width - 0.04) / len(values) - 0.08
    ax.set_xlim(-0.5, len(values) - 0.5)
    ax.set_ylim(low - span * 0.14 if low < 0 else 0, high + span * 0.14)
    bottom = ax.get_ylim()[0]
    for x, label in zip(positions, table["label"], strict=True):
        ax.text(
            x,
            bottom - span * 0.04,
            _wrap(str(label), slot),
            ha="center",
            va="top",
            color=style.INK_SOFT,
        )
    _bare(ax)
    ax.axhline(0, color=style.GREY, linewidth=0.6)
    return fig


# --- a series over the quarters on file -----------------------------------------------------


def _trend(spec: ChartSpec, wording: Wording) -> Figure:
    """A line over quarters, dotted across a quarter not on file; hollow markers for
    figures that a later report states rather than this one's data."""
    table = spec.table
    xs = [int(x) - int(table["position"].iloc[0]) for x in table["position"]]
    labels, lines = _period_labels(spec, xs)
    extra = (lines - 1) * style.BASE_SIZE * 1.2 / 72  # a second line of period labels
    fig = _figure(spec, 1.5 + extra)
    ax = _axes_in(fig, 0.3, 0.25 + extra, 0.3, 0.05)
    values = [float(v) for v in table["value"]]
    unit = {"kzt": "kzt", "usd": "usd", "percent": "percent"}.get(spec.unit, "count")
    points = list(zip(xs, values, strict=True))
    for (x0, v0), (x1, v1) in pairwise(points):
        gap = x1 - x0 > 1
        ax.plot(
            [x0, x1],
            [v0, v1],
            color=style.BLUE_TINTS[1] if gap else style.IOM_BLUE,
            linewidth=1.0 if gap else 1.4,
            linestyle=(0, (1.5, 2)) if gap else "-",
            zorder=1,
        )
    stated = table["stated"] if "stated" in table else [False] * len(values)
    for x, value, later in zip(xs, values, stated, strict=True):
        face = "white" if later else style.IOM_BLUE
        ax.scatter([x], [value], s=22, facecolor=face, edgecolor=style.IOM_BLUE, zorder=2)
        ax.annotate(
            cell_text(value, unit, wording),
            (x, value),
            textcoords="offset points",
            xytext=(0, 5),
            ha="center",
            va="bottom",
            color=style.INK,
        )
    low, high = min([*values, 0]), max([*values, 0]) or 1.0
    ax.set_ylim(low, high + (high - low) * 0.22)  # room for the top value's label
    ax.set_xlim(-0.3, xs[-1] + 0.3)
    for x, label in zip(xs, labels, strict=True):
        ax.annotate(
            label,
            (x, low),
            textcoords="offset points",
            xytext=(0, -5),
            ha="center",
            va="top",
            color=style.INK_SOFT,
        )
    _bare(ax)
    ax.axhline(low, color=style.GREY, linewidth=0.6)
    return fig


def _period_labels(spec: ChartSpec, xs: list[int]) -> tuple[list[str], int]:
    """The trend's period labels, and on how many lines. Labels of neighbouring quarters
    that would run into each other (a half-width chart, a language of longer words: "2 кв.
    2022" beside "3 кв. 2022") all break after their last space onto a second line."""
    labels = [str(label) for label in spec.table["label"]]
    width = style.HALF_WIDTH_IN if spec.width == "half" else style.FULL_WIDTH_IN
    per_quarter = (width - 0.6) / (xs[-1] + 0.6)  # the axes' inches over its x range
    widths = [_text_width_in(label) for label in labels]
    clash = any(
        (left + right) / 2 + 0.05 > (x1 - x0) * per_quarter  # two word spaces apart at least
        for (x0, left), (x1, right) in pairwise(zip(xs, widths, strict=True))
    )
    if not clash or not all(" " in label for label in labels):
        return labels, 1
    return ["\n".join(label.rsplit(" ", 1)) for label in labels], 2


def _map(spec: ChartSpec, wording: Wording) -> Figure:
    from mtmreport.charts.regionmap import draw_region_map

    # Regions by their ISO codes (the labels are names in the edition's language).
    values = {str(r.code): float(r.value) for r in spec.table.itertuples()}
    return draw_region_map(values, words=map_words(wording))


def map_words(wording: Wording) -> MapWords:
    """The map's words in the edition's language: regions by their names in the reference
    table, without the generic word a map leaves out ("Akmola", "Акмолинская") unless the
    rest would read as a city's name ("Almaty region", beside "Almaty city"); numbers with
    two decimals at most, rounded half up as everywhere in the report."""
    from mtmreport.charts.regionmap import MapWords
    from mtmreport.reference import all_regions

    # Translators: the word for "region" that a map label leaves out of a region's name.
    generic = wording.pgettext("map label", "region")
    cities = [wording.place(r.iso).split() for r in all_regions() if r.is_city]

    def label(region: Region) -> str:
        name = wording.place(region.iso)
        if region.is_city or generic not in name.split():
            return name
        short = [word for word in name.split() if word != generic]
        if any(short == city[: len(short)] for city in cities):
            return name
        return " ".join(short)

    def number(value: float) -> str:
        rounded = half_up(value, 2).normalize()
        return wording.number(rounded, max(0, -int(rounded.as_tuple().exponent)))

    return MapWords(
        label=label,
        no_data=wording.gettext("No published figure"),
        number=number,
        percent=wording.percent_text,
    )


def draw(spec: ChartSpec, wording: Wording) -> Figure:
    with matplotlib.rc_context(style.rc_params()):
        match spec.kind:
            case "hbar":
                return _hbar(spec, wording)
            case "donut":
                return _donut(spec, wording)
            case "paired":
                return _paired(spec, wording)
            case "balance":
                return _balance(spec, wording)
            case "columns":
                return _columns(spec, wording)
            case "map":
                return _map(spec, wording)
            case "trend":
                return _trend(spec, wording)
    raise ValueError(f"unknown chart kind {spec.kind!r}")


def save(figure: Figure, path: Path) -> Path:
    """Write a chart so that the same data always gives the same bytes."""
    with matplotlib.rc_context(style.rc_params()):
        if path.suffix == ".svg":
            figure.savefig(path, format="svg", metadata={"Date": None})
        else:
            _save_png(figure, path)
    return path


def _save_png(figure: Figure, path: Path) -> None:
    """An opaque RGB PNG: the same pixels as `savefig`, without its all-opaque alpha channel,
    which WeasyPrint would split off and compress again as a mask for every chart."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    figure.set_dpi(DPI)
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())
    image = Image.fromarray(rgba)
    if rgba[..., 3].min() < 255:  # a see-through figure: flatten it onto the white page
        image = Image.alpha_composite(Image.new("RGBA", image.size, "white"), image)
    image.convert("RGB").save(path, format="png", dpi=(DPI, DPI))
