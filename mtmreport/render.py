"""Jinja2 environment and the report's HTML: IOM number filters, safe Markdown, footnotes.

Autoescaping is on for every template. Narrative Markdown from the quarter file is rendered
with raw HTML disabled and then sanitised (only text formatting, lists and http(s)/mailto
links survive; no images, no scripts), so an analyst's file can never inject markup or make
the PDF renderer fetch anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import nh3
import pandas as pd
from jinja2 import (
    BytecodeCache,
    Environment,
    FileSystemBytecodeCache,
    FileSystemLoader,
    StrictUndefined,
    select_autoescape,
)
from jinja2.bccache import Bucket
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

from mtmreport import compute as c
from mtmreport.annex import Annex
from mtmreport.charts.plan import alt_text
from mtmreport.charts.spec import ChartSpec, data_rows
from mtmreport.periods import Period
from mtmreport.wording import Wording

ALLOWED_TAGS = {
    "p",
    "em",
    "strong",
    "ul",
    "ol",
    "li",
    "a",
    "br",
    "code",
    "blockquote",
    "sup",
    "sub",
}
ALLOWED_ATTRIBUTES = {"a": {"href"}}
ALLOWED_SCHEMES = {"http", "https", "mailto"}


@cache
def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).disable("image")


def _sanitise(html: str) -> Markup:
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_SCHEMES,
        link_rel="noopener noreferrer",
    )
    return Markup(cleaned)


def markdown_block(text: str | None) -> Markup:
    return _sanitise(_markdown().render(text or ""))


def markdown_cited(text: str | None, note: Markup) -> Markup:
    """Markdown paragraphs with a footnote call at the end of the last one."""
    html = markdown_block(text)
    cut = html.rfind("</p>")
    if cut < 0 or not note:
        return html + note
    return Markup(html[:cut]) + note + Markup(html[cut:])


def markdown_inline(text: str | None) -> Markup:
    return _sanitise(_markdown().renderInline(text or ""))


@dataclass
class Footnotes:
    """Numbered source notes in reading order; a source right after itself becomes "Ibid."

    One instance lives for one rendering of one report, so its state never leaks.
    """

    ibid: str
    entries: list[str] = field(default_factory=list)

    def cite(self, source: str | None) -> Markup:
        if not source:
            return Markup("")
        text = self.ibid if self.entries and self.entries[-1] == source else source
        self.entries.append(source)
        return Markup('<span class="footnote">{}</span>').format(text)


@dataclass(frozen=True)
class ChartView:
    """A chart as the templates need it: spec, file name, alt text and its data as text."""

    spec: ChartSpec
    src: str
    alt: str
    cells: list[list[str]] = field(default_factory=list)

    @property
    def headers(self) -> list[str]:
        return [column.header for column in self.spec.columns]


def figure_rows(views: list[ChartView]) -> list[list[ChartView]]:
    """Figures as printed: two consecutive half-width charts share a row, side by side."""
    rows: list[list[ChartView]] = []
    for view in views:
        last = rows[-1] if rows else None
        if (
            view.spec.width == "half"
            and last is not None
            and len(last) == 1
            and last[0].spec.width == "half"
        ):
            last.append(view)
        else:
            rows.append([view])
    return rows


class _CompiledTemplates(BytecodeCache):
    """Compiled templates kept for the life of the process, keyed by file and checked by Jinja
    against a checksum of the source, so an edited template is compiled afresh. Compiling is
    most of rendering: a long-running preview (`mtmreport serve`) rebuilds twice as fast.
    Valid because every environment here is made by `make_environment`, with the same options.
    """

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if bucket.key in self._code:
            bucket.bytecode_from_string(self._code[bucket.key])

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


_COMPILED = _CompiledTemplates()


def make_environment(
    templates_dir: Path, wording: Wording, *, bytecode_dir: Path | None = None
) -> Environment:
    """The templates' environment; with `bytecode_dir`, compiled templates are kept there,
    otherwise in this process's memory.

    Compiling the templates is two thirds of rendering a report. Jinja checks each kept
    template against its source; the folder is also named after this module and Jinja's
    version, since the environment's options shape the compiled code too.
    """
    env = Environment(
        loader=FileSystemLoader(str(templates_dir)),
        extensions=["jinja2.ext.i18n", "jinja2.ext.do"],
        bytecode_cache=_bytecode_cache(bytecode_dir) if bytecode_dir else _COMPILED,
        autoescape=select_autoescape(["html", "j2", "html.j2"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        num=wording.number,
        per_cent=wording.per_cent,
        pct=wording.percent_sign,
        billion_kzt=wording.billion_kzt,
        million_usd=wording.million_usd,
        money=wording.money,
        change=wording.change,
        signed=wording.signed,
        period=lambda p, style="long": wording.period(Period.parse(p), style),
        md=markdown_block,
        md_inline=markdown_inline,
        md_cited=markdown_cited,
        sentence_list=lambda items: sentence_list(items, wording),
        rows=table_rows,
        in_text=wording.country_in_text,
        place=wording.place,
        capfirst=lambda s: s[:1].upper() + s[1:] if s else s,
        figure_rows=figure_rows,
        two_columns=two_columns,
    )
    env.policies["ext.i18n.trimmed"] = True  # {% trans %} blocks as one line, as extracted
    translations = wording.translations
    # Newstyle: %-formatting and escaping of values by the extension, as `Wording` does.
    env.install_gettext_callables(  # type: ignore[attr-defined]
        translations.gettext,
        translations.ngettext,
        newstyle=True,
        pgettext=translations.pgettext,
        npgettext=translations.npgettext,
    )
    env.globals.update(w=wording)
    return env


def _bytecode_cache(folder: Path) -> FileSystemBytecodeCache:
    import hashlib
    from importlib.metadata import version

    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update(version("jinja2").encode())
    path = folder / digest.hexdigest()[:16]
    path.mkdir(parents=True, exist_ok=True)
    return FileSystemBytecodeCache(str(path))


def table_rows(frame: pd.DataFrame) -> list[SimpleNamespace]:
    """A computed table as rows for templates, with pandas' missing values as None."""
    return [
        SimpleNamespace(**{k: None if _missing(v) else v for k, v in record.items()})
        for record in frame.to_dict("records")
    ]


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def sentence_list(items: list[Any], wording: Wording) -> Markup:
    """ "a, b and c" with each item escaped (items may be Markup)."""
    parts = [escape(i) for i in items]
    if len(parts) <= 1:
        return Markup("").join(parts)
    # Translators: the end of a list in running text, "a, b and c".
    pattern = escape(wording.translations.gettext("%(items)s and %(last)s"))
    return pattern % {"items": Markup(", ").join(parts[:-1]), "last": parts[-1]}


def two_columns(items: list[Any]) -> list[list[Any]]:
    """Items with `title` and `text` split, in order, into two columns of even length.

    What CSS column balancing with unbreakable items does, decided here by text length: the
    split point that makes the longer column shortest, the first column longer on a tie.
    """

    def weight(item: Any) -> int:
        text = item.text or ""
        return len(item.title or "") + len(text) + 60 + 40 * text.count("\n\n")

    weights = [weight(i) for i in items]
    best = min(
        range(len(items) + 1),
        key=lambda k: (max(sum(weights[:k]), sum(weights[k:])), -k),
    )
    return [list(items[:best]), list(items[best:])]


def chart_views(
    specs: dict[tuple, list[ChartSpec]], files: dict[str, str], wording: Wording
) -> dict[tuple, list[ChartView]]:
    return {
        location: [
            ChartView(s, files[s.file_stem], alt_text(s, wording), data_rows(s, wording))
            for s in block_specs
        ]
        for location, block_specs in specs.items()
    }


def render_report(
    figures: c.QuarterFigures,
    charts: dict[tuple, list[ChartView]],
    wording: Wording,
    templates_dir: Path,
    *,
    stylesheet: str = "report.css",
    logo: str | None = None,
    annex: Annex | None = None,
    links: dict[tuple, list[Any]] | None = None,
    bytecode_dir: Path | None = None,
) -> str:
    """The whole report as one HTML document."""
    env = make_environment(templates_dir, wording, bytecode_dir=bytecode_dir)
    template = env.get_template("report.html.j2")
    quarter = figures.quarter
    by_location = {b.location: b for b in figures.blocks}
    return template.render(
        q=quarter,
        period=figures.period,
        figures=figures,
        blocks=by_location,
        charts=charts,
        notes=Footnotes(ibid=wording.gettext("Ibid.")),
        stylesheet=stylesheet,
        logo=logo,
        annex=annex,
        links=links or {},
    )
