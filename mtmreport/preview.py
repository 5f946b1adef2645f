"""`mtmreport serve`: a live preview of one quarter's draft in the browser, in every edition.

Each edition is served where the build puts it: the main one at `/`, another under its
language (`/ru/`, as `output/2023-Q3/ru/`), each with its HTML, review and PDF views and a
switch in the bar to the same view in the other editions. Only editions on show are built
(see `Preview`).

The preview owns serving and rebuilding and has no build steps of its own: every draft is
`build.load_quarter` + `build.link_quarter` + `build.write_html`, every PDF is
`build.write_pdf`. Who does what:

- a watcher thread (watchfiles) watches *folders* -- the data folder, the templates in use
  (the project's and the package's) and the package's reference data -- because editors save
  by replacing files, and asks for a rebuild;
- a builder thread builds each draft into a fresh folder under a temporary directory (never
  `output/`) and swaps it in only when complete, so a page never sees half a draft. Saves
  that arrive during a build are coalesced into one more build of the newest content;
- a PDF thread hands the newest good draft to a WeasyPrint helper *process*, so the slow PDF
  neither delays the HTML draft nor competes with it for the GIL;
- the HTTP server (stdlib, one thread a request, 127.0.0.1 only) serves the draft with a small
  bar and script injected -- into the served copy only, never into a built report -- and tells
  open pages over Server-Sent Events when to reload themselves.

A draft that fails (a quarter file with problems, a broken template) keeps the last good
draft on show under an overlay that lists the problems, each as `file:line:col: field:
message`; the next good build removes it.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import signal
import stat
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import watchfiles

from mtmreport import build
from mtmreport.chartcache import ChartCache
from mtmreport.diagnostics import Diagnostic, listing, tally, tally_text
from mtmreport.errors import MtmReportError, ServeError
from mtmreport.failures import describe
from mtmreport.helper import Helper, HelperLost, RemoteError
from mtmreport.i18n import SOURCE_LANGUAGE, check_language
from mtmreport.project import Project
from mtmreport.review import Review, editor_url_template
from mtmreport.wording import Wording, load_wording

HOST = "127.0.0.1"
DEFAULT_PORT = 8000
PDF_VIEW = "/__preview/pdf"
REVIEW_VIEW = "/__preview/review"  # the draft with every figure's formula and source lines
EVENTS = "/__preview/events"
STATUS = "/__preview/status"
KEEPALIVE_SECONDS = 15.0
# A client that sends nothing (or reads nothing) this long loses its connection and thread.
REQUEST_TIMEOUT_SECONDS = 10.0
# A browser that leaves a page mid-response, or a client that hangs up early: not an error.
HANG_UPS = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError)
WATCH_STEP_MS = 30  # quiet time that ends a burst of file events; the preview waits no longer
PORTS_TRIED = 20  # a taken port: the next ones up are tried, as many as this in all
REFERENCE_DIR = Path(build.__file__).resolve().parent / "reference"
BEGIN_MARK = "<!-- mtmreport serve: begin -->"
END_MARK = "<!-- mtmreport serve: end -->"

Log = Callable[[str], None]


@dataclass(frozen=True)
class Draft:
    """What the HTML view shows: the last draft that built, and why the newest one did not."""

    version: int = 0  # of the newest build, good or not
    folder: Path | None = None  # the last good draft; None until one builds
    shown: int = 0  # the version of that last good draft
    problems: tuple[str, ...] = ()  # why the newest build failed; empty when it built
    findings: tuple[Diagnostic, ...] = ()  # audit findings of the last good draft
    seconds: float = 0.0


@dataclass(frozen=True)
class Pdf:
    """What the PDF view shows: the newest PDF and the draft it was rendered from."""

    version: int = 0  # the draft version the PDF shows; 0 before the first
    path: Path | None = None
    rendering: int = 0  # the draft version being rendered now, 0 when idle
    error: str = ""
    off: bool = False  # `serve --no-pdf`: no PDF is ever rendered


@dataclass
class _Edition:
    """One edition's drafts and PDF. Mutable: guarded by `Preview._changed`."""

    language: str
    prefix: str  # its URLs' first part: "" for the main edition, "/ru" (as its output folder)
    wording: Wording
    draft: Draft = field(default_factory=Draft)
    pdf: Pdf = field(default_factory=Pdf)
    dirty: bool = True  # files changed since its newest draft (or no draft yet)
    pdf_wanted: Draft | None = None
    pages: int = 0  # open pages (event streams) showing it


class Preview:
    """The drafts of one quarter in every edition of the project, rebuilt on change, with the
    state pages are told about.

    Only an edition someone looks at is built: the one whose page was asked for last, and any
    other with a page open. A change marks every edition it concerns; the others are built
    when a page of theirs is next asked for, so switching language costs one build and
    editing costs one build per edition on show, not one per edition of the project.
    """

    def __init__(
        self,
        quarter: str,
        project: Project,
        workdir: Path,
        log: Log,
        language: str = SOURCE_LANGUAGE,
        pdf: bool = True,
    ) -> None:
        """`pdf`: render each good draft as PDF in the background (`serve --no-pdf`: never,
        which spares a slow machine the work; the PDF view then says how to turn it on)."""
        self.quarter = quarter
        self.project = project
        self.log = log
        self.quarter_path = project.quarter_path(quarter).resolve()
        self.empty_dir = workdir / "empty"
        self._drafts_dir = workdir / "drafts"
        self._pdf_dir = workdir / "pdf"
        self._chart_cache = workdir / "charts"
        for folder in (self.empty_dir, self._drafts_dir, self._pdf_dir):
            folder.mkdir()
        languages = dict.fromkeys([*project.templates.languages(), language])
        self.editions = {
            lang: _Edition(
                lang, edition_prefix(lang), _chrome_wording(project, lang), pdf=Pdf(off=not pdf)
            )
            for lang in languages
        }
        self.language = language  # the edition shown first
        self.stopping = threading.Event()
        self._changed = threading.Condition()  # guards everything below; notified on change
        self._tick = 0
        self._active = language  # the edition whose page was asked for last
        self._reread = False
        self._fresh_charts = False
        self._building = False
        self._threads: list[threading.Thread] = []

    # --- state -------------------------------------------------------------------------------

    def edition(self, language: str | None = None) -> _Edition:
        return self.editions[language or self.language]

    def edition_at(self, path: str) -> tuple[_Edition, str]:
        """The edition a URL path is of, and the path within it: "/ru/charts/x.png" is the
        Russian edition's "/charts/x.png" (as in the output folder), "/" the main edition's."""
        for edition in self.editions.values():
            if edition.prefix and (path == edition.prefix or path.startswith(edition.prefix + "/")):
                return edition, path[len(edition.prefix) :] or "/"
        return self.editions[SOURCE_LANGUAGE], path

    def draft(self, language: str | None = None) -> Draft:
        with self._changed:
            return self.edition(language).draft

    def pdf(self, language: str | None = None) -> Pdf:
        with self._changed:
            return self.edition(language).pdf

    def state(self, language: str | None = None) -> dict[str, Any]:
        """The state of an edition that pages and tests poll or are sent; plain JSON values."""
        with self._changed:
            edition = self.edition(language)
            draft, pdf = edition.draft, edition.pdf
            idle = not (self._building or edition.dirty)
        return {
            "quarter": self.quarter,
            "language": edition.language,
            "draft": draft.version,
            "ok": not draft.problems,
            "problems": list(draft.problems),
            "findings": len(draft.findings),
            "severities": tally(draft.findings),
            "idle": idle,
            "pdf": pdf.version,
            "pdf_status": _pdf_status(draft, pdf),
        }

    def wait_for_change(
        self, seen: int, timeout: float, language: str | None = None
    ) -> tuple[int, dict[str, Any]] | None:
        """The state once it differs from tick `seen` (at once if it already does), or None."""
        with self._changed:
            if not self._changed.wait_for(
                lambda: self._tick != seen or self.stopping.is_set(), timeout
            ):
                return None
            tick = self._tick
        return tick, self.state(language)

    def _notify(self) -> None:
        """Called with `_changed` held, after any change pages should hear about."""
        self._tick += 1
        self._changed.notify_all()

    def view(self, language: str, timeout: float = 60.0) -> None:
        """A page of this edition is asked for: it becomes the edition built on change and,
        when files changed since its draft (or it has none), it is built now; the page waits
        for that build, up to `timeout`, and then shows whatever draft or problem there is."""
        with self._changed:
            edition = self.edition(language)
            self._active = language
            if not edition.dirty:
                return
            self._notify()  # wakes the builder
            self._changed.wait_for(
                lambda: (not edition.dirty and not self._building) or self.stopping.is_set(),
                timeout,
            )

    @contextmanager
    def page_open(self, language: str) -> Iterator[None]:
        """While a page of this edition is open (its event stream), changes rebuild it."""
        with self._changed:
            self.edition(language).pages += 1
        try:
            yield
        finally:
            with self._changed:
                self.edition(language).pages -= 1

    # --- rebuilding --------------------------------------------------------------------------

    def start(self) -> None:
        """Build the first edition's first draft here and now, then rebuild and render in the
        background. The watcher starts first, so a save during the first build is not missed.
        """
        self._start_thread(self._watch_loop)
        self._build_once(self.edition(), reread=False, fresh_charts=False)
        self._start_thread(self._build_loop)
        if not self.edition().pdf.off:
            self._start_thread(self._pdf_loop)

    def _start_thread(self, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=f"preview{target.__name__}", daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self) -> None:
        self.stopping.set()
        with self._changed:
            self._notify()
        for thread in self._threads:
            thread.join(timeout=5)

    def _own_files(self) -> dict[Path, str | None]:
        """The quarter's own files in the data folder: its quarter file (every edition's) and
        each edition's translation of its texts (that edition's only)."""
        from mtmreport.texts import translation_path

        files: dict[Path, str | None] = {self.quarter_path: None}
        for language in self.editions:
            if language != SOURCE_LANGUAGE:
                files[translation_path(self.quarter_path, language)] = language
        return files

    def request_rebuild(self, paths: set[Path]) -> None:
        """Mark the editions the changed files concern; the builder builds those on show.
        Bursts of requests during a build make one build, not many."""
        own = self._own_files()
        others = {p for p in paths if p not in own}
        concerned = {own[p] for p in paths if p in own}
        with self._changed:
            for edition in self.editions.values():
                if others or None in concerned or edition.language in concerned:
                    edition.dirty = True
            self._reread |= bool(others)  # strings or reference data may have changed
            self._fresh_charts |= any(p.is_relative_to(REFERENCE_DIR) for p in others)
            self._notify()

    def _watch_filter(self) -> watchfiles.BaseFilter:
        data_dir = self.project.data_dir.resolve()
        own = set(self._own_files())

        class Relevant(watchfiles.DefaultFilter):
            """The quarter's own files, and anything in the other folders but editors' litter."""

            def __call__(self, change: watchfiles.Change, path: str) -> bool:
                if not super().__call__(change, path):
                    return False
                return Path(path) in own or not Path(path).is_relative_to(data_dir)

        return Relevant()

    def _watch_loop(self) -> None:
        folders = {
            self.project.data_dir.resolve(),
            *(folder.resolve() for folder in self.project.templates.folders),
            REFERENCE_DIR,
        }
        try:
            for changes in watchfiles.watch(
                *sorted(folders),
                watch_filter=self._watch_filter(),
                step=WATCH_STEP_MS,
                stop_event=self.stopping,
                raise_interrupt=False,
                rust_timeout=1000,
            ):
                self.request_rebuild({Path(path) for _, path in changes})
        except Exception as error:  # e.g. a watched folder was removed
            self.log(f"{self.quarter}: stopped watching for changes: {error}; restart the preview")

    def _next_to_build(self) -> _Edition | None:
        """With `_changed` held: the edition on show to build next, the last asked for first."""
        shown = [self.edition(self._active)] + [
            e for e in self.editions.values() if e.pages and e.language != self._active
        ]
        return next((e for e in shown if e.dirty), None)

    def _build_loop(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(
                    lambda: self._next_to_build() is not None or self.stopping.is_set()
                )
                if self.stopping.is_set():
                    return
                edition = self._next_to_build()
                assert edition is not None
                reread, fresh_charts = self._reread, self._fresh_charts
                edition.dirty = self._reread = self._fresh_charts = False
                self._building = True
            try:
                self._build_once(edition, reread, fresh_charts)
            finally:
                with self._changed:
                    self._building = False
                    self._notify()

    def _build_once(self, edition: _Edition, reread: bool, fresh_charts: bool) -> None:
        """One draft into a new folder, swapped in whole; a failure keeps the last good one."""
        if reread:
            build.forget_cached_inputs()
        if fresh_charts:
            shutil.rmtree(self._chart_cache, ignore_errors=True)
        with self._changed:
            edition.dirty = False
        started = time.perf_counter()
        previous = self.draft(edition.language)
        version = previous.version + 1
        folder = self._drafts_dir / f"draft-{edition.language}-{version:05d}"
        try:
            folder.mkdir()
            # The project reads again only the quarter files changed since the last draft.
            linked = self.project.linked(self.quarter)
            # The catalogue again too: a changed one has another hash.
            wording = load_wording(self.project.templates, edition.language)
            build.write_html(
                linked,
                self.project.templates,
                folder,
                cache=ChartCache(self._chart_cache),
                review=Review(linked.loaded.doc, editor_url_template()),
                wording=wording,
            )
        except Exception as error:
            shutil.rmtree(folder, ignore_errors=True)
            problems = describe(error).lines
            draft = Draft(version, previous.folder, previous.shown, problems, previous.findings)
        else:
            findings = tuple(linked.findings)
            draft = Draft(version, folder, version, (), findings, time.perf_counter() - started)
        with self._changed:
            edition.draft = draft
            if not draft.problems:
                edition.wording = wording
                edition.pdf_wanted = None if edition.pdf.off else draft
            self._notify()
        self._remove_stale_drafts(edition)
        stamp = time.strftime("%H:%M:%S")
        name = self._name(edition)
        if draft.problems:
            self.log(f"[{stamp}] {name}: draft {version} does not build:")
            for line in draft.problems:
                self.log(f"    {line}")
        else:
            self.log(f"[{stamp}] {name}: draft {version} built in {draft.seconds:.2f} s")

    def _name(self, edition: _Edition) -> str:
        """How the log names an edition's drafts: "2023-Q3", "2023-Q3 (ru)"."""
        if len(self.editions) == 1 or edition.language == SOURCE_LANGUAGE:
            return self.quarter
        return f"{self.quarter} ({edition.language})"

    def _remove_stale_drafts(self, edition: _Edition) -> None:
        """Drop drafts no page or PDF render needs: all but the newest two and the one in print."""
        with self._changed:
            wanted = edition.pdf_wanted
            keep = {edition.draft.folder, wanted and wanted.folder}
            if edition.pdf.rendering:
                keep.add(self._drafts_dir / f"draft-{edition.language}-{edition.pdf.rendering:05d}")
        folders = sorted(self._drafts_dir.glob(f"draft-{edition.language}-*"))
        for folder in folders[:-2]:
            if folder not in keep:
                shutil.rmtree(folder, ignore_errors=True)

    # --- the PDF -----------------------------------------------------------------------------

    def _next_pdf(self) -> _Edition | None:
        """With `_changed` held: an edition with a draft to print, the last asked for first."""
        ordered = sorted(self.editions.values(), key=lambda e: e.language != self._active)
        return next((e for e in ordered if e.pdf_wanted), None)

    def _pdf_loop(self) -> None:
        """Render the newest good draft as PDF in a helper process, one render at a time."""
        renderer: Helper | None = None
        try:
            while True:
                with self._changed:
                    self._changed.wait_for(
                        lambda: self._next_pdf() is not None or self.stopping.is_set()
                    )
                    if self.stopping.is_set():
                        return
                    edition = self._next_pdf()
                    assert edition is not None and edition.pdf_wanted is not None
                    draft, edition.pdf_wanted = edition.pdf_wanted, None
                    edition.pdf = Pdf(edition.pdf.version, edition.pdf.path, draft.version)
                    self._notify()
                if renderer is None or not renderer.is_alive():
                    # Spawned (forking a threaded process is unsafe); niced: on a small
                    # machine the HTML draft and the browser come first.
                    renderer = Helper("pdf", start="spawn", nice=10, name="preview-pdf")
                assert draft.folder is not None
                self._render_pdf(renderer, edition, draft)
        finally:
            if renderer is not None:
                renderer.close()

    def _render_pdf(self, renderer: Helper, edition: _Edition, draft: Draft) -> None:
        started = time.perf_counter()
        target = self._pdf_dir / f"report-{edition.language}-{draft.version:05d}.pdf"
        assert draft.folder is not None
        error = ""
        renderer.start(build.write_pdf, draft.folder / "report.html", target, [])  # its folder only
        while not renderer.ready(0.2):
            if self.stopping.is_set():
                return
        try:
            renderer.result()
        except HelperLost as lost:
            error = f"the PDF worker stopped: {lost}"
        except RemoteError as failed:
            error = str(failed)
        except Exception as failed:
            error = " ".join(describe(failed).lines)
        with self._changed:
            previous = edition.pdf
            if error:
                edition.pdf = Pdf(previous.version, previous.path, 0, error)
            else:
                edition.pdf = Pdf(draft.version, target, 0, "")
            self._notify()
        if not error and previous.path and previous.path != target:
            previous.path.unlink(missing_ok=True)
        self._remove_stale_drafts(edition)
        stamp = time.strftime("%H:%M:%S")
        name = self._name(edition)
        if error:
            self.log(f"[{stamp}] {name}: the PDF of draft {draft.version} failed: {error}")
        else:
            seconds = time.perf_counter() - started
            self.log(f"[{stamp}] {name}: PDF of draft {draft.version} in {seconds:.2f} s")

    # --- pages -------------------------------------------------------------------------------

    def html_page(self, language: str | None = None, view: str = "html") -> str:
        """The HTML view (or, for "review", the review view) of an edition: its last good
        draft with the preview's bar (and overlay) injected."""
        edition = self.edition(language)
        draft = self.draft(edition.language)
        chrome = self._chrome(edition, draft, self.pdf(edition.language), view)
        if draft.folder is None:
            title = edition.wording.gettext("%(quarter)s — draft", quarter=self.quarter)
            return _bare_page(title, "", chrome, edition.wording.html_lang)
        page = "review.html" if view == "review" else "report.html"
        return inject((draft.folder / page).read_text(encoding="utf-8"), chrome)

    def pdf_page(self, language: str | None = None) -> str:
        """The PDF view of an edition: its newest PDF in a frame, with the same bar and overlay."""
        edition = self.edition(language)
        draft, pdf = self.draft(edition.language), self.pdf(edition.language)
        w = edition.wording
        if pdf.off:
            off = w.gettext(
                "The PDF view is off: this preview was started with --no-pdf. Start it "
                "without --no-pdf to see the pages as they will print."
            )
            body = f'<p class="mtm-preview-wait">{html.escape(off)}</p>'
        elif pdf.path is None:
            wait = html.escape(w.gettext("The PDF is being rendered…"))
            body = f'<p class="mtm-preview-wait">{wait}</p>'
        else:
            src = f"{edition.prefix}/report.pdf?v={pdf.version}"
            body = f'<iframe title="PDF" src="{src}"></iframe>'
        chrome = self._chrome(edition, draft, pdf, "pdf")
        title = w.gettext("%(quarter)s — PDF", quarter=self.quarter)
        return _bare_page(title, body, chrome, w.html_lang)

    def _chrome(self, edition: _Edition, draft: Draft, pdf: Pdf, view: str) -> str:
        others = [(e.language, e.prefix) for e in self.editions.values()]
        return _chrome(self.quarter, draft, pdf, view, edition, others)


def edition_prefix(language: str) -> str:
    """Where an edition's pages are served: the main edition at "/", another one under its
    language ("/ru/"), as the build puts it in a folder of that name (`build.edition_folder`)."""
    return "" if language == SOURCE_LANGUAGE else f"/{language}"


def _chrome_wording(project: Project, language: str) -> Wording:
    """The words of an edition's bar until its first draft builds: its catalogue, or, while
    that has a mistake (which the draft's overlay then names), the source language's."""
    try:
        return load_wording(project.templates, language)
    except MtmReportError:
        return load_wording(project.templates, SOURCE_LANGUAGE)


def _language_name(language: str) -> str:
    """A language's name in that language, from CLDR: "English", "Русский"; else its code."""
    from babel import Locale, UnknownLocaleError

    try:
        name = Locale.parse(language).get_display_name(language) or language
    except (ValueError, UnknownLocaleError):
        return language
    return name[:1].upper() + name[1:]


def _pdf_status(draft: Draft, pdf: Pdf) -> str:
    if pdf.off:
        return "PDF: off (--no-pdf)"
    if pdf.rendering:
        return f"PDF: rendering draft {pdf.rendering}…"
    if pdf.error:
        return f"PDF failed: {pdf.error}"
    if not pdf.version:
        return "PDF: waiting"
    if draft.folder and pdf.version != draft.version and not draft.problems:
        return f"PDF: draft {pdf.version}, newer one queued"
    return f"PDF: draft {pdf.version}"


def inject(document: str, chrome: str) -> str:
    """`chrome` placed before the document's last `</body>` (appended when there is none)."""
    ends = [m.start() for m in re.finditer(r"</body\s*>", document, flags=re.IGNORECASE)]
    if not ends:
        return document + chrome
    return document[: ends[-1]] + chrome + document[ends[-1] :]


def strip_chrome(document: str) -> str:
    """The served draft as the build wrote it: `inject` undone."""
    start, end = document.find(BEGIN_MARK), document.find(END_MARK)
    if start < 0 or end < 0:
        return document
    return document[:start] + document[end + len(END_MARK) :]


def _bare_page(title: str, body: str, chrome: str, lang: str) -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head><body>{body}{chrome}</body></html>\n"
    )


CHROME_STYLE = """
#mtm-preview, #mtm-preview * { all: revert; box-sizing: border-box; }
#mtm-preview { display: block; height: 2.4em; /* room to scroll the end above the bar */
  font: 13px/1.4 system-ui, sans-serif; color: #222; }
#mtm-preview-bar { position: fixed; z-index: 2147483647; left: 0; right: 0; bottom: 0;
  display: flex; gap: 1em; align-items: center; padding: .3em 1em; margin: 0;
  background: #0033A0; color: #fff; }
#mtm-preview-bar a { color: #fff; }
#mtm-preview-bar a[aria-current] { font-weight: bold; text-decoration: none; }
#mtm-preview-bar details { margin-left: auto; }
#mtm-preview-bar details pre { position: absolute; bottom: 2em; right: 1em; max-height: 50vh;
  overflow: auto; background: #fff; color: #222; padding: .5em; white-space: pre-wrap; }
#mtm-preview-overlay { position: fixed; z-index: 2147483646; inset: 0 0 2em 0;
  overflow: auto; padding: 2em; margin: 0; background: rgba(255, 255, 255, .93); }
#mtm-preview-overlay h2 { color: #D22630; margin: 0 0 .5em; font-size: 1.3em; }
#mtm-preview-overlay pre { white-space: pre-wrap; font: 13px/1.5 ui-monospace, monospace;
  background: #fff; border-left: 4px solid #D22630; padding: .7em 1em; }
body > iframe[title="PDF"] { position: fixed; inset: 0 0 2em 0; width: 100%;
  height: calc(100% - 2em); border: 0; }
.mtm-preview-wait { font: 16px system-ui, sans-serif; margin: 2em; }
@media print { #mtm-preview { display: none; } }
"""

CHROME_SCRIPT = """
(function () {
  var page = JSON.parse(document.getElementById("mtm-preview-state").textContent);
  var source = new EventSource(page.events);
  source.addEventListener("state", function (event) {
    var now = JSON.parse(event.data);
    var status = document.getElementById("mtm-preview-pdf-status");
    if (status) { status.textContent = now.pdf_status; }
    var stale = page.view === "pdf"
      ? now.pdf !== page.pdf || now.ok !== page.ok
      : now.draft !== page.draft;
    if (stale) { source.close(); location.reload(); }
  });
})();
"""


def _chrome(
    quarter: str,
    draft: Draft,
    pdf: Pdf,
    view: str,
    edition: _Edition,
    editions: list[tuple[str, str]],
) -> str:
    """The preview's bar, overlay and reload script, every piece of file text escaped. Its
    fixed words come from the edition's catalogue; the analyst's diagnostics stay English.
    `editions`: every edition's language and URL prefix, for the language switch."""
    w = edition.wording
    state = {
        "view": view,
        "draft": draft.version,
        "pdf": pdf.version,
        "ok": not draft.problems,
        "events": edition.prefix + EVENTS,
    }
    paths = {"html": "/", "review": REVIEW_VIEW, "pdf": PDF_VIEW}
    views = [
        ("html", w.gettext("HTML draft")),
        ("review", w.gettext("Review: where each figure comes from")),
        ("pdf", w.gettext("PDF, as it will print")),
    ]
    links = " ".join(
        f'<a href="{edition.prefix}{paths[name]}"{" aria-current=page" if name == view else ""}>'
        f"{html.escape(label)}</a>"
        for name, label in views
    )
    # The same view in each edition; each language named in itself, as language menus do.
    switch = ""
    if len(editions) > 1:
        choices = " ".join(
            f'<a href="{prefix}{paths[view]}" hreflang="{lang}" lang="{lang}"'
            f"{' aria-current=true' if lang == edition.language else ''}>"
            f"{html.escape(_language_name(lang))}</a>"
            for lang, prefix in editions
        )
        label = html.escape(w.gettext("Edition:"))
        switch = f'<span id="mtm-preview-editions">{label} {choices}</span> '
    if draft.problems:
        built = f"{quarter} · draft {draft.version} does not build"
        built += f" · showing draft {draft.shown}" if draft.folder else ""
    else:
        built = f"{quarter} · draft {draft.version} · built in {draft.seconds:.2f} s"
    findings = ""
    if draft.findings:
        summary = tally_text(draft.findings, "audit finding")
        listed = html.escape(chr(10).join(listing(draft.findings)))
        findings = (
            f'<details lang="en"><summary>{html.escape(summary)}</summary>'
            # A scrolling box takes the keyboard focus, so it can be scrolled without a mouse.
            f'<pre tabindex="0">{listed}</pre></details>'
        )
    overlay = ""
    if draft.problems:
        shown = (
            w.gettext("The last good draft is underneath.")
            if draft.folder
            else w.gettext("No draft has built yet.")
        )
        heading = w.gettext("The draft does not build")
        advice = w.gettext("Fix the file and save: this page comes back by itself.")
        overlay = (
            '<div id="mtm-preview-overlay" role="alert" tabindex="0">'
            f"<h2>{html.escape(heading)}</h2>"
            f"<p>{html.escape(shown)} {html.escape(advice)}</p>"
            f'<pre lang="en">{html.escape(chr(10).join(draft.problems))}</pre></div>'
        )
    state_json = json.dumps(state).replace("<", "\\u003c")
    bar_name = html.escape(w.gettext("Preview"))
    return (
        f'{BEGIN_MARK}<div id="mtm-preview"><style>{CHROME_STYLE}</style>{overlay}'
        f'<div id="mtm-preview-bar" role="region" aria-label="{bar_name}">'
        f'<span lang="en">{html.escape(built)}</span> {links} {switch}'
        f'<span id="mtm-preview-pdf-status" lang="en">{html.escape(_pdf_status(draft, pdf))}'
        f"</span>{findings}</div>"
        f'<script type="application/json" id="mtm-preview-state">{state_json}</script>'
        f"<script>{CHROME_SCRIPT}</script></div>{END_MARK}"
    )


class _Handler(SimpleHTTPRequestHandler):
    """The draft's files from its folder, plus the preview's own pages and event stream."""

    server: _Server
    timeout = REQUEST_TIMEOUT_SECONDS  # socketserver sets it on the connection

    def __init__(self, request: Any, client_address: Any, server: _Server) -> None:
        # The folder files are served from depends on the edition the path names: see
        # `translate_path`.
        super().__init__(request, client_address, server, directory=str(server.preview.empty_dir))

    def translate_path(self, path: str) -> str:
        """A file of the draft of the edition the path names: "/ru/charts/x.png" is the
        Russian draft's "charts/x.png"."""
        preview = self.server.preview
        edition, rest = preview.edition_at(urlsplit(path).path)
        self.directory = str(preview.draft(edition.language).folder or preview.empty_dir)
        return super().translate_path(rest)

    def _host_refused(self) -> bool:
        """Refuse (403) a request not addressed to 127.0.0.1: another name for this address
        is a web page's DNS-rebinding trick to read drafts."""
        try:
            host = urlsplit(f"//{self.headers.get('Host', '')}").hostname
        except ValueError:
            host = None
        if host in ("127.0.0.1", "localhost"):
            return False
        self.send_error(403, "Open the preview at 127.0.0.1")
        return True

    def do_HEAD(self) -> None:
        if not self._host_refused():
            super().do_HEAD()

    def send_head(self) -> Any:
        try:
            return super().send_head()
        except ValueError:  # a path the file system cannot name ("%00")
            self.send_error(400, "Bad path")
            return None

    def do_GET(self) -> None:
        preview = self.server.preview
        edition, route = preview.edition_at(urlsplit(self.path).path)
        language = edition.language
        if self._host_refused():
            pass
        elif route in ("/", "/report.html", REVIEW_VIEW, PDF_VIEW):
            preview.view(language)  # built now if files changed since its draft
            if route == PDF_VIEW:
                page = preview.pdf_page(language)
            else:
                page = preview.html_page(language, "review" if route == REVIEW_VIEW else "html")
            self._send(page.encode(), "text/html; charset=utf-8")
        elif route == "/report.pdf":
            pdf = preview.pdf(language)
            if pdf.off:
                self.send_error(404, "No PDF: the preview was started with --no-pdf")
            elif pdf.path is None:
                self.send_error(503, "The PDF is being rendered; try again in a moment.")
            else:
                self._send(pdf.path.read_bytes(), "application/pdf")
        elif route == STATUS:
            self._send(json.dumps(preview.state(language)).encode(), "application/json")
        elif route == EVENTS:
            self._stream_events(language)
        else:
            super().do_GET()

    def _send(self, body: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _stream_events(self, language: str) -> None:
        """Server-Sent Events: an edition's state now, then after every change, until the page
        leaves; meanwhile, changes rebuild that edition."""
        preview = self.server.preview
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        seen = -1
        with suppress(OSError), preview.page_open(language):  # reloads close their stream
            self.wfile.write(b"retry: 500\n\n")
            while not preview.stopping.is_set():
                change = preview.wait_for_change(seen, KEEPALIVE_SECONDS, language)
                if change is None:
                    self.wfile.write(b": keep-alive\n\n")
                    continue
                seen, state = change
                self.wfile.write(f"event: state\ndata: {json.dumps(state)}\n\n".encode())

    def list_directory(self, path: Any) -> None:
        self.send_error(404, "No listing here")
        return None

    def end_headers(self) -> None:
        # Chart files keep their names across drafts: a cached image would show old figures.
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line a request would bury the rebuild messages


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # event streams never end by themselves

    def __init__(self, port: int, preview: Preview) -> None:
        self.preview = preview
        self.hang_ups = 0  # connections the client ended early, told once at the end
        self._count_lock = threading.Lock()
        super().__init__((HOST, port), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Count clients that hung up or went quiet; anything else is a bug worth a trace."""
        import sys

        if isinstance(sys.exc_info()[1], HANG_UPS):
            with self._count_lock:
                self.hang_ups += 1
            return
        super().handle_error(request, client_address)


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """A plain `kill` ends the preview as Ctrl-C does: threads stopped, temporary files gone."""

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _stderr(line: str) -> None:
    import sys

    print(line, file=sys.stderr, flush=True)


def _listen(port: int, preview: Preview, log: Log) -> _Server:
    """A server on `port`, or, when it is taken, on the next free port up (said in the log)."""
    tried = [port] if port == 0 else list(range(port, min(port + PORTS_TRIED, 65536)))
    reason = ""
    for candidate in tried:
        try:
            server = _Server(candidate, preview)
        except OSError as error:
            reason = error.strerror
            continue
        if candidate != port:
            log(f"Port {port} is taken; using port {candidate} instead.")
        return server
    raise ServeError(
        f"cannot listen on {HOST}:{port}"
        + (f" or the {len(tried) - 1} ports after it" if len(tried) > 1 else "")
        + f": {reason}; give another with --port"
    )


WORKDIR_PREFIX = "mtmreport-serve-"
_WORKDIR = re.compile(re.escape(WORKDIR_PREFIX) + r"(?P<pid>[0-9]+)-[A-Za-z0-9_]+")


@contextmanager
def _workdir() -> Iterator[str]:
    """The preview's temporary folder, named after its process; removed on the way out.

    A preview killed outright (SIGKILL, a closed terminal's session) cannot remove its own,
    so each start first removes those of this user's previews whose process is gone.
    """
    _sweep_workdirs(Path(tempfile.gettempdir()))
    with tempfile.TemporaryDirectory(prefix=f"{WORKDIR_PREFIX}{os.getpid()}-") as workdir:
        yield workdir


def _sweep_workdirs(parent: Path) -> None:
    if os.name != "posix":  # elsewhere os.kill(pid, 0) is no mere question
        return
    with suppress(OSError):
        for entry in parent.iterdir():
            match = _WORKDIR.fullmatch(entry.name)
            if match is None or int(match["pid"]) == os.getpid():
                continue
            with suppress(OSError):
                info = entry.lstat()
                # Only this user's real folders (never through a link), of previews gone.
                if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
                    continue
                if not _process_exists(int(match["pid"])):
                    shutil.rmtree(entry, ignore_errors=True)


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process (a reused number): leave the folder
        return True
    return True


def serve(
    quarter: str | None,
    project: Project,
    port: int = DEFAULT_PORT,
    log: Log = _stderr,
    open_browser: bool = False,
    language: str = SOURCE_LANGUAGE,
    pdf: bool = True,
) -> None:
    """Serve a live preview of `quarter` (the latest by default) on 127.0.0.1 until Ctrl-C.

    `port` 0 takes any free port; a taken port, the next free one. The first line logged
    names the URL; `open_browser` opens it in the user's browser. Without `pdf`, no PDF is
    rendered (`serve --no-pdf`).
    """
    quarter_id = project.quarter_id(quarter)
    project.quarter_path(quarter_id)  # a wrong id is an error now, not an overlay
    # and so is a language with no catalogue
    check_language(language, project.templates.catalogue_folder(language))
    with (
        _sigterm_as_interrupt(),
        _workdir() as workdir,
    ):
        preview = Preview(quarter_id, project, Path(workdir), log, language, pdf)
        with _listen(port, preview, log) as server:
            root = f"http://{HOST}:{server.server_address[1]}"
            url = f"{root}{edition_prefix(language)}/"
            log(f"Serving a live preview of {quarter_id} at {url}")
            others = [e for e in preview.editions.values() if e.language != language]
            if others:
                log(
                    "Other editions: "
                    + ", ".join(f"{root}{e.prefix}/ ({e.language})" for e in others)
                    + " (or the switch in the page's bar)"
                )
            if pdf:
                log(f"PDF view: {url.rstrip('/')}{PDF_VIEW}   (Ctrl-C stops)")
            else:
                log("No PDF view: started with --no-pdf   (Ctrl-C stops)")
            try:
                preview.start()
                if open_browser:
                    import webbrowser

                    webbrowser.open(url)
                server.serve_forever(poll_interval=0.25)
            except KeyboardInterrupt:
                dropped = server.hang_ups  # browsers leaving pages, quietly counted
                log(
                    f"Stopped. {dropped} connection(s) ended early by their client."
                    if dropped
                    else "Stopped."
                )
            finally:
                preview.stop()
