"""Every figure of the published 2023-Q2 and 2023-Q3 reports, checked against the built report.

The reviewed tables in `tests/published_figures/` list, for each number the published report
prints, where it is (a quote of its context in the published text), the value the built report
must print, and the audit finding that explains a difference. This module

- checks the tables against the published texts (copies of `shared/seeds/`, kept beside the
  tables): every number of the text is accounted for by a row or by an exclusion rule written
  in the table's header, and every row's quote and published value are in the text;
- reads both quarters as built once a session (HTML and PDF) and, for every row, finds
  the printed value in the clause of the built report that carries the row's context words,
  in the HTML and in the PDF (its text and the descriptions of its charts), and finds the
  explaining finding in the build's `audit.json`.

Rows the tool gets wrong today are marked `defect` in the table and run as strict xfails.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from xml.etree.ElementTree import Element

import pytest
import tinyhtml5
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject

from tests.conftest import pdf_text

TABLES = Path(__file__).resolve().parent / "published_figures"
QUARTERS = ("2023-Q2", "2023-Q3")
STATUSES = {"same", "computed", "defect"}

# A number as printed: digits with thousands commas (or the seeds' decimal commas) and a
# decimal part; never the tail of a word ("Q2", "A-5" aside) or of another number.
NUMBER = re.compile(r"(?<![\w.,])\d[\d,]*(?:\.\d+)?")


# ---------------------------------------------------------------- the reviewed tables


@dataclass(frozen=True)
class Row:
    quarter: str
    id: str
    page: str
    quote: str
    published: str
    section: str
    block: tuple[str, ...]
    anchor: str
    printed: str
    alt: str
    status: str
    finding: str
    reason: str


def _table(quarter: str) -> tuple[list[tuple[str, re.Pattern[str]]], list[Row]]:
    """The exclusion rules of a table's header and its rows."""
    lines = (TABLES / f"{quarter}.csv").read_text(encoding="utf-8").splitlines()
    rules = []
    for line in lines:
        found = re.match(r"# rule ([\w-]+): (.*)$", line)
        if found:
            rules.append((found[1], re.compile(found[2], re.MULTILINE)))
    body = "\n".join(line for line in lines if not line.startswith("#"))
    rows = [
        Row(
            quarter=quarter,
            id=r["id"],
            page=r["page"],
            quote=r["quote"],
            published=r["published"],
            section=r["section"],
            block=tuple(t for t in r["block"].split("|") if t),
            anchor=r["anchor"],
            printed=r["printed"],
            alt=r["alt"],
            status=r["status"],
            finding=r["finding"],
            reason=r["reason"],
        )
        for r in csv.DictReader(io.StringIO(body))
    ]
    return rules, rows


def _rows() -> list[Row]:
    return [row for quarter in QUARTERS for row in _table(quarter)[1]]


def _param(row: Row) -> object:
    marks = []
    if row.status == "defect":
        marks.append(pytest.mark.xfail(strict=True, reason=f"{row.id}: {row.reason}"))
    return pytest.param(row, id=row.id, marks=marks)


def value(text: str) -> Decimal | None:
    """The number a printed figure stands for: '4,482,427' 4482427, '22,3%' 22.3 (the seeds'
    decimal comma), '296 thousand' 296000; None for figures in words."""
    found = NUMBER.search(text)
    if found is None:
        return None
    digits = found[0].rstrip(",")
    if re.fullmatch(r"\d{1,3},\d{1,2}", digits):  # a decimal comma, as in "200,8"
        digits = digits.replace(",", ".")
    number = Decimal(digits.replace(",", ""))
    if re.search(r"\bthousand\b", text[found.end() :]):
        number *= 1000
    return number


# ---------------------------------------------------------------- the published texts


def _collapse(raw: str) -> tuple[str, list[int]]:
    """The text with each run of whitespace made one space, and where each character was."""
    out, where = [], []
    for index, char in enumerate(raw):
        if char.isspace():
            if out and out[-1] == " ":
                continue
            char = " "
        out.append(char)
        where.append(index)
    return "".join(out), where


def _claims(raw: str, rows: list[Row]) -> tuple[dict[int, str], list[str]]:
    """Where in the raw text each row's number is: {position: row id}, and the problems."""
    text, where = _collapse(raw)
    claims: dict[int, str] = {}
    problems = []
    seen: Counter[tuple[str, str]] = Counter()
    for row in rows:
        # Rows with the same quote and figure take its occurrences in turn.
        nth = seen[(row.quote, row.published)]
        seen[(row.quote, row.published)] += 1
        start = -1
        for _ in range(nth + 1):
            start = text.find(row.quote, start + 1)
            if start < 0:
                break
        if start < 0:
            problems.append(f"{row.id}: quote not in the published text (occurrence {nth + 1})")
            continue
        inside = row.quote.find(row.published)
        if inside < 0:
            problems.append(f"{row.id}: published value {row.published!r} not in its quote")
            continue
        found = NUMBER.search(row.published)
        if found is None:  # a figure in words: it claims no digits
            continue
        position = where[start + inside + found.start()]
        if position in claims:
            problems.append(f"{row.id}: claims the same number as {claims[position]}")
        claims[position] = row.id
    return claims, problems


def unaccounted(raw: str, rules: list[tuple[str, re.Pattern[str]]], rows: list[Row]) -> list[str]:
    """What keeps a table from covering its published text: rows whose quote or value is not
    in it, numbers no row claims and no rule excludes, and rules that exclude a row's number
    (a rule that broad could hide a figure)."""
    claims, problems = _claims(raw, rows)
    excluded = [(m.start(), m.end(), name) for name, rule in rules for m in rule.finditer(raw)]
    for token in NUMBER.finditer(raw):
        if token.start() in claims:
            continue
        if any(start <= token.start() < end for start, end, _ in excluded):
            continue
        line = raw.count("\n", 0, token.start()) + 1
        context = raw[max(0, token.start() - 30) : token.end() + 10]
        problems.append(f"line {line}: {token[0]!r} in no row and no rule: {context!r}")
    problems += [
        f"{claims[position]}: its number is excluded by rule {name}"
        for position in claims
        for start, end, name in excluded
        if start <= position < end
    ]
    return problems


def _published_text(quarter: str) -> str:
    return (TABLES / f"kz-mtm-quarterly-{quarter}.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize("quarter", QUARTERS)
def test_every_number_of_the_published_report_is_in_the_table(quarter: str) -> None:
    rules, rows = _table(quarter)
    assert unaccounted(_published_text(quarter), rules, rows) == []


def test_the_completeness_check_finds_a_missing_row_and_a_broad_rule() -> None:
    rules, rows = _table("2023-Q3")
    raw = _published_text("2023-Q3")
    without_mongolia = [row for row in rows if row.id != "q3-084"]
    problems = unaccounted(raw, rules, without_mongolia)
    assert len(problems) == 1
    assert problems[0].startswith("line 159: '13.4' in no row and no rule")
    broad = [*rules, ("any-share", re.compile(r"\d+\.\d%"))]
    assert "q3-054: its number is excluded by rule any-share" in unaccounted(raw, broad, rows)
    misquoted = [replace(rows[0], quote="damage of 1.4 per cent")]
    assert "q3-001: quote not in the published text (occurrence 1)" in unaccounted(
        raw, rules, misquoted
    )


@pytest.mark.parametrize("quarter", QUARTERS)
def test_table_rows_are_well_formed(quarter: str) -> None:
    _, rows = _table(quarter)
    problems = []
    assert len({row.id for row in rows}) == len(rows)
    for row in rows:
        if row.status not in STATUSES:
            problems.append(f"{row.id}: unknown status {row.status!r}")
        if not row.section or not row.printed:
            problems.append(f"{row.id}: no section or printed value")
        published, printed = value(row.published), value(row.printed)
        differs = published is None or printed is None or published != printed
        if row.status == "same" and published is not None and differs:
            problems.append(f"{row.id}: 'same' but {row.published} is not {row.printed}")
        if row.status == "computed" and (not differs or not row.finding or not row.reason):
            problems.append(f"{row.id}: 'computed' needs a different value, finding and reason")
        if row.status == "defect" and not row.reason:
            problems.append(f"{row.id}: a defect needs its reason")
        if row.finding:
            _finding_spec(row.finding)  # parses
    counted = Counter(row.status for row in rows)
    header = (TABLES / f"{quarter}.csv").read_text(encoding="utf-8")
    stated = re.search(r"# (\d+) rows: (\d+) same, (\d+) computed, (\d+) defect\.", header)
    assert stated is not None, "the header states how many rows of each status"
    assert [int(n) for n in stated.groups()] == [
        len(rows),
        counted["same"],
        counted["computed"],
        counted["defect"],
    ]
    assert problems == []


# ---------------------------------------------------------------- the built report


@dataclass(frozen=True)
class Block:
    """A paragraph, list item, table row, caption or chart description of the built report."""

    heading: str
    text: str


@dataclass(frozen=True)
class Built:
    blocks: list[Block]
    pdf: str
    findings: list[Finding]


@dataclass(frozen=True)
class Finding:
    line: int
    text: str  # code, field and message, for matching the kind of check


def _squash(text: str) -> str:
    """Spaces as spaces, whatever kind the layout ties words with; no word joiners."""
    text = text.replace("\u00a0", " ").replace("\u202f", " ").replace("\u2060", "")
    return re.sub(r"\s+", " ", text).strip()


def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1]


def _element_text(element: Element) -> str:
    """An element's text without its footnotes (printed at the foot of the page), with a space
    between table cells."""
    parts = [element.text or ""]
    for child in element:
        if "footnote" not in (child.get("class") or "").split():
            inner = _element_text(child)
            parts.append(f" {inner} " if _local(child.tag) in {"td", "th"} else inner)
        parts.append(child.tail or "")
    return "".join(parts)


BLOCK_TAGS = {"p", "li", "tr", "figcaption", "caption", "dd", "dt"}


def html_blocks(html: str) -> list[Block]:
    """The report's blocks in order, each under the innermost heading before it."""
    headings: dict[int, str] = {}
    blocks = []
    for element in tinyhtml5.parse(html).iter():
        tag = _local(element.tag)
        if re.fullmatch(r"h[1-6]", tag):
            level = int(tag[1])
            headings = {k: v for k, v in headings.items() if k < level}
            headings[level] = _squash(_element_text(element))
        elif tag in BLOCK_TAGS or (tag == "img" and element.get("alt")):
            text = element.get("alt") if tag == "img" else _element_text(element)
            heading = headings[max(headings)] if headings else ""
            blocks.append(Block(heading, _squash(text)))
    return blocks


def pdf_alt_texts(path: Path) -> list[str]:
    """The descriptions of the PDF's figures (its tagged structure's /Alt entries)."""
    reader = PdfReader(path)
    found: list[str] = []
    pending = [reader.trailer["/Root"].get("/StructTreeRoot")]
    while pending:
        node = pending.pop()
        node = node.get_object() if hasattr(node, "get_object") else node
        if isinstance(node, DictionaryObject):
            if "/Alt" in node:
                found.append(str(node["/Alt"]))
            if "/K" in node:
                pending.append(node["/K"])
        elif isinstance(node, ArrayObject):
            pending.extend(node)
    return found


def audit_findings(folder: Path) -> list[Finding]:
    """The findings of a build's `audit.json`, whatever its outer shape: the line each is
    located at and the words that name its kind (code, field, message)."""
    data = json.loads((folder / "audit.json").read_text(encoding="utf-8"))
    if isinstance(data, dict):
        items = next(
            (data[key] for key in ("findings", "diagnostics", "records") if key in data),
            [v for value in data.values() if isinstance(value, list) for v in value],
        )
    else:
        items = data
    findings = []
    for item in items:
        location = item.get("location", item)
        if isinstance(location, str):
            found = re.search(r":(\d+)", location)
            line = int(found[1]) if found else 0
        else:
            line = int(location.get("line") or 0)
        words = " ".join(str(item.get(k, "")) for k in ("code", "kind", "field", "message"))
        findings.append(Finding(line, words.casefold()))
    return findings


@pytest.fixture(scope="module")
def reports(built) -> dict[str, Built]:
    """Both quarters as the session built them (HTML and PDF), read once."""
    out = {}
    for quarter in QUARTERS:
        result = built[quarter]
        pdf = " | ".join([pdf_text(result.pdf), *map(_squash, pdf_alt_texts(result.pdf))])
        out[quarter] = Built(
            blocks=html_blocks(result.html.read_text(encoding="utf-8")),
            pdf=_squash(pdf),
            findings=audit_findings(result.folder),
        )
    return out


# ---------------------------------------------------------------- finding a printed figure

_SEPARATOR = re.compile(r",\s+(?!with\b)|;\s+|:\s+|\.\s+|\s+and\s+")


def clauses(text: str) -> list[str]:
    """A block cut at ', ', '; ', ': ', '. ' and ' and ' outside brackets (', with' is kept:
    the chart descriptions say 'Uzbekistan is the largest, with 43.3%')."""
    parts, depth, start, index = [], 0, 0, 0
    while index < len(text):
        char = text[index]
        depth += (char in "([") - (char in ")]")
        found = _SEPARATOR.match(text, index) if depth == 0 else None
        if found and found.end() > index:
            parts.append(text[start:index])
            start = index = found.end()
            continue
        index += 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def prints(text: str, wanted: str) -> bool:
    """Whether a clause prints the figure (numbers compare by value: 10 and 10.0 are one)."""
    number = value(wanted)
    if number is None:
        return wanted.casefold() in text.casefold()
    return any(
        re.fullmatch(r"\d{1,3}(?:,\d{3})*(?:\.\d+)?|\d+(?:\.\d+)?", t[0].rstrip(","))
        and Decimal(t[0].rstrip(",").replace(",", "")) == number
        for t in NUMBER.finditer(text)
    )


def where_printed(report: Built, row: Row, wanted: str) -> list[str]:
    """The clauses (or blocks, for a row without anchor) of the row's section and context
    that print the figure."""
    found = []
    for block in report.blocks:
        if row.section.casefold() not in block.heading.casefold():
            continue
        if not all(term.casefold() in block.text.casefold() for term in row.block):
            continue
        units = clauses(block.text) if row.anchor else [block.text]
        for unit in units:
            if row.anchor.casefold() in unit.casefold() and prints(unit, wanted):
                found.append(unit)
    return found


def in_pdf(pdf: str, unit: str) -> bool:
    """Whether the PDF prints the clause found in the HTML: verbatim, or but for the spaces
    and hyphens of its line breaks."""
    if unit in pdf:
        return True
    squeeze = re.compile(r"[\s\u00ad\u2010-]+")
    return squeeze.sub("", unit) in squeeze.sub("", pdf)


def _finding_spec(spec: str) -> list[tuple[range, list[str]]]:
    """'136 parts-exceed-total|total; 142 total' -> [(range(136, 137), [...]), ...]."""
    out = []
    for part in filter(None, (p.strip() for p in spec.split(";"))):
        lines, kinds = part.split(" ", 1)
        first, _, last = lines.partition("-")
        out.append((range(int(first), int(last or first) + 1), kinds.split("|")))
    return out


def explained(findings: list[Finding], spec: str) -> list[str]:
    """The parts of a finding spec with no matching finding in the audit: same line, and the
    kind named by any word of it (or '*')."""
    missing = []
    for lines, kinds in _finding_spec(spec):
        at_line = [f for f in findings if f.line in lines]
        words = [w.casefold() for kind in kinds for w in re.split(r"-", kind) if w]
        if not any(kinds == ["*"] or any(w in f.text for w in words) for f in at_line):
            missing.append(f"{lines.start}-{lines.stop - 1} {'|'.join(kinds)}")
    return missing


@pytest.mark.parametrize("row", [_param(row) for row in _rows()])
def test_published_figure_is_printed_or_explained(reports: dict[str, Built], row: Row) -> None:
    report = reports[row.quarter]
    wanted = [row.printed, *([row.alt] if row.alt else [])]
    units = [u for w in wanted for u in where_printed(report, row, w)]
    assert units, (
        f"{row.quarter} {row.page}: published {row.published!r} ({row.quote!r}) must print as "
        f"{' or '.join(wanted)} near {row.anchor or row.block!r} under {row.section!r}"
    )
    assert any(in_pdf(report.pdf, unit) for unit in units), f"not in the PDF: {units}"
    if row.finding:
        assert explained(report.findings, row.finding) == [], row.reason


# ---------------------------------------------------------------- the checks can fail

_ARRIVALS = (
    "Of all arrivals, 90.4 per cent (4,051,488 migrants) came from CIS member states: 43.3 per "
    "cent (1,753,689 migrants) from Uzbekistan, 28.5 per cent (1,154,493 migrants) from the "
    "Russian Federation and 0.4 per cent (17,304 migrants) from Belarus."
)


def _row(**fields: str) -> Row:
    base = dict.fromkeys(Row.__dataclass_fields__, "")
    base.update(quarter="2023-Q3", id="t", section="Migration inflow", status="same")
    base.update(fields)
    base["block"] = tuple(t for t in base["block"].split("|") if t)  # type: ignore[union-attr]
    return Row(**base)  # type: ignore[arg-type]


def test_a_figure_is_found_in_its_own_clause_only() -> None:
    assert clauses(_ARRIVALS) == [
        "Of all arrivals",
        "90.4 per cent (4,051,488 migrants) came from CIS member states",
        "43.3 per cent (1,753,689 migrants) from Uzbekistan",
        "28.5 per cent (1,154,493 migrants) from the Russian Federation",
        "0.4 per cent (17,304 migrants) from Belarus.",
    ]
    report = Built(
        blocks=[
            Block("2. Migration inflow and outflow", _ARRIVALS),
            Block(
                "6.1. Remittance outflows from Kazakhstan", "Russian Federation 64.2 135.9 22.9%"
            ),
        ],
        pdf="",
        findings=[],
    )
    russia = _row(block="arrivals", anchor="Russian Federation")
    assert where_printed(report, russia, "28.5") != []
    assert where_printed(report, russia, "43.3") == []  # Uzbekistan's, next to it
    assert where_printed(report, russia, "64.2") == []  # another section's
    assert where_printed(report, _row(block="departures", anchor="Uzbekistan"), "43.3") == []


def test_figures_compare_by_value_and_whole() -> None:
    assert prints("Germany (10.0%)", "10")
    assert prints("a total of 4,482,427 migrant arrivals", "4,482,427")
    assert not prints("most of them from Germany (64.5%)", "64.47")
    assert not prints("143.3 per cent", "43.3")
    assert not prints("43.35 per cent", "43.3")
    assert prints("One thousand four hundred twenty-four employers", "One thousand four hundred")
    assert value("22,3%") == Decimal("22.3") and value("296 thousand") == 296000


def test_findings_are_read_from_any_record_shape(tmp_path: Path) -> None:
    flat = [{"line": 136, "code": "parts-exceed-total", "message": "add up to more"}]
    wrapped = {
        "summary": {"serious": 1},
        "findings": [
            {"code": "parts", "location": {"file": "q.yaml", "line": 136}, "message": "total"}
        ],
    }
    as_text = [{"location": "data/quarters/2023-Q3.yaml:162:17", "code": "narrative"}]
    for shape, spec in (
        (flat, "136 parts-exceed-total"),
        (wrapped, "136 total"),
        (as_text, "157-163 *"),
    ):
        (tmp_path / "audit.json").write_text(json.dumps(shape), encoding="utf-8")
        findings = audit_findings(tmp_path)
        assert explained(findings, spec) == []
        assert explained(findings, "137 total") == ["137-137 total"]
    (tmp_path / "audit.json").write_text(json.dumps(flat), encoding="utf-8")
    assert explained(audit_findings(tmp_path), "136 share") == ["136-136 share"]
