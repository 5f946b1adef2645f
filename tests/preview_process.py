"""`mtmreport serve` in a child process on a free port, for the browser tests and benchmark."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPOSITORY = Path(__file__).resolve().parent.parent  # a project itself (mtmreport.toml)


class PreviewProcess:
    """The real command, as an analyst runs it, on folders the caller owns.

    `TMPDIR` points into `workdir`, so the drafts the preview writes can be found (and their
    removal on exit checked) without looking at the machine's shared temporary folder.
    """

    def __init__(
        self,
        quarter: str,
        data_dir: Path | None,
        templates_dir: Path | None,
        workdir: Path,
        timeout: float = 60,
        language: str = "en",
        *,
        pdf: bool = True,
        first_draft: bool = True,
        options: list[str] | None = None,
        program: list[str] | None = None,
        cwd: Path | None = None,
        port: int = 0,
        env: dict[str, str] | None = None,
        charts_from: Path | None = None,
    ) -> None:
        """Run `program serve` (this interpreter's mtmreport by default) in `cwd`'s project, or,
        without `cwd`, in `workdir` on the repository's project with the folders given.
        Without `pdf`, `serve --no-pdf`: for the tests that look at no PDF, which then spare
        the machine a WeasyPrint process laying out every draft. `options`: more of serve's
        (["--open"]). Without `first_draft`, the URL is waited for, not the first draft
        (which a test that stops it then cuts short). `charts_from`: a build's chart cache
        that the preview's starts as a copy of (`tests.seeded_serve`), for tests whose point
        is not drawing charts.
        """
        self.tmpdir = workdir / "tmp"
        self.tmpdir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **(env or {}), "TMPDIR": str(self.tmpdir), "PYTHONUNBUFFERED": "1"}
        command = list(program or [sys.executable, "-m", "mtmreport"])
        if charts_from is not None:
            assert program is None, "only this interpreter's mtmreport can be seeded"
            command = [sys.executable, str(Path(__file__).with_name("seeded_serve.py"))]
            env["MTMREPORT_TESTS_CHART_SEED"] = str(charts_from)
        if cwd is None:
            command += ["--project", str(REPOSITORY)]
        command += ["serve", quarter, "--port", str(port), "--lang", language]
        if not pdf:
            command.append("--no-pdf")
        command += options or []
        if data_dir is not None:
            command += ["--data", str(data_dir)]
        if templates_dir is not None:
            command += ["--templates", str(templates_dir)]
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            cwd=cwd or workdir,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        try:
            self.url = self._wait_for_url(timeout)
            # The server answers once the first draft is built (or failed): on a loaded
            # machine that can outlast a browser's patience for one navigation.
            if first_draft:
                self._wait_for_line(r": draft 1 (built|does not build)", timeout)
        except BaseException:
            self.stop()
            raise

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def output(self) -> str:
        return "\n".join(self.lines)

    def _wait_for_url(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                found = re.search(r" at (http://\S+/)$", line)
                if found:
                    return found.group(1)
            if self.process.poll() is not None:
                raise RuntimeError(f"mtmreport serve exited early:\n{self.output()}")
            time.sleep(0.05)
        raise TimeoutError(f"mtmreport serve printed no URL in {timeout} s:\n{self.output()}")

    def _wait_for_line(self, pattern: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(re.search(pattern, line) for line in list(self.lines)):
                return
            if self.process.poll() is not None:
                raise RuntimeError(f"mtmreport serve exited early:\n{self.output()}")
            time.sleep(0.05)
        raise TimeoutError(f"mtmreport serve printed no {pattern!r} in {timeout} s")

    def get(self, path: str, timeout: float = 10) -> bytes:
        with urllib.request.urlopen(self.url + path.lstrip("/"), timeout=timeout) as response:
            return response.read()

    def get_json(self, path: str) -> Any:
        """A JSON answer at a path from the server's root ("/ru/__preview/status")."""
        root = self.url.split("/", 3)[:3]  # scheme, "", host:port
        with urllib.request.urlopen("/".join(root) + path, timeout=10) as response:
            return json.loads(response.read())

    def status(self, path: str = "") -> dict[str, Any]:
        """The state of the edition the printed URL is of, or of the one at `path` ("/ru/")."""
        return (
            self.get_json(f"{path.rstrip('/')}/__preview/status")
            if path
            else json.loads(self.get("__preview/status"))
        )

    def wait_status(
        self, holds: Callable[[dict[str, Any]], bool], timeout: float = 60, path: str = ""
    ) -> dict[str, Any]:
        """Poll the preview's status until `holds(status)`; returns that status. The pause
        between two requests grows (to a fifth of a second): a long wait asks less often."""
        deadline = time.monotonic() + timeout
        status: dict[str, Any] = {}
        pause = 0.02
        while time.monotonic() < deadline:
            status = self.status(path)
            if holds(status):
                return status
            time.sleep(pause)
            pause = min(pause * 1.5, 0.2)
        raise TimeoutError(f"status never held in {timeout} s; last {status}\n{self.output()}")

    def stop(self, timeout: float = 20) -> int:
        """End it as `kill` does (SIGTERM), killing it only if it will not go; its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout)
        self._reader.join(timeout=timeout)
        return self.process.returncode
