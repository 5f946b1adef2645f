"""Shared fixtures: the repository's folders, and real builds of the shipped quarters."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import tinyhtml5
from pypdf import PdfReader

from mtmreport.build import BuildResult, build_report
from mtmreport.project import Project
from mtmreport.theme import Templates
from tests.canary import Canary

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "quarters"
TEMPLATES = ROOT / "templates"
# The templates a build of this repository uses: its own folder, which is also the packaged one.
REPO_TEMPLATES = Templates.over_defaults(TEMPLATES)


def pdf_text(path: Path) -> str:
    """All text of a PDF with hyphenation and line breaks undone, spaces collapsed."""
    reader = PdfReader(path)
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    text = re.sub(r"[\u2010\u00ad-]\n", "", text)
    return re.sub(r"\s+", " ", text)


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


@pytest.fixture(scope="session")
def repo_paths(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """This repository's project (its data and templates), with output into a temporary folder."""
    return Project(
        data_dir=DATA, templates_dir=TEMPLATES, output_dir=tmp_path_factory.mktemp("out")
    )


@pytest.fixture(scope="session")
def built(repo_paths: Project) -> dict[str, BuildResult]:
    """The shipped quarters built once, HTML and PDF, for the end-to-end tests."""
    return {q: build_report(q, repo_paths) for q in ("2023-Q2", "2023-Q3", "2023-Q4")}


@pytest.fixture
def scratch(tmp_path: Path) -> Project:
    """A private copy of the data folder that a test may edit, with its own output."""
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    return Project(data_dir=data, templates_dir=TEMPLATES, output_dir=tmp_path / "output")


@pytest.fixture
def canary() -> Iterator[Canary]:
    """A loopback HTTP server that must hear nothing; stopped when the test ends."""
    server = Canary()
    try:
        yield server
    finally:
        server.stop()
