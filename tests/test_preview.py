"""`mtmreport serve` in a real browser: headless Chromium over the DevTools protocol.

Each test runs the real command on a scratch copy of the quarter files and templates, opens
it in Chromium, edits files as an editor does (write elsewhere, rename over) and reads what
the page then shows, without ever reloading it by hand.
"""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import urllib.error
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader

from mtmreport.build import BuildOptions, build_report
from mtmreport.preview import strip_chrome
from mtmreport.project import Project
from tests.browser import Browser
from tests.conftest import CHART_CACHE, DATA, TEMPLATES, pdf_text, seed_chart_cache
from tests.preview_process import PreviewProcess

pytestmark = pytest.mark.slow  # a preview server in a process of its own

QUARTER = "2023-Q3"
TOTAL_LINE = "total: 4482427"
OVERLAY = "#mtm-preview-overlay"


@pytest.fixture
def browser(chromium: Browser) -> Iterator[Browser]:
    """The module's Chromium; on a blank page again after the test."""
    yield chromium
    chromium.call("Page.navigate", url="about:blank")


@pytest.fixture
def site(tmp_path: Path) -> Project:
    """Scratch copies of the quarter files and templates that a test may edit."""
    shutil.copytree(DATA, tmp_path / "data")
    shutil.copytree(TEMPLATES, tmp_path / "templates")
    return Project(tmp_path / "data", tmp_path / "templates", tmp_path / "output")


def charts_of(built_html) -> Path:
    """The session's chart cache (every edition's charts of the shipped quarters), which the
    previews here start from: how charts are drawn is not what they test."""
    return built_html[QUARTER].folder.parent / CHART_CACHE


def _serving(
    site: Project, tmp_path: Path, browser: Browser, pdf: bool, built_html
) -> Iterator[PreviewProcess]:
    server = PreviewProcess(
        QUARTER,
        site.data_dir,
        site.templates_dir,
        tmp_path,
        pdf=pdf,
        charts_from=charts_of(built_html),
    )
    yield server
    browser.call("Page.navigate", url="about:blank")  # closes the page's event stream
    server.stop()


@pytest.fixture
def preview(
    site: Project, tmp_path: Path, browser: Browser, built_html
) -> Iterator[PreviewProcess]:
    """`serve --no-pdf`, for the tests that look at no PDF."""
    yield from _serving(site, tmp_path, browser, pdf=False, built_html=built_html)


@pytest.fixture
def pdf_preview(
    site: Project, tmp_path: Path, browser: Browser, built_html
) -> Iterator[PreviewProcess]:
    """`serve` as an analyst runs it, rendering each draft as PDF too."""
    yield from _serving(site, tmp_path, browser, pdf=True, built_html=built_html)


def save(path: Path, text: str) -> None:
    """Save as editors do: write a new file beside the old one, then rename it over."""
    temporary = path.with_name(f".{path.name}.saving")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    save(path, text.replace(old, new, 1))


def line_of(path: Path, needle: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if needle in line)


def shows(text: str) -> str:
    return f"document.body && document.body.innerText.includes({text!r})"


def overlay_text(browser: Browser) -> str:
    return browser.wait_for(f"document.querySelector('{OVERLAY}')?.innerText")


def test_page_follows_every_save_good_or_bad(preview, browser, site, tmp_path, built_html):
    """The open page follows every save by itself, never reloaded by hand: a quarter file
    that is not YAML, then one with a mistake, then a broken template each show their
    problems over the last good draft, which comes back once they are fixed; an edit shows
    its figure; two quick saves end as the second one's draft, whole. (One test, one
    preview: each part starts from the good page the one before ends with.)"""
    quarter_path = site.data_dir / f"{QUARTER}.yaml"
    good = quarter_path.read_text(encoding="utf-8")
    browser.open(preview.url)
    browser.wait_for(shows("4,482,427"))
    assert browser.evaluate(f"document.querySelector('{OVERLAY}')") is None
    assert browser.evaluate(
        "!!document.querySelector('#mtm-preview-bar a[href=\"/__preview/pdf\"]')"
    )
    # the bar's audit: the tally by severity, then the list, serious first
    summary = browser.evaluate("document.querySelector('#mtm-preview-bar summary').innerText")
    assert summary == "24 audit findings: 17 serious, 7 minor"
    listed = browser.evaluate("document.querySelector('#mtm-preview-bar details pre').textContent")
    assert listed.startswith("serious (17): ") and "\nminor (7): " in listed

    edit(quarter_path, TOTAL_LINE, "total: [4482427")  # not YAML any more
    text = overlay_text(browser)
    assert f"{QUARTER}.yaml:{line_of(quarter_path, 'total: [4482427') + 1}:" in text
    assert "a list in [ ] or a set of keys in { } is not closed" in text
    assert preview.status()["ok"] is False

    save(quarter_path, good.replace("country: Russian Federation", "country: <b>Atlantis</b>", 1))
    browser.wait_for(f"document.querySelector('{OVERLAY}')?.innerText.includes('Atlantis')")
    text = overlay_text(browser)
    line = line_of(quarter_path, "<b>Atlantis</b>")
    assert f"{QUARTER}.yaml:{line}:" in text
    assert "unknown country '<b>Atlantis</b>'" in text  # shown as text...
    assert browser.evaluate(f"document.querySelectorAll('{OVERLAY} b').length") == 0  # ...not HTML

    save(quarter_path, good)
    browser.wait_for(f"!document.querySelector('{OVERLAY}') && {shows('4,482,427')}")
    assert preview.status()["ok"] is True

    template = site.templates_dir / "blocks" / "flows.html.j2"
    good_template = template.read_text(encoding="utf-8")
    save(template, good_template + "\n{{ figures.total( }}\n")
    text = overlay_text(browser)
    assert f"flows.html.j2:{len(good_template.splitlines()) + 2}: template error" in text

    save(template, good_template)
    browser.wait_for(f"!document.querySelector('{OVERLAY}') && {shows('4,482,427')}")

    edit(quarter_path, TOTAL_LINE, "total: 4512345")

    browser.wait_for(shows("4,512,345"))
    assert "4,482,427" not in browser.text()
    # The page reloaded itself each time: nobody navigated since the first load.
    assert browser.evaluate("performance.getEntriesByType('navigation')[0].type") == "reload"

    # Two saves in quick succession: one coherent page of the second.
    edit(quarter_path, "total: 4512345", "total: 4500001")
    edit(quarter_path, "total: 4500001", "total: 4500002")

    browser.wait_for(shows("4,500,002"))
    status = preview.wait_status(lambda s: s["idle"])
    page_draft = "JSON.parse(document.getElementById('mtm-preview-state').textContent).draft"
    browser.wait_for(f"{page_draft} === {status['draft']}")
    assert "4,500,002" in browser.text() and "4,500,001" not in browser.text()
    # Coherent: the served draft is exactly what a fresh build of the final file makes (its
    # unchanged charts from the session's builds: how they are drawn is not the point).
    fresh = build_report(
        QUARTER,
        Project(
            site.data_dir,
            site.templates_dir,
            seed_chart_cache(tmp_path / "fresh", built_html[QUARTER].folder.parent),
        ),
        BuildOptions(pdf=False, languages=("en",)),
    )
    served = strip_chrome(preview.get("/").decode("utf-8"))
    assert served == fresh.html.read_text(encoding="utf-8")

    # Started with --no-pdf: no PDF is ever made, and the PDF view says how to have one.
    assert preview.status()["pdf_status"] == "PDF: off (--no-pdf)"
    browser.open(preview.url + "__preview/pdf")
    browser.wait_for(shows("The PDF view is off: this preview was started with --no-pdf."))
    assert "Start it without --no-pdf" in browser.text()
    assert browser.evaluate("document.querySelector('iframe')") is None
    with pytest.raises(urllib.error.HTTPError) as missing:
        preview.get("report.pdf")
    assert missing.value.code == 404
    assert "No PDF view: started with --no-pdf" in preview.output()
    assert "PDF of draft" not in preview.output()


def test_a_russian_preview_shows_catalogue_edits(site, browser, tmp_path, built_html):
    server = PreviewProcess(
        QUARTER,
        site.data_dir,
        site.templates_dir,
        tmp_path,
        language="ru",
        pdf=False,
        charts_from=charts_of(built_html),
    )
    try:
        browser.open(server.url)
        browser.wait_for(shows("4\u00a0482\u00a0427"))  # CLDR's Russian grouping
        assert browser.evaluate("document.documentElement.lang") == "ru"
        assert browser.evaluate("document.body.textContent.includes('Содержание')")
        # The catalogue is read once per build process: the preview reads it again on change.
        catalogue = site.templates_dir / "locales" / "ru" / "LC_MESSAGES" / "messages.po"
        edit(catalogue, 'msgstr "Содержание"', 'msgstr "Оглавление"')
        browser.wait_for("document.body.textContent.includes('Оглавление')")
        # Its PDF view, in its own words: off in this preview (--no-pdf).
        browser.open(server.url + "__preview/pdf")
        browser.wait_for(shows("Просмотр PDF отключён: этот предварительный просмотр запущен с"))
    finally:
        browser.call("Page.navigate", url="about:blank")
        server.stop()


def test_each_edition_and_its_pdf_view_follow_the_draft(pdf_preview, browser, site):
    """Every edition of the project is served where the build puts it (`/`, `/ru/`), each
    with its PDF view; the bar's switch goes to the same view in the other language; only
    an edition on show is built; each edition's page and PDF view follow an edit by
    themselves. (One test, one preview: each PDF is a WeasyPrint layout of its own.)"""
    preview = pdf_preview
    # The English PDF view: the first draft's PDF...
    first = preview.wait_status(lambda s: s["pdf"] == s["draft"] and s["idle"])
    browser.open(preview.url + "__preview/pdf")
    assert browser.wait_for(
        f"!!document.querySelector('iframe[src=\"/report.pdf?v={first['pdf']}\"]')"
    )
    assert browser.evaluate("!!document.querySelector('#mtm-preview-bar a[href=\"/\"]')")
    pdf_path = site.output_dir.parent / "served.pdf"
    pdf_path.write_bytes(preview.get("/report.pdf"))
    assert "4,482,427" in pdf_text(pdf_path)
    # ...and, by itself, the next one's.
    edit(site.data_dir / f"{QUARTER}.yaml", TOTAL_LINE, "total: 4512345")
    later = preview.wait_status(lambda s: s["pdf"] > first["pdf"] and s["pdf"] == s["draft"])
    browser.wait_for(f"!!document.querySelector('iframe[src=\"/report.pdf?v={later['pdf']}\"]')")
    pdf_path.write_bytes(preview.get("/report.pdf"))
    text = pdf_text(pdf_path)
    assert "4,512,345" in text and "4,482,427" not in text
    assert len(PdfReader(pdf_path).pages) >= 6

    # The switch, on the English page.
    browser.open(preview.url)
    browser.wait_for(shows("4,512,345"))
    switch = "#mtm-preview-editions"
    assert browser.evaluate(f"document.querySelector('{switch}').innerText") == (
        "Edition: English Русский"
    )
    assert preview.get_json("/ru/__preview/status")["draft"] == 0  # not built until asked for
    # Clicked as a reader does: the switch's link to the Russian edition.
    browser.evaluate(f"document.querySelector('{switch} a[hreflang=ru]').click()")
    browser.wait_for("location.pathname === '/ru/'")
    browser.wait_for(shows("4\u00a0512\u00a0345"))  # CLDR's Russian grouping
    assert browser.evaluate("document.documentElement.lang") == "ru"
    assert browser.evaluate("document.body.innerText.includes('Российская Федерация')")
    # The bar's own words come from the edition's catalogue; the other language's link back.
    assert browser.evaluate(f"document.querySelector('{switch}').innerText") == (
        "Издание: English Русский"
    )
    assert browser.evaluate(
        "!!document.querySelector('#mtm-preview-bar a[href=\"/ru/__preview/pdf\"]')"
    )
    assert browser.evaluate(f"!!document.querySelector('{switch} a[href=\"/\"][hreflang=en]')")
    # its files are the Russian draft's, named as the English ones
    assert preview.get("/ru/charts/figure-01-arrivals-cis.png").startswith(b"\x89PNG")
    # every image loads (a broken one is complete too, but has no width)
    browser.wait_for("[...document.images].every(i => i.complete)")
    assert browser.evaluate("[...document.images].every(i => i.naturalWidth > 0)")
    english = preview.status()["draft"]

    edit(site.data_dir / f"{QUARTER}.yaml", "total: 4512345", "total: 4500001")

    browser.wait_for(shows("4\u00a0500\u00a0001"))  # the Russian page reloaded itself
    assert browser.evaluate("performance.getEntriesByType('navigation')[0].type") == "reload"
    assert preview.status()["draft"] == english  # the English edition, not on show: not built
    # The Russian PDF view, and its PDF, in Russian.
    ru = preview.wait_status(lambda s: s["pdf"] == s["draft"] and s["idle"], path="/ru/")
    browser.open(preview.url + "ru/__preview/pdf")
    browser.wait_for(f"!!document.querySelector('iframe[src=\"/ru/report.pdf?v={ru['pdf']}\"]')")
    pdf_path = site.output_dir.parent / "served-ru.pdf"
    pdf_path.write_bytes(preview.get("/ru/report.pdf"))
    text = pdf_text(pdf_path)
    assert "4 500 001" in text.replace("\u00a0", " ") and "Содержание" in text.title()
    # Back to English, from the PDF view to the English one: built again now, with the edit.
    browser.evaluate(f"document.querySelector('{switch} a[hreflang=en]').click()")
    browser.wait_for(f"location.pathname === '/__preview/pdf' && {shows('PDF')}")
    browser.open(preview.url)
    browser.wait_for(shows("4,500,001"))
    assert preview.status()["draft"] == english + 1


def listening_addresses(port: int) -> set[str]:
    """The local addresses of listening TCP sockets on `port`, from /proc/net/tcp{,6}."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            fields = row.split()
            address, port_hex = fields[1].rsplit(":", 1)
            if fields[3] == "0A" and int(port_hex, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


def test_listens_on_127_0_0_1_only_and_cleans_up(preview, site, tmp_path):
    assert preview.url.startswith("http://127.0.0.1:")
    port = int(preview.url.rstrip("/").rsplit(":", 1)[1])
    assert listening_addresses(port) == {"0100007F"}  # 127.0.0.1, little-endian hex
    with pytest.raises(ConnectionRefusedError):  # another loopback address: nobody there
        socket.create_connection(("127.0.0.2", port), timeout=5).close()
    # Only pages that name the preview's own address may read it (no DNS rebinding).
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/", headers={"Host": f"drafts.example.com:{port}"})
    assert connection.getresponse().status == 403
    connection.close()
    # A second preview on the same port says so and takes the next free one; stopped while
    # it builds its first draft, it stops as cleanly.
    second = PreviewProcess(
        QUARTER,
        site.data_dir,
        site.templates_dir,
        tmp_path / "second",
        port=port,
        pdf=False,
        first_draft=False,
    )
    try:
        assert f"Port {port} is taken; using port " in second.output()
        assert second.url != preview.url
    finally:
        assert second.stop() == 0
    assert second.output().endswith("Stopped.")
    assert not list(second.tmpdir.glob("mtmreport-serve-*"))
    # Drafts are built in a temporary folder, never in output/.
    preview.wait_status(lambda s: s["draft"] >= 1)
    drafts = list(preview.tmpdir.glob("mtmreport-serve-*/drafts/*/report.html"))
    assert drafts
    assert not site.output_dir.exists()

    assert preview.stop() == 0
    assert "Stopped." in preview.output()
    assert not list(preview.tmpdir.glob("mtmreport-serve-*"))
