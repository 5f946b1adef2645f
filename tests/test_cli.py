"""The command line, through click's runner: messages, exit codes, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from mtmreport import __version__
from tests.conftest import run_cli, seed_chart_cache


def test_version_and_help():
    assert run_cli("--version").output.strip() == f"mtmreport, version {__version__}"
    help_text = run_cli("build", "--help").output
    assert "Examples:" in help_text and "--strict" in help_text and "--output" in help_text


@pytest.mark.slow
def test_build_writes_html_and_pdf(scratch, built_html):
    # Charts from the cache, one edition: not the point (every edition by default: the
    # installed command's build in test_install, `build --all` in test_speed).
    seed_chart_cache(scratch.output_dir, built_html["2023-Q3"].folder.parent)
    folders = ["--data", str(scratch.data_dir), "--output", str(scratch.output_dir)]
    result = run_cli("build", "2023-Q3", "--lang", "en", *folders)
    assert result.exit_code == 0, result.output
    assert (scratch.output_dir / "2023-Q3" / "report.pdf").is_file()
    assert "wrote" in result.output and "audit finding" in result.output
    # one line on the audit, not one a finding: the counts and where the list is
    [summary] = [line for line in result.output.splitlines() if "audit" in line]
    assert summary == (
        f"2023-Q3: 24 audit findings: 17 serious, 7 minor; the list: "
        f"{scratch.output_dir}/2023-Q3/audit.txt or `mtmreport audit 2023-Q3`"
    )


def test_build_strict_fails_on_findings(scratch):
    result = run_cli(
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
    result = run_cli(
        "build", "2023-Q3", "--data", str(scratch.data_dir), "--output", str(scratch.output_dir)
    )
    assert result.exit_code == 2
    assert "2023-Q3.yaml:" in result.output
    assert "flows.arrivals.total: expected a whole number" in result.output
    assert "Traceback" not in result.output


def test_unknown_and_hostile_quarter_ids(scratch):
    for quarter in ("2031-Q1", "../../etc/passwd"):
        result = run_cli("build", quarter, "--data", str(scratch.data_dir))
        assert result.exit_code == 2
        assert result.output.startswith("error:")


def test_validate_and_audit_json(scratch):
    valid = run_cli("validate", "--all", "--data", str(scratch.data_dir))
    assert valid.exit_code == 0 and "2023-Q3: valid" in valid.output
    audit = run_cli("audit", "2023-Q3", "--json", "--data", str(scratch.data_dir))
    payload = json.loads(audit.output)
    assert {f["code"] for f in payload["2023-Q3"]} >= {"share", "balance", "group"}
    severities = [f["severity"] for f in payload["2023-Q3"]]
    assert severities == ["serious"] * 17 + ["minor"] * 7  # serious first
    text = run_cli("audit", "2023-Q3", "--data", str(scratch.data_dir)).output.splitlines()
    assert text[0].startswith("serious (17): ") and text[18].startswith("minor (7): ")
    strict = run_cli("audit", "2023-Q3", "--strict", "--data", str(scratch.data_dir))
    assert strict.exit_code == 3
    path = scratch.data_dir / "2023-Q3.yaml"
    path.write_text(path.read_text().replace("total: 4482427", "total: lots"))
    invalid = run_cli("validate", "2023-Q3", "--json", "--data", str(scratch.data_dir))
    [problem] = json.loads(invalid.output)["2023-Q3"]
    assert (problem["severity"], problem["code"], problem["line"]) == ("error", "type", 115)


# --- the installed program, in a real process ------------------------------------------------

PROGRAM = [sys.executable, "-m", "mtmreport"]


@pytest.mark.slow
def test_program_exit_codes_and_output(scratch):
    """`run` leaves with os._exit: the exit code and every line written must survive it."""
    data = ["--data", str(scratch.data_dir)]
    version = subprocess.run([*PROGRAM, "--version"], capture_output=True, text=True)
    assert (version.returncode, version.stdout.strip()) == (0, f"mtmreport, version {__version__}")
    missing = subprocess.run([*PROGRAM, "build", "2099-Q1", *data], capture_output=True, text=True)
    assert missing.returncode == 2 and "no file for 2099-Q1" in missing.stderr
    strict = subprocess.run(
        [*PROGRAM, "audit", "2023-Q3", "--strict", *data], capture_output=True, text=True
    )
    assert strict.returncode == 3
    # every finding, and a heading for each severity, flushed before the exit
    assert len(strict.stdout.splitlines()) == 24 + 2
    assert strict.stderr.strip() == "2023-Q3: 24 findings: 17 serious, 7 minor"
    usage = subprocess.run([*PROGRAM, "bogus"], capture_output=True, text=True)
    assert usage.returncode == 2 and "No such command 'bogus'" in usage.stderr


@pytest.mark.slow
def test_a_reader_that_stops_early_is_not_an_error(scratch):
    """`mtmreport audit | head -1`: the closed pipe ends the command quietly."""
    process = subprocess.Popen(
        [*PROGRAM, "audit", "2023-Q3", "--data", str(scratch.data_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    process.stdout.close()  # like `head -1`, before the first line: every write meets EPIPE
    errors = process.stderr.read().decode()
    assert process.wait() == 0, errors
    assert "internal error" not in errors and "Traceback" not in errors
