"""Every kind of failure reads the same on the command line, in `build --all` and in the
preview: located in its file, in plain words, with its documented exit code (`failures`)."""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result
from pydantic import ValidationError

from mtmreport.cli import main
from mtmreport.failures import describe
from mtmreport.helper import RemoteError
from mtmreport.model import QuarterFile
from mtmreport.preview import Preview
from mtmreport.project import Project
from tests.conftest import CHART_CACHE, DATA, seed_chart_cache

FLOWS = "templates/blocks/flows.html.j2"


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, built_html) -> Path:
    """A new project with the shipped 2023-Q3, as the current folder, its charts already in
    its chart cache: every failure here is met while writing, and drawing is not the point."""
    folder = tmp_path / "reports"
    assert run("init", str(folder)).exit_code == 0
    shutil.copy(DATA / "2023-Q3.yaml", folder / "data" / "quarters" / "2023-Q3.yaml")
    seed_chart_cache(folder / "output", built_html["2023-Q3"].folder.parent)
    monkeypatch.chdir(folder)
    return folder


def preview_problems(folder: Path, tmp_path: Path) -> list[str]:
    """What the preview's overlay lists for the project's 2023-Q3 draft."""
    workdir = tmp_path / "preview"
    workdir.mkdir()
    preview = Preview("2023-Q3", Project.at(folder), workdir, log=lambda line: None)
    # Its charts from the project's cache (`project` seeds it), as a build's: not the point.
    shutil.copytree(folder / "output" / CHART_CACHE, preview._chart_cache, copy_function=os.link)
    try:
        preview.start()
        return preview.state()["problems"]
    finally:
        preview.stop()


# A filter of the project's template given what it cannot take, and its words.
MISUSED_FILTER = (
    '{{ "x"|period }}',
    "a filter or call on this line was given a value it cannot take (ValueError: 'x' is not "
    "a period; write a period as 2023-Q3 (quarter), 2023-H1 (half-year), 2023 (year), 2023-07 "
    "(month), 2023-01..2023-09 (months) or a date such as 2023-09-01 (as of that day))",
)


def template_with(project: Path, line_3: str) -> None:
    """The project's own flows template, the packaged one with its third line replaced."""
    from mtmreport.theme import package_templates

    lines = (package_templates() / "blocks" / "flows.html.j2").read_text().splitlines()
    lines[2] = line_3
    (project / "templates" / "blocks").mkdir(parents=True, exist_ok=True)
    (project / FLOWS).write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize(
    ("line_3", "words"),
    [
        ("{{ placed.figures.total( }}", "unexpected '}', expected ')'"),
        (
            "{{ placed.block.flows.totl }}",
            "'totl' is undefined: no 'totl' in the flows block, which holds: arrivals, "
            "departures, earlier_shares, note, period, reported_by, source",
        ),
        (
            "{{ placed.block.flows.reportd_by }}",
            "'reportd_by' is undefined: no 'reportd_by' in the flows block — did you mean "
            "'reported_by'?",
        ),
        ("{{ figurs }}", "'figurs' is undefined: no value of that name reaches this template"),
        (
            '{% include "blocks/nope.html.j2" %}',
            "there is no template 'blocks/nope.html.j2' (a name in an include or import?)",
        ),
        MISUSED_FILTER,
    ],
    ids=["syntax", "attribute", "near-miss", "name", "include", "filter"],
)
def test_a_broken_template_names_its_file_line_and_what_is_wrong(
    project: Path, tmp_path: Path, line_3: str, words: str
):
    template_with(project, line_3)
    expected = f"{FLOWS}:3: template error: {words}"

    result = run("build", "2023-Q3", "--no-pdf")
    assert result.exit_code == 6
    assert result.output.splitlines() == [f"error: {expected}"]
    assert preview_problems(project, tmp_path) == [expected]


@pytest.mark.slow  # processes of its own: the second edition's helper, a pool of two
@pytest.mark.parametrize(
    ("line_3", "words"),
    [
        (
            "{{ placed.block.flows.totl }}",
            "'totl' is undefined: no 'totl' in the flows block, which holds: arrivals, "
            "departures, earlier_shares, note, period, reported_by, source",
        ),
        (
            '{% include "blocks/nope.html.j2" %}',
            "there is no template 'blocks/nope.html.j2' (a name in an include or import?)",
        ),
        MISUSED_FILTER,
    ],
    ids=["attribute", "include", "filter"],
)
def test_a_broken_template_met_in_a_helper_is_located_as_here(
    project: Path, line_3: str, words: str
):
    """Broken in the Russian edition only, which a build makes in another process (the
    second edition's helper, a pool's helper of `build --all --jobs 2`): its file and line,
    found in a traceback that does not travel between processes, read as when it is made
    here (`--lang ru`, `--jobs 1`)."""
    kept = "{% set f = placed.figures %}"  # the third line, which the English edition needs
    template_with(project, f"{{% if w.html_lang == 'ru' %}}{line_3}{{% endif %}}{kept}")
    expected = f"{FLOWS}:3: template error: {words}"

    alone = run("build", "2023-Q3", "--no-pdf", "--lang", "ru")
    assert (alone.exit_code, alone.output.splitlines()) == (6, [f"error: {expected}"])
    second = run("build", "2023-Q3", "--no-pdf")
    assert (second.exit_code, second.output) == (6, alone.output)

    serial = run("build", "--all", "--no-pdf", "--jobs", "1")
    assert serial.exit_code == 6
    assert serial.output.splitlines() == [
        f"2023-Q3: error: {expected}",
        "1 quarter(s) failed: 2023-Q3",
    ]
    pooled = run("build", "--all", "--no-pdf", "--jobs", "2")
    assert (pooled.exit_code, pooled.output) == (6, serial.output)


def test_an_undefined_attribute_never_shows_an_internal_class_name(project: Path):
    """In `build --all` too: each failed quarter's lines, then which quarters failed."""
    template_with(project, "{{ placed.figures.arrivals.nosuch }}")
    result = run("build", "--all", "--no-pdf")
    assert result.exit_code == 6
    assert "mtmreport." not in result.output and " object" not in result.output
    assert result.output.splitlines() == [
        f"2023-Q3: error: {FLOWS}:3: template error: 'nosuch' is undefined: no 'nosuch' in the "
        "flow figures, which holds: cis, cis_share, cis_total, non_cis, non_cis_share, "
        "non_cis_total, other_cis, other_cis_share, total",
        "1 quarter(s) failed: 2023-Q3",
    ]


def _raising(error: Exception):  # type: ignore[no-untyped-def]
    def write(*args: object, **keywords: object) -> None:
        raise error

    return write


@pytest.mark.parametrize(
    "error",
    [
        ValueError("no such chart kind"),
        KeyError("arrivals"),
        TypeError("unsupported operand"),
        RemoteError("_Unpicklable: no such font (7)"),
    ],
    ids=["ValueError", "KeyError", "TypeError", "RemoteError"],
)
def test_a_bug_while_writing_a_report_is_said_to_be_one(
    project: Path, monkeypatch: pytest.MonkeyPatch, error: Exception
):
    """Exit code 1 and a request to report it, in a build and in each quarter of `build
    --all`: never exit code 4, which says the output folder is the user's to put right."""
    from mtmreport import build

    monkeypatch.setattr(build, "_write_edition", _raising(error))
    words = f"internal error: {type(error).__name__}: {error}"
    result = run("build", "2023-Q3", "--no-pdf", "--lang", "en")
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        words,
        "This is a bug in mtmreport; please report it with the file.",
    ]
    every = run("build", "--all", "--no-pdf", "--lang", "en")
    assert every.exit_code == 1
    assert every.output.splitlines() == [
        f"2023-Q3: {words}",
        "2023-Q3: This is a bug in mtmreport; please report it with the file.",
        "1 quarter(s) failed: 2023-Q3",
    ]


def test_a_report_that_cannot_be_written_is_a_writing_failure(
    project: Path, monkeypatch: pytest.MonkeyPatch
):
    from mtmreport import build

    full = OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(build, "_write_edition", _raising(full))
    result = run("build", "2023-Q3", "--no-pdf", "--lang", "en")
    assert result.exit_code == 4
    (line,) = result.output.splitlines()
    assert line.startswith("error: cannot write the report in output")
    assert "the disk is full" in line and "bug" not in line


def test_a_quarter_file_that_is_not_yaml_is_located(project: Path, tmp_path: Path):
    path = project / "data" / "quarters" / "2023-Q3.yaml"
    path.write_text("quarter: 2023-Q3\nreport: [country\n", encoding="utf-8")
    result = run("build", "2023-Q3", "--no-pdf")
    assert result.exit_code == 2
    (problem,) = preview_problems(project, tmp_path)
    assert problem.startswith("data/quarters/2023-Q3.yaml:3:1: ")
    assert "not closed" in problem
    assert result.output.splitlines() == [problem, "1 problem found."]


def test_a_schema_problem_is_located_with_its_field(project: Path, tmp_path: Path):
    path = project / "data" / "quarters" / "2023-Q3.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    number = next(n for n, line in enumerate(lines) if line.strip() == "arrivals:")
    column = lines[number].index("arrivals") + 1
    lines[number] = lines[number].replace("arrivals:", "arivals:")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run("build", "2023-Q3", "--no-pdf")
    assert result.exit_code == 2
    problems = preview_problems(project, tmp_path)
    assert (
        f"data/quarters/2023-Q3.yaml:{number + 1}:{column}: sections[1].blocks[0].flows.arivals: "
        "unknown key 'arivals' — did you mean 'arrivals'?"
    ) in problems
    assert result.output.splitlines() == [*problems, f"{len(problems)} problems found."]


def test_a_file_in_the_way_is_named_with_the_systems_reason(project: Path):
    """An OSError is the user's folder, not a bug: the file and the reason, exit code 4."""
    translation = project / "data" / "quarters" / "2023-Q3.ru.po"
    translation.unlink(missing_ok=True)  # a new project has its Russian texts
    translation.mkdir()
    result = run("translate", "2023-Q3", "--lang", "ru")
    assert result.exit_code == 4
    assert result.output.splitlines() == ["error: data/quarters/2023-Q3.ru.po: is a directory"]


def test_a_project_file_mistake_reads_like_a_quarter_files(project: Path):
    (project / "mtmreport.toml").write_text('data = "data/quarters"\noutptu = "out"\n')
    result = run("list")
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        "mtmreport.toml:2: outptu: unknown key 'outptu' — did you mean 'output'?",
        "1 problem found.",
    ]


def test_yaml_and_validation_errors_that_reach_describe_unconverted_are_located():
    with pytest.raises(yaml.YAMLError) as raised:
        yaml.safe_load("a: 1\nb: [2\n")
    failure = describe(raised.value)
    assert failure.exit_code == 2
    assert failure.lines == (
        "YAML text:3:1: a list in [ ] or a set of keys in { } is not closed, or a ',' is "
        "missing inside it",
    )

    with pytest.raises(ValidationError) as invalid:
        QuarterFile.model_validate({"quarter": "2023-Q3", "report": {"country": 5}, "sections": []})
    failure = describe(invalid.value)
    assert failure.exit_code == 2
    assert "report.country: expected text, got 5" in failure.lines
    assert "sections: needs at least one entry" in failure.lines
    assert failure.terminal_lines()[-1] == f"{len(failure.lines)} problems found."


def test_a_bug_is_said_to_be_one():
    failure = describe(ZeroDivisionError("division by zero"))
    assert failure.exit_code == 1
    assert failure.terminal_lines() == [
        "internal error: ZeroDivisionError: division by zero",
        "This is a bug in mtmreport; please report it with the file.",
    ]


def test_one_escaper_for_everything_printed():
    """Terminal commands, bidirectional overrides and line separators from a file are shown
    as escapes; the letters and spaces of a Russian number stay as they are."""
    from mtmreport.diagnostics import Diagnostic, printable

    assert printable("a\x1b[2Jb\r\u202ec\u2028d\u00ad") == "a\\x1b[2Jb\\r\\u202ec\\u2028d\\xad"
    assert printable("Астана: 4\u00a0482\u00a0427\n\tnext") == "Астана: 4\u00a0482\u00a0427\n\tnext"
    diagnostic = Diagnostic("2023-Q3.yaml", "unknown key 'x\x1b[2J'", line=3)
    assert str(diagnostic) == "2023-Q3.yaml:3: unknown key 'x\\x1b[2J'"
