"""Wiring the steps into a build, and writing the output so a failure loses nothing.

    load -> validate -> compute -> audit -> charts -> render -> write (HTML, PDF)

Everything is written into a staging folder beside the final one; only when the PDF is
complete does the staging folder replace the previous output, in one atomic step (`publish`).
A build that fails or is killed anywhere leaves the last good report exactly as it was.

Speed (see `make bench`): pandas, matplotlib and WeasyPrint are imported inside the functions
that need them, so `validate` and `audit` never load the last two; charts come from a cache
keyed by what they show (`chartcache`), so a text edit redraws nothing; a helper process
(`helper.Helper`) draws charts or writes the PDF beside the main process, another makes the
other editions (with chart helpers started at the top of the build); and `build_all` has one
compute the quarters while it imports, then a pool of them (`helper.Pool`) write every
edition of every quarter.
"""

from __future__ import annotations

import contextlib
import pickle
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from mtmreport.chartcache import ChartCache, ChartPlan
from mtmreport.diagnostics import Diagnostic, listing, tally_text
from mtmreport.errors import AuditFailedError, BuildError, MtmReportError, display_path
from mtmreport.failures import Failure, describe, project_template_failure, template_failure
from mtmreport.helper import Helper, HelperLost, Pool, RemoteError, Role, can_fork
from mtmreport.i18n import SOURCE_LANGUAGE
from mtmreport.project import LinkedQuarter, Project
from mtmreport.publish import publish, staging, writing_error
from mtmreport.timing import Timer as _Timer

if TYPE_CHECKING:
    from mtmreport.annex import AnnexPlan
    from mtmreport.charts.spec import ChartSpec
    from mtmreport.compute import QuarterFigures
    from mtmreport.project import LoadedQuarter
    from mtmreport.review import Review
    from mtmreport.texts import QuarterTexts
    from mtmreport.theme import Templates
    from mtmreport.wording import Wording

CHART_CACHE = Path(".cache") / "charts"  # inside the output folder


@dataclass(frozen=True)
class BuildOptions:
    strict: bool = False
    pdf: bool = True
    chart_format: str = "png"
    # Reuse chart files from `<output>/.cache/charts/` when their data and style are unchanged,
    # and compiled templates from Jinja's per-user cache folder (never from the output folder).
    cache: bool = True
    # Run a helper process beside the build (off inside `build_all`'s workers: the cores are
    # taken by then).
    parallel: bool = True
    # Also write `review.html`: the report with every figure's formula and source lines.
    review: bool = False
    editor_url: str = ""  # how a review link opens the editor; "" for review's default
    # The editions to make, by language; None makes every edition the project has (English
    # and each language with a catalogue, `i18n.languages`).
    languages: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Edition:
    """One language's report of a quarter, where it was written."""

    language: str
    html: Path
    pdf: Path | None


@dataclass(frozen=True)
class BuildResult:
    quarter: str
    folder: Path
    html: Path
    pdf: Path | None
    findings: list[Diagnostic]
    timings: dict[str, float] = field(default_factory=dict)
    charts_drawn: int = 0
    charts_cached: int = 0
    pending: int = 0  # a draft's entries still to come; they print as "Data pending"
    editions: tuple[Edition, ...] = ()
    warnings: tuple[str, ...] = ()  # translations missing, fuzzy or stale
    # Files of the previous report this build was not asked to make (the PDF under
    # --no-pdf, the review view without --review), kept as they were.
    kept: tuple[Path, ...] = ()


def _copy_assets(templates: Templates, folder: Path) -> str | None:
    """Stylesheet and fonts of the templates in use beside the HTML; a user's logo file if one
    is placed there."""
    shutil.copyfile(templates.find("report.css"), folder / "report.css")
    (folder / "fonts").mkdir(exist_ok=True)
    for font in templates.fonts_dir.iterdir():
        if font.is_file():
            shutil.copyfile(font, folder / "fonts" / font.name)
    logo = templates.optional("logo.svg", "logo.png")
    if logo is not None:
        shutil.copyfile(logo, folder / logo.name)
        return logo.name
    return None


def write_pdf(
    html_path: Path,
    pdf_path: Path,
    allowed_roots: list[Path],
    on_missing: Callable[[], None] | None = None,
) -> None:
    """Lay out the HTML with WeasyPrint, reading only files under `allowed_roots`; see
    `pdf.render_pdf` for `on_missing`."""
    from mtmreport.pdf import render_pdf

    render_pdf(html_path, pdf_path, allowed_roots, on_missing)


CHARTS_PLACED = ".charts-placed"  # in an edition's staging folder while its PDF is laid out


def write_pdf_when_placed(
    html_path: Path, pdf_path: Path, allowed_roots: list[Path], placed: Path
) -> None:
    """`write_pdf` in a helper while the build still has charts drawn: the first image the
    layout finds missing waits for `placed`, which the build creates once every chart is in
    the folder (each is put there whole, under its name, in one step)."""

    def wait() -> None:
        while not placed.exists():  # the build ends this helper should it fail meanwhile
            time.sleep(0.005)

    write_pdf(html_path, pdf_path, allowed_roots, on_missing=wait)


@dataclass
class HtmlDraft:
    """What `write_html` made: the charts it placed (or is still having drawn) and the data
    annex the HTML links to."""

    charts: ChartPlan
    annex: AnnexPlan
    folder: Path
    wording: Wording
    helper: Helper | None = None  # still drawing charts, until `place_charts`

    def place_charts(self) -> None:
        """Wait for the charts still being drawn and copy every chart into the folder."""
        if self.helper is not None:
            helper, self.helper = self.helper, None
            self.charts.wait(helper, self.wording)
            self.charts.copy_into(self.folder, self.wording)


@dataclass(frozen=True)
class StartedCharts:
    """An edition's words, figures and charts, the charts on their way (`start_charts`)."""

    wording: Wording
    figures: QuarterFigures
    specs: dict[tuple, list[ChartSpec]]
    charts: ChartPlan
    in_helper: bool  # drawn by `helper`, to be collected from it
    helper: Helper | None


def start_charts(
    linked: LinkedQuarter,
    templates: Templates,
    *,
    language: str = SOURCE_LANGUAGE,
    cache: ChartCache,
    chart_format: str = "png",
    helper: Helper | None = None,
    timer: _Timer | None = None,
    wording: Wording | None = None,
    texts: QuarterTexts | None = None,
) -> StartedCharts:
    """The first part of `write_html`: an edition's texts and charts planned, and the charts
    the cache lacks drawn by `helper` if it prepared for them (else here and now). Called
    apart when a build starts another edition's charts before that edition is made."""
    timer = timer or _Timer()
    with timer.phase("imports"):
        from mtmreport.charts.plan import plan_charts
        from mtmreport.charts.trends import trend_specs
        from mtmreport.texts import load_texts, translated_figures, with_other_quarters
        from mtmreport.wording import load_wording

    own = linked.loaded.figures
    wording = wording or load_wording(templates, language)
    # The quarter file's own texts in the edition's language, in a copy of the figures (the
    # links to other quarters and the trends follow the figures by their keys, in English).
    texts = texts or load_texts(linked.loaded.doc, wording.language)
    others = [q for q in linked.history.quarters if q != own.quarter_id]
    texts = with_other_quarters(texts, linked.loaded.doc.path.parent, others)
    wording = replace(wording, texts=texts)
    figures = translated_figures(own, texts, wording.gettext("[translation pending]"))
    with timer.phase("charts"):
        trends = trend_specs(linked.history, own, wording)
        specs = plan_charts(figures, wording, extra=trends, source=own)
        charts = ChartPlan(specs, wording, chart_format, cache, templates.font_files)
        in_helper = charts.start(helper, wording)
    return StartedCharts(wording, figures, specs, charts, in_helper, helper)


def write_html(
    linked: LinkedQuarter,
    templates: Templates,
    folder: Path,
    *,
    language: str = SOURCE_LANGUAGE,
    cache: ChartCache,
    chart_format: str = "png",
    helper: Helper | None = None,
    pdf_next: bool = False,
    annex_later: bool = False,
    persistent_templates: bool = False,
    timer: _Timer | None = None,
    review: Review | None = None,
    wording: Wording | None = None,
    texts: QuarterTexts | None = None,
    charts_started: Callable[[], None] | None = None,
    started: StartedCharts | None = None,
) -> HtmlDraft:
    """Charts, stylesheet, fonts and `report.html` of a quarter, written into `folder`; the
    data annex too, unless `annex_later` says the caller writes it (`HtmlDraft.annex.write`)
    while the PDF is laid out.

    The HTML half of a build: `build_report` runs it in its staging folder, the preview
    (`mtmreport serve`) in temporary folders of its own. Charts the cache lacks are drawn by
    `helper` when it prepared for them, while the HTML is rendered here. With `pdf_next`, they
    are left to `HtmlDraft.place_charts`, which the PDF's URL fetcher calls when WeasyPrint,
    having computed the styles meanwhile, first needs an image. With `review`, the review
    view is written beside it as `review.html`. `charts_started` is called as soon as the
    charts are on their way; `started`, if they were already (`start_charts`: `helper`,
    `wording` and `texts` are then its own).
    """
    timer = timer or _Timer()
    if started is None:
        started = start_charts(
            linked,
            templates,
            language=language,
            cache=cache,
            chart_format=chart_format,
            helper=helper,
            timer=timer,
            wording=wording,
            texts=texts,
        )
    wording, figures, specs, charts = (
        started.wording,
        started.figures,
        started.specs,
        started.charts,
    )
    in_helper, helper = started.in_helper, started.helper
    own = linked.loaded.figures
    if charts_started is not None:
        charts_started()
    with timer.phase("imports"):  # only now: the helper should start drawing without delay
        from mtmreport.annex import plan_annex
        from mtmreport.render import chart_views, render_report
        from mtmreport.tables import plan_tables
    tables = plan_tables(figures, wording)
    annex = plan_annex(specs, tables, figures, wording)
    with timer.phase("render"):
        logo = _copy_assets(templates, folder)
        views = chart_views(specs, charts.files, wording)
        history_links = linked.history.links(own)
        for name, marks in (("report.html", None), ("review.html", review)):
            if name == "review.html" and review is None:
                continue
            html = render_report(
                figures,
                views,
                wording,
                templates,
                tables=tables,
                logo=logo,
                annex=annex.links,
                links=history_links,
                persistent_templates=persistent_templates,
                review=marks,
            )
            (folder / name).write_text(html, encoding="utf-8")
        if review is not None:
            shutil.copyfile(templates.find("review.css"), folder / "review.css")
    if not annex_later:
        with timer.phase("annex"):
            annex.write(folder)
    draft = HtmlDraft(charts, annex, folder, wording, helper if in_helper else None)
    if in_helper and pdf_next:
        return draft  # WeasyPrint starts on the styles; `place_charts` when it needs images
    if in_helper:
        with timer.phase("wait"):
            draft.place_charts()
    else:
        with timer.phase("charts"):
            charts.copy_into(folder, wording)
    return draft


def forget_cached_inputs() -> None:
    """Make the next build read the reference tables (and what is made of them) again.

    A process reads them once (they never change during a one-off build); a long-running
    preview calls this when an analyst edits them. Catalogues need nothing: they are kept by
    the hash of their bytes.
    """
    from mtmreport import narrative
    from mtmreport.reference import countries, regions

    for module in (narrative, countries, regions):
        for value in vars(module).values():
            if callable(getattr(value, "cache_clear", None)):
                value.cache_clear()


def _check_output_dir(project: Project) -> None:
    """Refuse an output folder inside the templates: a build copies the fonts from there."""
    output, templates = project.output_dir.resolve(), project.templates_dir.resolve()
    if output == templates or templates in output.parents:
        raise BuildError(
            f"the output folder {display_path(project.output_dir)} is inside the templates "
            f"folder {display_path(project.templates_dir)}; choose one outside it with --output"
        )


def edition_wordings(templates: Templates, languages: tuple[str, ...] | None) -> list[Wording]:
    """The wording of each edition to build, the default language's first; a language with
    no catalogue, or a malformed catalogue, fails here, before anything is written."""
    from mtmreport.wording import load_wording

    wanted = list(languages) if languages else templates.languages()
    ordered = sorted(dict.fromkeys(wanted), key=lambda lang: lang != SOURCE_LANGUAGE)
    return [load_wording(templates, language) for language in ordered]


def _helper_for(
    quarter_id: str, cache: ChartCache, options: BuildOptions
) -> AbstractContextManager[Helper | None]:
    """A helper whose role suits this build, guessed before anything is computed.

    If the quarter's last charts are all cached this is probably a rebuild after a text edit:
    nothing to draw, so the helper prepares WeasyPrint. Otherwise it prepares matplotlib.
    """
    role = _helper_role(quarter_id, cache, options)
    return nullcontext(None) if role is None else Helper(role)


def _helper_role(quarter_id: str, cache: ChartCache, options: BuildOptions) -> Role | None:
    if not options.parallel:
        return None
    if not (options.cache and cache.probably_complete(quarter_id, options.chart_format)):
        return "charts"
    return "pdf" if options.pdf else None


def _pdf_helper_for(
    quarter_id: str, cache: ChartCache, project: Project, options: BuildOptions
) -> AbstractContextManager[Helper | None]:
    """A second helper, for the PDF, when a build of one edition has its charts drawn: it
    imports WeasyPrint while this process computes (taking ~0.6 s off the way to the PDF)
    and lays the PDF out once the HTML is written, its images once the charts are placed.
    A build of several editions imports WeasyPrint here instead, for the editions' helper
    to share (`_write_editions`)."""
    if not (options.pdf and _helper_role(quarter_id, cache, options) == "charts"):
        return nullcontext(None)
    if _edition_count(project, options) != 1:
        return nullcontext(None)
    return Helper("pdf")


def _edition_count(project: Project, options: BuildOptions) -> int:
    """How many editions a build makes: those asked for, else every catalogue's."""
    return len(set(options.languages or project.templates.languages()))


def _edition_helpers_for(
    quarter_id: str, cache: ChartCache, project: Project, options: BuildOptions, stack: ExitStack
) -> list[Helper]:
    """A charts helper for each edition after the first, started now with the first's, when
    those editions are to be made by a helper forked from this process (`_write_editions`)
    and have charts to draw: it imports matplotlib while this process computes, where
    started by that process it would import while the editions wait for their charts. The
    forked process inherits it, and is the only one to use it."""
    count = _edition_count(project, options)
    if count < 2 or not can_fork():
        return []
    if _helper_role(quarter_id, cache, options) != "charts":
        # Nothing to draw: the editions' helper starts PDF helpers of its own, which share
        # the WeasyPrint it inherits rather than import their own.
        return []
    return [stack.enter_context(Helper("charts")) for _ in range(count - 1)]


def _review(loaded: LoadedQuarter, options: BuildOptions) -> Review | None:
    if not options.review:
        return None
    from mtmreport.review import Review, editor_url_template

    return Review(loaded.doc, editor_url_template(options.editor_url))


@dataclass
class _Quarter:
    """A quarter being built: computed and checked once, its editions written into `folder`
    (staging) by this process or others, then published to `final`."""

    quarter_id: str
    linked: LinkedQuarter
    wordings: list[Wording]
    texts: list[QuarterTexts]
    cache: ChartCache
    folder: Path
    final: Path


_Computed = tuple[LinkedQuarter, list["Wording"], list["QuarterTexts"]]


def _compute(quarter_id: str, project: Project, options: BuildOptions, timer: _Timer) -> _Computed:
    """A quarter loaded, computed and audited, with its editions' wordings and texts."""
    with timer.phase("imports"):  # only now, so that a helper imports at the same time
        from mtmreport.texts import load_texts
    linked = project.linked(quarter_id, timer)
    wordings = edition_wordings(project.templates, options.languages)
    texts = [load_texts(linked.loaded.doc, w.language) for w in wordings]
    return linked, wordings, texts


def _compute_every(quarters: list[str], project: Project, options: BuildOptions) -> bytes:
    """`_compute` of every quarter that computes, pickled whole (figures with their traces,
    `provenance.pickled_whole`); a quarter that fails is left out, to fail again where its
    error is reported (`build_all`)."""
    from mtmreport.provenance import pickled_whole

    computed = {}
    for quarter in quarters:
        with contextlib.suppress(Exception):
            computed[quarter] = _compute(quarter, project, options, _Timer())
    return pickled_whole(computed)


def _prepare(
    quarter_id: str,
    project: Project,
    options: BuildOptions,
    cache: ChartCache,
    stack: ExitStack,
    timer: _Timer,
    computed: _Computed | None = None,
) -> _Quarter:
    """Load, compute and audit a quarter (through `project`, once, unless `computed`
    elsewhere already), refuse it where `--strict` says so, and open its staging folder
    (closed with `stack`)."""
    linked, wordings, texts = computed or _compute(quarter_id, project, options, timer)
    loaded, findings = linked.loaded, linked.findings
    if options.strict and loaded.figures.pending:
        raise AuditFailedError(
            f"{quarter_id} is a draft with {len(loaded.figures.pending)} pending entries and "
            "--strict is on; fill them in first (mtmreport list shows them)"
        )
    if options.strict and findings:
        raise AuditFailedError(
            f"{tally_text(findings, 'audit finding')} and --strict is on:\n"
            + "\n".join(listing(findings))
        )
    # Last: a draft or the audit is the first thing to put right.
    untranslated = sum(len(t.pending) for t in texts)
    if options.strict and untranslated:
        raise AuditFailedError(
            f"{untranslated} text(s) of {quarter_id} are not translated yet and --strict "
            "is on:\n" + "\n".join(warning for t in texts for warning in t.warnings)
        )
    folder = stack.enter_context(staging(project.output_dir, quarter_id))
    return _Quarter(
        quarter_id, linked, wordings, texts, cache, folder, project.output_dir / quarter_id
    )


def _chart_cache(project: Project, options: BuildOptions, stack: ExitStack) -> ChartCache:
    if options.cache:
        return ChartCache.inside(project.output_dir, CHART_CACHE)
    scratch = stack.enter_context(tempfile.TemporaryDirectory(prefix="mtmreport-"))
    return ChartCache(Path(scratch))


@contextmanager
def _reported(quarter_id: str, project: Project) -> Iterator[None]:
    """A failure while writing a quarter's output, as the analyst's error it is: a template's
    (exit 6; a line of a project's template that a filter could not take is one too) or a
    writing error (exit 4). Anything else is a bug, left for `failures.describe` to say so
    (exit 1).

    Used in the helpers that write editions too: a template error is located by its
    traceback, which does not travel to another process."""
    import jinja2

    try:
        yield
    except MtmReportError:
        raise
    except jinja2.TemplateError as error:
        raise template_failure(error) from error
    except OSError as error:
        raise writing_error(error, project.output_dir) or BuildError(
            f"building {quarter_id} failed: {error}"
        ) from error
    except Exception as error:
        located = project_template_failure(error)
        if located is None:
            raise
        raise located from error


def _finish(
    quarter: _Quarter,
    made: list[EditionCharts],
    project: Project,
    options: BuildOptions,
    timer: _Timer,
) -> BuildResult:
    """The audit beside the editions, the editions not rebuilt carried over, the chart cache
    told what the quarter uses, and the staging folder published."""
    from mtmreport import audit

    with _reported(quarter.quarter_id, project):
        with timer.phase("annex"):
            audit.write_findings(quarter.linked.findings, quarter.folder)
        _keep_other_editions(quarter.final, quarter.folder, [w.language for w in quarter.wordings])
        kept = _keep_not_rebuilt(quarter)
        if options.cache:  # before publishing: a cache that cannot be written fails here
            keys = [key for charts in made for key in charts.keys]
            quarter.cache.remember(quarter.quarter_id, options.chart_format, keys)
            quarter.cache.prune()
    publish(quarter.folder, quarter.final)
    editions = tuple(
        Edition(
            w.language,
            edition_folder(quarter.final, w.language) / "report.html",
            edition_folder(quarter.final, w.language) / "report.pdf" if options.pdf else None,
        )
        for w in quarter.wordings
    )
    loaded = quarter.linked.loaded
    return BuildResult(
        quarter=quarter.quarter_id,
        folder=quarter.final,
        html=editions[0].html,
        pdf=editions[0].pdf,
        findings=quarter.linked.findings,
        timings=timer.timings,
        charts_drawn=sum(charts.drawn for charts in made),
        charts_cached=sum(charts.cached for charts in made),
        pending=len(loaded.figures.pending),
        editions=editions,
        warnings=tuple(warning for t in quarter.texts for warning in t.warnings),
        kept=kept,
    )


def build_report(
    quarter: str | None, project: Project, options: BuildOptions = BuildOptions()
) -> BuildResult:
    """Build one quarter's report (HTML and PDF) into `<project output>/<quarter>/`.

    `quarter` as typed (None: the latest on file). Quarters the report links to are read
    through `project`, which reads each file once, however many reports it builds."""
    timer = _Timer()
    quarter_id = project.quarter_id(quarter)
    project.quarter_path(quarter_id)  # a wrong id fails before any process starts
    _check_output_dir(project)
    with ExitStack() as stack:
        cache = _chart_cache(project, options, stack)
        pdf_helper = stack.enter_context(_pdf_helper_for(quarter_id, cache, project, options))
        if options.parallel:
            # Before the charts helpers are forked (not the PDF's, which has no use for it):
            # this process needs pandas to compute, they to draw; forked after, they share it
            # rather than each import it (~0.3 s of CPU each) while this process does too.
            import pandas  # noqa: F401
        helper = stack.enter_context(_helper_for(quarter_id, cache, options))
        others = _edition_helpers_for(quarter_id, cache, project, options, stack)
        prepared = _prepare(quarter_id, project, options, cache, stack, timer)
        with _reported(quarter_id, project):
            made = _write_editions(prepared, project, options, helper, timer, pdf_helper, others)
        return _finish(prepared, made, project, options, timer)


def edition_folder(folder: Path, language: str, default: str = SOURCE_LANGUAGE) -> Path:
    """Where an edition goes: the default language's in the quarter's folder itself (where
    it always was), every other in a subfolder named by its language (output/2023-Q3/ru/)."""
    return folder if language == default else folder / language


def _keep_other_editions(final: Path, staging: Path, built: list[str]) -> None:
    """Carry over, into the new folder, the editions this build did not make (a build of
    `--lang ru` keeps the English edition, and the reverse)."""
    if not final.is_dir():
        return
    for child in final.iterdir():
        if child.is_dir() and _is_language(child.name) and child.name not in built:
            shutil.copytree(child, staging / child.name, dirs_exist_ok=True)
    if SOURCE_LANGUAGE not in built:
        for child in final.iterdir():
            if child.is_file() or (child.is_dir() and not _is_language(child.name)):
                target = staging / child.name
                if child.is_dir():
                    shutil.copytree(child, target, dirs_exist_ok=True)
                elif not target.exists():
                    shutil.copy2(child, target)


# Files an edition's folder may hold that a build makes only when asked (the PDF unless
# --no-pdf, the review view and its stylesheet with --review). Reported when kept, but for
# the stylesheet, which goes with the review view.
NOT_ALWAYS_MADE = ("report.pdf", "review.html", "review.css")


def _keep_not_rebuilt(quarter: _Quarter) -> tuple[Path, ...]:
    """Carry over, into each new edition folder, the files of the previous report this build
    did not make (`build --no-pdf` keeps the last PDF, a build without --review the last
    review view): what an analyst did not ask to rebuild stays, and the build says so.
    Returns where they are once published."""
    kept = []
    for wording in quarter.wordings:
        old = edition_folder(quarter.final, wording.language)
        new = edition_folder(quarter.folder, wording.language)
        for name in NOT_ALWAYS_MADE:
            if (old / name).is_file() and not (new / name).exists():
                shutil.copy2(old / name, new / name)
                if name != "review.css":
                    kept.append(old / name)
    return tuple(kept)


def _is_language(name: str) -> bool:
    """A subfolder of a quarter's output that holds an edition (two or three letters)."""
    return name.isascii() and name.isalpha() and name.islower() and 2 <= len(name) <= 3


@dataclass(frozen=True)
class EditionCharts:
    """What one edition's charts took: drawn now or taken from the cache, and their keys."""

    drawn: int
    cached: int
    keys: list[str]

    @classmethod
    def of(cls, plan: ChartPlan) -> EditionCharts:
        missing = len(plan.missing)
        return cls(missing, len(plan.specs) - missing, list(plan.keys))


def _write_editions(
    quarter: _Quarter,
    project: Project,
    options: BuildOptions,
    helper: Helper | None,
    timer: _Timer,
    pdf_helper: Helper | None = None,
    other_helpers: Sequence[Helper] = (),
) -> list[EditionCharts]:
    """Every edition into its folder of the staging folder, from figures computed once.

    The first edition is made here with the helper. Any other is made meanwhile by a helper
    forked from this process once the figures are computed, so it starts with them in memory
    (no copy, no second computation) and the two editions' charts and PDFs are laid out at
    once: on two cores a second edition costs a fraction of the first. Where forking is not
    safe (see `helper.process_context`), or the cores are taken (`parallel` off, as inside
    `build_all`), the editions are made one after the other here.
    """
    count = len(quarter.wordings)
    if count < 2 or not options.parallel or not can_fork():
        return [
            _edition(quarter, project, options, 0, helper, timer, pdf_helper=pdf_helper),
            *(_edition(quarter, project, options, i, None, timer) for i in range(1, count)),
        ]

    def others(started: dict[int, StartedCharts]) -> list[EditionCharts]:
        made = []
        # Reported where it fails: a template error's file and line are in its traceback,
        # which stays in the helper.
        with _reported(quarter.quarter_id, project):
            for i in range(1, count):
                if i in started:  # its charts on their way in a helper started with the build's
                    made.append(
                        _edition(
                            quarter,
                            project,
                            options,
                            i,
                            started[i].helper,
                            _Timer(),
                            started=started[i],
                        )
                    )
                    continue
                # A helper of its own, as the first edition has: its charts are drawn while
                # it computes the styles.
                with _helper_for(quarter.quarter_id, quarter.cache, options) as own:
                    made.append(_edition(quarter, project, options, i, own, _Timer()))
        return made

    with ExitStack() as stack:
        editions: list[Helper] = []

        def fork_others() -> None:
            """Forked once the first edition's charts are on their way, and once this
            process has imported WeasyPrint, which the fork then shares (~0.6 s of CPU).
            Before that, the other editions' charts are started in the helpers started for
            them with the build (`_edition_helpers_for`), which have matplotlib ready."""
            started = {
                i: _start_edition_charts(quarter, project, options, i, own)
                for i, own in enumerate(other_helpers[: count - 1], start=1)
                if own.role == "charts"
            }
            if options.pdf:
                with timer.phase("imports"):
                    import mtmreport.pdf  # noqa: F401
            # Should it die, the other editions are made here after the first. Its errors
            # come back as themselves, reported like the first's.
            forked = Helper(first=(others, (started,)), name="editions")
            editions.append(stack.enter_context(forked))

        first = _edition(quarter, project, options, 0, helper, timer, fork_others)
        with timer.phase("editions"):
            # Should it have died: here, with helpers of their own (the ones it inherited
            # may still be busy with its calls).
            return [first, *editions[0].finish(others, {})]


def _start_edition_charts(
    quarter: _Quarter, project: Project, options: BuildOptions, index: int, helper: Helper
) -> StartedCharts:
    """Edition `index`'s charts started in `helper` (see `start_charts`)."""
    return start_charts(
        quarter.linked,
        project.templates,
        cache=quarter.cache,
        chart_format=options.chart_format,
        helper=helper,
        wording=quarter.wordings[index],
        texts=quarter.texts[index],
    )


def _edition(
    quarter: _Quarter,
    project: Project,
    options: BuildOptions,
    index: int,
    helper: Helper | None,
    timer: _Timer,
    charts_started: Callable[[], None] | None = None,
    pdf_helper: Helper | None = None,
    started: StartedCharts | None = None,
) -> EditionCharts:
    """Edition `index` of a quarter into its folder of the staging folder."""
    wording = quarter.wordings[index]
    folder = edition_folder(quarter.folder, wording.language)
    folder.mkdir(exist_ok=True)
    plan = _write_edition(
        quarter.linked,
        project,
        options,
        folder,
        wording,
        quarter.cache,
        helper,
        timer,
        quarter.texts[index],
        first=index == 0,
        charts_started=charts_started,
        pdf_helper=pdf_helper,
        started=started,
    )
    return EditionCharts.of(plan)


def _write_edition(
    linked: LinkedQuarter,
    project: Project,
    options: BuildOptions,
    folder: Path,
    wording: Wording,
    cache: ChartCache,
    helper: Helper | None,
    timer: _Timer,
    texts: QuarterTexts,
    *,
    first: bool,
    charts_started: Callable[[], None] | None = None,
    pdf_helper: Helper | None = None,
    started: StartedCharts | None = None,
) -> ChartPlan:
    """One edition's HTML, charts, data annex and PDF, written into `folder`; the first
    edition's review view too, when asked for."""
    draft = write_html(
        linked,
        project.templates,
        folder,
        cache=cache,
        chart_format=options.chart_format,
        helper=helper,
        pdf_next=options.pdf,
        annex_later=True,
        persistent_templates=options.cache,
        timer=timer,
        review=_review(linked.loaded, options) if first else None,
        wording=wording,
        texts=texts,
        charts_started=charts_started,
        started=started,
    )
    job = (folder / "report.html", folder / "report.pdf", [folder])
    if options.pdf and helper is not None and helper.role == "pdf":
        pdf_helper = helper
    placed = folder / CHARTS_PLACED
    if options.pdf and pdf_helper is not None:
        pdf_helper.start(write_pdf_when_placed, *job, placed)
    elif options.pdf:
        with timer.phase("pdf"):
            write_pdf(*job, on_missing=draft.place_charts)
    try:
        with timer.phase("wait"):
            draft.place_charts()  # in case the PDF never asked for them
        placed.touch()
        with timer.phase("annex"):  # while the helper, if any, lays the PDF out
            draft.annex.write(folder)
        if options.pdf and pdf_helper is not None:
            with timer.phase("pdf"):
                pdf_helper.finish(write_pdf, *job)
    finally:
        placed.unlink(missing_ok=True)
    return draft.charts


# --- several quarters ------------------------------------------------------------------------


@dataclass(frozen=True)
class QuarterOutcome:
    """How one quarter of `build_all` went: a result, or its failure for a person."""

    quarter: str
    result: BuildResult | None = None
    failure: Failure | None = None

    @property
    def errors(self) -> tuple[str, ...]:
        return self.failure.lines if self.failure is not None else ()

    @property
    def exit_code(self) -> int:
        return self.failure.exit_code if self.failure is not None else 0


def _build_one(quarter: str, project: Project, options: BuildOptions) -> QuarterOutcome:
    """Build one quarter and turn any failure into an outcome, so the others go on."""
    with _outcome_of(quarter) as outcome:
        outcome.append(QuarterOutcome(quarter, result=build_report(quarter, project, options)))
    return outcome[-1]


@contextmanager
def _outcome_of(quarter: str) -> Iterator[list[QuarterOutcome]]:
    """A list to append the quarter's outcome to; a failure inside becomes its outcome."""
    outcome: list[QuarterOutcome] = []
    try:
        yield outcome
    except Exception as error:  # a user's mistake or a bug in one quarter: the others go on
        outcome.append(QuarterOutcome(quarter, failure=describe(error)))


@dataclass
class _Batch:
    """What `build_all`'s pool works from: every quarter computed and staged here. Forked
    helpers inherit it whole; a spawned one (where forking is unsafe) gets the folders only
    and computes the quarter again from the project."""

    project: Project
    options: BuildOptions
    quarters: dict[str, _Quarter]

    def __getstate__(self) -> dict[str, object]:
        light = {q: (p.folder, p.final, p.cache.folder) for q, p in self.quarters.items()}
        return {"project": self.project, "options": self.options, "light": light}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.project, self.options = state["project"], state["options"]  # type: ignore[assignment]
        self.quarters = {}
        light: dict[str, tuple[Path, Path, Path]] = state["light"]  # type: ignore[assignment]
        for quarter_id, (folder, final, cache) in light.items():
            from mtmreport.texts import load_texts

            linked = self.project.linked(quarter_id)
            wordings = edition_wordings(self.project.templates, self.options.languages)
            texts = [load_texts(linked.loaded.doc, w.language) for w in wordings]
            self.quarters[quarter_id] = _Quarter(
                quarter_id, linked, wordings, texts, ChartCache(cache), folder, final
            )


def _edition_task(batch: _Batch, quarter_id: str, index: int) -> EditionCharts:
    """One edition of one quarter of a `build_all`, in a pool's helper; its failure reported
    there, where a template error's traceback (its file and line) still is."""
    quarter = batch.quarters[quarter_id]
    with _reported(quarter_id, batch.project):
        return _edition(quarter, batch.project, batch.options, index, None, _Timer())


def _longest_first(project: Project, quarters: dict[str, _Quarter]) -> list[tuple[str, int]]:
    """Every (quarter, edition) to write, the likely longest first: bigger quarter files
    first, and in a quarter the editions in other languages (longer words, more lines)."""
    tasks = [(q, i) for q, p in quarters.items() for i in range(len(p.wordings))]

    def size(task: tuple[str, int]) -> tuple[int, bool]:
        quarter, index = task
        return project.quarter_path(quarter).stat().st_size, index != 0

    return sorted(tasks, key=size, reverse=True)


def build_all(
    project: Project, options: BuildOptions = BuildOptions(), jobs: int = 1
) -> list[QuarterOutcome]:
    """Build every quarter on file, oldest first, in `jobs` processes at once.

    Like `make -j`, `jobs` caps the processes that work at once. 1 builds in this process,
    one quarter after another, the editions one after the other (a one-core baseline). N
    has a helper compute every quarter while this process imports what the workers need,
    stages them here, then has a `helper.Pool` of N processes, forked with the figures in
    memory, write the editions: every edition of every quarter,
    the likely longest first, so that the cores stay busy to the end. Each quarter is
    published as soon as its last edition is written.
    """
    quarters = project.every_quarter()
    serial = replace(options, parallel=False)
    if jobs <= 1:
        # oldest first, in one project: each file read and computed once
        return [_build_one(q, project, serial) for q in quarters]
    _check_output_dir(project)
    outcomes: dict[str, QuarterOutcome] = {}
    with ExitStack() as stack:
        batch = _Batch(project, serial, {})
        stacks: dict[str, ExitStack] = {}
        computed = _computed_while_importing(quarters, project, serial)
        for quarter in quarters:
            with _outcome_of(quarter) as failed:
                stacks[quarter] = stack.enter_context(ExitStack())
                cache = _chart_cache(project, serial, stacks[quarter])
                batch.quarters[quarter] = _prepare(
                    quarter,
                    project,
                    serial,
                    cache,
                    stacks[quarter],
                    _Timer(),
                    computed.get(quarter),
                )
            if failed:
                outcomes[quarter] = failed[-1]
                stacks.pop(quarter).close()
        tasks = _longest_first(project, batch.quarters)
        made: dict[str, dict[int, EditionCharts]] = {q: {} for q in batch.quarters}
        errors: dict[str, BaseException] = {}
        if tasks:
            pool = stack.enter_context(Pool(min(jobs, len(tasks)), state=batch))
            for index, succeeded, value in pool.map(_edition_task, tasks):
                quarter, edition = tasks[index]
                if succeeded:
                    made[quarter][edition] = value
                else:
                    made[quarter][edition] = EditionCharts(0, 0, [])
                    errors.setdefault(quarter, value)
                if len(made[quarter]) == len(batch.quarters[quarter].wordings):
                    charts = [made[quarter][i] for i in sorted(made[quarter])]
                    outcomes[quarter] = _published(batch, quarter, charts, errors.get(quarter))
                    stacks[quarter].close()  # its staging folder, published or not
    return [outcomes[q] for q in quarters]


def _computed_while_importing(
    quarters: list[str], project: Project, options: BuildOptions
) -> dict[str, _Computed]:
    """Every quarter computed by a helper while this process imports what the pool's
    workers need (`_import_for_workers`): the two are the serial start of `build_all`, and
    take about as long (~0.5-1 s each). The figures come back pickled (~0.3 MB) and are
    inherited by the workers. Should the helper fail, the quarters are computed here."""
    with Helper(name="quarters") as computing:
        computing.start(_compute_every, quarters, project, options)
        _import_for_workers(options)
        try:
            computed: dict[str, _Computed] = pickle.loads(computing.result())
        except (HelperLost, RemoteError):
            return {}
    return computed


def _import_for_workers(options: BuildOptions) -> None:
    """Import here, once, what every worker of the pool needs (WeasyPrint ~0.6 s, matplotlib
    ~0.5 s of CPU each): the forked workers share it rather than each importing its own."""
    if not can_fork():
        return
    from mtmreport.charts import draw  # noqa: F401

    if options.pdf:
        import mtmreport.pdf  # noqa: F401


def _published(
    batch: _Batch, quarter: str, charts: list[EditionCharts], error: BaseException | None
) -> QuarterOutcome:
    """A quarter of `build_all` whose editions are all written (or one failed): finished
    and published, or its error as an outcome."""
    with _outcome_of(quarter) as outcome:
        if error is not None:
            with _reported(quarter, batch.project):
                raise error
        result = _finish(batch.quarters[quarter], charts, batch.project, batch.options, _Timer())
        outcome.append(QuarterOutcome(quarter, result=result))
    return outcome[-1]
