"""Faults: a killed, interrupted, concurrent or unwritable build, in real processes.

(a) `build` and `build --all --jobs 2` are SIGKILLed at several moments: within two seconds
no process of theirs is left, their stdout and stderr are closed, nothing in the output
folder changes afterwards, every quarter's folder holds the old report or a complete new one,
and the next build sweeps up what the killed one left. (b) SIGTERM ends a build as Ctrl-C
does. (c) Builds of one quarter at once never crash, and `output/<quarter>` is never missing
while they publish; without an atomic exchange, a report a killed build set aside is put
back. (d) Every unwritable output (read-only folder, read-only file system, unwritable
parent, `--output` below a file, a full disk during the font copy or the workbook, a
read-only cache, an output folder inside the templates) exits 4 with one line naming the
folder, and leaves the previous report and no litter.

Every wait is bounded in time and every loop in count. Permission cases drop the root
capabilities that override file modes (setpriv), so they also hold when tests run as root.
"Never missing" is watched through the kernel's own record of the output folder's entries
(inotify), which sees every rename, however short the moment between two.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from mtmreport import publish
from mtmreport.build import BuildOptions, build_report
from mtmreport.project import Project
from tests.conftest import CHART_CACHE, DATA, TEMPLATES, run_cli

pytestmark = pytest.mark.slow  # real processes killed and timed

ROOT = Path(__file__).resolve().parent.parent
QUARTERS = ("2023-Q2", "2023-Q3", "2023-Q4")
OLD = "old.txt"  # the marker of a previous report in the output folder
GONE_WITHIN = 2.0  # seconds for a killed command's processes to be gone
DROP_ROOT_POWERS = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search,-fowner"]


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "mtmreport", *args]


def run(
    *args: str, prefix: list[str] | None = None, timeout: float = 180
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*(prefix or []), *command(*args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


def tree_digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def tree_state(folder: Path) -> dict[str, tuple[int, int]]:
    """Every path under `folder` with its size and modification time (what a write changes)."""
    state = {}
    for path in sorted(folder.rglob("*")):
        with_stat = path.lstat()
        state[str(path.relative_to(folder))] = (with_stat.st_size, with_stat.st_mtime_ns)
    return state


def old_reports(output: Path, quarters: tuple[str, ...] = QUARTERS) -> None:
    for quarter in quarters:
        (output / quarter).mkdir(parents=True)
        (output / quarter / OLD).write_text(f"the previous {quarter} report\n")


def litter(output: Path) -> list[str]:
    return sorted(p.name for p in output.iterdir() if p.name.startswith(".") and p.name != ".cache")


def session_processes(session: int) -> list[str]:
    """The processes (pid and command) in a session, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(fields[3]) == session and fields[0] != "Z":
                found.append(f"{entry.name} {(entry / 'cmdline').read_bytes()[:120]!r}")
        except (OSError, ValueError, IndexError):
            continue
    return found


def wait_until(condition: Callable[[], bool], seconds: float, step: float = 0.02) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


def read_to_end(stream, seconds: float) -> bool:
    """Whether `stream` reaches end of file within `seconds` (every writer has closed it)."""
    done = threading.Event()

    def reader() -> None:
        stream.read()
        done.set()

    threading.Thread(target=reader, daemon=True).start()
    return done.wait(seconds)


@pytest.fixture(scope="module")
def reference(built) -> dict[str, dict[str, str]]:
    """Each shipped quarter's complete report (the session's builds; `build --all --jobs 2`
    writes the same bytes, see test_speed): what a published folder must be."""
    return {q: tree_digest(built[q].folder) for q in QUARTERS}


def after_the_kill(
    process: subprocess.Popen, output: Path, reference: dict[str, dict[str, str]]
) -> None:
    """What must hold once a command is gone: no process, closed pipes, no late write, each
    report old or complete, and the next build sweeps up."""
    assert wait_until(lambda: not session_processes(process.pid), GONE_WITHIN), session_processes(
        process.pid
    )
    assert read_to_end(process.stdout, GONE_WITHIN), "something still holds stdout"
    assert read_to_end(process.stderr, GONE_WITHIN), "something still holds stderr"
    before = tree_state(output)
    time.sleep(1.5)
    assert tree_state(output) == before, "the output changed after the command was gone"
    for quarter in QUARTERS:
        folder = output / quarter
        assert folder.is_dir(), f"{quarter} is missing"
        files = tree_digest(folder)
        assert list(files) == [OLD] or files == reference[quarter], f"{quarter} is half-done"
    # Any build into the folder sweeps it: the cheapest (the draft, HTML, one edition), here.
    result = run_cli("build", "2023-Q4", "--no-pdf", "--lang", "en", "--output", output)
    assert result.exit_code == 0, result.output
    assert litter(output) == []


def pdf_started(output: Path, quarter: str) -> Callable[[], bool]:
    return lambda: any(output.glob(f".{quarter}.building-*/report.pdf"))


def started(output: Path) -> Callable[[], bool]:
    return lambda: any(output.glob(".*.building-*"))


def after_seconds(seconds: float) -> Callable[[Path], Callable[[], bool]]:
    begin = time.monotonic()
    return lambda output: lambda: time.monotonic() - begin >= seconds


KILLS = {
    # name: (command, the moment to kill it, as a condition on the output folder)
    "build-at-start": (("build", "2023-Q3"), lambda out: lambda: True),
    "build-once-staging": (("build", "2023-Q3"), started),
    "build-writing-pdf": (("build", "2023-Q3"), lambda out: pdf_started(out, "2023-Q3")),
    "all-at-start": (("build", "--all", "--jobs", "2"), lambda out: lambda: True),
    "all-once-staging": (("build", "--all", "--jobs", "2"), started),
    "all-writing-first-pdf": (
        ("build", "--all", "--jobs", "2"),
        lambda out: pdf_started(out, "2023-Q2"),
    ),
    "all-after-first-publish": (
        ("build", "--all", "--jobs", "2"),
        lambda out: lambda: (out / "2023-Q2" / "report.pdf").exists(),
    ),
}


@pytest.mark.parametrize("case", list(KILLS))
def test_a_killed_build_leaves_nothing_working_or_half_done(case, reference, tmp_path):
    args, moment = KILLS[case]
    output = tmp_path / "output"
    old_reports(output)
    process = subprocess.Popen(
        command(*args, "--output", str(output)),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its session: every process it starts, found in /proc
    )
    try:
        reached = wait_until(moment(output), 60, step=0.005)
        assert reached or process.poll() is None, "the moment never came"
        process.kill()  # the command only: its children must notice by themselves
        process.wait(timeout=10)
        after_the_kill(process, output, reference)
    finally:
        for line in session_processes(process.pid):  # none left behind, even on failure
            os.kill(int(line.split()[0]), signal.SIGKILL)


def test_sigterm_ends_a_build_as_ctrl_c_does(reference, tmp_path):
    output = tmp_path / "output"
    old_reports(output)
    process = subprocess.Popen(
        command("build", "2023-Q3", "--output", str(output)),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert wait_until(started(output), 60, step=0.005)
    time.sleep(0.3)
    process.terminate()
    assert process.wait(timeout=GONE_WITHIN + 3) == 130
    assert "interrupted" in process.stderr.read()
    assert wait_until(lambda: not session_processes(process.pid), GONE_WITHIN)
    assert litter(output) == []  # its own staging folder removed on the way out
    assert list(tree_digest(output / "2023-Q3")) == [OLD]


class Absences:
    """Whether `name`, once in `folder`, went missing from it even for an instant while the
    block ran: the kernel queues an event for every entry created, removed or renamed there
    (inotify), in order, so counting the entries under `name` shows each absence, however
    short, without a thread looking in a loop. `gaps`: the times it went missing."""

    _MOVED_FROM, _MOVED_TO, _CREATE, _DELETE, _OVERFLOW = 0x40, 0x80, 0x100, 0x200, 0x4000

    def __init__(self, folder: Path, name: str):
        self.folder, self.name = folder, name
        self.gaps = 0

    def __enter__(self) -> Absences:
        libc = ctypes.CDLL(None, use_errno=True)
        self._fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self._fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        mask = self._MOVED_FROM | self._MOVED_TO | self._CREATE | self._DELETE
        if libc.inotify_add_watch(self._fd, os.fsencode(self.folder), mask) < 0:
            raise OSError(ctypes.get_errno(), "inotify_add_watch", str(self.folder))
        self._present = 1 if os.path.lexists(self.folder / self.name) else 0
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            self._count()
        finally:
            os.close(self._fd)

    def _count(self) -> None:
        while True:
            try:
                events = os.read(self._fd, 1 << 16)
            except BlockingIOError:
                return
            at = 0
            while at < len(events):
                _, mask, _, size = struct.unpack_from("iIII", events, at)
                name = os.fsdecode(events[at + 16 : at + 16 + size].rstrip(b"\0"))
                at += 16 + size
                assert not mask & self._OVERFLOW, "events were lost: cannot tell"
                if name != self.name:
                    continue
                if mask & (self._MOVED_TO | self._CREATE):
                    self._present += 1
                elif mask & (self._MOVED_FROM | self._DELETE):
                    self._present -= 1
                    self.gaps += self._present == 0


def test_builds_of_one_quarter_at_once_never_crash_nor_unpublish(reference, tmp_path):
    """Two rounds of three builds at once: the first into an empty chart cache (all three
    draw and store the same charts), the second from the cache (short builds, whose
    publishes meet most closely). Each of the six publishes replaces a report, and the watch
    sees every instant of each, so one absence anywhere fails the test. The English edition
    only: a quarter's editions share one staging folder and one publish, so a second
    edition would add no meeting of builds."""
    output = tmp_path / "output"
    old_reports(output, ("2023-Q3",))
    final = output / "2023-Q3"
    (final / "report.html").write_text("the previous report")
    # held open, so that its inode number cannot be given to another folder meanwhile
    held = os.open(final, os.O_RDONLY | os.O_DIRECTORY)
    args = ("build", "2023-Q3", "--no-pdf", "--lang", "en", "--output", str(output))
    with Absences(output, "2023-Q3") as absences:
        for _ in range(2):
            processes = [
                subprocess.Popen(
                    command(*args),
                    cwd=ROOT,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                for _ in range(3)
            ]
            for process in processes:
                _, err = process.communicate(timeout=120)
                assert process.returncode == 0, err
    assert absences.gaps == 0
    # a folder put in place whole, never the files of the folder on show written over
    try:
        assert final.stat().st_ino != os.fstat(held).st_ino
    finally:
        os.close(held)
    assert tree_digest(final)["report.html"] == reference["2023-Q3"]["report.html"]
    assert litter(output) == []


def publish_in_threads(final: Path, threads: int, rounds: int, errors: list[Exception]) -> None:
    """`threads` threads each stage and publish `final` `rounds` times, writing "thread.round"
    into its file n; what goes wrong is collected in `errors` for the test to assert on."""

    def publisher(n: int) -> None:
        try:
            for i in range(rounds):
                with publish.staging(final.parent, final.name) as folder:
                    (folder / "n").write_text(f"{n}.{i}")
                    publish.publish(folder, final)
        except Exception as error:  # collected for the assertion
            errors.append(error)

    workers = [threading.Thread(target=publisher, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)


def test_publishing_in_threads_always_leaves_the_report_in_place(tmp_path):
    """Many publishes of one folder at once: no error, never a moment without the folder."""
    final = tmp_path / "2023-Q3"
    final.mkdir()
    (final / "n").write_text("0")
    errors: list[Exception] = []
    with Absences(tmp_path, "2023-Q3") as absences:
        publish_in_threads(final, threads=4, rounds=25, errors=errors)
    assert publish._renameat2() is not None  # Linux: the atomic exchange was used
    assert errors == [] and absences.gaps == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2023-Q3"]


def test_without_an_atomic_exchange_publishing_still_works(tmp_path, monkeypatch):
    """The fallback's two renames leave a moment without the folder, and the watch above
    sees it (so it would see one in the tests that use it); no error all the same."""
    monkeypatch.setattr(publish, "exchange", lambda first, second: False)
    final = tmp_path / "2023-Q3"
    errors: list[Exception] = []
    with Absences(tmp_path, "2023-Q3") as absences:
        publish_in_threads(final, threads=3, rounds=20, errors=errors)
    assert errors == []
    assert absences.gaps > 0
    assert (final / "n").read_text().endswith(".19")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2023-Q3"]


def dead_pid() -> int:
    """The number of a process that has ended."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait(timeout=30)
    return process.pid


def test_the_next_build_puts_back_a_report_a_killed_build_set_aside(tmp_path):
    """Where a kill fell between the two renames of the fallback publish."""
    output = tmp_path / "output"
    output.mkdir()
    gone = dead_pid()
    aside = output / f".2023-Q3.previous-{gone}-abc"
    aside.mkdir()
    (aside / OLD).write_text("old")
    staging_of_the_dead = output / f".2023-Q4.building-{gone}-def"
    staging_of_the_dead.mkdir()
    staging_of_the_living = output / f".2023-Q4.building-{os.getppid()}-0123"
    staging_of_the_living.mkdir()
    publish.clean_litter(output)
    assert (output / "2023-Q3" / OLD).read_text() == "old"
    assert not aside.exists() and not staging_of_the_dead.exists()
    assert staging_of_the_living.exists()  # a build still running is left alone


# --- unwritable output ------------------------------------------------------------------------


def powers_dropped() -> list[str]:
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: modes cannot be made to bite")
    return DROP_ROOT_POWERS


def assert_exit_4_in_one_line(result: subprocess.CompletedProcess, *names: str) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 4, result.stderr
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr and "bug" not in result.stderr
    for name in names:
        assert name in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def previous(tmp_path: Path) -> Path:
    """An output folder with a previous 2023-Q3 report."""
    output = tmp_path / "output"
    old_reports(output, ("2023-Q3",))
    return output


def test_read_only_output_folder(previous):
    previous.chmod(0o555)
    try:
        result = run("build", "2023-Q3", "--output", str(previous), prefix=powers_dropped())
    finally:
        previous.chmod(0o755)
    line = assert_exit_4_in_one_line(result, str(previous), "Permission denied")
    assert "--output" in line
    assert list(tree_digest(previous / "2023-Q3")) == [OLD] and litter(previous) == []


def test_unwritable_parent_folder(tmp_path):
    parent = tmp_path / "locked"
    parent.mkdir(mode=0o555)
    try:
        result = run("build", "2023-Q3", "--output", str(parent / "out"), prefix=powers_dropped())
    finally:
        parent.chmod(0o755)
    assert_exit_4_in_one_line(result, str(parent), "Permission denied")
    assert not (parent / "out").exists()


def test_output_below_a_file(tmp_path):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine")
    result = run("build", "2023-Q3", "--no-pdf", "--output", str(a_file / "out"))
    assert_exit_4_in_one_line(result, str(a_file), "a file stands where a folder should be")
    assert a_file.read_text() == "mine"


def test_read_only_cache_fails_before_publishing(previous):
    charts = previous / ".cache" / "charts"
    charts.mkdir(parents=True)
    charts.chmod(0o555)
    try:
        result = run(
            "build", "2023-Q3", "--no-pdf", "--output", str(previous), prefix=powers_dropped()
        )
    finally:
        charts.chmod(0o755)
    line = assert_exit_4_in_one_line(result, str(charts))
    assert "delete it" in line
    assert list(tree_digest(previous / "2023-Q3")) == [OLD] and litter(previous) == []


def test_output_folder_inside_the_templates_fonts(tmp_path):
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES, templates)
    before = tree_digest(templates)
    inside = templates / "fonts" / "out"
    result = run("build", "2023-Q3", "--templates", str(templates), "--output", str(inside))
    assert_exit_4_in_one_line(result, "inside the templates folder", "--output")
    assert tree_digest(templates) == before and not inside.exists()


def in_a_mount_namespace(script: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """`script` (sh) run as root of a new user and mount namespace, where it may mount a
    small or read-only file system; skipped where the system allows no such namespace."""
    probe = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "true"], capture_output=True
    )
    if shutil.which("unshare") is None or probe.returncode != 0:
        pytest.skip("no user namespaces here: cannot mount a full or read-only file system")
    return subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-euc", script],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )


def mtm(*args: str) -> str:
    return " ".join([sys.executable, "-m", "mtmreport", *args])


def test_read_only_file_system(tmp_path):
    output = tmp_path / "output"
    old_reports(output, ("2023-Q3",))
    result = in_a_mount_namespace(
        f"mount --bind {output} {output}; mount -o remount,bind,ro {output}; "
        + mtm("build", "2023-Q3", "--no-pdf", "--output", str(output)),
        tmp_path,
    )
    assert_exit_4_in_one_line(result, str(output), "read-only file system")
    assert list(tree_digest(output / "2023-Q3")) == [OLD] and litter(output) == []


def test_disk_full_while_copying_the_fonts(tmp_path):
    """A 1 MB file system: the fonts (2.7 MB) are the first thing that does not fit. The
    English edition: the other edition's charts, drawn meanwhile, could fill it first."""
    output = tmp_path / "output"
    output.mkdir()
    result = in_a_mount_namespace(
        f"mount -t tmpfs -o size=1m tmpfs {output}; mkdir {output}/2023-Q3; "
        f"echo old > {output}/2023-Q3/{OLD}; "
        f"status=0; {mtm('build', '2023-Q3', '--no-pdf', '--lang', 'en', '--output', str(output))} "
        f"|| status=$?; "
        f"ls -A {output} > {tmp_path}/listing; ls -A {output}/2023-Q3 > {tmp_path}/report; "
        "exit $status",
        tmp_path,
    )
    line = assert_exit_4_in_one_line(result, "No space left on device", "disk is full")
    assert "fonts" in line
    assert set((tmp_path / "listing").read_text().split()) - {".cache"} == {"2023-Q3"}
    assert (tmp_path / "report").read_text().split() == [OLD]


def test_disk_full_while_writing_the_workbook(tmp_path, built):
    """A file system sized, from a first build in it, to fill up within the XLSX file. Both
    builds, of the English edition, start from the session's chart cache: what fills the
    disk is the workbook, not the charts."""
    output = tmp_path / "output"
    output.mkdir()
    build = mtm("build", "2023-Q3", "--no-pdf", "--lang", "en", "--output", str(output))
    cache = f"cp -r {built['2023-Q3'].folder.parent / CHART_CACHE} {output}/.cache/charts"
    used = f"$(df -k --output=used {output} | tail -1)"
    xlsx = f"{output}/2023-Q3/data/2023-Q3-data.xlsx"
    result = in_a_mount_namespace(
        f"mount -t tmpfs -o size=64m tmpfs {output}; mkdir {output}/.cache; {cache}; "
        f"{build} > /dev/null 2>&1; "
        f"total={used}; xlsx_kb=$(( ($(stat -c %s {xlsx}) + 4095) / 4096 * 4 )); "
        f"tail_kb=$(du -sk {output}/2023-Q3/audit.txt {output}/2023-Q3/audit.json "
        "| awk '{s+=$1} END {print s}'); "
        f"rm -rf {output}/2023-Q3; umount {output}; "
        # room for everything before the workbook, and for less than half of it
        f"mount -t tmpfs -o size=$(( total - xlsx_kb / 2 - tail_kb ))k tmpfs {output}; "
        f"mkdir {output}/.cache; {cache}; "
        f"mkdir {output}/2023-Q3; echo old > {output}/2023-Q3/{OLD}; "
        f"status=0; {build} || status=$?; "
        f"ls -A {output} > {tmp_path}/listing; ls -A {output}/2023-Q3 > {tmp_path}/report; "
        "exit $status",
        tmp_path,
    )
    assert_exit_4_in_one_line(result, "No space left on device", "disk is full")
    assert set((tmp_path / "listing").read_text().split()) - {".cache"} == {"2023-Q3"}
    assert (tmp_path / "report").read_text().split() == [OLD]


def test_a_workbook_that_cannot_be_written_is_a_writing_error(tmp_path, monkeypatch):
    """xlsxwriter wraps the system's error in its own; the build sees the system's."""
    import errno

    import xlsxwriter.workbook

    def full(self):  # what xlsxwriter's zip writing meets on a full disk
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(xlsxwriter.workbook.Workbook, "_store_workbook", full)
    paths = Project(DATA, TEMPLATES, tmp_path / "output")
    old_reports(paths.output_dir, ("2023-Q3",))
    from mtmreport.errors import BuildError

    with pytest.raises(BuildError) as raised:
        build_report("2023-Q3", paths, BuildOptions(pdf=False, parallel=False))
    assert raised.value.exit_code == 4
    assert "the disk is full" in str(raised.value)
    assert list(tree_digest(paths.output_dir / "2023-Q3")) == [OLD]
    assert litter(paths.output_dir) == []


# --- the preview's PDF worker -----------------------------------------------------------------


def children(pid: int) -> set[int]:
    """Every descendant of `pid`, from /proc."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat[stat.rindex(")") + 2 :].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    found, frontier = set(), {pid}
    for _ in range(10):  # a few generations at most
        frontier = {child for child, parent in parents.items() if parent in frontier}
        if not frontier:
            break
        found |= frontier
    return found


def test_a_killed_preview_leaves_no_pdf_worker(tmp_path):
    from tests.preview_process import PreviewProcess

    server = PreviewProcess("2023-Q3", DATA, TEMPLATES, tmp_path)
    try:
        assert wait_until(lambda: bool(children(server.process.pid)), 120, step=0.1)
        workers = children(server.process.pid)
        server.process.kill()
        server.process.wait(timeout=10)
        assert wait_until(lambda: not any(Path(f"/proc/{pid}").exists() for pid in workers), 2.0)
    finally:
        server.stop()
        for pid in children(server.process.pid):
            os.kill(pid, signal.SIGKILL)


def test_the_next_preview_sweeps_up_the_folder_of_a_killed_one(tmp_path):
    """A SIGKILLed preview cannot remove its temporary folder; the next one removes it, and
    only the folders of previews that are gone. The first is killed as soon as its folder
    exists, while it builds its first draft into it."""
    from tests.preview_process import PreviewProcess

    tmpdir = tmp_path / "tmp"  # where PreviewProcess points TMPDIR, below
    tmpdir.mkdir()
    serve = ["--project", str(ROOT), "serve", "2023-Q3", "--port", "0"]
    killed = subprocess.Popen(
        command(*serve, "--data", str(DATA), "--templates", str(TEMPLATES)),
        cwd=tmp_path,
        env={**os.environ, "TMPDIR": str(tmpdir)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert wait_until(lambda: any(tmpdir.glob(f"mtmreport-serve-{killed.pid}-*")), 60)
    finally:
        killed.kill()
        killed.wait(timeout=10)
    left = list(tmpdir.glob("mtmreport-serve-*"))
    assert [folder.name.split("-")[2] for folder in left] == [str(killed.pid)]
    running = tmpdir / f"mtmreport-serve-{os.getpid()}-abc123"  # a live process's
    running.mkdir()
    link = tmpdir / "mtmreport-serve-999999999-link"  # never followed
    link.symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (tmp_path / "elsewhere").mkdir()

    second = PreviewProcess("2023-Q3", DATA, TEMPLATES, tmp_path)
    try:
        own = f"mtmreport-serve-{second.process.pid}-"
        names = sorted(p.name for p in second.tmpdir.iterdir())
        assert left[0].name not in names
        assert running.name in names and link.name in names
        assert [name for name in names if name.startswith(own)]
        assert (tmp_path / "elsewhere").is_dir()
    finally:
        assert second.stop() == 0
    assert not list(second.tmpdir.glob(f"mtmreport-serve-{second.process.pid}-*"))


def test_new_and_schema_into_unwritable_folders_exit_4(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(DATA / "2023-Q4.yaml", data)
    data.chmod(0o555)
    try:
        made = run("new", "2024-Q1", "--data", str(data), prefix=powers_dropped())
    finally:
        data.chmod(0o755)
    assert_exit_4_in_one_line(made, str(data), "Permission denied", "--data")
    assert sorted(os.listdir(data)) == ["2023-Q4.yaml"]
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine")
    schema = run("schema", "--output", str(a_file / "quarter.schema.json"))
    assert_exit_4_in_one_line(schema, str(a_file), "a file stands where a folder should be")
