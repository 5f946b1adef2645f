"""Wiring the steps into a build, and writing the output so a failure loses nothing.

    load -> validate -> compute -> audit -> charts -> render -> write (HTML, PDF)

Everything is written into a staging folder beside the final one; only when the PDF is
complete does the staging folder replace the previous output, by rename. A build that fails
anywhere leaves the last good report exactly as it was.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from mtmreport import audit as audit_mod
from mtmreport.charts.plan import ChartSpec, plan_charts
from mtmreport.compute import QuarterFigures, compute
from mtmreport.drafts import pending_locations
from mtmreport.errors import AuditFailedError, BuildError, Problem, QuarterFileError
from mtmreport.load import latest_quarter, quarter_file, read_yaml
from mtmreport.model import QuarterFile
from mtmreport.render import chart_views, render_report
from mtmreport.wording import Wording, load_wording

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Paths:
    """Where a build reads and writes; defaults are the repository's own folders."""

    data_dir: Path = PROJECT_ROOT / "data" / "quarters"
    templates_dir: Path = PROJECT_ROOT / "templates"
    output_dir: Path = PROJECT_ROOT / "output"


@dataclass(frozen=True)
class BuildOptions:
    strict: bool = False
    pdf: bool = True
    chart_format: str = "png"


@dataclass(frozen=True)
class LoadedQuarter:
    path: Path
    quarter: QuarterFile
    figures: QuarterFigures
    findings: list[audit_mod.Finding]


@dataclass(frozen=True)
class BuildResult:
    quarter: str
    folder: Path
    html: Path
    pdf: Path | None
    findings: list[audit_mod.Finding]
    timings: dict[str, float] = field(default_factory=dict)


class _Timer:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - start


def load_quarter(
    quarter: str | None, paths: Paths = Paths(), timer: _Timer | None = None
) -> LoadedQuarter:
    """Read, validate, compute and audit one quarter: everything short of output."""
    from mtmreport.validate import validate_document

    timer = timer or _Timer()
    quarter_id = quarter or latest_quarter(paths.data_dir)
    path = quarter_file(paths.data_dir, quarter_id)
    with timer.phase("load"):
        doc = read_yaml(path)
    with timer.phase("validate"):
        model = validate_document(doc, expected_quarter=quarter_id)
    with timer.phase("compute"):
        figures = compute(model, list(pending_locations(doc.data)))
    with timer.phase("audit"):
        findings = audit_mod.audit(figures, doc)
    return LoadedQuarter(path, model, figures, findings)


def check_quarter(quarter: str | None, paths: Paths = Paths()) -> list[Problem]:
    """Every schema problem of one quarter's file (empty when it is valid)."""
    from mtmreport.validate import validate_document

    quarter_id = quarter or latest_quarter(paths.data_dir)
    try:
        validate_document(
            read_yaml(quarter_file(paths.data_dir, quarter_id)), expected_quarter=quarter_id
        )
    except QuarterFileError as error:
        return error.problems
    return []


def chart_fingerprint(spec: ChartSpec, wording_digest: str, chart_format: str) -> str:
    """A digest of everything a chart's pixels are drawn from (spec, strings, format)."""
    fields = sorted((k, v) for k, v in spec.__dict__.items() if k != "table")
    digest = hashlib.sha256(repr(fields).encode())
    digest.update(spec.table.to_csv(index=False).encode())
    digest.update(f"{wording_digest}.{chart_format}".encode())
    return digest.hexdigest()


def draw_charts(
    specs: dict[tuple, list[ChartSpec]],
    folder: Path,
    wording: Wording,
    chart_format: str,
    reuse: Path | None = None,
) -> dict[str, str]:
    """Draw every chart into `folder/charts`; returns file stem -> relative path.

    With `reuse`, a folder of charts kept by fingerprint, a chart drawn before from the same
    data is copied instead of drawn again: a preview's rebuild then redraws only the charts
    an edit touched (drawing is most of a warm HTML build).
    """
    from mtmreport.charts.draw import draw, save

    charts_dir = folder / "charts"
    charts_dir.mkdir(parents=True, exist_ok=True)
    wording_digest = hashlib.sha256(
        json.dumps(wording.strings, sort_keys=True, default=str).encode()
    ).hexdigest()
    files: dict[str, str] = {}
    for block_specs in specs.values():
        for spec in block_specs:
            name = f"{spec.file_stem}.{chart_format}"
            kept = reuse / chart_fingerprint(spec, wording_digest, chart_format) if reuse else None
            if kept and kept.is_file():
                shutil.copyfile(kept, charts_dir / name)
            else:
                save(draw(spec, wording), charts_dir / name)
                if kept:
                    kept.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(charts_dir / name, kept)
            files[spec.file_stem] = f"charts/{name}"
    return files


def _copy_assets(templates_dir: Path, folder: Path) -> str | None:
    """Stylesheet and fonts beside the HTML; a user's logo file if one is placed there."""
    shutil.copy2(templates_dir / "report.css", folder / "report.css")
    shutil.copytree(templates_dir / "fonts", folder / "fonts", dirs_exist_ok=True)
    for candidate in ("logo.svg", "logo.png"):
        if (templates_dir / candidate).is_file():
            shutil.copy2(templates_dir / candidate, folder / candidate)
            return candidate
    return None


def write_pdf(html_path: Path, pdf_path: Path, allowed_roots: list[Path]) -> None:
    """Lay out the HTML with WeasyPrint, reading only files under `allowed_roots`."""
    from mtmreport.pdf import render_pdf

    render_pdf(html_path, pdf_path, allowed_roots)


def write_html(
    loaded: LoadedQuarter,
    templates_dir: Path,
    folder: Path,
    *,
    chart_format: str = "png",
    chart_cache: Path | None = None,
    timer: _Timer | None = None,
) -> Path:
    """Charts, stylesheet, fonts and `report.html` of a loaded quarter, written into `folder`.

    The HTML half of a build with no staging and no PDF: `build_report` runs it in its staging
    folder, the preview (`mtmreport serve`) in temporary folders of its own.
    """
    timer = timer or _Timer()
    wording = load_wording(templates_dir)
    with timer.phase("charts"):
        specs = plan_charts(loaded.figures, wording)
        files = draw_charts(specs, folder, wording, chart_format, chart_cache)
    with timer.phase("render"):
        logo = _copy_assets(templates_dir, folder)
        html = render_report(
            loaded.figures, chart_views(specs, files, wording), wording, templates_dir, logo=logo
        )
        html_path = folder / "report.html"
        html_path.write_text(html, encoding="utf-8")
    return html_path


def forget_cached_inputs() -> None:
    """Make the next build read the strings and reference tables again.

    A process reads them once (they never change during a one-off build); a long-running
    preview calls this when an analyst edits them.
    """
    from mtmreport import wording
    from mtmreport.reference import countries, regions

    for module in (wording, countries, regions):
        for value in vars(module).values():
            if callable(getattr(value, "cache_clear", None)):
                value.cache_clear()


@contextmanager
def _staging(output_dir: Path, quarter: str) -> Iterator[Path]:
    output_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{quarter}.building-", dir=output_dir))
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _publish(staging: Path, final: Path) -> None:
    """Replace `final` with `staging` by renames, restoring the old folder on failure."""
    backup = final.with_name(f".{final.name}.previous-{os.getpid()}")
    had_previous = final.exists()
    if had_previous:
        final.rename(backup)
    try:
        staging.rename(final)
    except OSError:
        if had_previous:
            backup.rename(final)
        raise
    if had_previous:
        shutil.rmtree(backup, ignore_errors=True)


def build_report(
    quarter: str | None = None, paths: Paths = Paths(), options: BuildOptions = BuildOptions()
) -> BuildResult:
    """Build one quarter's report (HTML and PDF) into `paths.output_dir/<quarter>/`."""
    timer = _Timer()
    loaded = load_quarter(quarter, paths, timer)
    quarter_id = loaded.quarter.quarter
    if options.strict and loaded.figures.pending:
        raise AuditFailedError(
            f"{quarter_id} is a draft with {len(loaded.figures.pending)} pending entries and "
            "--strict is on; fill them in first (mtmreport list shows them)"
        )
    if options.strict and loaded.findings:
        raise AuditFailedError(
            f"{len(loaded.findings)} audit finding(s) and --strict is on:\n"
            + "\n".join(str(f) for f in loaded.findings)
        )
    final = paths.output_dir / quarter_id
    with _staging(paths.output_dir, quarter_id) as staging:
        try:
            html_path = write_html(
                loaded, paths.templates_dir, staging, chart_format=options.chart_format, timer=timer
            )
            with timer.phase("render"):
                audit_mod.write_findings(loaded.findings, staging)
            if options.pdf:
                with timer.phase("pdf"):
                    write_pdf(html_path, staging / "report.pdf", [staging, paths.templates_dir])
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise BuildError(f"building {quarter_id} failed: {error}") from error
        _publish(staging, final)
    return BuildResult(
        quarter=quarter_id,
        folder=final,
        html=final / "report.html",
        pdf=final / "report.pdf" if options.pdf else None,
        findings=loaded.findings,
        timings=timer.timings,
    )
