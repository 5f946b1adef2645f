"""The HTML report, parsed with a real HTML5 parser (the one WeasyPrint itself uses)."""

from __future__ import annotations

import itertools

import numpy as np

from mtmreport.charts.spec import cell_text
from mtmreport.render import Footnotes, markdown_block, markdown_inline
from mtmreport.wording import load_wording
from tests.conftest import NS, REPO_TEMPLATES, by_class, html_root, text_of


def test_sections_in_file_order_with_numbers(built):
    root = html_root(built["2023-Q3"])
    titles = [text_of(h) for h in by_class(root, "h2", "band")]
    assert titles == [
        "1. Developments in the migration policy",
        "2. Migration inflow and outflow",
        "3. Temporary residence permits",
        "4. Permanent residence permits",
        "5. Labour migration",
        "6. Remittances",
        "Conclusion",
    ]
    subsections = [text_of(h) for h in root.iter(NS + "h3")]
    assert subsections[:2] == [
        "6.1. Remittance outflows from Kazakhstan",
        "6.2. Remittance inflows to Kazakhstan",
    ]


def test_q2_keeps_its_own_structure(built):
    root = html_root(built["2023-Q2"])
    titles = [text_of(h) for h in by_class(root, "h2", "band")]
    assert titles[1] == "2. Migration flows"
    assert any("Key terms" in t for t in titles)


def test_title_and_language(built):
    root = html_root(built["2023-Q3"])
    assert root.get("lang") == "en"
    title = text_of(next(root.iter(NS + "title")))
    assert title == "Kazakhstan: Quarterly Compilation Report (July – September 2023)"


def test_figures_have_caption_image_alt_source_and_data(built):
    result = built["2023-Q3"]
    root = html_root(result)
    figures = list(root.iter(NS + "figure"))
    assert len(figures) >= 10
    for number, figure in enumerate(figures, start=1):
        caption = text_of(next(figure.iter(NS + "figcaption")))
        assert caption.startswith(f"Figure {number}. ")
        image = next(figure.iter(NS + "img"))
        assert (result.folder / image.get("src")).is_file()
        assert len(image.get("alt")) > 30
        assert text_of(by_class(figure, "p", "figure-source")[0]).startswith("Source: ")
        assert list(figure.iter(NS + "table"))  # the chart's data as a table


def test_sentences_carry_computed_figures(built):
    text = text_of(html_root(built["2023-Q3"]))
    assert "a total of 4,482,427 migrant arrivals and 4,533,933 migrant departures" in text
    assert "43.3 per cent (1,753,689 migrants) from Uzbekistan" in text
    assert "plus 6,885 migrants" in text and "minus 484 migrants" in text
    assert "280.6 billion KZT (594 million USD)" in text
    assert "93.5 billion KZT (198.0 million USD)" in text  # the true monthly average


def test_footnotes_number_sources_and_repeat_as_ibid(built):
    root = html_root(built["2023-Q3"])
    notes = [text_of(n) for n in by_class(root, "span", "footnote")]
    assert notes[0] == "Displacement Tracking Matrix website, 2023"
    assert "Ibid." in notes
    for before, after in itertools.pairwise(notes):
        assert not (before == after and before != "Ibid."), "a repeated source must be Ibid."


def test_footnotes_object_marks_repeats():
    notes = Footnotes(ibid="Ibid.")
    assert "A, 2023" in notes.cite("A, 2023")
    assert "Ibid." in notes.cite("A, 2023")
    assert "B" in notes.cite("B")
    assert notes.cite(None) == ""


def test_markdown_is_sanitised():
    hostile = (
        "Hi <script>alert(1)</script> ![x](file:///etc/passwd) "
        "[ok](https://iom.int) [bad](javascript:alert(1)) <img src=http://evil/x.png>"
    )
    html = str(markdown_block(hostile))
    assert "<script" not in html and "<img" not in html
    assert 'href="javascript' not in html and 'href="file' not in html
    assert "&lt;script&gt;" in html  # shown as text, harmless
    assert 'href="https://iom.int"' in html
    assert str(markdown_inline("**bold** and *it*")) == "<strong>bold</strong> and <em>it</em>"


def test_text_and_chart_tables_round_halves_alike(wording):
    """A paragraph and the chart's data table print one value with the same digits: half
    up, as a reader rounds (Babel alone would round half to even: 43.25 -> 43.2)."""
    for value, digits in ((43.25, "43.3"), (2.05, "2.1"), (np.float64(0.45), "0.5")):
        assert wording.per_cent(value, 1) == f"{digits} per cent"
        assert cell_text(value, "percent", wording) == f"{digits}%"
        assert wording.change(value) == f"up {digits} per cent"
        assert cell_text(value, "change", wording) == f"+{digits}%"


def test_one_list_of_items_for_running_text_captions_and_markup():
    from markupsafe import Markup, escape

    english, russian = load_wording(REPO_TEMPLATES), load_wording(REPO_TEMPLATES, "ru")
    assert (
        english.sentence_list(["Q2 2022", "Q3 2022", "Q3 2023"]) == "Q2 2022, Q3 2022 and Q3 2023"
    )
    assert russian.sentence_list(["Q2 2022", "Q3 2023"]) == "Q2 2022 и Q3 2023"
    assert english.sentence_list(["alone"]) == "alone" and english.sentence_list([]) == ""
    # what templates pass: escaped items; the result stays markup, nothing escaped twice
    marked = english.sentence_list([Markup("<em>India</em>"), escape("R&D")])
    assert isinstance(marked, Markup) and marked == "<em>India</em> and R&amp;D"
