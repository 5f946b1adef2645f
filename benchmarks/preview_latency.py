"""How long from saving the quarter file to the open page showing the new figure.

Runs the real `mtmreport serve` on a scratch copy of the data and templates, opens it in
headless Chromium (Debian's; `make bench-preview` installs it), then saves the YAML again and
again with a new `total:` as an editor does (write beside, rename over) and times each save
until the page, reloaded by itself, shows the new figure. Saves come every `--pause`
seconds, so the background PDF of the previous draft is usually still rendering: the figure
measured is the HTML view's under that load.

    .venv/bin/python benchmarks/preview_latency.py [--saves 10] [--pause 1.0]

Two clocks: "seen" polls the page over DevTools every 10 ms (an upper bound); "painted" is
the new page's own first-contentful-paint time, against the same wall clock as the save.
Target: median "seen" <= 0.5 s.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the DevTools client and server runner live with the tests

from tests.browser import Browser, find_chromium  # noqa: E402
from tests.preview_process import PreviewProcess  # noqa: E402

QUARTER = "2023-Q3"
TOTAL = 4482427


def save(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.saving")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def summary(name: str, values: list[float]) -> str:
    ms = sorted(v * 1000 for v in values)
    return (
        f"{name:>8}: median {statistics.median(ms):4.0f} ms, "
        f"range {ms[0]:4.0f}-{ms[-1]:4.0f} ms over {len(ms)} saves"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--saves", type=int, default=10)
    parser.add_argument("--pause", type=float, default=1.0, help="seconds between saves")
    args = parser.parse_args()
    executable = find_chromium()
    if executable is None:
        print("Debian's chromium is not installed: run `make bench-preview`.", file=sys.stderr)
        return 2

    workdir = Path(tempfile.mkdtemp(prefix="mtmreport-bench-preview-"))
    data, templates = workdir / "data", workdir / "templates"
    shutil.copytree(ROOT / "data" / "quarters", data)
    shutil.copytree(ROOT / "templates", templates)
    quarter_path = data / f"{QUARTER}.yaml"
    original = quarter_path.read_text(encoding="utf-8")
    assert f"total: {TOTAL}\n" in original

    server = PreviewProcess(QUARTER, data, templates, workdir)
    browser = Browser(executable)
    seen: list[float] = []
    painted: list[float] = []
    try:
        browser.open(server.url)
        browser.wait_for(f"document.body.textContent.includes('{TOTAL:,}')")
        for attempt in range(args.saves + 1):  # the first save warms up, and is not counted
            value = TOTAL + 1000 * (attempt + 1)
            wall, start = time.time(), time.perf_counter()
            save(quarter_path, original.replace(f"total: {TOTAL}\n", f"total: {value}\n", 1))
            browser.wait_for(
                f"document.body && document.body.textContent.includes('{value:,}')",
                timeout=30,
                interval=0.01,
            )
            elapsed = time.perf_counter() - start
            paint = browser.wait_for(
                "(performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime"
                " + performance.timeOrigin",
                timeout=5,
            )
            if attempt:
                seen.append(elapsed)
                painted.append(paint / 1000 - wall)
            time.sleep(args.pause)
    finally:
        browser.close()
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    builds = [float(m) for m in re.findall(r"built in ([\d.]+) s", server.output())[2:]]
    pdfs = [float(m) for m in re.findall(r"PDF of draft \d+ in ([\d.]+) s", server.output())]
    print(f"mtmreport serve {QUARTER}: {args.saves} saves, {args.pause} s apart")
    print(summary("seen", seen))
    print(summary("painted", painted))
    if builds:
        print(summary("rebuild", builds).replace("saves", "builds"))
    if pdfs:
        print(f"     pdf: median {statistics.median(pdfs):.2f} s per background PDF")
    return 0


if __name__ == "__main__":
    sys.exit(main())
