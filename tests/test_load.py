from decimal import Decimal
from pathlib import Path

import pytest

from mtmreport.errors import QuarterFileError, QuarterNotFoundError
from mtmreport.load import MAX_FILE_BYTES, parse_yaml, read_yaml
from mtmreport.project import Project
from tests.conftest import DATA, ROOT


def _problem(text: str):
    with pytest.raises(QuarterFileError) as caught:
        parse_yaml(text, Path("q.yaml"))
    [problem] = caught.value.problems
    return problem


def test_positions_and_decimals_are_kept():
    doc = parse_yaml("a: 1\nb:\n  - share: 11.0\n    other: 11\n", Path("q.yaml"))
    assert doc.data == {"a": 1, "b": [{"share": Decimal("11.0"), "other": 11}]}
    assert str(doc.data["b"][0]["share"]) == "11.0"  # decimals as written
    assert doc.positions[("b", 0, "other")] == (4, 5)
    assert doc.position(("b", 0, "missing", 3)) == (3, 5)


def test_duplicate_keys_are_refused_with_both_lines():
    problem = _problem("quarter: 2023-Q3\nreport: {}\nquarter: 2023-Q4\n")
    assert (problem.line, problem.code) == (3, "duplicate")
    assert "appears twice (first on line 1)" in problem.message


def test_aliases_are_refused_so_no_alias_bomb_expands():
    bomb = "a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\nd: [*c, *c, *c]\n"
    problem = _problem(bomb)
    assert problem.code == "alias"


def test_tabs_syntax_and_empty_files():
    assert "tab character" in _problem("report:\n\tcountry: x\n").message
    syntax = _problem("report: [1, 2\n")
    assert syntax.code == "syntax" and syntax.line is not None
    assert _problem("").message == "the file is empty"
    assert _problem("# only a comment\n").code == "empty"


def test_non_utf8_and_huge_files(tmp_path):
    latin = tmp_path / "2023-Q3.yaml"
    latin.write_bytes(b"quarter: 2023-Q3\nreport:\n  country: Kasachstan \xe4\n")
    with pytest.raises(QuarterFileError) as caught:
        read_yaml(latin)
    assert caught.value.problems[0].line == 3
    assert "UTF-8" in caught.value.problems[0].message
    huge = tmp_path / "2023-Q4.yaml"
    huge.write_text("a: " + "x" * (MAX_FILE_BYTES + 1))
    with pytest.raises(QuarterFileError, match="more than a quarter file can be"):
        read_yaml(huge)


def test_quarter_files_are_found_by_strict_id():
    project = Project.at(ROOT)
    assert project.quarter_path(project.quarter_id("2023-Q3")) == DATA / "2023-Q3.yaml"
    assert project.latest() >= "2023-Q3"
    for bad in ("../../etc/passwd", "2023-Q3/../../x", "2019-Q1"):
        with pytest.raises(QuarterNotFoundError):
            project.quarter_path(project.quarter_id(bad))


def test_offsets_and_lines_convert_both_ways():
    from mtmreport.load import line_and_column, offset_of

    text = "quarter: 2023-Q3\nreport:\n  country: Kazakhstan\n"
    offset = text.index("Kazakhstan")
    assert line_and_column(text, offset) == (3, 12)
    assert offset_of(text, 3, 12) == offset
    assert line_and_column(text, 0) == (1, 1)
