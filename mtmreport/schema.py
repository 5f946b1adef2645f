"""A JSON Schema of the quarter file, for editors.

With the schema beside the data and the modeline `# yaml-language-server:
$schema=../quarter.schema.json` at the top of a quarter file, an editor with a YAML language
server completes keys, shows each field's description on hover and underlines unknown keys
and values of the wrong type while the analyst types.

The schema is generated from the pydantic model (`mtmreport.model.QuarterFile`), so the two
cannot drift; a golden copy ships as `data/quarter.schema.json` and a test fails when it is
out of date (`mtmreport schema` regenerates it). The model stays the authority: the build
checks what a schema cannot express (country and region names, periods that fit the quarter,
"exactly one of country, region or category"). The schema must never reject what the model
accepts, so it may be looser than the model, never stricter. On top of pydantic's output it:

- describes periods in words (the forms `Period.parse` reads); every other field's
  description is the model's own (its docstring or `Field(description=…)`);
- lists the known countries and regions as completions (the build checks spellings and
  aliases, so any text passes the schema);
- writes decimals as numbers (or numeric text, which the model also accepts);
- accepts a paragraph written as plain text, as the model does;
- accepts `pending` for any figure, as a draft may say (`mtmreport.drafts`);
- says that a block has exactly one key, its kind;
- sets `additionalProperties: false` on every object, as `extra="forbid"` does.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from mtmreport import model
from mtmreport.drafts import PENDING, may_be_pending
from mtmreport.periods import PERIOD_HELP
from mtmreport.reference import all_countries, all_regions

# Draft 7: the newest draft the YAML language server (VS Code, Neovim, JetBrains…) supports;
# pydantic's output uses nothing newer, `$defs` being only where the `$ref`s point.
SCHEMA_DIALECT = "http://json-schema.org/draft-07/schema#"
SCHEMA_FILE_NAME = "quarter.schema.json"

# A period as `periods.Period.parse` reads it (an "as of" date may carry the words "as of").
_MONTH = r"(0[1-9]|1[0-2])"
PERIOD_PATTERN = (
    rf"^\s*(\d{{4}}(-Q[1-4]|-H[12]|-{_MONTH}(-\d{{2}}|\s*\.\.\s*\d{{4}}-{_MONTH})?)?"
    rf"|as of\s+\d{{4}}-{_MONTH}-\d{{2}})\s*$"
)
# A number written as text: pydantic's Decimal accepts it, so the schema must too.
NUMBER_TEXT_PATTERN = r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$"

_REFERENCE_MARK = "x-mtmreport-reference"


class _EditorJsonSchema(GenerateJsonSchema):
    """pydantic's generator with the types an analyst writes made explicit."""

    def decimal_schema(self, schema: core_schema.DecimalSchema) -> JsonSchemaValue:
        number = self.float_schema(
            core_schema.float_schema(
                ge=_float(schema.get("ge")),
                gt=_float(schema.get("gt")),
                le=_float(schema.get("le")),
                lt=_float(schema.get("lt")),
            )
        )
        return {"anyOf": [number, {"type": "string", "pattern": NUMBER_TEXT_PATTERN}]}

    def function_after_schema(
        self, schema: core_schema.AfterValidatorFunctionSchema
    ) -> JsonSchemaValue:
        # Marked here, turned into a $ref by `_refer_to_reference_defs`: pydantic resolves
        # every $ref it meets against its own definitions, which Country and Region are not.
        checker = schema["function"]["function"]
        if checker is model._country:
            return {_REFERENCE_MARK: "Country"}
        if checker is model._region:
            return {_REFERENCE_MARK: "Region"}
        return super().function_after_schema(schema)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def generate_schema() -> dict[str, Any]:
    """The quarter file's JSON Schema, ready for editors (see the module's docstring)."""
    schema = model.QuarterFile.model_json_schema(schema_generator=_EditorJsonSchema)
    defs = schema["$defs"]
    defs.update(_reference_defs())
    _refer_to_reference_defs(schema)
    _describe_periods(schema)
    _describe_fields(schema)
    _accept_plain_paragraphs(schema)
    _accept_pending_figures(schema)
    # `Block._exactly_one`: a block is a one-key mapping naming its kind.
    defs["Block"].update(minProperties=1, maxProperties=1)
    for node in list(_objects(schema)):
        node["additionalProperties"] = False
    top = {
        "$schema": SCHEMA_DIALECT,
        "title": "mtmreport quarter file",
        "description": (
            "One quarter of IOM's MTM Kazakhstan Quarterly Compilation Report. Generated from "
            "mtmreport's model by `mtmreport schema`; the build checks more than this schema "
            "can (run `mtmreport validate`)."
        ),
    }
    schema.pop("title", None)
    schema.pop("description", None)
    return {**top, **schema}


def schema_text() -> str:
    """The schema as the shipped file holds it: stable key order, one trailing newline."""
    return json.dumps(generate_schema(), indent=2, ensure_ascii=False) + "\n"


def write_schema(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(schema_text(), encoding="utf-8")
    return path


def _reference_defs() -> dict[str, Any]:
    """Countries and regions: any text passes (the build checks it), known names complete."""
    return {
        "Country": {
            "type": "string",
            "minLength": 1,
            "description": (
                "A country as the UN names it, a common alias ('Russia', 'Turkey', 'USA'), "
                "its Russian name ('Россия') or its ISO code ('RUS'). The build checks it "
                "against mtmreport/reference/countries.csv and suggests the nearest known "
                "name; CIS membership and each edition's name come from that table."
            ),
            "examples": [c.name for c in all_countries()],
        },
        "Region": {
            "type": "string",
            "minLength": 1,
            "description": (
                "A region or city of Kazakhstan ('Almaty city', 'Atyrau region', "
                "'Акмолинская область', 'KZ-75'), checked against mtmreport/reference/regions.csv."
            ),
            "examples": [r.name for r in all_regions()],
        },
    }


def _refer_to_reference_defs(schema: dict[str, Any]) -> None:
    marked = [node for node in _walk(schema) if _REFERENCE_MARK in node]
    for node in marked:
        node["$ref"] = f"#/$defs/{node.pop(_REFERENCE_MARK)}"


def _describe_periods(schema: dict[str, Any]) -> None:
    """Periods: the forms `Period.parse` reads, as a pattern (or a year as a number)."""
    help_text = PERIOD_HELP[:1].upper() + PERIOD_HELP[1:] + "."
    periods = [node for node in _walk(schema) if node.get("type") == ["string", "integer"]]
    for node in periods:
        del node["type"]
        node["anyOf"] = [
            {"type": "string", "pattern": PERIOD_PATTERN},
            {"type": "integer", "minimum": 1000, "maximum": 9999},
        ]
        if node.get("description") in (None, PERIOD_HELP):
            node["description"] = help_text


def _describe_fields(schema: dict[str, Any]) -> None:
    """Drop pydantic's made-up property titles ("Kzt Bn"); a block-valued field the model
    leaves bare takes its block's description."""
    defs = schema["$defs"]
    for definition in [schema, *defs.values()]:
        for prop in definition.get("properties", {}).values():
            prop.pop("title", None)
            block = _referenced_def(prop)
            if "description" not in prop and block is not None and "description" in defs[block]:
                prop["description"] = defs[block]["description"]


def _referenced_def(prop: dict[str, Any]) -> str | None:
    """The definition a property holds (directly or as "that or null"), if it holds one."""
    options = [prop, *prop.get("anyOf", [])]
    for option in options:
        if "$ref" in option:
            return option["$ref"].removeprefix("#/$defs/")
    return None


def _accept_plain_paragraphs(schema: dict[str, Any]) -> None:
    """`Paragraph._plain_text`: a paragraph may be written as its text alone."""
    plain = {"type": "string", "minLength": 1, "description": model.MARKDOWN_HELP}
    uses = [node for node in _walk(schema) if node.get("$ref") == "#/$defs/Paragraph"]
    for node in uses:
        del node["$ref"]
        node["anyOf"] = [dict(plain), {"$ref": "#/$defs/Paragraph"}]


def _accept_pending_figures(schema: dict[str, Any]) -> None:
    """A draft may write `pending` for a figure, or for a value made of figures only (an
    amount), wherever the model has one (`drafts.may_be_pending`)."""
    pending = {"const": PENDING, "description": "A figure still to come (drafts only)."}
    for name, kind in _models(model.QuarterFile).items():
        properties = (schema if kind is model.QuarterFile else schema["$defs"][name])["properties"]
        for field, info in kind.model_fields.items():
            if may_be_pending(info.annotation):
                prop = properties[field]
                kept = {k: prop.pop(k) for k in ("description", "default") if k in prop}
                properties[field] = {"anyOf": [dict(prop), dict(pending)], **kept}


def _models(
    kind: Any, found: dict[str, type[BaseModel]] | None = None
) -> dict[str, type[BaseModel]]:
    """Every model a value of type `kind` may hold, by name (as the schema's `$defs` are)."""
    found = {} if found is None else found
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        if kind.__name__ in found:
            return found
        found[kind.__name__] = kind
        for info in kind.model_fields.values():
            _models(info.annotation, found)
    for argument in typing.get_args(kind):
        _models(argument, found)
    return found


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    """Every mapping in the schema, parents before children."""
    if isinstance(node, dict):
        yield node
        for value in list(node.values()):
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _objects(schema: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for node in _walk(schema):
        if node.get("type") == "object" or "properties" in node:
            yield node
