"""The project: the folder an analyst works in, its folders, and its quarters read once.

A project is a folder with a project file, `mtmreport.toml`, at its top. Every command finds
it from the current folder upward (as MkDocs, Quarto and Sphinx find theirs), or from
`--project DIR`; the paths in the file are relative to the file, so a copied project folder
works on its own files. Nothing is ever looked up beside the installed package except the
defaults it ships (`theme.package_templates`, `reference/`).

A `Project` also owns the reading of its quarters: each quarter's file is parsed,
validated, computed and audited once, whoever asks -- the report being built, another
quarter linking to it, the catalogue -- and again only when the file's bytes have changed (a
long-running preview keeps one project across drafts, and a test may edit a file and build
again).
"""

from __future__ import annotations

import difflib
import hashlib
import re
import tomllib
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from mtmreport.diagnostics import Diagnostic, ordered
from mtmreport.errors import MtmReportError, QuarterFileError, QuarterNotFoundError
from mtmreport.errors import display_path as shown
from mtmreport.periods import QUARTER_ID_PATTERN
from mtmreport.theme import Templates

if TYPE_CHECKING:
    from mtmreport.compute import QuarterFigures
    from mtmreport.history import History
    from mtmreport.load import YamlDocument
    from mtmreport.model import QuarterFile
    from mtmreport.timing import Timer

PROJECT_FILE = "mtmreport.toml"
# The project file's keys, with their defaults and what they mean (the file `init` writes
# says the same).
SETTINGS = {
    "data": ("data/quarters", "the folder of quarter files, one YYYY-QN.yaml a quarter"),
    "templates": (
        "templates",
        "your own templates, styles, fonts, strings: each replaces the packaged file",
    ),
    "output": ("output", "where the reports are written"),
    "language": ("en", "the language of the main edition (others have catalogues in locales/)"),
}
# ASCII digits only (issue 15): "٢٠٢٤-Q1.yaml" only looks like a quarter file.
QUARTER_FILE = re.compile(rf"^{QUARTER_ID_PATTERN}\.yaml\Z", re.ASCII)
# Names an analyst may give a quarter file that are not read: pointed out, never skipped quietly.
NEAR_QUARTER_FILE = re.compile(r"^(\d{4})-[qQ](\d+)\.(ya?ml|YA?ML)\Z", re.ASCII)
QUARTER_TEXT = re.compile(r"^(\d{4})-[qQ](\d+)\Z", re.ASCII)

T = TypeVar("T")


class ProjectError(MtmReportError):
    """No project here, or its project file is wrong; located like a quarter file's problems."""

    exit_code = 2

    def __init__(self, message: str, problems: list[Diagnostic] | None = None):
        self.problems = problems or []
        super().__init__(message if not self.problems else str(self.problems[0]))


@dataclass(frozen=True)
class LoadedQuarter:
    path: Path
    quarter: QuarterFile
    figures: QuarterFigures
    findings: list[Diagnostic]
    doc: YamlDocument


@dataclass(frozen=True)
class LinkedQuarter:
    """A quarter read together with every other quarter on file up to it."""

    loaded: LoadedQuarter
    history: History
    findings: list[Diagnostic]  # its own and those against other quarters' files


def find_project_file(start: Path) -> Path | None:
    """The project file in `start` or the nearest folder above it."""
    start = start.resolve()
    for folder in (start, *start.parents):
        candidate = folder / PROJECT_FILE
        if candidate.is_file():
            return candidate
    return None


@dataclass
class Project:
    """A project's folders, the templates in use, and its quarters, each read once."""

    data_dir: Path
    templates_dir: Path  # the project's own templates; may not exist (the defaults are used)
    output_dir: Path
    language: str = "en"
    file: Path | None = None  # the project file it was read from
    # What has been read so far, by (stage, quarter): a value, or the error reading gave;
    # and the digest of each quarter file's bytes it was made from.
    _read: dict[tuple[str, str], Any] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _digests: dict[str, str] = field(default_factory=dict, init=False, repr=False, compare=False)
    # Things noticed while reading (a `#` cutting a value short), for the CLI to show once.
    notices: list[str] = field(default_factory=list, init=False, repr=False, compare=False)

    # --- finding and making ------------------------------------------------------------------

    @classmethod
    def find(cls, start: Path | None = None) -> Project:
        """The project of the folder `start` (the current folder by default) or one above."""
        start = Path.cwd() if start is None else start
        found = find_project_file(start)
        if found is None:
            raise ProjectError(
                f"{shown(start)} is not in an mtmreport project: no {PROJECT_FILE} here or in "
                "any folder above. Start one with `mtmreport init FOLDER`, or name one with "
                "`mtmreport --project FOLDER ...`."
            )
        return cls.from_file(found)

    @classmethod
    def at(cls, folder: Path) -> Project:
        """The project whose project file is in `folder` (`--project FOLDER`)."""
        if folder.is_file() and folder.name == PROJECT_FILE:
            return cls.from_file(folder)
        if not (folder / PROJECT_FILE).is_file():
            raise ProjectError(
                f"{shown(folder)} is not an mtmreport project: it has no {PROJECT_FILE}. "
                "Start one there with `mtmreport init`."
            )
        return cls.from_file(folder / PROJECT_FILE)

    @classmethod
    def from_file(cls, path: Path) -> Project:
        """Read a project file; every problem is reported as `file:line: key: message`."""
        settings = read_project_file(path)
        root = path.parent
        return cls(
            data_dir=root / settings["data"],
            templates_dir=root / settings["templates"],
            output_dir=root / settings["output"],
            language=settings["language"],
            file=path,
        )

    def __getstate__(self) -> dict[str, Any]:
        # Sent to worker processes without what this process has read.
        state = dict(self.__dict__)
        state["_read"], state["_digests"], state["notices"] = {}, {}, []
        state.pop("templates", None)
        return state

    @cached_property
    def templates(self) -> Templates:
        """The project's templates over the package's defaults."""
        return Templates.over_defaults(self.templates_dir)

    @property
    def schema_file(self) -> Path:
        """The editor schema, beside the quarter folder (files name it `../quarter.schema.json`)."""
        from mtmreport.schema import SCHEMA_FILE_NAME

        return self.data_dir.parent / SCHEMA_FILE_NAME

    # --- quarter files -----------------------------------------------------------------------

    def quarter_ids(self) -> list[str]:
        """Quarter ids on file, oldest first."""
        if not self.data_dir.is_dir():
            return []
        return sorted(
            p.stem for p in self.data_dir.iterdir() if QUARTER_FILE.match(p.name) and p.is_file()
        )

    def stray_files(self) -> list[str]:
        """Files named almost like quarter files, which are not read: said, not skipped."""
        if not self.data_dir.is_dir():
            return []
        said = []
        for path in sorted(self.data_dir.iterdir()):
            match = NEAR_QUARTER_FILE.match(path.name)
            if not match or QUARTER_FILE.match(path.name):
                continue
            year, number = match.group(1), int(match.group(2))
            if not 1 <= number <= 4:
                said.append(f"{shown(path)}: not read: quarters run 1 to 4 ({year}-Q1 … {year}-Q4)")
                continue
            proper = f"{year}-Q{number}.yaml"
            said.append(
                f"{shown(path)}: not read: quarter files are named like {proper}; rename it"
            )
        return said

    def every_quarter(self) -> list[str]:
        """Every quarter on file; none is an error that says where they were looked for."""
        quarters = self.quarter_ids()
        if not quarters:
            raise QuarterNotFoundError(self._none_on_file())
        return quarters

    def latest(self) -> str:
        return self.every_quarter()[-1]

    def _none_on_file(self) -> str:
        if not self.data_dir.is_dir():
            return f"the quarter folder {shown(self.data_dir)} does not exist"
        stray = f" ({len(self.stray_files())} misnamed, listed above)" if self.stray_files() else ""
        return (
            f"no quarter files (YYYY-QN.yaml) in {shown(self.data_dir)}{stray}; "
            "copy a quarter file there to start from (`mtmreport init FOLDER` makes a new "
            "project with an example one)"
        )

    def quarter_id(self, text: str | None) -> str:
        """A quarter id as typed (`2023-Q3`, `2023-q3`, or the path of its file), checked and
        written the one way it names files; None means the latest quarter on file."""
        if text is None:
            return self.latest()
        # Spaces around an id are forgiven, not a newline or a tab: an id that only looks
        # like YYYY-QN is refused before any file is named after it.
        candidate = text.strip(" ")
        if candidate.lower().endswith((".yaml", ".yml")) or "/" in candidate or "\\" in candidate:
            path = Path(candidate)
            if path.resolve().parent != self.data_dir.resolve():
                raise QuarterNotFoundError(
                    f"{candidate} is not in this project's quarter folder {shown(self.data_dir)}"
                )
            if path.suffix != ".yaml":
                raise QuarterNotFoundError(
                    f"{candidate}: quarter files end in .yaml; rename it {path.stem}.yaml"
                )
            candidate = path.stem
        match = QUARTER_TEXT.match(candidate)
        if match and not 1 <= int(match.group(2)) <= 4:
            year = match.group(1)
            raise QuarterNotFoundError(
                f"{candidate!r} is not a quarter: quarters run 1 to 4 ({year}-Q1 … {year}-Q4)"
            )
        if not match:
            raise QuarterNotFoundError(
                f"{candidate!r} is not a quarter; write it as YYYY-QN, for example 2023-Q3"
            )
        return f"{match.group(1)}-Q{int(match.group(2))}"

    def quarter_path(self, quarter: str) -> Path:
        """The file of one quarter (an id as `quarter_id` gives it), which must exist."""
        path = self.data_dir / f"{quarter}.yaml"
        if path.is_file():
            return path
        if not self.data_dir.is_dir():
            raise QuarterNotFoundError(self._none_on_file())
        near = [
            p.name
            for p in self.data_dir.iterdir()
            if p.name.lower() in (f"{quarter}.yaml".lower(), f"{quarter}.yml".lower())
        ]
        if near:
            raise QuarterNotFoundError(
                f"no file {quarter}.yaml in {shown(self.data_dir)}, but {near[0]} is there: "
                f"rename it {quarter}.yaml"
            )
        known = ", ".join(self.quarter_ids()) or "none"
        raise QuarterNotFoundError(
            f"no file for {quarter} in {shown(self.data_dir)} (quarters on file: {known})"
        )

    # --- reading quarters, each stage once ---------------------------------------------------

    def _once(self, stage: str, quarter: str, make: Callable[[], T]) -> T:
        """`make()` for this stage of this quarter, kept until the quarter's file changes."""
        self._forget_if_changed(quarter)
        key = (stage, quarter)
        if key not in self._read:
            try:
                self._read[key] = make()
            except MtmReportError as error:
                self._read[key] = error
        value = self._read[key]
        if isinstance(value, MtmReportError):
            raise value
        return value  # type: ignore[no-any-return]

    def _forget_if_changed(self, quarter: str) -> None:
        """Drop what was made from an earlier version of the quarter's file. Reading its
        bytes again costs microseconds; parsing and computing them is what is kept."""
        try:
            digest = hashlib.sha256(self.quarter_path(quarter).read_bytes()).hexdigest()
        except (OSError, MtmReportError):
            digest = ""  # gone or unreadable: the stages say so when they try
        if self._digests.get(quarter) != digest:
            self._digests[quarter] = digest
            for key in [k for k in self._read if k[1] == quarter]:
                del self._read[key]

    def document(self, quarter: str, timer: Timer | None = None) -> YamlDocument:
        def read() -> YamlDocument:
            from mtmreport.load import read_yaml

            path = self.quarter_path(quarter)
            with _phase(timer, "load"):
                doc = read_yaml(path)
            self.notices.extend(str(w) for w in doc.warnings)
            return doc

        return self._once("document", quarter, read)

    def model(self, quarter: str, timer: Timer | None = None) -> QuarterFile:
        def check() -> QuarterFile:
            from mtmreport.validate import validate_document

            doc = self.document(quarter, timer)
            with _phase(timer, "validate"):
                return validate_document(doc, expected_quarter=quarter)

        return self._once("model", quarter, check)

    def problems(self, quarter: str) -> list[Diagnostic]:
        """Every schema problem of one quarter's file (empty when it is valid)."""
        try:
            self.model(quarter)
        except QuarterFileError as error:
            return error.problems
        return []

    def figures(self, quarter: str, timer: Timer | None = None) -> QuarterFigures:
        """One quarter's computed figures, unaudited: what another quarter's report links to."""

        def calculate() -> QuarterFigures:
            with _phase(timer, "imports"):
                from mtmreport.compute import compute
                from mtmreport.drafts import pending_locations
            model = self.model(quarter, timer)
            doc = self.document(quarter)
            with _phase(timer, "compute"):
                return compute(model, list(pending_locations(doc.data)))

        return self._once("figures", quarter, calculate)

    def loaded(self, quarter: str, timer: Timer | None = None) -> LoadedQuarter:
        """Read, validate, compute and audit one quarter: everything short of output."""

        def audited() -> LoadedQuarter:
            with _phase(timer, "imports"):
                from mtmreport import audit

            figures = self.figures(quarter, timer)
            doc = self.document(quarter)
            with _phase(timer, "audit"):
                findings = audit.audit(figures, doc)
            return LoadedQuarter(doc.path, self.model(quarter), figures, findings, doc)

        return self._once("loaded", quarter, audited)

    def linked(self, quarter: str, timer: Timer | None = None) -> LinkedQuarter:
        """One quarter with the quarters on file up to it, its baselines checked against them.

        Made afresh at each call (from the quarters' kept figures): it depends on every file.
        """
        from mtmreport import audit
        from mtmreport.history import History

        loaded = self.loaded(quarter, timer)
        with _phase(timer, "history"):
            history = History.load(self.quarter_ids(), loaded.figures, self.figures)
            against = audit.cross_quarter(loaded.figures, loaded.doc, history)
            findings = ordered([*loaded.findings, *against])
        return LinkedQuarter(loaded, history, findings)


def _phase(timer: Timer | None, name: str) -> Any:
    return timer.phase(name) if timer is not None else nullcontext()


# --- the project file ------------------------------------------------------------------------


def read_project_file(path: Path) -> dict[str, str]:
    """The settings of a project file, defaults filled in; a `ProjectError` listing every
    problem, each as `file:line: key: message`."""
    name = shown(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ProjectError(f"{name}: cannot read the project file: {error}") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        where = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
        line = int(where.group(1)) if where else None
        column = int(where.group(2)) if where else None
        message = message[: where.start()] if where else message
        raise ProjectError(
            "",
            [
                Diagnostic(
                    name, f"not valid TOML: {message[:1].lower()}{message[1:]}", "", line, column
                )
            ],
        ) from None
    problems = []
    settings = {key: default for key, (default, _) in SETTINGS.items()}
    for key, value in raw.items():
        line = _line_of(text, key)
        if key not in SETTINGS:
            hint = difflib.get_close_matches(key, list(SETTINGS), n=1, cutoff=0.6)
            allowed = f" — did you mean {hint[0]!r}?" if hint else f"; keys: {', '.join(SETTINGS)}"
            problems.append(Diagnostic(name, f"unknown key {key!r}{allowed}", key, line, None))
        elif not isinstance(value, str) or not value.strip():
            problems.append(
                Diagnostic(
                    name,
                    f'write it as text in quotes, e.g. {key} = "{SETTINGS[key][0]}"',
                    key,
                    line,
                )
            )
        else:
            settings[key] = value.strip()
    root = path.parent
    for key, kind in (("data", "quarter folder"), ("templates", "templates folder")):
        folder = root / settings[key]
        if key in raw and isinstance(raw[key], str) and not folder.is_dir():
            problems.append(
                Diagnostic(
                    name,
                    f"the {kind} {settings[key]!r} does not exist (paths are relative to "
                    f"{PROJECT_FILE}: {shown(folder)})",
                    key,
                    _line_of(text, key),
                )
            )
    language = settings["language"]
    if not re.fullmatch(r"[a-z]{2,3}(_[A-Z]{2})?", language):
        problems.append(
            Diagnostic(
                name,
                f'{language!r} is not a language code such as "en" or "ru"',
                "language",
                _line_of(text, "language"),
            )
        )
    if problems:
        raise ProjectError("", problems)
    return settings


def _line_of(text: str, key: str) -> int | None:
    """The line a top-level key is set on (tomllib keeps no positions)."""
    pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.match(line):
            return number
    return None


def project_file_text() -> str:
    """A project file with every key explained, as `init` writes it. The templates line is a
    comment: a new project uses the packaged templates until it has a folder of its own (a
    folder the file names must exist)."""
    lines = [
        "# An mtmreport project. mtmreport finds this file from the folder you work in (or any",
        "# folder below it); the paths here are relative to this file.",
    ]
    for key, (default, meaning) in SETTINGS.items():
        lines.append(f"\n# {meaning[:1].upper()}{meaning[1:]}")
        if key == "templates":
            lines.append("# (uncomment once the folder exists; until then the packaged are used)")
        lines.append(f'{"# " if key == "templates" else ""}{key} = "{default}"')
    return "\n".join(lines) + "\n"
