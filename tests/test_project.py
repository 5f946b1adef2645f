"""The project is the folder you work in: found upward by its mtmreport.toml, or named with
--project; its own templates override the packaged ones file by file; and the small
frictions a new user meets, each with its message and exit code."""

from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mtmreport.project import PROJECT_FILE, Project
from mtmreport.theme import Templates, package_templates
from tests.conftest import (
    CHART_CACHE,
    DATA,
    ROOT,
    SHIPPED,
    TEMPLATES,
    pdf_text,
    run_cli,
    seed_chart_cache,
)
from tests.preview_process import PreviewProcess

Q3 = (DATA / "2023-Q3.yaml").read_text(encoding="utf-8")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project made by `mtmreport init` with the repository's three quarters, current folder."""
    folder = tmp_path / "reports"
    made = run_cli("init", str(folder))
    assert made.exit_code == 0, made.output
    for path in DATA.glob("*.yaml"):
        if path.name != "2023-Q3.yaml":
            shutil.copy(path, folder / "data" / "quarters" / path.name)
    monkeypatch.chdir(folder)
    return folder


def every_chart(built_html) -> Path:
    """The output folder of the session's builds, once every shipped quarter is built there:
    its chart cache has every chart of every quarter."""
    (folder,) = {built_html[quarter].folder.parent for quarter in SHIPPED}
    return folder


def quarter(project: Path, name: str = "2023-Q3") -> Path:
    return project / "data" / "quarters" / f"{name}.yaml"


def edit(path: Path, old: str, new: str) -> int:
    """Replace `old` once; the line it was on."""
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return text[: text.index(old)].count("\n") + 1


# --- finding the project ---------------------------------------------------------------------


def test_this_repository_is_a_project_with_its_folders_where_they_were():
    project = Project.find(ROOT / "data" / "quarters")
    assert project.file == ROOT / PROJECT_FILE
    assert project.data_dir.resolve() == DATA
    assert project.templates_dir.resolve() == TEMPLATES
    assert project.output_dir.resolve() == ROOT / "output"
    assert project.templates.folders == (package_templates(),)  # its templates are the packaged


def test_init_makes_a_project_and_never_overwrites(tmp_path: Path, built_html):
    folder = tmp_path / "new"
    made = run_cli("init", str(folder))
    assert made.exit_code == 0, made.output
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) == [
        ".gitignore",
        "data/quarter.schema.json",
        "data/quarters/2023-Q3.ru.po",
        "data/quarters/2023-Q3.yaml",
        "mtmreport.toml",
    ]
    assert quarter(folder).read_text(encoding="utf-8") == Q3
    # The same editions as this repository's, the Russian one with its texts translated.
    translation = folder / "data" / "quarters" / "2023-Q3.ru.po"
    assert translation.read_bytes() == (DATA / "2023-Q3.ru.po").read_bytes()
    seed_chart_cache(folder / "output", built_html["2023-Q3"].folder.parent)  # not the point
    built = run_cli("--project", str(folder), "build", "2023-Q3", "--no-pdf")
    assert built.exit_code == 0, built.output
    assert "translation" not in built.output  # no warning of texts still to translate
    assert "[перевод ожидается]" not in (
        folder / "output" / "2023-Q3" / "ru" / "report.html"
    ).read_text(encoding="utf-8")
    assert (folder / ".gitignore").read_text().splitlines()[-1] == "output/"
    toml = folder / PROJECT_FILE
    toml.write_text(toml.read_text() + "# mine\n")
    again = run_cli("init", str(folder))
    assert again.exit_code == 2
    assert "never overwrites" in again.output and "mtmreport.toml" in again.output
    assert toml.read_text().endswith("# mine\n")


@pytest.mark.slow
def test_the_project_is_found_from_a_folder_below_and_paths_follow_its_file(
    project: Path, built_html
):
    seed_chart_cache(project / "output", built_html["2023-Q2"].folder.parent)  # not the point
    os.chdir(project / "data" / "quarters")
    built = run_cli("build", "2023-Q2", "--no-pdf", "--lang", "en")  # one edition is enough
    assert built.exit_code == 0, built.output
    assert (project / "output" / "2023-Q2" / "report.html").is_file()
    assert not (project / "data" / "quarters" / "output").exists()


def test_outside_any_project_a_plain_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    for args in (["list"], ["build"], ["validate", "2023-Q3"]):
        result = run_cli(*args)
        assert result.exit_code == 2
        assert "is not in an mtmreport project: no mtmreport.toml here or in any folder" in (
            result.output
        )
        assert "mtmreport init FOLDER" in result.output and "Traceback" not in result.output


def test_project_option_names_the_project_from_anywhere(project: Path, tmp_path: Path):
    os.chdir(tmp_path)
    listed = run_cli("--project", str(project), "list")
    assert listed.exit_code == 0 and listed.output.startswith("2023-Q2  complete")
    empty = tmp_path / "empty"
    empty.mkdir()
    wrong = run_cli("--project", str(empty), "list")
    assert wrong.exit_code == 2
    assert "is not an mtmreport project: it has no mtmreport.toml" in wrong.output


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            'data = "data/quarters"\noutptu = "out"\n',
            "mtmreport.toml:2: outptu: unknown key 'outptu' — did you mean 'output'?",
        ),
        (
            'data = "data/quarterz"\n',
            "mtmreport.toml:1: data: the quarter folder 'data/quarterz' does not exist",
        ),
        ("\n\ndata = data/quarters\n", "mtmreport.toml:3:8: not valid TOML: invalid value"),
        (
            "output = 3\n",
            'mtmreport.toml:1: output: write it as text in quotes, e.g. output = "output"',
        ),
        ('language = "English"\n', "mtmreport.toml:1: language: 'English' is not a language code"),
    ],
    ids=["unknown-key", "wrong-path", "syntax", "not-text", "language"],
)
def test_project_file_problems_are_located(project: Path, content: str, expected: str):
    (project / PROJECT_FILE).write_text(content, encoding="utf-8")
    result = run_cli("list")
    assert result.exit_code == 2
    assert result.output.startswith(expected), result.output
    assert "Traceback" not in result.output


# --- a copied project works on its own files -------------------------------------------------


@pytest.mark.slow
def test_a_copied_project_reads_and_writes_only_its_own_files(
    project: Path, tmp_path: Path, built_html
):
    """In real processes, as an analyst starts next year's work: copy, edit, build, new."""
    copy = tmp_path / "copy"
    shutil.copytree(project, copy)
    before = {p: p.read_bytes() for p in project.rglob("*") if p.is_file()}
    seed_chart_cache(copy / "output", built_html["2023-Q3"].folder.parent)  # not the point
    edit(quarter(copy), "key decision-makers.", "key decision-makers of the copy.")
    program = [sys.executable, "-m", "mtmreport"]
    built = subprocess.run(
        # One edition: where each edition goes is test_i18n's.
        [*program, "build", "2023-Q3", "--lang", "en"],
        cwd=copy,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    assert "decision-makers of the copy." in pdf_text(copy / "output" / "2023-Q3" / "report.pdf")
    made = subprocess.run(
        [*program, "new", "2024-Q1"], cwd=copy / "data", capture_output=True, text=True, timeout=60
    )
    assert made.returncode == 0, made.stderr
    assert quarter(copy, "2024-Q1").is_file()
    after = {p: p.read_bytes() for p in project.rglob("*") if p.is_file()}
    assert after == before  # the original: not a byte changed, no output, no new quarter


# --- templates: the project's over the package's ---------------------------------------------


@pytest.mark.slow
def test_a_project_template_overrides_only_its_own_file(project: Path, built_html):
    templates = project / "templates"
    (templates / "blocks").mkdir(parents=True)
    (templates / "blocks" / "text.html.j2").write_text(
        '<p class="mine">Our own text</p>{% include "default:blocks/text.html.j2" %}'
    )
    (project / PROJECT_FILE).write_text(
        (project / PROJECT_FILE)
        .read_text()
        .replace('# templates = "templates"', 'templates = "templates"')
    )
    assert Project.find().templates.folders == (templates, package_templates())
    seed_chart_cache(project / "output", built_html["2023-Q3"].folder.parent)  # not the point
    result = run_cli("build", "2023-Q3", "--no-pdf", "--lang", "en")
    assert result.exit_code == 0, result.output
    html = (project / "output" / "2023-Q3" / "report.html").read_text(encoding="utf-8")
    assert html.count('<p class="mine">Our own text</p>') > 3  # each text block: the project's
    assert "key decision-makers." in html  # ...around the packaged one, and the rest as before
    assert "Migration inflow and outflow" in html


@pytest.mark.slow
def test_a_broken_template_is_located_with_its_own_exit_code(project: Path, built_html):
    seed_chart_cache(project / "output", built_html["2023-Q3"].folder.parent)  # not the point
    good = run_cli("build", "2023-Q3", "--no-pdf", "--lang", "en")
    assert good.exit_code == 0, good.output
    report = project / "output" / "2023-Q3" / "report.html"
    before = report.read_bytes()
    blocks = project / "templates" / "blocks"
    blocks.mkdir(parents=True)
    (blocks / "flows.html.j2").write_text("<p>\n{% if figures %}\n{{ figures.total( }}\n")
    result = run_cli("build", "2023-Q3", "--no-pdf", "--lang", "en")
    assert result.exit_code == 6
    assert "templates/blocks/flows.html.j2:3: template error: unexpected '}'" in result.output
    assert "bug" not in result.output and "Traceback" not in result.output
    assert report.read_bytes() == before


@pytest.mark.slow
def test_charts_take_the_fonts_of_the_templates_in_use(project: Path):
    """A project whose fonts lack the charts' typeface fails plainly: no silent DejaVu. So
    does one with a file that is no font. Both are the templates' to fix (exit code 6)."""
    import matplotlib

    def build() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            # one edition: every edition's charts take the same fonts
            [sys.executable, "-m", "mtmreport", "build", "2023-Q3", "--no-pdf", "--lang", "en"],
            cwd=project,
            capture_output=True,
            text=True,
            timeout=300,
        )

    fonts = project / "templates" / "fonts"
    fonts.mkdir(parents=True)
    dejavu = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    shutil.copy(dejavu, fonts / "DejaVuSans.ttf")
    assert Templates.over_defaults(project / "templates").font_files == (fonts / "DejaVuSans.ttf",)
    result = build()
    assert result.returncode == 6, result.stderr
    assert "the charts are set in Carlito" in result.stderr
    assert "findfont" not in result.stderr and "bug" not in result.stderr

    (fonts / "Carlito-Regular.ttf").write_bytes(b"<html>not a font</html>")
    result = build()
    assert result.returncode == 6, result.stderr
    assert result.stderr.startswith(
        "error: templates/fonts/Carlito-Regular.ttf: not a font file the charts can read; "
    )
    assert "bug" not in result.stderr


# --- bad input and small frictions -----------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "  country: Kazakhstan\n",
            "  country: Kazakhstan\n title: x\n",
            "the indentation of this line matches none of the lines above it: line it up, with "
            "the same number of spaces, with the keys it belongs with",
        ),
        (
            "  country: Kazakhstan\n",
            "  country: Kazakhstan\n   title: x\n",
            "a key where none can start: this line is indented further than the keys beside it",
        ),
        (
            "{country: India, number: 33109, share: 7.4}",
            "{country: India, number: 33109, share: 7,4}",
            "unknown key '4': a decimal comma? `share: 7,4` reads as `share: 7` and a key '4'; "
            "decimals take a point: share: 7.4",
        ),
        (
            "{country: India, number: 33109, share: 7.4}",
            "{country: India, number: 33109, share: 7.4%}",
            "write the number without the per cent sign: 7.4",
        ),
        ("rate: 472.5 ", "rate: 472,5 ", "(decimals take a point: 472.5)"),
    ],
    ids=[
        "indented-less",
        "indented-more",
        "decimal-comma-in-braces",
        "per-cent-sign",
        "decimal-comma",
    ],
)
def test_yaml_mistakes_are_said_in_plain_words(project: Path, old: str, new: str, message: str):
    line = edit(quarter(project), old, new)
    result = run_cli("validate", "2023-Q3")
    assert result.exit_code == 2
    assert f"data/quarters/2023-Q3.yaml:{line + (1 if 'title' in new else 0)}:" in result.output
    assert message in result.output, result.output


def test_a_hash_cutting_a_value_short_is_a_warning(project: Path):
    source = "source: International Fund for Saving the Aral Sea, 2023"
    line = edit(quarter(project), source, "source: Government Decree #555")
    result = run_cli("validate", "2023-Q3")
    assert result.exit_code == 0
    assert f"warning: data/quarters/2023-Q3.yaml:{line}:" in result.output
    assert "the text stops at 'Government Decree': YAML reads '#555' after it" in result.output
    assert "put the whole text in quotes" in result.output


def test_no_quarter_files_is_said_and_is_an_error(project: Path):
    for path in (project / "data" / "quarters").iterdir():
        path.unlink()
    for args in (["list"], ["validate", "--all"], ["audit", "--all"], ["build", "--all"]):
        result = run_cli(*args)
        assert result.exit_code == 2, args
        assert "error: no quarter files (YYYY-QN.yaml) in data/quarters" in result.output


def test_misnamed_quarter_files_are_pointed_out(project: Path):
    quarter(project, "2023-Q2").rename(project / "data" / "quarters" / "2023-Q2.yml")
    quarter(project, "2023-Q4").rename(project / "data" / "quarters" / "2023-q4.yaml")
    listed = run_cli("list")
    assert listed.exit_code == 0
    assert "warning: data/quarters/2023-Q2.yml: not read: quarter files are named like " in (
        listed.output
    )
    assert "warning: data/quarters/2023-q4.yaml: not read" in listed.output
    missing = run_cli("validate", "2023-Q2")
    assert missing.exit_code == 2
    assert "no file 2023-Q2.yaml in data/quarters, but 2023-Q2.yml is there: rename it" in (
        missing.output
    )


def test_quarter_ids_are_taken_as_typed_and_checked(project: Path):
    for typed in ("2023-q3", "data/quarters/2023-Q3.yaml", str(quarter(project))):
        result = run_cli("validate", typed)
        assert (result.exit_code, result.output.strip()) == (0, "2023-Q3: valid"), typed
    nine = run_cli("validate", "2023-Q9")
    assert nine.exit_code == 2
    assert "'2023-Q9' is not a quarter: quarters run 1 to 4 (2023-Q1 … 2023-Q4)" in nine.output


def test_new_warns_when_it_is_not_the_next_quarter(project: Path):
    skipping = run_cli("new", "2024-Q3")
    assert skipping.exit_code == 0
    assert (
        "warning: 2024-Q3 is not the quarter after the latest on file; that would be 2024-Q1"
        in (skipping.output)
    )
    following = run_cli("new", "2024-Q4")
    assert following.exit_code == 0 and "warning" not in following.output


@pytest.mark.slow
def test_output_folders_get_the_usual_permissions(project: Path):
    # One edition, and no chart cache given: the build makes output/ itself.
    result = run_cli("build", "2023-Q2", "--no-pdf", "--lang", "en")
    assert result.exit_code == 0
    umask = os.umask(0)
    os.umask(umask)
    usual = 0o777 & ~umask
    for folder in (project / "output", project / "output" / "2023-Q2"):
        assert stat.S_IMODE(folder.stat().st_mode) == usual, folder


@pytest.mark.slow
def test_drafts_are_said_when_built(project: Path, built_html):
    seed_chart_cache(project / "output", every_chart(built_html))  # not the point
    result = run_cli("build", "--all", "--no-pdf", "--lang", "en")
    assert result.exit_code == 0, result.output
    assert '2023-Q4: a draft: 173 entries still pending print as "Data pending"' in result.output
    assert "2023-Q3: a draft" not in result.output


@pytest.mark.slow
def test_serve_takes_the_next_free_port_says_so_and_opens_the_browser_there(
    project: Path, tmp_path: Path, built_html
):
    """(One test, one preview: a taken port and --open, the URL opened being the port
    taken instead.)"""
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.py"
    browser.write_text(
        f"import sys, pathlib\npathlib.Path({str(opened)!r}).write_text(sys.argv[1])\n"
    )
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = PreviewProcess(
            "2023-Q2",
            None,
            None,
            tmp_path / "work",
            cwd=project,
            port=port,
            pdf=False,  # not the point, nor are the charts (the session's build drew them)
            charts_from=built_html["2023-Q2"].folder.parent / CHART_CACHE,
            options=["--open"],
            env={"BROWSER": f"{sys.executable} {browser} %s"},
        )
        try:
            assert f"Port {port} is taken; using port " in server.output()
            assert server.url != f"http://127.0.0.1:{port}/"
            assert b"KAZAKHSTAN" in server.get("/", timeout=180).upper()  # after the first draft
            deadline = time.monotonic() + 60
            while not opened.exists() and time.monotonic() < deadline:
                time.sleep(0.1)
            assert opened.read_text() == server.url
        finally:
            assert server.stop() == 0


# --- make ------------------------------------------------------------------------------------


def test_make_notices_a_venv_that_no_longer_runs_and_makes_it_afresh(tmp_path: Path):
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    script = bin_dir / "mtmreport"  # as pip wrote it before the folder was moved
    script.write_text("#!/where/it/was/.venv/bin/python\n")
    script.chmod(0o755)
    (tmp_path / ".venv" / ".installed").touch()  # the stamp alone says all is well
    result = subprocess.run(
        ["make", "-n", "report"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert ".venv does not run from this folder (moved or copied?): making it afresh" in (
        result.stdout
    )
    assert not (tmp_path / ".venv").exists()
    assert "python3 -m venv .venv" in result.stdout
    assert ".venv/bin/mtmreport build --all" in result.stdout


def test_make_keeps_a_venv_that_runs():
    result = subprocess.run(
        ["make", "-n", "report"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "making it afresh" not in result.stdout
    assert (ROOT / ".venv" / "bin" / "mtmreport").is_file()


def test_serve_with_no_free_port_says_so_with_its_exit_code(project: Path, monkeypatch):
    monkeypatch.setattr("mtmreport.preview.PORTS_TRIED", 2)
    with socket.socket() as first, socket.socket() as second:
        first.bind(("127.0.0.1", 0))
        port = first.getsockname()[1]
        try:
            second.bind(("127.0.0.1", port + 1))
        except OSError:
            pytest.skip("the port after a free one is taken already")
        first.listen()
        second.listen()
        result = run_cli("serve", "2023-Q2", "--port", str(port))
    assert result.exit_code == 5
    assert f"error: cannot listen on 127.0.0.1:{port} or the 1 ports after it" in result.output
    assert "give another with --port" in result.output


# --- one Project reads each quarter once -----------------------------------------------------


@pytest.mark.parametrize(
    "command", [["list"], ["audit", "--all"], ["build", "--all", "--no-pdf", "--lang", "en"]]
)
@pytest.mark.slow
def test_a_command_reads_each_quarter_file_once(
    project: Path, monkeypatch, command, request: pytest.FixtureRequest
):
    import mtmreport.load

    if "build" in command:  # its charts: not the point
        seed_chart_cache(project / "output", every_chart(request.getfixturevalue("built_html")))

    reads: list[str] = []
    real = mtmreport.load.read_yaml

    def counted(path: Path):  # type: ignore[no-untyped-def]
        reads.append(path.name)
        return real(path)

    monkeypatch.setattr(mtmreport.load, "read_yaml", counted)
    result = run_cli(*command)
    assert result.exit_code == 0, result.output
    # Each report links the quarters before it; still, every file is parsed once.
    assert sorted(reads) == ["2023-Q2.yaml", "2023-Q3.yaml", "2023-Q4.yaml"]


def test_an_edited_file_is_read_again_by_the_same_project(project: Path):
    reports = Project.find()
    assert reports.figures("2023-Q3") is reports.figures("2023-Q3")  # kept, not recomputed
    first = reports.linked("2023-Q3").loaded.doc
    edit(quarter(project), "key decision-makers.", "key decision-makers, edited.")
    again = reports.linked("2023-Q3").loaded.doc
    assert again is not first
    assert "edited" in str(again.data) and "edited" not in str(first.data)
