"""The audit finds the slips of the published reports, and nothing that is mere rounding."""

from decimal import Decimal
from pathlib import Path

import pytest

from mtmreport import audit as a
from mtmreport.compute import compute
from mtmreport.load import parse_yaml
from mtmreport.project import Project
from mtmreport.validate import validate_document
from tests.conftest import DATA, ROOT

FLOWS = "sections[1].blocks[0].flows."
PR = "sections[3].blocks[0].permanent_residence."
OUT = "sections[5].subsections[0].blocks[0].remittances."
IN = "sections[5].subsections[1].blocks[0].remittances."

# Worked out by hand from the published July–September 2023 report.
Q3_SLIPS = {
    # Belarus is a CIS member, published among non-CIS arrivals and departures
    (FLOWS + "arrivals.non_cis.countries[4].country", "group"),
    (FLOWS + "departures.non_cis.countries[4].country", "group"),
    # 1,774,200 + 1,209,912 + 744,948 + 363,519 = 4,092,579 > 4,080,540
    (FLOWS + "departures.cis.countries", "parts-exceed-total"),
    # 1,209,912 / 4,080,540 = 29.65 per cent, printed 29.6
    (FLOWS + "departures.cis.countries[1].share", "share"),
    # "Four hundred fifty-three thousand" for 4,533,933 - 4,080,540 = 453,393
    (FLOWS + "departures.non_cis.total", "total"),
    # India: 24,195 / 453,393 = 5.3 per cent, printed 6.2
    (FLOWS + "departures.non_cis.countries[1].share", "share"),
    # Türkiye: 24,076 arrivals and 24,076 departures
    (FLOWS + "departures.non_cis.countries[2].number", "suspicious"),
    # 16,833 + 2,300 = 19,133, printed 19,136
    (PR + "total", "total"),
    (PR + "cis.holders.countries[0].share", "share"),  # 9,352 / 16,833 = 55.56
    (PR + "cis.holders.countries[4].share", "share"),  # 464 / 16,833 = 2.76
    (PR + "non_cis.holders.countries[0].share", "share"),  # 524 / 2,300 = 22.78
    (PR + "non_cis.holders.countries[1].share", "share"),  # 400 / 2,300 = 17.39, printed 13.4
    (PR + "non_cis.balance", "balance"),  # 2,300 - 2,784 = -484, printed -481
    ("sections[4].blocks[0].breakdown.items[1].share", "share"),  # 1,867 / 14,571 = 12.81
    ("sections[4].blocks[0].breakdown.items[3].share", "share"),  # 1,219 / 14,571 = 8.37
    ("sections[4].blocks[1].breakdown.items[0].share", "share"),  # 3,771 / 14,571 = 25.88
    ("sections[4].blocks[1].breakdown.items[1].share", "share"),  # 2,002 / 14,571 = 13.74
    ("sections[4].blocks[1].breakdown.items[2].share", "share"),  # 1,370 / 14,571 = 9.40
    # 280.6 / 3 = 93.53 billion KZT a month, printed 72.82
    (OUT + "monthly_average.kzt_bn", "average"),
    # 93.53 against 94.6 is -1.1 per cent, printed -22.3
    (OUT + "compare_with[0].change", "change"),
    # 76.73 / 476.5 = 161.0 million USD, printed 162.5
    (IN + "compare_with[0].monthly_average.usd_mn", "conversion"),
    # Republic of Korea (8.1) listed before the USA (8.2)
    (IN + "countries[3]", "order"),
}


def test_q3_audit_lists_exactly_the_published_slips():
    findings = Project.at(ROOT).loaded("2023-Q3").findings
    assert {(f.field, f.code) for f in findings} == Q3_SLIPS


def test_findings_name_file_line_stated_and_computed():
    findings = Project.at(ROOT).loaded("2023-Q3").findings
    balance = next(f for f in findings if f.field == PR + "non_cis.balance")
    assert balance.file.endswith("2023-Q3.yaml")
    lines = (DATA / "2023-Q3.yaml").read_text(encoding="utf-8").splitlines()
    assert "balance: -481" in lines[balance.line - 1]
    assert (balance.stated, balance.computed) == ("-481", "-484")
    assert str(balance).startswith(f"{balance.file}:{balance.line}:")


def test_rounding_alone_raises_nothing():
    # 135.8 million USD printed for 64.2 billion KZT at 472.5: 64.15-64.25 gives 135.77-135.98
    assert a.meets(
        a.published(Decimal("135.8")), a.scale(a.published(Decimal("64.2")), 1000 / 472.5)
    )
    # a share printed with no decimals is right within half a point
    assert a.meets(a.published(Decimal("34")), a.exact(4986 / 14571 * 100))
    assert not a.meets(a.published(Decimal("12.7")), a.exact(1867 / 14571 * 100))
    # whole-number shares 34 + 34 + 33 may stand for 99.5-102.5: not "more than 100"
    listed = [Decimal("34"), Decimal("34"), Decimal("33")]
    assert not list(a._shares_over_100(("items",), "workers", listed))
    assert list(a._shares_over_100(("items",), "workers", [Decimal("60.0"), Decimal("41.0")]))


def _audit(text: str) -> list[a.Finding]:
    doc = parse_yaml(text, Path("q.yaml"))
    return a.audit(compute(validate_document(doc)), doc)


def test_a_corrected_file_has_no_finding_left_for_that_slip():
    text = (DATA / "2023-Q3.yaml").read_text(encoding="utf-8")
    fixed = text.replace("balance: -481", "balance: -484")
    assert not [f for f in _audit(fixed) if f.field == PR + "non_cis.balance"]


def test_periods_that_do_not_fit_the_quarter():
    text = (DATA / "2023-Q3.yaml").read_text(encoding="utf-8")
    moved = text.replace(
        "          period: 2023-Q3\n          source: Migration Service Committee",
        "          period: 2023-Q4\n          source: Migration Service Committee",
        1,
    )
    codes = {(f.field, f.code) for f in _audit(moved)}
    assert (FLOWS + "period", "period") in codes


@pytest.mark.parametrize("quarter", ["2023-Q2", "2023-Q3"])
def test_written_beside_the_report(built, quarter):
    folder = built[quarter].folder
    assert (folder / "audit.txt").read_text(encoding="utf-8").count("\n") == len(
        built[quarter].findings
    )
