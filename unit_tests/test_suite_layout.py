"""The test suites' own layout: `pytest unit_tests` stays fast and self-contained (no subprocess, no
Milvus, no Streamlit: those tests live in integration_tests/), and no test module imports another
(shared code is in each suite's helpers.py, shared fixtures in its conftest.py)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUITES = ("unit_tests", "integration_tests")
# what only an integration test may use: other processes, a Milvus (Lite or server), Streamlit, a browser
NOT_IN_UNIT_TESTS = {"subprocess", "multiprocessing", "milvus_lite", "streamlit", "test_support.milvus_server",
                     "test_support.browser", "pymilvus.MilvusClient"}
# the unit tests of the Milvus boundary itself (error classification, the adapters over pymilvus's types and
# internals) use pymilvus's own values; every other unit test describes collections with schema.Kind
PYMILVUS_IN_UNIT_TESTS = {"unit_tests/test_milvus_errors.py", "unit_tests/test_pymilvus_adapter.py"}


def _imports(path: Path) -> set[str]:
    """Dotted names imported by `path` (relative ones resolved within its suite), with imported names."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                module = ".".join(filter(None, [path.parent.name, module]))
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def _files(suite: str) -> dict[str, Path]:
    return {p.relative_to(ROOT).as_posix(): p for p in sorted((ROOT / suite).glob("*.py"))}


def _is_test_module(name: str) -> bool:
    last = name.split(".")[-1]
    return name.split(".")[0] in SUITES and (last.startswith("test_") or last == "conftest")


def test_unit_tests_use_no_process_milvus_or_streamlit():
    found = {}
    for name, path in _files("unit_tests").items():
        used = {forbidden for forbidden in NOT_IN_UNIT_TESTS
                if any(i == forbidden or i.startswith(forbidden + ".") for i in _imports(path))}
        if used:
            found[name] = used
    assert found == {}


def test_only_the_boundary_tests_import_pymilvus():
    found = {name for name, path in _files("unit_tests").items()
             if any(i == "pymilvus" or i.startswith("pymilvus.") for i in _imports(path))}
    assert found == PYMILVUS_IN_UNIT_TESTS


def test_no_test_module_imports_another():
    found = {}
    for suite in SUITES:
        for name, path in _files(suite).items():
            imported = {i for i in _imports(path) if _is_test_module(i)}
            if imported:
                found[name] = imported
    assert found == {}


def test_each_suite_has_its_conftest_and_helpers():
    for suite in SUITES:
        assert {f"{suite}/conftest.py", f"{suite}/helpers.py"} <= set(_files(suite))


def test_the_scans_see_what_they_look_for(tmp_path):
    sample = tmp_path / "unit_tests" / "test_sample.py"
    sample.parent.mkdir()
    sample.write_text("import subprocess\nfrom pymilvus import MilvusClient\nfrom .test_writer import rec\n"
                      "from .helpers import st\n")
    imports = _imports(sample)
    assert {"subprocess", "pymilvus.MilvusClient", "unit_tests.test_writer"} <= imports
    assert [i for i in imports if _is_test_module(i)] == ["unit_tests.test_writer"]
