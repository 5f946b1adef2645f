"""Work in other processes: the one mechanism every part of mtmreport uses for it.

A build is a chain: data (pandas) -> charts (matplotlib) -> HTML -> PDF (WeasyPrint). Each
of the three libraries costs 0.3-0.6 s to import, and drawing the charts costs about as much
as laying out the PDF, so on a small machine work goes to other processes. Four uses, one
mechanism (`Helper`, and `Pool` of several):

- a build's helpers (`build`), started at the very top of a build with a *role*: "charts"
  imports matplotlib and draws the charts the cache lacks while the main process computes and
  renders the HTML; "pdf" imports WeasyPrint meanwhile and writes the PDF as soon as the HTML
  is there (its images once the charts are placed); one such helper for each other edition
  too, which the editions' helper inherits and alone uses;
- a quarter's other editions (`build`), made by a helper forked once the figures are
  computed, so it starts with them in memory (`first=`: a call made from inherited memory,
  never pickled);
- `build --all --jobs N` (`build`): a helper that computes every quarter while the main
  process imports, then a `Pool` of N helpers, forked once every quarter is computed, each
  writing one edition at a time;
- the live preview's PDF renderer (`preview`): a helper spawned (the preview runs threads),
  niced so the HTML draft and the browser come first, started again when it dies.

What every helper does alike: it dies with the process that started it (`die_with_parent`),
so a killed command leaves nothing running and nothing written afterwards; Ctrl-C and SIGTERM
are its parent's to handle; it runs one call after another and sends back each outcome as
data, the return value or the exception (as a `RemoteError` with its text when it cannot be
pickled); and should it die, the caller is told (`HelperLost`) or does the work itself
(`finish`, `Pool.map`), so a helper changes speed, never output.

On Linux a helper is forked, which takes milliseconds, before the main process imports
anything heavy; elsewhere, or once the process runs threads (a preview server), it is
spawned, which is slower but equivalent (except `first=`, which needs a fork).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import multiprocessing
import os
import pickle
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from multiprocessing.connection import Connection, wait
from typing import Any, Literal

Role = Literal["charts", "pdf"]
StartMethod = Literal["auto", "fork", "spawn"]
Call = tuple[Callable[..., Any], tuple[Any, ...]]
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
_PARENT_POLL_SECONDS = 0.2


class HelperLost(RuntimeError):
    """The helper process ended before answering."""


class RemoteError(RuntimeError):
    """An exception raised in a helper that could not travel back as itself: its type and
    message, as text."""


def process_context(start: StartMethod = "auto") -> Any:
    """fork where it is fast and safe (Linux, one thread), a fresh interpreter elsewhere."""
    if start == "auto":
        fork_safe = sys.platform == "linux" and threading.active_count() == 1
        start = "fork" if fork_safe else "spawn"
    return multiprocessing.get_context(start)


def can_fork() -> bool:
    """Whether a helper may be forked here and now (and so be given a `first` call)."""
    return process_context().get_start_method() == "fork"


def die_with_parent(parent_pid: int) -> None:
    """Make this child process end the moment the process `parent_pid` that started it ends.

    On Linux the kernel sends the child SIGKILL when its parent dies (prctl's PDEATHSIG);
    elsewhere a thread watches for the child being handed to another parent. Either way a
    killed command leaves no process that goes on writing its output. Signals the parent
    handles its own way (a SIGTERM that cleans up, Ctrl-C) are the parent's: a SIGTERM ends
    the child at once, and a Ctrl-C at the terminal, which reaches every process of the
    command, is left to the parent, which stops its helpers.
    """
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
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


def _prepare(role: Role | None) -> None:
    """Import what the role needs before the first call arrives."""
    if role == "charts":
        import pandas  # noqa: F401  (chart specs carry DataFrames)

        from mtmreport.charts import draw  # noqa: F401
    elif role == "pdf":
        import mtmreport.pdf  # noqa: F401


def _outcome(function: Callable[..., Any], args: tuple[Any, ...]) -> tuple[bool, Any]:
    try:
        return True, function(*args)
    except Exception as error:
        return False, error


def _send(conn: Connection, outcome: tuple[bool, Any]) -> None:
    succeeded, value = outcome
    text = f"{type(value).__name__}: {value}"
    if not succeeded:
        try:  # some exceptions pickle but cannot be made again from their arguments
            pickle.loads(pickle.dumps(value))
        except Exception:
            outcome = (False, RemoteError(text))
    try:
        conn.send(outcome)
    except Exception:  # an unpicklable value or error: its text travels instead
        conn.send((False, RemoteError(text if not succeeded else f"unpicklable result: {text}")))


def _serve(
    role: Role | None,
    conn: Connection,
    parent_pid: int,
    nice: int,
    first: Call | None,
    state: Any,
) -> None:
    """The helper's loop: prepare, then run each (function, args) and send back the outcome."""
    die_with_parent(parent_pid)
    # A helper may start helpers of its own (another edition's charts helper). The daemon
    # flag, which forbids that, only has the interpreter stop helpers at exit; each helper
    # already ends with the process that started it.
    with contextlib.suppress(AssertionError, AttributeError):
        multiprocessing.current_process().daemon = False
    if nice:
        with contextlib.suppress(OSError):
            os.nice(nice)
    try:
        if first is not None:  # inherited through the fork: nothing to unpickle
            _send(conn, _outcome(*first))
        # Should preparing fail, the call itself imports again and reports the error.
        with contextlib.suppress(Exception):
            _prepare(role)
        while True:
            request = conn.recv()
            if request is None:
                return
            function, args = request
            _send(conn, _outcome(function, args if state is None else (state, *args)))
    except (EOFError, BrokenPipeError, OSError):  # the caller ended or was stopped
        return
    finally:
        if first is not None:
            # A fork carries the parent's open files and context managers (its staging
            # folder, its own helper): leave without unwinding anything of theirs.
            os._exit(0)


@contextlib.contextmanager
def _frozen_for_fork(context: Any) -> Iterator[None]:
    """A fork's child inherits the parent's objects in pages it shares until it writes to
    them, and a collection of the garbage collector writes to every object it looks at: the
    child would copy the parent's whole heap (WeasyPrint, matplotlib, pandas, the figures)
    and spend CPU walking it. Frozen while forking, those objects are left out of the child's
    collections (as the `gc.freeze` documentation advises); the parent's own are thawed at once,
    unless they were frozen already (a helper forking a helper of its own keeps what it
    inherited frozen).
    """
    if context.get_start_method() != "fork" or gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


class Helper:
    """One helper process, started at once; a context manager that stops it.

    `role` says what to import while waiting for the first call ("charts", "pdf" or None).
    `start` is the start method ("auto": fork where it is safe, else spawn); `nice` lowers
    its priority; `first` is a call it makes as soon as it starts, from the memory it
    inherits by the fork (so it needs `start` "fork" or an "auto" that forks), whose outcome
    is the first `result()`. With `state`, every call sent gets it as its first argument:
    inherited by a fork, pickled once for a spawn.
    """

    def __init__(
        self,
        role: Role | None = None,
        *,
        start: StartMethod = "auto",
        nice: int = 0,
        first: Call | None = None,
        state: Any = None,
        name: str = "",
    ):
        self.role = role
        context = process_context(start)
        if first is not None and context.get_start_method() != "fork":
            raise ValueError("a helper's first call needs a fork")
        self._conn, child_conn = context.Pipe()
        self._process = context.Process(
            target=_serve,
            args=(role, child_conn, os.getpid(), nice, first, state),
            name=f"mtmreport-{name or role or 'helper'}",
            daemon=True,
        )
        with _frozen_for_fork(context):
            self._process.start()
        child_conn.close()
        self._busy = first is not None

    @property
    def connection(self) -> Connection:
        """What to `multiprocessing.connection.wait` on for the outcome of the current call."""
        return self._conn

    def is_alive(self) -> bool:
        return self._process.is_alive()

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

    def ready(self, timeout: float) -> bool:
        """Whether the current call's outcome (or the helper's end) has come within `timeout`."""
        try:
            return self._conn.poll(timeout)
        except (EOFError, OSError):
            return True

    def result(self) -> Any:
        """The call's return value; its exception re-raised; `HelperLost` if it died."""
        if not self._busy:
            raise HelperLost("the helper is not running a call")
        self._busy = False
        try:
            succeeded, value = self._conn.recv()
        except (EOFError, OSError) as error:
            raise HelperLost(f"the {self.role or 'helper'} process ended early") from error
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


class Pool:
    """`size` helpers (forked now, so they inherit what this process holds) that run calls
    of one function, `size` at a time: like `make -j`, the size caps the processes at work.
    `state`, as for `Helper`, is every call's first argument.

    `map` hands out the calls in the order given (put the longest first), yields each
    outcome as it comes, and does here the call of a helper that died, and, once none is
    left, every call still waiting. A context manager that stops every helper.
    """

    def __init__(self, size: int, role: Role | None = None, state: Any = None):
        self._state = state
        self._helpers = [Helper(role, state=state, name=f"worker-{i + 1}") for i in range(size)]

    def map(
        self, function: Callable[..., Any], calls: Iterable[Sequence[Any]]
    ) -> Iterable[tuple[int, bool, Any]]:
        """(index, succeeded, return value or exception) of `function(*args)` for each args
        of `calls`, in the order they finish."""
        waiting = deque(enumerate(calls))
        running: dict[Connection, tuple[Helper, int, Sequence[Any]]] = {}
        idle = list(self._helpers)
        while waiting or running:
            while waiting and idle:
                helper = idle.pop()
                index, args = waiting.popleft()
                helper.start(function, *args)
                running[helper.connection] = (helper, index, args)
            if not running:
                # Every helper died: the calls still waiting are done here, one by one, as a
                # dead helper's own call is. No new helper: a call that kills its process
                # (memory, a crash in a library) would only kill each new one in turn.
                index, args = waiting.popleft()
                yield (index, *self._here(function, args))
                continue
            for conn in wait(list(running)):
                helper, index, args = running.pop(conn)  # type: ignore[index]
                try:
                    yield index, True, helper.result()
                except HelperLost:  # its call is done here; the helper is not used again
                    yield (index, *self._here(function, args))
                    continue
                except Exception as error:
                    yield index, False, error
                idle.append(helper)

    def _here(self, function: Callable[..., Any], args: Sequence[Any]) -> tuple[bool, Any]:
        """The outcome of a call done in this process, for a helper that died."""
        return _outcome(function, tuple(args) if self._state is None else (self._state, *args))

    def close(self) -> None:
        for helper in self._helpers:
            helper.close()

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
