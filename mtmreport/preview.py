"""`mtmreport serve`: a live preview of one quarter's draft in the browser.

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
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import watchfiles

from mtmreport import build
from mtmreport.chartcache import ChartCache
from mtmreport.diagnostics import Diagnostic, listing, tally, tally_text
from mtmreport.errors import MtmReportError, ServeError
from mtmreport.helper import Helper, HelperLost, RemoteError
from mtmreport.i18n import SOURCE_LANGUAGE, check_language
from mtmreport.project import Project
from mtmreport.review import Review, editor_url_template
from mtmreport.wording import load_wording

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


def describe_failure(error: BaseException) -> tuple[str, ...]:
    """A failed build as lines an analyst can act on, located in their files where possible."""
    import jinja2

    from mtmreport.theme import template_failure

    if isinstance(error, jinja2.TemplateError):
        return template_failure(error).lines
    if isinstance(error, MtmReportError):
        return error.lines
    return (f"internal error: {type(error).__name__}: {error}",)


class Preview:
    """The drafts of one quarter, rebuilt on change, with the state pages are told about."""

    def __init__(
        self,
        quarter: str,
        project: Project,
        workdir: Path,
        log: Log,
        language: str = SOURCE_LANGUAGE,
    ) -> None:
        self.quarter = quarter
        self.project = project
        self.language = language
        self.log = log
        self.quarter_path = project.quarter_path(quarter).resolve()
        self.empty_dir = workdir / "empty"
        self._drafts_dir = workdir / "drafts"
        self._pdf_dir = workdir / "pdf"
        self._chart_cache = workdir / "charts"
        for folder in (self.empty_dir, self._drafts_dir, self._pdf_dir):
            folder.mkdir()
        self.stopping = threading.Event()
        self._changed = threading.Condition()  # guards everything below; notified on change
        self._tick = 0
        self._draft = Draft()
        self._pdf = Pdf()
        self._dirty = False
        self._reread = False
        self._fresh_charts = False
        self._building = False
        self._pdf_wanted: Draft | None = None
        self._threads: list[threading.Thread] = []

    # --- state -------------------------------------------------------------------------------

    def draft(self) -> Draft:
        with self._changed:
            return self._draft

    def pdf(self) -> Pdf:
        with self._changed:
            return self._pdf

    def state(self) -> dict[str, Any]:
        """The state pages and tests poll or are sent; plain JSON values only."""
        with self._changed:
            draft, pdf = self._draft, self._pdf
            idle = not (self._building or self._dirty)
        return {
            "quarter": self.quarter,
            "draft": draft.version,
            "ok": not draft.problems,
            "problems": list(draft.problems),
            "findings": len(draft.findings),
            "severities": tally(draft.findings),
            "idle": idle,
            "pdf": pdf.version,
            "pdf_status": _pdf_status(draft, pdf),
        }

    def wait_for_change(self, seen: int, timeout: float) -> tuple[int, dict[str, Any]] | None:
        """The state once it differs from tick `seen` (at once if it already does), or None."""
        with self._changed:
            if not self._changed.wait_for(
                lambda: self._tick != seen or self.stopping.is_set(), timeout
            ):
                return None
            tick = self._tick
        return tick, self.state()

    def _notify(self) -> None:
        """Called with `_changed` held, after any change pages should hear about."""
        self._tick += 1
        self._changed.notify_all()

    # --- rebuilding --------------------------------------------------------------------------

    def start(self) -> None:
        """Build the first draft here and now, then rebuild and render in the background.

        The watcher starts first, so a save during the first build is not missed.
        """
        self._start_thread(self._watch_loop)
        self._build_once(reread=False, fresh_charts=False)
        self._start_thread(self._build_loop)
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

    def request_rebuild(self, paths: set[Path]) -> None:
        """Ask for one more build; bursts of requests during a build make one build, not many."""
        others = {p for p in paths if p != self.quarter_path}
        with self._changed:
            self._dirty = True
            self._reread |= bool(others)  # strings or reference data may have changed
            self._fresh_charts |= any(p.is_relative_to(REFERENCE_DIR) for p in others)
            self._notify()

    def _watch_filter(self) -> watchfiles.BaseFilter:
        from mtmreport.texts import translation_path

        data_dir = self.project.data_dir.resolve()
        # The quarter's own file and, for an edition in another language, its translation.
        own = {self.quarter_path, translation_path(self.quarter_path, self.language)}

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

    def _build_loop(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._dirty or self.stopping.is_set())
                if self.stopping.is_set():
                    return
                reread, fresh_charts = self._reread, self._fresh_charts
                self._dirty = self._reread = self._fresh_charts = False
                self._building = True
            try:
                self._build_once(reread, fresh_charts)
            finally:
                with self._changed:
                    self._building = False
                    self._notify()

    def _build_once(self, reread: bool, fresh_charts: bool) -> None:
        """One draft into a new folder, swapped in whole; a failure keeps the last good one."""
        if reread:
            build.forget_cached_inputs()
        if fresh_charts:
            shutil.rmtree(self._chart_cache, ignore_errors=True)
        started = time.perf_counter()
        previous = self.draft()
        version = previous.version + 1
        folder = self._drafts_dir / f"draft-{version:05d}"
        try:
            folder.mkdir()
            # The project reads again only the quarter files changed since the last draft.
            linked = self.project.linked(self.quarter)
            build.write_html(
                linked,
                self.project.templates,
                folder,
                cache=ChartCache(self._chart_cache),
                review=Review(linked.loaded.doc, editor_url_template()),
                wording=load_wording(self.project.templates, self.language),
            )
        except Exception as error:
            shutil.rmtree(folder, ignore_errors=True)
            problems = describe_failure(error)
            draft = Draft(version, previous.folder, previous.shown, problems, previous.findings)
        else:
            findings = tuple(linked.findings)
            draft = Draft(version, folder, version, (), findings, time.perf_counter() - started)
        with self._changed:
            self._draft = draft
            if not draft.problems:
                self._pdf_wanted = draft
            self._notify()
        self._remove_stale_drafts()
        stamp = time.strftime("%H:%M:%S")
        if draft.problems:
            self.log(f"[{stamp}] {self.quarter}: draft {version} does not build:")
            for line in draft.problems:
                self.log(f"    {line}")
        else:
            self.log(f"[{stamp}] {self.quarter}: draft {version} built in {draft.seconds:.2f} s")

    def _remove_stale_drafts(self) -> None:
        """Drop drafts no page or PDF render needs: all but the newest two and the one in print."""
        with self._changed:
            keep = {self._draft.folder, self._pdf_wanted and self._pdf_wanted.folder}
            if self._pdf.rendering:
                keep.add(self._drafts_dir / f"draft-{self._pdf.rendering:05d}")
        folders = sorted(self._drafts_dir.iterdir())
        for folder in folders[:-2]:
            if folder not in keep:
                shutil.rmtree(folder, ignore_errors=True)

    # --- the PDF -----------------------------------------------------------------------------

    def _pdf_loop(self) -> None:
        """Render the newest good draft as PDF in a helper process, one render at a time."""
        renderer: Helper | None = None
        try:
            while True:
                with self._changed:
                    self._changed.wait_for(lambda: self._pdf_wanted or self.stopping.is_set())
                    if self.stopping.is_set():
                        return
                    draft, self._pdf_wanted = self._pdf_wanted, None
                    self._pdf = Pdf(self._pdf.version, self._pdf.path, draft.version)
                    self._notify()
                if renderer is None or not renderer.is_alive():
                    # Spawned (forking a threaded process is unsafe); niced: on a small
                    # machine the HTML draft and the browser come first.
                    renderer = Helper("pdf", start="spawn", nice=10, name="preview-pdf")
                assert draft.folder is not None
                self._render_pdf(renderer, draft)
        finally:
            if renderer is not None:
                renderer.close()

    def _render_pdf(self, renderer: Helper, draft: Draft) -> None:
        started = time.perf_counter()
        target = self._pdf_dir / f"report-{draft.version:05d}.pdf"
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
            error = f"{type(failed).__name__}: {failed}"
        with self._changed:
            previous = self._pdf
            if error:
                self._pdf = Pdf(previous.version, previous.path, 0, error)
            else:
                self._pdf = Pdf(draft.version, target, 0, "")
            self._notify()
        if not error and previous.path and previous.path != target:
            previous.path.unlink(missing_ok=True)
        self._remove_stale_drafts()
        stamp = time.strftime("%H:%M:%S")
        if error:
            self.log(f"[{stamp}] {self.quarter}: the PDF of draft {draft.version} failed: {error}")
        else:
            seconds = time.perf_counter() - started
            self.log(f"[{stamp}] {self.quarter}: PDF of draft {draft.version} in {seconds:.2f} s")

    # --- pages -------------------------------------------------------------------------------

    def html_page(self, view: str = "html") -> str:
        """The HTML view (or, for "review", the review view): the last good draft with the
        preview's bar (and overlay) injected."""
        draft = self.draft()
        chrome = _chrome(self.quarter, draft, self.pdf(), view)
        if draft.folder is None:
            return _bare_page(f"{self.quarter} — draft", "", chrome)
        page = "review.html" if view == "review" else "report.html"
        return inject((draft.folder / page).read_text(encoding="utf-8"), chrome)

    def pdf_page(self) -> str:
        """The PDF view: the newest PDF in a frame, with the same bar and overlay."""
        draft, pdf = self.draft(), self.pdf()
        if pdf.path is None:
            body = '<p class="mtm-preview-wait">The PDF is being rendered…</p>'
        else:
            body = f'<iframe title="PDF" src="/report.pdf?v={pdf.version}"></iframe>'
        return _bare_page(f"{self.quarter} — PDF", body, _chrome(self.quarter, draft, pdf, "pdf"))


def _pdf_status(draft: Draft, pdf: Pdf) -> str:
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


def _bare_page(title: str, body: str, chrome: str) -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
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
  var source = new EventSource("__EVENTS__");
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
""".replace("__EVENTS__", EVENTS)


def _chrome(quarter: str, draft: Draft, pdf: Pdf, view: str) -> str:
    """The preview's bar, overlay and reload script, every piece of file text escaped."""
    state = {"view": view, "draft": draft.version, "pdf": pdf.version, "ok": not draft.problems}
    views = [
        ("html", "/", "HTML draft"),
        ("review", REVIEW_VIEW, "Review: where each figure comes from"),
        ("pdf", PDF_VIEW, "PDF, as it will print"),
    ]
    links = " ".join(
        f'<a href="{href}"{" aria-current=page" if name == view else ""}>{label}</a>'
        for name, href, label in views
    )
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
            f"<details><summary>{html.escape(summary)}</summary>"
            # A scrolling box takes the keyboard focus, so it can be scrolled without a mouse.
            f'<pre tabindex="0">{listed}</pre></details>'
        )
    overlay = ""
    if draft.problems:
        shown = "The last good draft is underneath." if draft.folder else "No draft has built yet."
        overlay = (
            '<div id="mtm-preview-overlay" role="alert" tabindex="0">'
            "<h2>The draft does not build</h2>"
            f"<p>{shown} Fix the file and save: this page comes back by itself.</p>"
            f"<pre>{html.escape(chr(10).join(draft.problems))}</pre></div>"
        )
    state_json = json.dumps(state).replace("<", "\\u003c")
    return (
        f'{BEGIN_MARK}<div id="mtm-preview"><style>{CHROME_STYLE}</style>{overlay}'
        '<div id="mtm-preview-bar" role="region" aria-label="Preview">'
        f"<span>{html.escape(built)}</span> {links} "
        f'<span id="mtm-preview-pdf-status">{html.escape(_pdf_status(draft, pdf))}</span>'
        f"{findings}</div>"
        f'<script type="application/json" id="mtm-preview-state">{state_json}</script>'
        f"<script>{CHROME_SCRIPT}</script></div>{END_MARK}"
    )


class _Handler(SimpleHTTPRequestHandler):
    """The draft's files from its folder, plus the preview's own pages and event stream."""

    server: _Server
    timeout = REQUEST_TIMEOUT_SECONDS  # socketserver sets it on the connection

    def __init__(self, request: Any, client_address: Any, server: _Server) -> None:
        folder = server.preview.draft().folder or server.preview.empty_dir
        super().__init__(request, client_address, server, directory=str(folder))

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
        route = urlsplit(self.path).path
        preview = self.server.preview
        if self._host_refused():
            pass
        elif route in ("/", "/report.html"):
            self._send(preview.html_page().encode(), "text/html; charset=utf-8")
        elif route == REVIEW_VIEW:
            self._send(preview.html_page("review").encode(), "text/html; charset=utf-8")
        elif route == PDF_VIEW:
            self._send(preview.pdf_page().encode(), "text/html; charset=utf-8")
        elif route == "/report.pdf":
            pdf = preview.pdf()
            if pdf.path is None:
                self.send_error(503, "The PDF is being rendered; try again in a moment.")
            else:
                self._send(pdf.path.read_bytes(), "application/pdf")
        elif route == STATUS:
            self._send(json.dumps(preview.state()).encode(), "application/json")
        elif route == EVENTS:
            self._stream_events()
        else:
            super().do_GET()

    def _send(self, body: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _stream_events(self) -> None:
        """Server-Sent Events: the state now, then after every change, until the page leaves."""
        preview = self.server.preview
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        seen = -1
        with suppress(OSError):  # the page went away: reloads close their stream
            self.wfile.write(b"retry: 500\n\n")
            while not preview.stopping.is_set():
                change = preview.wait_for_change(seen, KEEPALIVE_SECONDS)
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
) -> None:
    """Serve a live preview of `quarter` (the latest by default) on 127.0.0.1 until Ctrl-C.

    `port` 0 takes any free port; a taken port, the next free one. The first line logged
    names the URL; `open_browser` opens it in the user's browser.
    """
    quarter_id = project.quarter_id(quarter)
    project.quarter_path(quarter_id)  # a wrong id is an error now, not an overlay
    # and so is a language with no catalogue
    check_language(language, project.templates.catalogue_folder(language))
    with (
        _sigterm_as_interrupt(),
        _workdir() as workdir,
    ):
        preview = Preview(quarter_id, project, Path(workdir), log, language)
        with _listen(port, preview, log) as server:
            url = f"http://{HOST}:{server.server_address[1]}/"
            log(f"Serving a live preview of {quarter_id} at {url}")
            log(f"PDF view: {url.rstrip('/')}{PDF_VIEW}   (Ctrl-C stops)")
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
