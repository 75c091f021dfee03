"""Real Zendesk record shapes through the connector, on Milvus Lite and on the server.

The records are built from airbyte-source-zendesk-support's own JSON schemas (`tickets`,
`articles`): for every property, across the records, each type its schema allows appears - null,
the populated object/array/string/number/boolean, the alternative of a union (a
`satisfaction_rating` that is a string), empty containers, arrays holding nulls, the deepest nested
objects (`via.source.from...`) - and every record is checked against the schema first. Added on top:
the source's raw API custom-field types (bool, int, float, list, object; what a source without
schema normalization sends), very long HTML article bodies, a 200 KB pasted log, non-BMP text, and
a record whose text fields are all null. Each record must come back: metadata equal to what was
sent (or truncated with a warning where the documented caps apply), text readable, filters on
nested JSON and vector search working.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema
import pytest

from test_support import zendesk_sample as zs
from test_support.zendesk_schemas import SchemasMissing, load_schemas
from destination_milvus_zendesk.documents import MAX_METADATA_BYTES, MAX_VALUE_CHARS
from destination_milvus_zendesk.milvus.filters import literal

from .helpers import catalog, make_config, record, rows, run_connector, state

UNICODE = "Ünïcödé — 日本語のチケット 🚀𝄞 «quotes» \"double\" 'single' \\backslash\\ tab\tnl"
BIG_ID = 4_400_000_123_456  # Zendesk ids are 13-14 digits
TEXT_FIELDS = ["body", "title", "description", "subject"]


# --- the schemas ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def schemas() -> dict[str, dict]:
    try:
        return load_schemas()
    except SchemasMissing as exc:
        pytest.fail(str(exc))


# --- values for every allowed type ------------------------------------------------------------


def _types(schema: dict) -> list[str]:
    t = schema.get("type", [])
    return [t] if isinstance(t, str) else list(t)


def value_for(schema: dict, variant: int, path: str) -> Any:
    """variant 0: null where allowed; 1: the first non-null type, fully populated; 2: the next type of a
    union, or the edge value of the only one (empty string/array/object, 0, false, big numbers)."""
    types = _types(schema)
    concrete = [t for t in types if t != "null"] or ["string"]
    if variant == 0 and "null" in types:
        return None
    kind = concrete[0] if variant <= 1 or len(concrete) == 1 else concrete[1]
    edge = variant >= 2 and len(concrete) == 1
    if kind == "object":
        props = schema.get("properties") or {}
        if edge:
            return {}
        out = {k: value_for(v, 1 if variant == 0 else variant, f"{path}.{k}") for k, v in props.items()}
        if not props or schema.get("additionalProperties", True) is not False:
            out["x_extra"] = {"nested": [1, "two", None, {"deep": True}], "int64": 2**62 + 1, "tiny": 1e-300}
        return out
    if kind == "array":
        if edge:
            return []
        items = schema.get("items")
        if not items:  # any items: Zendesk's label_names / content_tag_ids are schema-less
            return [1, "label", None, 2.5, {"k": ["v"]}]
        item_types = _types(items)
        values = [value_for(items, 1, f"{path}[]"), value_for(items, 2, f"{path}[]")]
        return values + ([None] if "null" in item_types else [])
    if kind == "string":
        if schema.get("format") == "date-time":
            return "1970-01-01T00:00:00Z" if edge else "2025-01-02T03:04:05Z"
        return "" if edge else f"{path.rsplit('.', 1)[-1]}: {UNICODE}"
    if kind == "integer":
        return 0 if edge else BIG_ID
    if kind == "number":
        return -0.5 if edge else 1234.5
    if kind == "boolean":
        return not edge
    raise AssertionError(f"{path}: unhandled schema type {kind}")


def schema_records(schema: dict, first_id: int) -> list[dict[str, Any]]:
    """Three records covering every allowed type of every property: all null (no text, so it must
    be skipped with a warning), fully populated, and the union alternatives / edge values."""
    out = []
    for variant in (0, 1, 2):
        data = {k: value_for(v, variant, k) for k, v in schema["properties"].items()}
        data["id"] = first_id + variant
        out.append(data)
    return out


# --- the records --------------------------------------------------------------------------------


def long_html(paragraphs: int) -> str:
    parts = ["<html><head><style>p{color:red}</style><script>var secret = 'not text';</script></head><body>",
             "<h1>Exporting &amp; importing &lt;everything&gt;</h1>"]
    for i in range(paragraphs):
        parts.append(f"<h2 id='s{i}'>Step {i}</h2><p>Open <b>Settings</b> &gt; <i>Data</i> &gt; Export {i}. "
                     f"Use the <code>--since={i}d</code> flag&nbsp;if the job stalls at {i % 100}%. {UNICODE}</p>"
                     f"<ul><li>first {i}</li><li>second {i}</li></ul>"
                     f"<table><tr><td>row {i}</td><td>{i * 3}</td></tr></table><br/>")
    return "".join(parts) + "</body></html>"


@pytest.fixture(scope="module")
def records(schemas) -> dict[str, list[dict[str, Any]]]:
    tickets = schema_records(schemas["tickets"], 900_001)
    articles = schema_records(schemas["articles"], 800_001)
    for data in tickets[1:]:
        data["subject"] = f"Export stalls for ticket {data['id']} {UNICODE}"
    for data in articles[1:]:
        data["title"] = f"Guide {data['id']}"
        data["body"] = long_html(6)
    validators = {s: jsonschema.Draft7Validator(schemas[s]) for s in schemas}
    for stream, items in (("tickets", tickets), ("articles", articles)):
        for data in items:
            errors = [f"{list(e.path)}: {e.message[:100]}" for e in validators[stream].iter_errors(data)]
            assert not errors, (stream, data["id"], errors[:3])
    # every property takes every type its schema allows somewhere (top level)
    for stream, items in (("tickets", tickets), ("articles", articles)):
        for key, sub in schemas[stream]["properties"].items():
            if key == "id":
                continue  # the primary key: never null in what the source emits
            seen = {_json_type(d[key]) for d in items}
            allowed = set(_types(sub)) or {"string"}
            allowed = {"number" if t == "integer" else t for t in allowed}
            assert allowed <= seen, (stream, key, allowed, seen)

    # the bundled generator's realistic records: normalized and raw API custom-field types
    sample = [m["record"]["data"] for m in zs.generate_messages(6, 3, seed=5) if m["type"] == "RECORD"]
    raw = [m["record"]["data"] for m in zs.generate_messages(6, 0, seed=5, raw_types=True) if m["type"] == "RECORD"]
    for data in raw:
        data["id"] += 500_000
        data["custom_fields"] = data["custom_fields"] + [
            {"id": 1, "value": True}, {"id": 2, "value": 12}, {"id": 3, "value": 3.25},
            {"id": 4, "value": ["a", "b"]}, {"id": 5, "value": {"nested": {"x": [1, None]}}}, {"id": 6, "value": None}]
    huge = copy.deepcopy(sample[0])
    huge["id"] = 990_001
    huge["description"] = ("ERROR 2025-01-01 export.worker: timeout after 30s " * 4000)  # ~200 KB pasted log
    long_article = copy.deepcopy([d for d in sample if "body" in d][0])
    long_article["id"] = 880_001
    long_article["body"] = long_html(900)  # ~300 KB of HTML
    return {"tickets": tickets + [d for d in sample if "subject" in d] + raw + [huge],
            "articles": articles + [d for d in sample if "body" in d] + [long_article]}


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return {str: "string", list: "array", dict: "object"}[type(value)]


# --- the test ---------------------------------------------------------------------------------


def test_every_zendesk_shape_is_stored_and_readable(backend, collection_name, records, tmp_path):
    lines = []
    for stream in ("tickets", "articles"):
        lines += [record(stream, d) for d in records[stream]] + [state(stream, stream)]
    config = make_config(backend, collection_name, create=True)
    run = run_connector("write", tmp_path, config, catalog(), lines, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:]
    counts = [s["destinationStats"]["recordCount"] for s in run.states]
    assert counts == [float(len(records["tickets"])), float(len(records["articles"]))]

    stored: dict[str, list[dict]] = {}
    for row in rows(backend, collection_name):
        stored.setdefault(row["_ab_record_id"], []).append(row)
    warnings = " | ".join(run.logs("WARN"))

    for stream in ("tickets", "articles"):
        for data in records[stream]:
            rid = f"{stream}_{data['id']}"
            has_text = any(data.get(f) for f in TEXT_FIELDS)
            if not has_text:
                assert rid not in stored, rid
                assert "record with no text in the text fields" in warnings
                continue
            assert rid in stored, f"{rid} was not stored"
            chunks = sorted(stored[rid], key=lambda r: r["_ab_chunk"])
            assert [r["_ab_chunk"] for r in chunks] == list(range(len(chunks)))
            row = chunks[0]
            assert row["_id"] == data["id"] and row["_ab_stream"] == stream
            assert all(r["text"] and "<p>" not in r["text"] and "<script" not in r["text"] for r in chunks)
            _assert_metadata_roundtrip(data, row, rid)
            metadata_bytes = len(json.dumps({k: v for k, v in row.items() if k not in ("vector", "id")},
                                            ensure_ascii=False).encode())
            assert metadata_bytes < 64 * 1024, (rid, metadata_bytes)

    # long bodies: many chunks, plain text, metadata value truncated with a warning
    assert len(stored["articles_880001"]) >= 20
    assert "not text" not in "".join(r["text"] for r in stored["articles_880001"])  # <script> dropped
    assert len(stored["articles_880001"][0]["body"]) == MAX_VALUE_CHARS
    assert "metadata field 'body' truncated" in warnings
    assert len(stored["tickets_990001"]) >= 20
    # the all-null records are the only ones not stored
    assert len(stored) == sum(len(v) for v in records.values()) - 2

    # readable through filters on scalar, nested JSON and array metadata, and through search
    with backend.connect() as client:
        client.load_collection(collection_name)
        found = client.query(collection_name, filter='_ab_record_id == "tickets_900002" and _ab_chunk == 0',
                             output_fields=["via", "satisfaction_rating", "custom_fields"], consistency_level="Strong")
        assert found and found[0]["via"]["source"]["from"]["name"].startswith("name: Ünïcödé")
        nested = client.query(collection_name, filter=f'via["source"]["from"]["ticket_id"] == {BIG_ID}',
                              output_fields=["_ab_record_id"], consistency_level="Strong")
        assert {r["_ab_record_id"] for r in nested} >= {"tickets_900002"}
        tagged = client.query(collection_name, filter=f"json_contains(tags, {literal('tags[]: ' + UNICODE)})",
                              output_fields=["_ab_record_id"], consistency_level="Strong")
        assert "tickets_900002" in {r["_ab_record_id"] for r in tagged}
        row = stored["articles_800002"][0]
        hits = client.search(collection_name, data=[row["vector"]], limit=3, output_fields=["_ab_record_id", "title"])
        assert hits[0][0]["entity"]["_ab_record_id"] == "articles_800002"


def _assert_metadata_roundtrip(data: dict, row: dict, rid: str) -> None:
    """Every field comes back as sent; only strings over the cap are cut (documented, warned)."""
    for key, value in data.items():
        name = "_id" if key == "id" else key
        assert name in row, f"{rid}: field {key!r} missing"
        expected = _capped(value)
        assert row[name] == expected, f"{rid}.{key}: {str(row[name])[:200]} != {str(expected)[:200]}"


def _capped(value: Any) -> Any:
    if isinstance(value, str):
        return value[:MAX_VALUE_CHARS]
    if isinstance(value, list):
        return [_capped(v) for v in value]
    if isinstance(value, dict):
        return {k: _capped(v) for k, v in value.items()}
    return value


def test_caps_are_what_the_docs_say():
    assert MAX_VALUE_CHARS == 8_000 and MAX_METADATA_BYTES == 48_000
