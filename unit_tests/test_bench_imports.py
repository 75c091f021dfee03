"""Nothing runs the benchmarks in the tests, so a moved name would go unnoticed until someone
measures: every bench module imports, every import it makes (also those inside functions) resolves,
and none edits sys.path (the bench is a package, run as `python -m bench.<module>`)."""

from __future__ import annotations

import ast
import importlib
import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
MODULES = sorted(p.stem for p in BENCH.glob("*.py") if p.stem != "__init__")


def _imports(tree: ast.AST) -> list[tuple[str, list[str]]]:
    """(module, names imported from it) for every import statement anywhere in the module."""
    found: list[tuple[str, list[str]]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = ".".join(filter(None, ["bench"] * bool(node.level) + [node.module or ""]))
            found.append((module, [alias.name for alias in node.names]))
    return found


def _edits_sys_path(tree: ast.AST) -> bool:
    return any(isinstance(node, ast.Attribute) and node.attr in {"insert", "append", "extend"}
               and isinstance(node.value, ast.Attribute) and node.value.attr == "path"
               and isinstance(node.value.value, ast.Name) and node.value.value.id == "sys"
               for node in ast.walk(tree))


def test_the_bench_modules_are_found():
    assert {"run", "worker", "cpu", "sections", "docker_bench", "query_cli", "scale"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_the_bench_module_and_all_its_imports_resolve(name):
    tree = ast.parse((BENCH / f"{name}.py").read_text("utf-8"))
    importlib.import_module(f"bench.{name}")
    missing = []
    for module, names in _imports(tree):
        imported = importlib.import_module(module)
        missing += [f"{module}.{n}" for n in names
                    if not hasattr(imported, n) and importlib.util.find_spec(f"{module}.{n}") is None]
    assert missing == []
    assert not _edits_sys_path(tree)


def test_the_scan_sees_imports_inside_functions_and_path_edits():
    tree = ast.parse("import sys\nsys.path.insert(0, '.')\ndef f():\n    from .sections import gone\n")
    assert _imports(tree) == [("sys", []), ("bench.sections", ["gone"])] and _edits_sys_path(tree)
