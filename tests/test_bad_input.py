"""Bad input never hurts: a corpus of malformed quarter files through the real command line.

Each case is a variation of the shipped 2023-Q3 file (a few are whole files). For every one,
`mtmreport build` and `mtmreport validate` either stop with a message naming the file and
line (exit 2, or 3 with --strict) or build a report in which the hostile part is inert; never
a traceback; and a good report (the session's build of 2023-Q3, PDFs and all) in the output
folder stays byte for byte as it was.

The hostile texts are the analyst's English texts: the English edition is built for them.
Another edition shows the same text through the same sanitiser, behind a "translation to
come" mark (an untranslated text), and test_security builds every edition, PDFs and all, of
a quarter file with such texts.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import tinyhtml5
from click.testing import Result

from mtmreport.load import MAX_FILE_BYTES, MAX_NODES
from tests.conftest import (
    CHART_CACHE,
    DATA,
    ROOT,
    hostile_references,
    run_cli,
    seed_chart_cache,
)

pytestmark = pytest.mark.slow  # a corpus through the command line, reports built with PDFs

Q3 = (DATA / "2023-Q3.yaml").read_text(encoding="utf-8")
CANARY = "http://canary.invalid"  # replaced by the running canary server's address


@dataclass(frozen=True)
class Case:
    id: str
    content: bytes
    message: str
    """A part of the expected message (or, for a harmless case, of the rendered text)."""
    line: int | None = None
    """The line the message must name; None for problems of the whole file."""
    quarter: str = "2023-Q3"
    harmless: bool = False
    """The file is valid: the report is built and the hostile part must be inert."""
    strict: bool = False
    pdf: bool = True
    """For a harmless case: its text names a URL or file to fetch, so it is also laid out as
    a PDF (in one quarter file with the other such cases)."""
    edit: tuple[str, str] | None = None
    """For a harmless case: the text it replaces in Q3, and by what."""

    def __str__(self) -> str:
        return self.id


def line_of(text: str, needle: str) -> int:
    assert needle in text, needle
    return text[: text.index(needle)].count("\n") + 1


def edited(id: str, old: str, new: str, message: str, *, at: str | None = None, **kw) -> Case:
    """Q3 with `old` replaced by `new`; the message must name the line of `at` (or of `old`)."""
    assert old in Q3, old
    text = Q3.replace(old, new, 1)
    line = line_of(text, at) if at is not None else line_of(Q3, old)
    return Case(id, text.encode("utf-8"), message, line, **kw)


def cut(marker: str, lines: int, new: str = "") -> str:
    """Q3 without the line holding `marker` and the `lines - 1` lines after it, `new` instead."""
    all_lines = Q3.splitlines(keepends=True)
    start = line_of(Q3, marker) - 1
    return "".join([*all_lines[:start], new, *all_lines[start + lines :]])


def whole(id: str, text: str | bytes, message: str, line: int | None = None, **kw) -> Case:
    content = text.encode("utf-8") if isinstance(text, str) else text
    return Case(id, content, message, line, **kw)


def harmless(id: str, old: str, new: str, shown: str, *, pdf: bool = True) -> Case:
    return edited(id, old, new, shown, harmless=True, pdf=pdf, edit=(old, new))


NOTE = "            The information on nationality provided"
COMMENTARY = "            One thousand four hundred twenty-four employers"
NO_DEPARTURES = cut("          departures:", 17)

CASES = [
    # --- YAML syntax and encoding -------------------------------------------------------------
    edited(
        "unclosed-flow-mapping",
        "share: 43.5}",
        "share: 43.5",
        "a list in [ ] or a set of keys in { } is not closed, or a ',' is missing inside it",
        at="- {country: Russian Federation, number: 1154493",
    ),
    edited(
        "unclosed-quote",
        "  title: Quarterly Compilation Report",
        '  title: "Quarterly Compilation Report',
        "or a quote opened above it is not closed",
        at='"foreign labour investors',  # where the quoted text ends: the parser's view
    ),
    edited(
        "bad-indentation",
        "  title: Quarterly Compilation Report",
        "    title: Quarterly Compilation Report",
        "this line is indented further than the keys beside it",
    ),
    edited(
        "key-without-colon",
        "  title: Quarterly Compilation Report",
        "  title Quarterly Compilation Report",
        "a key without its ':' (write `key: value`)",
        at="  published: 2023-12",
    ),
    edited("tab-indentation", "  title: Quarterly", "\ttitle: Quarterly", "tab character"),
    edited(
        "two-documents",
        "quarter: 2023-Q3\n",
        "quarter: 2023-Q3\n---\nquarter: 2023-Q4\n",
        "not valid YAML",
        at="---",
    ),
    whole("empty-file", "", "the file is empty", 1),
    whole("only-comments", "# quarter: 2023-Q3\n# nothing else\n", "the file is empty", 1),
    whole("only-blank-lines", "\n   \n\n", "the file is empty", 1),
    edited(
        "non-utf8-byte",
        "  country: Kazakhstan",
        "  country: Kazakhstan",
        "not UTF-8",
    ),  # the byte itself is put in below: str cannot hold it
    whole("utf16-file", Q3.encode("utf-16"), "not UTF-8", 1),
    edited("nul-byte", "  country: Kazakhstan", "  country: Kazak\x00hstan", "control character"),
    edited(
        "escape-char", "  country: Kazakhstan", "  country: Kazak\x1bhstan", "control character"
    ),
    edited(
        "duplicate-top-key",
        "report:\n",
        "quarter: 2023-Q3\nreport:\n",
        "appears twice (first on line",
    ),
    edited(
        "duplicate-nested-key",
        "{country: China, number: 131203, share: 29.3}",
        "{country: China, number: 131203, number: 1, share: 29.3}",
        "'number' appears twice",
    ),
    whole(
        "alias-bomb",
        "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
        "e: [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n",
        "anchors and aliases",
        2,  # where the first alias is written
    ),
    edited(
        "merge-key",
        "report:\n  country: Kazakhstan\n",
        "report:\n  <<: {country: Kazakhstan}\n",
        "merge keys",
        at="  <<:",
    ),
    whole(
        "huge-file",
        Q3 + "# padding\n" * (MAX_FILE_BYTES // 10 + 1),
        "more than a quarter file can be",
    ),
    whole("deep-nesting", "quarter: " + "[" * 5000 + "]" * 5000 + "\n", "nest far too deeply", 1),
    whole(
        "too-many-entries",
        "quarter: 2023-Q3\nx: [" + ", ".join(["1"] * (MAX_NODES + 10)) + "]\n",
        "far too many entries",
        2,
    ),
    # --- YAML tags: nothing is constructed or executed ----------------------------------------
    edited(
        "python-tag-scalar",
        "  title: Quarterly Compilation Report",
        "  title: !!python/object/apply:os.system 'echo PWNED'",
        "tags such as !!python/object/apply:os.system are not allowed",
    ),
    edited(
        "python-tag-sequence",
        "  title: Quarterly Compilation Report",
        "  title: !!python/object/apply:os.system ['touch mtmreport-pwned']",
        "tags such as !!python/object/apply:os.system are not allowed",
    ),
    edited(
        "custom-include-tag",
        "  title: Quarterly Compilation Report",
        "  title: !include /etc/passwd",
        "tags such as !include are not allowed",
    ),
    edited(
        "binary-tag",
        "  title: Quarterly Compilation Report",
        "  title: !!binary aGVsbG8=",
        "tags such as !!binary are not allowed",
    ),
    # --- the file's shape ---------------------------------------------------------------------
    whole("top-level-list", "- quarter: 2023-Q3\n- report: {}\n", "a set of keys", 1),
    whole("top-level-text", "just some text\n", "a set of keys", 1),
    edited(
        "list-instead-of-keys",
        "report:\n  country: Kazakhstan\n  title: Quarterly Compilation Report\n"
        "  published: 2023-12            # month of publication\n",
        "report: [Kazakhstan, Quarterly Compilation Report]\n",
        "report: expected a set of keys",
    ),
    whole(
        "keys-instead-of-list",
        cut(
            "          items:                      # by type of economic activity",
            6,
            "          items: {category: construction, number: 4986}\n",
        ),
        "expected a list",
        line_of(Q3, "          items:                      # by type of economic activity"),
    ),
    edited("unknown-top-key", "report:\n", "editor: A. Analyst\nreport:\n", "unknown key 'editor'"),
    edited(
        "misspelled-key",
        "          arrivals:",
        "          arivals:",
        "unknown key 'arivals' — did you mean 'arrivals'?",
    ),
    edited(
        "unknown-block-kind",
        "      - flows:",
        "      - flow:",
        "unknown key 'flow' — did you mean 'flows'?",
    ),
    edited(
        "unknown-section-key",
        "    numbered: false",
        "    numbred: false",
        "unknown key 'numbred' — did you mean 'numbered'?",
    ),
    edited(
        "block-of-two-kinds",
        "      - summary:\n",
        "      - text: {intro: An extra}\n        summary:\n",
        "a block is one of",
    ),
    whole(
        "missing-required-block",
        NO_DEPARTURES,
        "required key 'departures' is missing",
        line_of(NO_DEPARTURES, "      - flows:"),
    ),
    whole(
        "missing-quarter",
        cut("quarter: 2023-Q3", 1),
        "required key 'quarter' is missing",
        line_of(cut("quarter: 2023-Q3", 1), "\nreport:") + 1,  # where the keys begin
    ),
    whole(
        "no-sections",
        Q3[: Q3.index("sections:\n")] + "sections: []\n",
        "needs at least one entry",
        line_of(Q3, "sections:\n"),
    ),
    edited(
        "empty-title",
        "  - title: Developments in the migration policy",
        '  - title: ""',
        "expected text",
    ),
    edited(
        "missing-source-value",
        "          source: National Bank, 2023\n              rate: 472.5",
        "          source:\n              rate: 472.5",
        "source: expected text",
        at="          source:\n              rate: 472.5",
    ),
    # --- numbers ------------------------------------------------------------------------------
    edited("text-in-count", "total: 4482427", "total: lots", "expected a whole number, got 'lots'"),
    edited("thousands-separators", "total: 4482427", "total: 4,482,427", "without separators"),
    edited("decimal-count", "total: 4482427", "total: 4482427.5", "a count has no decimals"),
    edited("negative-count", "total: 4482427", "total: -4482427", "must be at least 0"),
    edited("yes-as-count", "total: 4482427", "total: yes", "expected a whole number, got True"),
    edited("base-60-count", "total: 4482427", "total: 1:30", "plain decimal digits"),
    edited("octal-count", "total: 4482427", "total: 0777", "plain decimal digits"),
    edited("text-in-share", "share: 43.5}", "share: lots}", "expected a number, got 'lots'"),
    edited("negative-share", "share: 43.5}", "share: -43.5}", "must be at least 0"),
    edited("overflowing-amount", "kzt_bn: 280.6", "kzt_bn: 1.0e+400", "out of range"),
    edited("vanishing-rate-as-text", "rate: 472.5 ", 'rate: "1e-400" ', "out of range"),
    edited("infinite-rate", "rate: 472.5 ", "rate: .inf ", "not a usable number"),
    edited(
        "shares-over-100-strict",
        "share: 43.5}",
        "share: 143.5}",
        "over 100 per cent (stated 143.5)",
        strict=True,
    ),
    # --- quarters and periods -----------------------------------------------------------------
    edited("quarter-mismatch", "quarter: 2023-Q3", "quarter: 2023-Q4", "is named for 2023-Q3"),
    edited("quarter-path-in-file", "quarter: 2023-Q3", "quarter: ../../etc", "expected a quarter"),
    whole("quarter-id-dotdot", Q3, "is not in this project's quarter folder", quarter="../../etc"),
    whole(
        "quarter-id-nested-dotdot",
        Q3,
        "is not in this project's quarter folder",
        quarter="2023-Q3/../../x",
    ),
    whole("quarter-id-unknown", Q3, "no file for 2031-Q1", quarter="2031-Q1"),
    edited("period-not-a-period", "period: 2023-Q3", "period: summer", "'summer' is not a period"),
    edited(
        "period-backwards",
        "period: 2023-01..2023-09",
        "period: 2023-09..2023-01",
        "ends before it starts",
    ),
    edited(
        "impossible-date",
        "period: 2023-09-01          # as of",
        "period: 2023-02-30          # as of",
        "'2023-02-30' is not a valid date",
    ),
    edited(
        "month-13",
        "{month: 2023-07, kzt_bn: 88.6",
        "{month: 2023-13, kzt_bn: 88.6",
        "'2023-13' is not a period",
    ),
    edited(
        "month-that-is-a-quarter",
        "{month: 2023-07, kzt_bn: 88.6",
        "{month: 2023-Q3, kzt_bn: 88.6",
        "expected a month such as 2023-07",
    ),
    edited(
        "month-that-is-a-day",
        "{month: 2023-07, kzt_bn: 88.6",
        "{month: 2023-07-15, kzt_bn: 88.6",
        "expected a month such as 2023-07",
    ),
    # --- names and choices --------------------------------------------------------------------
    edited(
        "unknown-country",
        "{country: India, number: 33109",
        "{country: Atlantis, number: 33109",
        "unknown country 'Atlantis'",
    ),
    edited(
        "misspelled-country",
        "{country: India, number: 33109",
        "{country: Uzbekstan, number: 33109",
        "did you mean 'Uzbekistan'?",
    ),
    edited(
        "unknown-region",
        "{region: Almaty city, share: 17.5}",
        "{region: Narnia region, share: 17.5}",
        "unknown region 'Narnia region'",
    ),
    edited(
        "region-as-country",
        "{country: India, number: 33109",
        "{country: Almaty city, number: 33109",
        "unknown country 'Almaty city'",
    ),
    edited("unknown-chart", "          chart: bars", "          chart: pie", "expected one of"),
    edited(
        "map-of-countries",
        "          chart: bars\n          caption: Migrant workers",
        "          chart: map\n          caption: Migrant workers",
        "a map needs items that name regions",
        at="      - breakdown:\n          subject: migrant workers\n          period: 2023-09-01\n"
        "          source: Ministry of Labour and Social Protection, 2023\n          total: 14571",
    ),
    edited("unknown-direction", "direction: outflow", "direction: sideways", "expected one of"),
    # --- hostile text: built, and inert -------------------------------------------------------
    harmless(
        "markdown-script",
        NOTE,
        "            <script>alert(1)</script>" + NOTE[11:],
        "alert",
        pdf=False,
    ),
    harmless(
        "markdown-remote-image",
        COMMENTARY,
        f"            ![tracker]({CANARY}/x.png)" + COMMENTARY[11:],
        "tracker",
    ),
    harmless(
        "markdown-file-link",
        COMMENTARY,
        "            [passwords](file:///etc/passwd)" + COMMENTARY[11:],
        "passwords",
    ),
    harmless(
        "raw-img-file",
        NOTE,
        "            <img src=file:///etc/passwd>" + NOTE[11:],
        "The information on nationality",
    ),
    harmless(
        "raw-img-remote",
        NOTE,
        f'            <img src="{CANARY}/raw.png"> <iframe src="{CANARY}/f"></iframe>' + NOTE[11:],
        "The information on nationality",
    ),
    harmless(
        "javascript-link",
        COMMENTARY,
        "            [click](javascript:alert(1))" + COMMENTARY[11:],
        "click",
        pdf=False,
    ),
    harmless(
        "html-in-caption",
        "caption: Migrant workers in Kazakhstan by nationality",
        "caption: <script>alert(2)</script> Migrant workers in Kazakhstan by nationality",
        "<script>alert(2)</script> Migrant workers",
        pdf=False,
    ),
    harmless(
        "style-link-in-markdown",
        NOTE,
        f'            <link rel="stylesheet" href="{CANARY}/s.css"><style>@import "{CANARY}/i.css";'
        "</style>" + NOTE[11:],
        "The information on nationality",
    ),
]
# The non-UTF-8 case: a Latin-1 "ä" in the country line.
CASES = [
    c
    if c.id != "non-utf8-byte"
    else Case(c.id, c.content.replace(b"Kazakhstan\n", b"Kasachstan \xe4\n", 1), c.message, c.line)
    for c in CASES
]
assert len({c.id for c in CASES}) == len(CASES)


def tree_digest(folder: Path) -> dict[str, str]:
    """Every file (hidden ones too) under `folder` with the SHA-256 of its bytes."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def good(built, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A good 2023-Q3 report (HTML and PDF, every edition) and its chart cache: a copy of the
    session's build, in an output folder of its own; that folder and its digest."""
    output = tmp_path_factory.mktemp("good-output")
    session = built["2023-Q3"].folder
    shutil.copytree(session, output / session.name)
    shutil.copytree(session.parent / CHART_CACHE, output / CHART_CACHE)
    assert (output / "2023-Q3" / "report.pdf").stat().st_size > 10_000
    assert (output / "2023-Q3" / "ru" / "report.pdf").stat().st_size > 10_000
    return output, tree_digest(output)


def case_data(case: Case, folder: Path, canary_url: str) -> Path:
    data = folder / "data"
    data.mkdir()
    (data / "2023-Q3.yaml").write_bytes(case.content.replace(CANARY.encode(), canary_url.encode()))
    return data


def assert_located(case: Case, output: str) -> None:
    assert case.message in output, output
    if case.quarter != "2023-Q3":
        assert output.startswith("error:"), output
    elif case.line is None:
        assert "2023-Q3.yaml:" in output, output
    else:
        assert f"2023-Q3.yaml:{case.line}:" in output, output


def assert_no_traceback(result: Result) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.output
    assert "internal error" not in result.output


@pytest.mark.parametrize("case", [c for c in CASES if not c.harmless], ids=str)
def test_bad_file_is_refused_with_a_located_message(case: Case, good, canary, tmp_path):
    output, digest = good
    data = case_data(case, tmp_path, canary.url)
    args = ["build", case.quarter, "--data", str(data), "--output", str(output)]
    result = run_cli(*args, *(["--strict"] if case.strict else []), catch_exceptions=True)
    assert_no_traceback(result)
    assert result.exit_code == (3 if case.strict else 2), result.output
    assert_located(case, result.output)
    assert tree_digest(output) == digest, "the good report was touched"
    if not case.strict:
        checked = run_cli("validate", case.quarter, "--data", data, catch_exceptions=True)
        assert_no_traceback(checked)
        assert checked.exit_code == 2
        assert_located(case, checked.output)
    assert canary.requests == []
    assert not (Path.cwd() / "mtmreport-pwned").exists()


def build_harmless(content: bytes, good, canary_url: str, folder: Path, *options: str) -> str:
    """Build a harmless quarter file (the English edition, beside the good report's output
    folder, from its chart cache): the report's HTML, once the build is checked."""
    output, digest = good
    data = case_data(Case("", content, ""), folder, canary_url)
    out = seed_chart_cache(folder / "out", output)
    args = ["build", "--lang", "en", "--data", str(data), "--output", str(out), *options]
    result = run_cli(*args, catch_exceptions=True)
    assert_no_traceback(result)
    assert result.exit_code == 0, result.output
    html = (out / "2023-Q3" / "report.html").read_text(encoding="utf-8")
    assert hostile_references(html) == []
    assert (out / "2023-Q3" / "report.pdf").is_file() == ("--no-pdf" not in options)
    assert tree_digest(output) == digest
    return html


@pytest.mark.parametrize("case", [c for c in CASES if c.harmless], ids=str)
def test_hostile_text_renders_inert(case: Case, good, canary, tmp_path):
    html = build_harmless(case.content, good, canary.url, tmp_path, "--no-pdf")
    assert case.message in "".join(tinyhtml5.parse(html).itertext())
    assert canary.requests == []


def test_hostile_texts_laid_out_as_a_pdf_fetch_nothing(good, canary, tmp_path):
    """The harmless cases whose text names a URL or a file, all in one quarter file (each
    one's HTML is checked on its own above), laid out as a PDF: nothing is fetched."""
    fetching = [c for c in CASES if c.harmless and c.pdf]
    text = Q3
    for case in fetching:
        assert case.edit is not None
        old, new = (part.strip() for part in case.edit)  # several edit one text: in turn
        assert text.count(old) == 1, old
        text = text.replace(old, new, 1)
    for case in fetching:  # every hostile part is in the file
        old, new = (part.strip() for part in case.edit or ())
        assert new.removesuffix(old).strip() in text, case.id
    html = build_harmless(text.encode("utf-8"), good, canary.url, tmp_path)
    shown = "".join(tinyhtml5.parse(html).itertext())
    assert [c.id for c in fetching if c.message not in shown] == []
    assert canary.requests == []


def test_corpus_size():
    assert len(CASES) >= 40


# --- the installed command, in its own process ------------------------------------------------

COMMAND = (
    [str(Path(sys.executable).with_name("mtmreport"))]
    if Path(sys.executable).with_name("mtmreport").is_file()
    else [sys.executable, "-m", "mtmreport"]
)
BY_ID = {c.id: c for c in CASES}


@pytest.mark.parametrize(
    ("case_id", "command"),
    [
        ("python-tag-sequence", COMMAND),
        ("deep-nesting", COMMAND),
        ("non-utf8-byte", [sys.executable, "-m", "mtmreport"]),
        ("quarter-id-dotdot", COMMAND),
        ("markdown-remote-image", [sys.executable, "-m", "mtmreport"]),
    ],
)
def test_in_a_real_process(case_id: str, command: list[str], good, canary, tmp_path):
    case = BY_ID[case_id]
    output, digest = good
    data = case_data(case, tmp_path, canary.url)
    target = seed_chart_cache(tmp_path / "out", output) if case.harmless else output
    folders = ["--data", str(data), "--output", str(target)]
    if case.harmless:  # its text is the analyst's English (see the top of this file)
        folders += ["--lang", "en"]
    process = subprocess.run(
        [*command, "--project", str(ROOT), "build", case.quarter, *folders],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    both = process.stdout + process.stderr
    assert "Traceback" not in both
    if case.harmless:
        assert process.returncode == 0, both
        assert (target / "2023-Q3" / "report.pdf").is_file()
    else:
        assert process.returncode == 2, both
        assert_located(case, process.stderr)
    assert not (tmp_path / "mtmreport-pwned").exists()
    assert canary.requests == []
    assert tree_digest(output) == digest
