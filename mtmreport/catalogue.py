"""What is on file: every quarter with its status, pending entries, sections and findings."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from mtmreport.errors import MtmReportError, QuarterFileError

if TYPE_CHECKING:
    from mtmreport.project import Project


@dataclass(frozen=True)
class QuarterEntry:
    quarter: str
    status: str  # complete, draft, or invalid
    sections: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    pending_by_section: dict[str, int] = field(default_factory=dict)
    findings: int = 0
    problems: list[str] = field(default_factory=list)

    def summary_line(self) -> str:
        if self.status == "invalid":
            return f"{self.quarter}  invalid  {len(self.problems)} problem(s): mtmreport validate"
        pending = f", {len(self.pending)} pending" if self.pending else ""
        return (
            f"{self.quarter}  {self.status}{pending}  {len(self.sections)} sections  "
            f"{self.findings} audit finding(s)"
        )

    def detail_lines(self) -> list[str]:
        lines = ["sections: " + "; ".join(self.sections)] if self.sections else []
        if self.pending_by_section:
            lines.append(
                "pending: "
                + "; ".join(f"{title} ({n})" for title, n in self.pending_by_section.items())
            )
        lines.extend(self.problems[:3])
        return lines

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def catalogue(project: Project) -> list[QuarterEntry]:
    """One entry per quarter file, oldest first; an unreadable file is listed as invalid.

    No quarter file at all is an error (`Project.every_quarter`)."""
    entries = []
    for quarter in project.every_quarter():
        try:
            loaded = project.loaded(quarter)
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
                findings=len(project.linked(quarter).findings),
            )
        )
    return entries
