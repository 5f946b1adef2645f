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

- describes the fields the model's docstrings leave bare (periods, sources, Markdown…);
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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from mtmreport import model
from mtmreport.drafts import FIGURE_KEYS, PENDING
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

MARKDOWN_HELP = "Markdown: paragraphs, **bold**, *italic*, lists and links. No HTML, no images."
SOURCE_HELP = (
    "Who published the figures, e.g. 'National Bank, 2023'. Printed as a footnote; the same "
    "source right after itself becomes 'Ibid.'."
)

# Descriptions for the fields the model's docstrings leave bare. A `Model.field` key applies
# to that field; a bare field name applies to every field of that name that is not a nested
# block (those take the description of the block's class). Every key must match a field
# (`generate_schema` checks), so a renamed field cannot leave its help behind unnoticed.
FIELD_HELP: dict[str, str] = {
    "QuarterFile.quarter": (
        "The quarter this file reports on, as YYYY-QN (e.g. 2023-Q3). It must match the "
        "file's name, 2023-Q3.yaml."
    ),
    "QuarterFile.report": "The cover: country, title, month of publication.",
    "QuarterFile.front": "The opening page's texts (About MTM, Objectives), before section 1.",
    "QuarterFile.sections": "The report's chapters, in the order they are printed.",
    "QuarterFile.back_matter": "Overrides of the standard closing texts.",
    "QuarterFile.status": "'draft' prints DRAFT on the cover; 'complete' when the report is final.",
    "ReportInfo.country": "The country the report covers, printed on the cover and in headers.",
    "ReportInfo.title": "The report's title on the cover and in the running header.",
    "Section.blocks": "The chapter's content, in order.",
    "Section.subsections": "Titled parts of the chapter, each with its own blocks.",
    "Subsection.blocks": "The subsection's content, in order.",
    "PermanentResidenceBlock.cis": "CIS countries: holders, terminations, balance.",
    "PermanentResidenceBlock.non_cis": "Other countries: holders, terminations, balance.",
    "GroupResidence.holders": "Permit holders of the group.",
    "GroupResidence.terminated": "Permits terminated (holders who left the country).",
    "RemittancesBlock.total": "The period's total amount.",
    "RemittancesBlock.months": "The amount of each month of the period.",
    "RemittancesBlock.countries": "The receiving (or sending) countries as published.",
    "RemittancesBlock.compare_with": "Earlier periods the report compares with.",
    "EarlierRemittances.total": "The earlier period's total amount.",
    "EarlierRemittances.monthly_average": "The earlier period's monthly average.",
    "BreakdownBlock.items": "The lines of the breakdown, in the source's order.",
    "ComparisonBlock.values": "The indicator's value in each period, oldest first.",
    "DefinitionsBlock.terms": "The terms and their definitions.",
    "TextBlock.paragraphs": "Paragraphs: each Markdown text, or {text, source}.",
    "TextBlock.bullets": "Bullet points: each Markdown text, or {text, source}.",
    "title": "A heading, as printed.",
    "source": SOURCE_HELP,
    "reported_by": "Who published the figures, as the lead sentence names them.",
    "subject": "What is counted, plural, as the sentence names it.",
    "category": "A category of the breakdown, e.g. 'construction'.",
    "caption": "Figure caption; by default one is made from the subject and period.",
    "chart": "How the figures are drawn; 'none' for a table only.",
    "countries": "The countries as the source lists them, in its order.",
    "note": MARKDOWN_HELP,
    "commentary": "Text after the figures. " + MARKDOWN_HELP,
    "intro": "Text before the rest. " + MARKDOWN_HELP,
    "text": MARKDOWN_HELP,
    "definition": MARKDOWN_HELP,
    "disclaimer": MARKDOWN_HELP,
    "about_iom": MARKDOWN_HELP,
    "funding": MARKDOWN_HELP,
    "terms_link": "Where the terms of use are published (a web address).",
    "term": "The term being defined.",
    "share": "Per cent as published, e.g. 43.5.",
    "number": "A count: a whole number without separators (4482427, not 4,482,427).",
    "total": "A total: a whole number without separators.",
    "value": "A count: a whole number without separators.",
    "month": "The month, as YYYY-MM (e.g. 2023-07).",
    "transactions": "Number of transfers, where published.",
    "kzt_bn": "Billions of tenge (KZT), e.g. 280.6.",
    "usd_mn": "Millions of US dollars as published; the report prints its own conversion.",
    "change_kzt_bn": "Change in billions of tenge to the current period, as published.",
    "direction": "'outflow': sent from Kazakhstan; 'inflow': sent to Kazakhstan.",
}


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
    """Drop pydantic's made-up property titles ("Kzt Bn"); fill in missing descriptions."""
    defs = schema["$defs"]
    used: set[str] = set()
    for name, definition in [("QuarterFile", schema), *defs.items()]:
        for field, prop in definition.get("properties", {}).items():
            prop.pop("title", None)
            if "description" in prop:
                continue
            block = _referenced_def(prop)
            key = f"{name}.{field}"
            if key not in FIELD_HELP and block is None:
                key = field
            if key in FIELD_HELP:
                used.add(key)
                prop["description"] = FIELD_HELP[key]
            elif block is not None and "description" in defs[block]:
                prop["description"] = defs[block]["description"]
    unused = set(FIELD_HELP) - used
    if unused:
        raise ValueError(f"FIELD_HELP names fields the model does not have: {sorted(unused)}")


def _referenced_def(prop: dict[str, Any]) -> str | None:
    """The definition a property holds (directly or as "that or null"), if it holds one."""
    options = [prop, *prop.get("anyOf", [])]
    for option in options:
        if "$ref" in option:
            return option["$ref"].removeprefix("#/$defs/")
    return None


def _accept_plain_paragraphs(schema: dict[str, Any]) -> None:
    """`Paragraph._plain_text`: a paragraph may be written as its text alone."""
    plain = {"type": "string", "minLength": 1, "description": MARKDOWN_HELP}
    uses = [node for node in _walk(schema) if node.get("$ref") == "#/$defs/Paragraph"]
    for node in uses:
        del node["$ref"]
        node["anyOf"] = [dict(plain), {"$ref": "#/$defs/Paragraph"}]


def _accept_pending_figures(schema: dict[str, Any]) -> None:
    """A draft may write `pending` for a figure still to come (`drafts.with_placeholders`)."""
    pending = {"const": PENDING, "description": "A figure still to come (drafts only)."}
    for node in list(_walk(schema)):
        for name, prop in node.get("properties", {}).items():
            if name in FIGURE_KEYS and _referenced_def(prop) is None:  # a value, not a block
                kept = {k: prop.pop(k) for k in ("description", "default") if k in prop}
                node["properties"][name] = {"anyOf": [dict(prop), dict(pending)], **kept}


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
