"""How long a build takes, measured against the floor: WeasyPrint alone writing our PDF.

    make bench                      # or: .venv/bin/python benchmarks/bench.py [--runs 5]

Every figure is the median (and range) of several runs, each a fresh process unless it says
"warm", all in one run on one machine, writing only into a temporary folder (never output/):

1. clean build: `mtmreport build QUARTER --output <new folder>`: HTML and PDF, no caches;
2. rebuild after a text edit: a narrative sentence of a copy of the data changes, charts are
   cached from the build before;
3. the floor: a fresh process that imports WeasyPrint and writes the PDF from the clean
   build's report.html, with the options we use (PDF/UA-1);
4. time per phase inside one process (no helper process, so the phases add up);
5. HTML-only rebuild in a warm process (what a preview pays per save);
6. `mtmreport build --all` with `--jobs 2` against `--jobs 1` (no caches);
7. peak memory (largest process of the build's tree) and PDF size; charts as PNG against SVG;
8. a clean build of both editions (English and Russian) against one (English).

Measurements 1-5 and 7 build the English edition alone (`--lang en`); `--all` in 6 builds every
edition of every quarter, as a plain `build --all` does.

Clean builds, floors and rebuilds alternate run by run, so a machine that gets busier or
quieter during the benchmark shifts all of them alike. The last line printed is
`clean build / floor ratio: X.XX`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
MTMREPORT = ROOT / ".venv" / "bin" / "mtmreport"
DATA = ROOT / "data" / "quarters"

TARGETS = {  # name: (limit, how it is compared)
    "clean build / floor": 1.5,
    "text-edit rebuild / floor": 1.15,
    "warm HTML rebuild (s)": 0.25,
    "--jobs 2 speed-up": 1.7,
    "two editions / one": 1.5,
    "PDF size (MB)": 1.0,
    "peak memory (MB)": 400.0,
}

FLOOR_SCRIPT = """
import sys
from weasyprint import HTML
HTML(filename=sys.argv[1]).write_pdf(sys.argv[2], pdf_variant="pdf/ua-1")
"""

# One build in one process, phases timed by the build itself; no helper so they add up.
PHASES_SCRIPT = """
import json, sys, time
from pathlib import Path
start = time.perf_counter()
from dataclasses import replace
from mtmreport.build import BuildOptions, build_report
from mtmreport.project import Project
imported = time.perf_counter()
result = build_report(
    sys.argv[1],
    replace(Project.find(), output_dir=Path(sys.argv[2])),
    BuildOptions(parallel=False, chart_format=sys.argv[3], languages=("en",)),
)
end = time.perf_counter()
print(json.dumps({"import": imported - start, **result.timings, "total": end - start}))
"""

# A whole build through the library, for comparing chart formats with everything else equal.
FORMAT_SCRIPT = """
import sys
from pathlib import Path
from dataclasses import replace
from mtmreport.build import BuildOptions, build_report
from mtmreport.project import Project
paths = replace(Project.find(), output_dir=Path(sys.argv[2]))
build_report(sys.argv[1], paths, BuildOptions(chart_format=sys.argv[3], languages=("en",)))
"""

WARM_SCRIPT = """
import json, sys, time
from pathlib import Path
from dataclasses import replace
from mtmreport.build import BuildOptions, build_report
from mtmreport.project import Project
paths = replace(Project.find(), output_dir=Path(sys.argv[2]))
options = BuildOptions(pdf=False, languages=("en",))
build_report(sys.argv[1], paths, options)  # imports, fonts, chart cache
times = []
for _ in range(int(sys.argv[3])):
    start = time.perf_counter()
    build_report(sys.argv[1], paths, options)
    times.append(time.perf_counter() - start)
print(json.dumps(times))
"""


@dataclass
class Runs:
    """Wall and CPU times of repeated runs, and the most memory any of them held.

    `max_rss_mb` is the largest single process (the kernel's own count); `tree_rss_mb` the
    most that the process and its helpers or workers held together (sampled every 20 ms).
    """

    seconds: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    max_rss_mb: float = 0.0
    tree_rss_mb: float = 0.0

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    def span(self) -> str:
        return f"{min(self.seconds):.2f}–{max(self.seconds):.2f}"


def _tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and all its descendants, from /proc (Linux)."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text()
        except OSError:  # ended meanwhile
            continue
        match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        total += int(match.group(1)) if match else 0
        pending += [int(child) for child in children.split()]
    return total


def run(args: list[str], runs: Runs | None = None, cwd: Path = ROOT) -> str:
    """Run a process to its end; record its wall time, CPU time and peak memory in `runs`.

    `os.wait4` reports the child's own resource use, including every descendant it waited
    for (the build's helper, `--all`'s workers): CPU time is theirs together, `ru_maxrss` is
    the largest of them. A thread samples the tree's total memory meanwhile.
    """
    peak = [0]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(args, cwd=cwd, stdout=out, stderr=err)
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.02):
                peak[0] = max(peak[0], _tree_rss_kb(process.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        done.set()
        sampler.join()
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if process.returncode != 0:
        raise SystemExit(f"failed ({process.returncode}): {' '.join(args)}\n{stderr}")
    if runs is not None:
        runs.seconds.append(elapsed)
        runs.cpu.append(usage.ru_utime + usage.ru_stime)
        runs.max_rss_mb = max(runs.max_rss_mb, usage.ru_maxrss / 1024)
        runs.tree_rss_mb = max(runs.tree_rss_mb, peak[0] / 1024)
    return stdout


def edit_text(quarter_file: Path, revision: int) -> None:
    """Change one narrative sentence: the first line of the first `text: |` block."""
    text = quarter_file.read_text(encoding="utf-8")
    pattern = re.compile(r"(^\s*text: \|\n\s+)([^\n]*?)( \(revision \d+\))?$", re.MULTILINE)
    edited, count = pattern.subn(rf"\g<1>\g<2> (revision {revision})", text, count=1)
    if not count:
        raise SystemExit(f"{quarter_file} has no `text: |` block to edit")
    quarter_file.write_text(edited, encoding="utf-8")


def row(name: str, runs: Runs, note: str = "") -> str:
    return f"{name:<44} {runs.median:>7.2f} s  {runs.span():>11} s  {note}"


def verdict(name: str, value: float) -> str:
    limit = TARGETS[name]
    higher_is_better = name.startswith("--jobs")
    met = value >= limit if higher_is_better else value <= limit
    sign = "≥" if higher_is_better else "≤"
    return f"  {name:<30} {value:>7.2f}   target {sign} {limit:<5}  {'met' if met else 'NOT met'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per measurement")
    parser.add_argument("--quarter", default="2023-Q3")
    parser.add_argument("--profile", action="store_true", help="also print a pyinstrument tree")
    options = parser.parse_args()
    n, quarter = options.runs, options.quarter
    if not MTMREPORT.exists():
        raise SystemExit("run `make setup` first")

    tmp = Path(tempfile.mkdtemp(prefix="mtmreport-bench-"))
    try:
        measure(n, quarter, tmp, options.profile)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def measure(n: int, quarter: str, tmp: Path, profile: bool) -> None:
    build = [str(MTMREPORT), "build", quarter, "--lang", "en"]
    both = [str(MTMREPORT), "build", quarter, "--lang", "en", "--lang", "ru"]
    load_before = os.getloadavg()[0]
    print(f"mtmreport benchmark: {quarter}, {n} runs each, {os.cpu_count()} CPUs", flush=True)
    # Untimed warm-up: bytecode, fontconfig and matplotlib font caches, as after installing.
    run([*build, "--output", str(tmp / "warm-up")])

    data = tmp / "data"
    shutil.copytree(DATA, data)
    rebuild_out = tmp / "rebuild"
    run([*build, "--data", str(data), "--output", str(rebuild_out)])  # fills the chart cache

    clean, floor, rebuild, editions = Runs(), Runs(), Runs(), Runs()
    png, svg = Runs(), Runs()
    pdf_sizes: dict[str, int] = {}
    for i in range(n):
        out = tmp / f"clean-{i}"
        run([*build, "--output", str(out)], clean)
        run([*both, "--output", str(tmp / f"editions-{i}")], editions)
        html = out / quarter / "report.html"
        run([str(PYTHON), "-c", FLOOR_SCRIPT, str(html), str(tmp / f"floor-{i}.pdf")], floor)
        edit_text(data / f"{quarter}.yaml", i)
        run([*build, "--data", str(data), "--output", str(rebuild_out)], rebuild)
        for fmt, runs in (("png", png), ("svg", svg)):
            fmt_out = tmp / f"{fmt}-{i}"
            run([str(PYTHON), "-c", FORMAT_SCRIPT, quarter, str(fmt_out), fmt], runs)
            pdf_sizes[fmt] = (fmt_out / quarter / "report.pdf").stat().st_size
        done = (
            f"clean {clean.seconds[-1]:.2f} s, both editions {editions.seconds[-1]:.2f} s, "
            f"floor {floor.seconds[-1]:.2f} s"
        )
        print(f"  run {i + 1}/{n}: {done}", flush=True)
    pdf_size = (tmp / "clean-0" / quarter / "report.pdf").stat().st_size
    floor_size = (tmp / "floor-0.pdf").stat().st_size

    jobs1, jobs2 = Runs(), Runs()
    for i in range(n):
        for jobs, runs in (("1", jobs1), ("2", jobs2)):
            out = tmp / f"all-{jobs}-{i}"
            run([str(MTMREPORT), "build", "--all", "--jobs", jobs, "--output", str(out)], runs)
    quarters = len(list((tmp / "all-1-0").glob("20*-Q*")))

    phases: dict[str, list[float]] = {}
    for i in range(n):
        stdout = run([str(PYTHON), "-c", PHASES_SCRIPT, quarter, str(tmp / f"phases-{i}"), "png"])
        for name, seconds in json.loads(stdout).items():
            phases.setdefault(name, []).append(seconds)

    warm = Runs(
        json.loads(run([str(PYTHON), "-c", WARM_SCRIPT, quarter, str(tmp / "warm"), str(n)]))
    )

    print()
    print(f"{'measurement':<44} {'median':>9}  {'range':>13}")
    print(row("1. clean build (HTML + PDF, no caches)", clean, f"CPU {_med(clean.cpu):.2f} s"))
    print(row("2. rebuild after a text edit", rebuild, f"CPU {_med(rebuild.cpu):.2f} s"))
    print(row("3. floor: WeasyPrint alone, our HTML -> PDF", floor, f"CPU {_med(floor.cpu):.2f} s"))
    print("4. phases in one process (no helper), median s:")
    for name, values in phases.items():
        print(f"     {name:<40} {statistics.median(values):>7.3f}")
    print(row("5. warm HTML-only rebuild (preview)", warm))
    print(row(f"6. build --all --jobs 1 ({quarters} quarters, every edition)", jobs1))
    print(row(f"   build --all --jobs 2 ({quarters} quarters, every edition)", jobs2))
    print(row("7. charts as PNG (library call, whole process)", png, _mb(pdf_sizes["png"])))
    print(row("   charts as SVG (library call, whole process)", svg, _mb(pdf_sizes["svg"])))
    print(f"   PDF size {_mb(pdf_size)} (floor's own PDF {_mb(floor_size)})")
    print(
        row("8. clean build, both editions (en + ru)", editions, f"CPU {_med(editions.cpu):.2f} s")
    )
    print(
        f"   peak memory, largest process / whole tree: clean build {clean.max_rss_mb:.0f} / "
        f"{clean.tree_rss_mb:.0f} MB, floor {floor.max_rss_mb:.0f} MB, "
        f"--jobs 2 {jobs2.max_rss_mb:.0f} / {jobs2.tree_rss_mb:.0f} MB"
    )
    print(f"   load average (1 min) before / after: {load_before:.2f} / {os.getloadavg()[0]:.2f}")

    ratio = clean.median / floor.median
    print("\ntargets:")
    print(verdict("clean build / floor", ratio))
    print(verdict("text-edit rebuild / floor", rebuild.median / floor.median))
    print(verdict("warm HTML rebuild (s)", warm.median))
    print(verdict("--jobs 2 speed-up", jobs1.median / jobs2.median))
    print(verdict("two editions / one", editions.median / clean.median))
    print(verdict("PDF size (MB)", pdf_size / 1e6))
    print(verdict("peak memory (MB)", clean.tree_rss_mb))
    if profile:
        print_profile(quarter, tmp)
    print(f"clean build / floor ratio: {ratio:.2f}")


def print_profile(quarter: str, tmp: Path) -> None:
    """A pyinstrument tree of one clean build without the helper (it shows one process)."""
    try:
        import pyinstrument  # noqa: F401
    except ImportError:
        print("\n--profile needs pyinstrument: .venv/bin/pip install pyinstrument")
        return
    stdout = run(
        [
            str(PYTHON),
            "-m",
            "pyinstrument",
            "-c",
            PHASES_SCRIPT,
            quarter,
            str(tmp / "profile"),
            "png",
        ]
    )
    print("\nprofile of one clean build in one process (pyinstrument):")
    print(stdout)


def _med(values: list[float]) -> float:
    return statistics.median(values)


def _mb(size: int) -> str:
    return f"{size / 1e6:.2f} MB"


if __name__ == "__main__":
    main()
