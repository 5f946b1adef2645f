"""Installed like any Python tool: a wheel built from the repository, installed into a fresh
virtual environment outside it, used in an empty folder -- in real processes throughout.

The environment is made once for the module. pip installs the wheel into it; its dependencies,
those the wheel declares and theirs (extras included), are the very libraries of the
environment running the tests, linked in rather than unpacked again: a dependency the wheel
fails to declare is missing there, and "the same PDF bytes as the repository's build"
compares two installs of one program, not two versions of matplotlib.
"""

from __future__ import annotations

import email
import hashlib
import importlib.metadata
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import DATA, ROOT, TEMPLATES
from tests.preview_process import PreviewProcess

pytestmark = pytest.mark.slow  # a wheel built and installed


@dataclass(frozen=True)
class Installed:
    wheel: Path
    program: Path  # the `mtmreport` script of the fresh environment
    package: Path  # its installed package folder
    work: Path


def _run(command: list[str | Path], **kwargs) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(part) for part in command], capture_output=True, text=True, timeout=900, **kwargs
    )
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return result


def _source_files() -> list[str]:
    """The repository's files as a clone has them: tracked or new, never ignored."""
    listed = _run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT
    ).stdout
    return [name for name in listed.split("\0") if name and (ROOT / name).is_file()]


def _dependency_files(wheel: Path) -> dict[str, Path]:
    """The top-level files and folders (packages, modules, their .dist-info) of every
    distribution the wheel requires, directly or through others, as this environment has
    them: what `pip install` of the wheel would unpack."""
    with zipfile.ZipFile(wheel) as archive:
        [metadata] = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        declared = email.message_from_bytes(archive.read(metadata)).get_all("Requires-Dist")
    wanted = [(Requirement(line), "") for line in declared]
    seen: set[tuple[str, str]] = set()
    found: dict[str, Path] = {}
    while wanted:
        requirement, extra = wanted.pop()
        if requirement.marker and not requirement.marker.evaluate({"extra": extra}):
            continue
        name = canonicalize_name(requirement.name)
        distribution = importlib.metadata.distribution(name)
        for wanted_extra in ("", *requirement.extras):
            if (name, wanted_extra) not in seen:
                seen.add((name, wanted_extra))
                more = distribution.requires or []
                wanted += [(Requirement(line), wanted_extra) for line in more]
        for file in distribution.files or []:
            top = file.parts[0]
            if top not in ("..", "__pycache__"):  # scripts; bytecode is made where it runs
                found[top] = Path(distribution.locate_file(top))
    return found


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    work = tmp_path_factory.mktemp("install")
    source = work / "source"  # a clean copy: building leaves build/ and *.egg-info behind
    for name in _source_files():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", work / "dist", source])
    (wheel,) = (work / "dist").glob("mtmreport-*.whl")
    venv = work / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv])  # this pip installs into it
    python = venv / "bin" / "python"
    purelib = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    site = Path(_run([python, "-c", purelib]).stdout.strip())
    for name, target in _dependency_files(wheel).items():
        (site / name).symlink_to(target, target_is_directory=target.is_dir())
    # Bytecode for our package and the top-level modules only (what a run would otherwise
    # write where the tests check that nothing is written).
    pip = [sys.executable, "-m", "pip", "--python", python]
    _run([*pip, "install", "-q", "--no-compile", "--no-deps", wheel])
    _run([*pip, "check"])  # every requirement of every distribution there is met
    package = Path(
        _run(
            [
                python,
                "-c",
                "import mtmreport, pathlib; print(pathlib.Path(mtmreport.__file__).parent)",
            ],
            cwd=work,
        ).stdout.strip()
    )
    assert not package.is_relative_to(ROOT)
    _run([python, "-m", "compileall", "-q", package])
    _run([python, "-m", "compileall", "-q", "-l", package.parent])
    return Installed(wheel, venv / "bin" / "mtmreport", package, work)


def _tree(folder: Path) -> dict[str, str]:
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_the_wheel_carries_templates_strings_fonts_reference_data_and_the_example(installed):
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    templates = {
        f"mtmreport/templates/{p.relative_to(TEMPLATES).as_posix()}"
        for p in TEMPLATES.rglob("*")
        # a .mo is what `mtmreport i18n compile` makes for other gettext tools: git ignores
        # it and the wheel leaves it out (builds read the .po itself)
        if p.is_file() and p.suffix != ".mo"
    }
    assert templates <= names, sorted(templates - names)  # every file of templates/, no less
    assert {
        "mtmreport/templates/locales/ru/LC_MESSAGES/messages.po",
        "mtmreport/templates/fonts/Carlito-Regular.ttf",
        "mtmreport/templates/fonts/OFL.txt",
        "mtmreport/example/2023-Q3.yaml",
        "mtmreport/example/2023-Q3.ru.po",  # `init` gives the example's Russian texts too
        "mtmreport/reference/countries.csv",
        "mtmreport/reference/kz_regions.geojson",
    } <= names
    assert not any(n.startswith(("templates/", "data/", "tests/", "output/")) for n in names)
    shipped = zipfile.ZipFile(installed.wheel).read("mtmreport/example/2023-Q3.yaml")
    assert shipped == (DATA / "2023-Q3.yaml").read_bytes()


def test_init_build_serve_in_an_empty_folder_give_the_repository_build(installed, built):
    package_before = _tree(installed.package)
    site_before = sorted(p.name for p in installed.package.parent.iterdir())
    folder = installed.work / "my-reports"
    folder.mkdir()

    init = _run([installed.program, "init", "."], cwd=folder)
    assert "created mtmreport.toml" in init.stdout
    # The repository's build of 2023-Q3 links 2023-Q2: the same data is both files.
    shutil.copy(DATA / "2023-Q2.yaml", folder / "data" / "quarters")

    build = _run([installed.program, "build", "2023-Q3"], cwd=folder / "data")
    report = folder / "output" / "2023-Q3" / "report.pdf"  # run from data/: the project's output
    assert f"2023-Q3: wrote {report}" in build.stdout
    assert "findfont" not in build.stderr  # the charts found their font: no DejaVu fallback
    ours, theirs = folder / "output" / "2023-Q3", built["2023-Q3"].folder
    assert (ours / "report.pdf").read_bytes() == (theirs / "report.pdf").read_bytes()
    assert f"2023-Q3: wrote {report.parent / 'ru' / 'report.pdf'}" in build.stdout  # every edition
    assert _tree(ours / "charts") == _tree(theirs / "charts")

    server = PreviewProcess(
        "2023-Q3",
        None,
        None,
        installed.work / "serve",
        cwd=folder,
        program=[str(installed.program)],
    )
    try:
        page = server.get("/", timeout=180).decode()
        assert "KAZAKHSTAN" in page.upper() and "Migration inflow and outflow" in page
    finally:
        assert server.stop() == 0

    assert _tree(installed.package) == package_before  # nothing written into the package
    assert sorted(p.name for p in installed.package.parent.iterdir()) == site_before


def test_the_installed_tool_outside_any_project_says_how_to_start_one(installed):
    nowhere = installed.work / "nowhere"
    nowhere.mkdir()
    result = subprocess.run(
        [installed.program, "build"], cwd=nowhere, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "is not in an mtmreport project" in result.stderr
    assert "mtmreport init FOLDER" in result.stderr and "site-packages" not in result.stderr
