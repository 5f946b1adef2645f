from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from mtmreport import load
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


# Texts where libyaml and PyYAML could part ways: each kind of YAML a quarter file may hold, and
# the cases where they do part ways (a plain text's style, a byte order mark on a later line, a
# tab inside a line, a `?` or `:` in a text inside [ ] or { }), which must go to PyYAML.
TRICKY = [
    "a: |\n  line\n   more\nb: >-\n  folded\n\n  text\nc: |+\n  x\n\n",
    "\"quoted key\": 1\n'single': 'it''s'\nd: \"\\u263A \\x41 \\/ \\U0001F600\"\n",
    "a: Decree #555\nb: x # comment\nc: x#y\nd: 'q' # c\ne: a\n  b # c\n",
    "a: 2023-02-30\nb: 2023-03-01\nc: 2023-03-01 10:00:00\nd: 2023-Q3\ne: 2023-1-5\n",
    "a: 11.0\nb: 1e3\nc: .5\nd: 1_000\ne: 0x1F\nf: 017\ng: 1:30\nh: .inf\ni: =\nj: -0.50\n",
    "ключ: Қазақстан ✓ 😀\n- x\n",
    "country: Türkiye — «Ўзбекистон» 😀\nnote: a\u2028b\nn: x\x85y\n",
    "a: 1\r\nb:\r\n  - x # c\r\n  - 'y'\r\n  -\r\n",
    "a: x\rb: y\r",
    "\ufeffa: 1\nb: x\n",
    "a: 1\n\ufeffb: x\n",
    "a: 1\n\ufeff\nb: x\n",
    "a: x\ty\n",
    "a: 1 \t# c\n",
    "- {country: U?zbekistan, number: 4607}\n",
    "- {country: Uzbekistan, num:ber: 4607, n: ?x}\n",
    "a: [1,\n2]\nb: {c: [d, {e: f}]}\nc: [a, b, ]\n",
    "-\n- x\n- [a, b]: c\n",
    "a:\nb: ~\nc: yes\nd: Off\ne: null\n",
    "a: !!binary aGVsbG8=\n",
    "a: ! 12\nb: !!str 12\n",
    "<<: {a: 1}\n",
    "a: &x 1\nb: 2\n",
    "? [a]\n: 1\n",
    "--- a\n--- b\n",
    "%YAML 1.3\n---\na: 1\n",
    "a: 1\n a: 2\n",
    "a: b: c\n",
    "a: 'x\n",
    "a:\n- b\n  - c\n",
    "a: @x\n",
    "k" * 1100 + ": v\n",
    "\n\n# x\n",
]


def _outcome(text: str):
    try:
        doc = parse_yaml(text, Path("q.yaml"))
    except QuarterFileError as error:
        return error.problems
    return repr(doc.data), doc.positions, doc.warnings  # repr: 11.0 and 11 differ


def _pure_loads(monkeypatch) -> list[str]:
    """The texts that go to PyYAML's own composer, as they come."""
    texts: list[str] = []

    class Counted(load._GuardedLoader):
        def __init__(self, stream: str) -> None:
            texts.append(stream)
            super().__init__(stream)

    monkeypatch.setattr(load, "_GuardedLoader", Counted)
    return texts


def test_libyaml_reads_every_text_as_pyyaml_does(monkeypatch):
    from tests.test_bad_input import CASES

    shipped = [p.read_text(encoding="utf-8-sig") for p in sorted(DATA.glob("*.yaml"))]
    # The cases of YAML syntax, encoding, tags, numbers and hostile text; not the large ones
    # (test_deep_and_alias_texts_go_to_pyyaml has deep texts), nor those YAML reads as Q3's.
    ids = [c.id for c in CASES]
    yaml_cases = [
        *CASES[: ids.index("top-level-list")],
        *CASES[ids.index("text-in-count") : ids.index("shares-over-100-strict")],
        *CASES[ids.index("impossible-date") : ids.index("month-13") + 1],
        *CASES[ids.index("markdown-script") :],
    ]
    large = {"huge-file", "deep-nesting", "too-many-entries"}
    cases = [c.content.decode("utf-8-sig", "replace") for c in yaml_cases if c.id not in large]
    texts = [*shipped, *cases, *TRICKY]
    pure_loads = _pure_loads(monkeypatch)
    fast = [_outcome(text) for text in texts]
    assert pure_loads and len(pure_loads) < len(texts) // 2  # mostly libyaml
    assert not set(shipped) & set(pure_loads)
    monkeypatch.delattr(yaml, "CSafeLoader")  # as where libyaml is not installed
    pure = [_outcome(text) for text in texts]
    assert len(pure_loads) > len(texts)
    for text, fast_outcome, pure_outcome in zip(texts, fast, pure, strict=True):
        assert fast_outcome == pure_outcome, text[:200]
    assert sum(isinstance(outcome, list) for outcome in pure) > 30  # refusals compared too
    assert sum(isinstance(outcome, tuple) for outcome in pure) > 20


@pytest.mark.parametrize(
    ("text", "line", "code", "words"),
    [
        ("a:\n  b: [" + "[" * 48 + "x" + "]" * 49 + "\n", 2, "too-large", "nest far too deeply"),
        ("a: " + "[" * 100_000 + "\n", 1, "too-large", "nest far too deeply"),
        ("a: &a [x, x]\nb: &b [*a, *a]\n", 2, "alias", "anchors and aliases"),
    ],
    ids=["deep", "very-deep", "alias"],
)
def test_deep_and_alias_texts_go_to_pyyaml(monkeypatch, text, line, code, words):
    pure_loads = _pure_loads(monkeypatch)
    problem = _problem(text)
    assert (problem.line, problem.code) == (line, code) and words in problem.message
    assert pure_loads == [text]
