"""The PDF step: WeasyPrint, fenced in.

WeasyPrint's default fetcher reads any local file and any URL, so a crafted link could embed
`/etc/passwd` or call out to the network. Ours admits only `data:` URLs and files inside the
folders the build names (its own output and the templates); everything else is refused and
recorded. WeasyPrint is imported here only, so commands that make no PDF never pay for it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from math import inf
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import weasyprint.document
import weasyprint.layout
import weasyprint.layout.page
from weasyprint import CSS, HTML, URLFetcher
from weasyprint.document import Document, Page
from weasyprint.formatting_structure import boxes

from mtmreport import pdfua

REPRODUCIBLE_EPOCH = "1700000000"
PDF_VARIANT = "pdf/ua-1"

# The back matter (disclaimer, publisher) starts a page of its own (report.css) unless it fits
# below the end of the text: then it follows it, with a rule, rather than leave a page nearly
# empty. CSS cannot say "a new page only if this does not fit": a block that may stay or move
# whole (break-inside: avoid) makes WeasyPrint 70 push the footnotes of the page it tried to
# fill onto the next page, away from their calls. So the choice is made on the laid-out pages.
# (A stylesheet given to `render` is the user's, which yields to the author's unless important.)
BACK_MATTER_FOLLOWING = (
    "break-before: auto !important; margin-top: 8mm !important;"
    " padding-top: 5mm !important; border-top: 0.5pt solid #B3C2E3 !important"
)
BACK_MATTER_FOLLOWS = f".back-matter {{ {BACK_MATTER_FOLLOWING}; }}"
BACK_MATTER_SPECIFICITY = (0, 1, 0)  # of the selector `.back-matter`
BACK_MATTER_GAP_PX = 13 * 96 / 25.4  # the margin and padding above, in CSS pixels


# The document is laid out against this virtual base URL, which the fetcher maps onto the
# folder being built. The PDF then names its images and fonts after paths inside the report
# only, so the same report gives the same bytes whichever folder it is built in.
VIRTUAL_ROOT = "file:///mtmreport-report/"


class ConfinedFetcher(URLFetcher):
    """A URL fetcher for `data:` URLs and files below the allowed folders, nothing else."""

    def __init__(self, allowed_roots: list[Path], virtual_root: Path | None = None):
        super().__init__(allowed_protocols={"file", "data"}, allow_redirects=False)
        self.roots = [root.resolve() for root in allowed_roots]
        self.virtual_root = virtual_root.resolve() if virtual_root else None
        self.refused: list[str] = []

    def translate(self, url: str) -> str:
        """Map a URL under the virtual root onto the real folder."""
        if self.virtual_root is not None and url.startswith(VIRTUAL_ROOT):
            relative = unquote(urlsplit(url).path[len(urlsplit(VIRTUAL_ROOT).path) :])
            return (self.virtual_root / relative).as_uri()
        return url

    def allows(self, url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme == "data":
            return True
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            return False
        path = Path(unquote(parts.path)).resolve()
        return any(path.is_relative_to(root) for root in self.roots)

    def fetch(self, url: str, headers: dict[str, str] | None = None):  # type: ignore[override]
        real = self.translate(url)
        if not self.allows(real):
            self.refused.append(url)
            raise ValueError(f"mtmreport does not fetch {url!r}")
        return super().fetch(real, headers)


class WaitingFetcher(ConfinedFetcher):
    """The confined fetcher of a build whose charts may still be being drawn while WeasyPrint
    computes styles (see `build.build_report`): the first time an allowed file is not there
    yet, `on_missing` is called, once, to put it and the others still to come in place."""

    def __init__(
        self,
        allowed_roots: list[Path],
        virtual_root: Path | None = None,
        on_missing: Callable[[], None] | None = None,
    ):
        super().__init__(allowed_roots, virtual_root)
        self._on_missing = on_missing
        self.failure: Exception | None = None

    def fetch(self, url: str, headers: dict[str, str] | None = None):  # type: ignore[override]
        parts = urlsplit(self.translate(url))
        if (
            self._on_missing is not None
            and self.allows(parts.geturl())
            and parts.scheme == "file"
            and not Path(unquote(parts.path)).exists()
        ):
            waiting, self._on_missing = self._on_missing, None
            try:
                waiting()
            except Exception as error:  # WeasyPrint would log it and leave the image out
                self.failure = error
                raise
        return super().fetch(url, headers)


@contextmanager
def _reproducible_timestamps() -> Iterator[None]:
    """Font subsetting stamps the current time into fonts unless SOURCE_DATE_EPOCH is set."""
    previous = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = previous or REPRODUCIBLE_EPOCH
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)


def _flow_bottom(page_box: boxes.PageBox) -> float:
    """Where a page's text and images end, in CSS pixels from the top of the page (split
    boxes reach the page's foot, their lines and images do not)."""
    bottom = page_box.content_box_y()
    for box in page_box.children[0].descendants():
        if isinstance(box, (boxes.LineBox, boxes.ReplacedBox)):
            bottom = max(bottom, box.position_y + box.margin_height())
    return bottom


def _space_left(page_box: boxes.PageBox) -> float:
    """Room under the text of a page, above its footnotes."""
    floor = page_box.content_box_y() + page_box.height
    for child in page_box.children:
        if isinstance(child, boxes.FootnoteAreaBox) and child.children:
            floor = min(floor, child.position_y)
    return floor - _flow_bottom(page_box)


def _is_back_matter(box: boxes.Box) -> bool:
    if box.element_tag != "section" or box.element is None:
        return False
    return "back-matter" in (box.element.get("class") or "").split()


def _back_matter_page(document: Document) -> int | None:
    """The index of the page the back matter starts on."""
    for index, page in enumerate(document.pages):
        if any(_is_back_matter(box) for box in page._page_box.children[0].descendants()):
            return index
    return None


def back_matter_fits(document: Document) -> bool:
    """Whether the back matter, laid out on a page of its own, would fit below the text of
    the page before it."""
    index = _back_matter_page(document)
    if not index:
        return False
    if index != len(document.pages) - 1:
        return False  # longer than a page: it keeps its own
    page = document.pages[index]._page_box
    box = next(box for box in page.children[0].descendants() if _is_back_matter(box))
    needed = box.margin_height() + BACK_MATTER_GAP_PX
    return needed <= _space_left(document.pages[index - 1]._page_box)


def lay_out(document: HTML) -> Document:
    """The report's pages as they are printed (the tests read the same layout)."""
    record = _Record()
    with _recording(record):
        laid_out = document.render(pdf_variant=PDF_VARIANT)
    if not back_matter_fits(laid_out):
        return laid_out
    pages = len(laid_out.pages)
    try:
        following = _back_matter_following(laid_out, record)
    except Exception:  # WeasyPrint's internals did not go as recorded: the whole way below
        following = None
    # The shortcut must give what it stands for: the back matter on the last page of text.
    if following is None or not _follows_the_text(following, pages):
        following = document.render(
            stylesheets=[CSS(string=BACK_MATTER_FOLLOWS)], pdf_variant=PDF_VARIANT
        )
    return following


def _follows_the_text(document: Document, pages_before: int) -> bool:
    """Whether `document`, laid out again from `pages_before` pages with the back matter on
    the last, is one page shorter and ends with the back matter on its last page."""
    return (
        len(document.pages) == pages_before - 1
        and _back_matter_page(document) == len(document.pages) - 1
    )


# --- the back matter after the text, without laying the whole report out again -------------
#
# The report is laid out first with the back matter on a page of its own; if it fits below the
# text, the pages before the last text page are the same either way, so only the pages from
# there on are laid out again (~0.1 s rather than ~0.5 s for the Russian 2023-Q3 edition).
# WeasyPrint does this itself when page counters change (`make_all_pages` remakes the pages
# whose `remake_state` says so), but offers no call for it: `Document._render` keeps its
# layout context, box tree and pages only while it runs. So its own functions are wrapped,
# during our renders, to keep them: what each page started from, and the pages before their
# margin boxes. WeasyPrint is pinned (pyproject.toml); tests/test_speed.py checks that the
# result is byte for byte what a whole second layout gives.

_HOOKS = threading.Lock()  # the wrapped functions are WeasyPrint's module globals


class _NotRecorded(RuntimeError):
    """WeasyPrint's layout did not go through the functions this module wraps."""


@dataclass
class _Record:
    """What one render laid out: its layout call, its pages before their margin boxes, and
    the layout context's state as each page was started."""

    layout: tuple[Any, boxes.Box, Any] | None = None  # html, root box, layout context
    pages: list[tuple[boxes.PageBox, tuple, list]] = field(default_factory=list)
    starts: dict[int, tuple[list, list, dict]] = field(default_factory=dict)


@contextmanager
def _recording(
    record: _Record, pages: list[boxes.PageBox] | None = None, page_maker: list | None = None
) -> Iterator[None]:
    """WeasyPrint's layout functions wrapped to fill `record`; given `pages` and
    `page_maker`, a layout that starts from them rather than from nothing."""
    document_module, layout_module = weasyprint.document, weasyprint.layout
    page_module = weasyprint.layout.page
    try:
        originals = (
            document_module.layout_document,
            layout_module.initialize_page_maker,
            layout_module.make_all_pages,
            page_module.remake_page,
        )
    except AttributeError:  # another WeasyPrint: nothing recorded, `lay_out` lays out twice
        yield
        return
    layout_document, initialize_page_maker, make_all_pages, remake_page = originals
    # Module globals are seen by every thread: a render in another thread (one not recording)
    # goes straight through to WeasyPrint's own functions.
    owner = threading.get_ident()

    def recorded_layout_document(html, root_box, context, *args, **kwargs):  # type: ignore[no-untyped-def]
        if threading.get_ident() == owner:
            record.layout = (html, root_box, context)
        return layout_document(html, root_box, context, *args, **kwargs)

    def kept_page_maker(context, root_box):  # type: ignore[no-untyped-def]
        if page_maker is None or threading.get_ident() != owner:
            return initialize_page_maker(context, root_box)
        context.page_maker = page_maker
        return None

    def recorded_make_all_pages(context, root_box, html, made):  # type: ignore[no-untyped-def]
        if threading.get_ident() != owner:
            yield from make_all_pages(context, root_box, html, made)
            return
        made = list(make_all_pages(context, root_box, html, made or pages or []))
        # Margin boxes are added to these very boxes afterwards: keep what they held.
        record.pages = [(page, page.children, page.children[0].children) for page in made]
        yield from made

    def recorded_remake_page(index, context, root_box, html):  # type: ignore[no-untyped-def]
        if threading.get_ident() != owner:
            return remake_page(index, context, root_box, html)
        record.starts[index] = (
            list(context.footnotes),
            list(context.reported_footnotes),
            dict(context.broken_out_of_flow),
        )
        return remake_page(index, context, root_box, html)

    with _HOOKS:
        document_module.layout_document = recorded_layout_document
        layout_module.initialize_page_maker = kept_page_maker
        layout_module.make_all_pages = recorded_make_all_pages
        page_module.remake_page = recorded_remake_page
        try:
            yield
        finally:
            (
                document_module.layout_document,
                layout_module.initialize_page_maker,
                layout_module.make_all_pages,
                page_module.remake_page,
            ) = originals


def _back_matter_following(first: Document, record: _Record) -> Document:
    """`first` laid out again from the last page of text on, the back matter following the
    text (`BACK_MATTER_FOLLOWS`), as a whole second layout would give it."""
    index = _back_matter_page(first)
    if record.layout is None or not index or index - 1 not in record.starts:
        raise _NotRecorded
    html, root_box, context = record.layout
    box = next((box for box in root_box.descendants() if _is_back_matter(box)), None)
    if box is None:
        raise _NotRecorded
    box.style = _following_style(box.style)
    # The pages as they were before their margin boxes; the last page of text is made again
    # from the state it started from, and the pages after it as they follow.
    for page, children, flow in record.pages:
        page.children = children
        page.children[0].children = flow
    footnotes, reported, broken = record.starts[index - 1]
    context.footnotes[:] = footnotes
    context.reported_footnotes = list(reported)
    context.broken_out_of_flow = dict(broken)
    context.string_set.clear()  # gathered again from every page, after the layout
    page_maker = context.page_maker[:index]
    page_maker[index - 1][-1]["content_changed"] = True
    pages = [page for page, _, _ in record.pages]
    with _recording(_Record(), pages=pages, page_maker=page_maker):
        page_boxes = list(weasyprint.layout.layout_document(html, root_box, context))
    return first.copy([Page(page_box) for page_box in page_boxes])


def _following_style(style: Any) -> Any:
    """The back matter's computed style with `BACK_MATTER_FOLLOWING` cascaded over it, as a
    user stylesheet's `!important` declarations are."""
    # WeasyPrint's internals, imported here: should another version lack them, `lay_out`
    # falls back to a whole second layout rather than fail.
    import tinycss2
    from weasyprint.css import ComputedStyle, declaration_precedence
    from weasyprint.css.validation import preprocess_declarations

    cascaded = dict(style.cascaded)
    declarations = tinycss2.parse_blocks_contents(BACK_MATTER_FOLLOWING)
    for name, values, important in preprocess_declarations(style.base_url, declarations):
        weight = (declaration_precedence("user", important), inf, BACK_MATTER_SPECIFICITY)
        cascaded[name] = (values, weight)
    return ComputedStyle(
        style.parent_style,
        cascaded,
        style.pseudo_type,
        style.root_style,
        style.base_url,
        style.font_config,
        style.initial_page_sizes,
    )


def render_pdf(
    html_path: Path,
    pdf_path: Path,
    allowed_roots: list[Path],
    on_missing: Callable[[], None] | None = None,
) -> list[str]:
    """Write `pdf_path` from `html_path`; returns the URLs that were refused.

    `on_missing` is called once, when the layout first needs a file that is not there yet,
    and is expected to put it (and the others still to come) in place.
    """
    folder = html_path.parent
    fetcher = WaitingFetcher([folder, *allowed_roots], virtual_root=folder, on_missing=on_missing)
    document_html = html_path.read_text(encoding="utf-8")
    document = HTML(
        string=document_html,
        base_url=VIRTUAL_ROOT + html_path.name,
        url_fetcher=fetcher,
    )
    links = pdfua.link_texts(document.etree_element)  # before layout: as the HTML has them
    with _reproducible_timestamps():
        # PDF/UA-1: tagged structure, XMP metadata naming the standard, title shown by viewers
        lay_out(document).write_pdf(pdf_path, pdf_variant=PDF_VARIANT)
    if fetcher.failure is None:
        # What WeasyPrint cannot be told from HTML or CSS (see mtmreport.pdfua)
        pdfua.repair(pdf_path, links)
    if fetcher.failure is not None:
        raise fetcher.failure
    return fetcher.refused
