"""One record for everything the tool finds in a quarter file: what, where, how serious.

A schema problem that stops a build (`validate`) and an inconsistency the audit reports
(`audit`) are the same kind of thing to an analyst: a place in the file, a code, a message,
and for the audit the stated and computed values. Every code is registered here with its
default severity and a plain-words description (as frictionless-py does for its errors), so
the CLI, `audit.txt`/`audit.json`, the preview and `list` print and count them alike.

Severities, most serious first:

- `error`: the file cannot be read or does not follow the schema; nothing is built.
- `serious`: a printed figure changes beyond rounding, a classification is wrong, or figures
  contradict each other (parts against their total).
- `minor`: a truncation, an ordering, or something worth a second look; no printed figure
  changes beyond the last printed digit.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Severity:
    name: str
    description: str


ERROR = Severity("error", "the file cannot be read or does not follow the schema")
SERIOUS = Severity(
    "serious",
    "figures wrong beyond rounding, wrong classifications and contradictions",
)
MINOR = Severity(
    "minor",
    "truncations, orderings and figures worth a second look",
)
SEVERITIES = (ERROR, SERIOUS, MINOR)  # most serious first
_RANK = {s.name: rank for rank, s in enumerate(SEVERITIES)}


@dataclass(frozen=True)
class Code:
    """A kind of diagnostic: its default severity and what it means, in plain words."""

    name: str
    severity: Severity
    description: str


_CODES = [
    # Reading and schema: the file cannot be built.
    Code("syntax", ERROR, "The file is not valid YAML (indentation, quotes, colons)."),
    Code("encoding", ERROR, "The file is not UTF-8 text."),
    Code("empty", ERROR, "The file has no content."),
    Code("too-large", ERROR, "The file is far larger or deeper than a quarter file can be."),
    Code("tag", ERROR, "A YAML tag (!!python/..., !custom) is used; quarter files have none."),
    Code("alias", ERROR, "YAML anchors, aliases or merge keys are used; write values out."),
    Code("duplicate", ERROR, "A key appears twice in the same mapping."),
    Code("type", ERROR, "A value is of the wrong kind (text for a number, a list for a key)."),
    Code("range", ERROR, "A value lies outside what the field allows."),
    Code("missing", ERROR, "A required key is missing."),
    Code("unknown-key", ERROR, "A key the schema does not know (often a typo)."),
    Code("pending", ERROR, "A figure is pending in a file that is not a draft."),
    Code("invalid", ERROR, "The file or a value breaks a rule of the schema."),
    # Audit, serious: a figure the report prints or relies on is wrong or contradicted.
    Code("group", SERIOUS, "A country is listed under the wrong group (CIS or non-CIS)."),
    Code("parts-exceed-total", SERIOUS, "The parts listed add up to more than their total."),
    Code("total", SERIOUS, "A stated total is not the sum of its parts."),
    Code("balance", SERIOUS, "A stated balance is not the difference of its figures."),
    Code("share", SERIOUS, "A stated share differs from its count and total beyond rounding."),
    Code("shares-sum", SERIOUS, "Shares of a whole do not add up to 100 within rounding."),
    Code("share-over-100", SERIOUS, "A share is over 100 per cent."),
    Code("change", SERIOUS, "A stated change differs from its figures beyond rounding."),
    Code("conversion", SERIOUS, "A dollar amount differs from its tenge amount at the rate."),
    Code("average", SERIOUS, "A stated average is not the total divided by its months."),
    Code("months-sum", SERIOUS, "Monthly amounts do not add up to the period's total."),
    Code("period", SERIOUS, "A period does not fit the report's quarter or its months."),
    Code("listed-twice", SERIOUS, "The same country or item is listed twice."),
    Code("baseline", SERIOUS, "An earlier period's figure differs from that quarter's file."),
    Code("narrative", SERIOUS, "A figure in the text differs from the one the report computes."),
    Code(
        "one-input",
        SERIOUS,
        "One raw figure, typed differently, would reconcile several findings at once.",
    ),
    # Audit, minor: nothing printed changes beyond its last digit.
    Code(
        "truncated",
        MINOR,
        "A stated figure is the computed one cut off (truncated), not rounded: "
        "within one unit of its last printed digit.",
    ),
    Code("order", MINOR, "A ranked list is out of order."),
    Code("period-order", MINOR, "Periods compared are not in time order."),
    Code("suspicious", MINOR, "A figure worth a second look (e.g. copied from another one)."),
    Code(
        "comment-in-value",
        MINOR,
        "A # inside an unquoted value starts a YAML comment and cuts the value short.",
    ),
]
CODES: Mapping[str, Code] = {code.name: code for code in _CODES}


@dataclass(frozen=True)
class Diagnostic:
    """One thing found in a quarter file, located as precisely as the file allows.

    Printed as `file:line:col: field: message (stated X, computed Y)`; `to_dict` gives the
    same as data, with its severity.
    """

    file: str
    message: str
    field: str = ""
    line: int | None = None
    column: int | None = None
    code: str = "invalid"
    stated: str = ""
    computed: str = ""
    severity: str = ""  # the code's default when not given

    def __post_init__(self) -> None:
        if self.code not in CODES:  # a typo in the program, not in the analyst's file
            raise ValueError(f"unregistered diagnostic code {self.code!r}")
        if not self.severity:
            object.__setattr__(self, "severity", CODES[self.code].severity.name)

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        named = f" {self.field}:" if self.field else ""
        shown = [f"{k} {v}" for k, v in (("stated", self.stated), ("computed", self.computed)) if v]
        values = f" ({', '.join(shown)})" if shown else ""
        return printable(f"{where}:{named} {self.message}{values}")

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @property
    def rank(self) -> tuple[int, int, int]:
        """Most serious first, then in reading order."""
        return (_RANK[self.severity], self.line or 0, self.column or 0)


def ordered(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    return sorted(diagnostics, key=lambda d: d.rank)


def tally(diagnostics: Iterable[Diagnostic]) -> dict[str, int]:
    """How many of each severity, most serious first; severities with none left out."""
    counts = {s.name: 0 for s in SEVERITIES}
    for diagnostic in diagnostics:
        counts[diagnostic.severity] += 1
    return {name: n for name, n in counts.items() if n}


def tally_text(diagnostics: Iterable[Diagnostic], noun: str = "finding") -> str:
    """`22 findings: 12 serious, 10 minor`, or `no findings`."""
    return counts_text(tally(diagnostics), noun)


def counts_text(counts: Mapping[str, int], noun: str = "finding") -> str:
    """The words of `tally_text` for counts by severity."""
    total = sum(counts.values())
    if not total:
        return f"no {noun}s"
    parts = ", ".join(f"{n} {name}" for name, n in counts.items() if n)
    return f"{total} {noun}{'s' if total != 1 else ''}: {parts}"


def listing(diagnostics: Iterable[Diagnostic]) -> list[str]:
    """Lines for people: a heading for each severity, then its diagnostics one a line."""
    lines: list[str] = []
    found = ordered(diagnostics)
    for severity in SEVERITIES:
        group = [d for d in found if d.severity == severity.name]
        if group:
            lines.append(f"{severity.name} ({len(group)}): {severity.description}")
            lines.extend(str(d) for d in group)
    return lines


# What changes how a terminal shows text instead of showing itself: control characters (ESC
# starts a command: clear the screen, move the cursor, rewrite a line), format characters
# (bidirectional overrides and isolates reorder a line, "Trojan Source"; zero-width ones hide
# text), the Unicode line and paragraph separators, and code points with no character.
_NOT_SHOWN = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})


def printable(text: str) -> str:
    r"""`text` with every character that would act on a terminal shown as its escape (`\x1b`,
    `\r`, `\u202e`), so that a quarter file's text or a file name cannot drive the terminal a
    message is printed to. Newlines and tabs stay, and so do the letters of every script and
    every kind of space. The one escaper: diagnostics and everything the CLI prints use it."""
    if text.isascii() and text.isprintable():
        return text
    return "".join(
        repr(ch)[1:-1] if ch not in "\n\t" and unicodedata.category(ch) in _NOT_SHOWN else ch
        for ch in text
    )
