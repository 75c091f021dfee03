"""Complexity limits for the whole package (issue 13): no function above CCN 12 or 60 lines (lizard
1.24, as the issue measured), no class above 250 lines. A failure names every offender."""

from __future__ import annotations

import ast
from pathlib import Path

import lizard

PACKAGE = Path(__file__).resolve().parent.parent / "destination_milvus_zendesk"
MAX_CCN = 12
MAX_FUNCTION_LINES = 60
MAX_CLASS_LINES = 250


def _sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_the_package_is_measured():
    assert len(_sources()) > 20 and (PACKAGE / "writer" / "__init__.py") in _sources()


def test_no_function_is_too_complex_or_too_long():
    offenders = []
    for path in _sources():
        for fn in lizard.analyze_file(str(path)).function_list:
            if fn.cyclomatic_complexity > MAX_CCN or fn.length > MAX_FUNCTION_LINES:
                offenders.append(f"{path.relative_to(PACKAGE)}:{fn.start_line} {fn.name}: "
                                 f"CCN {fn.cyclomatic_complexity}, {fn.length} lines")
    assert offenders == [], "\n".join(offenders)


def test_no_class_is_too_long():
    offenders = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and node.end_lineno - node.lineno + 1 > MAX_CLASS_LINES:
                offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {node.name}: "
                                 f"{node.end_lineno - node.lineno + 1} lines")
    assert offenders == [], "\n".join(offenders)


def test_the_limits_catch_an_offender():
    """The check itself works: a function of CCN 13 is reported."""
    branches = "".join(f"    if x == {i}:\n        return {i}\n" for i in range(12))
    info = lizard.analyze_file.analyze_source_code("f.py", f"def f(x):\n{branches}    return -1\n")
    assert info.function_list[0].cyclomatic_complexity == MAX_CCN + 1
