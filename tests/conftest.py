"""The fixtures module: the repository's folders, the shipped quarters (built once a session),
a CLI runner, HTML and PDF reading, the wording, golden files, and the test tiers.

`make test-quick` runs every test not marked `slow` or `browser` (markers in pyproject.toml):
unit, compute, audit, render and CLI-error tests, with the shipped quarters built as HTML
only (`built_html`). `make test` runs all of them. A test that uses `built` (the PDFs) is
marked slow, and one that uses a `browser` fixture marked browser, without saying so.
"""

from __future__ import annotations

import gc
import json
import os
import re
import shutil
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pytest
import tinyhtml5
from click.testing import CliRunner, Result
from pypdf import PdfReader

from mtmreport.build import BuildOptions, BuildResult, build_report
from mtmreport.cli import GC_YOUNG_ALLOCATIONS, main
from mtmreport.project import Project
from mtmreport.theme import Templates
from tests.canary import Canary

if TYPE_CHECKING:
    from mtmreport.compute import QuarterFigures
    from mtmreport.wording import Wording

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "quarters"
TEMPLATES = ROOT / "templates"
GOLDEN = Path(__file__).resolve().parent / "golden"
# The templates a build of this repository uses: its own folder, which is also the packaged one.
REPO_TEMPLATES = Templates.over_defaults(TEMPLATES)
SHIPPED = ("2023-Q2", "2023-Q3", "2023-Q4")
T = TypeVar("T")
NS = "{http://www.w3.org/1999/xhtml}"  # the namespace tinyhtml5 puts HTML elements in
CHART_CACHE = Path(".cache") / "charts"  # a build's chart cache, inside its output folder


# --- the tiers -------------------------------------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    # This process builds reports as the `mtmreport` program does, so it collects garbage as
    # the program does (`cli.run`), not as Python's defaults would over the session's heap.
    gc.set_threshold(GC_YOUNG_ALLOCATIONS, *gc.get_threshold()[1:])


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--regen-golden",
        action="store_true",
        help="Write tests/golden/ afresh from what the code makes now; review the diff.",
    )


def pytest_itemcollected(item: pytest.Item) -> None:
    # Marked by what they use, however they get it: the session's PDF builds are slow, a
    # browser fixture drives Chromium.
    fixtures = getattr(item, "fixturenames", ())
    if "built" in fixtures:
        item.add_marker(pytest.mark.slow)
    if "browser" in fixtures:
        item.add_marker(pytest.mark.browser)


_PDF_SESSION = pytest.StashKey[bool]()


@pytest.hookimpl(trylast=True)  # after `-m` and `-k` deselected what they deselect
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # A session that builds the shipped quarters with their PDFs anyway serves the HTML-only
    # tests from those builds, instead of building the quarters a second time.
    if config.getoption("--regen-golden"):  # `make golden`: only the tests with golden files
        keep = [item for item in items if "golden" in item.fixturenames]
        config.hook.pytest_deselected(items=[item for item in items if item not in keep])
        items[:] = keep
    config.stash[_PDF_SESSION] = any("built" in item.fixturenames for item in items)


# --- running the command ---------------------------------------------------------------------


def run_cli(*args: str | Path, catch_exceptions: bool = False) -> Result:
    """`mtmreport ARGS` in this process, through click's runner."""
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=catch_exceptions)


# --- reading what a build wrote --------------------------------------------------------------


def pdf_text(path: Path) -> str:
    """All text of a PDF with hyphenation and line breaks undone, spaces collapsed."""
    reader = PdfReader(path)
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    text = re.sub(r"[\u2010\u00ad-]\n", "", text)
    return re.sub(r"\s+", " ", text)


def html_root(source: Path | BuildResult) -> Any:
    """A report's HTML (a path, or a build's `report.html`) parsed as a browser would."""
    path = source.html if isinstance(source, BuildResult) else source
    return tinyhtml5.parse(path.read_text(encoding="utf-8"))


def text_of(element: Any) -> str:
    """An element's text as read: whitespace collapsed."""
    return " ".join("".join(element.itertext()).split())


def by_class(root: Any, tag: str, cls: str) -> list[Any]:
    """The `tag` elements under `root` that carry the class `cls`."""
    return [e for e in root.iter(NS + tag) if cls in (e.get("class") or "").split()]


def hostile_references(html: str) -> list[str]:
    """Anything in the HTML that runs code or reaches outside the report's folder."""
    found = []
    for element in tinyhtml5.parse(html).iter():
        tag = str(element.tag).rsplit("}", 1)[-1]
        if tag in {"script", "iframe", "object", "embed", "style", "base"}:
            found.append(tag)
        src = element.get("src")
        if src is not None and not src.startswith(("charts/", "logo.")):
            found.append(f"{tag} src={src}")
        href = element.get("href") or ""
        if tag == "link" and href != "report.css":
            found.append(f"link href={href}")
        if href.lower().startswith(("file:", "javascript:", "data:")):
            found.append(f"{tag} href={href}")
    return found


def seed_chart_cache(output_dir: Path, built_into: Path) -> Path:
    """Give a new output folder the chart cache of an output folder built into before, so a
    build there draws only the charts whose data differ (the cache is keyed by what a chart
    shows, see `chartcache`). Entries are hard links: a build replaces or unlinks names, never
    writes into an entry, so the first folder's cache stays as it was."""
    shutil.copytree(built_into / CHART_CACHE, output_dir / CHART_CACHE, copy_function=os.link)
    return output_dir


# --- golden files ----------------------------------------------------------------------------


def _golden_json(value: Any, indent: str = "") -> str:
    """JSON for reading by eye: a list of plain values (a table row) on one line."""
    inner = indent + " "
    if isinstance(value, dict) and value:
        items = [f"{inner}{json.dumps(k)}: {_golden_json(v, inner)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{indent}}}"
    if isinstance(value, list) and any(isinstance(v, list | dict) for v in value):
        items = [inner + _golden_json(v, inner) for v in value]
        return "[\n" + ",\n".join(items) + f"\n{indent}]"
    return json.dumps(value, ensure_ascii=False)


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Callable[[str, Any], None]:
    """Compare a JSON-able value with the reviewed `tests/golden/<name>.json`; with
    `--regen-golden`, write the file instead (then review the diff before committing)."""
    regen = request.config.getoption("--regen-golden")

    def check(name: str, value: Any) -> None:
        path = GOLDEN / f"{name}.json"
        text = _golden_json(value) + "\n"
        if regen:
            path.parent.mkdir(exist_ok=True)
            path.write_text(text, encoding="utf-8")
        assert path.is_file(), f"no {path.name}: run `make golden` and review it"
        assert json.loads(path.read_text(encoding="utf-8")) == value, (
            f"differs from {path.name}; if the change is right, `make golden` and review the diff"
        )

    return check


# --- the shipped quarters --------------------------------------------------------------------


class PerQuarter(Mapping[str, T]):
    """Something of each shipped quarter (its build), made on first use and kept for the
    session, so a test run makes only what its tests use."""

    def __init__(self, make: Callable[[str], T]):
        self._make = make
        self._made: dict[str, T] = {}

    def __getitem__(self, quarter: str) -> T:
        if quarter not in SHIPPED:
            raise KeyError(quarter)
        if quarter not in self._made:
            self._made[quarter] = self._make(quarter)
        return self._made[quarter]

    def __iter__(self) -> Iterator[str]:
        return iter(SHIPPED)

    def __len__(self) -> int:
        return len(SHIPPED)


@pytest.fixture(scope="session")
def repo_paths(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """This repository's project (its data and templates), with output into a temporary folder."""
    return Project(
        data_dir=DATA, templates_dir=TEMPLATES, output_dir=tmp_path_factory.mktemp("out")
    )


@pytest.fixture(scope="session")
def built(repo_paths: Project) -> PerQuarter[BuildResult]:
    """The shipped quarters built as a user builds them (HTML and PDF, every edition, the
    helper process), once a session."""
    return PerQuarter(lambda quarter: build_report(quarter, repo_paths))


@pytest.fixture(scope="session")
def built_html(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> PerQuarter[BuildResult]:
    """The shipped quarters' HTML (every edition, charts and data annex, no PDF): `built`'s
    when the session builds PDFs anyway, else built here without."""
    if request.config.stash.get(_PDF_SESSION, True):
        return request.getfixturevalue("built")
    project = Project(DATA, TEMPLATES, tmp_path_factory.mktemp("html"))
    return PerQuarter(lambda quarter: build_report(quarter, project, BuildOptions(pdf=False)))


@pytest.fixture(scope="session")
def q3() -> QuarterFigures:
    """2023-Q3's figures: loaded, validated and computed, nothing written."""
    from mtmreport.compute import compute
    from mtmreport.load import read_yaml
    from mtmreport.validate import validate_document

    return compute(validate_document(read_yaml(DATA / "2023-Q3.yaml")))


@pytest.fixture(scope="session")
def wording() -> Wording:
    """The English wording of the repository's templates, their fonts registered for charts."""
    from mtmreport.charts.style import use_fonts
    from mtmreport.wording import load_wording

    use_fonts(REPO_TEMPLATES.font_files)  # charts are drawn in the fonts of the templates in use
    return load_wording(REPO_TEMPLATES)


@pytest.fixture
def scratch(tmp_path: Path) -> Project:
    """A private copy of the data folder that a test may edit, with its own output."""
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    return Project(data_dir=data, templates_dir=TEMPLATES, output_dir=tmp_path / "output")


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """A headless Chromium (`tests.browser.Browser`) for a module's browser tests, which the
    test files' `browser` fixtures hand on. A module's, not the session's: its DevTools
    connection runs a thread, and while a thread runs, builds in this process spawn their
    helpers instead of forking them (`helper.process_context`), which other modules test."""
    from tests.browser import Browser, find_chromium

    executable = find_chromium()
    if executable is None:
        message = "Debian's chromium is not installed; `make test` installs it"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    browser = Browser(executable)
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def canary() -> Iterator[Canary]:
    """A loopback HTTP server that must hear nothing; stopped when the test ends."""
    server = Canary()
    try:
        yield server
    finally:
        server.stop()
