import datetime as dt

import pytest

from mtmreport.periods import Period, parse_quarter_id


@pytest.mark.parametrize(
    ("text", "kind", "months", "long", "range_"),
    [
        ("2023-Q3", "quarter", 3, "the third quarter of 2023", "July – September 2023"),
        ("2023-H1", "half", 6, "the first half of 2023", "January – June 2023"),
        (2023, "year", 12, "2023", "2023"),
        ("2023-07", "month", 1, "July 2023", "July 2023"),
        ("2023-01..2023-09", "months", 9, "January – September 2023", "January – September 2023"),
        (dt.date(2023, 9, 1), "as_of", 1, "1 September 2023", "1 September 2023"),
    ],
)
def test_periods_parse_and_read(text, kind, months, long, range_, wording):
    period = Period.parse(text)
    assert period.kind == kind
    assert period.months == months
    assert wording.period(period) == long
    assert wording.period(period, "range") == range_
    assert Period.parse(str(period)) == period


def test_relations_between_periods():
    q3 = Period.parse("2023-Q3")
    assert q3.previous() == Period.parse("2023-Q2")
    assert q3.year_before() == Period.parse("2022-Q3")
    assert Period.union([Period.parse("2023-Q1"), Period.parse("2023-Q2")]) == Period.parse(
        "2023-H1"
    )
    assert Period.union([Period.parse("2023-Q1"), Period.parse("2023-Q3")]) is None
    assert Period.parse("2023-09-01").within(q3)


@pytest.mark.parametrize("bad", ["2023-Q5", "Q3 2023", "2023-13", "2023-09..2023-01", "", None])
def test_bad_periods_are_refused_with_help(bad):
    with pytest.raises(ValueError, match=r"period|ends before"):
        Period.parse(bad)


@pytest.mark.parametrize("bad", ["../../etc", "2023-Q3/../x", "2023-q3", "2023-Q3 "])
def test_quarter_ids_are_strict(bad):
    with pytest.raises(ValueError):
        parse_quarter_id(bad)
