"""The `tickets` and `articles` JSON schemas shipped by airbyte-source-zendesk-support, with their
`$ref`s inlined the way the package lays them out (shared/ first, then schemas/). Tests validate
our sample data and fixtures against them; the package is installed (without its dependencies)
by `scripts/setup.sh --test`."""

from __future__ import annotations

import importlib.resources
import json
from pathlib import Path
from typing import Any

INSTALL_HINT = ("airbyte-source-zendesk-support is needed for its JSON schemas: run `bash scripts/setup.sh --test` "
                "(or `pip install --no-deps airbyte-source-zendesk-support`)")


class SchemasMissing(RuntimeError):
    pass


def schema_dir() -> Path:
    try:
        path = Path(str(importlib.resources.files("source_zendesk_support"))) / "schemas"
    except ModuleNotFoundError:
        raise SchemasMissing(INSTALL_HINT) from None
    if not (path / "tickets.json").is_file():
        raise SchemasMissing(f"{path}/tickets.json is missing. {INSTALL_HINT}")
    return path


def resolve(node: Any, base: Path, seen: tuple = ()) -> Any:
    """Inline `{"$ref": "x.json"}` references (cycles are left as they are)."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.endswith(".json") and ref not in seen:
            for candidate in (base / "shared" / ref, base / ref):
                if candidate.is_file():
                    rest = {k: v for k, v in node.items() if k != "$ref"}
                    return {**resolve(json.loads(candidate.read_text()), base, seen + (ref,)),
                            **resolve(rest, base, seen)}
            raise AssertionError(f"unresolvable $ref {ref!r} in the zendesk source schemas")
        return {k: resolve(v, base, seen) for k, v in node.items()}
    if isinstance(node, list):
        return [resolve(v, base, seen) for v in node]
    return node


def load_schemas(names: tuple[str, ...] = ("tickets", "articles")) -> dict[str, dict]:
    base = schema_dir()
    return {name: resolve(json.loads((base / f"{name}.json").read_text()), base) for name in names}
