"""What is on file: every quarter with its status, pending entries, sections and findings."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from mtmreport.errors import MtmReportError, QuarterFileError
from mtmreport.load import quarter_ids

if TYPE_CHECKING:
    from mtmreport.compute import QuarterFigures


@dataclass(frozen=True)
class QuarterEntry:
    quarter: str
    status: str  # complete, draft, or invalid
    sections: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    pending_by_section: dict[str, int] = field(default_factory=dict)
    findings: int = 0
    problems: list[str] = field(default_factory=list)
    # Texts of the quarter file still to translate, by edition language (0: all done).
    untranslated: dict[str, int] = field(default_factory=dict)

    def summary_line(self) -> str:
        if self.status == "invalid":
            return f"{self.quarter}  invalid  {len(self.problems)} problem(s): mtmreport validate"
        pending = f", {len(self.pending)} pending" if self.pending else ""
        return (
            f"{self.quarter}  {self.status}{pending}  {len(self.sections)} sections  "
            f"{self.findings} audit finding(s)"
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
        lines.extend(self.problems[:3])
        return lines

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def catalogue(data_dir: Path, templates_dir: Path | None = None) -> list[QuarterEntry]:
    """One entry per quarter file, oldest first; an unreadable file is listed as invalid."""
    from mtmreport.build import Paths, link_quarter, load_quarter
    from mtmreport.i18n import SOURCE_LANGUAGE, languages
    from mtmreport.texts import load_texts

    paths = Paths(data_dir=data_dir, templates_dir=templates_dir or Paths().templates_dir)
    editions = [lang for lang in languages(paths.templates_dir) if lang != SOURCE_LANGUAGE]
    entries = []
    known: dict[str, QuarterFigures] = {}  # each file computed once, for all the links
    for quarter in quarter_ids(data_dir):
        try:
            loaded = load_quarter(quarter, paths)
        except QuarterFileError as error:
            entries.append(
                QuarterEntry(quarter, "invalid", problems=[str(p) for p in error.problems])
            )
            continue
        except MtmReportError as error:
            entries.append(QuarterEntry(quarter, "invalid", problems=[str(error)]))
            continue
        model = loaded.quarter
        pending = loaded.figures.pending
        untranslated: dict[str, int] = {}
        problems: list[str] = []
        for language in editions:
            try:
                untranslated[language] = len(load_texts(loaded.doc, language).pending)
            except MtmReportError as error:
                problems.extend(error.lines)
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
                findings=len(link_quarter(loaded, paths, known).findings),
                problems=problems,
                untranslated=untranslated,
            )
        )
    return entries
