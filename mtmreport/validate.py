"""Checking a read quarter file against the schema, with every problem located and worded
for an analyst (`expected a whole number, got 'abc'`, `unknown key 'arivals' — did you mean
'arrivals'?`). All problems are collected, then reported at once.
"""

from __future__ import annotations

import difflib
import re
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ValidationError

from mtmreport.diagnostics import Diagnostic
from mtmreport.drafts import pending_locations, with_placeholders
from mtmreport.errors import QuarterFileError
from mtmreport.load import Location, YamlDocument
from mtmreport.model import QuarterFile, bare_type, type_at


def validate_document(doc: YamlDocument, *, expected_quarter: str | None = None) -> QuarterFile:
    """The quarter file as a typed model, or a `QuarterFileError` listing every problem."""
    if not isinstance(doc.data, dict):
        raise QuarterFileError(
            [doc.problem((), "a quarter file is a set of keys (quarter, report, sections…)")]
        )
    data = doc.data
    pending = list(pending_locations(data))
    if pending and data.get("status") != "draft":
        raise QuarterFileError(
            [
                doc.problem(
                    where,
                    "this figure is pending, but only a draft may have pending figures: "
                    "fill it in, or set `status: draft` at the top of the file",
                    code="pending",
                )
                for where in pending
            ]
        )
    try:
        quarter = QuarterFile.model_validate(with_placeholders(data))
    except ValidationError as error:
        problems = [_problem(doc, detail) for detail in error.errors(include_url=False)]
        raise QuarterFileError(sorted(problems, key=_reading_order)) from None
    if expected_quarter and quarter.quarter != expected_quarter:
        raise QuarterFileError(
            [
                doc.problem(
                    ("quarter",),
                    f"the file is named for {expected_quarter} but says quarter: {quarter.quarter}",
                )
            ]
        )
    return quarter


def _reading_order(problem: Diagnostic) -> tuple[int, int]:
    return (problem.line or 0, problem.column or 0)


def _problem(doc: YamlDocument, detail: dict[str, Any]) -> Diagnostic:
    location: Location = tuple(detail["loc"])
    kind = detail["type"]
    if kind == "extra_forbidden":
        key = str(location[-1])
        comma = _decimal_comma(doc, location)
        if comma:
            return doc.problem(location, comma, code="unknown-key")
        allowed = sorted(_allowed_keys(location[:-1]))
        hint = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
        message = f"unknown key {key!r}"
        message += f" — did you mean {hint[0]!r}?" if hint else f"; allowed: {', '.join(allowed)}"
        return doc.problem(location, message, code="unknown-key")
    if kind == "missing":
        return doc.problem(location, problem_words(detail), "missing")
    return doc.problem(location, problem_words(detail), code=_code(kind))


def problem_words(detail: dict[str, Any]) -> str:
    """One of pydantic's error details in plain words, without its place in a file (`describe`
    in `failures` words a validation error that reaches it this way)."""
    kind, location = detail["type"], tuple(detail["loc"])
    if kind == "extra_forbidden" and location:
        return f"unknown key {str(location[-1])!r}"
    if kind == "missing" and location:
        return f"required key {location[-1]!r} is missing"
    return _wording(kind, detail, detail.get("input"))


def _decimal_comma(doc: YamlDocument, location: Location) -> str:
    """For `{country: X, share: 43,5}`: YAML reads `5` as a key after `share: 43`. Said as
    what it is, a decimal comma."""
    key = str(location[-1])
    parent: Any = doc.data
    for part in location[:-1]:
        try:
            parent = parent[part]
        except (KeyError, IndexError, TypeError):
            return ""
    if not key.isdigit() or not isinstance(parent, dict):
        return ""
    keys = list(parent)
    before = keys[keys.index(key) - 1] if key in keys and keys.index(key) > 0 else None
    value = parent.get(before) if before is not None else None
    if not isinstance(value, (int, Decimal)) or isinstance(value, bool):
        return ""
    return (
        f"unknown key {key!r}: a decimal comma? `{before}: {value},{key}` reads as "
        f"`{before}: {value}` and a key {key!r}; decimals take a point: {before}: {value}.{key}"
    )


def _number_hint(given: Any) -> str:
    """What is wrong with a number written as text: a decimal comma, a per cent sign."""
    if not isinstance(given, str):
        return ""
    text = given.strip()
    if re.fullmatch(r"[-+]?\d+,\d{1,2}", text):
        return f" (decimals take a point: {text.replace(',', '.')})"
    if re.fullmatch(r"[-+]?\d+(\.\d+)?\s*%", text):
        return f" (write the number without the per cent sign: {text.rstrip('%').strip()})"
    return ""


def _code(kind: str) -> str:
    if kind in {"greater_than_equal", "greater_than", "less_than_equal"}:
        return "range"
    if kind in {"value_error", "assertion_error"}:
        return "invalid"
    return "type"


def _shown(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dict, list)):
        return "a list" if isinstance(value, list) else "a set of keys"
    return repr(value)


def _wording(kind: str, detail: dict[str, Any], given: Any) -> str:
    context = detail.get("ctx") or {}
    if kind in {"int_type", "int_parsing", "int_from_float"}:
        hint = _number_hint(given)
        if hint:
            pass
        elif isinstance(given, str) and given.replace(",", "").replace(" ", "").isdigit():
            hint = " (write it without separators, e.g. 4482427)"
        elif isinstance(given, (Decimal, float)):
            hint = " (a count has no decimals)"
        return f"expected a whole number, got {_shown(given)}{hint}"
    if kind in {"decimal_type", "decimal_parsing", "float_type", "float_parsing"}:
        return f"expected a number, got {_shown(given)}{_number_hint(given)}"
    if kind in {"greater_than_equal", "greater_than"}:
        limit = context.get("ge", context.get("gt"))
        return (
            f"must be {'at least' if 'ge' in context else 'more than'} {limit}, got {_shown(given)}"
        )
    if kind in {"string_type", "string_too_short"}:
        return "expected text" + ("" if given in (None, "") else f", got {_shown(given)}")
    if kind in {"list_type"}:
        return f"expected a list (lines starting with '- '), got {_shown(given)}"
    if kind in {"model_type", "model_attributes_type", "dict_type"}:
        return f"expected a set of keys, got {_shown(given)}"
    if kind == "too_short":
        return "needs at least one entry"
    if kind == "bool_type" or kind == "bool_parsing":
        return f"expected true or false, got {_shown(given)}"
    if kind == "literal_error":
        return f"expected one of {context.get('expected')}, got {_shown(given)}"
    message = str(detail.get("msg", "invalid value"))
    return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def _allowed_keys(location: Location) -> set[str]:
    """The keys the schema allows at `location`, as the model's types say."""
    holder: Any = QuarterFile
    for part in location:
        holder = type_at(holder, part)
    holder = bare_type(holder)
    if isinstance(holder, type) and issubclass(holder, BaseModel):
        return set(holder.model_fields)
    return set()
