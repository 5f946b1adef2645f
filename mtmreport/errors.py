"""The errors the CLI turns into a message and a documented exit code.

A quarter file that cannot be read or validated raises `QuarterFileError` with every problem
as a `Diagnostic` (see `diagnostics`), so the CLI prints them as `file:line:col: field:
message` or as JSON, and tests can assert on them. `failures.describe` turns any of these (and
any other exception) into the lines a person reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from mtmreport.diagnostics import Diagnostic


class MtmReportError(Exception):
    """Base of the errors the CLI turns into a message and a non-zero exit."""

    exit_code = 1


class QuarterFileError(MtmReportError):
    """A quarter file could not be read or does not follow the schema."""

    exit_code = 2

    def __init__(self, problems: Sequence[Diagnostic]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


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


class TemplateFailedError(MtmReportError):
    """A template (the project's or the package's) is broken: `file:line: template error: …`."""

    exit_code = 6


def display_path(path: Path | str) -> str:
    """The path as an analyst would type it: relative to the working folder when inside it."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
