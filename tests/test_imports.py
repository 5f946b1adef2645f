"""No import circles among mtmreport's modules, lazy (function-level) imports included.

A lazy import inside a function hides a circle from Python but not from a reader: the two
modules still each need the other. Only imports under `if TYPE_CHECKING:` are left out; they
never run.
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

from tests.conftest import ROOT

PACKAGE = ROOT / "mtmreport"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _is_package(name: str) -> bool:
    return MODULES.get(name, Path()).name == "__init__.py"


def _type_checking_only(tree: ast.Module) -> set[ast.AST]:
    """The import statements under `if TYPE_CHECKING:`."""
    hidden: set[ast.AST] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                hidden.update(ast.walk(child))
    return hidden


def imported_modules(name: str) -> set[str]:
    """The mtmreport modules `name` imports anywhere in its code (at the top or in a
    function), resolving `from package import module` and relative imports."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    hidden = _type_checking_only(tree)
    package = name if _is_package(name) else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if node in hidden:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.add(submodule if submodule in MODULES else base)
    return {module for module in found if module in MODULES and module != name}


def import_graph() -> dict[str, set[str]]:
    return {name: imported_modules(name) for name in MODULES}


def test_the_graph_sees_lazy_and_package_imports():
    """The parser finds what the circle check relies on (known imports of today's code)."""
    graph = import_graph()
    assert "mtmreport.load" in graph["mtmreport.validate"]  # at the top
    assert "mtmreport.scaffold" in graph["mtmreport.cli"]  # inside a command: lazy
    assert "mtmreport.charts.plan" in graph["mtmreport.render"]  # from a subpackage
    assert "mtmreport.model" in graph["mtmreport.compute"]  # `from mtmreport import model`


def test_no_import_circles():
    sorter = graphlib.TopologicalSorter(import_graph())
    try:
        sorter.prepare()
    except graphlib.CycleError as error:
        circle = " -> ".join(error.args[1])
        raise AssertionError(f"an import circle: {circle}") from None
