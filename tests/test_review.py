"""The review view: each printed figure with its formula and the quarter-file lines behind it.

Expected values are worked out by hand from data/quarters/2023-Q3.yaml (line numbers are
those of the shipped file; a test below checks that each named line holds the figure).
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
import tinyhtml5

from mtmreport.build import BuildOptions, BuildResult, build_report
from mtmreport.project import Project
from tests.conftest import DATA, TEMPLATES, PerQuarter, run_cli, seed_chart_cache

NS = "{http://www.w3.org/1999/xhtml}"
Q3_FILE = DATA / "2023-Q3.yaml"


@pytest.fixture(scope="module")
def reviewed(
    built_html: PerQuarter[BuildResult], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, BuildResult]:
    quarters = ("2023-Q2", "2023-Q3")
    shipped = {q: built_html[q] for q in quarters}  # both built: their charts are in the cache
    output = tmp_path_factory.mktemp("review")
    seed_chart_cache(output, shipped["2023-Q3"].folder.parent)  # drawing is not the point
    paths = Project(DATA, TEMPLATES, output)
    options = BuildOptions(pdf=False, review=True, editor_url="editor://open?{path}&line={line}")
    return {q: build_report(q, paths, options) for q in quarters}


def _figures(result: BuildResult) -> list:
    root = tinyhtml5.parse((result.folder / "review.html").read_text(encoding="utf-8"))
    return [
        span
        for span in root.iter(NS + "span")
        if "fig" in (span.get("class") or "").split() and span.get("class") != "fig-formula"
    ]


def _printed(span) -> str:
    return (span.text or "").replace("\u00a0", " ").strip()


def _how(span):
    return next(s for s in span.iter(NS + "span") if s.get("class") == "fig-how")


def _text(element) -> str:
    return re.sub(r"\s+", " ", "".join(element.itertext()).replace("\u2060", "")).strip()


def _lines(element) -> list[int]:
    """The quarter-file lines the popup links to, in order."""
    return [
        int(a.text.rsplit(":", 1)[1])
        for a in element.iter(NS + "a")
        if a.get("class") == "fig-at" and "2023-Q3.yaml" in (a.text or "")
    ]


def _find(result: BuildResult, printed: str, *words: str):
    for span in _figures(result):
        if _printed(span) == printed and all(w in _text(_how(span)) for w in words):
            return span
    raise AssertionError(f"no figure {printed!r} explained with {words}")


def _line_of(*words: str) -> int:
    """The number of the quarter file's first line holding every one of `words`."""
    lines = Q3_FILE.read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if all(w in line for w in words))


@pytest.mark.slow
def test_a_share_shows_its_division_and_the_lines_of_both_counts(reviewed):
    # 1,753,689 / (4,034,184 + 17,304) × 100 = 43.285 -> 43.3 per cent; the source's 43.5 was
    # of its own CIS total, before Belarus moved into it, so it does not agree.
    span = _find(reviewed["2023-Q3"], "43.3 per cent", "Uzbekistan ÷ CIS arrivals × 100")
    how = _text(_how(span))
    assert "1,753,689" in how and "4,051,488" in how
    assert "stated CIS total + Belarus (listed under non-CIS)" in how
    assert "4,034,184" in how and "17,304" in how
    assert "Stated in the source: 43.5" in how
    # Uzbekistan's line, CIS arrivals as stated, Belarus's line, the stated share (Uzbekistan's)
    uzbekistan = _line_of("Uzbekistan", "1753689", "43.5")
    cis, belarus = _line_of("total: 4034184"), _line_of("Belarus", "17304")
    assert _lines(_how(span)) == [uzbekistan, cis, belarus, uzbekistan]


@pytest.mark.slow
def test_a_contradicted_total_says_what_is_used_instead(reviewed):
    # Departures to CIS: the stated 4,080,540 (+ Belarus 16,426 = 4,096,966) is smaller than
    # the CIS countries listed: 1,774,200 + 1,209,912 + 744,948 + 363,519 + 16,426 = 4,109,005
    span = _find(reviewed["2023-Q3"], "4,109,005", "sum of the CIS countries listed")
    how = _text(_how(span))
    assert "the stated CIS total (4,080,540) is smaller" in how
    listed = [
        _line_of(*words)
        for words in (
            ("Uzbekistan", "1774200"),
            ("Russian Federation", "1209912"),
            ("Kyrgyzstan", "744948"),
            ("Tajikistan", "363519"),
            ("Belarus", "16426"),
        )
    ]
    assert _lines(_how(span)) == listed


@pytest.mark.slow
def test_a_stated_dollar_amount_that_agrees_prints_as_stated(reviewed):
    # 280.6 billion KZT at 472.5 KZT/USD = 593.86 million USD, 593.69-594.04 with the inputs'
    # rounding: the central bank's 594 agrees and prints.
    span = _find(reviewed["2023-Q3"], "594 million USD", "the source's own figure")
    how = _text(_how(span))
    assert "× 1,000 ÷ KZT per USD" in how and "280.6" in how and "472.5" in how
    total, rate = _line_of("kzt_bn: 280.6", "usd_mn: 594"), _line_of("rate: 472.5")
    assert _lines(_how(span)) == [total, rate, total]


@pytest.mark.slow
def test_every_number_in_the_text_is_traced_and_links_open_the_editor(reviewed):
    for result in reviewed.values():
        spans = _figures(result)
        assert len(spans) > 100
        untraced = [_printed(s) for s in spans if "fig-untraced" in s.get("class")]
        assert untraced == []
    link = next(
        a
        for a in tinyhtml5.parse(
            reviewed["2023-Q3"].folder.joinpath("review.html").read_text()
        ).iter(NS + "a")
        if a.get("class") == "fig-at"
    )
    assert link.get("href").startswith(f"editor://open?{Q3_FILE.resolve().as_posix()}&line=")


@pytest.mark.slow
def test_the_published_html_carries_no_review_marks(reviewed):
    report = (reviewed["2023-Q3"].folder / "report.html").read_text(encoding="utf-8")
    assert "fig-how" not in report and "review.css" not in report and "vscode:" not in report


@pytest.mark.slow
def test_cli_review_flag_writes_the_review_view(built_html, tmp_path: Path):
    seed_chart_cache(tmp_path, built_html["2023-Q2"].folder.parent)  # not the point
    result = run_cli("build", "2023-Q2", "--no-pdf", "--review", "--output", tmp_path)
    assert result.exit_code == 0, result.output
    assert "review.html (the review view)" in result.output
    page = (tmp_path / "2023-Q2" / "review.html").read_text(encoding="utf-8")
    assert 'href="vscode://file/' in page and "fig-how" in page


def test_a_wrong_editor_link_template_is_a_usage_error(tmp_path: Path):
    result = run_cli(
        "build",
        "2023-Q2",
        "--no-pdf",
        "--review",
        "--output",
        tmp_path,
        "--editor-url",
        "myeditor://{file}:{line}",
    )
    assert result.exit_code == 2
    assert "can only name {path}, {line} and {column}" in result.output
    assert not (tmp_path / "2023-Q2").exists()


@pytest.mark.slow
def test_the_notes_are_phrasing_content_so_paragraphs_stay_whole(reviewed):
    # A list or block inside a <p> would end the paragraph and spill every note into the page.
    review = (reviewed["2023-Q3"].folder / "review.html").read_text(encoding="utf-8")
    report = (reviewed["2023-Q3"].folder / "report.html").read_text(encoding="utf-8")
    for tag in ("<ul>", "<ul ", "<li>", "<li ", "<div", "<p>", "<p "):
        assert review.count(tag) == report.count(tag), tag


def test_the_cells_of_a_report_table_are_traced_like_the_text(reviewed):
    # The report's tables print their cells through the number filters, as the text does:
    # the inflow months table's 22.12 (August 2023) leads to its line of the quarter file.
    root = tinyhtml5.parse((reviewed["2023-Q3"].folder / "review.html").read_text())
    inflow = [t for t in root.iter(NS + "table") if t.get("class") == "data months"][1]
    spans = [s for s in inflow.iter(NS + "span") if "fig" in (s.get("class") or "").split()]
    assert [_printed(s) for s in spans] == [
        *("24.1", "51", "22.12", "46.8", "24.4", "51.6"),
        *("70.7", "149.7"),  # the total row
    ]
    assert _lines(_how(spans[2])) == [_line_of("2023-08", "kzt_bn: 22.12")]


def test_the_money_filter_words_amounts_through_the_catalogue():
    """ "280.6 billion KZT (594 million USD)" is a catalogue message in the review view too:
    the pseudo-locale wraps it, and both amounts inside it stay marked."""
    from mtmreport.load import read_yaml
    from mtmreport.provenance import typed
    from mtmreport.review import Review
    from mtmreport.theme import Templates
    from mtmreport.wording import load_wording

    review = Review(read_yaml(Q3_FILE), "editor://open?{path}&line={line}")
    wording = load_wording(Templates.over_defaults(TEMPLATES), "qps")
    kzt = typed(Decimal("280.6"), "tenge", ("a",))
    usd = typed(Decimal("594"), "dollars", ("b",))
    printed = str(review.filters(wording)["money"](kzt, usd))
    # the message's own characters, the brackets, carry the pseudo-locale's marks
    assert "‹ (›" in printed and printed.endswith("‹)›")
    assert printed.count('class="fig fig-typed"') == 2
    assert "280.6" in printed and "594" in printed
