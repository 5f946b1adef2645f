"""The `mtmreport` command: a thin layer over the library.

Each command parses options, calls one library function and prints the result. Errors the
library raises become a message and an exit code, never a traceback. Heavy modules (pandas,
matplotlib, WeasyPrint) are imported inside the commands that need them, so `--help` is
instant.

Exit codes: 0 success; 1 unexpected internal error; 2 the quarter file or id is wrong;
3 audit findings with --strict; 4 the build failed while writing output; 5 the preview
could not start (its port is taken).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from mtmreport import __version__
from mtmreport.errors import MtmReportError, Problem, QuarterFileError

if TYPE_CHECKING:
    from mtmreport.audit import Finding
    from mtmreport.compute import QuarterFigures

F = TypeVar("F", bound=Callable[..., Any])

EPILOG_BUILD = """\b
Examples:
  mtmreport build                 the latest quarter on file
  mtmreport build 2023-Q2         one quarter
  mtmreport build 2023-Q3 --strict   fail if the audit finds inconsistencies
  mtmreport build 2023-Q3 --lang ru  the Russian edition only (output/2023-Q3/ru/)
  mtmreport build --all --jobs 2  every quarter, two at a time
"""


def _reports_errors(command: F) -> F:
    """Turn library errors into a readable message and a documented exit code."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except QuarterFileError as error:
            for line in error.lines:
                click.echo(line, err=True)
            count = len(error.problems)
            click.echo(f"{count} problem{'s' if count != 1 else ''} found.", err=True)
            sys.exit(error.exit_code)
        except MtmReportError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(error.exit_code)
        except click.ClickException:  # usage errors: click prints them with exit code 2
            raise
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except BrokenPipeError:  # the reader stopped early (`mtmreport audit | head`): fine
            sys.exit(0)
        except Exception as error:
            click.echo(f"internal error: {type(error).__name__}: {error}", err=True)
            click.echo("This is a bug in mtmreport; please report it with the file.", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


def _paths(data: Path | None, templates: Path | None, output: Path | None) -> Any:
    from mtmreport.build import Paths

    defaults = Paths()
    return Paths(
        data_dir=data or defaults.data_dir,
        templates_dir=templates or defaults.templates_dir,
        output_dir=output or defaults.output_dir,
    )


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
def main() -> None:
    """Build IOM's MTM Kazakhstan Quarterly Compilation Report from a quarter's YAML file.

    \b
    Typical use:
      mtmreport build 2023-Q3      write output/2023-Q3/report.pdf and report.html
    """


@main.command(epilog=EPILOG_BUILD)
@click.argument("quarter", required=False)
@_folder_options
@click.option("--strict", is_flag=True, help="Fail when the audit finds inconsistencies.")
@click.option("--no-pdf", is_flag=True, help="Write the HTML only (faster drafts).")
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
    help="With --all: quarters built at once, each in its own process.",
)
@_reports_errors
def build(
    quarter: str | None,
    data: Path | None,
    templates: Path | None,
    output: Path | None,
    strict: bool,
    no_pdf: bool,
    every: bool,
    languages: tuple[str, ...],
    jobs: int,
) -> None:
    """Build the report of QUARTER, by default the latest quarter on file, in every edition:
    English in output/QUARTER/, each other language in output/QUARTER/LANG/."""
    from mtmreport.build import BuildOptions, build_all, build_report

    paths = _paths(data, templates, output)
    options = BuildOptions(strict=strict, pdf=not no_pdf, languages=languages or None)
    if not every:
        if jobs != 1:
            raise click.UsageError("--jobs applies to --all")
        _print_result(build_report(quarter, paths, options))
        return
    if quarter:
        raise click.UsageError("give a QUARTER or --all, not both")
    failed = []
    for outcome in build_all(paths, options, jobs):
        if outcome.result is not None:
            _print_result(outcome.result)
            continue
        for line in outcome.errors:
            click.echo(f"{outcome.quarter}: error: {line}", err=True)
        failed.append(outcome)
    if failed:
        names = ", ".join(o.quarter for o in failed)
        click.echo(f"{len(failed)} quarter(s) failed: {names}", err=True)
        sys.exit(failed[0].exit_code)


def _print_result(result: Any) -> None:
    """What a build wrote, and its audit findings, as `build` prints them."""
    from mtmreport.errors import display_path

    for finding in result.findings:
        click.echo(f"audit: {finding}", err=True)
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    for edition in result.editions:
        click.echo(f"{result.quarter}: wrote {display_path(edition.html)}")
        if edition.pdf:
            click.echo(f"{result.quarter}: wrote {display_path(edition.pdf)}")
    if result.findings:
        click.echo(
            f"{len(result.findings)} audit finding(s); see {display_path(result.folder)}/audit.txt",
            err=True,
        )


def _quarters(quarter: str | None, every: bool, data: Path | None) -> list[str | None]:
    """The quarters a command covers: one, the latest, or all with --all."""
    if not every:
        return [quarter]
    if quarter:
        raise click.UsageError("give a QUARTER or --all, not both")
    from mtmreport.load import quarter_ids

    return list(quarter_ids(_paths(data, None, None).data_dir))


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
    from mtmreport.build import check_quarter

    paths = _paths(data, None, None)
    results = {q or "latest": check_quarter(q, paths) for q in _quarters(quarter, every, data)}
    _print_results(results, as_json, lines_to_stderr=True, tally=lambda n: "valid" if not n else "")
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
    from mtmreport.build import link_quarter, load_quarter

    paths = _paths(data, None, None)
    results = {}
    known: dict[str, QuarterFigures] = {}  # each file computed once, for all the links
    for q in _quarters(quarter, every, data):
        loaded = load_quarter(q, paths)
        results[loaded.quarter.quarter] = link_quarter(loaded, paths, known).findings
    _print_results(results, as_json, lines_to_stderr=False, tally=lambda n: f"{n} finding(s)")
    if strict and any(results.values()):
        sys.exit(3)


def _print_results(
    results: Mapping[str, Sequence[Problem | Finding]],
    as_json: bool,
    *,
    lines_to_stderr: bool,
    tally: Callable[[int], str],
) -> None:
    """Each quarter's problems or findings, as JSON or one line each, then its tally line.

    Problems go to stderr (they stop a build); findings are the audit's output, on stdout.
    """
    import json

    if as_json:
        payload = {q: [item.to_dict() for item in items] for q, items in results.items()}
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    for q, items in results.items():
        for item in items:
            click.echo(str(item), err=lines_to_stderr)
        summary = tally(len(items))
        if summary:
            click.echo(f"{q}: {summary}", err=not lines_to_stderr)


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

    made = new_quarter(quarter, _paths(data, None, None).data_dir)
    click.echo(
        f"created {display_path(made.path)} from {made.template}: a draft with "
        f"{made.pending} pending entries"
    )


@main.command("list")
@DATA_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
@_reports_errors
def list_quarters(data: Path | None, as_json: bool) -> None:
    """Every quarter on file: status, what is pending, sections and audit findings."""
    import json

    from mtmreport.catalogue import catalogue

    entries = catalogue(_paths(data, None, None).data_dir)
    if as_json:
        click.echo(json.dumps([e.to_dict() for e in entries], indent=2, ensure_ascii=False))
        return
    for entry in entries:
        click.echo(entry.summary_line())
        for line in entry.detail_lines():
            click.echo(f"    {line}")


@main.command()
@click.option(
    "--output",
    type=click.Path(path_type=Path, dir_okay=False, allow_dash=True),
    help="File to write, or - for standard output [default: data/quarter.schema.json].",
)
@_reports_errors
def schema(output: Path | None) -> None:
    """Write the JSON Schema of a quarter file, for editors' completion and checks.

    Quarter files name it in their first line (`# yaml-language-server:
    $schema=../quarter.schema.json`); run this after changing the model.
    """
    from mtmreport.build import Paths
    from mtmreport.errors import display_path
    from mtmreport.schema import SCHEMA_FILE_NAME, schema_text, write_schema

    if output is not None and str(output) == "-":
        click.echo(schema_text(), nl=False)
        return
    target = output or Paths().data_dir.parent / SCHEMA_FILE_NAME
    click.echo(f"wrote {display_path(write_schema(target))}")


@main.command()
@click.argument("quarter", required=False)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="Port on 127.0.0.1 to listen on; 0 takes any free port.",
)
@click.option(
    "--lang",
    "language",
    default="en",
    show_default=True,
    metavar="LANG",
    help="The edition to preview: a language with a catalogue in templates/locales/.",
)
@DATA_OPTION
@TEMPLATES_OPTION
@_reports_errors
def serve(
    quarter: str | None, port: int, language: str, data: Path | None, templates: Path | None
) -> None:
    """Preview QUARTER's draft in the browser, rebuilt on every save, until Ctrl-C.

    Listens on 127.0.0.1 only and builds into a temporary folder, never into output/. The
    open page reloads itself when the quarter file, the templates or the reference data
    change, and shows the file's problems over the last good draft while there are any.
    The PDF view shows the pages as they will print, re-rendered in the background.

    \b
    Example:
      mtmreport serve 2023-Q3      then open http://127.0.0.1:8000/
    """
    from mtmreport.preview import serve as serve_preview

    serve_preview(quarter, _paths(data, templates, None), port, log=click.echo, language=language)


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
    from mtmreport.load import latest_quarter, quarter_file, read_yaml
    from mtmreport.texts import update_translation

    data_dir = _paths(data, None, None).data_dir
    path = quarter_file(data_dir, quarter or latest_quarter(data_dir))
    written, stats = update_translation(read_yaml(path), language)
    click.echo(f"wrote {display_path(written)}: {_stats_text(stats)}")


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


@i18n.command("extract")
@TEMPLATES_OPTION
@_reports_errors
def i18n_extract(templates: Path | None) -> None:
    """Collect every message of the templates and the code into messages.pot."""
    from mtmreport import i18n as lib
    from mtmreport.errors import display_path

    folder = _paths(None, templates, None).templates_dir
    catalog = lib.extract(Path(__file__).resolve().parent, folder)
    path = lib.write_catalogue(catalog, lib.template_path(folder), template=True)
    click.echo(f"wrote {display_path(path)}: {len(catalog)} messages")


@i18n.command("update")
@TEMPLATES_OPTION
@_reports_errors
def i18n_update(templates: Path | None) -> None:
    """Merge messages.pot into every language's catalogue: translations kept, changed ones
    marked fuzzy for review."""
    from mtmreport import i18n as lib
    from mtmreport.errors import display_path

    folder = _paths(None, templates, None).templates_dir
    template = lib.read_catalogue(lib.template_path(folder))
    for language in lib.catalogue_languages(folder):
        path, stats = lib.update(folder, template, language)
        click.echo(f"{language}: {display_path(path)}: {_stats_text(stats)}")


@i18n.command("init")
@click.argument("language")
@TEMPLATES_OPTION
@_reports_errors
def i18n_init(language: str, templates: Path | None) -> None:
    """Start LANGUAGE's catalogue from messages.pot (a new edition's language)."""
    from mtmreport import i18n as lib
    from mtmreport.errors import CatalogueError, display_path

    folder = _paths(None, templates, None).templates_dir
    if lib.catalogue_path(folder, language).exists():
        raise CatalogueError(f"{lib.catalogue_path(folder, language)} exists already")
    lib.check_language_code(language)
    template = lib.read_catalogue(lib.template_path(folder))
    path, stats = lib.update(folder, template, language)
    click.echo(f"created {display_path(path)}: {_stats_text(stats)}")


@i18n.command("compile")
@TEMPLATES_OPTION
@_reports_errors
def i18n_compile(templates: Path | None) -> None:
    """Check every catalogue's placeholders and write its .mo file beside it."""
    from mtmreport import i18n as lib
    from mtmreport.errors import display_path

    folder = _paths(None, templates, None).templates_dir
    for language, path, stats in lib.compile_catalogues(folder):
        click.echo(f"{language}: wrote {display_path(path)}: {_stats_text(stats)}")


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
    """
    try:
        main.main(prog_name="mtmreport")
        code = 0
    except SystemExit as exit_:
        if exit_.code is None or isinstance(exit_.code, int):
            code = exit_.code or 0
        else:  # sys.exit("message")
            print(exit_.code, file=sys.stderr)
            code = 1
    for stream in (sys.stdout, sys.stderr):
        with suppress(OSError):  # a reader that stopped early (`| head`)
            stream.flush()
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
