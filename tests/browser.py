"""Headless Chromium driven over the DevTools protocol: just enough to open a page and read it.

Debian's `chromium` (the Makefile installs it for the tests); no browser is downloaded. The
client speaks CDP over one websocket to one page: navigate, evaluate JavaScript, and poll an
expression until it holds. Every wait is bounded; `close()` ends the browser's process group
and removes its profile.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # The address bar's pop-up is a web page of its own, kept ready in a renderer that keeps
    # drawing a blinking caret: in headless Chromium 156, 0.03 s of CPU a second, for nothing.
    "--disable-features=WebUIOmniboxPopup,WebUIOmniboxAimPopup",
]


def find_chromium() -> str | None:
    """Debian's Chromium, if installed."""
    return shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )


class BrowserError(RuntimeError):
    """Chromium did not start, or a DevTools call failed."""


class Browser:
    """One headless Chromium with one page."""

    def __init__(self, executable: str, timeout: float = 30.0) -> None:
        self.home = Path(tempfile.mkdtemp(prefix="mtmreport-chromium-"))
        profile = self.home / "profile"
        self.log_path = self.home / "chromium.log"
        self._next_id = 0
        self._closing = ExitStack()
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    executable,
                    *FLAGS,
                    f"--user-data-dir={profile}",
                    "--remote-debugging-port=0",
                    "about:blank",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its helpers share its process group, ended together
            )
        try:
            port = self._devtools_port(profile / "DevToolsActivePort", timeout)
            self.socket = self._connect_page(port, timeout)
        except BaseException:
            self.close()
            raise

    def _devtools_port(self, port_file: Path, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BrowserError(f"chromium exited with {self.process.returncode}: {self.log()}")
            if port_file.is_file():
                first_line = port_file.read_text().split("\n", 1)[0].strip()
                if first_line.isdigit():
                    return int(first_line)
            time.sleep(0.05)
        raise BrowserError(f"chromium opened no DevTools port in {timeout} s: {self.log()}")

    def _connect_page(self, port: int, timeout: float) -> ClientConnection:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as r:
                pages = [t for t in json.load(r) if t.get("type") == "page"]
            if pages:
                url = pages[0]["webSocketDebuggerUrl"]
                return self._closing.enter_context(connect(url, max_size=None, open_timeout=5))
            time.sleep(0.05)
        raise BrowserError(f"chromium has no page to drive after {timeout} s")

    def log(self) -> str:
        """The end of Chromium's own output, for error messages."""
        return self.log_path.read_text(errors="replace")[-2000:]

    def call(self, method: str, timeout: float = 10.0, **params: Any) -> dict[str, Any]:
        """One DevTools command and its result (events arriving meanwhile are dropped)."""
        self._next_id += 1
        call_id = self._next_id
        self.socket.send(json.dumps({"id": call_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BrowserError(f"{method}: no answer in {timeout} s")
            message = json.loads(self.socket.recv(timeout=remaining))
            if message.get("id") != call_id:
                continue
            if "error" in message:
                raise BrowserError(f"{method}: {message['error'].get('message')}")
            return message["result"]

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression}: {result['exceptionDetails'].get('text')}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30.0, interval: float = 0.05) -> Any:
        """Wait until `expression` is truthy in the page; returns its value. Reloads in
        between are fine.

        The page checks it itself, every `interval` seconds, and answers once it holds, so a
        wait costs one DevTools call, not one every few milliseconds; a reload ends the
        page's check with its document, and the next document is asked again.
        """
        pause = round(interval * 1000)
        check = (
            "new Promise(resolve => { const check = () => { let value; "
            f"try {{ value = ({expression}); }} catch (error) {{ value = undefined; }} "
            f"if (value) {{ resolve(value); }} else {{ setTimeout(check, {pause}); }} }}; "
            "check(); })"
        )
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                result = self.call(
                    "Runtime.evaluate",
                    timeout=remaining,
                    expression=check,
                    awaitPromise=True,
                    returnByValue=True,
                )
            except (BrowserError, TimeoutError):  # another document came, or time is up
                time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
                continue
            if "exceptionDetails" not in result:
                return result["result"].get("value")
            time.sleep(0.05)  # the promise was dropped with its document: ask again
        try:
            last: Any = self.evaluate(expression)
        except BrowserError as error:
            last = error
        raise TimeoutError(f"waited {timeout} s for {expression!r}; last value {last!r}")

    def open(self, url: str, timeout: float = 30.0) -> None:
        """Navigate and wait for the document to finish loading."""
        self.call("Page.navigate", url=url)
        self.wait_for(
            f"location.href.startsWith({json.dumps(url)}) && document.readyState === 'complete'",
            timeout,
        )

    def text(self) -> str:
        """The page's visible text (empty between two documents)."""
        try:
            return self.evaluate("document.body ? document.body.innerText : ''") or ""
        except BrowserError:
            return ""

    def close(self) -> None:
        self._closing.close()
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        shutil.rmtree(self.home, ignore_errors=True)
