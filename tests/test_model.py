"""The schema: the shipped files are valid; invalid files give located, worded problems."""

from pathlib import Path

import pytest
import yaml

from mtmreport.errors import QuarterFileError
from mtmreport.load import parse_yaml, read_yaml
from mtmreport.validate import validate_document
from tests.conftest import DATA

Q3 = (DATA / "2023-Q3.yaml").read_text(encoding="utf-8")


def _problems(text: str) -> list:
    with pytest.raises(QuarterFileError) as caught:
        validate_document(parse_yaml(text, Path("data/quarters/2023-Q3.yaml")))
    return caught.value.problems


@pytest.mark.parametrize("quarter", ["2023-Q2", "2023-Q3"])
def test_shipped_quarters_are_valid(quarter):
    model = validate_document(read_yaml(DATA / f"{quarter}.yaml"), expected_quarter=quarter)
    assert (str(model.quarter), model.status) == (quarter, "complete")
    assert len(model.sections) == {"2023-Q2": 6, "2023-Q3": 7}[quarter]


def test_sections_keep_the_file_order():
    model = validate_document(read_yaml(DATA / "2023-Q3.yaml"))
    assert [s.title for s in model.sections] == [
        "Developments in the migration policy",
        "Migration inflow and outflow",
        "Temporary residence permits",
        "Permanent residence permits",
        "Labour migration",
        "Remittances",
        "Conclusion",
    ]


def test_unknown_key_suggests_the_right_one():
    problems = _problems(Q3.replace("          arrivals:", "          arivals:", 1))
    [problem] = [p for p in problems if p.code == "unknown-key"]
    assert problem.message == "unknown key 'arivals' — did you mean 'arrivals'?"
    assert problem.field == "sections[1].blocks[0].flows.arivals"
    assert problem.line == Q3.splitlines().index("          arrivals:") + 1


def test_text_in_a_number_field_names_line_and_field():
    text = Q3.replace("total: 4482427", "total: abc", 1)
    [problem] = _problems(text)
    assert problem.field == "sections[1].blocks[0].flows.arrivals.total"
    assert problem.message == "expected a whole number, got 'abc'"
    assert problem.line == next(i for i, line in enumerate(text.splitlines(), 1) if "abc" in line)


def test_unknown_country_suggests_the_nearest():
    text = Q3.replace("country: Uzbekistan, number: 1753689", "country: Uzbekstan, number: 1753689")
    [problem] = _problems(text)
    assert "unknown country 'Uzbekstan' — did you mean 'Uzbekistan'?" in problem.message


def test_every_problem_is_reported_at_once():
    text = (
        Q3.replace("total: 4482427", "total: -5", 1)
        .replace("number: 9352", "number: 93.52", 1)
        .replace("rate: 472.5", "rate: fast", 1)
    )
    problems = _problems(text)
    messages = [p.message for p in problems]
    assert len(problems) == 3
    assert "must be at least 0, got -5" in messages
    assert any("a count has no decimals" in m for m in messages)
    assert "expected a number, got 'fast'" in messages
    assert [p.line for p in problems] == sorted(p.line for p in problems)


def test_missing_required_block_and_wrong_quarter():
    data = yaml.safe_load(Q3)
    del data["sections"][1]["blocks"][0]["flows"]["departures"]
    [problem] = _problems(yaml.safe_dump(data, allow_unicode=True))
    assert problem.message == "required key 'departures' is missing"
    with pytest.raises(QuarterFileError, match="named for 2023-Q4"):
        validate_document(parse_yaml(Q3, Path("2023-Q4.yaml")), expected_quarter="2023-Q4")


def test_a_block_names_exactly_one_kind():
    text = Q3.replace(
        "  - title: Temporary residence permits\n    blocks:\n",
        "  - title: Temporary residence permits\n    blocks:\n      - {}\n",
    )
    [problem] = _problems(text)
    assert "a block is one of: text, flows" in problem.message


def test_places_are_carried_by_iso_code_and_named_in_english_for_the_analyst():
    """Whatever language or alias the file names a place in, the model holds its ISO code;
    the audit's messages name it in English, from the reference table."""
    from mtmreport.audit import audit
    from mtmreport.compute import compute

    # Belarus, written in Russian, is listed under non-CIS arrivals (as published).
    text = Q3.replace(
        "- {country: Belarus, number: 17304, share: 3.9}",
        "- {country: Беларусь, number: 17304, share: 3.9}",
    ).replace("- {country: Uzbekistan, number: 1753689", "- {country: UZB, number: 1753689", 1)
    doc = parse_yaml(text, Path("data/quarters/2023-Q3.yaml"))
    model = validate_document(doc)
    arrivals = model.sections[1].blocks[0].flows.arrivals
    assert arrivals.cis.countries[0].country == "UZB"
    assert arrivals.non_cis.countries[-1].country == "BLR"
    assert model.report.country == "KAZ"
    messages = [d.message for d in audit(compute(model), doc)]
    assert any(m.startswith("Belarus is listed under non-CIS arrivals") for m in messages)
    assert not any("BLR" in m or "UZB" in m for m in messages)
