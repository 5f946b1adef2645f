"""The data annex: CSV per chart and table, one XLSX workbook, linked from the HTML only."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
import tinyhtml5

from mtmreport.annex import WorkbookWords, chart_tables, report_tables, write_workbook
from mtmreport.charts.plan import plan_charts
from mtmreport.tables import plan_tables
from mtmreport.wording import load_wording
from tests.conftest import REPO_TEMPLATES, pdf_text

NS = "{http://www.w3.org/1999/xhtml}"


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
    remittances = {
        f"table-remittances-{direction}-{what}.csv"
        for direction in ("outflow", "inflow")
        for what in ("months", "countries")
    }
    # Q3 has flows and permanent residence blocks, whose group shares the annex gives too
    groups = (
        {"table-flows-groups.csv", "table-residence-groups.csv"} if quarter == "2023-Q3" else set()
    )
    assert tables == remittances | groups
    assert data == {f"{stem}.csv" for stem in charts} | tables | {f"{quarter}-data.xlsx"}


def test_chart_csv_holds_counts_as_given_and_shares_as_printed(built):
    # Non-CIS permanent residence holders, 2023-Q3: 2,300 in all; shares worked out by hand
    # (524 / 2,300 = 22.78…, 400 / 2,300 = 17.39…, 231 / 2,300 = 10.04…, 221 / 2,300 = 9.61…,
    # the other 924 / 2,300 = 40.17…), written with the one decimal the report prints; but
    # Germany's 10.04 is the source's own "10" (it agrees, so it prints as stated).
    rows = _csv(built["2023-Q3"], "residence-holders-non-cis")
    assert list(rows[0]) == ["Country", "Number", "Share (%)"]
    assert [(r["Country"], r["Number"], r["Share (%)"]) for r in rows] == [
        ("China", "524", "22.8"),
        ("Mongolia", "400", "17.4"),
        ("Germany", "231", "10"),
        ("Türkiye", "221", "9.6"),
        ("Other non-CIS", "924", "40.2"),
    ]
    balance = {
        r["Category"]: r["Number"] for r in _csv(built["2023-Q3"], "residence-balance-non-cis")
    }
    # 2,300 holders - 2,784 terminations = -484
    assert balance == {"Permit holders": "2300", "Terminated and left": "-2784", "Balance": "-484"}


def test_annex_values_carry_no_float_noise(built):
    # The Q3 2022 amounts are monthly averages times three: 94.6 x 3 = 283.8 (the float is
    # 283.79999999999995) and 76.73 x 3 = 230.19; a figure typed with two decimals keeps them.
    outflow = _csv(built["2023-Q3"], "trend-remittances-outflow")
    assert [(r["Period"], r["Billion KZT"]) for r in outflow] == [
        ("Q2 2022", "306.3"),
        ("Q3 2022", "283.8"),
        ("Q1 2023", "182.9"),
        ("Q2 2023", "253.8"),
        ("Q3 2023", "280.6"),
    ]
    inflow = {
        r["Period"]: r["Billion KZT"] for r in _csv(built["2023-Q3"], "trend-remittances-inflow")
    }
    assert inflow["Q3 2022"] == "230.19"
    months = _csv(built["2023-Q3"], "table-remittances-inflow-months")
    assert [r["Billion KZT"] for r in months] == ["24.1", "22.12", "24.4", "70.7"]
    # 88.6 / 472.5 = 0.18751… billion USD: 187.5 million, not 187.51322751322752
    outflow_months = _csv(built["2023-Q3"], "table-remittances-outflow-months")
    assert [r["Million USD"] for r in outflow_months[:3]] == ["187.5", "209.1", "197.2"]
    # Nowhere more decimals than a quarter file types (454.545 has three).
    for quarter in ("2023-Q2", "2023-Q3"):
        for path in (built[quarter].folder / "data").glob("*.csv"):
            for row in csv.reader(io.StringIO(path.read_text(encoding="utf-8"))):
                for cell in row:
                    digits = cell.partition(".")[2]
                    assert not (digits.isdigit() and len(digits) > 3), (path.name, cell)


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
                    assert value == float(text)  # the same number, no noise in either
                else:
                    assert (value or "") == text
    assert workbook["Figure 1"]["B2"].number_format == "#,##0"
    assert workbook["Figure 1"]["C2"].number_format == "0.0"
    assert "mtmreport" not in " ".join(str(cell) for row in about for cell in row if cell)


def test_workbook_bytes_depend_on_the_data_only(q3, wording, tmp_path):
    tables = chart_tables(plan_charts(q3, wording), wording) + report_tables(
        plan_tables(q3, wording)
    )
    first, second = tmp_path / "a.xlsx", tmp_path / "b" / "other-name.xlsx"
    second.parent.mkdir()
    words = WorkbookWords.of(wording)
    write_workbook(tables, first, "Title", words)
    write_workbook(tables, second, "Title", words)
    assert first.read_bytes() == second.read_bytes()


def test_the_html_links_the_annex_and_the_pdf_does_not_mention_it(built):
    result = built["2023-Q3"]
    root = tinyhtml5.parse(result.html.read_text(encoding="utf-8"))
    links = [a.get("href") for a in root.iter(NS + "a")]
    assert "data/2023-Q3-data.xlsx" in links
    assert "data/figure-01-arrivals-cis.csv" in links
    for link in links:
        if link.startswith("data/"):
            assert (result.folder / link).is_file(), link
    html_text = result.html.read_text(encoding="utf-8")
    assert "available for download" in html_text and "Download these figures (CSV)" in html_text
    assert "available for download" not in pdf_text(result.pdf)
    assert "Download these figures" not in pdf_text(result.pdf)


def test_the_headline_group_shares_reach_the_annex(built):
    # Q3 arrivals: 4,034,184 stated for CIS + Belarus's 17,304 (listed under non-CIS) =
    # 4,051,488 of 4,482,427, 90.386 per cent: the source's own "90" agrees within its
    # rounding and prints (the text says "90 per cent"); non-CIS 430,939 = 9.614 per cent.
    # Departures: the CIS countries listed add up to 4,109,005 of 4,533,933 = 90.628 per
    # cent; non-CIS 424,928 = 9.372 per cent.
    rows = _csv(built["2023-Q3"], "table-flows-groups")
    assert [list(row.values()) for row in rows] == [
        ["CIS countries", "4051488", "90", "4109005", "90.6"],
        ["Non-CIS countries", "430939", "9.6", "424928", "9.4"],
        ["Total", "4482427", "", "4533933", ""],
    ]
    assert list(rows[0]) == [
        "Group of countries",
        "Arrivals",
        "Share of arrivals (%)",
        "Departures",
        "Share of departures (%)",
    ]
    # Permanent residence permit holders: 16,833 CIS + 2,300 non-CIS = 19,133 (the stated
    # 19,136 disagrees; the audit says so); 16,833 / 19,133 = 87.98, 2,300 / 19,133 = 12.02.
    rows = _csv(built["2023-Q3"], "table-residence-groups")
    assert [list(row.values()) for row in rows] == [
        ["CIS countries", "16833", "88.0"],
        ["Non-CIS countries", "2300", "12.0"],
        ["Total", "19133", ""],
    ]
    # The workbook has them as numbers, on sheets listed on the About sheet.
    folder = built["2023-Q3"].folder
    workbook = openpyxl.load_workbook(folder / "data" / "2023-Q3-data.xlsx")
    sheet = list(workbook["Flows by group"].iter_rows(values_only=True))
    assert sheet[1] == ("CIS countries", 4051488, 90, 4109005, 90.6)
    assert sheet[3] == ("Total", 4482427, None, 4533933, None)
    assert workbook["Flows by group"]["E2"].number_format == "0.0"
    about = [row for row in workbook["About"].iter_rows(values_only=True) if row[0]]
    assert (
        "Flows by group",
        "table-flows-groups.csv",
        "Migrant arrivals and departures by group of countries, July – September 2023",
        "Migration Service Committee of the Ministry of Internal Affairs, 2023",
        "July – September 2023",
    ) in about
    # The Russian edition's words come from its catalogue.
    russian = (folder / "ru" / "data" / "table-flows-groups.csv").read_text(encoding="utf-8")
    assert russian.splitlines()[:2] == [
        "Группа стран,Прибывшие,Доля среди прибывших (%),Выбывшие,Доля среди выбывших (%)",
        "Страны СНГ,4051488,90,4109005,90.6",
    ]


def test_a_report_table_and_its_annex_file_are_one_spec(built):
    """The months table the report prints and the CSV hold the same figures, row for row:
    Q3 inflows 24.1 + 22.12 + 24.4 = 70.62, published as 70.7 ("over 70.7 billion KZT")."""
    result = built["2023-Q3"]
    root = tinyhtml5.parse(result.html.read_text(encoding="utf-8"))
    [table, *_] = [t for t in root.iter(NS + "table") if t.get("class") == "data months"][1:]
    printed = [
        ["".join(cell.itertext()) for cell in row]
        for row in table.iter(NS + "tr")
        if row.find(NS + "td") is not None
    ]
    assert printed == [
        ["July", "24.1", "51"],
        ["August", "22.12", "46.8"],
        ["September", "24.4", "51.6"],
        ["Total", "70.7", "149.7"],
    ]
    annexed = _csv(result, "table-remittances-inflow-months")
    assert [[r["Month"], r["Billion KZT"], r["Million USD"]] for r in annexed] == [
        ["July 2023", "24.1", "51"],
        ["August 2023", "22.12", "46.8"],
        ["September 2023", "24.4", "51.6"],
        ["Total", "70.7", "149.7"],
    ]


def test_a_second_table_of_the_same_kind_gets_its_own_file_and_sheet(q3):
    planned = plan_tables(q3, load_wording(REPO_TEMPLATES))
    months = next(t for ts in planned.values() for t in ts if t.kind == "months")
    tables = report_tables({("first",): [months], ("second",): [months]})
    assert [(t.name, t.sheet) for t in tables] == [
        ("table-remittances-outflow-months", "Remittances out by month"),
        ("table-remittances-outflow-months-2", "Remittances out by month 2"),
    ]
