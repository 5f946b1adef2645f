"""Consistency checks over a quarter's figures: stated against computed."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from mtmreport.compute import QuarterFigures
from mtmreport.load import YamlDocument


@dataclass(frozen=True)
class Finding:
    file: str
    line: int | None
    column: int | None
    field: str
    message: str
    stated: str = ""
    computed: str = ""
    code: str = "inconsistent"

    def __str__(self) -> str:
        where = self.file + (f":{self.line}:{self.column}" if self.line else "")
        return f"{where}: {self.field}: {self.message}"


def audit(figures: QuarterFigures, doc: YamlDocument) -> list[Finding]:
    return []


def write_findings(findings: list[Finding], folder: Path) -> None:
    text = "\n".join(str(f) for f in findings)
    (folder / "audit.txt").write_text(text + ("\n" if text else ""), encoding="utf-8")
    payload = [asdict(f) for f in findings]
    (folder / "audit.json").write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
