"""The ways a build is made fast must never change what it writes: the chart cache, the helper
process, the parallel `build --all`, and imports kept out of commands that do not need them."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest

from mtmreport.build import BuildOptions, build_all, build_report
from mtmreport.chartcache import ChartCache, chart_key
from mtmreport.helper import Helper, HelperLost, Pool, RemoteError
from mtmreport.render import two_columns
from tests.conftest import DATA, ROOT, pdf_text, run_cli, seed_chart_cache

HEAVY = ("matplotlib", "weasyprint")


@pytest.mark.parametrize(
    "args",
    [["--help"], ["build", "--help"], ["validate", "2023-Q3"], ["audit", "2023-Q3"]],
    ids=["help", "build-help", "validate", "audit"],
)
@pytest.mark.slow
def test_commands_that_draw_nothing_import_neither_matplotlib_nor_weasyprint(args):
    script = (
        "import sys\n"
        "from mtmreport.cli import main\n"
        "try:\n"
        f"    main({args!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert run.stderr.strip().splitlines()[-1] == "[]", run.stderr


def _charts(folder: Path) -> dict[str, bytes]:
    """The charts of every edition of a quarter's folder, by their path there."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("charts/*"))}


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.slow
def test_a_text_edit_redraws_no_chart_and_a_data_edit_only_its_own(scratch, tmp_path):
    html_only = BuildOptions(pdf=False)  # the PDF is laid out from these files
    first = build_report("2023-Q3", scratch, html_only)
    assert first.charts_drawn >= 10 and first.charts_cached == 0
    drawn = _charts(first.folder)
    assert len(drawn) == first.charts_drawn  # every edition's charts, each drawn once
    entries = set((scratch.output_dir / ".cache" / "charts").glob("*.png"))
    assert len(entries) == first.charts_drawn

    quarter_file = scratch.data_dir / "2023-Q3.yaml"
    _edit(quarter_file, "key decision-makers.", "key decision-makers in the region.")
    second = build_report("2023-Q3", scratch, html_only)
    assert (second.charts_drawn, second.charts_cached) == (0, first.charts_drawn)
    assert _charts(second.folder) == drawn  # cached bytes are the drawn bytes
    assert "key decision-makers in the region." in second.html.read_text(encoding="utf-8")

    _edit(quarter_file, "number: 748123, share: 18.5", "number: 748100, share: 18.5")
    third = build_report("2023-Q3", scratch, html_only)
    changed = {n for n, data in _charts(third.folder).items() if drawn.get(n) != data}
    assert changed and all("arrivals" in name for name in changed)
    # Exactly the charts whose data changed are drawn again, each into a new cache entry.
    redrawn = set((scratch.output_dir / ".cache" / "charts").glob("*.png")) - entries
    assert third.charts_drawn == len(changed) == len(redrawn) < first.charts_drawn

    # What the cache gave equals what a build without any cache draws.
    fresh = build_report(
        "2023-Q3",
        scratch.__class__(scratch.data_dir, scratch.templates_dir, tmp_path / "fresh"),
        BuildOptions(pdf=False, cache=False, parallel=False),
    )
    assert fresh.charts_cached == 0
    assert _charts(fresh.folder) == _charts(third.folder)
    assert fresh.html.read_bytes() == third.html.read_bytes()
    assert not (tmp_path / "fresh" / ".cache").exists()


def test_chart_key_follows_what_the_chart_shows(repo_paths):
    from mtmreport.charts.plan import plan_charts
    from mtmreport.wording import load_wording

    wording = load_wording(repo_paths.templates)
    loaded = repo_paths.loaded("2023-Q3")
    spec = next(s for block in plan_charts(loaded.figures, wording).values() for s in block)
    fonts = repo_paths.templates.font_files
    key = chart_key(spec, wording, "png", fonts)
    assert key == chart_key(spec.numbered(99), wording, "png", fonts)  # the number only names files
    assert key != chart_key(spec, wording, "svg", fonts)
    table = spec.table.copy()
    table.loc[0, "value"] = table.loc[0, "value"] + 1e-9
    assert key != chart_key(
        spec.__class__(**{**spec.__dict__, "table": table}), wording, "png", fonts
    )
    other = load_wording(repo_paths.templates, "ru")
    assert key != chart_key(spec, other, "png", fonts)


def test_cache_entries_are_whole_and_pruned_oldest_first(tmp_path):
    cache = ChartCache(tmp_path / "cache")
    with pytest.raises(RuntimeError), cache.writing("broken", "png") as path:
        path.write_bytes(b"half")
        raise RuntimeError("drawing failed")
    assert not any((tmp_path / "cache").iterdir())  # nothing half-written is left
    k = [hashlib.sha256(f"k{n}".encode()).hexdigest() for n in range(5)]  # keys as chart_key's
    for n in range(5):
        with cache.writing(k[n], "png") as path:
            path.write_bytes(bytes([n]))
        os.utime(cache.path(k[n], "png"), (1000 + n, 1000 + n))
    assert cache.fetch(k[0], "png", tmp_path / "copy.png")  # used now: the newest
    cache.prune(keep=3)
    assert sorted(p.stem for p in (tmp_path / "cache").iterdir()) == sorted([k[0], k[3], k[4]])
    assert not cache.fetch(k[1], "png", tmp_path / "missing.png")
    cache.remember("2023-Q3", "png", [k[0], k[4]])
    assert cache.probably_complete("2023-Q3", "png")
    assert not cache.probably_complete("2023-Q2", "png")
    cache.path(k[4], "png").unlink()
    assert not cache.probably_complete("2023-Q3", "png")


def _exit_at_once() -> None:
    os._exit(3)


def _double(value: int) -> int:
    return 2 * value


def _fail() -> None:
    raise ValueError("no such chart kind")


def test_helper_returns_results_errors_and_says_when_it_died():
    with Helper("pdf") as helper:
        helper.start(_double, 21)
        assert helper.result() == 42
        helper.start(_fail)
        with pytest.raises(ValueError, match="no such chart kind"):
            helper.result()
        helper.start(_exit_at_once)
        with pytest.raises(HelperLost):
            helper.result()


class _Unpicklable(Exception):
    def __init__(self, what: str, code: int):  # made again from its args alone: fails
        super().__init__(f"{what} ({code})")


def _raise_unpicklable() -> None:
    raise _Unpicklable("no such font", 7)


def _niceness_and_signals() -> tuple[int, bool]:
    return os.nice(0), signal.getsignal(signal.SIGINT) is signal.SIG_IGN


def _with_state(state: dict[str, int], key: str) -> int:
    if key == "die":
        if os.getpid() != state["parent"]:
            os._exit(3)  # in a helper: lost; done again here, where it succeeds
        return -1
    return state[key] * 10


@pytest.mark.slow
def test_one_mechanism_for_every_kind_of_helper():
    """The options the four uses need: niceness, Ctrl-C left to the parent, exceptions that
    cannot travel as themselves, a first call from inherited memory, a pool with a state
    whose dead helper's call is done here."""
    here = os.nice(0)
    with Helper(start="spawn", nice=5) as spawned:
        spawned.start(_niceness_and_signals)
        assert spawned.result() == (here + 5, True)
        spawned.start(_raise_unpicklable)
        with pytest.raises(RemoteError, match=r"_Unpicklable: no such font \(7\)"):
            spawned.result()

    inherited = {"figures": [1, 2, 3]}  # in memory only: a fork sees it, nothing is pickled
    with Helper(start="fork", first=(lambda: sum(inherited["figures"]), ())) as forked:
        assert forked.result() == 6

    state = {"a": 1, "b": 2, "c": 3, "parent": os.getpid()}
    with Pool(2, state=state) as pool:
        calls = [("a",), ("die",), ("b",), ("c",)]
        outcomes = {index: (ok, value) for index, ok, value in pool.map(_with_state, calls)}
    assert outcomes == {0: (True, 10), 1: (True, -1), 2: (True, 20), 3: (True, 30)}


@contextmanager
def _within(seconds: int) -> Iterator[None]:
    """Fail, rather than hang, should the block take longer than `seconds`."""

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"still waiting after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.slow
def test_a_pool_whose_every_helper_died_does_the_calls_left_itself():
    """Its only helper dies on the first call: that call and the two still waiting are done
    here, and the pool ends (it waited on no helper at all, forever, before)."""
    state = {"a": 1, "parent": os.getpid()}
    with _within(60), Pool(1, state=state) as pool:
        calls = [("die",), ("a",), ("die",)]
        outcomes = {index: (ok, value) for index, ok, value in pool.map(_with_state, calls)}
    assert outcomes == {0: (True, -1), 1: (True, 10), 2: (True, -1)}


@pytest.mark.slow
def test_build_all_builds_every_quarter_and_reports_a_broken_one(scratch):
    _edit(scratch.data_dir / "2023-Q2.yaml", "quarter: 2023-Q2", "quarter: 2023-Q2\nbogus: 1")
    outcomes = build_all(scratch, BuildOptions(pdf=False), jobs=2)
    by_quarter = {o.quarter: o for o in outcomes}
    assert sorted(by_quarter) == ["2023-Q2", "2023-Q3", "2023-Q4"]
    assert by_quarter["2023-Q2"].result is None and by_quarter["2023-Q2"].exit_code == 2
    assert any("bogus" in line for line in by_quarter["2023-Q2"].errors)
    for quarter in ("2023-Q3", "2023-Q4"):
        assert by_quarter[quarter].result is not None
        assert (scratch.output_dir / quarter / "report.html").is_file()
    assert not (scratch.output_dir / "2023-Q2").exists()


def test_cli_build_all_in_two_processes_equals_one_process(built, scratch, tmp_path):
    """`build --all --jobs 2` writes the bytes of the quarters built one after another in one
    process (the session's builds; that one process with or without a helper makes no
    difference is `test_build`'s byte-identity test)."""

    def every_file(out: Path) -> dict[Path, bytes]:
        return {
            p.relative_to(out): p.read_bytes()
            for p in sorted(out.rglob("*"))
            if p.is_file() and ".cache" not in p.parts
        }

    one_by_one = {quarter: result.folder for quarter, result in built.items()}
    out = tmp_path / "jobs-2"
    result = run_cli("build", "--all", "--jobs", "2", "--data", DATA, "--output", out)
    assert result.exit_code == 0, result.output
    in_two = every_file(out)
    assert sorted({p.parts[0] for p in in_two}) == sorted(one_by_one)
    assert in_two == every_file(one_by_one["2023-Q3"].parent)
    # Every quarter in every edition: English and Russian.
    assert len([p for p in in_two if p.name == "report.pdf"]) == 3 * 2

    _edit(scratch.data_dir / "2023-Q3.yaml", "total: 4482427", "total: many")
    args = ["build", "--all", "--jobs", "2", "--no-pdf", "--data", str(scratch.data_dir)]
    seed_chart_cache(tmp_path / "broken", one_by_one["2023-Q3"].parent)  # charts: not the point
    result = run_cli(*args, "--output", tmp_path / "broken")
    assert result.exit_code == 2
    lines = result.output.splitlines()
    # as `build 2023-Q3` says it, each line after the quarter's name
    assert any(line.startswith("2023-Q3: ") and "2023-Q3.yaml:" in line for line in lines)
    assert "2023-Q3: 1 problem found." in lines and lines[-1] == "1 quarter(s) failed: 2023-Q3"
    assert (tmp_path / "broken" / "2023-Q4" / "report.html").is_file()
    assert run_cli("build", "2023-Q3", "--jobs", "2").exit_code == 2
    assert run_cli("build", "2023-Q3", "--all").exit_code == 2


def test_front_texts_split_into_two_even_columns_in_order():
    def item(title: str, length: int) -> SimpleNamespace:
        return SimpleNamespace(title=title, text="x" * length)

    a, b, c = item("A", 400), item("B", 600), item("C", 500)
    assert two_columns([a, b]) == [[a], [b]]
    assert two_columns([a, b, c]) == [[a, b], [c]]
    assert two_columns([c, a, a]) == [[c], [a, a]]
    assert two_columns([a]) == [[a], []]


@pytest.mark.slow
def test_compiled_templates_are_kept_and_an_edited_template_is_compiled_again(
    scratch, built_html, tmp_path, monkeypatch
):
    seed_chart_cache(scratch.output_dir, built_html["2023-Q3"].folder.parent)  # not the point
    templates = tmp_path / "templates"
    shutil.copytree(scratch.templates_dir, templates)
    paths = scratch.__class__(scratch.data_dir, templates, scratch.output_dir)
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))  # Jinja's per-user folder
    first = build_report("2023-Q3", paths, BuildOptions(pdf=False))
    assert 'class="outline"' in first.html.read_text(encoding="utf-8")
    kept = tmp_path / "tmp" / f"_jinja2-cache-{os.getuid()}"
    assert any(kept.glob("__mtmreport_*.cache"))
    assert (kept.stat().st_mode & 0o777) == 0o700  # this user's only
    assert not (scratch.output_dir / ".cache" / "templates").exists()  # never in output/
    _edit(templates / "report.html.j2", '<nav class="outline"', '<nav class="outline edited"')
    second = build_report("2023-Q3", paths, BuildOptions(pdf=False))
    assert 'class="outline edited"' in second.html.read_text(encoding="utf-8")


class _LosingHelper(Helper):
    """A helper that dies on its first call, as one killed by the system would."""

    def start(self, function, *args):  # type: ignore[no-untyped-def]
        super().start(_exit_at_once)


@pytest.mark.parametrize("rebuild", [False, True], ids=["charts-helper", "pdf-helper"])
@pytest.mark.slow
def test_a_build_whose_helper_dies_does_the_work_itself(scratch, built_html, monkeypatch, rebuild):
    if rebuild:  # all charts cached (the session's): the helper would write the PDF
        seed_chart_cache(scratch.output_dir, built_html["2023-Q4"].folder.parent)
    monkeypatch.setattr("mtmreport.build.Helper", _LosingHelper)
    result = build_report("2023-Q4", scratch)
    assert result.pdf.is_file() and "KAZAKHSTAN" in pdf_text(result.pdf)
    # every edition, the other edition's (made by helpers of its own, lost too) included
    assert [e.language for e in result.editions] == ["en", "ru"]
    for edition in result.editions:
        assert edition.pdf is not None and edition.pdf.stat().st_size > 10_000
        charts = list((edition.html.parent / "charts").iterdir())
        assert charts and all(p.stat().st_size > 0 for p in charts)
    # drawn here for want of the charts helper; with every chart cached, none to draw
    assert (result.charts_drawn == 0) == rebuild


class _FailingHelper(Helper):
    """A helper whose drawing fails (a bug in a chart), while the PDF is already being laid out."""

    def start(self, function, *args):  # type: ignore[no-untyped-def]
        super().start(_fail)


@pytest.mark.slow
def test_a_chart_that_fails_while_the_pdf_waits_fails_the_build(scratch, monkeypatch):
    """WeasyPrint logs a failed image and lays out without it; the build must not. (The
    failure, a bug, reaches the command line as itself: `failures.describe` says it is one.)"""
    good = build_report("2023-Q4", scratch)
    before = good.pdf.read_bytes()
    shutil.rmtree(scratch.output_dir / ".cache")  # a clean build: the charts helper draws
    monkeypatch.setattr("mtmreport.build.Helper", _FailingHelper)
    with pytest.raises(ValueError, match="no such chart kind"):
        build_report("2023-Q4", scratch)
    assert good.pdf.read_bytes() == before


def test_fetcher_waits_once_for_files_still_to_come(tmp_path):
    from mtmreport.pdf import WaitingFetcher

    chart = tmp_path / "charts" / "figure.png"
    calls: list[str] = []

    def place() -> None:
        calls.append("placed")
        chart.parent.mkdir()
        chart.write_bytes(b"\x89PNG")

    fetcher = WaitingFetcher([tmp_path], on_missing=place)
    fetcher.fetch(chart.as_uri()).close()
    fetcher.fetch(chart.as_uri()).close()
    assert calls == ["placed"]


@pytest.mark.slow
def test_the_back_matter_that_fits_is_laid_out_again_from_the_last_text_page_only(
    built, monkeypatch
):
    """The Russian 2023-Q3 edition's back matter fits below its text: `lay_out` lays the
    report out once and then only its last pages again, and writes the very bytes a whole
    second layout with the back matter following the text gives."""
    from weasyprint import CSS, HTML

    from mtmreport import pdf

    russian = next(e for e in built["2023-Q3"].editions if e.language == "ru")
    folder = russian.html.parent

    def document() -> HTML:
        return HTML(
            string=russian.html.read_text(encoding="utf-8"),
            base_url=pdf.VIRTUAL_ROOT + russian.html.name,
            url_fetcher=pdf.ConfinedFetcher([folder], virtual_root=folder),
        )

    whole = document().render(pdf_variant=pdf.PDF_VARIANT)
    assert pdf.back_matter_fits(whole)  # else this test tests nothing
    following = document().render(
        stylesheets=[CSS(string=pdf.BACK_MATTER_FOLLOWS)], pdf_variant=pdf.PDF_VARIANT
    )
    assert len(following.pages) == len(whole.pages) - 1
    renders: list[object] = []
    render = HTML.render
    monkeypatch.setattr(HTML, "render", lambda *a, **k: renders.append(a) or render(*a, **k))
    relaid = pdf.lay_out(document())
    assert len(renders) == 1
    monkeypatch.setenv("SOURCE_DATE_EPOCH", pdf.REPRODUCIBLE_EPOCH)
    assert relaid.write_pdf(pdf_variant=pdf.PDF_VARIANT) == following.write_pdf(
        pdf_variant=pdf.PDF_VARIANT
    )


# A small report of the same make as ours: a running header with the page counters, footnotes
# (the last page of text has one), and a back matter on a page of its own unless it fits.
SYNTHETIC_CSS = """
@page { size: A6; margin: 14mm 10mm 12mm;
        @top-center { content: string(title) " " counter(page) "/" counter(pages) } }
body { font-size: 9pt; line-height: 1.3 }
h1 { string-set: title content(); font-size: 11pt }
.note { float: footnote; font-size: 7pt }
.back-matter { break-before: page; padding-top: 8mm; font-size: 7pt }
"""


def _synthetic_report(paragraphs: int) -> str:
    text = " ".join(["Arrivals rose in the quarter while departures fell."] * 4)
    body = "".join(
        f"<p>{text}<span class='note'>Source {n}.</span></p>" for n in range(1, paragraphs + 1)
    )
    back = "<section class='back-matter'><p>Disclaimer.</p><p>Publisher, address.</p></section>"
    return (
        f"<html lang='en'><head><title>T</title><style>{SYNTHETIC_CSS}</style></head><body>"
        f"<h1>Report</h1>{body}{back}</body></html>"
    )


@pytest.mark.slow  # PDF layouts
@pytest.mark.parametrize(
    ("broken", "lengths"),
    # paragraphs for which the back matter fits, the last page of text filled to various heights
    [(False, (2, 5, 7, 9, 11)), (True, (7,))],
    ids=["shortcut", "shortcut-fails"],
)
def test_the_back_matter_laid_out_again_equals_a_whole_second_layout_in_any_report(
    broken, lengths, monkeypatch
):
    """For reports whose last page of text ends at various heights (footnotes on it, a
    running header counting the pages), the back matter that fits is laid out after the text
    exactly as a whole second layout lays it out; and should the shortcut fail, `lay_out`
    does the whole second layout itself."""
    from weasyprint import CSS, HTML

    from mtmreport import pdf

    monkeypatch.setenv("SOURCE_DATE_EPOCH", pdf.REPRODUCIBLE_EPOCH)
    if broken:

        def fails(*args: object) -> None:
            raise IndexError("not as recorded")

        monkeypatch.setattr(pdf, "_back_matter_following", fails)
    for paragraphs in lengths:
        html = _synthetic_report(paragraphs)
        first = HTML(string=html).render(pdf_variant=pdf.PDF_VARIANT)
        assert pdf.back_matter_fits(first), paragraphs  # else the case tests nothing
        whole = HTML(string=html).render(
            stylesheets=[CSS(string=pdf.BACK_MATTER_FOLLOWS)], pdf_variant=pdf.PDF_VARIANT
        )
        assert len(whole.pages) == len(first.pages) - 1
        relaid = pdf.lay_out(HTML(string=html))
        assert relaid.write_pdf(pdf_variant=pdf.PDF_VARIANT) == whole.write_pdf(
            pdf_variant=pdf.PDF_VARIANT
        ), paragraphs


def test_figures_computed_by_build_alls_helper_keep_their_decimals_and_traces(q3):
    """`build --all --jobs N` has a helper compute the quarters and send them back pickled:
    every figure must arrive as it left, with the decimals it prints with and its trace
    (plain pickling, for the chart helper, drops the trace)."""
    import dataclasses
    import pickle

    from mtmreport.provenance import TracedFloat, TracedInt, pickled_whole

    def figures(value: object) -> list[TracedInt | TracedFloat]:
        if isinstance(value, (TracedInt, TracedFloat)):
            return [value]
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            value = [getattr(value, f.name) for f in dataclasses.fields(value)]
        elif isinstance(value, dict):
            value = list(value.values())
        if isinstance(value, (list, tuple)):
            return [figure for item in value for figure in figures(item)]
        return []

    sent = figures(q3)
    assert len(sent) > 50
    arrived = figures(pickle.loads(pickled_whole(q3)))
    assert [(type(f), f, f.decimals, f.trace) for f in arrived] == [
        (type(f), f, f.decimals, f.trace) for f in sent
    ]
    assert any(f.trace.inputs for f in arrived)
