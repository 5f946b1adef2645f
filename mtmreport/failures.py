"""Every failure, as lines a person can act on: the one way an exception becomes a message.

The command line, `build --all` (one outcome a quarter) and the preview's problem overlay all
show a failure through `describe`, so a broken template, a quarter file with problems or a
folder that cannot be written reads the same wherever it shows up:

- the tool's own errors (`MtmReportError`): their located problems (`file:line:col: field:
  message`), or their sentence, with their documented exit code;
- Jinja's errors: the template file and line, and what is wrong in plain words (an undefined
  name says which name and what it was looked up in, never an internal class name);
- YAML and pydantic errors that reach here unconverted: located by their own marks and paths,
  in the words `load` and `validate` use for a quarter file;
- an `OSError`: the file it was about and the system's reason;
- anything else: a bug, said to be one (exit code 1).

Heavy libraries (Jinja, PyYAML, pydantic) are imported only when a failure of theirs is
described: the command line imports this module for every command.
"""

from __future__ import annotations

import difflib
import os
import re
import sys
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, fields, is_dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mtmreport.errors import MtmReportError, TemplateFailedError, display_path

if TYPE_CHECKING:
    from jinja2 import TemplateError

# The exit codes of failures that are not the tool's own errors (see README, "Exit codes").
INTERNAL = 1
USER_FILE = 2
WRITING = 4
TEMPLATE = 6


@dataclass(frozen=True)
class Failure:
    """A failure as lines for a person, and the exit code the command ends with."""

    lines: tuple[str, ...]
    exit_code: int
    # How many of `lines` are located problems of a user's file, printed as they are and
    # counted; 0 when `lines` are one message (its first line says what went wrong).
    problems: int = 0

    @property
    def internal(self) -> bool:
        """A bug of mtmreport, not a mistake in anything the user wrote."""
        return self.exit_code == INTERNAL

    def terminal_lines(self) -> list[str]:
        """The lines as a command prints them on its own: problems, then how many; a message
        after `error: `; a bug as one, with a request to report it."""
        if self.problems:
            count = self.problems
            return [*self.lines, f"{count} problem{'s' if count != 1 else ''} found."]
        if self.internal:
            return [*self.lines, "This is a bug in mtmreport; please report it with the file."]
        first, *rest = self.lines or ("",)
        return [f"error: {first}", *rest]


def describe(error: BaseException) -> Failure:
    """`error` as lines a person can act on, located in their files where possible."""
    problems = getattr(error, "problems", None)
    if isinstance(error, MtmReportError):
        if problems:
            return Failure(tuple(str(p) for p in problems), error.exit_code, len(problems))
        return Failure(_message_lines(str(error)), error.exit_code)
    # A library's error can only be one when that library is loaded: none is imported here.
    jinja2, yaml, pydantic = (sys.modules.get(name) for name in ("jinja2", "yaml", "pydantic"))
    if jinja2 is not None and isinstance(error, jinja2.TemplateError):
        return describe(template_failure(error))
    if yaml is not None and isinstance(error, yaml.YAMLError):
        return _yaml_failure(error)
    if pydantic is not None and isinstance(error, pydantic.ValidationError):
        return _validation_failure(error)
    if isinstance(error, OSError):
        return Failure((_os_error_words(error),), WRITING)
    located = project_template_failure(error)
    if located is not None:
        return describe(located)
    return Failure((f"internal error: {type(error).__name__}: {error}",), INTERNAL)


def _message_lines(text: str) -> tuple[str, ...]:
    return tuple(text.splitlines()) or ("",)


# --- templates ---------------------------------------------------------------------------


def template_failure(error: TemplateError) -> TemplateFailedError:
    """A Jinja error as an analyst can act on it: the template file, its line, plain words."""
    from jinja2 import TemplateNotFound, TemplatesNotFound, TemplateSyntaxError

    if isinstance(error, TemplateSyntaxError):
        where = display_path(error.filename) if error.filename else error.name or "template"
        return TemplateFailedError(f"{where}:{error.lineno}: template error: {error.message}")
    # Jinja rewrites tracebacks so that template frames carry the template's file and line.
    frames = [
        frame
        for frame in traceback.extract_tb(error.__traceback__)
        if frame.filename.endswith(".j2")
    ]
    where = f"{display_path(frames[-1].filename)}:{frames[-1].lineno}: " if frames else ""
    if isinstance(error, TemplatesNotFound):
        words = f"none of the templates {', '.join(map(repr, error.templates))} exists"
    elif isinstance(error, TemplateNotFound):
        words = f"there is no template {error.name!r} (a name in an include or import?)"
    else:
        words = str(error)
    return TemplateFailedError(f"{where}template error: {words}")


def project_template_failure(error: BaseException) -> TemplateFailedError | None:
    """An error raised on a line of a project's own template, located there: a filter given
    a value it cannot take (`{{ "x"|period }}`: a ValueError or TypeError) is the template
    author's to put right, like an undefined name. Any other exception, or one raised on a
    line of the package's templates, is a bug (None)."""
    from mtmreport.theme import package_templates

    if not isinstance(error, (ValueError, TypeError)):
        return None
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename.endswith(".j2")]
    if not frames:
        return None
    innermost = Path(frames[-1].filename).resolve()
    if innermost.is_relative_to(package_templates().resolve()):
        return None
    return TemplateFailedError(
        f"{display_path(innermost)}:{frames[-1].lineno}: template error: a filter or call on "
        f"this line was given a value it cannot take ({type(error).__name__}: {error})"
    )


def undefined_words(owner: Any, name: Any, hint: str | None = None) -> str:
    """Why a template's name is undefined, in plain words: which name, looked up in what, and
    the nearest names it does have. The templates' environment words its undefined values
    with this (`render`), so the message never shows a class's internal name."""
    from jinja2.utils import missing

    if hint:
        return hint
    if owner is missing:
        return f"{name!r} is undefined: no value of that name reaches this template"
    known = _names_of(owner)
    words = f"{name!r} is undefined: no {name!r} in {_kind_words(owner)}"
    near = difflib.get_close_matches(str(name), known, n=1, cutoff=0.6)
    if near:
        return f"{words} — did you mean {near[0]!r}?"
    if known:
        shown = ", ".join(known[:12]) + (", …" if len(known) > 12 else "")
        return f"{words}, which holds: {shown}"
    return words


def _kind_words(owner: Any) -> str:
    """`a placed block` for a PlacedBlock, `a list` for a list: what a template author sees."""
    if isinstance(owner, Mapping):
        return "the mapping"
    if isinstance(owner, (list, tuple)):
        return f"a list of {len(owner)}"
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", type(owner).__name__).lower()
    return f"the {words}"


def _names_of(owner: Any) -> list[str]:
    """The names a template may look up in `owner`, for a suggestion."""
    if isinstance(owner, Mapping):
        return sorted(str(key) for key in owner)
    model_fields = getattr(type(owner), "model_fields", None)
    if isinstance(model_fields, Mapping):  # a pydantic model: its fields, not its methods
        return sorted(model_fields)
    if is_dataclass(owner):
        names = {f.name for f in fields(owner)}
        names |= {n for n, v in vars(type(owner)).items() if isinstance(v, property)}
        return sorted(n for n in names if not n.startswith("_"))
    return []


# --- YAML, pydantic, the operating system ---------------------------------------------------


def _yaml_failure(error: BaseException) -> Failure:
    """A YAML error that no quarter file's reading turned into problems: located by its mark."""
    from mtmreport.load import yaml_error_words

    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    if mark is None:
        return Failure((f"the text is not valid YAML: {error}",), USER_FILE)
    # PyYAML names a stream read from a string `<unicode string>`; a file by its path.
    name = "YAML text" if str(mark.name).startswith("<") else display_path(mark.name)
    where = f"{name}:{mark.line + 1}:{mark.column + 1}"
    return Failure((f"{where}: {yaml_error_words(error)}",), USER_FILE, 1)


def _validation_failure(error: Any) -> Failure:
    """A pydantic validation error that no quarter file's reading located: one line a
    problem, its field as a dotted path, in the words `validate` uses."""
    from mtmreport.load import format_location
    from mtmreport.validate import problem_words

    lines = []
    for detail in error.errors(include_url=False):
        field = format_location(tuple(detail["loc"])) or getattr(error, "title", "value")
        lines.append(f"{field}: {problem_words(detail)}")
    return Failure(tuple(lines), USER_FILE, len(lines))


def _os_error_words(error: OSError) -> str:
    """`data/quarters/2023-Q3.yaml: permission denied`: the file, and the system's reason."""
    reason = error.strerror.lower() if error.strerror else str(error) or type(error).__name__
    names = [n for n in (error.filename, error.filename2) if n is not None]
    if not names:
        return reason
    shown = " → ".join(display_path(os.fsdecode(n)) for n in names)
    return f"{shown}: {reason}"
