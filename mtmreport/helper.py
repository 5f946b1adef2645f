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
"""

from __future__ import annotations

import contextlib
import multiprocessing
import sys
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, Literal

Role = Literal["charts", "pdf"]


class HelperLost(RuntimeError):
    """The helper process ended before answering."""


def process_context() -> Any:
    """fork where it is fast and safe (Linux, one thread), a fresh interpreter elsewhere."""
    if sys.platform == "linux" and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _prepare(role: Role) -> None:
    """Import what the role needs before the first call arrives."""
    if role == "charts":
        import pandas  # noqa: F401  (chart specs carry DataFrames)

        from mtmreport.charts import draw  # noqa: F401
    else:
        import mtmreport.pdf  # noqa: F401


def _serve(role: Role, conn: Connection) -> None:
    """The helper's loop: prepare, then run each (function, args) and send back the outcome."""
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
            target=_serve, args=(role, child_conn), name=f"mtmreport-{role}", daemon=True
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
