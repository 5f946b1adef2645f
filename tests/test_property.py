"""Property: any quarter file, however mangled, is either built or refused with located problems.

Hypothesis mutates the shipped 2023-Q3 data (values of random types at random places, keys
deleted, renamed or added, parts of the file grafted elsewhere, characters of the text edited)
and runs the whole pipeline: load, validate, compute, audit, charts and HTML (no PDF, to stay
quick; charts the mutation leaves as shipped come from the cache of the shipped builds, and no
helper process is started: neither is what the property is about). The only acceptable
outcomes are a finished report or a `QuarterFileError` whose every problem names the file and
a line. Anything else (a KeyError in compute, a ZeroDivisionError in
a chart, a BuildError) is a bug.
"""

from __future__ import annotations

import copy
import datetime as dt
import shutil
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from mtmreport.build import BuildOptions, build_report
from mtmreport.errors import QuarterFileError
from mtmreport.load import format_location, read_yaml
from mtmreport.project import Project
from tests.conftest import DATA, TEMPLATES, hostile_references, seed_chart_cache

pytestmark = pytest.mark.slow  # sixty builds


SHIPPED = read_yaml(DATA / "2023-Q3.yaml").data
Path_ = tuple[str | int, ...]


def paths_in(value: Any, here: Path_ = ()) -> list[Path_]:
    """Every place in the data: each key's value and each list item, in file order."""
    found = [here]
    if isinstance(value, dict):
        for key, child in value.items():
            found += paths_in(child, (*here, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += paths_in(child, (*here, index))
    return found


def get(data: Any, path: Path_) -> Any:
    for part in path:
        data = data[part]
    return data


PLACES = paths_in(SHIPPED)
KEYS = sorted({p[-1] for p in PLACES if p and isinstance(p[-1], str)})
SUBTREES = [get(SHIPPED, p) for p in PLACES if p]
# Values that mean something somewhere in a quarter file, so mutations get past the schema.
MEANINGFUL = [
    "2023-Q3",
    "2023-Q2",
    "2023-H1",
    "2023-07",
    "2023-01..2023-09",
    "2023-09-01",
    "2023",
    2023,
    "Russia",
    "Belarus",
    "Almaty city",
    "Atlantis",
    "bars",
    "donut",
    "map",
    "none",
    "outflow",
    "inflow",
    "draft",
    "",
    " ",
    0,
    1,
    -1,
    Decimal("0.0"),
    Decimal("100"),
    Decimal("150.5"),
    Decimal("-22.3"),
    "1e400",
    "<script>alert(1)</script>",
    "![x](http://127.0.0.1:9/x.png) [y](file:///etc/passwd)",
    "**bold** *italic*\n\n- a\n- b",
    "$\\frac{",
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**18), max_value=10**18),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(
        allow_nan=False, allow_infinity=False, places=3, max_value=10**9, min_value=-(10**9)
    ),
    st.text(max_size=40),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31)),
    st.sampled_from(MEANINGFUL),
)
values = st.one_of(
    scalars,
    st.sampled_from(SUBTREES).map(copy.deepcopy),
    st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), inner, max_size=3)
        ),
        max_leaves=6,
    ),
)


def tweaked(value: Any) -> st.SearchStrategy[Any]:
    """A value of the same kind: mostly still valid, so compute, audit and render see it."""
    if isinstance(value, bool):
        return st.just(not value)
    if isinstance(value, int):
        return st.sampled_from([0, 1, -1, value * 10]) | st.integers(0, 10**7)
    if isinstance(value, Decimal):
        return st.sampled_from([Decimal(0), Decimal("100"), -value]) | st.decimals(
            min_value=0, max_value=1000, places=2
        )
    if isinstance(value, str):
        return st.sampled_from([s for s in MEANINGFUL if isinstance(s, str)]) | st.text(
            min_size=1, max_size=30
        )
    if isinstance(value, dt.date):
        return st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2030, 12, 31))
    if isinstance(value, list) and value:
        return st.sampled_from(
            [value[1:], value[:-1], value[::-1], [*value, value[0]], [value[0]], []]
        ).map(copy.deepcopy)
    if isinstance(value, dict) and value:
        return st.sampled_from(sorted(value)).map(
            lambda gone: {k: copy.deepcopy(v) for k, v in value.items() if k != gone}
        )
    return values


@dataclass(frozen=True)
class Mangled:
    """A mutated quarter file; shown by its mutations, so a failure reads as a recipe."""

    text: str
    steps: tuple[str, ...]

    def __repr__(self) -> str:
        return "Mangled(\n  " + "\n  ".join(self.steps) + "\n)"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # how Hypothesis prints it
        printer.text(repr(self))


@st.composite
def mangled(draw: st.DrawFn) -> Mangled:
    """The shipped data with one to three mutations, written as YAML text."""
    data = copy.deepcopy(SHIPPED)
    steps = []
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(paths_in(data)))
        kind = draw(st.sampled_from(["tweak"] * 5 + ["set", "delete", "rename", "add"]))
        parent = get(data, path[:-1]) if path else None
        if kind == "tweak" and path:
            parent[path[-1]] = value = draw(tweaked(parent[path[-1]]))
            steps.append(f"tweak {format_location(path)} = {value!r}")
        elif kind == "set" and path:
            parent[path[-1]] = value = draw(values)
            steps.append(f"set {format_location(path)} = {value!r}")
        elif kind == "delete" and path:
            del parent[path[-1]]
            steps.append(f"delete {format_location(path)}")
        elif kind == "rename" and path and isinstance(path[-1], str):
            new = draw(st.sampled_from(KEYS) | st.text(min_size=1, max_size=12))
            parent[new] = parent.pop(path[-1])
            steps.append(f"rename {format_location(path)} to {new!r}")
        else:
            target = get(data, path)
            if isinstance(target, dict):
                key = draw(st.sampled_from(KEYS) | st.text(max_size=8))
                target[key] = value = draw(values)
                steps.append(f"add {format_location((*path, key))} = {value!r}")
            elif isinstance(target, list):
                index = draw(st.integers(0, len(target)))
                target.insert(index, value := draw(values))
                steps.append(f"insert {format_location((*path, index))} = {value!r}")
    text = yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False)
    if draw(st.integers(0, 7)) == 0:  # now and then, edit the text itself
        at = draw(st.integers(0, len(text)))
        cut = draw(st.integers(0, 20))
        typed = draw(st.text(max_size=10))
        text = text[:at] + typed + text[at + cut :]
        steps.append(f"in the text at {at}, replace {cut} characters by {typed!r}")
    return Mangled(text, tuple(steps))


class _Dumper(yaml.SafeDumper):
    """Writes decimals as the numbers they are, as an analyst would type them."""


_Dumper.add_representer(
    Decimal, lambda dumper, value: dumper.represent_scalar("tag:yaml.org,2002:float", str(value))
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(file=mangled())
def test_any_file_is_built_or_refused_with_located_problems(file: Mangled, built_html):
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "data"
        data.mkdir()
        (data / "2023-Q3.yaml").write_text(file.text, encoding="utf-8")
        # The Russian texts beside it, as in the project: without them the Russian edition
        # would show the English texts in its charts and draw every one of them again.
        shutil.copy(DATA / "2023-Q3.ru.po", data)
        paths = Project(data_dir=data, templates_dir=TEMPLATES, output_dir=Path(folder) / "out")
        seed_chart_cache(paths.output_dir, built_html["2023-Q3"].folder.parent)
        try:
            result = build_report("2023-Q3", paths, BuildOptions(pdf=False, parallel=False))
        except QuarterFileError as error:
            event("refused")
            assert error.problems
            for problem in error.problems:
                assert problem.file.endswith("2023-Q3.yaml") and problem.line, problem
                assert problem.message
            return
        event("built")
        html = result.html.read_text(encoding="utf-8")
        assert hostile_references(html) == []
        for finding in result.findings:
            assert finding.line, finding
