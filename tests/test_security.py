"""Safe by construction: no network, no outside files, no markup or code from a quarter file.

(a) a build whose quarter file and templates try to reach a loopback canary server and embed
/etc/passwd succeeds without a single request and without the file; a control shows that
WeasyPrint's default fetcher would have done both. (b) the confined fetcher's rule, case by
case. (c) Jinja escapes every value from the quarter file. (d) YAML tags construct nothing.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import tinyhtml5
from pypdf import PdfReader
from weasyprint import HTML

from mtmreport.build import BuildOptions, build_report
from mtmreport.errors import QuarterFileError
from mtmreport.load import parse_yaml
from mtmreport.pdf import VIRTUAL_ROOT, ConfinedFetcher
from mtmreport.project import Project
from mtmreport.render import make_environment
from tests.conftest import (
    DATA,
    REPO_TEMPLATES,
    TEMPLATES,
    hostile_references,
    pdf_text,
    seed_chart_cache,
)

Q3 = (DATA / "2023-Q3.yaml").read_text(encoding="utf-8")
PASSWD = Path("/etc/passwd")
NOTE = "            The information on nationality provided"


def hostile_templates(folder: Path, canary_url: str) -> Path:
    """A copy of the shipped templates that reaches out in every way HTML and CSS allow."""
    templates = folder / "templates"
    shutil.copytree(TEMPLATES, templates)
    page = templates / "report.html.j2"
    html = page.read_text(encoding="utf-8")
    reach = (
        f'<img src="{canary_url}/canary.png" alt="">\n'
        '<link rel="attachment" href="file:///etc/passwd">\n'
        f'<link rel="stylesheet" href="{canary_url}/sheet.css">\n'
        f'<object data="{canary_url}/object.svg"></object>\n'
        f'<img src="{VIRTUAL_ROOT}../../etc/passwd" alt="">\n'
        '<img src="../../../../../../../etc/passwd" alt="">\n'
    )
    page.write_text(html.replace("</body>", reach + "</body>"), encoding="utf-8")
    css = templates / "report.css"
    css.write_text(
        f'@import url("{canary_url}/import.css");\n'
        + css.read_text(encoding="utf-8")
        + f'\nbody {{ background: url("{canary_url}/background.png"); }}\n'
        f'@font-face {{ font-family: "Leak"; src: url("{canary_url}/font.woff"); }}\n'
        'h1 { font-family: "Leak", "Carlito"; }\n',
        encoding="utf-8",
    )
    return templates


def hostile_quarter(folder: Path, canary_url: str) -> Path:
    data = folder / "data"
    data.mkdir()
    text = Q3.replace(
        NOTE,
        f"            ![x]({canary_url}/markdown.png) <img src='{canary_url}/raw.png'>"
        " [passwd](file:///etc/passwd)" + NOTE[11:],
        1,
    )
    (data / "2023-Q3.yaml").write_text(text, encoding="utf-8")
    # The Russian texts too: that edition shows the edited note, untranslated, among them.
    shutil.copy(DATA / "2023-Q3.ru.po", data)
    return data


def embedded_files(pdf: Path) -> list[str]:
    """Names of files embedded in the PDF: the document's and the pages' attachments."""
    reader = PdfReader(pdf)
    names = list(reader.attachments)
    for page in reader.pages:
        for annotation in page.get("/Annots") or []:
            if annotation.get_object().get("/Subtype") == "/FileAttachment":
                names.append(str(annotation.get_object().get("/FS")))
    return names


@pytest.mark.slow
def test_a_hostile_build_reaches_nothing_and_embeds_nothing(canary, built_html, tmp_path):
    """Every edition, PDFs and all (charts from the session's cache: they reach nothing)."""
    output = seed_chart_cache(tmp_path / "output", built_html["2023-Q3"].folder.parent)
    paths = Project(
        data_dir=hostile_quarter(tmp_path, canary.url),
        templates_dir=hostile_templates(tmp_path, canary.url),
        output_dir=output,
    )
    result = build_report("2023-Q3", paths)
    assert [edition.language for edition in result.editions] == ["en", "ru"]
    assert result.charts_cached > 0
    assert canary.requests == []
    for edition in result.editions:
        assert f"{canary.url}/markdown.png" in edition.html.read_text(encoding="utf-8")
        assert edition.pdf is not None and edition.pdf.stat().st_size > 10_000
        assert embedded_files(edition.pdf) == []
        text = pdf_text(edition.pdf)
        assert "root:x:0:0" not in text and "/bin/" not in text
    assert "Mobility Tracking Matrix" in pdf_text(result.pdf)  # the report itself is all there


def test_control_the_default_fetcher_would_have_leaked(canary, tmp_path):
    """Without the confined fetcher the same HTML calls the canary and embeds the file, so
    the test above would notice a regression."""
    html = (
        f'<p>x</p><img src="{canary.url}/canary.png">'
        '<link rel="attachment" href="file:///etc/passwd">'
    )
    pdf = tmp_path / "leak.pdf"
    HTML(string=html, base_url=str(tmp_path)).write_pdf(pdf)
    assert canary.requests == ["GET /canary.png"]
    assert embedded_files(pdf) == ["passwd"]


# --- (b) the fetcher's rule -------------------------------------------------------------------


@pytest.fixture
def roots(tmp_path: Path) -> tuple[Path, Path]:
    """An allowed folder with a file, and an outside folder with a secret."""
    inside = tmp_path / "out"
    (inside / "charts").mkdir(parents=True)
    (inside / "charts" / "figure.png").write_bytes(b"png")
    outside = tmp_path / "out-secrets"  # shares the prefix "out"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    return inside, outside


@pytest.mark.parametrize(
    "url",
    [
        "data:image/png;base64,iVBORw0KGgo=",
        "data:text/css,p%7Bcolor:red%7D",
        "{inside}/charts/figure.png",
        "{inside}/charts/../charts/figure.png",
        "{inside}/charts/link-inside.png",
        "file://localhost{inside_path}/charts/figure.png",
    ],
)
def test_fetcher_allows_data_and_files_inside(url, roots):
    inside, _ = roots
    (inside / "charts" / "link-inside.png").symlink_to(inside / "charts" / "figure.png")
    fetcher = ConfinedFetcher([inside])
    assert fetcher.allows(url.format(inside=inside.as_uri(), inside_path=inside))


@pytest.mark.parametrize(
    "url",
    [
        "{inside}/../out-secrets/secret.txt",
        "{inside}/charts/%2e%2e/%2e%2e/out-secrets/secret.txt",
        "{outside}/secret.txt",
        "{inside}/charts/link-out.txt",
        "{inside}/linked-folder/secret.txt",
        "file:///etc/passwd",
        "file://evil.example/etc/passwd",
        "http://127.0.0.1:9/x.png",
        "https://example.org/x.png",
        "ftp://example.org/x",
        "javascript:alert(1)",
        "mtmreport-relative/no-scheme.png",
    ],
)
def test_fetcher_refuses_everything_else(url, roots):
    inside, outside = roots
    (inside / "charts" / "link-out.txt").symlink_to(outside / "secret.txt")
    (inside / "linked-folder").symlink_to(outside, target_is_directory=True)
    fetcher = ConfinedFetcher([inside])
    url = url.format(inside=inside.as_uri(), outside=outside.as_uri())
    assert not fetcher.allows(url)
    with pytest.raises(ValueError, match="does not fetch"):
        fetcher.fetch(url)
    assert fetcher.refused == [url]


def test_virtual_root_maps_inside_and_no_further(roots):
    inside, _ = roots
    fetcher = ConfinedFetcher([inside], virtual_root=inside)
    response = fetcher.fetch(VIRTUAL_ROOT + "charts/figure.png")
    try:
        assert response.read() == b"png"
    finally:
        response.close()
    for escape in ("../out-secrets/secret.txt", "charts/../../out-secrets/secret.txt"):
        with pytest.raises(ValueError):
            fetcher.fetch(VIRTUAL_ROOT + escape)


# --- (c) escaping ----------------------------------------------------------------------------


@pytest.mark.slow
def test_quarter_text_is_escaped_in_the_html(built_html, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    output = seed_chart_cache(tmp_path / "out", built_html["2023-Q3"].folder.parent)
    paths = Project(data_dir=data, templates_dir=TEMPLATES, output_dir=output)
    # The country is a code of the reference table: no text of the file gets through.
    text = Q3.replace("  country: Kazakhstan\n", '  country: Kazakhstan" onmouseover="alert(2)\n')
    (data / "2023-Q3.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(QuarterFileError, match="unknown country"):
        build_report("2023-Q3", paths, BuildOptions(pdf=False))
    # The title goes into the h1 and into an attribute (the running header's text).
    text = Q3.replace(
        "  title: Quarterly Compilation Report",
        '  title: <script>alert(1)</script> Quarterly" onmouseover="alert(2) Report',
        1,
    )
    (data / "2023-Q3.yaml").write_text(text, encoding="utf-8")
    html = build_report("2023-Q3", paths, BuildOptions(pdf=False)).html.read_text("utf-8")
    document = tinyhtml5.parse(html)
    assert hostile_references(html) == []
    assert not any(name.startswith("on") for element in document.iter() for name in element.attrib)
    title = next(e for e in document.iter() if str(e.tag).endswith("}h1"))
    assert '<script>alert(1)</script> Quarterly" onmouseover="alert(2) Report' in "".join(
        title.itertext()
    )
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_every_template_autoescapes(wording):
    env = make_environment(REPO_TEMPLATES, wording)
    for name in env.list_templates():
        if name.endswith(".j2"):
            assert env.autoescape(name), name
    assert env.from_string("{{ x }}").render(x="<b>") == "&lt;b&gt;"


# --- (d) YAML constructs nothing ---------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "!!python/object/apply:os.system ['touch {marker}']",
        "!!python/object/apply:subprocess.check_output [['touch', '{marker}']]",
        "!!python/object/new:os.system ['touch {marker}']",
        "!!python/name:os.system",
        "!!python/module:os",
    ],
)
def test_python_tags_give_a_located_error_and_run_nothing(value, tmp_path):
    marker = tmp_path / "executed"
    text = Q3.replace(
        "  title: Quarterly Compilation Report",
        "  title: " + value.format(marker=marker),
        1,
    )
    with pytest.raises(QuarterFileError) as caught:
        parse_yaml(text, Path("data/quarters/2023-Q3.yaml"))
    [problem] = caught.value.problems
    line = Q3[: Q3.index("  title: Quarterly Compilation Report")].count("\n") + 1
    assert (problem.line, problem.code, problem.field) == (line, "tag", "report.title")
    assert "are not allowed" in problem.message
    assert not marker.exists()
    assert PASSWD.exists()  # the machine is as it was
