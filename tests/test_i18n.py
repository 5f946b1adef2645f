"""Editions in other languages: catalogues, the Russian edition read back, bad catalogues."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
import tinyhtml5
from pypdf import PdfReader

from mtmreport import i18n
from mtmreport.build import BuildOptions, build_report
from mtmreport.errors import AuditFailedError, BuildError, CatalogueError
from mtmreport.model import BreakdownItem, CountryFigure
from mtmreport.periods import Period
from mtmreport.project import Project
from mtmreport.theme import Templates
from mtmreport.wording import load_wording
from tests.conftest import DATA, ROOT, TEMPLATES, pdf_text, run_cli, seed_chart_cache

NBSP = "\u00a0"
RU_PO = i18n.catalogue_path(TEMPLATES, "ru")


def test_the_shipped_catalogue_template_is_current():
    """`mtmreport i18n extract` has been run since the last change of a message."""
    extracted = i18n.extract(ROOT / "mtmreport", TEMPLATES)
    shipped = i18n.read_catalogue(i18n.template_path(TEMPLATES))
    assert {(m.context, str(m.id)) for m in extracted if m.id} == {
        (m.context, str(m.id)) for m in shipped if m.id
    }, "run `mtmreport i18n extract` and `mtmreport i18n update`"


def test_the_russian_catalogue_is_complete_and_its_placeholders_hold():
    template = i18n.read_catalogue(i18n.template_path(TEMPLATES))
    catalog = i18n.read_catalogue(RU_PO, "ru")
    assert {m.id for m in template if m.id} == {m.id for m in catalog if m.id}
    assert i18n.catalogue_stats(catalog).complete
    assert i18n.catalogue_problems(catalog, RU_PO) == []


def test_russian_numbers_periods_and_names_come_from_cldr_and_the_reference():
    w = load_wording(Templates.over_defaults(TEMPLATES), "ru")
    assert w.number(4482427) == f"4{NBSP}482{NBSP}427"
    assert w.percent_sign(Decimal("43.25"), 1) == f"43,3{NBSP}%"
    assert w.per_cent(43.25, 1) == f"43,3{NBSP}%"
    assert w.billion_kzt(Decimal("280.6")) == f"280,6{NBSP}млрд тенге"
    assert w.period(Period.parse("2023-Q3"), "range") == f"июль – сентябрь 2023{NBSP}г."
    assert w.period(Period.parse("2023-Q3"), "in") == f"в третьем квартале 2023{NBSP}г."
    assert w.period(Period.parse("2023-09-01"), "in") == (
        f"по состоянию на 1{NBSP}сентября 2023{NBSP}г."
    )
    # UN's Russian name where the English is the UN's, CLDR's otherwise; no article.
    # The model carries ISO codes; the names come from the reference tables.
    assert w.country_in_text("RUS") == "Российская Федерация"
    assert w.place("GBR") == "Великобритания"
    assert w.place("KZ-75") == "город Алматы"
    # Anything else is a category, the analyst's own words, printed as it is (not a name
    # guessed from an alias).
    assert w.place("Russia") == "Russia"
    english = load_wording(Templates.over_defaults(TEMPLATES))
    assert english.country_in_text("RUS") == "the Russian Federation"
    assert english.place("KZ-75") == "Almaty city"
    assert english.number(4482427) == "4,482,427"
    assert english.percent_sign(Decimal("43.25"), 1) == "43.3%"


def test_russian_aliases_are_accepted_in_quarter_files():
    from mtmreport.reference import find_country, find_region

    assert find_country("Россия").short_name == "Russian Federation"
    assert find_country("Российская Федерация").short_name == "Russian Federation"
    assert find_region("Акмолинская область").name == "Akmola region"
    # A quarter file may name them so, and the model carries their codes.
    item = BreakdownItem.model_validate({"region": "Акмолинская область", "share": 3})
    assert item.region == "KZ-11"
    figure = CountryFigure.model_validate({"country": "Россия", "number": 5})
    assert figure.country == "RUS"


@pytest.fixture(scope="module")
def both(built) -> tuple[Path, Path]:
    """2023-Q3 built in every edition the project has (English and Russian): the session's
    plain build."""
    result = built["2023-Q3"]
    assert [e.language for e in result.editions] == ["en", "ru"]
    return result.folder, result.folder / "ru"


@pytest.mark.slow
def test_a_plain_build_makes_every_edition_each_in_its_place(both):
    english, _ = both
    for folder in both:
        assert (folder / "report.pdf").is_file() and (folder / "report.html").is_file()
        assert any((folder / "charts").iterdir()) and any((folder / "data").iterdir())
    assert "migrant" in (english / "report.html").read_text(encoding="utf-8")
    assert (english / "audit.txt").is_file()  # the audit is one for all editions


def test_every_edition_names_a_figure_s_files_alike_in_ascii(both):
    """File names come from the quarter file's own words, never from a translated title: the
    Russian edition's charts and data files are named as the English edition's (issue 13)."""
    english, russian = both
    for folder in ("charts", "data"):
        names = sorted(p.name for p in (english / folder).iterdir())
        assert sorted(p.name for p in (russian / folder).iterdir()) == names
        assert all(re.fullmatch(r"[A-Za-z0-9.-]+", name) for name in names), names
    # a breakdown's chart: named from its subject as the quarter file writes it
    assert (russian / "charts" / "figure-04-temporary-residence-permit-holders.png").is_file()
    html = (russian / "report.html").read_text(encoding="utf-8")
    assert 'src="charts/figure-04-temporary-residence-permit-holders.png"' in html


@pytest.mark.slow
def test_the_russian_pdf_and_html_read_back_in_russian(both):
    _, russian = both
    reader = PdfReader(russian / "report.pdf")
    assert reader.trailer["/Root"]["/Lang"] == "ru"
    text = pdf_text(russian / "report.pdf").lower()  # headings are set in capitals by CSS
    for expected in ("содержание", "рисунок 1.", "источник:", "российская федерация", "там же"):
        assert expected in text, expected
    assert "июль – сентябрь 2023" in text
    for english in ("outline", "figure 1.", "source:", "ibid.", "data pending", "publisher"):
        assert english not in text, english
    html = (russian / "report.html").read_text(encoding="utf-8")
    root = tinyhtml5.parse(html)
    assert root.get("lang") == "ru"
    assert f"4{NBSP}482{NBSP}427" in html  # CLDR's Russian grouping, not 4,482,427
    assert "4,482,427" not in html
    # Plural forms by CLDR's Russian rules: ...1 (not ...11) one; ...2-4 few; the rest many.
    assert f"(18{NBSP}321 мигрант)" in html  # ends in 21: one
    assert f"(126{NBSP}524 мигранта)" in html  # ends in 4: few
    assert f"(1{NBSP}753{NBSP}689 мигрантов)" in html  # ends in 9: many
    assert f"3{NBSP}562 ребёнка" in html and "635 детей" in html


@pytest.mark.slow
def test_building_one_edition_keeps_the_others(tmp_path, built_html):
    paths = Project(DATA, TEMPLATES, seeded(tmp_path, built_html))
    build_report("2023-Q3", paths, BuildOptions(pdf=False))
    english = (tmp_path / "2023-Q3" / "report.html").read_bytes()
    result = build_report("2023-Q3", paths, BuildOptions(pdf=False, languages=("ru",)))
    assert [e.language for e in result.editions] == ["ru"]
    assert (tmp_path / "2023-Q3" / "report.html").read_bytes() == english
    assert (tmp_path / "2023-Q3" / "ru" / "report.html").is_file()
    build_report("2023-Q3", paths, BuildOptions(pdf=False, languages=("en",)))
    assert (tmp_path / "2023-Q3" / "ru" / "report.html").is_file()


def seeded(output: Path, built_html) -> Path:
    """An output folder with the chart cache of the session's builds: where the charts are
    not the point, they are taken from it rather than drawn again."""
    return seed_chart_cache(output, built_html["2023-Q3"].folder.parent)


def _templates_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "templates"
    shutil.copytree(TEMPLATES, folder)
    return folder


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mtmreport", *args], capture_output=True, text=True, timeout=120
    )


@pytest.mark.slow
def test_a_language_without_a_catalogue_is_refused_in_plain_words(tmp_path):
    # In this process: refused before any helper process would start.
    run = run_cli("build", "2023-Q3", "--lang", "kk", "--output", str(tmp_path), "--no-pdf")
    assert run.exit_code == 2
    assert "no catalogue for language 'kk'" in run.stderr
    assert "Traceback" not in run.stderr
    assert not (tmp_path / "2023-Q3").exists()


@pytest.mark.slow
def test_a_malformed_catalogue_is_a_located_error(tmp_path):
    templates = _templates_copy(tmp_path)
    po = i18n.catalogue_path(templates, "ru")
    text = po.read_text(encoding="utf-8")
    po.write_text(text.replace('msgstr "Содержание"', 'mgsstr "Содержание"'), encoding="utf-8")
    line = text.splitlines().index('msgstr "Содержание"') + 1
    run = run_cli("build", "2023-Q3", "--templates", str(templates), "--output", str(tmp_path))
    assert run.exit_code == 2, run.stderr
    assert f"{po}:{line}: malformed PO file" in run.stderr
    assert not (tmp_path / "2023-Q3").exists()  # refused before anything was written
    assert "Traceback" not in run.stderr


def test_a_translation_that_drops_a_placeholder_is_a_located_error(tmp_path):
    templates = _templates_copy(tmp_path)
    po = i18n.catalogue_path(templates, "ru")
    text = po.read_text(encoding="utf-8")
    broken = 'msgstr "Рисунок %(number)s"'
    old = 'msgstr "1 доллар США = %(value)s тенге"'
    po.write_text(text.replace(old, 'msgstr "1 доллар США = %(quartal)s тенге"'))
    line = text.splitlines().index(old) - 0
    with pytest.raises(CatalogueError) as raised:
        load_wording(Templates.over_defaults(templates), "ru")
    assert f"{po}:{line}:" in str(raised.value)
    assert "quartal" in str(raised.value)
    assert broken not in str(raised.value)
    run = _cli("i18n", "compile", "--templates", str(templates))
    assert run.returncode == 2 and f"{po}:{line}:" in run.stderr


def test_update_keeps_translations_and_marks_changed_sources_fuzzy(tmp_path):
    templates = _templates_copy(tmp_path)
    template = i18n.read_catalogue(i18n.template_path(templates))
    old = template.get("Data of this chart")
    template.delete("Data of this chart")
    template.add("Data of this figure", locations=old.locations)
    i18n.update(templates, template, "ru")
    updated = i18n.read_catalogue(i18n.catalogue_path(templates, "ru"), "ru")
    changed = updated.get("Data of this figure")
    assert changed.fuzzy and changed.string == "Данные этой диаграммы"  # kept, to review
    # A fuzzy entry is not used: the edition shows the English until it is reviewed.
    assert (
        load_wording(Templates.over_defaults(templates), "ru").gettext("Data of this figure")
        == "Data of this figure"
    )
    assert updated.get("Figure").string == "Рисунок" and not updated.get("Figure").fuzzy


@pytest.mark.slow
def test_i18n_commands_extract_update_compile(tmp_path):
    templates = _templates_copy(tmp_path)
    run = _cli("i18n", "extract", "--templates", str(templates))
    assert run.returncode == 0, run.stderr
    assert (templates / "locales" / "messages.pot").read_bytes() == (
        TEMPLATES / "locales" / "messages.pot"
    ).read_bytes()  # the same messages give the same bytes
    run = _cli("i18n", "update", "--templates", str(templates))
    assert run.returncode == 0 and "ru:" in run.stdout, run.stderr
    assert i18n.catalogue_path(templates, "ru").read_bytes() == RU_PO.read_bytes()
    run = _cli("i18n", "compile", "--templates", str(templates))
    assert run.returncode == 0, run.stderr
    assert i18n.catalogue_path(templates, "ru").with_suffix(".mo").is_file()
    run = _cli("i18n", "init", "kk", "--templates", str(templates))
    assert run.returncode == 0, run.stderr
    assert i18n.catalogue_languages(templates) == ["kk", "ru"]


# --- the analyst's own texts ------------------------------------------------------------------


def _data_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(DATA, folder)
    return folder


@pytest.mark.parametrize("quarter", ["2023-Q2", "2023-Q3"])
@pytest.mark.slow
def test_the_shipped_russian_texts_are_complete_and_current(quarter, tmp_path, built_html):
    from mtmreport.load import read_yaml
    from mtmreport.texts import load_texts

    texts = load_texts(read_yaml(DATA / f"{quarter}.yaml"), "ru")
    assert texts.pending == () and texts.warnings == ()
    assert texts.translations["Remittances"] == "Денежные переводы"
    options = BuildOptions(pdf=False, languages=("ru",))
    output = seed_chart_cache(tmp_path, built_html[quarter].folder.parent)  # not the point
    result = build_report(quarter, Project(DATA, TEMPLATES, output), options)
    assert result.warnings == ()
    root = tinyhtml5.parse(result.editions[0].html.read_text(encoding="utf-8"))
    body = " ".join(root.find("{http://www.w3.org/1999/xhtml}body").itertext())
    assert "[перевод ожидается]" not in body
    # No English sentence left: the words every English paragraph has (web addresses aside).
    words = re.sub(r"https?://\S+", " ", body)
    english = re.findall(r"\b(?:the|and|of|were|was|from|per cent|migrants)\b", words)
    assert english == []


@pytest.mark.slow
def test_translate_keeps_translations_marks_changed_texts_and_sets_stale_ones_aside(
    tmp_path, monkeypatch, built_html
):
    from mtmreport.load import read_yaml
    from mtmreport.texts import load_texts

    data = _data_copy(tmp_path)
    quarter = data / "2023-Q3.yaml"
    text = quarter.read_text(encoding="utf-8")
    quarter.write_text(
        text.replace("title: Outlook", "title: The outlook").replace(
            "title: Conclusion", "title: Summing up"
        ),
        encoding="utf-8",
    )
    po = data / "2023-Q3.ru.po"
    run = _cli("translate", "2023-Q3", "--lang", "ru", "--data", str(data))
    assert run.returncode == 0, run.stderr
    assert "48 translated" in run.stdout and "1 fuzzy" in run.stdout, run.stdout
    catalog = i18n.read_catalogue(po, "ru")
    changed = catalog.get("The outlook")
    assert changed.fuzzy and changed.string == "Прогноз"  # kept, to review
    assert catalog.get("Summing up").string == ""  # new: nothing close enough to offer
    assert '#~ msgid "Conclusion"' in po.read_text(encoding="utf-8")  # set aside
    texts = load_texts(read_yaml(quarter), "ru")
    assert {s.text for s in texts.pending} == {"The outlook", "Summing up"}
    # A build shows both in English behind the mark; --strict refuses the edition.
    out = seeded(tmp_path / "out", built_html)
    run = _cli(
        "build", "2023-Q3", "--lang", "ru", "--no-pdf", "--data", str(data), "--output", str(out)
    )
    assert run.returncode == 0, run.stderr
    assert "2 text(s) not translated yet" in run.stderr
    html = (out / "2023-Q3" / "ru" / "report.html").read_text(encoding="utf-8")
    assert "[перевод ожидается] The outlook" in html
    assert "[перевод ожидается] Summing up" in html
    assert "Денежные переводы" in html
    run = _cli("list", "--data", str(data))
    assert "translation pending: ru (2 texts)" in run.stdout
    # --strict refuses the edition (after the audit, which refuses 2023-Q3 first: its
    # findings are silenced here to reach the translations).
    from mtmreport import audit

    monkeypatch.setattr(audit, "audit", lambda figures, doc: [])
    monkeypatch.setattr(audit, "cross_quarter", lambda figures, doc, history: [])
    strict = BuildOptions(strict=True, pdf=False, languages=("ru",))
    strict_output = seeded(tmp_path / "strict", built_html)
    with pytest.raises(AuditFailedError, match="2 text\\(s\\) of 2023-Q3 are not translated yet"):
        build_report("2023-Q3", Project(data, TEMPLATES, strict_output), strict)
    assert not (strict_output / "2023-Q3").exists()
    english = BuildOptions(strict=True, pdf=False, languages=("en",))
    assert build_report("2023-Q3", Project(data, TEMPLATES, strict_output), english)


def test_a_translation_of_a_text_that_is_gone_is_a_located_warning(tmp_path):
    from mtmreport.load import read_yaml
    from mtmreport.texts import load_texts

    data = _data_copy(tmp_path)
    po = data / "2023-Q3.ru.po"
    po.write_text(
        po.read_text(encoding="utf-8") + '\nmsgid "A text nobody wrote"\nmsgstr "Текст"\n',
        encoding="utf-8",
    )
    line = po.read_text(encoding="utf-8").splitlines().index('msgid "A text nobody wrote"') + 1
    texts = load_texts(read_yaml(data / "2023-Q3.yaml"), "ru")
    assert any(
        f"2023-Q3.ru.po:{line}: a translation of a text that is no longer" in w
        for w in texts.warnings
    ), texts.warnings


@pytest.mark.slow
def test_a_translation_that_loses_a_link_is_a_located_error(tmp_path):
    data = _data_copy(tmp_path)
    quarter = data / "2023-Q3.yaml"
    quarter.write_text(
        quarter.read_text(encoding="utf-8").replace(
            "title: Outlook", "title: Outlook, see [IMF](https://www.imf.org/)"
        ),
        encoding="utf-8",
    )
    po = data / "2023-Q3.ru.po"
    po.write_text(
        po.read_text(encoding="utf-8")
        + '\nmsgid "Outlook, see [IMF](https://www.imf.org/)"\nmsgstr "Прогноз, см. МВФ"\n',
        encoding="utf-8",
    )
    line = (
        po.read_text(encoding="utf-8")
        .splitlines()
        .index('msgid "Outlook, see [IMF](https://www.imf.org/)"')
        + 1
    )
    run = run_cli(
        "build",
        "2023-Q3",
        "--lang",
        "ru",
        "--no-pdf",
        "--data",
        str(data),
        "--output",
        str(tmp_path / "out"),
    )
    assert run.exit_code == 2, run.stderr
    assert f"2023-Q3.ru.po:{line}: the translation leaves out or changes the link" in run.stderr
    assert "Traceback" not in run.stderr


# --- the pseudo-locale: nothing visible escapes the catalogue ---------------------------------

# What may stand outside the markers: numbers, punctuation, and these, which are no words of a
# language (addresses, file names, the program's name where a sentence quotes it).
NOT_WORDS = re.compile(
    r"\S+@\S+|https?://\S+|\b[\w.-]+\.(?:int|org|csv|xlsx)\b|\bdata/\S*|\bmtmreport\b"
)
LETTERS = re.compile(r"[^\W\d_]{2,}")


def words_outside_the_catalogue(text: str) -> list[str]:
    """Words of `text` that no ‹…› span holds."""
    return LETTERS.findall(NOT_WORDS.sub(" ", i18n.unwrapped(text)))


@pytest.fixture(scope="module")
def pseudo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pseudo")
    build_report("2023-Q3", Project(DATA, TEMPLATES, out), BuildOptions(languages=("qps",)))
    return out / "2023-Q3" / "qps"


def _visible_texts(root) -> list[str]:
    """Every text a reader or a screen reader meets in a parsed report."""
    texts = []
    for element in root.iter():
        tag = str(element.tag).rsplit("}", 1)[-1]
        if tag in {"style", "script"}:
            continue
        texts += [t for t in (element.text, element.tail) if t and t.strip()]
        texts += [element.get(a) for a in ("alt", "aria-label", "title") if element.get(a)]
        if tag == "meta" and element.get("name") in {"author", "description", "keywords"}:
            texts.append(element.get("content"))
    return texts


@pytest.mark.slow
def test_pseudo_locale_html_has_no_word_outside_the_catalogue(pseudo):
    root = tinyhtml5.parse((pseudo / "report.html").read_text(encoding="utf-8"))
    texts = _visible_texts(root)
    assert len(texts) > 300
    assert words_outside_the_catalogue(" | ".join(texts)) == []
    assert root.get("lang") == "en-XA"


def test_pseudo_locale_draft_has_no_word_outside_the_catalogue(tmp_path):
    # A draft has words of its own: the DRAFT stamp, "Data pending" panels.
    options = BuildOptions(pdf=False, languages=("qps",))
    build_report("2023-Q4", Project(DATA, TEMPLATES, tmp_path), options)
    html = (tmp_path / "2023-Q4" / "qps" / "report.html").read_text(encoding="utf-8")
    texts = _visible_texts(tinyhtml5.parse(html))
    assert words_outside_the_catalogue(" | ".join(texts)) == []
    assert "draft-stamp" in html


@pytest.mark.slow
def test_pseudo_locale_pdf_has_no_word_outside_the_catalogue(pseudo):
    text = pdf_text(pseudo / "report.pdf")
    assert text.count(i18n.OPEN) > 300
    assert words_outside_the_catalogue(text) == []


def test_pseudo_locale_charts_and_alt_texts_have_no_word_outside_the_catalogue():
    """Every string drawn in every chart (labels, legends, values, map names), every alt text
    and every data-table header, as the edition makes them."""
    import matplotlib.text

    from mtmreport.charts.draw import draw
    from mtmreport.charts.plan import alt_text, plan_charts
    from mtmreport.charts.style import use_fonts
    from mtmreport.charts.trends import trend_specs
    from mtmreport.texts import load_texts, translated_figures

    paths = Project(DATA, TEMPLATES, Path("unused"))
    linked = paths.linked("2023-Q3")
    templates = Templates.over_defaults(TEMPLATES)
    use_fonts(templates.font_files)  # charts are drawn in the fonts of the templates in use
    wording = load_wording(templates, "qps")
    figures = translated_figures(
        linked.loaded.figures, load_texts(linked.loaded.doc, "qps"), "pending"
    )
    trends = trend_specs(linked.history, linked.loaded.figures, wording)
    specs = [s for block in plan_charts(figures, wording, extra=trends).values() for s in block]
    kinds = {s.kind for s in specs}
    assert {"hbar", "map", "balance", "trend", "paired"} <= kinds, kinds
    for spec in specs:
        figure = draw(spec, wording)
        drawn = [t.get_text() for t in figure.findobj(matplotlib.text.Text) if t.get_text()]
        assert drawn, spec.slug
        strings = [*drawn, alt_text(spec, wording), *(c.header for c in spec.columns)]
        assert words_outside_the_catalogue(" | ".join(strings)) == [], spec.slug


@pytest.mark.slow
def test_pseudo_locale_annex_headers_and_sheets_have_no_word_outside_the_catalogue(pseudo):
    from openpyxl import load_workbook

    headers = [
        path.read_text(encoding="utf-8").splitlines()[0]
        for path in sorted((pseudo / "data").glob("*.csv"))
    ]
    workbook = load_workbook(pseudo / "data" / "2023-Q3-data.xlsx")
    about = workbook.worksheets[0]
    cells = [str(c.value) for row in about.iter_rows() for c in row if c.value is not None]
    assert len(headers) > 10 and len(workbook.sheetnames) > 10
    for text in (headers, workbook.sheetnames, cells):
        assert words_outside_the_catalogue(" | ".join(text)) == []


@pytest.mark.slow
def test_figures_are_computed_and_audited_once_for_every_edition(tmp_path, monkeypatch, built_html):
    from mtmreport import audit, compute

    calls = {"compute": 0, "audit": 0}

    def counted(name, function):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return function(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(compute, "compute", counted("compute", compute.compute))
    monkeypatch.setattr(audit, "audit", counted("audit", audit.audit))
    paths = Project(DATA, TEMPLATES, seeded(tmp_path, built_html))
    one = build_report("2023-Q3", paths, BuildOptions(pdf=False, languages=("en",)))
    once = dict(calls)
    # a new command (a new project object): it reads and computes the quarters afresh
    both = build_report("2023-Q3", Project(DATA, TEMPLATES, tmp_path), BuildOptions(pdf=False))
    assert [e.language for e in both.editions] == ["en", "ru"]
    # The second build computed exactly what the first did (this quarter and the earlier
    # ones it links to) although it made two editions.
    assert {k: v - once[k] for k, v in calls.items()} == once
    assert once["audit"] == 1 and one.findings == both.findings


@pytest.mark.slow
def test_a_failing_edition_fails_the_build_and_keeps_the_last_good_output(
    tmp_path, monkeypatch, built_html
):
    from mtmreport import build

    paths = Project(DATA, TEMPLATES, seeded(tmp_path, built_html))
    build_report("2023-Q3", paths, BuildOptions(pdf=False))
    before = (tmp_path / "2023-Q3" / "ru" / "report.html").read_bytes()
    real = build._write_edition

    def failing(linked, paths, options, folder, wording, *rest, **keywords):
        if wording.language == "ru":
            raise OSError("disk full")
        return real(linked, paths, options, folder, wording, *rest, **keywords)

    monkeypatch.setattr(build, "_write_edition", failing)
    with pytest.raises(BuildError, match="disk full"):
        build_report("2023-Q3", paths, BuildOptions(pdf=False))
    assert (tmp_path / "2023-Q3" / "ru" / "report.html").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".cache", "2023-Q3"]
