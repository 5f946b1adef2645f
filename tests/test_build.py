"""End to end: real PDFs built with WeasyPrint and read back."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pypdf import PdfReader

from mtmreport.build import BuildOptions, build_report
from mtmreport.errors import QuarterFileError
from mtmreport.project import Project
from tests.conftest import DATA, TEMPLATES, pdf_text, seed_chart_cache


def tree_bytes(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` by its path there."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


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


def test_same_inputs_give_identical_bytes_with_or_without_helper_and_cache(built, tmp_path):
    """Every file of every edition (charts, CSVs, workbook, audit, HTML, PDF), built again
    into another folder in one process without a chart cache, is byte for byte the session's
    build, which drew its charts in a helper process and took what it could from the cache."""
    again = build_report(
        "2023-Q3",
        Project(DATA, TEMPLATES, tmp_path / "elsewhere"),
        BuildOptions(parallel=False, cache=False),
    )
    first = built["2023-Q3"]
    assert (again.charts_cached, again.charts_drawn) == (
        0,
        first.charts_drawn + first.charts_cached,
    )
    assert tree_bytes(again.folder) == tree_bytes(first.folder)
    assert not (tmp_path / "elsewhere" / ".cache").exists()


def test_a_failed_build_leaves_the_last_good_report_untouched(scratch, built_html):
    # HTML only, charts from the cache: publishing is one step whatever the folder holds (the
    # bad-input corpus checks the same of a report with its PDF, through the command line).
    seed_chart_cache(scratch.output_dir, built_html["2023-Q3"].folder.parent)
    good = build_report("2023-Q3", scratch, BuildOptions(pdf=False))
    before = {p.name: p.read_bytes() for p in good.folder.iterdir() if p.is_file()}
    quarter_file = scratch.data_dir / "2023-Q3.yaml"
    quarter_file.write_text(quarter_file.read_text().replace("total: 4482427", "total: many"))
    with pytest.raises(QuarterFileError):
        build_report("2023-Q3", scratch, BuildOptions(pdf=False))
    after = {p.name: p.read_bytes() for p in good.folder.iterdir() if p.is_file()}
    assert after == before
    # no staging folder left; the chart cache stays
    assert sorted(p.name for p in scratch.output_dir.iterdir()) == [".cache", "2023-Q3"]


def test_a_template_error_also_leaves_the_output_untouched(scratch, built_html, tmp_path):
    seed_chart_cache(scratch.output_dir, built_html["2023-Q3"].folder.parent)
    good = build_report("2023-Q3", scratch, BuildOptions(pdf=False))
    html_before = good.html.read_bytes()
    templates = tmp_path / "templates"
    shutil.copytree(scratch.templates_dir, templates)
    (templates / "blocks" / "flows.html.j2").write_text("{{ no_such_thing.attribute }}")
    broken = scratch.__class__(scratch.data_dir, templates, scratch.output_dir)
    with pytest.raises(Exception, match="no_such_thing"):
        build_report("2023-Q3", broken, BuildOptions(pdf=False))
    assert good.html.read_bytes() == html_before


@pytest.mark.slow  # it builds PDFs
def test_what_a_build_was_not_asked_to_make_stays_and_is_named(scratch, built_html):
    """`--no-pdf` keeps the last PDF of every edition, a build without `--review` the last
    review view; the build says it kept them, and what it makes is made afresh."""
    from click.testing import CliRunner

    from mtmreport.cli import main

    seed_chart_cache(scratch.output_dir, built_html["2023-Q4"].folder.parent)  # not the point
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
