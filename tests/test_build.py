"""End to end: real PDFs built with WeasyPrint and read back."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pypdf import PdfReader

from mtmreport.build import BuildOptions, build_report
from mtmreport.errors import QuarterFileError
from tests.conftest import pdf_text


def test_q3_pdf_has_the_published_and_computed_figures_in_order(built):
    text = pdf_text(built["2023-Q3"].pdf)
    in_order = [
        "KAZAKHSTAN",
        "Quarterly Compilation Report (July – September 2023)",
        "1. DEVELOPMENTS IN THE MIGRATION POLICY",
        "2. MIGRATION INFLOW AND OUTFLOW",
        "4,482,427",
        "3. TEMPORARY RESIDENCE PERMITS",
        "Almaty city (17.5%)",
        "4. PERMANENT RESIDENCE PERMITS",
        "19,133",
        "5. LABOUR MIGRATION",
        "14,571",
        "6. REMITTANCES",
        "280.6 billion KZT (594 million USD)",
        "CONCLUSION",
        "Publisher",
    ]
    positions = [text.find(s) for s in in_order]
    assert -1 not in positions, [s for s, p in zip(in_order, positions, strict=True) if p < 0]
    assert positions == sorted(positions)
    # derived figures the tool computed
    for computed in ("90 per cent (4,051,488 migrants)", "minus 484", "93.5 billion KZT"):
        assert computed in text


def test_q2_pdf_has_its_figures(built):
    text = pdf_text(built["2023-Q2"].pdf)
    for figure in ("308,710", "1,653", "254,393", "13,090", "253.8 billion KZT", "KEY TERMS"):
        assert figure in text


def test_pdf_metadata_and_bookmarks(built):
    reader = PdfReader(built["2023-Q3"].pdf)
    meta = reader.metadata
    assert meta.title == "Kazakhstan: Quarterly Compilation Report (July – September 2023)"
    assert meta.author == "International Organization for Migration (IOM)"
    assert "Mobility Tracking Matrix" in meta.subject
    assert reader.trailer["/Root"]["/Lang"] == "en"
    titles = [item["/Title"] for item in reader.outline if isinstance(item, dict)]
    assert "2. Migration inflow and outflow" in titles
    assert 6 <= len(reader.pages) <= 14


def test_same_inputs_give_identical_bytes(built, repo_paths, tmp_path):
    again = build_report(
        "2023-Q3",
        repo_paths.__class__(
            data_dir=repo_paths.data_dir,
            templates_dir=repo_paths.templates_dir,
            output_dir=tmp_path,
        ),
    )
    assert again.pdf.read_bytes() == built["2023-Q3"].pdf.read_bytes()
    first_charts = sorted((built["2023-Q3"].folder / "charts").iterdir())
    for chart in first_charts:
        assert (again.folder / "charts" / chart.name).read_bytes() == chart.read_bytes()


def test_a_failed_build_leaves_the_last_good_report_untouched(scratch):
    good = build_report("2023-Q3", scratch, BuildOptions())
    before = {p.name: p.read_bytes() for p in good.folder.iterdir() if p.is_file()}
    quarter_file = scratch.data_dir / "2023-Q3.yaml"
    quarter_file.write_text(quarter_file.read_text().replace("total: 4482427", "total: many"))
    with pytest.raises(QuarterFileError):
        build_report("2023-Q3", scratch, BuildOptions())
    after = {p.name: p.read_bytes() for p in good.folder.iterdir() if p.is_file()}
    assert after == before
    # no staging folder left; the chart cache stays
    assert sorted(p.name for p in scratch.output_dir.iterdir()) == [".cache", "2023-Q3"]


def test_a_template_error_also_leaves_the_output_untouched(scratch, tmp_path):
    good = build_report("2023-Q3", scratch, BuildOptions(pdf=False))
    html_before = good.html.read_bytes()
    templates = tmp_path / "templates"
    shutil.copytree(scratch.templates_dir, templates)
    (templates / "blocks" / "flows.html.j2").write_text("{{ no_such_thing.attribute }}")
    broken = scratch.__class__(scratch.data_dir, templates, scratch.output_dir)
    with pytest.raises(Exception, match="no_such_thing"):
        build_report("2023-Q3", broken, BuildOptions(pdf=False))
    assert good.html.read_bytes() == html_before


def test_chart_cache_redraws_only_what_an_edit_changes_and_draws_the_same(scratch, tmp_path):
    from mtmreport.build import write_html
    from mtmreport.chartcache import ChartCache

    cache = tmp_path / "chart-cache"

    def html_into(folder: Path) -> None:
        linked = scratch.linked("2023-Q3")
        write_html(linked, scratch.templates, folder, cache=ChartCache(cache))

    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    html_into(first)
    drawn_first = set(cache.iterdir())
    assert len(drawn_first) == len(list((first / "charts").iterdir())) > 3

    quarter_file = scratch.data_dir / "2023-Q3.yaml"
    text = quarter_file.read_text()
    assert "{country: Russian Federation, number: 1154493" in text
    quarter_file.write_text(text.replace("number: 1154493", "number: 1254493", 1))
    html_into(second)
    redrawn = set(cache.iterdir()) - drawn_first
    changed = [
        chart.name
        for chart in (second / "charts").iterdir()
        if chart.read_bytes() != (first / "charts" / chart.name).read_bytes()
    ]
    assert 1 <= len(redrawn) == len(changed) < len(drawn_first)
    # Copies from the cache are the very bytes a build without one draws.
    fresh = build_report("2023-Q3", scratch, BuildOptions(pdf=False))
    for chart in (fresh.folder / "charts").iterdir():
        assert (second / "charts" / chart.name).read_bytes() == chart.read_bytes()
    assert (second / "report.html").read_text() == fresh.html.read_text()


def test_what_a_build_was_not_asked_to_make_stays_and_is_named(scratch):
    """`--no-pdf` keeps the last PDF of every edition, a build without `--review` the last
    review view; the build says it kept them, and what it makes is made afresh."""
    from click.testing import CliRunner

    from mtmreport.cli import main

    folder = build_report("2023-Q4", scratch, BuildOptions(review=True)).folder
    pdfs = {p: p.read_bytes() for p in (folder / "report.pdf", folder / "ru" / "report.pdf")}
    review = (folder / "review.html").read_bytes()
    (folder / "report.html").write_text("the previous HTML")

    again = build_report("2023-Q4", scratch, BuildOptions(pdf=False))
    assert again.pdf is None
    assert {p: p.read_bytes() for p in pdfs} == pdfs
    assert (folder / "review.html").read_bytes() == review
    assert (folder / "review.css").is_file()  # the review view's stylesheet goes with it
    assert set(again.kept) == {*pdfs, folder / "review.html"}
    assert "KAZAKHSTAN" in (folder / "report.html").read_text(encoding="utf-8")

    args = ["build", "2023-Q4", "--no-pdf", "--data", str(scratch.data_dir)]
    result = CliRunner().invoke(main, [*args, "--output", str(scratch.output_dir)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    kept = [line for line in lines if "from the previous build" in line]
    assert len(kept) == 3, result.output
    assert (
        sum("report.pdf from the previous build, not made again (--no-pdf)" in k for k in kept) == 2
    )
    assert (
        sum("review.html from the previous build, not made again (no --review)" in k for k in kept)
        == 1
    )
    assert not any("wrote" in line and "review.html" in line for line in lines)

    # A build that makes the PDFs replaces them and keeps only the review view.
    full = build_report("2023-Q4", scratch, BuildOptions())
    assert full.kept == (folder / "review.html",)
