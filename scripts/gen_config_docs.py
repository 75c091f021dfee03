"""The configuration table of docs/milvus-zendesk.md, generated from the connector's spec.

    python scripts/gen_config_docs.py            # print the table
    python scripts/gen_config_docs.py --write    # replace the table in the doc
    python scripts/gen_config_docs.py --check    # exit 1 if the doc's table is out of date

The table is built from `destination_milvus_zendesk.config.spec_schema()`, the same JSON schema
`spec` prints, so a field added, renamed, re-defaulted or re-described shows up here (and the unit
test `unit_tests/test_config_docs.py` fails until the doc is regenerated).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DOC = ROOT / "docs" / "milvus-zendesk.md"
BEGIN = "<!-- BEGIN GENERATED CONFIG TABLE (python scripts/gen_config_docs.py --write) -->"
END = "<!-- END GENERATED CONFIG TABLE -->"
HEADER = ["| Field | Type | Required | Default | Description |", "| --- | --- | --- | --- | --- |"]


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _code(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return f"`{text}`" if "`" not in text else f"`` {text} ``"


def _type(node: dict[str, Any]) -> str:
    kind = node.get("type", "object" if "oneOf" in node else "")
    if kind == "array":
        item = node.get("items", {}).get("type", "")
        kind = f"array of {item or 'values'}{'s' if item and item != 'object' else ''}"
        if node.get("items", {}).get("type") == "object":
            kind = "array of objects"
    bounds = []
    if "minimum" in node or "exclusiveMinimum" in node:
        bounds.append(f"≥ {node['minimum']}" if "minimum" in node else f"> {node['exclusiveMinimum']}")
    if "maximum" in node:
        bounds.append(f"≤ {node['maximum']}")
    if bounds:
        kind += " (" + ", ".join(bounds) + ")"
    if node.get("airbyte_secret"):
        kind += ", secret"
    return kind


def _description(node: dict[str, Any]) -> str:
    parts = [f"**{node['title']}**." if node.get("title") else ""]
    if node.get("description"):
        parts.append(node["description"])
    examples = node.get("examples")
    if examples:
        parts.append("Example: " + ", ".join(_code(e) for e in examples[:3]) + ".")
    return _cell(" ".join(p for p in parts if p))


def _required(name: str, node: dict[str, Any], parent: dict[str, Any], in_option: bool) -> bool:
    """As the spec's `required` says; inside a oneOf option the spec lists only `mode` (what the
    Airbyte UI wants), so there a field without a default is the required one (pydantic emits a
    default for every optional field of an option)."""
    return name in parent.get("required", []) or (in_option and "default" not in node)


def rows(node: dict[str, Any], prefix: str = "", mode: str | None = None) -> Iterator[list[str]]:
    for name, child in node.get("properties", {}).items():
        if name == "mode" and "const" in child:
            continue  # the discriminator: shown as the option's own row
        path = f"{prefix}{name}"
        label = f"`{path}`" + (f" (mode `{mode}`)" if mode else "")
        default = _code(child["default"]) if "default" in child and child["default"] not in (None, [], {}) else ""
        if "default" in child and child["default"] in ([], {}):
            default = _code(child["default"])
        yield [label, _type(child), "yes" if _required(name, child, node, mode is not None) else "", default,
               _description(child)]
        if "oneOf" in child:
            for option in child["oneOf"]:
                option_mode = option.get("properties", {}).get("mode", {}).get("const")
                yield [f"`{path}.mode` = `{option_mode}`", "option", "", "", _description(option)]
                yield from rows(option, f"{path}.", option_mode)
        elif child.get("type") == "object" and child.get("properties"):
            yield from rows(child, f"{path}.")
        elif child.get("type") == "array" and child.get("items", {}).get("properties"):
            yield from rows(child["items"], f"{path}[].")


def table() -> str:
    from destination_milvus_zendesk.config import spec_schema

    lines = list(HEADER)
    for row in rows(spec_schema()):
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def current_table(doc: str) -> str:
    if BEGIN not in doc or END not in doc:
        raise SystemExit(f"{DOC} lacks the markers {BEGIN!r} ... {END!r}")
    return doc.split(BEGIN, 1)[1].split(END, 1)[0].strip()


def main(argv: list[str]) -> int:
    generated = table()
    if "--write" in argv:
        doc = DOC.read_text("utf-8")
        before, rest = doc.split(BEGIN, 1)
        after = rest.split(END, 1)[1]
        DOC.write_text(f"{before}{BEGIN}\n{generated}\n{END}{after}", "utf-8")
        print(f"wrote the configuration table into {DOC.relative_to(ROOT)}")
        return 0
    if "--check" in argv:
        if current_table(DOC.read_text("utf-8")) != generated:
            print(f"{DOC.relative_to(ROOT)}: the configuration table is out of date; run "
                  "python scripts/gen_config_docs.py --write", file=sys.stderr)
            return 1
        print("configuration table is current")
        return 0
    print(generated)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
