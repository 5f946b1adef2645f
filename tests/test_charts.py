"""Charts: the planner's choices, the drawings, their alt texts and their place in HTML and PDF."""

from __future__ import annotations

import json

import pytest
from matplotlib.colors import to_hex
from PIL import Image
from pypdf import PdfReader

from mtmreport import compute as c
from mtmreport import model as m
from mtmreport.charts import style
from mtmreport.charts.draw import DPI, draw
from mtmreport.charts.plan import alt_text, plan_block, plan_charts
from mtmreport.charts.spec import MAX_DONUT_SLICES, ChartSpec, data_rows
from mtmreport.charts.trends import trend_specs
from mtmreport.reference.regions import all_regions
from tests.conftest import GOLDEN, NS, html_root

QUARTERS = ("2023-Q2", "2023-Q3")


@pytest.fixture(scope="module")
def specs(repo_paths, wording) -> dict[str, list[ChartSpec]]:
    """Each quarter's charts as its build plans them, trends over the quarters on file too."""
    planned = {}
    for quarter in QUARTERS:
        linked = repo_paths.linked(quarter)
        trends = trend_specs(linked.history, linked.loaded.figures, wording)
        by_block = plan_charts(linked.loaded.figures, wording, extra=trends)
        planned[quarter] = [s for block in by_block.values() for s in block]
    return planned


def _breakdown(items: list[dict], chart: str = "donut", **extra) -> c.BreakdownFigures:
    block = m.BreakdownBlock.model_validate(
        {"subject": "visas", "period": "2023-Q2", "source": "Test", "chart": chart}
        | {"items": items}
        | extra
    )
    return c.breakdown_figures(block)


# --- the planner ----------------------------------------------------------------------------


def test_charts_are_numbered_in_reading_order_with_unique_files(specs):
    for quarter_specs in specs.values():
        assert [s.number for s in quarter_specs] == list(range(1, len(quarter_specs) + 1))
        stems = [s.file_stem for s in quarter_specs]
        assert len(set(stems)) == len(stems)
    assert [s.file_stem for s in specs["2023-Q3"]][:2] == [
        "figure-01-arrivals-cis",
        "figure-02-departures-cis",
    ]


def test_a_donut_only_for_a_few_shares_of_one_whole(wording):
    few = [{"country": "China", "number": 50}, {"country": "India", "number": 20}]
    (spec,) = plan_block(_breakdown(few, total=100), wording)
    assert spec.kind == "donut"
    assert list(spec.table["label"]) == ["China", "India", "Other"]
    assert spec.center_label == "100"

    # Seven parts: bars, whatever the file asks.
    names = ["Uzbekistan", "Russia", "Kyrgyzstan", "Tajikistan", "Azerbaijan", "Armenia"]
    seven = [{"country": n, "share": s} for n, s in zip(names, (70, 15, 5, 4, 3, 2), strict=True)]
    seven.append({"country": "Belarus", "share": 1})
    assert len(seven) > MAX_DONUT_SLICES
    (spec,) = plan_block(_breakdown(seven), wording)
    assert spec.kind == "hbar"

    # Six parts (five and "other") that make up the whole stay a donut…
    six = seven[:5]
    (spec,) = plan_block(_breakdown(six, other={"share": 3}), wording)
    assert spec.kind == "donut" and len(spec.table) == MAX_DONUT_SLICES
    # …but parts that are not one whole (no total, no "other") never make a donut.
    (spec,) = plan_block(_breakdown(few), wording)
    assert spec.kind == "hbar"


def test_the_q2_cis_workers_donut_becomes_bars(specs):
    (workers,) = [
        s
        for s in specs["2023-Q2"]
        if s.slug == "officially-registered-migrant-workers-among-cis-nationals"
    ]
    assert len(workers.table) == 7
    assert workers.kind == "hbar"


def test_bars_rank_categories_and_put_the_remainder_last_in_grey(specs, wording):
    (non_cis,) = [s for s in specs["2023-Q2"] if s.slug.startswith("non-cis-nationals")]
    labels = list(non_cis.table["label"])
    # Published with Hungary (2.05) before the Republic of Korea (2.3); ranked, Korea first.
    assert labels.index("Republic of Korea") < labels.index("Hungary")
    assert labels[-1] == "Other" and labels[1] == "United Kingdom"  # short name on a chart
    named = non_cis.table[~non_cis.table["is_other"]]["value"].tolist()
    assert named == sorted(named, reverse=True)
    fig = draw(non_cis, wording)
    colours = [to_hex(p.get_facecolor()) for p in fig.axes[0].patches]
    assert colours[-1] == style.OTHER.lower()
    assert set(colours[:-1]) == {style.IOM_BLUE.lower()}


def test_charts_are_drawn_at_their_printed_width(built_html):
    for quarter in QUARTERS:
        root = html_root(built_html[quarter])
        for figure in root.iter(NS + "figure"):
            classes = figure.get("class").split()
            image = next(figure.iter(NS + "img"))
            width_px = Image.open(built_html[quarter].folder / image.get("src")).size[0]
            if "chart-half" in classes:
                expected = style.HALF_WIDTH_IN
            elif "chart-map" in classes:
                expected = style.FIGURE_WIDTH_IN
            else:
                expected = style.FULL_WIDTH_IN
            assert width_px == pytest.approx(expected * DPI, abs=1)


def test_permanent_residence_is_a_grid_of_four_half_charts(built_html):
    root = html_root(built_html["2023-Q3"])
    rows = [e for e in root.iter(NS + "div") if e.get("class") == "figure-row"]
    slugs = [[f.get("id")[len("figure-NN-") :] for f in row.iter(NS + "figure")] for row in rows]
    assert ["residence-holders-cis", "residence-balance-cis"] in slugs
    assert ["residence-holders-non-cis", "residence-balance-non-cis"] in slugs


def test_balances_are_drawn_around_zero(specs, wording):
    (balance,) = [s for s in specs["2023-Q3"] if s.slug == "residence-balance-non-cis"]
    assert list(balance.table["value"]) == [2300, -2784, -484]
    ax = draw(balance, wording).axes[0]
    heights = [p.get_height() for p in ax.patches]
    assert heights == [2300, -2784, -484]
    low, high = ax.get_ylim()
    assert low < -2784 and high > 2300
    assert to_hex(ax.patches[-1].get_facecolor()) == style.RED.lower()  # a negative balance


def test_remittance_comparison_says_what_the_change_is_of(specs, wording):
    (outflow,) = [s for s in specs["2023-Q3"] if s.slug == "remittances-outflow-comparison"]
    assert outflow.kind == "paired"
    headers = [col.header for col in outflow.columns]
    assert "Change in USD (%)" in headers and "Change in KZT (%)" in headers
    total = outflow.table.iloc[0]
    assert total["change"] == pytest.approx((total["current"] / total["earlier"] - 1) * 100)
    # Two exchange rates: the chart says which, so its USD change and the text's KZT change
    # (down 1.1 per cent) are both explained.
    assert "472.5" in outflow.notes[0] and "476.5" in outflow.notes[0]
    # 2022: 198.5 million USD a month as the source states it (94.6 billion KZT at 476.5 gives
    # 198.53, which agrees) × 3 = 595.5; 2023: the stated 594 (593.86 computed, which agrees)
    assert data_rows(outflow, wording)[0] == ["Total", "595.5", "594.0", "−0.3%", "−1.1%"]
    texts = [t.get_text() for t in draw(outflow, wording).texts]
    assert "Change in USD" in texts and "KZT −1.1%" in texts

    # The total alone (Q2): two columns with the change between them.
    (q2,) = [s for s in specs["2023-Q2"] if s.slug == "remittances-outflow-comparison"]
    assert q2.kind == "columns" and not q2.notes  # one rate for both years
    assert q2.table["change"].iloc[-1] == pytest.approx((253.8 / 306.3 - 1) * 100)


def test_comparison_labels_the_change(specs, wording):
    (departures,) = [s for s in specs["2023-Q2"] if s.slug == "departures"]
    assert departures.kind == "columns"
    texts = [t.get_text() for t in draw(departures, wording).axes[0].texts]
    assert "−43.3%" in texts and "12,339" in texts and "6,996" in texts


def test_map_colours_regions_with_data_and_hatches_the_others(specs, wording):
    (trp,) = [s for s in specs["2023-Q3"] if s.kind == "map"]
    with_data = set(trp.table["label"])
    ax = draw(trp, wording).axes[0]
    patches = {p.get_gid(): p for p in ax.patches if p.get_gid()}
    assert set(patches) == {r.name for r in all_regions()}
    no_data = to_hex(style.NO_DATA)
    for name, patch in patches.items():
        if name in with_data:
            assert to_hex(patch.get_facecolor()) != no_data and not patch.get_hatch(), name
        else:
            assert to_hex(patch.get_facecolor()) == no_data and patch.get_hatch(), name
    # The darkest fill is the largest share.
    darkest = min(with_data, key=lambda r: sum(patches[r].get_facecolor()[:3]))
    assert darkest == "Almaty city"


# --- alt text -------------------------------------------------------------------------------


def test_alt_text_reads_as_sentences(specs, wording):
    (arrivals,) = [s for s in specs["2023-Q3"] if s.slug == "arrivals-cis"]
    assert alt_text(arrivals, wording) == (
        "Bar chart: Migrant inflow from CIS member states, July – September 2023. "
        "Uzbekistan is the largest, with 1,753,689 (43.3%), followed by Russian Federation "
        "with 1,154,493 (28.5%), Kyrgyzstan with 748,123 (18.5%), Tajikistan with 370,851 "
        "(9.2%) and Belarus with 17,304 (0.4%). Other CIS: 7,028 (0.2%)."
    )
    # A remainder larger than every category is never called the largest.
    (non_cis,) = [s for s in specs["2023-Q2"] if s.slug.startswith("non-cis-nationals")]
    text = alt_text(non_cis, wording)
    assert "China is the largest, with 18.1%" in text and text.endswith("Other: 32.9%.")


# --- in the built report --------------------------------------------------------------------


@pytest.mark.parametrize("quarter", QUARTERS)
def test_every_chart_file_exists_and_is_in_the_html(built_html, specs, quarter):
    result = built_html[quarter]
    root = html_root(result)
    sources = [img.get("src") for f in root.iter(NS + "figure") for img in f.iter(NS + "img")]
    files = sorted(p.name for p in (result.folder / "charts").iterdir())
    assert sorted(src.removeprefix("charts/") for src in sources) == files
    assert [f"{s.file_stem}.png" for s in specs[quarter]] == files


@pytest.mark.parametrize("quarter", QUARTERS)
def test_each_chart_offers_its_data_as_a_table(built_html, specs, golden, quarter):
    """Each chart's table and alt text in the HTML, as reviewed against the published report
    (tests/golden/charts-<quarter>.json, `make golden` writes it afresh)."""
    root = html_root(built_html[quarter])
    figures = {f.get("id"): f for f in root.iter(NS + "figure")}
    shown = []
    for spec in specs[quarter]:
        table = next(figures[spec.file_stem].iter(NS + "table"))
        image = next(figures[spec.file_stem].iter(NS + "img"))
        head = table.find(f"{NS}thead")
        shown.append(
            {
                "figure": spec.file_stem,
                "alt": image.get("alt"),
                "header": ["".join(th.itertext()) for th in head.iter(NS + "th")],
                "rows": [
                    # no-break spaces keep a spaced dash off the start of a line (issue 14)
                    ["".join(cell.itertext()).replace("\u00a0", " ") for cell in tr]
                    for tr in table.find(f"{NS}tbody").iter(NS + "tr")
                ],
            }
        )
    golden(f"charts-{quarter}", shown)


def test_pdf_is_tagged_with_language_and_chart_alt_texts(built):
    reader = PdfReader(built["2023-Q3"].pdf)
    root = reader.trailer["/Root"]
    assert root["/MarkInfo"]["/Marked"].value is True
    assert root["/Lang"] == "en"
    # declared PDF/UA-1 in the XMP metadata, with the document title shown by viewers
    xmp = root["/Metadata"].get_object().get_data().decode()
    assert 'pdfuaid:part="1"' in xmp and "Quarterly Compilation Report (July" in xmp
    assert root["/ViewerPreferences"]["/DisplayDocTitle"].value is True
    alts: list[str] = []

    def walk(node) -> None:
        node = node.get_object()
        if node.get("/S") == "/Figure":
            alts.append(str(node.get("/Alt")))
        kids = node.get("/K")
        kids = kids if isinstance(kids, list) else [kids]
        for kid in kids:
            if kid is not None and hasattr(kid.get_object(), "get"):
                walk(kid)

    walk(root["/StructTreeRoot"])
    reviewed = json.loads((GOLDEN / "charts-2023-Q3.json").read_text(encoding="utf-8"))
    assert alts == [chart["alt"] for chart in reviewed]


def test_period_labels_that_would_run_together_break_onto_two_lines(built):
    """Q3's half-width inflow trend: "Q2 2022" beside "Q3 2022" fits on one line, the
    Russian "2 кв. 2022" beside "3 кв. 2022" does not; its labels take a second line (the
    chart grows by it) instead of overprinting each other."""
    folder = built["2023-Q3"].folder
    name = "charts/figure-13-trend-remittances-inflow.png"
    english = Image.open(folder / name).size
    russian = Image.open(folder / "ru" / name).size
    assert english[0] == russian[0]  # both half width
    line = style.BASE_SIZE * 1.2 / 72 * DPI  # one line of period labels, in pixels
    assert russian[1] - english[1] == pytest.approx(line, abs=2)
