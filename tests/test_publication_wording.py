"""Publication wording, read back from the built reports (PDF text and parsed HTML).

What an IOM reviewer reads: no program, file or method words; each figure taken from an
earlier quarter cites that quarter's own source; sentences grammatical, never the sentence
before them again, with the source's qualifiers ("estimated to be over"); every note mark with
its note and every note with its mark; a rounding note wherever printed parts miss their
printed whole. Expected values are worked out by hand from the seeds
(`../shared/seeds/kz-mtm-quarterly-2023-Q*.txt`).
"""

from __future__ import annotations

import itertools
import re
from decimal import Decimal
from pathlib import Path

import pytest

from mtmreport.compute import compute
from mtmreport.errors import QuarterFileError
from mtmreport.load import parse_yaml, read_yaml
from mtmreport.validate import validate_document
from tests.conftest import DATA, NS, by_class, html_root, pdf_text, run_cli, text_of

QUARTERS = ("2023-Q2", "2023-Q3")
Q2_NATIONAL_BANK = (
    "The National Bank of the Republic of Kazakhstan, International Money Transfer System "
    "Report, April-June 2023"
)
ROUNDING_TOTAL = "Figures may not sum to the total due to rounding."
ROUNDING_SHARES = "Shares may not sum to 100 per cent due to rounding."


def _classes(element) -> set[str]:
    return set((element.get("class") or "").split())


def _visible_html_text(result) -> str:
    """Everything the HTML shows or reads out: text and alt texts (not the head's metadata)."""
    body = next(html_root(result).iter(NS + "body"))
    alts = " ".join(img.get("alt") or "" for img in body.iter(NS + "img"))
    return text_of(body) + " " + alts


@pytest.fixture(scope="module")
def texts(built) -> dict[str, str]:
    return {q: pdf_text(built[q].pdf) for q in QUARTERS}


# --- no program, file or method wording ---------------------------------------------------

TOOL_WORDS = [
    "mtmreport",
    "quarter file",
    ".yaml",
    "Shares as published",
    "as published",
    "implied by",
    "converted at",
    "computed",
    "as a later report states",
    "on file",
    "454.545",
]


@pytest.mark.parametrize("quarter", QUARTERS)
def test_no_tool_words_in_the_pdf_or_the_html(built, texts, quarter):
    html = _visible_html_text(built[quarter])
    for words in TOOL_WORDS:
        assert words not in texts[quarter], (quarter, "pdf", words)
        assert words not in html, (quarter, "html", words)


def test_a_rate_prints_as_stated_or_to_one_decimal(texts):
    # Q3 states its average rate, 472.5; Q2 states none: its dollar figures are tenge x
    # 0.0022, so 1 / 0.0022 = 454.545..., printed to one decimal.
    assert (
        "US dollar amounts are at the average exchange rate for July – September 2023, "
        "1 USD = 472.5 KZT." in texts["2023-Q3"]
    )
    assert "US dollar amounts are at 1 USD = 454.5 KZT." in texts["2023-Q2"]
    assert "(1 USD = 476.5 KZT)" in texts["2023-Q3"]  # the 2022 rate, as stated


def test_earlier_quarter_figures_cite_that_quarters_source(built, texts):
    # Q3's change against Q2 cites the Q2 report's source, as a footnote of its own.
    # Ties and word joiners (no dash or footnote mark starts a line) read as plain text here.
    html = built["2023-Q3"].html.read_text(encoding="utf-8")
    html = html.replace("\u00a0", " ").replace("\u2060", "")
    for amount in ("253.8", "80.9"):
        assert f'({amount} billion KZT).<span class="footnote">{Q2_NATIONAL_BANK}</span>' in html
    # Trend charts cite the sources of the reports their points come from, oldest first:
    # Q2 2022, Q1 2023 and Q2 2023 from the Q2 report, Q3 2022 and Q3 2023 from the Q3 one.
    root = html_root(built["2023-Q3"])
    sources = {
        text_of(fig.find(f"{NS}figcaption")): text_of(by_class(fig, "p", "figure-source")[0])
        for fig in root.iter(NS + "figure")
    }
    trend = {caption: source for caption, source in sources.items() if " – Q3 2023" in caption}
    assert trend == {
        "Figure 3. India's share of non-CIS arrivals, Q4 2022 – Q3 2023 (%)": (
            "Source: Migration Service Committee of the Ministry of Internal Affairs, 2023"
        ),
        "Figure 11. Remittances sent from Kazakhstan, Q2 2022 – Q3 2023 (billion KZT)": (
            f"Source: {Q2_NATIONAL_BANK}; National Bank, 2023"
        ),
        "Figure 13. Remittances received by Kazakhstan, Q2 2022 – Q3 2023 (billion KZT)": (
            f"Source: {Q2_NATIONAL_BANK}; National Bank, 2023"
        ),
    }
    # The hollow points are named by their periods: the figures a later issue cites.
    assert (
        "Hollow points (Q2 2022, Q3 2022, Q1 2023): figures cited for comparison in a later "
        "issue of this report." in texts["2023-Q3"]
    )
    assert f"Source: {Q2_NATIONAL_BANK}" in texts["2023-Q2"]  # the Q2 trend


# --- sentences ----------------------------------------------------------------------------


def _sentences(text: str) -> list[str]:
    """Sentences with footnote calls (digits glued after the full stop) removed."""
    text = re.sub(r"\.\d{1,2}(?=\s+[A-Z(]|$)", ".", text)
    return [s.strip() for s in re.split(r"(?<=[a-z0-9)%])\.\s+(?=[A-Z])", text) if s.strip()]


def _counts(sentence: str) -> set[str]:
    return set(re.findall(r"\d{1,3}(?:,\d{3})+", sentence))


# Figures that two nearby sentences state for different things, as published: 24,076
# migrants both arrived from and departed to Türkiye in Q3 2023.
COINCIDENCES = {"24,076"}


@pytest.mark.parametrize("quarter", QUARTERS)
def test_no_sentence_restates_a_figure_just_stated(texts, quarter):
    sentences = _sentences(texts[quarter])
    assert len(sentences) > 100
    restated = [
        (figure, a, b)
        for i, a in enumerate(sentences)
        for b in sentences[i + 1 : i + 4]
        for figure in (_counts(a) & _counts(b)) - COINCIDENCES
    ]
    assert restated == []
    assert all(a != b for a, b in itertools.pairwise(sentences))


def test_sentences_are_split_with_decimals_and_footnotes_told_apart():
    assert _sentences("It was 7.7 per cent in 2023.4 By region: 1,000 (3%). Ibid.") == [
        "It was 7.7 per cent in 2023",
        "By region: 1,000 (3%)",
        "Ibid.",
    ]


def test_a_total_just_stated_is_not_stated_again(texts):
    # Two breakdowns of the same 14,571 migrant workers (by activity, by nationality): the
    # total is said once, the second split names what it splits.
    text = texts["2023-Q3"]
    assert text.count("14,571") == 1
    assert (
        "The Ministry of Labour and Social Protection reported 14,571 migrant workers as of "
        "1 September 2023" in text
    )
    assert "By nationality, migrant workers as of 1 September 2023: China – 3,771" in text
    assert "There were 14,571" not in text


def test_a_comparison_does_not_restate_the_count_before_it(texts):
    # Q2: the breakdown says 308,710 permits; the comparison after it gives only the change
    # (308,710 / 82,000 - 1 = +276.5 per cent) and the half-year, 82,000 + 308,710 = 390,710.
    text = texts["2023-Q2"]
    assert text.count("308,710") == 1
    assert (
        "Compared with 82,000 in the first quarter of 2023, temporary residence permits were up "
        "276.5 per cent (3.8 times as many). Together, 390,710 temporary residence permits were "
        "recorded in the first half of 2023." in text
    )
    # 13,652 permits in the first half, once; 5,852 in the quarter, once.
    assert text.count("13,652") == 1 and text.count("5,852") == 1
    assert "By nationality, permanent residence permits in the second quarter of 2023: " in text


def test_changes_by_country_are_grammatical(texts):
    assert (
        "Against the same period a year before, remittances to the Russian Federation were "
        "up 24.6 per cent and remittances to Georgia were up 59.7 per cent." in texts["2023-Q3"]
    )
    assert ", Georgia were" not in texts["2023-Q3"]


@pytest.mark.parametrize(
    ("quarter", "words"),
    [
        # "estimated to be over 280.6 billion Kazakhstani tenge (KZT)", seed Q3
        ("2023-Q3", "sent from Kazakhstan was estimated to be over 280.6 billion KZT"),
        # "the volume of remittances sent to Kazakhstan was over 70.7 billion KZT", seed Q3
        ("2023-Q3", "sent to Kazakhstan was over 70.7 billion KZT"),
        ("2023-Q3", "received by Kazakhstan was over 70.7 billion KZT"),  # the conclusion
        # "3,562 were migrant children", seed Q3
        ("2023-Q3", "Of them, 3,562 were migrant children."),
        # "is estimated to be over 253.8 billion KZT", seed Q2
        ("2023-Q2", "sent from Kazakhstan was estimated to be over 253.8 billion KZT"),
        # "Majority of officially registered migrant workers", seed Q2
        ("2023-Q2", "reported 254,393 officially registered migrant workers among CIS"),
    ],
)
def test_published_qualifiers_are_kept(texts, quarter, words):
    assert words in texts[quarter]


def test_a_qualifier_is_one_of_the_known_words():
    q3 = (DATA / "2023-Q3.yaml").read_text(encoding="utf-8")
    bad = q3.replace("qualifier: over}", "qualifier: roughly}", 1)
    with pytest.raises(QuarterFileError) as caught:
        validate_document(parse_yaml(bad, Path("data/quarters/2023-Q3.yaml")))
    [problem] = caught.value.problems
    assert problem.field.endswith("remittances.total.qualifier")
    assert problem.line == next(
        n for n, line in enumerate(bad.splitlines(), 1) if "qualifier: roughly" in line
    )
    for word in ("'over'", "'estimated over'", "'about'"):
        assert word in problem.message


def test_wording_of_qualifiers_and_rates(wording):
    w = wording
    assert w.qualified("70.7 billion KZT", None) == "70.7 billion KZT"
    assert w.qualified("70.7 billion KZT", "over") == "over 70.7 billion KZT"
    assert w.qualified("1 KZT", "estimated over") == "estimated to be over 1 KZT"
    assert w.qualified("1 KZT", "about") == "about 1 KZT"
    assert w.rate(Decimal("472.5")) == "1 USD = 472.5 KZT"
    # A rate read off the source's dollar figures (Q2: 1 / 0.0022 = 454.545…) prints to one
    # decimal, as rates are quoted; compute decides it, the wording prints what it is given.
    q2 = compute(validate_document(read_yaml(DATA / "2023-Q2.yaml")))
    outflow = q2.of_kind("remittances")[0].figures
    assert outflow.block.rate_basis == "implied"
    assert w.rate(outflow.rate) == "1 USD = 454.5 KZT"


# --- note marks ---------------------------------------------------------------------------


@pytest.mark.parametrize("quarter", QUARTERS)
def test_every_note_mark_has_its_note_and_every_note_its_mark(built, quarter):
    checked = 0
    for block in by_class(html_root(built[quarter]), "div", "block"):
        notes = [text_of(p) for p in by_class(block, "p", "note")]
        marked_notes = [n for n in notes if n.startswith("*")]
        rest = text_of(block)
        for note in notes:
            rest = rest.replace(note, "")
        assert ("*" in rest) == bool(marked_notes), (quarter, rest[:80], marked_notes)
        checked += bool(marked_notes)
    assert checked == 1  # Q2: the key terms; Q3: nationality as declared


def test_marks_sit_where_the_note_applies(texts):
    assert "came from CIS member states*:" in texts["2023-Q3"]
    assert "* The information on nationality provided in this report" in texts["2023-Q3"]
    assert "Migrant worker* a person who" in texts["2023-Q2"]
    assert "* The definitions are used in conformity with IOM Glossary" in texts["2023-Q2"]


# --- rounding notes -----------------------------------------------------------------------


def _number(cell: str) -> Decimal:
    return Decimal(cell.replace(",", "").replace("%", "").replace("−", "-"))


def _half_units(cells: list[str]) -> Decimal:
    return sum((Decimal("0.5").scaleb(_number(c).as_tuple().exponent) for c in cells), Decimal(0))


@pytest.mark.parametrize("quarter", QUARTERS)
def test_month_tables_note_rounding_where_printed_months_miss_the_total(built, quarter):
    tables = 0
    for block in by_class(html_root(built[quarter]), "div", "table-block"):
        table = block.find(f"{NS}table")
        if "months" not in _classes(table):
            continue
        tables += 1
        rows = [[text_of(td) for td in tr.iter(NS + "td")] for tr in table.iter(NS + "tr")]
        rows = [r for r in rows if r]
        parts, total = rows[:-1], rows[-1]
        misses = any(sum(_number(r[col]) for r in parts) != _number(total[col]) for col in (0, 1))
        notes = [text_of(p) for p in by_class(block, "p", "table-note")]
        assert notes == ([ROUNDING_TOTAL] if misses else []), (quarter, rows)
    assert tables == 2


def test_month_tables_by_hand(texts):
    # Q3 outflow: 88.6 + 98.8 + 93.2 = 280.6, but 187.5 + 209.1 + 197.2 = 593.8 (total 593.9);
    # Q3 inflow: 24.1 + 22.12 + 24.4 = 70.62 (total 70.7); Q2 outflow 76.4 + 89.9 + 87.5 =
    # 253.8 and 168.1 + 197.8 + 192.5 = 558.4 add up; Q2 inflow 26.3 + 28.0 + 26.6 = 80.9 and
    # 57.9 + 61.6 + 58.5 = 178.0 too.
    assert texts["2023-Q3"].count(ROUNDING_TOTAL) == 2
    assert ROUNDING_TOTAL not in texts["2023-Q2"]


@pytest.mark.parametrize("quarter", QUARTERS)
def test_chart_tables_note_rounding_where_printed_shares_miss_100(built, quarter):
    noted = []
    for figure in html_root(built[quarter]).iter(NS + "figure"):
        table = figure.find(f".//{NS}table")
        headers = [text_of(th) for th in table.iter(NS + "th") if th.get("scope") == "col"]
        notes = [text_of(p) for p in by_class(figure, "p", "figure-note")]
        if "Share (%)" not in headers:
            continue
        column = headers.index("Share (%)")
        body = [
            [text_of(c) for c in tr if c.tag in (NS + "th", NS + "td")]
            for tr in table.find(f"{NS}tbody").iter(NS + "tr")
        ]
        shares = [row[column] for row in body]
        gap = abs(sum(_number(s) for s in shares) - 100)
        wanted = 0 < gap <= _half_units(shares)  # more is a slip for the audit, not rounding
        assert (ROUNDING_SHARES in notes) == wanted, (quarter, figure.get("id"), shares)
        if wanted:
            noted.append(figure.get("id"))
    # By hand: Q2 temporary residence permits 68.8 + 22.3 + 3.9 + 3 + 1 + 0.7 + 0.4 = 100.1;
    # Q2 non-CIS labour migrants, shares as published (11.44 and 2.05 keep their decimals):
    # 18.1 + 11.44 + 10.8 + 8.8 + 5.4 + 4.7 + 3.5 + 2.3 + 2.05 + other 32.9 = 99.99;
    # Q3 arrivals from CIS 43.3 + 28.5 + 18.5 + 9.2 + 0.4 + 0.2 = 100.1; Q3 departures to CIS
    # (of the 4,109,005 listed) 43.2 + 29.4 + 18.1 + 8.8 + 0.4 = 99.9.
    assert (
        noted
        == {
            "2023-Q2": [
                "figure-03-temporary-residence-permits",
                "figure-06-non-cis-nationals-who-arrived-for-labour-migration",
            ],
            "2023-Q3": ["figure-01-arrivals-cis", "figure-02-departures-cis"],
        }[quarter]
    )


def test_rounding_shows_reads_printed_values(wording):
    w = wording
    assert w.rounding_shows(["24.1", "22.12", "24.4"], "70.7")  # 70.62
    assert not w.rounding_shows(["88.6", "98.8", "93.2"], "280.6")  # adds up
    assert w.rounding_shows(["1,000.4", "2,000.4"], "3,000.9")  # 3,000.8: grouping read back
    # 98.0 is no rounding of seven shares with one decimal: a slip, no rounding note.
    assert not w.rounding_shows(["36.3%", "34.8%", "3.5%", "3%", "1.7%", "1.2%", "17.5%"], "100")
    assert w.rounding_shows(["33.3%", "33.3%", "33.3%"], "100", exact_total=True)
    assert not w.rounding_shows(["34%", "33%", "33%"], "100", exact_total=True)
    assert w.printed_value("−484") == Decimal(-484)


def test_a_new_quarter_does_not_carry_the_old_qualifiers(scratch):
    # "estimated to be over 280.6 billion" says something of Q3's figure only.
    (scratch.data_dir / "2023-Q4.yaml").unlink()
    assert "qualifier: estimated over" in (scratch.data_dir / "2023-Q3.yaml").read_text()
    result = run_cli("new", "2023-Q4", "--data", scratch.data_dir)
    assert result.exit_code == 0, result.output
    draft = (scratch.data_dir / "2023-Q4.yaml").read_text(encoding="utf-8")
    assert re.search(r"qualifier: *(over|estimated|about)", draft) is None
    assert "total: {kzt_bn: pending, usd_mn: pending}" in draft
