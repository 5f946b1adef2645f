"""The next quarter: scaffolding, drafts, quarters linked by their files, trends, `list`."""

from __future__ import annotations

import json

import pytest

from mtmreport.build import BuildOptions, build_report
from mtmreport.charts.trends import trend_specs
from mtmreport.errors import AuditFailedError, QuarterFileError
from mtmreport.load import read_yaml
from mtmreport.periods import Period
from mtmreport.scaffold import move_period, renamed_quarter
from mtmreport.validate import validate_document
from tests.conftest import pdf_text, run_cli


@pytest.mark.parametrize(
    ("period", "moved"),
    [
        ("2023-Q4", "2024-Q1"),  # the quarter itself
        ("2023", "2024-Q1"),  # year to date: January to the new quarter's end
        ("2023-10", "2024-01"),  # a month of the quarter
        ("2022-Q4", "2023-Q1"),  # the same quarter a year before stays a year before
        ("2023-Q3", "2023-Q4"),  # the previous quarter stays the previous one
        ("2023-12-01", "2024-03-01"),  # "as of" a day
    ],
)
def test_periods_move_on(period, moved):
    old, new = Period.parse("2023-Q4"), Period.parse("2024-Q1")
    assert move_period(Period.parse(period), old, new) == Period.parse(moved)


@pytest.mark.parametrize(
    ("text", "renamed"),
    [
        ("on the fourth quarter of 2023.", "on the first quarter of 2024."),
        ("the Fourth\n  quarter  of 2023", "the first\n  quarter  of 2024"),
        ("the fourth quarter of 2022", "the fourth quarter of 2022"),  # a year before: kept
        ("a fourth quarterly of 2023", "a fourth quarterly of 2023"),  # not the phrase
    ],
)
def test_carried_texts_name_the_new_quarter(text, renamed):
    assert renamed_quarter(text, Period.parse("2023-Q4"), Period.parse("2024-Q1")) == renamed


def test_new_quarter_is_a_valid_draft_with_comments_kept(scratch):
    result = run_cli("new", "2024-Q1", "--data", str(scratch.data_dir))
    assert result.exit_code == 0, result.output
    assert "from 2023-Q4" in result.output and "pending entries" in result.output
    path = scratch.data_dir / "2024-Q1.yaml"
    text = path.read_text(encoding="utf-8")
    assert "status: draft" in text
    assert "# as published" in text  # comments carry over
    assert "{month: 2024-02, kzt_bn: pending, usd_mn: pending}" in text
    assert "total: 4482427" not in text and "25399" not in text  # no figure carries over
    # the carried Objectives text names the new quarter, even where a line break splits it
    assert "the report on the first\n      quarter of 2024 was derived" in text
    assert "fourth quarter of 2023" not in text
    model = validate_document(read_yaml(path), expected_quarter="2024-Q1")
    flows = next(b for s in model.sections for b in s.blocks if b.kind == "flows").flows
    assert str(flows.period) == "2024-Q1"
    remittances = [
        b.remittances
        for s in model.sections
        for u in s.subsections
        for b in u.blocks
        if b.kind == "remittances"
    ]
    assert [str(e.period) for e in remittances[0].compare_with] == ["2023-Q1"]


def test_new_never_overwrites(scratch):
    before = (scratch.data_dir / "2023-Q4.yaml").read_bytes()
    result = run_cli("new", "2023-Q4", "--data", str(scratch.data_dir))
    assert result.exit_code == 2
    assert "exists already" in result.output and "never overwrites" in result.output
    assert (scratch.data_dir / "2023-Q4.yaml").read_bytes() == before
    assert (
        run_cli("new", "2020-Q1", "--data", str(scratch.data_dir)).exit_code == 2
    )  # nothing before


@pytest.mark.slow
def test_draft_builds_with_pending_shown_and_strict_refuses(scratch):
    run_cli("new", "2024-Q1", "--data", str(scratch.data_dir))
    result = build_report("2024-Q1", scratch)
    text = pdf_text(result.pdf)
    assert "DATA PENDING" in text.upper() and "This report is a draft" in text
    with pytest.raises(AuditFailedError, match=r"draft with .* pending entries"):
        build_report("2024-Q1", scratch, BuildOptions(strict=True, pdf=False))


def test_pending_outside_a_draft_is_an_error(scratch):
    path = scratch.data_dir / "2023-Q3.yaml"
    path.write_text(path.read_text().replace("total: 4482427", "total: pending"))
    with pytest.raises(QuarterFileError) as caught:
        scratch.loaded("2023-Q3")
    [problem] = caught.value.problems
    assert problem.field == "sections[1].blocks[0].flows.arrivals.total"
    assert "only a draft may have pending figures" in problem.message


def test_a_draft_may_leave_an_amount_pending_as_a_whole(scratch):
    """`total: pending` for an amount (tenge and dollars) is a value still to come, as the
    model's types say: it once failed with "expected a set of keys, got 1"."""
    path = scratch.data_dir / "2023-Q4.yaml"
    text = path.read_text(encoding="utf-8")
    amount = "{kzt_bn: pending, usd_mn: pending}"
    assert f"              total: {amount}\n" in text and f"monthly_average: {amount}" in text
    text = text.replace(f"              total: {amount}\n", "              total: pending\n")
    path.write_text(text.replace(f"monthly_average: {amount}", "monthly_average: pending"))
    loaded = scratch.loaded("2023-Q4")
    remittances = [placed for placed in loaded.figures.blocks if placed.kind == "remittances"]
    assert len(remittances) == 2 and all(placed.pending for placed in remittances)
    html = build_report("2023-Q4", scratch, BuildOptions(pdf=False)).html.read_text()
    assert html.count("Data pending") >= 2


def test_pending_stays_an_error_where_the_model_wants_more_than_figures(scratch):
    """A block holds texts and periods too: `pending` for a whole block is not a figure."""
    path = scratch.data_dir / "2023-Q4.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("          - remittances:\n")
    end = text.index("          - remittances:\n", start + 1)
    path.write_text(text[:start] + "          - remittances: pending\n" + text[end:])
    with pytest.raises(QuarterFileError) as caught:
        scratch.loaded("2023-Q4")
    [problem] = caught.value.problems
    assert problem.field.endswith(".remittances")
    assert problem.message == "expected a set of keys, got 'pending'"


def test_q3_states_its_changes_against_q2_from_the_q2_file(built):
    # no-break spaces tie numbers to their units (issue 14); the words are what is checked
    html = (
        built["2023-Q3"]
        .html.read_text(encoding="utf-8")
        .replace("\u00a0", " ")
        .replace("\u2060", "")
    )
    # 280.6 / 253.8 - 1 = +10.56 per cent; 70.7 / 80.9 - 1 = -12.61 per cent
    assert (
        "Remittances sent from Kazakhstan were up 10.6 per cent from the second quarter of "
        "2023 (253.8 billion KZT)" in html
    )
    assert "Remittances received by Kazakhstan were down 12.6 per cent" in html
    # The Q2 figure cites the source the Q2 report cites, as a footnote of its own.
    q2_source = (
        "The National Bank of the Republic of Kazakhstan, International Money Transfer System "
        "Report, April-June 2023"
    )
    assert f'(253.8 billion KZT).<span class="footnote">{q2_source}</span>' in html
    assert f'(80.9 billion KZT).<span class="footnote">{q2_source}</span>' in html
    assert "quarter file" not in html


def test_a_baseline_contradicting_an_earlier_file_is_a_finding(scratch):
    path = scratch.data_dir / "2023-Q3.yaml"
    text = path.read_text(encoding="utf-8")
    marker = "              compare_with:\n"
    stated = marker + "                - {period: 2023-Q2, total: {kzt_bn: 250.0}}\n"
    path.write_text(text.replace(marker, stated, 1), encoding="utf-8")
    findings = scratch.linked("2023-Q3").findings
    [baseline] = [f for f in findings if f.code == "baseline"]
    assert baseline.field.endswith("compare_with[0].total.kzt_bn")
    assert (baseline.stated, baseline.computed) == ("250.0", "253.8")
    # the earlier quarter's own file, where this project keeps it
    assert f"{scratch.data_dir / '2023-Q2.yaml'} (" in baseline.message
    # the published figure itself raises nothing
    same = marker + "                - {period: 2023-Q2, total: {kzt_bn: 253.8}}\n"
    path.write_text(text.replace(marker, same, 1), encoding="utf-8")
    findings = scratch.linked("2023-Q3").findings
    assert not [f for f in findings if f.code == "baseline"]


def test_trends_over_every_quarter_on_file(repo_paths, wording):
    q3 = repo_paths.figures("2023-Q3")
    history = repo_paths.linked("2023-Q3").history
    specs = [s for block in trend_specs(history, q3, wording).values() for s in block]
    by_slug = {s.slug: s for s in specs}
    outflow = by_slug["trend-remittances-outflow"].table
    # Q2 2022 and Q1 2023 as the Q2 file states them, Q3 2022 as the Q3 file states it
    # (94.6 a month x 3), Q2 and Q3 2023 from their own files.
    assert list(outflow["label"]) == ["Q2 2022", "Q3 2022", "Q1 2023", "Q2 2023", "Q3 2023"]
    assert list(outflow["value"].round(1)) == [306.3, 283.8, 182.9, 253.8, 280.6]
    assert list(outflow["stated"]) == [True, True, True, False, False]
    india = by_slug["trend-non-cis-arrival-share-india"].table
    assert list(india["label"]) == ["Q4 2022", "Q1 2023", "Q3 2023"]
    # a quarter's report never shows later quarters
    q2 = repo_paths.figures("2023-Q2")
    q2_specs = trend_specs(repo_paths.linked("2023-Q2").history, q2, wording)
    q2_outflow = [s for b in q2_specs.values() for s in b if s.slug.endswith("outflow")]
    assert list(q2_outflow[0].table["label"]) == ["Q2 2022", "Q1 2023", "Q2 2023"]


def test_list_shows_status_pending_and_findings(scratch):
    result = run_cli("list", "--data", str(scratch.data_dir))
    assert result.exit_code == 0
    lines = [line for line in result.output.splitlines() if line.startswith("20")]
    assert lines[0] == "2023-Q2  complete  6 sections  3 audit findings: 2 serious, 1 minor"
    assert lines[1] == "2023-Q3  complete  7 sections  24 audit findings: 17 serious, 7 minor"
    assert lines[2].startswith("2023-Q4  draft, ")
    entries = json.loads(run_cli("list", "--json", "--data", str(scratch.data_dir)).output)
    assert entries[1]["findings"] == {"serious": 17, "minor": 7}
    q4 = entries[2]
    assert q4["status"] == "draft"
    assert "Remittances" in q4["pending_by_section"]
    assert "Migration of the population" not in q4["pending_by_section"]


def test_q4_draft_carries_the_bns_annual_figures(built):
    text = pdf_text(built["2023-Q4"].pdf)
    for figure in (
        "25,399",
        "16,055",
        "plus 9,344",
        "up 46.9 per cent",
        "down 33.7 per cent",
        "86.3 per cent of arrivals",
        "77.3 per cent of departures",
        "50,078",
        "38,113",
        "3,416",
        "27.5 per cent",
    ):
        assert figure in text, figure
    assert "Quarterly Compilation Report (October – December 2023)" in text
    # the conclusion's key figures come from the one block with figures so far
    assert "In 2023, net migration for permanent residence was +9,344 people" in text
    assert "the report on the fourth quarter of 2023" in text


def test_changes_against_earlier_files_are_computed_once_in_compute(repo_paths):
    linked = repo_paths.linked("2023-Q3")
    links = linked.history.links(linked.loaded.figures)
    changes = {(link.key, link.relation): link.change for block in links.values() for link in block}
    # 280.6 (the Q3 file) / 253.8 (the Q2 file) − 1 = +10.56 per cent
    outflow = changes[(("remittances", "outflow"), "previous")]
    assert outflow == pytest.approx(10.559, abs=1e-3) and outflow.decimals == 1
    assert outflow.trace.formula == "(now ÷ then − 1) × 100"
    assert outflow.trace.inputs[1].label == "2023-Q2, from the 2023-Q2 quarter file"
    # 70.7 / 80.9 − 1 = −12.61 per cent
    inflow = changes[(("remittances", "inflow"), "previous")]
    assert inflow == pytest.approx(-12.608, abs=1e-3)
    # the history read each file's points once: the links start from the Q3 file's own
    assert linked.history.points_in(linked.loaded.figures) is linked.history.by_quarter["2023-Q3"]


def test_a_draft_says_draft_on_every_page_and_one_panel_for_texts_to_come(built):
    """Q4's first section has two texts still to come (bullets, then paragraphs): one panel
    says so for both. Every page after the cover (which has its stamp) is marked DRAFT in its
    running header, in each edition's words; a complete report's pages are not."""
    from pypdf import PdfReader

    result = built["2023-Q4"]
    html = result.html.read_text(encoding="utf-8")
    section = html.split('id="section-1"', 1)[1].split('id="section-2"', 1)[0]
    assert section.count("Text still to come. This report is a draft.") == 1
    for pdf, mark in ((result.pdf, "DRAFT"), (result.folder / "ru" / "report.pdf", "ЧЕРНОВИК")):
        pages = [page.extract_text() for page in PdfReader(pdf).pages]
        assert len(pages) >= 3
        assert all(mark in page.upper() for page in pages), pdf  # the cover: its stamp
        assert all(page.count(mark) == 1 for page in pages[1:]), pdf
    complete = PdfReader(built["2023-Q3"].pdf).pages
    assert not any("DRAFT" in page.extract_text().upper() for page in complete)
