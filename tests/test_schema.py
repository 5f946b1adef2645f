"""The JSON Schema for editors: up to date, valid, and in agreement with the model."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from mtmreport.load import parse_yaml
from mtmreport.scaffold import new_quarter
from mtmreport.schema import generate_schema, schema_text
from mtmreport.validate import validate_document
from tests.conftest import DATA, ROOT, run_cli

SCHEMA_PATH = ROOT / "data" / "quarter.schema.json"
MODELINE = "# yaml-language-server: $schema=../quarter.schema.json"
SHIPPED = sorted(DATA.glob("*.yaml"))
Q3 = (DATA / "2023-Q3.yaml").read_text(encoding="utf-8")


def as_json(value: Any) -> Any:
    """What an editor's YAML server hands the schema: dates are plain text there."""
    if isinstance(value, dict):
        return {str(k): as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_json(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def schema_errors(validator: jsonschema.Draft7Validator, text: str) -> list[str]:
    """`path: message` of every error, descending into anyOf to the innermost ones."""

    def leaves(errors):
        for error in errors:
            yield from leaves(error.context) if error.context else [error]

    data = as_json(yaml.safe_load(text))
    return [
        f"{'.'.join(map(str, e.absolute_path))}: {e.message}"
        for e in leaves(validator.iter_errors(data))
    ]


def test_shipped_schema_is_up_to_date():
    assert SCHEMA_PATH.read_text(encoding="utf-8") == schema_text(), (
        "data/quarter.schema.json is out of date: run `mtmreport schema` to regenerate it"
    )


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_quarters_name_the_schema_and_follow_it(path: Path, validator):
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0] == MODELINE
    assert schema_errors(validator, text) == []


def test_a_scaffolded_draft_names_the_schema_and_follows_it(validator, tmp_path):
    for path in SHIPPED:
        shutil.copy(path, tmp_path / path.name)
    made = new_quarter("2024-Q1", tmp_path, sorted(p.stem for p in SHIPPED))
    text = made.path.read_text(encoding="utf-8")
    assert made.pending > 100  # figures emptied as `pending`, which the schema must accept
    assert text.splitlines()[0] == MODELINE
    assert schema_errors(validator, text) == []


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("  title: Quarterly Compilation Report", "  titel: x", "report"),
        ("total: 4482427", "total: 4,482,427", "sections.1.blocks.0.flows.arrivals.total"),
        ("total: 4482427", "total: -5", "sections.1.blocks.0.flows.arrivals.total"),
        ("share: 43.5}", "share: lots}", "sections.1.blocks.0.flows.arrivals.cis.countries.0"),
        ("period: 2023-Q3", "period: summer", "sections.1.blocks.0.flows.period"),
        ("month: 2023-07", "month: 2023-13", "sections.5.subsections.0.blocks.0.remittances"),
        ("direction: outflow", "direction: sideways", "sections.5.subsections.0.blocks.0"),
        ("quarter: 2023-Q3", "quarter: ../../etc", "quarter"),
        ("      - flows:\n", "      - text: {intro: x}\n        flows:\n", "sections.1.blocks.0"),
    ],
)
def test_schema_catches_what_an_editor_should_underline(validator, old, new, where):
    assert old in Q3
    errors = schema_errors(validator, Q3.replace(old, new, 1))
    assert errors, "the schema accepted it"
    assert any(e.startswith(where) for e in errors), errors


@pytest.mark.parametrize(
    ("old", "new"),
    [
        # A paragraph may be its text alone, and a share may be quoted: the model takes both.
        ("          bullets:\n", "          bullets:\n            - A bullet as plain text.\n"),
        ("share: 43.5}", 'share: "43.5"}'),
        ("period: 2023-09-01          # as of", "period: as of 2023-09-01  # as of"),
        ("period: 2023-01..2023-09", "period: 2023-01 .. 2023-09"),
    ],
)
def test_schema_accepts_what_the_model_accepts(validator, old, new):
    assert old in Q3
    text = Q3.replace(old, new, 1)
    validate_document(parse_yaml(text, Path("2023-Q3.yaml")))
    assert schema_errors(validator, text) == []


def test_schema_accepts_pending_where_a_draft_may_say_it(validator):
    """A figure, or an amount as a whole (`drafts.may_be_pending`), as the model does."""
    text = Q3.replace("total: 4482427", "total: pending", 1) + "status: draft\n"
    amount = "total: {kzt_bn: 280.6, usd_mn: 594, qualifier: estimated over}"
    assert amount in text
    text = text.replace(amount, "total: pending", 1)
    validate_document(parse_yaml(text, Path("2023-Q3.yaml")))
    assert schema_errors(validator, text) == []


def test_every_field_is_described_by_the_model():
    """An editor shows each key's description on hover; each comes from the model itself."""
    schema = generate_schema()
    bare = [
        f"{name}.{field}"
        for name, definition in [("QuarterFile", schema), *schema["$defs"].items()]
        for field, prop in definition.get("properties", {}).items()
        if not prop.get("description")
    ]
    assert bare == []


def test_schema_command_writes_the_file_or_prints_it(tmp_path):
    target = tmp_path / "schema.json"
    written = run_cli("schema", "--output", target)
    assert written.exit_code == 0, written.output
    assert target.read_text(encoding="utf-8") == SCHEMA_PATH.read_text(encoding="utf-8")
    printed = run_cli("schema", "--output", "-")
    assert printed.exit_code == 0
    assert json.loads(printed.output)["$defs"]["Block"]["maxProperties"] == 1
