"""The PDF step: WeasyPrint, fenced in.

WeasyPrint's default fetcher reads any local file and any URL, so a crafted link could embed
`/etc/passwd` or call out to the network. Ours admits only `data:` URLs and files inside the
folders the build names (its own output and the templates); everything else is refused and
recorded. WeasyPrint is imported here only, so commands that make no PDF never pay for it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint import CSS, HTML, URLFetcher
from weasyprint.document import Document
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
BACK_MATTER_FOLLOWS = (
    ".back-matter { break-before: auto !important; margin-top: 8mm !important;"
    " padding-top: 5mm !important; border-top: 0.5pt solid #B3C2E3 !important; }"
)
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


def back_matter_fits(document: Document) -> bool:
    """Whether the back matter, laid out on a page of its own, would fit below the text of
    the page before it."""
    for index, page in enumerate(document.pages):
        for box in page._page_box.children[0].descendants():
            classes = (box.element.get("class") or "").split() if box.element is not None else []
            if box.element_tag == "section" and "back-matter" in classes and index > 0:
                if index != len(document.pages) - 1:
                    return False  # longer than a page: it keeps its own
                previous = document.pages[index - 1]._page_box
                needed = box.margin_height() + BACK_MATTER_GAP_PX
                return needed <= _space_left(previous)
    return False


def lay_out(document: HTML) -> Document:
    """The report's pages as they are printed (the tests read the same layout)."""
    laid_out = document.render(pdf_variant=PDF_VARIANT)
    if back_matter_fits(laid_out):
        laid_out = document.render(
            stylesheets=[CSS(string=BACK_MATTER_FOLLOWS)], pdf_variant=PDF_VARIANT
        )
    return laid_out


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
