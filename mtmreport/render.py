"""Jinja2 environment and the report's HTML: IOM number filters, safe Markdown, footnotes.

Autoescaping is on for every template. Narrative Markdown from the quarter file is rendered
with raw HTML disabled and then sanitised (only text formatting, lists and http(s)/mailto
links survive; no images, no scripts), so an analyst's file can never inject markup or make
the PDF renderer fetch anything. A link to anything but an `https:`/`http:` address or a
`mailto:` becomes its text: a relative path or `//host/share` would otherwise become a
`file:` link in the PDF, and clicking a network-share link makes Windows contact that host.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import nh3
from jinja2 import (
    BytecodeCache,
    Environment,
    FileSystemBytecodeCache,
    StrictUndefined,
    select_autoescape,
)
from jinja2.bccache import Bucket
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

from mtmreport import compute
from mtmreport.annex import Annex
from mtmreport.charts.plan import alt_text
from mtmreport.charts.spec import ChartSpec, data_rows
from mtmreport.failures import undefined_words
from mtmreport.periods import Period
from mtmreport.review import Review
from mtmreport.tables import TableSpec, plan_tables
from mtmreport.theme import Templates
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


def outside_link(href: str) -> bool:
    """Whether a link may reach the output: an absolute http(s) address or a mailto."""
    try:
        parts = urlsplit(href.strip())
    except ValueError:
        return False
    scheme = parts.scheme.lower()
    return (scheme in ("http", "https") and bool(parts.netloc)) or (
        scheme == "mailto" and bool(parts.path)
    )


def _links_as_text(state: Any) -> None:
    """A markdown-it core rule: links to anything but `outside_link`s lose their link."""
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        kept, dropped = [], []  # dropped: for each open link, whether its open was dropped
        for token in block.children:
            if token.type == "link_open":
                drop = not outside_link(str(token.attrGet("href") or ""))
                dropped.append(drop)
                if drop:
                    continue
            elif token.type == "link_close" and dropped and dropped.pop():
                continue
            kept.append(token)
        block.children = kept


@cache
def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False}).disable("image")
    md.core.ruler.push("links_as_text", _links_as_text)
    return md


def _allowed_attribute(tag: str, attribute: str, value: str) -> str | None:
    if tag == "a" and attribute == "href" and not outside_link(value):
        return None
    return value


def _sanitise(html: str) -> Markup:
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_SCHEMES,
        link_rel="noopener noreferrer",
        attribute_filter=_allowed_attribute,  # nh3 lets relative links through otherwise
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
        # A word joiner: the footnote call never starts a line of its own.
        return Markup('\u2060<span class="footnote">{}</span>').format(text)


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


class _PlainUndefined(StrictUndefined):
    """Strict, as every undefined value must be, and worded for a template's author: which
    name is undefined and what it was looked up in (`failures.undefined_words`), never
    `'mtmreport.model.Block object' has no attribute …`."""

    __slots__ = ()

    @property
    def _undefined_message(self) -> str:
        return undefined_words(self._undefined_obj, self._undefined_name, self._undefined_hint)


def make_environment(
    templates: Templates,
    wording: Wording,
    *,
    persistent_templates: bool = False,
    review: Review | None = None,
) -> Environment:
    """The templates' environment; with `persistent_templates`, compiled templates are kept
    on disk for the next process, otherwise in this process's memory.

    Compiling the templates is two thirds of rendering a report. Jinja checks each kept
    template against its source; the files are also named after this module and Jinja's
    version, since the environment's options shape the compiled code too.
    """
    env = Environment(
        loader=templates.loader(),  # the project's templates, then the package's
        extensions=["jinja2.ext.i18n", "jinja2.ext.do"],
        bytecode_cache=_disk_cache() if persistent_templates else _COMPILED,
        autoescape=select_autoescape(["html", "j2", "html.j2"], default=True),
        undefined=_PlainUndefined,
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
        qualified=lambda amount, qualifier: _qualified(wording, amount, qualifier),
        rate=wording.rate,
        signed=wording.signed,
        period=lambda p, style="long": wording.period(Period.parse(p), style),
        md=markdown_block,
        md_inline=markdown_inline,
        md_cited=markdown_cited,
        sentence_list=lambda items: wording.sentence_list([escape(i) for i in items]),
        counts_said=counts_said,
        rows=compute.table_rows,
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
    if review is not None:  # the review view: every printed number says where it comes from
        env.filters.update(review.filters(wording))
    env.globals.update(w=wording, review=review is not None)
    return env


def _disk_cache() -> BytecodeCache:
    """Jinja's own per-user cache folder (in the system's temporary folder, created 0700 and
    checked to belong to this user), never the output folder: loading compiled code runs it,
    so it is read only from where no one else can write. Memory when there is no safe one."""
    import hashlib
    from importlib.metadata import version

    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update(version("jinja2").encode())
    try:
        return FileSystemBytecodeCache(pattern=f"__mtmreport_{digest.hexdigest()[:16]}_%s.cache")
    except (RuntimeError, OSError):  # no safe folder: Jinja refuses one others could write
        return _COMPILED


def _qualified(wording: Wording, amount: str, qualifier: str | None) -> Markup:
    """`Wording.qualified` for templates: the amount may be markup (the review view's marks),
    which the wording's plain text must not escape."""
    slot = "\x00"
    return escape(wording.qualified(slot, qualifier)).replace(slot, escape(amount))


def counts_said(placed: compute.PlacedBlock | None) -> set[tuple[str, Period, int]]:
    """The counts a block's sentences state, as (subject, period, count): what the block
    after it need not state again ("There were 14,571 migrant workers" once is enough)."""
    if placed is None or placed.pending:
        return set()
    f = placed.figures
    match f:
        case compute.BreakdownFigures() if f.total is not None:
            return {(f.block.subject, f.block.period, f.total)}
        case compute.ComparisonFigures():
            said = {(f.block.subject, v.period, v.value) for v in f.block.values}
            if f.combined_period is not None:
                said.add((f.block.subject, f.combined_period, f.combined_total))
            return said
    return set()


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
    figures: compute.QuarterFigures,
    charts: dict[tuple, list[ChartView]],
    wording: Wording,
    templates: Templates,
    *,
    tables: dict[tuple, list[TableSpec]] | None = None,
    stylesheet: str = "report.css",
    logo: str | None = None,
    annex: Annex | None = None,
    links: dict[tuple, list[Any]] | None = None,
    persistent_templates: bool = False,
    review: Review | None = None,
) -> str:
    """The whole report as one HTML document; with `review`, the review view of it."""
    env = make_environment(
        templates, wording, persistent_templates=persistent_templates, review=review
    )
    template = env.get_template("report.html.j2")
    quarter = figures.quarter_file
    by_location = {b.location: b for b in figures.blocks}
    html = template.render(
        q=quarter,
        period=figures.period,
        figures=figures,
        blocks=by_location,
        # the block printed just before each one, so a sentence never repeats the last one
        previous=dict(zip(by_location, [None, *figures.blocks], strict=False)),
        charts=charts,
        # planned here unless the caller shares them with the annex
        tables=plan_tables(figures, wording) if tables is None else tables,
        notes=Footnotes(ibid=wording.gettext("Ibid.")),
        stylesheet=stylesheet,
        logo=logo,
        annex=annex,
        links=links or {},
    )
    return typographic_ties(html, unit_phrases(wording))


NO_BREAK_SPACE = "\u00a0"
_TAG = re.compile(r"(<[^>]*>)")
_SPACED_DASH = re.compile(r" ([–—]) ")


def unit_phrases(wording: Wording) -> list[str]:
    """What the strings catalogue prints after a number: " per cent", "%", " billion KZT"."""
    samples = (wording.per_cent(7), wording.percent_sign(7))
    samples += (wording.billion_kzt(7, 0), wording.million_usd(7, 0))
    return sorted({s.split("7", 1)[1] for s in samples if "7" in s}, key=len, reverse=True)


def typographic_ties(html: str, units: list[str]) -> str:
    """No line break between a number and its unit, nor before a spaced dash ("July – September"
    never starts a line with the dash), in every text of the document, whoever wrote it."""
    spaced = [unit for unit in units if " " in unit]
    number_unit = (
        re.compile(r"(?<=\d)(" + "|".join(re.escape(u) for u in spaced) + r")(?!\w)")
        if spaced
        else None
    )
    # The head is left alone: the title becomes the PDF's metadata, which has no lines.
    start = html.find("<body")
    head, html = (html[:start], html[start:]) if start >= 0 else ("", html)
    parts = _TAG.split(html)
    for i in range(0, len(parts), 2):  # even parts are text, odd ones tags
        text = _SPACED_DASH.sub(NO_BREAK_SPACE + r"\1 ", parts[i])
        if number_unit is not None:
            text = number_unit.sub(lambda m: m.group(1).replace(" ", NO_BREAK_SPACE), text)
        parts[i] = text
    return head + "".join(parts)
