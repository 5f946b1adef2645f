"""What is on file: every quarter with its status, pending entries, sections and findings."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from mtmreport.diagnostics import Diagnostic, counts_text, tally
from mtmreport.errors import MtmReportError, QuarterFileError, display_path

if TYPE_CHECKING:
    from mtmreport.project import Project


@dataclass(frozen=True)
class QuarterEntry:
    quarter: str
    status: str  # complete, draft, or invalid
    sections: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    pending_by_section: dict[str, int] = field(default_factory=dict)
    findings: dict[str, int] = field(default_factory=dict)  # audit findings by severity
    problems: list[Diagnostic] = field(default_factory=list)  # why it is invalid
    # Texts of the quarter file still to translate, by edition language (0: all done).
    untranslated: dict[str, int] = field(default_factory=dict)

    def summary_line(self) -> str:
        if self.status == "invalid":
            return f"{self.quarter}  invalid  {len(self.problems)} problem(s): mtmreport validate"
        pending = f", {len(self.pending)} pending" if self.pending else ""
        return (
            f"{self.quarter}  {self.status}{pending}  {len(self.sections)} sections  "
            f"{counts_text(self.findings, 'audit finding')}"
        )

    @property
    def translation_line(self) -> str | None:
        waiting = {lang: n for lang, n in self.untranslated.items() if n}
        if not waiting:
            return None
        return "translation pending: " + "; ".join(
            f"{lang} ({n} texts): mtmreport translate {self.quarter} --lang {lang}"
            for lang, n in waiting.items()
        )

    def detail_lines(self) -> list[str]:
        lines = ["sections: " + "; ".join(self.sections)] if self.sections else []
        if self.pending_by_section:
            lines.append(
                "pending: "
                + "; ".join(f"{title} ({n})" for title, n in self.pending_by_section.items())
            )
        if self.translation_line:
            lines.append(self.translation_line)
        lines.extend(str(problem) for problem in self.problems[:3])
        return lines

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def catalogue(project: Project) -> list[QuarterEntry]:
    """One entry per quarter file, oldest first; an unreadable file is listed as invalid.

    No quarter file at all is an error (`Project.every_quarter`)."""
    from mtmreport.i18n import SOURCE_LANGUAGE
    from mtmreport.texts import load_texts

    editions = [lang for lang in project.templates.languages() if lang != SOURCE_LANGUAGE]
    entries = []
    for quarter in project.every_quarter():
        try:
            loaded = project.loaded(quarter)
        except QuarterFileError as error:
            entries.append(QuarterEntry(quarter, "invalid", problems=list(error.problems)))
            continue
        except MtmReportError as error:
            problem = Diagnostic(display_path(project.data_dir / f"{quarter}.yaml"), str(error))
            entries.append(QuarterEntry(quarter, "invalid", problems=[problem]))
            continue
        model = loaded.quarter
        pending = loaded.figures.pending
        untranslated: dict[str, int] = {}
        problems: list[Diagnostic] = []
        for language in editions:
            try:
                untranslated[language] = len(load_texts(loaded.doc, language).pending)
            except QuarterFileError as error:
                problems.extend(error.problems)
            except MtmReportError as error:
                problems.append(Diagnostic(display_path(loaded.path), str(error)))
        by_section: dict[str, int] = {}
        for block in loaded.figures.blocks:
            if block.pending:
                title = model.sections[int(block.location[1])].title
                by_section[title] = by_section.get(title, 0) + len(block.pending)
        entries.append(
            QuarterEntry(
                quarter=quarter,
                status="draft" if model.status == "draft" or pending else "complete",
                sections=[s.title for s in model.sections],
                pending=pending,
                pending_by_section=by_section,
                findings=tally(project.linked(quarter).findings),
                problems=problems,
                untranslated=untranslated,
            )
        )
    return entries
