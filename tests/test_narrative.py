"""Figures written in the text are checked against the report's own figures, and nothing
that is not such a figure raises a finding.

Expected values are worked out by hand from the published reports (../shared/seeds/):

- 2023-Q3 arrivals: 4,482,427 in all; the CIS total 4,034,184 plus Belarus (17,304, listed
  under non-CIS but a CIS member) is 4,051,488, so non-CIS arrivals are 4,482,427 − 4,051,488
  = 430,939, and India's 33,109 of them are 7.683 per cent (the published text says 7.4).
  The CIS share of arrivals is 4,051,488 / 4,482,427 = 90.386 per cent.
- 2023-Q3 permanent residence, January–September: Mongolia 400 of 2,300 non-CIS holders is
  17.39 per cent (published 13.4).
- 2023-Q2 departures, first half-year: 6,996 against 12,339 is 6,996 / 12,339 − 1 = −43.30
  per cent (published "decreased by 56.7%").
"""

from __future__ import annotations

import pytest

from mtmreport import narrative
from mtmreport.project import Project
from tests.conftest import DATA, ROOT


@pytest.fixture(scope="module")
def q3():
    return Project.at(ROOT).loaded("2023-Q3")


@pytest.fixture(scope="module")
def q2():
    return Project.at(ROOT).loaded("2023-Q2")


def _read(loaded, text: str) -> list[tuple[str, str, str]]:
    """(number as written, what the report's figure is, verdict) for each mismatch."""
    return [
        (written.number, fact.what, verdict)
        for written, fact, verdict in narrative.check_text(text, loaded.figures)
    ]


def test_the_published_india_paragraph_is_found_at_its_line(q3):
    [finding] = [f for f in q3.findings if f.code == "narrative"]
    lines = (DATA / "2023-Q3.yaml").read_text(encoding="utf-8").splitlines()
    assert lines[finding.line - 1][finding.column - 1 :].startswith("7.4 per cent")
    assert finding.stated == "7.4 per cent"
    assert finding.computed == "7.7 per cent, 33,109 of 430,939"
    assert (
        "India's share of non-CIS arrivals in 2023-Q3 does not match the report's figure"
        in finding.message
    )
    assert finding.severity == "serious"
    assert finding.field == "sections[1].blocks[1].text.paragraphs[0].text"


@pytest.mark.parametrize("quarter", ["2023-Q2", "2023-Q3", "2023-Q4"])
def test_the_shipped_texts_raise_only_the_india_figure(quarter):
    found = [
        (f.line, f.stated)
        for f in Project.at(ROOT).loaded(quarter).findings
        if "text's figure" in f.message or f.code == "narrative"
    ]
    assert found == ([(162, "7.4 per cent")] if quarter == "2023-Q3" else [])


HITS_Q3 = [
    # The published sentence on non-CIS arrivals (seed, Q3 page 3) against the report's
    # non-CIS total of 430,939: 448,243 is the stated total; China 131,203 / 430,939 = 30.45,
    # India 7.68, Türkiye 24,076 / 430,939 = 5.59, Germany 18,321 / 430,939 = 4.25 per cent;
    # the counts agree. Belarus is counted with the CIS, so "3.9 per cent of non-CIS
    # arrivals" has no counterpart in the report and is left alone.
    (
        "Other 448,243 arrivals accounted for non-CIS countries of origin: 29.3 per cent from "
        "China (131,203 migrants), 7.4 per cent (33,109 migrants) from India, 5.4 per cent "
        "from Republic of Türkiye (24,076 migrants), 4.1 per cent (18,321 migrants) from "
        "Germany, and 3.9 per cent (17,304 migrants) from Belarus.",
        [
            ("448,243", "non-CIS arrivals", "differs"),
            ("29.3", "China's share of non-CIS arrivals", "differs"),
            ("7.4", "India's share of non-CIS arrivals", "differs"),
            ("5.4", "Türkiye's share of non-CIS arrivals", "differs"),
            ("4.1", "Germany's share of non-CIS arrivals", "differs"),
        ],
    ),
    # The published sentence on migrant workers (seed, Q3 page 6), of 14,571: China 3,771 is
    # 25.88, Uzbekistan 2,002 is 13.74, Türkiye 1,370 is 9.40, India 1,363 is 9.35 per cent.
    (
        "The majority of migrant workers are from China - 3,771 migrants (26.2%), Uzbekistan - "
        "2,002 migrants (13.3%), Republic of Türkiye - 1,370 migrants (9.2%), and India - 1,363 "
        "migrants (9.4%).",
        [
            ("26.2", "China's share of migrant workers", "differs"),
            ("13.3", "Uzbekistan's share of migrant workers", "differs"),
            ("9.2", "Türkiye's share of migrant workers", "differs"),
        ],
    ),
    (
        "In January–September 2023, Mongolia accounted for 13.4 per cent of permanent "
        "residence permit holders from non-CIS countries.",
        [("13.4", "Mongolia's share of non-CIS permanent residence permit holders", "differs")],
    ),
    (
        "Arrivals from CIS countries made up 92 per cent of all arrivals in the third quarter.",
        [("92", "the share of CIS arrivals", "differs")],
    ),
    (
        "In the third quarter, 31,109 arrivals from India were registered.",
        [("31,109", "India's arrivals", "differs")],
    ),
    # 7.683 cut at one decimal is 7.6: a truncation, not a slip
    (
        "In the third quarter, India's share of non-CIS arrivals was 7.6 per cent.",
        [("7.6", "India's share of non-CIS arrivals", "truncated")],
    ),
    # A share the report prints as published (shares only): 17.5
    (
        "Almaty city accounted for 19.5 per cent of temporary residence permit holders.",
        [("19.5", "Almaty city's share of temporary residence permit holders", "differs")],
    ),
]


@pytest.mark.parametrize(("text", "expected"), HITS_Q3, ids=range(len(HITS_Q3)))
def test_figures_in_text_that_differ_are_found(q3, text, expected):
    assert _read(q3, text) == expected


AGREEING_Q3 = [
    "Arrivals from CIS countries made up 90.4 per cent of all arrivals in the third quarter.",
    "In the third quarter, 33,109 arrivals from India were registered.",
    "In the third quarter, 33,100 arrivals from India were registered.",  # rounded to 100s
    "In the third quarter, India's share of non-CIS arrivals was 7.7 per cent.",
    "India accounted for 0.7 per cent of all arrivals in the third quarter.",  # 33,109 / 4.48 m
    "Almaty city accounted for 17.5 per cent of temporary residence permit holders.",
]


@pytest.mark.parametrize("text", AGREEING_Q3)
def test_figures_in_text_that_agree_raise_nothing(q3, text):
    assert _read(q3, text) == []


def test_a_change_written_in_text(q2):
    hit = "In the first half of 2023, departures decreased by 56.7 per cent."
    assert _read(q2, hit) == [("56.7", "the change in departures from 2022-H1", "differs")]
    assert _read(q2, "In the first half of 2023, departures decreased by 43.3 per cent.") == []


# Sentences of the shipped quarter files with digits in them that are not figures of the
# report: dates, years, article numbers, durations, hedged figures, earlier periods.
NOT_FIGURES_Q3 = [
    "This could cause damage of 1.3 per cent of Gross Domestic Product (GDP) per year, "
    "resulting in about 5 million environmental migrants.",
    'Kazakhstan has exempted A-5 category "foreign labour investors from obtaining permits"; '
    "such investor visas for the first time have been issued to 76 migrants in 2023.",
    'A list of 50 ethnic Kazakhs has been formed as "Ata Zholy" card recipients.',
    "On 30th of June 2023 the Government approved the procedure for issuing the card.",
    "From the 1st of July 2023 the Government has adopted new Rules for the issuance of "
    "labour permits.",
    "The implementation of the Migration Policy Concept for 2023-2027 was considered at the "
    "Government meeting. The measures taken provided a positive balance of migration for the "
    "first time in the last 10 years.",
    "There is a visible upward trend in the number of migrants from India. In the last "
    "quarter of 2022, the number of migrant arrivals hardly exceeded 0.1 per cent and it "
    "started to grow from the first quarter of 2023 with 3.3 per cent or 16,500 arrivals "
    "from India.",
    "This could reason the increasing attractiveness of Kazakhstan as a tourist and economic "
    "destination amidst a 14-day visa-free stay and cheap flight availability. Since August "
    '2023, an Indian low-cost airline, "IndiGo," started flights to Kazakhstan on the route '
    "Delhi-Almaty with a frequency of three flights per week.",
    "At the same time, the country continues to import significant inflation from the "
    "Russian Federation against the backdrop of ruble devaluation by more than 20 per cent.",
    "One thousand four hundred twenty-four employers in Kazakhstan hired migrant workers.",
]
NOT_FIGURES_Q2 = [
    "The draft resolution was developed in accordance with paragraph 92 of Article 1 of the "
    "Law of the Republic of Kazakhstan dated 19 April, 2023.",
    "On April 5-6, 2023, a two-day online training on migration data was organized.",
    "On June 8-9, IOM took part in the panel sessions at the AIF fields in Astana, Kazakhstan.",
    'The training was conducted as part of the ongoing project "Labor Migration Program - '
    'Central Asia, Phase I".',
    "in Q2 of 2023 the majority of visas in Kazakhstan were issued for the nationals of China "
    "and Türkiye;",
    "International Migration Law No. 34",
]


@pytest.mark.parametrize("text", NOT_FIGURES_Q3)
def test_no_false_alarms_q3(q3, text):
    assert _read(q3, text) == []


@pytest.mark.parametrize("text", NOT_FIGURES_Q2)
def test_no_false_alarms_q2(q2, text):
    assert _read(q2, text) == []


def test_a_mismatch_names_the_share_the_report_prints(q3):
    # The report prints the CIS share of Q3 arrivals as the source states it, "90" (the
    # computed 4,051,488 / 4,482,427 = 90.39 agrees within its rounding); a text saying 92
    # is told that figure, with its decimals, and what it is worked out from.
    text = "Arrivals from CIS countries made up 92 per cent of all arrivals in the third quarter."
    [(written, fact, verdict)] = narrative.check_text(text, q3.figures)
    assert (written.text, verdict) == ("92 per cent", "differs")
    assert fact.shown == "90 per cent, 4,051,488 of 4,482,427"
    # a country's share: computed, to one decimal (33,109 / 430,939 = 7.683)
    text = "In the third quarter, India's share of non-CIS arrivals was 7.4 per cent."
    [(_, fact, _)] = narrative.check_text(text, q3.figures)
    assert fact.shown == "7.7 per cent, 33,109 of 430,939"
