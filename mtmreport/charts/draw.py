"""Drawing a `ChartSpec` with matplotlib, one function per chart kind, in the IOM style.

Figures are made with `matplotlib.figure.Figure` rather than pyplot: no global state, no
window, safe to draw several at once. Values are labelled directly on the marks, so most
charts need no legend and no value axis.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure

from mtmreport.charts import style
from mtmreport.charts.plan import ChartSpec
from mtmreport.wording import Wording

Formatter = Callable[[float], str]

DPI = 200


def _formatter(spec: ChartSpec, wording: Wording) -> Formatter:
    if spec.unit == "percent":
        return lambda v: wording.percent_sign(v, 1)
    if spec.unit in ("usd", "kzt"):
        return lambda v: wording.number(v, 1)
    if spec.kind == "balance":
        return lambda v: wording.signed(round(v))
    return lambda v: wording.number(round(v))


def _figure(height: float) -> Figure:
    return Figure(figsize=(style.FIGURE_WIDTH_IN, height), layout="constrained")


def _hbar(spec: ChartSpec, wording: Wording) -> Figure:
    fmt = _formatter(spec, wording)
    table = spec.table
    count = len(table)
    fig = _figure(0.3 + 0.24 * count)
    ax = fig.add_subplot()
    labels = list(table["label"])
    values = [float(v) for v in table["value"]]
    other_labels = {wording.text(k) for k in ("ui.other", "ui.other_cis", "ui.other_non_cis")}
    colours = [style.GREY if label in other_labels else style.IOM_BLUE for label in labels]
    positions = list(range(count))[::-1]
    ax.barh(positions, values, color=colours, height=0.7)
    ax.set_yticks(positions, labels)
    ax.tick_params(axis="y", length=0)
    ax.set_xticks([])
    ax.spines[["bottom", "top", "right"]].set_visible(False)
    peak = max(values) if values else 1
    for pos, value, share in zip(positions, values, spec.shares or [None] * count, strict=False):
        text = fmt(value)
        if share is not None and spec.unit != "percent":
            text += f"  ({wording.percent_sign(share, 1)})"
        ax.text(value + peak * 0.01, pos, text, va="center", ha="left", color="#222222")
    ax.set_xlim(0, peak * 1.32)
    return fig


def _donut(spec: ChartSpec, wording: Wording) -> Figure:
    table = spec.table
    fig = _figure(2.7)
    ax = fig.add_subplot()
    values = [float(v) for v in table["value"]]
    colours = [style.CATEGORICAL[i % len(style.CATEGORICAL)] for i in range(len(values))]
    other = wording.text("ui.other")
    colours = [
        style.GREY if lab == other else col
        for lab, col in zip(table["label"], colours, strict=True)
    ]
    wedges, _ = ax.pie(
        values,
        colors=colours,
        startangle=90,
        counterclock=False,
        wedgeprops={"width": 0.38, "edgecolor": "white", "linewidth": 1},
    )
    shares = spec.shares or tuple(values)
    labels = [
        f"{label}  {wording.percent_sign(share, None if spec.unit == 'percent' else 1)}"
        for label, share in zip(table["label"], shares, strict=False)
    ]
    ax.legend(
        wedges,
        labels,
        loc="center left",
        bbox_to_anchor=(1.0, 0.5),
        frameon=False,
        handlelength=0.9,
        handleheight=0.9,
    )
    if spec.center_label:
        ax.text(
            0,
            0,
            spec.center_label,
            ha="center",
            va="center",
            fontsize=11,
            fontweight="bold",
            color=style.IOM_BLUE,
        )
    ax.set_aspect("equal")
    return fig


def _paired(spec: ChartSpec, wording: Wording) -> Figure:
    fmt = _formatter(spec, wording)
    table = spec.table
    count = len(table)
    fig = _figure(0.6 + 0.55 * count)
    ax = fig.add_subplot()
    positions = list(range(count))[::-1]
    height = 0.36
    earlier, current = spec.series
    colours = (style.BLUE_TINTS[2], style.IOM_BLUE)
    peak = max(max(table[earlier]), max(table[current]))
    for offset, column, colour, label in (
        (height / 2, earlier, colours[0], spec.series_labels[0]),
        (-height / 2, current, colours[1], spec.series_labels[1]),
    ):
        ys = [p + offset for p in positions]
        ax.barh(ys, table[column], height=height, color=colour, label=label)
        for y, value in zip(ys, table[column], strict=True):
            ax.text(value + peak * 0.01, y, fmt(value), va="center", fontsize=7.5)
    for pos, row in zip(positions, table.itertuples(), strict=True):
        change = (
            getattr(row, current) / getattr(row, earlier) - 1 if getattr(row, earlier) else None
        )
        if change is not None:
            colour = style.IOM_BLUE if change >= 0 else style.RED
            sign = "+" if change >= 0 else "−"
            ax.text(
                peak * 1.38,
                pos,
                f"{sign}{wording.share(abs(change) * 100, 1)}%",
                va="center",
                ha="right",
                color=colour,
                fontweight="bold",
            )
    ax.set_yticks(positions, list(table["label"]))
    ax.tick_params(axis="y", length=0)
    ax.set_xticks([])
    ax.spines[["bottom", "top", "right"]].set_visible(False)
    ax.set_xlim(0, peak * 1.4)
    ax.legend(loc="lower right", frameon=False, ncols=2, bbox_to_anchor=(1, 1.0))
    return fig


def _vertical(spec: ChartSpec, wording: Wording, around_zero: bool) -> Figure:
    fmt = _formatter(spec, wording)
    table = spec.table
    fig = _figure(2.4)
    ax = fig.add_subplot()
    values = [float(v) for v in table["value"]]
    positions = list(range(len(values)))
    if around_zero:
        colours = [style.IOM_BLUE if v >= 0 else style.ORANGE for v in values]
        colours[-1] = style.MINT if values[-1] >= 0 else style.RED
    else:
        colours = [style.BLUE_TINTS[2]] * len(values)
        colours[-1] = style.IOM_BLUE
    ax.bar(positions, values, color=colours, width=0.55)
    ax.axhline(0, color=style.GREY, linewidth=0.8)
    span = max([*values, 0]) - min([*values, 0]) or 1
    for x, value in zip(positions, values, strict=True):
        offset = span * 0.03
        ax.text(
            x,
            value + (offset if value >= 0 else -offset),
            fmt(value),
            ha="center",
            va="bottom" if value >= 0 else "top",
            fontweight="bold",
            color="#222222",
        )
    ax.set_xticks(positions, list(table["label"]))
    ax.tick_params(axis="x", length=0)
    ax.set_yticks([])
    ax.spines[["left", "top", "right", "bottom"]].set_visible(False)
    low, high = min([*values, 0]), max([*values, 0])
    ax.set_ylim(low - span * 0.15 if low < 0 else 0, high + span * 0.15)
    return fig


def _trend(spec: ChartSpec, wording: Wording) -> Figure:
    """A series over quarters; hollow markers for figures a later report states."""
    fmt = _formatter(spec, wording)
    table = spec.table
    fig = _figure(2.0)
    ax = fig.add_subplot()
    xs = [int(x) - int(table["position"].iloc[0]) for x in table["position"]]
    values = [float(v) for v in table["value"]]
    ax.plot(xs, values, color=style.IOM_BLUE, linewidth=1.6, zorder=1)
    for x, value, stated in zip(xs, values, table["stated"], strict=True):
        face = "white" if stated else style.IOM_BLUE
        ax.scatter([x], [value], s=28, facecolor=face, edgecolor=style.IOM_BLUE, zorder=2)
        ax.annotate(
            fmt(value),
            (x, value),
            textcoords="offset points",
            xytext=(0, 6),
            ha="center",
            fontsize=8,
            color="#222222",
        )
    ax.set_xticks(xs, list(table["label"]))
    ax.tick_params(axis="x", length=0)
    ax.set_yticks([])
    ax.spines[["left", "top", "right"]].set_visible(False)
    low, high = min([*values, 0]), max(values)
    ax.set_ylim(low, high * 1.2 if high > 0 else 1)
    ax.set_xlim(-0.4, xs[-1] + 0.4)
    return fig


def _map(spec: ChartSpec, wording: Wording) -> Figure:
    from mtmreport.charts.regionmap import draw_region_map

    values = {str(r.label): float(r.value) for r in spec.table.itertuples()}
    return draw_region_map(values)


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
                return _vertical(spec, wording, around_zero=True)
            case "columns":
                return _vertical(spec, wording, around_zero=False)
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
