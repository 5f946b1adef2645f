"""Issue 14: pages a publications editor accepts, structure a screen reader can use.

Three kinds of check on the shipped quarters, each on real output:
- the pages as WeasyPrint lays them out for the PDF (the same layout `mtmreport.pdf` writes):
  fill, what ends a page, what starts a line, footnotes beside their calls, widths;
- the PDF's structure read back with pikepdf: artifacts, links, notes, header scope,
  figure alt texts and boxes, language (the PDF/UA-1 rules veraPDF checks);
- axe-core (npm, `make test` installs it) in Debian's Chromium on the report HTML and on
  the live preview: no serious or critical violation of WCAG 2.1 AA, and a main landmark.
"""

from __future__ import annotations

import itertools
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pikepdf
import pytest
import tinyhtml5
from pypdf import PdfReader
from weasyprint import HTML
from weasyprint.formatting_structure import boxes

from mtmreport.pdf import VIRTUAL_ROOT, ConfinedFetcher, lay_out
from tests.browser import Browser
from tests.conftest import CHART_CACHE, DATA, ROOT, TEMPLATES
from tests.preview_process import PreviewProcess

QUARTERS = ("2023-Q2", "2023-Q3", "2023-Q4")
NS = "{http://www.w3.org/1999/xhtml}"
MM = 96 / 25.4  # CSS pixels per millimetre
MIN_FILL = 0.5  # "mostly empty": less than half the text area used
SHORT_ENDING = 0.25  # a page holding no more than this is a short ending
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"


# --- the pages --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def layouts(built) -> dict[str, list[boxes.PageBox]]:
    """Each quarter's pages as the PDF step lays them out, checked against the PDF written."""
    pages = {}
    for quarter in QUARTERS:
        html_path = built[quarter].html
        fetcher = ConfinedFetcher([html_path.parent, TEMPLATES], virtual_root=html_path.parent)
        document = HTML(
            string=html_path.read_text(encoding="utf-8"),
            base_url=VIRTUAL_ROOT + html_path.name,
            url_fetcher=fetcher,
        )
        laid_out = lay_out(document)
        assert len(laid_out.pages) == len(PdfReader(built[quarter].pdf).pages)
        pages[quarter] = [page._page_box for page in laid_out.pages]
    return pages


def _ancestors(page: boxes.PageBox, element) -> list:
    """The element's ancestors, nearest first (ElementTree keeps no parent links)."""
    root = _flow(page).element
    parents = {child: parent for parent in root.iter() for child in parent}
    found = []
    while element in parents:
        element = parents[element]
        found.append(element)
    return found


def _classes(box: boxes.Box) -> set[str]:
    element = box.element
    return set((element.get("class") or "").split()) if element is not None else set()


def _flow(page: boxes.PageBox) -> boxes.Box:
    return page.children[0]  # the root element's box; margin boxes and footnotes follow


def _content_lines(page: boxes.PageBox) -> list[boxes.LineBox]:
    return [b for b in _flow(page).descendants() if isinstance(b, boxes.LineBox)]


def _text(box: boxes.Box) -> str:
    if isinstance(box, boxes.TextBox):
        return box.text
    return "".join(_text(child) for child in getattr(box, "children", []))


def _bottom(box: boxes.Box) -> float:
    return box.position_y + box.margin_height()


def _fill(page: boxes.PageBox) -> float:
    """Share of the text area's height that text and images reach down to."""
    leaves = [
        b for b in _flow(page).descendants() if isinstance(b, (boxes.LineBox, boxes.ReplacedBox))
    ]
    end = max((_bottom(b) for b in leaves), default=page.content_box_y())
    return (end - page.content_box_y()) / page.height


def _first_blocks(page: boxes.PageBox) -> list[boxes.Box]:
    """The chain of boxes that opens a page's text, outermost first."""
    chain, box = [], _flow(page)
    while getattr(box, "children", None):
        box = box.children[0]
        chain.append(box)
    return chain


def _opens_with_forced_start(page: boxes.PageBox) -> bool:
    """The back matter, the one part that starts a page of its own."""
    return any("back-matter" in _classes(b) for b in _first_blocks(page))


def _opens_with_unbreakable_taller_than(page: boxes.PageBox, room: float) -> bool:
    """A figure or table that could not have fitted in `room` on the page before."""
    for box in _first_blocks(page):
        if box.element_tag in ("figure", "table") or _classes(box) & {"figure-row", "table-block"}:
            return box.margin_height() > room
    return False


@pytest.mark.parametrize("quarter", QUARTERS)
def test_no_page_but_the_last_is_mostly_empty_unless_forced(layouts, quarter):
    """At least half of each page's text area is used, unless a figure or table too tall for
    the rest of it opens the next page; before the back matter, which always starts a page,
    the text may end higher, but not as a short ending left from the page before."""
    pages = layouts[quarter]
    for number, (page, following) in enumerate(itertools.pairwise(pages), start=1):
        fill = _fill(page)
        where = f"{quarter} page {number} is {fill:.0%} full"
        if _opens_with_forced_start(following):
            assert fill >= SHORT_ENDING, f"{where}: a short ending before page {number + 1}"
        elif fill < MIN_FILL:
            room = (1 - fill) * page.height
            assert _opens_with_unbreakable_taller_than(following, room), (
                f"{where} and nothing forces page {number + 1}"
            )


@pytest.mark.parametrize("quarter", QUARTERS)
def test_headings_and_captions_never_end_a_page(layouts, quarter):
    pages = layouts[quarter]
    for number, page in enumerate(pages[:-1], start=1):
        lines = _content_lines(page)
        if not lines:
            continue
        last = lines[-1]
        owners = [b for b in _flow(page).descendants() if last in getattr(b, "children", [])]
        tags = {o.element_tag for o in owners}
        assert not tags & {"h1", "h2", "h3", "figcaption", "caption", "dt"}, (
            f"{quarter} page {number} ends with {_text(last)!r}"
        )


UNIT_START = re.compile(r"^(per cent|%|million|billion|thousand|KZT|USD)\b")


@pytest.mark.parametrize("quarter", QUARTERS)
def test_lines_never_start_with_a_dash_a_lone_footnote_mark_or_a_unit(layouts, quarter):
    for number, page in enumerate(layouts[quarter], start=1):
        previous = ""
        for line in _content_lines(page):
            text = _text(line).lstrip()
            first = line.children[0] if line.children else None
            where = f"{quarter} page {number}: {text[:40]!r}"
            assert not text.startswith(("–", "—")), where
            if first is not None and first.element_tag == "span::footnote-call":
                pytest.fail(f"footnote mark starts a line, {where}")
            if previous[-1:].isdigit():
                assert not UNIT_START.match(text), f"unit parted from {previous[-12:]!r}, {where}"
            previous = text.rstrip()


@pytest.mark.parametrize("quarter", QUARTERS)
def test_footnotes_stand_on_the_page_of_their_call(layouts, quarter):
    for number, page in enumerate(layouts[quarter], start=1):
        calls = {
            id(b.element)
            for b in _flow(page).descendants()
            if b.element_tag == "span::footnote-call"
        }
        notes = {
            id(b.element)
            for area in page.children
            if isinstance(area, boxes.FootnoteAreaBox)
            for b in area.children
        }
        assert calls == notes, f"{quarter} page {number}: footnotes apart from their calls"


@pytest.mark.parametrize("quarter", QUARTERS)
def test_space_after_every_source_line(layouts, quarter):
    for number, page in enumerate(layouts[quarter], start=1):
        blocks = [b for b in _flow(page).descendants() if isinstance(b, boxes.BlockBox)]
        for source in (b for b in blocks if _classes(b) & {"table-source", "figure-source"}):
            end = source.border_box_y() + source.border_height()
            # the map disclaimer under a map's source belongs to the same figure
            source_figure = _ancestors(page, source.element)[0]
            below = [
                b
                for b in blocks
                if b.element_tag == "p"
                and b is not source
                and source_figure not in _ancestors(page, b.element)
                and b.border_box_y() >= end - 0.5
                # in the same column: a figure's notes beside it are not "after" it
                and b.position_x < source.position_x + source.margin_width()
                and source.position_x < b.position_x + b.margin_width()
            ]
            if below:
                gap = min(b.border_box_y() for b in below) - end
                assert gap >= 2 * MM, f"{quarter} page {number}: {gap / MM:.1f} mm after a source"


@pytest.mark.parametrize("quarter", QUARTERS)
def test_tables_and_figures_of_a_kind_share_a_width(layouts, quarter):
    widths: dict[str, set[int]] = {}
    for page in layouts[quarter]:
        column = page.width
        for box in _flow(page).descendants():
            if isinstance(box, boxes.TableBox) and "data" in _classes(box):
                widths.setdefault("table", set()).add(round(box.border_width() / column * 100))
            if box.element_tag == "img":
                figure = _ancestors(page, box.element)[0]
                if figure.tag == NS + "figure" and "chart-map" not in figure.get("class"):
                    kind = "half" if "chart-half" in figure.get("class") else "full"
                    widths.setdefault(kind, set()).add(round(box.width / column * 100))
    assert widths.get("table", {100}) == {100}, widths
    for kind in ("half", "full"):
        assert len(widths.get(kind, {0})) == 1, widths


def test_a_lone_half_width_chart_takes_the_next_trend_beside_it(built):
    """2023-Q3's Figure 12 (a half-width comparison) left the right half of its row empty."""
    root = tinyhtml5.parse(built["2023-Q3"].html.read_text(encoding="utf-8"))
    rows = [d for d in root.iter(NS + "div") if d.get("class") == "figure-row"]
    paired = [[f.get("id") for f in row.iter(NS + "figure")] for row in rows]
    assert ["figure-12-remittances-inflow-comparison", "figure-13-trend-remittances-inflow"] in (
        paired
    ), paired


# --- the PDF's structure ----------------------------------------------------------------


def _elements(kids) -> list[pikepdf.Dictionary]:
    found = []
    for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
        if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
            found.append(kid)
            if "/K" in kid:
                found.extend(_elements(kid.K))
    return found


@pytest.fixture(scope="module")
def structure(built) -> dict[str, tuple[pikepdf.Pdf, list[pikepdf.Dictionary]]]:
    opened = {}
    for quarter in QUARTERS:
        pdf = pikepdf.open(built[quarter].pdf)
        opened[quarter] = (pdf, _elements(pdf.Root.StructTreeRoot.K))
    yield opened
    for pdf, _ in opened.values():
        pdf.close()


def _parent_tree(pdf: pikepdf.Pdf) -> dict[int, pikepdf.Object]:
    nums = pdf.Root.StructTreeRoot.ParentTree.Nums
    return {int(nums[i]): nums[i + 1] for i in range(0, len(nums), 2)}


@pytest.mark.parametrize("quarter", QUARTERS)
def test_running_header_footer_and_page_numbers_are_artifacts(structure, quarter):
    pdf, elements = structure[quarter]
    reachable = {e.objgen for e in elements}
    parents = _parent_tree(pdf)
    for number, page in enumerate(pdf.pages, start=1):
        owners = parents[int(page.StructParents)]
        artifacts = 0
        for instruction in pikepdf.parse_content_stream(page):
            if str(instruction.operator) != "BDC":
                continue
            tag, properties = instruction.operands
            if tag == "/Artifact":
                artifacts += 1
            elif isinstance(properties, pikepdf.Dictionary) and "/MCID" in properties:
                owner = owners[int(properties.MCID)]
                assert owner.objgen in reachable, f"{quarter} page {number}: content off the tree"
        # footer and page number on every page, the running header from page 2 on
        assert artifacts >= (2 if number == 1 else 3), f"{quarter} page {number}"


@pytest.mark.parametrize("quarter", QUARTERS)
def test_cover_has_no_hidden_running_text(built, quarter):
    """The cover shows no running header; its text was once there, clipped but read out."""
    html = built[quarter].html.read_text(encoding="utf-8")
    header = tinyhtml5.parse(html).find(NS + "body").get("data-running-header")
    assert header.startswith("KAZAKHSTAN · ")
    pages = [" ".join(p.extract_text().split()) for p in PdfReader(built[quarter].pdf).pages]
    assert " ".join(header.split()) not in pages[0]
    assert " ".join(header.split()) in pages[1]
    body_text = " ".join(tinyhtml5.parse(html).find(NS + "body").itertext())
    assert header not in body_text


@pytest.mark.parametrize("quarter", QUARTERS)
def test_links_are_link_elements_with_their_text_as_description(structure, quarter):
    pdf, _ = structure[quarter]
    parents = _parent_tree(pdf)
    annotations = [a for page in pdf.pages for a in page.get("/Annots", [])]
    assert annotations, "the outline links to the sections"
    for annotation in annotations:
        owner = parents[int(annotation.StructParent)]
        assert owner.S == "/Link"
        assert not any(e.S == "/Link" for e in _elements(owner.K)), "a link inside a link"
        description = str(annotation.get("/Contents", ""))
        assert description and description != str(annotation.get("/Dest", "")), description
    # one link per outline entry (a link over two lines has an annotation per line): the
    # section numbers are labels, not links of their own
    root = tinyhtml5.parse(pdf_html(structure, quarter))
    outline = [a for nav in root.iter(NS + "nav") for a in nav.iter(NS + "a")]
    described = {str(a.Dest): str(a.Contents) for a in annotations}
    assert described == {a.get("href")[1:]: " ".join(a.itertext()) for a in outline}


@pytest.mark.parametrize("quarter", QUARTERS)
def test_the_outline_is_one_list_of_numbered_entries(structure, quarter):
    """Set in two columns, read as one list: each item a label (its number) and a body."""
    _, elements = structure[quarter]
    outline = next(e for e in elements if e.S == "/L")
    items = [k for k in outline.K]
    root = tinyhtml5.parse(pdf_html(structure, quarter))
    entries = [li for nav in root.iter(NS + "nav") for li in nav.iter(NS + "li")]
    assert [item.S for item in items] == ["/LI"] * len(entries)
    expected = [
        ["/Lbl", "/LBody"] if li.get("class") == "numbered" else ["/LBody"] for li in entries
    ]
    assert [[str(k.S) for k in item.K] for item in items] == expected


def pdf_html(structure, quarter: str) -> str:
    pdf, _ = structure[quarter]
    return (Path(pdf.filename).parent / "report.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("quarter", QUARTERS)
def test_footnotes_are_notes_with_ids(structure, quarter):
    _, elements = structure[quarter]
    notes = [e for e in elements if e.S == "/Note"]
    root = tinyhtml5.parse(pdf_html(structure, quarter))
    footnotes = [s for s in root.iter(NS + "span") if s.get("class") == "footnote"]
    assert len(notes) == len(footnotes) > 0
    assert len({str(n.ID) for n in notes}) == len(notes)
    assert all(_elements(n.K)[0].S == "/Lbl" for n in notes)


@pytest.mark.parametrize("quarter", ("2023-Q2", "2023-Q3"))
def test_table_header_cells_have_a_scope(structure, quarter):
    _, elements = structure[quarter]
    headers = [e for e in elements if e.S == "/TH"]
    assert headers
    scopes = {str(h.A.Scope) for h in headers}
    assert scopes == {"/Column", "/Row"}


@pytest.mark.parametrize("quarter", QUARTERS)
def test_figures_have_alt_text_and_a_box_on_their_page(structure, quarter):
    _, elements = structure[quarter]
    figures = [e for e in elements if e.S == "/Figure"]
    for figure in figures:
        assert str(figure.get("/Alt", "")).strip()
        x1, y1, x2, y2 = (float(v) for v in figure.A.BBox)
        page = pikepdf.Page(figure.Pg)
        _, _, width, height = (float(v) for v in page.MediaBox)
        assert 0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height, (figure.A.BBox, width, height)


@pytest.mark.parametrize("quarter", QUARTERS)
def test_pdf_declares_the_document_language(structure, quarter):
    pdf, _ = structure[quarter]
    lang = tinyhtml5.parse(pdf_html(structure, quarter)).get("lang")
    assert str(pdf.Root.Lang) == lang == "en"


# --- axe-core in Chromium ---------------------------------------------------------------


@pytest.fixture
def browser(request: pytest.FixtureRequest) -> Iterator[Browser]:
    """The module's Chromium, with axe-core at hand; on a blank page again after the test."""
    if not AXE.is_file():
        missing = "axe-core is not installed: `make test` runs npm ci"
        if os.environ.get("CI"):
            pytest.fail(missing)
        pytest.skip(missing)
    chromium = request.getfixturevalue("chromium")
    yield chromium
    chromium.call("Page.navigate", url="about:blank")


def _axe(browser: Browser) -> dict:
    """axe-core's WCAG 2.1 A/AA and best-practice rules on the open page."""
    browser.evaluate(AXE.read_text(encoding="utf-8"))
    options = {
        "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21aa", "best-practice"]}
    }
    result = browser.call(
        "Runtime.evaluate",
        timeout=60,
        expression=f"axe.run(document, {json.dumps(options)}).then(r => JSON.stringify(r))",
        awaitPromise=True,
        returnByValue=True,
    )
    return json.loads(result["result"]["value"])


def _serious(results: dict) -> list[str]:
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("quarter", QUARTERS)
def test_report_html_passes_axe(browser, built, quarter):
    browser.open(built[quarter].html.as_uri())
    results = _axe(browser)
    assert len(results["passes"]) > 20  # axe did run its rules on the report
    assert _serious(results) == []
    assert browser.evaluate("document.querySelectorAll('main').length") == 1
    # every part of the page in a landmark: banner (cover), navigation, main, contentinfo
    landmarks = {"landmark-one-main", "region"}
    assert not [v["id"] for v in results["violations"] if v["id"] in landmarks]


def test_preview_passes_axe(browser, tmp_path, built):
    # The pages, no PDF; the charts from the session's build (their drawing is not the point).
    server = PreviewProcess(
        "2023-Q3",
        DATA,
        TEMPLATES,
        tmp_path,
        pdf=False,
        charts_from=built["2023-Q3"].folder.parent / CHART_CACHE,
    )
    try:
        # the first draft is built while the page is requested: allow for a slow machine
        browser.call("Page.navigate", timeout=120, url=server.url)
        browser.wait_for("document.getElementById('mtm-preview-bar') !== null", timeout=120)
        results = _axe(browser)
        assert _serious(results) == []
        # the findings list scrolls: it must take the keyboard focus
        assert (
            browser.evaluate("document.querySelector('#mtm-preview-bar details pre').tabIndex") == 0
        )
        # the Russian edition's preview, with its switch back to English (lang marked)
        browser.call("Page.navigate", timeout=120, url=server.url + "ru/")
        browser.wait_for("document.documentElement.lang === 'ru'", timeout=120)
        browser.wait_for("document.getElementById('mtm-preview-bar') !== null", timeout=120)
        assert _serious(_axe(browser)) == []
    finally:
        browser.call("Page.navigate", url="about:blank")
        server.stop()


# --- chart text ---------------------------------------------------------------------------


def test_map_labels_reach_aa_contrast_on_every_fill_of_the_scale():
    """Figure 4 printed white on a mid-blue at 3.3:1; text needs 4.5:1 (WCAG 2.1 AA).
    Worked by hand: white on #0033A0 is 10.6:1, black on the lightest tint far above 4.5."""
    from matplotlib.colors import to_rgb

    from mtmreport.charts import regionmap

    for step in range(201):
        fill = regionmap.SCALE(step / 200)[:3]
        ink = regionmap._text_colour(fill)
        assert regionmap.contrast_ratio(to_rgb(ink), fill) >= 4.5, (step, fill, ink)
    assert round(regionmap.contrast_ratio((1, 1, 1), to_rgb("#0033A0")), 1) == 10.6
