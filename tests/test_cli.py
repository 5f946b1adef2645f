"""The command line, through click's runner: messages, exit codes, never a traceback."""

from __future__ import annotations

import json

from click.testing import CliRunner

from mtmreport import __version__
from mtmreport.cli import main


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_version_and_help():
    assert run("--version").output.strip() == f"mtmreport, version {__version__}"
    help_text = run("build", "--help").output
    assert "Examples:" in help_text and "--strict" in help_text and "--output" in help_text


def test_build_writes_html_and_pdf(scratch):
    result = run(
        "build", "2023-Q3", "--data", str(scratch.data_dir), "--output", str(scratch.output_dir)
    )
    assert result.exit_code == 0, result.output
    assert (scratch.output_dir / "2023-Q3" / "report.pdf").is_file()
    assert "wrote" in result.output and "audit finding" in result.output


def test_build_strict_fails_on_findings(scratch):
    result = run(
        "build",
        "2023-Q3",
        "--strict",
        "--no-pdf",
        "--data",
        str(scratch.data_dir),
        "--output",
        str(scratch.output_dir),
    )
    assert result.exit_code == 3
    assert "--strict" in result.output
    assert not (scratch.output_dir / "2023-Q3").exists()


def test_bad_file_gives_located_message_and_exit_2(scratch):
    path = scratch.data_dir / "2023-Q3.yaml"
    path.write_text(path.read_text().replace("total: 4482427", "total: 4,482,427x"))
    result = run(
        "build", "2023-Q3", "--data", str(scratch.data_dir), "--output", str(scratch.output_dir)
    )
    assert result.exit_code == 2
    assert "2023-Q3.yaml:" in result.output
    assert "flows.arrivals.total: expected a whole number" in result.output
    assert "Traceback" not in result.output


def test_unknown_and_hostile_quarter_ids(scratch):
    for quarter in ("2031-Q1", "../../etc/passwd"):
        result = run("build", quarter, "--data", str(scratch.data_dir))
        assert result.exit_code == 2
        assert result.output.startswith("error:")


def test_validate_and_audit_json(scratch):
    valid = run("validate", "--all", "--data", str(scratch.data_dir))
    assert valid.exit_code == 0 and "2023-Q3: valid" in valid.output
    audit = run("audit", "2023-Q3", "--json", "--data", str(scratch.data_dir))
    payload = json.loads(audit.output)
    assert {f["code"] for f in payload["2023-Q3"]} >= {"share", "balance", "group"}
    strict = run("audit", "2023-Q3", "--strict", "--data", str(scratch.data_dir))
    assert strict.exit_code == 3
