"""docs/architecture.md stays true: every canary test its "Private names" table names exists, so a
renamed or deleted canary cannot leave a private name unguarded while the page still claims it is."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _canaries() -> list[tuple[str, str]]:
    text = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = text.split("## Private names", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|") and "`" in line]
    found = []
    for row in rows:
        last = row.rstrip(" |").rsplit("|", 1)[1]
        found += re.findall(r"`([\w/]+\.py)::(\w+)`", last)
    return found


def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}


def test_every_private_name_has_a_canary_that_exists():
    canaries = _canaries()
    assert len(canaries) >= 5, canaries  # one per table row at least: the table was not emptied
    missing = [f"{file}::{name}" for file, name in canaries
               if not (REPO / file).exists() or name not in _test_names(REPO / file)]
    assert not missing, f"docs/architecture.md names canaries that do not exist: {missing}"
