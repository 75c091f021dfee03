"""docs/milvus-zendesk.md cannot drift: its configuration table is the one generated from the spec,
the anchors the README links exist, and every troubleshooting message is still one the code emits."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "milvus-zendesk.md"
sys.path.insert(0, str(ROOT / "scripts"))

import gen_config_docs  # noqa: E402


@pytest.fixture(scope="module")
def doc() -> str:
    return DOC.read_text("utf-8")


def test_the_table_is_the_generated_one(doc):
    assert gen_config_docs.current_table(doc) == gen_config_docs.table(), (
        "docs/milvus-zendesk.md's configuration table is out of date: run python scripts/gen_config_docs.py --write")


def test_every_spec_field_is_in_the_table():
    from destination_milvus_zendesk.config import spec_schema

    def paths(node, prefix=""):
        for name, child in node.get("properties", {}).items():
            if name == "mode" and "const" in child:
                continue
            yield prefix + name
            for option in child.get("oneOf", []):
                yield from paths(option, f"{prefix}{name}.")
            if child.get("properties"):
                yield from paths(child, f"{prefix}{name}.")
            if child.get("items", {}).get("properties"):
                yield from paths(child["items"], f"{prefix}{name}[].")

    table = gen_config_docs.table()
    missing = [p for p in paths(spec_schema()) if f"`{p}`" not in table]
    assert not missing
    assert "embedding.openai_key` (mode `openai`) | string, secret | yes" in table


def test_the_check_script_flags_a_stale_table(tmp_path, monkeypatch, doc):
    stale = doc.replace("| `indexing.db` |", "| `indexing.database` |")
    (tmp_path / "milvus-zendesk.md").write_text(stale, "utf-8")
    monkeypatch.setattr(gen_config_docs, "DOC", tmp_path / "milvus-zendesk.md")
    monkeypatch.setattr(gen_config_docs, "ROOT", tmp_path)
    assert gen_config_docs.main(["--check"]) == 1


def _anchor(heading: str) -> str:
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def test_linked_anchors_exist(doc):
    anchors = {_anchor(h) for h in re.findall(r"^#{1,6} (.+)$", doc, flags=re.M)}
    readme = (ROOT / "README.md").read_text("utf-8")
    linked = set(re.findall(r"docs/milvus-zendesk\.md#([\w-]+)", readme))
    linked |= set(re.findall(r"\]\(#([\w-]+)\)", doc))
    assert {"configuration", "migrating-from-destination-milvus"} <= linked
    assert linked <= anchors, linked - anchors


def _source_text() -> str:
    """The package's source with implicitly concatenated string literals joined."""
    text = "\n".join(p.read_text("utf-8") for p in (ROOT / "destination_milvus_zendesk").rglob("*.py"))
    text = re.sub(r"\"\s*\n\s*(?:f|rf|fr)?\"", "", text)
    import airbyte_cdk.sources.utils.schema_helpers as helpers

    return text + Path(helpers.__file__).read_text("utf-8")


def test_troubleshooting_messages_are_real(doc):
    section = doc.split("## Troubleshooting", 1)[1].split("\n## ", 1)[0]
    messages = re.findall(r"^\| `([^`]+)`", section, flags=re.M)
    assert len(messages) >= 20
    source = _source_text()
    for message in messages:
        for part in message.split("`")[0].split("…"):
            part = part.strip(" /")
            if len(part) >= 6:
                assert part in source, f"troubleshooting message fragment not found in the code: {part!r}"


def test_every_check_failure_is_documented(doc):
    """The other way round: each ConfigError message check can raise has a troubleshooting entry."""
    source = (ROOT / "destination_milvus_zendesk" / "destination.py").read_text("utf-8")
    source += "".join(path.read_text("utf-8")
                      for path in sorted((ROOT / "destination_milvus_zendesk" / "milvus").glob("*.py")))
    section = doc.split("## Troubleshooting", 1)[1].split("\n## ", 1)[0]
    for distinctive in ("does not exist in database", "is not a Milvus endpoint", "is unreachable",
                        "refused the session", "has dynamic fields off", "was written with embedding model",
                        "-dimensional vectors in", "not FLOAT_VECTOR", "primary keys are supported",
                        "Could not open Milvus Lite database", "Milvus refused", "Milvus kept failing"):
        assert distinctive in source, f"{distinctive!r} is no longer in the code: update this test and the doc"
        assert distinctive in section, f"{distinctive!r} has no troubleshooting entry"
