"""The `mtmreport` command: a thin layer over the library.

Each command parses options, calls one library function and prints the result. Errors the
library raises become a message and an exit code, never a traceback. Heavy modules (pandas,
matplotlib, WeasyPrint) are imported inside the commands that need them, so `--help` is
instant.

Exit codes: 0 success; 1 unexpected internal error; 2 a quarter file, quarter id or the
project file is wrong (or there is no project); 3 audit findings with --strict; 4 the build
failed while writing output; 5 the preview could not start (no free port); 6 a template is
broken; 130 interrupted (Ctrl-C, or SIGTERM, which ends a command as Ctrl-C does).
Everything printed passes `diagnostics.printable`.

Every command works on the project of the current folder (found upward by its
`mtmreport.toml`) or of `--project DIR`.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, replace
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from mtmreport import __version__
from mtmreport.diagnostics import Diagnostic, listing, printable, tally_text
from mtmreport.errors import MtmReportError
from mtmreport.failures import describe

if TYPE_CHECKING:
    from mtmreport.project import Project

F = TypeVar("F", bound=Callable[..., Any])
GC_YOUNG_ALLOCATIONS = 10_000  # see `run`


def echo(message: str = "", err: bool = False, nl: bool = True) -> None:
    """Every line a command prints goes through here (see `diagnostics.printable`)."""
    click.echo(printable(str(message)), err=err, nl=nl)


EPILOG_BUILD = """\b
Examples:
  mtmreport build                 the latest quarter on file
  mtmreport build 2023-Q2         one quarter
  mtmreport build 2023-Q3 --strict   fail if the audit finds inconsistencies
  mtmreport build 2023-Q3 --lang ru  the Russian edition only (output/2023-Q3/ru/)
  mtmreport build --all --jobs 2  every quarter, in two processes
"""


def _reports_errors(command: F) -> F:
    """Turn library errors into a readable message and a documented exit code."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except click.ClickException:  # usage errors: click prints them with exit code 2
            raise
        except KeyboardInterrupt:
            echo("interrupted", err=True)
            sys.exit(130)
        except BrokenPipeError:  # the reader stopped early (`mtmreport audit | head`): fine
            sys.exit(0)
        except Exception as error:
            failure = describe(error)
            for line in failure.terminal_lines():
                echo(line, err=True)
            sys.exit(failure.exit_code)

    return wrapper  # type: ignore[return-value]


@dataclass(frozen=True)
class _Where:
    """`--project DIR`, if given: where the commands find the project file."""

    project: Path | None


def _project(
    data: Path | None = None, templates: Path | None = None, output: Path | None = None
) -> Project:
    """The project of `--project` or of the current folder, with any folder the command line
    names instead of the project file's; files named almost like quarter files are pointed
    out at once, what reading the quarters noticed when the command ends."""
    from mtmreport.project import Project

    context = click.get_current_context()
    where = context.find_object(_Where)
    folder = where.project if where is not None else None
    project = Project.at(folder) if folder is not None else Project.find()
    project = replace(
        project,
        data_dir=data or project.data_dir,
        templates_dir=templates or project.templates_dir,
        output_dir=output or project.output_dir,
    )
    for line in project.stray_files():
        echo(f"warning: {line}", err=True)

    def notices() -> None:
        for line in dict.fromkeys(project.notices):
            echo(f"warning: {line}", err=True)

    context.call_on_close(notices)
    return project


DATA_OPTION = click.option(
    "--data",
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder of quarter files [default: data/quarters].",
)
TEMPLATES_OPTION = click.option(
    "--templates",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="Folder of templates, CSS and fonts [default: templates].",
)
OUTPUT_OPTION = click.option(
    "--output",
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder the reports are written to [default: output].",
)


def _folder_options(command: F) -> F:
    return DATA_OPTION(TEMPLATES_OPTION(OUTPUT_OPTION(command)))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mtmreport")
@click.option(
    "--project",
    "project_dir",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="The project folder (with mtmreport.toml) [default: the current folder or one above].",
)
@click.pass_context
def main(context: click.Context, project_dir: Path | None) -> None:
    """Build IOM's MTM Kazakhstan Quarterly Compilation Report from a quarter's YAML file.

    Works on the project of the current folder: the nearest folder upward with an
    mtmreport.toml (`mtmreport init FOLDER` starts one).

    \b
    Typical use:
      mtmreport init my-reports    a new project with an example quarter
      mtmreport build 2023-Q3      write output/2023-Q3/report.pdf and report.html
    """
    context.obj = _Where(project_dir)


@main.command(epilog=EPILOG_BUILD)
@click.argument("quarter", required=False)
@_folder_options
@click.option("--strict", is_flag=True, help="Fail when the audit finds inconsistencies.")
@click.option("--no-pdf", is_flag=True, help="Write the HTML only (faster drafts).")
@click.option(
    "--review",
    is_flag=True,
    help="Also write review.html: every figure with its formula and quarter-file lines.",
)
@click.option(
    "--editor-url",
    metavar="TEMPLATE",
    default="",
    help="How review links open your editor, e.g. 'vscode://file/{path}:{line}:{column}' "
    "(the default; also settable as MTMREPORT_EDITOR_URL).",
)
@click.option("--all", "every", is_flag=True, help="Build every quarter on file.")
@click.option(
    "--lang",
    "languages",
    multiple=True,
    metavar="LANG",
    help="Build the edition in LANG (repeat for several) [default: every language with a "
    "catalogue in templates/locales/, and English].",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="With --all: processes at work at once, each writing one edition at a time.",
)
@_reports_errors
def build(
    quarter: str | None,
    data: Path | None,
    templates: Path | None,
    output: Path | None,
    strict: bool,
    no_pdf: bool,
    review: bool,
    editor_url: str,
    every: bool,
    languages: tuple[str, ...],
    jobs: int,
) -> None:
    """Build the report of QUARTER, by default the latest quarter on file, in every edition:
    English in output/QUARTER/, each other language in output/QUARTER/LANG/."""
    from mtmreport.build import BuildOptions, build_all, build_report

    if review:
        from mtmreport.review import editor_url_template

        try:
            editor_url = editor_url_template(editor_url)
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--editor-url") from None
    options = BuildOptions(
        strict=strict,
        pdf=not no_pdf,
        review=review,
        editor_url=editor_url,
        languages=languages or None,
    )
    if not every:
        if jobs != 1:
            raise click.UsageError("--jobs applies to --all")
        _print_result(build_report(quarter, _project(data, templates, output), options))
        return
    if quarter:
        raise click.UsageError("give a QUARTER or --all, not both")
    failed = []
    for outcome in build_all(_project(data, templates, output), options, jobs):
        if outcome.failure is None:
            _print_result(outcome.result)
            continue
        for line in outcome.failure.terminal_lines():  # as a build of that quarter alone says it
            echo(f"{outcome.quarter}: {line}", err=True)
        failed.append(outcome)
    if failed:
        names = ", ".join(o.quarter for o in failed)
        echo(f"{len(failed)} quarter(s) failed: {names}", err=True)
        sys.exit(failed[0].exit_code)


def _unwritable(error: OSError, folder: Path, what: str, option: str) -> MtmReportError:
    """A file a command writes (not a report) that cannot be written: exit 4, one line."""
    from mtmreport.publish import unwritable

    return unwritable(error, folder, what, "", option)


def _print_result(result: Any) -> None:
    """What a build wrote, and one line on its audit: counts by severity, where the list is."""
    from mtmreport.errors import display_path

    for warning in result.warnings:
        echo(f"warning: {warning}", err=True)
    for edition in result.editions:
        echo(f"{result.quarter}: wrote {display_path(edition.html)}")
        review = edition.html.with_name("review.html")
        if review.exists() and review not in result.kept:
            echo(f"{result.quarter}: wrote {display_path(review)} (the review view)")
        if edition.pdf:
            echo(f"{result.quarter}: wrote {display_path(edition.pdf)}")
    for path in result.kept:
        why = "--no-pdf" if path.name == "report.pdf" else "no --review"
        echo(
            f"{result.quarter}: kept {display_path(path)} from the previous build, "
            f"not made again ({why})"
        )
    if result.findings:
        echo(
            f"{result.quarter}: {tally_text(result.findings, 'audit finding')}; "
            f"the list: {display_path(result.folder)}/audit.txt or "
            f"`mtmreport audit {result.quarter}`",
            err=True,
        )
    if result.pending:
        echo(
            f"{result.quarter}: a draft: {result.pending} entries still pending print as "
            '"Data pending" (`mtmreport list` shows them)'
        )


def _quarters(quarter: str | None, every: bool, project: Project) -> list[str]:
    """The quarters a command covers: one, the latest, or all with --all (none is an error)."""
    if not every:
        return [project.quarter_id(quarter)]
    if quarter:
        raise click.UsageError("give a QUARTER or --all, not both")
    return project.every_quarter()


@main.command()
@click.argument("quarter", required=False)
@click.option("--all", "every", is_flag=True, help="Check every quarter on file.")
@click.option("--json", "as_json", is_flag=True, help="Print the problems as JSON.")
@DATA_OPTION
@_reports_errors
def validate(quarter: str | None, every: bool, as_json: bool, data: Path | None) -> None:
    """Check QUARTER's file against the schema and list every problem.

    \b
    Examples:
      mtmreport validate 2023-Q3
      mtmreport validate --all --json
    """
    project = _project(data)
    results = {q: project.problems(q) for q in _quarters(quarter, every, project)}
    _print_results(
        results,
        as_json,
        lines_to_stderr=True,
        tally=lambda items: "valid" if not items else "",
        lines=lambda items: [str(item) for item in items],
    )
    if any(results.values()):
        sys.exit(2)


@main.command()
@click.argument("quarter", required=False)
@click.option("--all", "every", is_flag=True, help="Audit every quarter on file.")
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
@click.option("--strict", is_flag=True, help="Exit with status 3 when there are findings.")
@DATA_OPTION
@_reports_errors
def audit(quarter: str | None, every: bool, as_json: bool, strict: bool, data: Path | None) -> None:
    """List where QUARTER's stated figures disagree with its own numbers.

    \b
    Examples:
      mtmreport audit 2023-Q3
      mtmreport audit --all --strict
    """
    project = _project(data)  # it reads each file once, for all the links
    results = {q: project.linked(q).findings for q in _quarters(quarter, every, project)}
    _print_results(results, as_json, lines_to_stderr=False, tally=tally_text, lines=listing)
    if strict and any(results.values()):
        sys.exit(3)


def _print_results(
    results: Mapping[str, Sequence[Diagnostic]],
    as_json: bool,
    *,
    lines_to_stderr: bool,
    tally: Callable[[Sequence[Diagnostic]], str],
    lines: Callable[[Sequence[Diagnostic]], list[str]],
) -> None:
    """Each quarter's problems or findings, as JSON or as lines, then its tally line.

    Problems go to stderr (they stop a build); findings are the audit's output, on stdout,
    most serious first under a heading for each severity.
    """
    import json

    if as_json:
        payload = {q: [item.to_dict() for item in items] for q, items in results.items()}
        echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    for q, items in results.items():
        for line in lines(items):
            echo(line, err=lines_to_stderr)
        summary = tally(items)
        if summary:
            echo(f"{q}: {summary}", err=not lines_to_stderr)


@main.command("new")
@click.argument("quarter")
@DATA_OPTION
@_reports_errors
def new(quarter: str, data: Path | None) -> None:
    """Start QUARTER's file as a draft made from the latest earlier quarter.

    Sections, blocks, country lists and comments carry over; periods move on; every figure
    and quarter-specific text becomes `pending`. An existing file is never overwritten.

    \b
    Example:
      mtmreport new 2024-Q1 && mtmreport build 2024-Q1
    """
    from mtmreport.errors import display_path
    from mtmreport.scaffold import new_quarter

    project = _project(data)
    try:
        made = new_quarter(project.quarter_id(quarter), project.data_dir, project.quarter_ids())
    except OSError as error:  # a read-only data folder: the analyst's to fix, not a bug
        raise _unwritable(error, project.data_dir, "the new quarter file", "--data") from None
    echo(
        f"created {display_path(made.path)} from {made.template}: a draft with "
        f"{made.pending} pending entries"
    )
    if made.expected:
        echo(
            f"warning: {made.path.stem} is not the quarter after the latest on file; that "
            f"would be {made.expected}",
            err=True,
        )


@main.command("list")
@DATA_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
@_reports_errors
def list_quarters(data: Path | None, as_json: bool) -> None:
    """Every quarter on file: status, what is pending, sections and audit findings."""
    import json

    from mtmreport.catalogue import catalogue

    entries = catalogue(_project(data))
    if as_json:
        echo(json.dumps([e.to_dict() for e in entries], indent=2, ensure_ascii=False))
        return
    for entry in entries:
        echo(entry.summary_line())
        for line in entry.detail_lines():
            echo(f"    {line}")


@main.command()
@click.option(
    "--output",
    type=click.Path(path_type=Path, dir_okay=False, allow_dash=True),
    help="File to write, or - for standard output [default: quarter.schema.json beside the "
    "project's quarter folder].",
)
@_reports_errors
def schema(output: Path | None) -> None:
    """Write the JSON Schema of a quarter file, for editors' completion and checks.

    Quarter files name it in their first line (`# yaml-language-server:
    $schema=../quarter.schema.json`); run this after changing the model.
    """
    from mtmreport.errors import display_path
    from mtmreport.schema import schema_text, write_schema

    if output is not None and str(output) == "-":
        echo(schema_text(), nl=False)
        return
    target = output or _project().schema_file
    try:
        written = write_schema(target)
    except OSError as error:
        raise _unwritable(error, target.parent, "the schema", "--output") from None
    echo(f"wrote {display_path(written)}")


@main.command()
@click.argument("folder", type=click.Path(path_type=Path, dir_okay=True, file_okay=False))
@_reports_errors
def init(folder: Path) -> None:
    """Start a new project in FOLDER (made if missing): the project file, data/quarters/
    with an example quarter, the editor schema and a .gitignore. Never overwrites a file.

    \b
    Example:
      mtmreport init my-reports && cd my-reports && mtmreport build
    """
    from mtmreport.errors import display_path
    from mtmreport.newproject import init_project

    made = init_project(folder)
    for path in made.written:
        echo(f"created {display_path(path)}")
    echo(
        f"A new project in {display_path(folder)}: edit its quarter files, then run "
        "`mtmreport build` there."
    )


@main.command()
@click.argument("quarter", required=False)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="Port on 127.0.0.1 to listen on; 0 takes any free port.",
)
@click.option("--open", "open_browser", is_flag=True, help="Open the preview in the browser.")
@click.option(
    "--lang",
    "language",
    default="en",
    show_default=True,
    metavar="LANG",
    help="The edition to open first (every edition is served: the main one at /, others "
    "under their language, /ru/).",
)
@click.option(
    "--no-pdf",
    is_flag=True,
    help="No PDF view: the HTML draft only, which spares a slow machine the PDF's work.",
)
@DATA_OPTION
@TEMPLATES_OPTION
@_reports_errors
def serve(
    quarter: str | None,
    port: int,
    open_browser: bool,
    language: str,
    no_pdf: bool,
    data: Path | None,
    templates: Path | None,
) -> None:
    """Preview QUARTER's draft in the browser, rebuilt on every save, until Ctrl-C.

    Listens on 127.0.0.1 only (the next free port when PORT is taken) and builds into a
    temporary folder, never into output/. The
    open page reloads itself when the quarter file, the templates or the reference data
    change, and shows the file's problems over the last good draft while there are any.
    The PDF view shows the pages as they will print, re-rendered in the background
    (not with --no-pdf).
    Every edition is served (English at /, Russian at /ru/), with a switch in the bar;
    only the editions on show are rebuilt.

    \b
    Example:
      mtmreport serve 2023-Q3      then open http://127.0.0.1:8000/ (or /ru/)
    """
    from mtmreport.preview import serve as serve_preview

    serve_preview(
        quarter,
        _project(data, templates),
        port,
        log=echo,
        open_browser=open_browser,
        language=language,
        pdf=not no_pdf,
    )


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


@main.command()
@click.argument("quarter", required=False)
@click.option("--lang", "language", required=True, metavar="LANG", help="The language.")
@DATA_OPTION
@_reports_errors
def translate(quarter: str | None, language: str, data: Path | None) -> None:
    """Write or update QUARTER's translation file for LANG (data/quarters/QUARTER.LANG.po).

    It holds every text of the quarter file (titles, paragraphs, commentary, sources...) for
    a translator to translate in any PO editor. Run again after editing the quarter file:
    translations are kept, those whose English changed are marked fuzzy to review, and those
    of texts that are gone are set aside.

    \b
    Example:
      mtmreport translate 2023-Q3 --lang ru && mtmreport build 2023-Q3 --lang ru
    """
    from mtmreport.errors import display_path
    from mtmreport.load import read_yaml
    from mtmreport.texts import update_translation

    project = _project(data)
    path = project.quarter_path(project.quarter_id(quarter))
    written, stats = update_translation(read_yaml(path), language)
    echo(f"wrote {display_path(written)}: {_stats_text(stats)}")


@main.group()
def i18n() -> None:
    """The report's translation catalogues (gettext PO files under templates/locales/).

    \b
    Typical use, after changing a template's or the code's words:
      mtmreport i18n extract     write templates/locales/messages.pot
      mtmreport i18n update      merge it into every language's messages.po
      (translate the new and fuzzy entries in Poedit, Weblate or any PO editor)
      mtmreport i18n compile     check every catalogue and write its .mo file
    """


def _catalogue_folder(templates: Path | None) -> Path:
    """The templates folder whose catalogues the i18n commands work on: `--templates`, else
    the project's own templates folder."""
    return templates or _project().templates_dir


@i18n.command("extract")
@TEMPLATES_OPTION
@_reports_errors
def i18n_extract(templates: Path | None) -> None:
    """Collect every message of the templates and the code into messages.pot."""
    from mtmreport import i18n as lib
    from mtmreport.errors import display_path

    folder = _catalogue_folder(templates)
    catalog = lib.extract(Path(__file__).resolve().parent, folder)
    path = lib.write_catalogue(catalog, lib.template_path(folder), template=True)
    echo(f"wrote {display_path(path)}: {len(catalog)} messages")


@i18n.command("update")
@TEMPLATES_OPTION
@_reports_errors
def i18n_update(templates: Path | None) -> None:
    """Merge messages.pot into every language's catalogue: translations kept, changed ones
    marked fuzzy for review."""
    from mtmreport import i18n as lib
    from mtmreport.errors import display_path

    folder = _catalogue_folder(templates)
    template = lib.read_catalogue(lib.template_path(folder))
    for language in lib.catalogue_languages(folder):
        path, stats = lib.update(folder, template, language)
        echo(f"{language}: {display_path(path)}: {_stats_text(stats)}")


@i18n.command("init")
@click.argument("language")
@TEMPLATES_OPTION
@_reports_errors
def i18n_init(language: str, templates: Path | None) -> None:
    """Start LANGUAGE's catalogue from messages.pot (a new edition's language)."""
    from mtmreport import i18n as lib
    from mtmreport.errors import CatalogueError, display_path

    folder = _catalogue_folder(templates)
    if lib.catalogue_path(folder, language).exists():
        raise CatalogueError(f"{lib.catalogue_path(folder, language)} exists already")
    lib.check_language_code(language)
    template = lib.read_catalogue(lib.template_path(folder))
    path, stats = lib.update(folder, template, language)
    echo(f"created {display_path(path)}: {_stats_text(stats)}")


@i18n.command("compile")
@TEMPLATES_OPTION
@_reports_errors
def i18n_compile(templates: Path | None) -> None:
    """Check every catalogue's placeholders and write its .mo file beside it."""
    from mtmreport import i18n as lib
    from mtmreport.errors import display_path

    folder = _catalogue_folder(templates)
    for language, path, stats in lib.compile_catalogues(folder):
        echo(f"{language}: wrote {display_path(path)}: {_stats_text(stats)}")


def _stats_text(stats: Any) -> str:
    text = f"{stats.translated} translated"
    if stats.fuzzy:
        text += f", {stats.fuzzy} fuzzy (to review)"
    if stats.untranslated:
        text += f", {stats.untranslated} untranslated"
    return text


def run() -> None:
    """The `mtmreport` program: the CLI, then an exit that skips the interpreter's teardown.

    Tearing down pandas, pydantic, matplotlib and WeasyPrint takes 0.1-0.15 s after every
    command (measured), with nothing left to do: each command has written and closed its
    files, removed its temporary folders and stopped its helper processes before it returns.
    `main` itself stays an ordinary click group, for tests and for embedding.

    The garbage collector looks at young objects every 10,000 allocations rather than 700:
    a build allocates millions (layout boxes, chart artists) over a heap of libraries, and
    Python's defaults spent ~0.7 of a build's 6 s of CPU walking it (measured, 2023-Q3, both
    editions); at 10,000 it is ~0.2 s, for ~3 MB more at the peak. Helpers inherit it.
    """
    gc.set_threshold(GC_YOUNG_ALLOCATIONS, *gc.get_threshold()[1:])
    # `kill` ends a command as Ctrl-C does: temporary folders removed, helpers stopped.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        main.main(prog_name="mtmreport")
        code = 0
    except SystemExit as exit_:
        if exit_.code is None or isinstance(exit_.code, int):
            code = exit_.code or 0
        else:  # sys.exit("message")
            print(printable(str(exit_.code)), file=sys.stderr)
            code = 1
    for stream in (sys.stdout, sys.stderr):
        with suppress(OSError):  # a reader that stopped early (`| head`)
            stream.flush()
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
