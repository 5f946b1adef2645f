"""Hostile input: what a quarter file, a writer of `output/` or a browser can make us do.

(a) Markdown links reach the HTML and the PDF only as https:, http: or mailto:; anything
else is text. (b) Spreadsheet formulas from the file stay text (CSV per OWASP, XLSX strings).
(c) Control characters from files are escaped in every command's output. (d) Ids that only
look like quarters are refused before a file is named. (e) Oversized files are refused at
once, saying the limit. (f) Compiled templates planted in `output/.cache/templates/` run
nothing (and the control shows that reading them would have). (g) Chart caches never follow
links. (h) The preview checks the Host of HEAD requests, answers 400 to `%00`, counts early
hang-ups quietly and closes connections that send nothing.
"""

from __future__ import annotations

import csv
import hashlib
import os
import pickle
import shutil
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest
import tinyhtml5
from openpyxl import load_workbook
from pypdf import PdfReader

from mtmreport.build import BuildOptions, build_report
from mtmreport.chartcache import ChartCache
from mtmreport.errors import BuildError
from mtmreport.load import MAX_LIST_ITEMS, MAX_NODES
from mtmreport.project import Project
from tests.conftest import CHART_CACHE, DATA, TEMPLATES, pdf_text, seed_chart_cache
from tests.preview_process import PreviewProcess

ROOT = Path(__file__).resolve().parent.parent
Q3 = (DATA / "2023-Q3.yaml").read_text(encoding="utf-8")
FIRST_BULLET = "The President of Kazakhstan, Kasym-Jomart Tokayev,"
OUTSIDE = {"https", "http", "mailto"}


def quarter_data(folder: Path, text: str, name: str = "2023-Q3") -> Path:
    data = folder / "data"
    data.mkdir(parents=True, exist_ok=True)
    (data / f"{name}.yaml").write_text(text, encoding="utf-8")
    return data


def edited(old: str, new: str) -> str:
    assert old in Q3
    return Q3.replace(old, new, 1)


def cli(*args: str, cwd: Path = ROOT, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mtmreport", *args],
        capture_output=True,
        timeout=timeout,
        cwd=cwd,
    )


# --- (a) links --------------------------------------------------------------------------------

HOSTILE_LINKS = (
    "[passwd](/etc/passwd) [share](//attacker.example/share/doc) "
    "[up](../../../etc/passwd) [file](file:///etc/passwd) [unc](\\\\attacker.example\\share) "
    "[iom](https://www.iom.int/) [mail](mailto:dtm@iom.int) "
)


@pytest.mark.slow
def test_only_web_and_mail_links_reach_the_html_and_the_pdf(tmp_path, built_html):
    data = quarter_data(tmp_path, edited(FIRST_BULLET, HOSTILE_LINKS + FIRST_BULLET))
    output = seed_chart_cache(tmp_path / "output", built_html["2023-Q3"].folder.parent)
    # One edition: every edition's links pass through the same Markdown renderer.
    result = build_report(
        "2023-Q3", Project(data, TEMPLATES, output), BuildOptions(languages=("en",))
    )
    html = result.html.read_text(encoding="utf-8")
    hrefs = [
        element.get("href")
        for element in tinyhtml5.parse(html).iter()
        if str(element.tag).endswith("}a") and element.get("href")
    ]
    own = ("#", "data/")  # the report's own anchors and its data annex
    foreign = [h for h in hrefs if not h.startswith(own)]
    assert sorted(foreign) == ["https://www.iom.int/", "mailto:dtm@iom.int"]
    uris = []
    for page in PdfReader(result.pdf).pages:
        for annotation in page.get("/Annots") or []:
            action = annotation.get_object().get("/A") or {}
            if "/URI" in action:
                uris.append(str(action["/URI"]))
    assert "https://www.iom.int/" in uris and "mailto:dtm@iom.int" in uris
    for uri in uris:
        scheme = uri.split(":", 1)[0].lower()
        assert scheme in OUTSIDE or (scheme == "file" and "/data/" in uri), uri
        assert "passwd" not in uri and "attacker" not in uri, uri
    text = pdf_text(result.pdf)
    assert "passwd share up" in text and "unc iom mail" in text  # the links' words, as text


# --- (b) spreadsheets -------------------------------------------------------------------------

FORMULA = '=HYPERLINK("http://attacker.example/x","Details")'
FORMULA_LABELS = {"=1+2": "construction", "@SUM(A1)": "mining and quarrying"}


@pytest.mark.slow
def test_formulas_from_the_file_stay_text_in_csv_and_xlsx(tmp_path, built_html):
    text = Q3
    for label, category in FORMULA_LABELS.items():
        assert f"category: {category}," in text
        text = text.replace(f"category: {category},", f"category: '{label}',", 1)
    charted = "chart: none\n          items:                      # by type of economic activity"
    assert charted in text  # the categories get a chart, so their labels reach the annex
    text = text.replace(
        charted, charted.replace("chart: none", "chart: bars\n          caption: '-2+3+cmd'"), 1
    )
    source = "source: Bureau of National Statistics, 2023"
    assert source in text
    text = text.replace(source, "source: '" + FORMULA + "'", 1)
    data = quarter_data(tmp_path, text)
    output = seed_chart_cache(tmp_path / "output", built_html["2023-Q3"].folder.parent)
    # One edition: every edition's annex is written by the same code from the same labels.
    result = build_report(
        "2023-Q3", Project(data, TEMPLATES, output), BuildOptions(pdf=False, languages=("en",))
    )
    folder = result.folder / "data"
    cells = [
        cell
        for path in folder.glob("*.csv")
        for row in csv.reader(path.read_text(encoding="utf-8").splitlines())
        for cell in row
    ]
    assert "'=1+2" in cells and "'@SUM(A1)" in cells
    for cell in cells:  # OWASP: no cell begins as a formula would
        assert not cell.startswith(("=", "+", "@", "\t", "\r")), cell
        assert not cell.startswith("-") or cell[1:].replace(".", "").isdigit(), cell
    workbook = load_workbook(folder / "2023-Q3-data.xlsx")
    strings = []
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate}: {cell.value}"
                if cell.data_type == "s":
                    strings.append(cell.value)
    assert FORMULA in strings and "=1+2" in strings  # shown as typed, never computed
    assert any(str(value).endswith("-2+3+cmd") for value in strings)
    assert not any(sheet._hyperlinks for sheet in workbook.worksheets)


# --- (c) terminal -----------------------------------------------------------------------------

CONTROL = "\x1b[2J\x1b]0;pwned\x07\r\u202e"


def assert_escaped(result: subprocess.CompletedProcess) -> None:
    printed = result.stdout + result.stderr
    for raw in (b"\x1b", b"\x07", b"\r", "\u202e".encode()):
        assert raw not in printed, printed
    assert b"\\x1b[2J" in printed, printed  # it was printed, as an escape


@pytest.mark.slow
def test_control_characters_are_escaped_in_every_command(tmp_path, built_html):
    folder = tmp_path / f"reports{CONTROL}"
    data = quarter_data(
        folder,
        edited(
            'category: "agriculture, forestry, and fishery"',
            'category: "agriculture\\e[2J\\e]0;pwned\\a\\r\\u202e, forestry, and fishery"',
        ).replace("title: Conclusion", 'title: "Conclusion\\e[2J\\r"', 1),
    )
    output = seed_chart_cache(folder / "output", built_html["2023-Q3"].folder.parent)
    commands = {
        "build": ["build", "2023-Q3", "--no-pdf", "--data", str(data), "--output", str(output)],
        "build --all": ["build", "--all", "--no-pdf", "--data", str(data), "--output", str(output)],
        "audit": ["audit", "2023-Q3", "--data", str(data)],
        "list": ["list", "--data", str(data)],
        "new": ["new", "2023-Q4", "--data", str(data)],
        "validate (a path)": ["validate", "2023-Q2", "--data", str(data)],
        "schema": ["schema", "--output", str(folder / "schema.json")],
    }
    for name, args in commands.items():
        result = cli(*args)
        assert result.returncode in (0, 2), (name, result.stderr)
        assert_escaped(result)


# --- (d) quarter ids --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "quarter",
    ["\u0662\u0660\u0662\u0664-Q1", "\uff12\uff10\uff12\uff14-Q1", "2024-Q1\n", "2024-Q\u0661"],
    ids=["arabic-indic", "fullwidth", "newline", "digit-quarter"],
)
def test_lookalike_quarter_ids_are_refused_before_a_file_is_named(quarter, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    (tmp_path / "mtmreport.toml").write_text('data = "data"\n', encoding="utf-8")
    before = sorted(os.listdir(data))
    for command in (["new", quarter], ["build", quarter, "--no-pdf"], ["validate", quarter]):
        result = cli(*command, "--data", str(data), cwd=tmp_path)
        assert result.returncode == 2, result.stderr
        assert b"is not a quarter; write it as YYYY-QN" in result.stderr
        assert b"Traceback" not in result.stderr
    assert sorted(os.listdir(data)) == before


@pytest.mark.slow
def test_files_named_like_quarters_are_not_quarters(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    shutil.copy(data / "2023-Q4.yaml", data / "\u0662\u0660\u0662\u0669-Q4.yaml")
    listed = cli("list", "--json", "--data", str(data))
    assert listed.returncode == 0
    assert b"\\u0662" not in listed.stdout and "\u0662".encode() not in listed.stdout


# --- (e) size ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_ten_thousand_bullets_are_refused_at_once_with_the_limit(tmp_path):
    bullets = "".join(f"            - text: b{i}\n" for i in range(10_000))
    data = quarter_data(tmp_path, edited("          bullets:\n", "          bullets:\n" + bullets))
    started = time.monotonic()
    result = cli("validate", "2023-Q3", "--data", str(data))
    assert time.monotonic() - started < 30
    assert result.returncode == 2
    assert f"at most {MAX_LIST_ITEMS}".encode() in result.stderr, result.stderr
    assert b"sections[0].blocks[0].text.bullets" in result.stderr


@pytest.mark.slow
def test_many_lists_under_the_list_limit_meet_the_file_limit(tmp_path):
    block = "      - text:\n          bullets:\n" + "            - text: b\n" * MAX_LIST_ITEMS
    text = edited("    blocks:\n", "    blocks:\n" + block * (MAX_NODES // MAX_LIST_ITEMS))
    problems = Project(quarter_data(tmp_path, text), TEMPLATES, tmp_path / "output").problems(
        "2023-Q3"
    )
    assert any(f"more than {MAX_NODES:,}" in p.message for p in problems), problems


# --- (f) compiled templates -------------------------------------------------------------------


class Planted:
    """What a writer of output/ plants: unpickling it makes a folder (it could do anything)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (str(self.marker),))


def planted_bytecode(marker: Path) -> bytes:
    """A Jinja bytecode-cache entry whose checksum is a hostile pickle."""
    from jinja2.bccache import bc_magic

    return bc_magic + pickle.dumps(Planted(marker), 2)


@pytest.mark.slow
def test_compiled_templates_planted_in_output_run_nothing(tmp_path, built_html):
    import jinja2
    from jinja2.bccache import Bucket, FileSystemBytecodeCache

    output = tmp_path / "output"
    marker = tmp_path / "ran"
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)))
    planted = []
    from importlib.metadata import version

    from mtmreport import render

    digest = hashlib.sha256(Path(render.__file__).read_bytes())
    digest.update(version("jinja2").encode())
    old_folder = digest.hexdigest()[:16]  # as the cache in output/ named its folder
    # Where the cache used to live, for every template, under every folder a version named.
    for name in env.list_templates(extensions=["j2"]):
        filename = str((TEMPLATES / name).resolve())
        key = hashlib.sha1(f"{name}|{filename}".encode()).hexdigest()
        for folder in ("templates", f"templates/{old_folder}", "templates/0123456789abcdef"):
            path = output / ".cache" / folder / f"__jinja2_{key}.cache"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(planted_bytecode(marker))
            planted.append(path)
    seed_chart_cache(output, built_html["2023-Q3"].folder.parent)  # not the point
    # One edition: every edition renders the same templates.
    for _ in range(2):  # the second build would be the one to load what the first compiled
        build_report(
            "2023-Q3",
            Project(DATA, TEMPLATES, output),
            BuildOptions(pdf=False, languages=("en",)),
        )
    assert not marker.exists(), "a planted file ran"
    # Control: Jinja's own cache reading that folder would have run it.
    bucket = Bucket(env, planted[0].name[len("__jinja2_") : -len(".cache")], "checksum")
    FileSystemBytecodeCache(str(planted[0].parent)).load_bytecode(bucket)
    assert marker.is_dir()


# --- (g) chart cache and links ----------------------------------------------------------------


def test_a_linked_chart_cache_is_refused_and_nothing_it_points_to_is_touched(tmp_path):
    elsewhere = tmp_path / "photos"
    elsewhere.mkdir()
    for n in range(450):
        stem = hashlib.sha256(str(n).encode()).hexdigest() if n % 2 else f"holiday-{n}"
        (elsewhere / f"{stem}.png").write_bytes(b"\x89PNG mine")
    before = sorted(os.listdir(elsewhere))
    for link in (Path(".cache") / "charts", Path(".cache")):
        output = tmp_path / f"output-{link.name}"
        (output / link).parent.mkdir(parents=True, exist_ok=True)
        target = elsewhere if link.name == "charts" else tmp_path / "fake-cache"
        if link.name == ".cache":
            target.mkdir()
            (target / "charts").symlink_to(elsewhere)
        (output / link).symlink_to(target)
        with pytest.raises(BuildError) as refused:
            build_report("2023-Q3", Project(DATA, TEMPLATES, output), BuildOptions(pdf=False))
        assert "is a symbolic link" in str(refused.value)
        assert refused.value.exit_code == 4
    assert sorted(os.listdir(elsewhere)) == before


@pytest.mark.slow
def test_cache_entries_are_never_followed_nor_pruned_through_links(tmp_path):
    output = tmp_path / "output"
    paths = Project(DATA, TEMPLATES, output)
    english = BuildOptions(pdf=False, languages=("en",))  # every edition's charts alike
    build_report("2023-Q3", paths, english)
    cache = output / ".cache" / "charts"
    entry = sorted(cache.glob("*.png"))[0]
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"SECRET " * 100)
    entry.unlink()
    entry.symlink_to(secret)
    result = build_report("2023-Q3", paths, english)
    charts = [p.read_bytes() for p in (result.folder / "charts").iterdir()]
    assert all(b"SECRET" not in chart for chart in charts)
    assert not entry.is_symlink() and entry.read_bytes().startswith(b"\x89PNG")
    # Pruning: only entries named as keys, and a link as a link.
    entry.unlink()
    entry.symlink_to(secret)
    (cache / "notes.png").write_bytes(b"mine")
    ChartCache(cache).prune(keep=0)
    assert secret.read_bytes() == b"SECRET " * 100
    assert (cache / "notes.png").exists()
    assert not list(cache.glob("[0-9a-f]*.png"))


# --- (h) the preview --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def preview(tmp_path_factory: pytest.TempPathFactory, built_html):
    workdir = tmp_path_factory.mktemp("preview")
    # Its HTTP, no PDF; the charts from the session's build (their drawing is not the point).
    server = PreviewProcess(
        "2023-Q3",
        DATA,
        TEMPLATES,
        workdir,
        pdf=False,
        charts_from=built_html["2023-Q3"].folder.parent / CHART_CACHE,
    )
    # The log first: on a loaded machine the first draft can keep a status request waiting.
    deadline = time.monotonic() + 180
    while "draft 1 built" not in server.output() and time.monotonic() < deadline:
        time.sleep(0.1)
    server.wait_status(lambda s: s["draft"] >= 1 and s["ok"])
    yield server
    server.stop()


def raw_request(preview: PreviewProcess, request: bytes, timeout: float = 10) -> bytes:
    host, port = preview.url.split("//")[1].rstrip("/").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as connection:
        connection.sendall(request)
        received = b""
        for _ in range(10_000):
            chunk = connection.recv(65536)
            if not chunk:
                break
            received += chunk
        return received


@pytest.mark.slow
def test_head_requests_pass_the_host_check(preview):
    for path in ("/report.css", "/fonts/Carlito-Regular.ttf", "/charts/"):
        refused = raw_request(
            preview, f"HEAD {path} HTTP/1.0\r\nHost: evil.example\r\n\r\n".encode()
        )
        assert refused.startswith(b"HTTP/1.0 403"), refused[:80]
    allowed = raw_request(preview, b"HEAD /report.css HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
    assert allowed.startswith(b"HTTP/1.0 200"), allowed[:80]


@pytest.mark.slow
def test_a_null_byte_in_a_path_is_a_bad_request(preview):
    for path in ("/%00", "/fonts/%00x.ttf", "/report.css%00.html"):
        answer = raw_request(preview, f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode())
        assert answer.startswith(b"HTTP/1.0 400"), answer[:80]
    assert "Traceback" not in preview.output()


@pytest.mark.slow
def test_early_hang_ups_are_quiet_and_counted_and_silent_clients_time_out(preview):
    """The last test of the module: it stops the preview to read its closing line."""
    server = preview
    try:
        host, port = server.url.split("//")[1].rstrip("/").split(":")
        for _ in range(60):  # ask for a big file, then reset the connection at once
            connection = socket.create_connection((host, int(port)), timeout=10)
            connection.sendall(b"GET /fonts/Carlito-Bold.ttf HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            connection.close()
        # A half-open connection that never sends its request is closed by the server.
        silent = socket.create_connection((host, int(port)), timeout=30)
        silent.sendall(b"GET / HTTP/1.1\r\n")
        started = time.monotonic()
        assert silent.recv(1024) == b""
        assert time.monotonic() - started < 20
        silent.close()
        assert server.get("report.css")  # still serving
    finally:
        assert server.stop() == 0
    log = server.output()
    assert "Traceback" not in log and "BrokenPipe" not in log and "Reset" not in log, log
    assert "connection(s) ended early by their client" in log, log
