"""Problems found in a quarter file, as data: where (file, line, column, field) and what.

Every step that reads an analyst's file reports through these types, so the CLI can print
them the same way (`file:line:col: field: message`) or as JSON, and tests can assert on them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a quarter file, located as precisely as the file allows."""

    file: str
    message: str
    field: str = ""
    line: int | None = None
    column: int | None = None
    code: str = "invalid"

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        field = f" {self.field}:" if self.field else ""
        return printable(f"{where}:{field} {self.message}")

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


class MtmReportError(Exception):
    """Base of the errors the CLI turns into a message and a non-zero exit."""

    exit_code = 1

    @property
    def lines(self) -> tuple[str, ...]:
        """The error as lines an analyst can act on."""
        return (str(self),)


class QuarterFileError(MtmReportError):
    """A quarter file could not be read or does not follow the schema."""

    exit_code = 2

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @property
    def lines(self) -> tuple[str, ...]:
        """One line a problem, each located in its file."""
        return tuple(str(p) for p in self.problems)


class QuarterNotFoundError(MtmReportError):
    """The quarter asked for has no file, or its id is not a quarter id."""

    exit_code = 2


class CatalogueError(MtmReportError):
    """A translation catalogue or translation file that is missing, malformed or breaks its
    placeholders: a user's file, like a quarter file, so the same exit code."""

    exit_code = 2


class AuditFailedError(MtmReportError):
    """`--strict` and the audit found inconsistencies."""

    exit_code = 3


class BuildError(MtmReportError):
    """Rendering or writing the report failed; the previous output is untouched."""

    exit_code = 4


class ServeError(MtmReportError):
    """The preview could not start, e.g. its port is taken."""

    exit_code = 5


def display_path(path: Path | str) -> str:
    """The path as an analyst would type it: relative to the working folder when inside it."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def printable(text: str) -> str:
    r"""`text` with control characters shown as escapes, so that a quarter file's text (a key
    or a label written as "\e[2J" in YAML) cannot drive the terminal a message is printed to."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch in "\n\t" else repr(ch)[1:-1] for ch in text)
