"""Starting the next quarter: a draft file made from the latest earlier one.

The new file keeps the earlier quarter's sections, blocks, country lists and comments (it is
edited with ruamel.yaml, which round-trips comments), moves every period on, and replaces
every figure and every quarter-specific text with `pending`. It never overwrites a file.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from mtmreport.drafts import PENDING, pending_locations
from mtmreport.errors import MtmReportError, QuarterNotFoundError, display_path
from mtmreport.load import parse_yaml
from mtmreport.model import QuarterFile, is_figure, type_at
from mtmreport.periods import QUARTER_ID, Period

PERIOD_KEYS = frozenset({"period", "month"})
# Narrative that belongs to one quarter; the opening texts and key terms carry over.
QUARTER_TEXT_KEYS = frozenset({"commentary"})
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


QUARTER_ORDINALS = ("first", "second", "third", "fourth")


def _quarter_words(period: Period) -> tuple[str, str, str, str]:
    """How the carried English texts name a quarter: "third quarter of 2023"."""
    return (
        QUARTER_ORDINALS[(period.quarter_number or 1) - 1],
        "quarter",
        "of",
        str(period.start[0]),
    )


def renamed_quarter(text: str, old: Period, new: Period) -> str:
    """`text` with the old quarter's name ("third quarter of 2023", even across a line break
    of a block scalar) replaced by the new one's, keeping the whitespace between the words."""
    pattern = r"\b" + r"(\s+)".join(map(re.escape, _quarter_words(old))) + r"\b"
    words = _quarter_words(new)

    def replace(match: re.Match[str]) -> str:
        gaps = match.groups()
        return words[0] + "".join(gap + word for gap, word in zip(gaps, words[1:], strict=True))

    return re.sub(pattern, replace, text, flags=re.IGNORECASE)


class ScaffoldError(MtmReportError):
    exit_code = 2


@dataclass(frozen=True)
class Scaffolded:
    path: Path
    template: str
    pending: int
    # The quarter after the latest on file, when the new one is not it (a gap, or one
    # started before a later quarter): worth a word, not a refusal.
    expected: str | None = None


def move_period(period: Period, old: Period, new: Period) -> Period:
    """The period a block covers in the new quarter.

    The quarter itself becomes the new quarter; a span ending with the quarter that starts in
    January (year to date) becomes January to the new quarter's end; anything else (earlier
    periods compared with, "as of" days) moves by as many months as the quarters are apart.
    """
    step = new.first - old.first
    if period.as_of is None and period == old:
        return new
    if period.as_of is None and period.last == old.last and period.start[1] == 1:
        year_start = new.first - (new.start[1] - 1)
        return Period(year_start, new.last)
    return period.shifted(months=step)


def _yaml() -> YAML:
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096  # never fold the one-line figure entries
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _emptied(
    node: Any, old: Period, new: Period, key: str | None = None, kind: Any = QuarterFile
) -> Any:
    """Walk the round-trip tree in place: periods moved on, figures and texts pending. `kind`
    is the type the model gives the node (the whole file's at the top): it says which
    values are figures."""
    if isinstance(node, CommentedMap):
        for child_key in list(node.keys()):
            child_kind = type_at(kind, str(child_key))
            node[child_key] = _emptied(node[child_key], old, new, str(child_key), child_kind)
        if key == "text":
            for list_key in ("paragraphs", "bullets"):
                if list_key in node:
                    node[list_key] = CommentedSeq([PENDING])
            if "intro" in node:
                node["intro"] = PENDING
        if "qualifier" in node:
            del node["qualifier"]  # "over 280.6 billion" says something of that figure only
        caption = node.get("caption")
        old_months = {MONTHS[m - 1] for _, m in old.month_list()}
        if isinstance(caption, str) and any(month in caption for month in old_months):
            del node["caption"]  # it names the old period; the default caption names the new
        return node
    if isinstance(node, CommentedSeq):
        for index, item in enumerate(node):
            node[index] = _emptied(item, old, new, key, type_at(kind, index))
        return node
    if key in PERIOD_KEYS:
        moved = move_period(Period.parse(node), old, new)
        return str(moved)
    if is_figure(kind) and isinstance(node, (int, float)) and not isinstance(node, bool):
        return PENDING
    if key in QUARTER_TEXT_KEYS and isinstance(node, str):
        return PENDING
    if isinstance(node, str) and old.kind == "quarter" == new.kind:
        # a carried text ("the report on the third quarter of 2023") names the new quarter;
        # the string's own class keeps its YAML style (folded, literal, quoted)
        renamed = renamed_quarter(node, old, new)
        return type(node)(renamed) if renamed != node else node
    return node


def _header(template: str, quarter: str) -> str:
    return (
        f"# Quarter file for mtmreport: {quarter}, a DRAFT made by `mtmreport new {quarter}`\n"
        f"# from {template}. Every `pending` marks a figure or text still to come: replace it\n"
        "# with the published value. When none is left, remove `status: draft`.\n"
        "# `mtmreport list` shows what is still pending.\n"
    )


def new_quarter(quarter: str, data_dir: Path, on_file: list[str]) -> Scaffolded:
    """Create `data_dir/<quarter>.yaml` from the latest earlier quarter on file (`on_file`:
    the quarter ids in `data_dir`, oldest first)."""
    if not QUARTER_ID.match(quarter):
        raise QuarterNotFoundError(
            f"{quarter!r} is not a quarter; write it as YYYY-QN, for example 2024-Q1"
        )
    target = data_dir / f"{quarter}.yaml"
    if target.exists():
        raise ScaffoldError(
            f"{display_path(target)} exists already; mtmreport new never overwrites a file"
        )
    earlier = [q for q in on_file if q < quarter]
    if not earlier:
        raise ScaffoldError(
            f"no quarter before {quarter} in {display_path(data_dir)} to start from"
        )
    template = earlier[-1]
    yaml = _yaml()
    tree = yaml.load((data_dir / f"{template}.yaml").read_text(encoding="utf-8"))
    old, new = Period.parse(template), Period.parse(quarter)
    tree["quarter"] = quarter
    if "report" in tree and "published" in tree["report"]:
        del tree["report"]["published"]
    tree = _emptied(tree, old, new)
    if "status" in tree:
        tree["status"] = "draft"
    else:
        tree.insert(1, "status", "draft")
    buffer = io.StringIO()
    yaml.dump(tree, buffer)
    text = _without_leading_comment(buffer.getvalue())
    text = _modeline(data_dir / f"{template}.yaml") + _header(template, quarter) + "\n" + text
    doc = parse_yaml(text, target)
    pending = sum(1 for _ in pending_locations(doc.data))
    with target.open("x", encoding="utf-8") as handle:  # "x": refuse to overwrite, even in a race
        handle.write(text)
    following = str(Period.parse(on_file[-1]).shifted(months=3))
    return Scaffolded(target, template, pending, None if quarter == following else following)


def _without_leading_comment(text: str) -> str:
    lines = text.splitlines(keepends=True)
    start = 0
    while start < len(lines) and (lines[start].startswith("#") or not lines[start].strip()):
        start += 1
    return "".join(lines[start:])


def _modeline(path: Path) -> str:
    first = path.read_text(encoding="utf-8").splitlines()[:1]
    if first and first[0].startswith("# yaml-language-server:"):
        return first[0] + "\n"
    return ""
