"""Writing a report folder so that a failure or a kill at any instant loses nothing.

A build writes into a staging folder beside the final one, `output/.<quarter>.building-<pid>-…`,
and publishes it in one step:

- where the system can swap two paths atomically (Linux's `renameat2(RENAME_EXCHANGE)`), the
  staging folder and `output/<quarter>/` are exchanged, so the old or the new report is under
  its own name at every instant, and two builds of one quarter publishing at once simply
  exchange in turn;
- elsewhere the old folder is renamed aside to `.<quarter>.previous-<pid>-…` and the new one
  renamed in; a build killed between the two renames leaves the old report aside, and the
  next build puts it back.

Every build first sweeps up what killed builds left in the output folder: staging folders
and set-aside reports whose process (the pid in their name) is gone.

Writing errors are the analyst's to fix (a read-only folder, a full disk), so they become a
`BuildError` naming the folder and what to do, never a traceback.
"""

from __future__ import annotations

import ctypes
import errno
import os
import re
import secrets
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from functools import cache
from pathlib import Path

from mtmreport.errors import BuildError, display_path
from mtmreport.periods import QUARTER_ID_PATTERN

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
# Attempts at publishing while other builds of the same quarter publish too: each failed
# attempt means another build succeeded in between, so a few always suffice.
_PUBLISH_ATTEMPTS = 20
# Folders this process is using right now (builds in threads of one process share its pid).
_IN_USE: set[str] = set()
_LITTER = re.compile(
    rf"\.(?P<quarter>{QUARTER_ID_PATTERN})\.(?P<kind>building|previous)-(?P<pid>[0-9]+)-[0-9a-f]+",
    re.ASCII,
)


@cache
def _renameat2() -> ctypes._CFuncPtr | None:  # type: ignore[name-defined]
    """glibc's renameat2, or None where there is none (other systems, old C libraries)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p]
    function.argtypes += [ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


def exchange(first: Path, second: Path) -> bool:
    """Swap two existing paths in one atomic step; False where the system or file system
    cannot (the caller then renames). FileNotFoundError when either is missing."""
    function = _renameat2()
    if function is None:
        return False
    status = function(
        _AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE
    )
    if status == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):  # not on this file system
        return False
    raise OSError(code, os.strerror(code), str(first), None, str(second))


def _remove(path: Path) -> None:
    """Remove a folder, or whatever stands at `path`, without following links."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with suppress(OSError):
            path.unlink(missing_ok=True)


def _alive(pid: int, name: str) -> bool:
    if pid == os.getpid():
        return name in _IN_USE  # otherwise an earlier process with our number, long gone
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def clean_litter(output_dir: Path) -> None:
    """Remove staging folders of builds that were killed, and put back a report a killed
    build had set aside (or drop it, if a newer report has been published since)."""
    try:
        entries = list(output_dir.iterdir())
    except OSError:
        return
    for entry in entries:
        match = _LITTER.fullmatch(entry.name)
        if match is None or _alive(int(match["pid"]), entry.name):
            continue
        final = output_dir / match["quarter"]
        if match["kind"] == "previous" and not os.path.lexists(final):
            try:
                os.rename(entry, final)
            except OSError:
                _remove(entry)
        else:
            _remove(entry)


def _new_folder(parent: Path, prefix: str) -> Path:
    """A new empty folder `<prefix>-<pid>-<random>` in `parent`, marked in use before it exists
    (so that no other thread's sweep takes it), with the usual permissions (not mkdtemp's)."""
    for _ in range(100):  # a clash of 64 random bits is never met twice
        name = f"{prefix}-{os.getpid()}-{secrets.token_hex(8)}"
        _IN_USE.add(name)
        try:
            (parent / name).mkdir()
        except FileExistsError:
            _IN_USE.discard(name)
            continue
        except BaseException:
            _IN_USE.discard(name)
            raise
        return parent / name
    raise FileExistsError(errno.EEXIST, "no free name for a new folder", str(parent))


@contextmanager
def staging(output_dir: Path, quarter: str) -> Iterator[Path]:
    """A fresh folder beside `output_dir/<quarter>` to build into; removed afterwards unless
    published. Earlier builds' litter is swept up first."""
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        clean_litter(output_dir)
        folder = _new_folder(output_dir, f".{quarter}.building")
    except OSError as error:
        raise unwritable(error, output_dir) from None
    try:
        yield folder
    finally:
        _remove(folder)
        _IN_USE.discard(folder.name)


def publish(staging_dir: Path, final: Path) -> None:
    """Make `staging_dir` the folder `final`; the old `final` is never missing meanwhile."""
    try:
        for _ in range(_PUBLISH_ATTEMPTS):
            if _publish_once(staging_dir, final):
                return
        raise OSError(errno.EBUSY, "other builds kept publishing the same report", str(final))
    except OSError as error:
        raise unwritable(error, final.parent) from None


def _publish_once(staging_dir: Path, final: Path) -> bool:
    """One attempt; False when another build published `final` in between."""
    try:
        swapped: bool | None = exchange(staging_dir, final)
    except FileNotFoundError:
        swapped = None  # no report yet (or the system has no exchange): a plain rename
    if swapped:
        _remove(staging_dir)  # now the old report
        return True
    if swapped is None or not os.path.lexists(final):
        try:
            os.rename(staging_dir, final)
        except OSError as error:
            if error.errno in (errno.ENOTEMPTY, errno.EEXIST):
                return False  # another build published meanwhile: exchange with its report
            raise
        return True
    return _publish_by_renames(staging_dir, final)


def _publish_by_renames(staging_dir: Path, final: Path) -> bool:
    """Without an atomic exchange: the old report aside, the new one in, the old one gone.
    A kill in between leaves the old one aside, which `clean_litter` puts back."""
    aside = _new_folder(final.parent, f".{final.name}.previous")
    try:
        return _swap_by_renames(staging_dir, final, aside)
    finally:
        _IN_USE.discard(aside.name)


def _swap_by_renames(staging_dir: Path, final: Path, aside: Path) -> bool:
    try:
        os.rename(final, aside)  # replaces the empty folder just made
    except FileNotFoundError:
        _remove(aside)
        return False
    try:
        os.rename(staging_dir, final)
    except OSError as error:
        if error.errno in (errno.ENOTEMPTY, errno.EEXIST):  # another build's report came in
            _remove(aside)
            return False
        os.rename(aside, final)
        raise
    except BaseException:
        os.rename(aside, final)
        raise
    _remove(aside)
    return True


# --- what to tell the analyst --------------------------------------------------------------

_ADVICE = {
    errno.EACCES: "make it writable, or choose another folder with {option}",
    errno.EPERM: "make it writable, or choose another folder with {option}",
    errno.EROFS: "it is on a read-only file system; choose another folder with {option}",
    errno.ENOSPC: "the disk is full; free some space and build again",
    errno.EDQUOT: "the disk quota is used up; free some space and build again",
    errno.EFBIG: "a file grew beyond the size this system allows; free space or raise the limit",
    errno.ENOTDIR: "a file stands where a folder should be; choose another folder with {option}",
    errno.EEXIST: "a file stands where a folder should be; choose another folder with {option}",
}


_NO_ROOM_OR_READ_ONLY = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG}


def unwritable(
    error: OSError,
    folder: Path,
    what: str = "the report",
    note: str = " (the previous report is unchanged)",
    option: str = "--output",
) -> BuildError:
    """A writing error as one line naming the folder it happened in and what to do."""
    where, detail = folder, ""
    name = _written(error)
    if name is not None:
        path = Path(os.fsdecode(name))
        where = path if path.is_dir() and not path.is_symlink() else path.parent
        if error.errno in (errno.EEXIST, errno.ENOTDIR):  # name the file in the way
            where = next((p for p in (path, *path.parents) if p.is_file()), where)
        for staged in (path, *path.parents):  # in a staging folder: its parent, and the file
            if _LITTER.fullmatch(staged.name):
                where = staged.parent
                detail = f" (writing {path.relative_to(staged)})" if path != staged else ""
                break
    advice = _ADVICE.get(error.errno or 0, "check that it can be written to, and try again")
    advice = advice.format(option=option)
    if ".cache" in where.parts and error.errno not in (errno.ENOSPC, errno.EDQUOT):
        advice = "delete it (a cache is always safe to delete) or make it writable"
    reason = error.strerror or str(error)
    return BuildError(
        f"cannot write {what} in {display_path(where)}{detail}: {reason}; {advice}{note}"
    )


def _written(error: OSError) -> str | bytes | None:
    """The path an error was writing: a copy's or a rename's second name is its destination."""
    return error.filename2 if error.filename2 is not None else error.filename


def writing_error(error: OSError, output_dir: Path) -> BuildError | None:
    """`unwritable(error)` when `error` is about writing the output (a file in the output
    folder, a full disk, a read-only file system), None for other errors (a missing template)."""
    if error.errno in _NO_ROOM_OR_READ_ONLY:
        return unwritable(error, output_dir)
    if _written(error) is not None:
        path = Path(os.fsdecode(_written(error))).resolve()
        if path == output_dir.resolve() or output_dir.resolve() in path.parents:
            return unwritable(error, output_dir)
    return None
