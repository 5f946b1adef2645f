"""The data annex: CSV per chart and table, one XLSX workbook, linked from the HTML only."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
import tinyhtml5

from mtmreport import compute as c
from mtmreport.annex import chart_tables, report_tables, write_workbook
from mtmreport.build import Paths, build_report
from mtmreport.charts.plan import plan_charts
from mtmreport.load import read_yaml
from mtmreport.validate import validate_document
from mtmreport.wording import load_wording
from tests.conftest import DATA, TEMPLATES, pdf_text

NS = "{http://www.w3.org/1999/xhtml}"


@pytest.fixture(scope="module")
def q3() -> c.QuarterFigures:
    return c.compute(validate_document(read_yaml(DATA / "2023-Q3.yaml")))


def _csv(result, name: str) -> list[dict[str, str]]:
    """A CSV of the annex by its name, or a chart's by its slug (numbers move)."""
    data = result.folder / "data"
    path = data / f"{name}.csv"
    if not path.exists():
        (path,) = data.glob(f"figure-[0-9][0-9]-{name}.csv")
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


@pytest.mark.parametrize("quarter", ["2023-Q2", "2023-Q3"])
def test_one_csv_per_chart_and_per_table_and_one_workbook(built, quarter):
    folder = built[quarter].folder
    charts = {p.stem for p in (folder / "charts").iterdir()}
    data = {p.name for p in (folder / "data").iterdir()}
    assert {f"{stem}.csv" for stem in charts} <= data
    tables = {name for name in data if name.startswith("table-")}
    assert tables == {
        f"table-remittances-{direction}-{what}.csv"
        for direction in ("outflow", "inflow")
        for what in ("months", "countries")
    }
    assert data == {f"{stem}.csv" for stem in charts} | tables | {f"{quarter}-data.xlsx"}


def test_chart_csv_holds_the_computed_figures_at_full_precision(built, q3):
    flows = q3.of_kind("flows")[0].figures.arrivals
    rows = _csv(built["2023-Q3"], "arrivals-cis")
    assert list(rows[0]) == ["Country", "Number", "Share (%)"]
    by_country = {r["Country"]: r for r in rows}
    for record in flows.cis.to_dict("records"):
        row = by_country[record["country"]]
        assert int(row["Number"]) == record["number"]
        assert float(row["Share (%)"]) == record["share"]  # exact: repr round-trips
    assert int(by_country["Other CIS"]["Number"]) == flows.other_cis

    residence = q3.of_kind("permanent_residence")[0].figures
    balance = {
        r["Category"]: int(r["Number"]) for r in _csv(built["2023-Q3"], "residence-balance-non-cis")
    }
    assert balance == {
        "Permit holders": residence.non_cis.holders,
        "Terminated and left": -residence.non_cis.terminated,
        "Balance": residence.non_cis.balance,
    }


def test_remittance_csvs_hold_the_computed_figures(built, q3):
    outflow = next(
        b.figures for b in q3.of_kind("remittances") if b.figures.block.direction == "outflow"
    )
    months = _csv(built["2023-Q3"], "table-remittances-outflow-months")
    assert [r["Month"] for r in months] == ["July 2023", "August 2023", "September 2023", "Total"]
    assert [float(r["Million USD"]) for r in months[:3]] == list(outflow.months["usd_mn"])
    assert float(months[-1]["Million USD"]) == outflow.total_usd
    countries = _csv(built["2023-Q3"], "table-remittances-outflow-countries")
    assert [r["Country"] for r in countries] == list(outflow.countries["country"])
    assert [float(r["Share (%)"]) for r in countries] == list(outflow.countries["share"])
    comparison = _csv(built["2023-Q3"], "remittances-outflow-comparison")
    before = outflow.earlier_by("year_before")
    assert float(comparison[0]["Q3 2022 (Million USD)"]) == before.total_usd
    assert float(comparison[0]["Change in KZT (%)"]) == before.change


def test_workbook_has_an_about_sheet_and_the_csv_figures(built):
    result = built["2023-Q3"]
    workbook = openpyxl.load_workbook(result.folder / "data" / "2023-Q3-data.xlsx")
    assert workbook.sheetnames[0] == "About"
    about = list(workbook["About"].iter_rows(values_only=True))
    assert about[0][0].startswith("Kazakhstan: Quarterly Compilation Report")
    header = about.index(("Sheet", "CSV file", "Caption", "Source", "Period"))
    listed = [row for row in about[header + 1 :] if row[0]]
    assert [row[0] for row in listed] == workbook.sheetnames[1:]
    csv_files = sorted(p.name for p in (result.folder / "data").glob("*.csv"))
    assert sorted(row[1] for row in listed) == csv_files
    first = listed[0]
    assert first[2].startswith("Figure 1. Migrant inflow from CIS member states")
    assert first[3] == "Migration Service Committee of the Ministry of Internal Affairs, 2023"
    assert first[4] == "July – September 2023"
    # Every sheet holds what its CSV holds, as numbers with a number format.
    for sheet_name, csv_name in ((row[0], row[1]) for row in listed):
        sheet = workbook[sheet_name]
        rows = list(csv.reader(io.StringIO((result.folder / "data" / csv_name).read_text())))
        cells = list(sheet.iter_rows(values_only=True))
        assert [list(r) for r in cells[:1]] == rows[:1]
        for got, want in zip(cells[1:], rows[1:], strict=True):
            for value, text in zip(got, want, strict=True):
                if isinstance(value, int | float):
                    assert value == pytest.approx(float(text), rel=1e-15)
                else:
                    assert (value or "") == text
    assert workbook["Figure 1"]["B2"].number_format == "#,##0"
    assert workbook["Figure 1"]["C2"].number_format == "0.0"


def test_workbook_bytes_depend_on_the_data_only(q3, tmp_path):
    wording = load_wording(TEMPLATES)
    tables = chart_tables(plan_charts(q3, wording), wording) + report_tables(q3, wording)
    first, second = tmp_path / "a.xlsx", tmp_path / "b" / "other-name.xlsx"
    second.parent.mkdir()
    write_workbook(tables, first, "Title")
    write_workbook(tables, second, "Title")
    assert first.read_bytes() == second.read_bytes()


def test_repeated_builds_give_identical_bytes(built, repo_paths, tmp_path):
    """Charts, CSVs, workbook, HTML and PDF: built again into another folder, same bytes."""
    again = build_report(
        "2023-Q3",
        Paths(
            data_dir=repo_paths.data_dir,
            templates_dir=repo_paths.templates_dir,
            output_dir=tmp_path / "elsewhere",
        ),
    )
    first = built["2023-Q3"].folder
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert {p.relative_to(again.folder) for p in again.folder.rglob("*") if p.is_file()} == set(
        files
    )
    different = [
        str(p) for p in files if (first / p).read_bytes() != (again.folder / p).read_bytes()
    ]
    assert different == []


def test_the_html_links_the_annex_and_the_pdf_does_not_mention_it(built):
    result = built["2023-Q3"]
    root = tinyhtml5.parse(result.html.read_text(encoding="utf-8"))
    links = [a.get("href") for a in root.iter(NS + "a")]
    assert "data/2023-Q3-data.xlsx" in links
    assert "data/figure-01-arrivals-cis.csv" in links
    for link in links:
        if link.startswith("data/"):
            assert (result.folder / link).is_file(), link
    assert "available as CSV" not in pdf_text(result.pdf)
