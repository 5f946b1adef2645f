"""A second process beside a build, so one build uses both cores of a small machine.

A build is a chain: data (pandas) -> charts (matplotlib) -> HTML -> PDF (WeasyPrint). Each
of the three libraries costs 0.3-0.6 s to import, and drawing the charts costs about as much
as laying out the PDF. A helper started at the very top of a build imports its library while
the main process imports pandas and computes, and then works beside it:

- "charts": the helper imports matplotlib and draws the charts the cache lacks, while the
  main process renders the HTML and imports WeasyPrint for the PDF;
- "pdf": when every chart is expected from the cache, the helper imports WeasyPrint instead
  and writes the PDF as soon as the HTML is there.

On Linux the helper is forked, which takes milliseconds, before the main process imports
anything heavy; elsewhere, or once the process runs threads (a preview server), it is
spawned, which is slower but equivalent. One call runs at a time. If the helper dies, the
caller is told (`HelperLost`) and does the work itself, so a helper changes speed, never
output.

Every child process of mtmreport (this helper, `build --all`'s workers, the preview's PDF
worker) calls `die_with_parent` first: should the command be killed, its children end with it
at once, so nothing is written after the command is gone and nothing holds its terminal.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, Literal

Role = Literal["charts", "pdf"]
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
_PARENT_POLL_SECONDS = 0.2


class HelperLost(RuntimeError):
    """The helper process ended before answering."""


def process_context() -> Any:
    """fork where it is fast and safe (Linux, one thread), a fresh interpreter elsewhere."""
    if sys.platform == "linux" and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def die_with_parent(parent_pid: int) -> None:
    """Make this child process end the moment the process `parent_pid` that started it ends.

    On Linux the kernel sends the child SIGKILL when its parent dies (prctl's PDEATHSIG);
    elsewhere a thread watches for the child being handed to another parent. Either way a
    killed command leaves no process that goes on writing its output. Signals the parent
    handles its own way (a SIGTERM that cleans up) are the parent's: here they end the child.
    """
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0:
                if os.getppid() != parent_pid:  # the parent died before the request took
                    os._exit(1)
                return
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()


def _watch_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(_PARENT_POLL_SECONDS)
    os._exit(1)


def _prepare(role: Role) -> None:
    """Import what the role needs before the first call arrives."""
    if role == "charts":
        import pandas  # noqa: F401  (chart specs carry DataFrames)

        from mtmreport.charts import draw  # noqa: F401
    else:
        import mtmreport.pdf  # noqa: F401


def _serve(role: Role, conn: Connection, parent_pid: int) -> None:
    """The helper's loop: prepare, then run each (function, args) and send back the outcome."""
    die_with_parent(parent_pid)
    try:
        # Should preparing fail, the call itself imports again and reports the error.
        with contextlib.suppress(Exception):
            _prepare(role)
        while True:
            request = conn.recv()
            if request is None:
                return
            function, args = request
            try:
                outcome = (True, function(*args))
            except Exception as error:
                outcome = (False, error)
            try:
                conn.send(outcome)
            except Exception:  # an unpicklable error: send its text
                conn.send((False, RuntimeError(repr(outcome[1]))))
    except (EOFError, KeyboardInterrupt, BrokenPipeError):  # the build ended or was stopped
        return


class Helper:
    """One helper process with a role, started at once; a context manager that stops it."""

    def __init__(self, role: Role):
        self.role = role
        context = process_context()
        self._conn, child_conn = context.Pipe()
        self._process = context.Process(
            target=_serve,
            args=(role, child_conn, os.getpid()),
            name=f"mtmreport-{role}",
            daemon=True,
        )
        self._process.start()
        child_conn.close()
        self._busy = False

    def start(self, function: Callable[..., Any], *args: Any) -> None:
        """Send one call; its outcome is collected with `result()`."""
        if self._busy:
            raise RuntimeError("the helper runs one call at a time")
        try:
            self._conn.send((function, args))
        except (BrokenPipeError, EOFError, OSError):
            self._busy = False
        else:
            self._busy = True

    def result(self) -> Any:
        """The call's return value; its exception re-raised; `HelperLost` if it died."""
        if not self._busy:
            raise HelperLost("the helper is not running a call")
        self._busy = False
        try:
            succeeded, value = self._conn.recv()
        except (EOFError, OSError) as error:
            raise HelperLost(f"the {self.role} helper ended early") from error
        if not succeeded:
            raise value
        return value

    def finish(self, fallback: Callable[..., Any], *args: Any) -> Any:
        """The call's return value; should the helper have died, `fallback(*args)` run here."""
        try:
            return self.result()
        except HelperLost:
            return fallback(*args)

    def close(self) -> None:
        """Stop the helper at once: its results are files already collected, or not wanted.

        Terminating rather than asking it to finish its imports means a build that fails early
        (a typo in the quarter file) reports at once.
        """
        self._process.terminate()
        self._process.join()
        self._conn.close()

    def __enter__(self) -> Helper:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
