"""Reading quarter files as YAML, keeping where every value stands.

PyYAML's safe composer gives nodes with positions; we build plain Python values from them
ourselves so that we can (a) remember the line and column of every key and item for error
messages, (b) refuse duplicate keys, which PyYAML would silently resolve to the last one,
(c) refuse anchors and aliases, which an analyst never needs and which make "billion
laughs" files possible, and (d) keep decimals as written ("11" versus "11.0"), because the
audit's tolerances follow the published rounding.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from mtmreport.diagnostics import Diagnostic
from mtmreport.errors import QuarterFileError, QuarterNotFoundError, display_path
from mtmreport.numbers import FIGURE_RANGE, usable_figure

# Limits an analyst never meets, so a mistaken or hostile file is refused at once rather than
# laid out for minutes: a quarter file is ~30 KB of ~900 entries, its longest list ~10 items.
MAX_FILE_BYTES = 300_000
MAX_NODES = 10_000
MAX_LIST_ITEMS = 250  # every country of the world fits in one list
MAX_DEPTH = 50  # a quarter file nests ~10 deep; PyYAML's composer recurses once a level
# Tags the safe loader resolves by itself. Anything else was written on purpose (`!!python/…`,
# `!!binary`, `!custom`) and has no meaning in a quarter file.
_CORE = "tag:yaml.org,2002:"
PLAIN_TAGS = {_CORE + t for t in ("str", "int", "float", "bool", "null", "timestamp", "map", "seq")}
_DECIMAL_INT = re.compile(r"^[-+]?(0|[1-9][0-9]*)$")

Location = tuple[str | int, ...]


@dataclass(frozen=True)
class YamlDocument:
    """A quarter file's values plus the (line, column) of every key and list item."""

    path: Path
    data: Any
    positions: dict[Location, tuple[int, int]] = field(default_factory=dict)
    text: str = ""  # the file as read: where a figure stands inside a paragraph
    # What the file probably did not mean but YAML allows (a `#` cutting a text short).
    warnings: list[Diagnostic] = field(default_factory=list)

    @property
    def name(self) -> str:
        return display_path(self.path)

    def position(self, location: Location) -> tuple[int, int] | tuple[None, None]:
        """Position of the deepest part of `location` that the file actually has."""
        for end in range(len(location), -1, -1):
            found = self.positions.get(tuple(location[:end]))
            if found:
                return found
        return (None, None)

    def problem(self, location: Location, message: str, code: str = "invalid") -> Diagnostic:
        line, column = self.position(location)
        return Diagnostic(
            file=self.name,
            field=format_location(location),
            message=message,
            line=line,
            column=column,
            code=code,
        )


def line_and_column(text: str, offset: int) -> tuple[int, int]:
    """Where the character at `offset` of `text` stands: its line and column, from 1."""
    before = text[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1


def offset_of(text: str, line: int, column: int) -> int:
    """The offset in `text` of line `line`, column `column` (from 1): `line_and_column` undone."""
    lines_before = text.splitlines(keepends=True)[: line - 1]
    return sum(len(text_line) for text_line in lines_before) + column - 1


def format_location(location: Location) -> str:
    """`('sections', 1, 'blocks', 0, 'flows')` -> `sections[1].blocks[0].flows`."""
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


class _Reject(Exception):
    def __init__(self, node: yaml.Node, message: str, code: str, location: Location | None = None):
        self.node, self.message, self.code, self.location = node, message, code, location


class _Builder:
    """Turns a composed node tree into values, recording positions on the way."""

    def __init__(self, lines: list[str] | None = None) -> None:
        self.positions: dict[Location, tuple[int, int]] = {}
        self._scalars = yaml.SafeLoader("")
        self._seen: set[int] = set()
        self._lines = lines or []
        self.cut_short: list[tuple[yaml.Node, Location, str]] = []  # (value, where, the rest)

    def build(self, node: yaml.Node, location: Location) -> Any:
        try:
            return self._build(node, location)
        except _Reject as reject:
            if reject.location is None:  # the innermost value being built names the field
                reject.location = location
            raise

    def _build(self, node: yaml.Node, location: Location) -> Any:
        if id(node) in self._seen:
            raise _Reject(node, "anchors and aliases (& and *) are not allowed here", "alias")
        self._seen.add(id(node))
        if len(self._seen) > MAX_NODES:
            raise _Reject(
                node,
                f"the file has far too many entries for a quarter (more than {MAX_NODES:,}; "
                "a quarter has about 900)",
                "too-large",
            )
        if node.tag not in PLAIN_TAGS and node.tag != _CORE + "value":
            raise _Reject(node, f"YAML tags such as {_tag_name(node.tag)} are not allowed", "tag")
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, location)
        if isinstance(node, yaml.SequenceNode):
            if len(node.value) > MAX_LIST_ITEMS:
                raise _Reject(
                    node,
                    f"far too many entries in one list: {len(node.value):,} (at most "
                    f"{MAX_LIST_ITEMS}; a quarter's longest lists have about 10)",
                    "too-large",
                )
            items = []
            for index, child in enumerate(node.value):
                self.positions[(*location, index)] = _pos(child)
                items.append(self.build(child, (*location, index)))
            return items
        value = self._scalar(node)
        if isinstance(value, str) and not node.style:  # plain: None, or '' from libyaml
            self._note_comment_after(node, location)
        return value

    def _note_comment_after(self, node: yaml.Node, location: Location) -> None:
        """A plain text followed on its line by `#` and a word ("Decree #555"): YAML reads
        the rest as a comment, which the analyst probably did not mean."""
        mark = node.end_mark
        if mark.line >= len(self._lines):
            return
        rest = self._lines[mark.line][mark.column :]
        cut = _CUT_BY_COMMENT.match(rest)
        if cut:
            self.cut_short.append((node, location, cut.group(1)))

    def _mapping(self, node: yaml.MappingNode, location: Location) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise _Reject(key_node, "merge keys (<<) are not allowed here", "alias")
            key = self._scalar(key_node) if isinstance(key_node, yaml.ScalarNode) else None
            if key is None or isinstance(key, (list, dict)):
                raise _Reject(key_node, "a key must be a plain word", "syntax")
            key = str(key)
            if key in result:
                line, _ = self.positions[(*location, key)]
                raise _Reject(
                    key_node,
                    f"the key {key!r} appears twice (first on line {line})",
                    "duplicate",
                    (*location, key),
                )
            self.positions[(*location, key)] = _pos(key_node)
            result[key] = self.build(value_node, (*location, key))
        return result

    def _scalar(self, node: yaml.Node) -> Any:
        if node.tag == _CORE + "float":
            text = node.value.replace("_", "").strip()
            try:
                number = Decimal(text)
            except InvalidOperation:
                number = None
            if number is None or not number.is_finite():
                raise _Reject(node, f"{node.value!r} is not a usable number", "type")
            return _in_range(node, number)
        if node.tag == _CORE + "int":
            # YAML 1.1 also reads 0x1F, 017 (octal) and 1:30 (base 60) as whole numbers.
            if not _DECIMAL_INT.match(node.value.replace("_", "")):
                raise _Reject(node, f"write {node.value!r} in plain decimal digits", "type")
            return _in_range(node, int(node.value.replace("_", "")))
        if node.tag == _CORE + "value":  # YAML 1.1's "=", which the safe loader cannot build
            return node.value
        try:
            value = self._scalars.construct_object(node)
        except (yaml.YAMLError, ValueError):  # 2023-02-30 matches the date pattern
            what = "a valid date" if node.tag == _CORE + "timestamp" else "a usable value"
            raise _Reject(node, f"{node.value!r} is not {what}", "type") from None
        if isinstance(value, dt.datetime):
            return value.date()
        return value


def _in_range(node: yaml.Node, number: int | Decimal) -> int | Decimal:
    if not usable_figure(number):
        raise _Reject(node, f"{node.value!r} is out of range: {FIGURE_RANGE}", "range")
    return number


def _tag_name(tag: str) -> str:
    return "!!" + tag.removeprefix(_CORE) if tag.startswith(_CORE) else tag


def _pos(node: yaml.Node) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


class _Refused(yaml.composer.ComposerError):
    """Valid YAML that a quarter file may not use, refused while composing."""

    def __init__(self, message: str, mark: yaml.Mark, code: str):
        super().__init__(None, None, message, mark)
        self.code = code


class _GuardedLoader(yaml.SafeLoader):
    """The safe loader, refusing aliases where they are written (an "alias bomb" never
    expands) and nesting deep enough to exhaust Python's recursion limit."""

    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise _Refused("anchors and aliases (& and *) are not allowed here", mark, "alias")
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise _Refused("lists or keys nest far too deeply", mark, "too-large")
            return super().compose_node(parent, index)  # type: ignore[no-any-return]
        finally:
            self._depth -= 1


# Characters libyaml reads otherwise than PyYAML: a tab inside a line, and a byte order mark at
# the start of any line, which libyaml skips (PyYAML only at the start of the text). A `?` or
# `:` inside [ ] or { } is the third such case: the scan of events below finds it.
_LIBYAML_READS_OTHERWISE = re.compile("[\t\ufeff]")


def _compose(text: str) -> yaml.Node | None:
    """The node tree of `text`, as `_GuardedLoader` composes it (or refuses it).

    PyYAML's pure-Python composer takes ~23 ms for a quarter file, libyaml's ~3 ms, and builds
    and tests read hundreds of them. libyaml's result is used only where it must equal
    PyYAML's: no character PyYAML's reader refuses or libyaml reads otherwise, no alias, and
    shallow enough that `_GuardedLoader` refuses nothing (a scan of libyaml's events, which
    recurses nowhere, comes first: its composer recurses in C, and a deep file must not crash
    the process). Anything else, and any error, goes to `_GuardedLoader`, so every refusal
    reads as it always has (tests/test_load.py holds the two paths to the same results).
    """
    fast = getattr(yaml, "CSafeLoader", None)  # libyaml's parser + the same constructor/resolver
    if (
        fast is not None
        and not yaml.reader.Reader.NON_PRINTABLE.search(text)
        and not _LIBYAML_READS_OTHERWISE.search(text)
    ):
        try:
            in_flow: list[bool] = []  # each open collection: written in [ ] or { }, or not
            for event in yaml.parse(text, Loader=fast):
                if isinstance(event, yaml.CollectionStartEvent):
                    in_flow.append(bool(event.flow_style))
                elif isinstance(event, yaml.CollectionEndEvent):
                    in_flow.pop()
                in_brackets = isinstance(event, yaml.ScalarEvent) and in_flow and in_flow[-1]
                if (
                    isinstance(event, yaml.AliasEvent)
                    or len(in_flow) >= MAX_DEPTH
                    or (in_brackets and ("?" in event.value or ":" in event.value))
                ):
                    break
            else:
                loader = fast(text)
                try:
                    return loader.get_single_node()  # type: ignore[no-any-return]
                finally:
                    loader.dispose()
        except Exception:  # in libyaml's words, say nothing: PyYAML's path says it as always
            pass
    return yaml.compose(text, Loader=_GuardedLoader)


# PyYAML's words for a syntax error, and what they mean to someone editing a quarter file.
_YAML_PROBLEMS = (
    (
        re.compile(r"expected <block end>, but found '<block (mapping|sequence) start>'"),
        "the indentation of this line matches none of the lines above it: line it up, with "
        "the same number of spaces, with the keys it belongs with",
    ),
    (
        re.compile(r"expected <block end>, but found '(<scalar>|-|\?)'"),
        "this line does not fit where it stands: it is indented differently from the lines "
        "around it (line it up with the keys or list items it belongs with), or a quote "
        "opened above it is not closed",
    ),
    (
        re.compile(r"did not find expected key|did not find expected '-' indicator"),
        "a key or list item here is not lined up with the ones before it, or a quoted text "
        "before it is not closed",
    ),
    (
        re.compile(r"mapping values are not allowed here"),
        "a key where none can start: this line is indented further than the keys beside it "
        "(line it up with them), or a text holds ': ' (put the whole text in quotes)",
    ),
    (
        re.compile(r"could not find expected ':'"),
        "a key without its ':' (write `key: value`), or a quoted text that is not closed",
    ),
    (
        re.compile(r"found unexpected end of stream"),
        "the file ends inside a quoted text: a quote is opened and never closed",
    ),
    (
        re.compile(r"found character '(.)' that cannot start any token"),
        "a value cannot start with {0} in YAML: put the whole value in quotes",
    ),
    (
        re.compile(r"expected ',' or '[}\]]'"),
        "a list in [ ] or a set of keys in { } is not closed, or a ',' is missing inside it",
    ),
)
# A plain text's line going on with `#` and a word: `source: Government Decree #555`.
_CUT_BY_COMMENT = re.compile(r"^[ \t]+(#\S.*)$")


def yaml_error_words(error: yaml.MarkedYAMLError) -> str:
    """What PyYAML found wrong, in an analyst's words where the problem is a common one."""
    problem = (error.problem or str(error)).strip()
    if "'\\t'" in problem or "\\t" in problem:
        return "a tab character is used for indentation; YAML needs spaces"
    for pattern, meaning in _YAML_PROBLEMS:
        found = pattern.search(problem)
        if found:
            groups = found.groups()
            return meaning.replace("{0}", repr(groups[0])) if groups else meaning
    context = f" ({error.context})" if error.context else ""
    return f"the file is not valid YAML: {problem}{context}"


def parse_yaml(text: str, path: Path) -> YamlDocument:
    """Parse YAML text; every failure becomes a located `QuarterFileError`."""
    name = display_path(path)
    if "\t" in text:
        for number, line in enumerate(text.splitlines(), start=1):
            stripped = line.lstrip(" ")
            if stripped.startswith("\t"):
                raise QuarterFileError(
                    [
                        Diagnostic(
                            name,
                            "a tab character is used for indentation; YAML needs spaces",
                            line=number,
                            column=len(line) - len(stripped) + 1,
                            code="syntax",
                        )
                    ]
                )
    try:
        node = _compose(text)
    except yaml.reader.ReaderError as error:
        # A control character: PyYAML gives only an offset, so find the line ourselves.
        line, column = line_and_column(text, error.position)
        raise QuarterFileError(
            [
                Diagnostic(
                    name,
                    f"the file contains a control character (U+{error.character:04X}) that "
                    "YAML does not allow; delete it",
                    line=line,
                    column=column,
                    code="syntax",
                )
            ]
        ) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        refused = isinstance(error, _Refused)
        raise QuarterFileError(
            [
                Diagnostic(
                    name,
                    error.problem if refused else yaml_error_words(error),
                    line=mark.line + 1 if mark else None,
                    column=mark.column + 1 if mark else None,
                    code=error.code if refused else "syntax",
                )
            ]
        ) from None
    except yaml.YAMLError as error:
        raise QuarterFileError([Diagnostic(name, f"the file is not valid YAML: {error}")]) from None
    if node is None:
        raise QuarterFileError([Diagnostic(name, "the file is empty", line=1, code="empty")])
    builder = _Builder(text.splitlines())
    builder.positions[()] = _pos(node)  # where the file's content starts: for a missing key
    try:
        data = builder.build(node, ())
    except _Reject as reject:
        line, column = _pos(reject.node)
        field = format_location(reject.location or ())
        raise QuarterFileError(
            [Diagnostic(name, reject.message, field, line=line, column=column, code=reject.code)]
        ) from None
    warnings = [
        Diagnostic(
            name,
            f"the text stops at {_shown_text(value.value)}: YAML reads {rest[:40]!r} after it as "
            "a comment; if it belongs to the text, put the whole text in quotes",
            format_location(where),
            *_pos(value),
            code="comment-in-value",
        )
        for value, where, rest in builder.cut_short
    ]
    return YamlDocument(
        path=path, data=data, positions=builder.positions, text=text, warnings=warnings
    )


def _shown_text(text: str) -> str:
    return repr(text if len(text) <= 40 else "…" + text[-40:])


def read_yaml(path: Path) -> YamlDocument:
    """Read a file as UTF-8 YAML, refusing oversize files and undecodable bytes."""
    name = display_path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise QuarterNotFoundError(f"{name}: no such file") from None
    except OSError as error:
        raise QuarterFileError(
            [Diagnostic(name, f"cannot read the file: {error.strerror}")]
        ) from None
    if len(raw) > MAX_FILE_BYTES:
        raise QuarterFileError(
            [
                Diagnostic(
                    name,
                    f"the file is {len(raw):,} bytes, more than a quarter file can be (at most "
                    f"{MAX_FILE_BYTES:,}; a quarter's file is about 30,000)",
                )
            ]
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        column = error.start - (raw.rfind(b"\n", 0, error.start) + 1) + 1
        raise QuarterFileError(
            [
                Diagnostic(
                    name,
                    "the file is not UTF-8 text; save it as UTF-8 in your editor",
                    line=line,
                    column=column,
                    code="encoding",
                )
            ]
        ) from None
    return parse_yaml(text, path)
