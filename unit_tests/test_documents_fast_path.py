"""The C-level fast paths of metadata bounding give exactly what the value-by-value walk gives."""

from __future__ import annotations

import math

import pytest

from destination_milvus_zendesk import documents
from destination_milvus_zendesk.config import ProcessingConfig
from destination_milvus_zendesk.documents import DocumentBuilder
from test_support.zendesk_sample import generate_messages


def nested(depth: int) -> dict:
    value: dict = {"leaf": 1}
    for level in range(depth - 1):
        value = {f"k{level}": value}
    return value


TRICKY = [
    {"id": 1, "via": {"source": {"from": {"name": "x\x00y"}}}},  # NUL inside a container
    {"id": 2, "tags": ["a", float("nan")], "score": float("inf")},  # non-finite floats
    {"id": 3, "custom_fields": [{"id": 1, "value": 2 ** 63}], "big": 2 ** 64},  # integers beyond int64
    {"id": 4, "custom_fields": [{"id": 1, "value": 2 ** 60}]},  # beyond 53 bits, within int64
    {"id": 5, "deep8": nested(8), "deep9": nested(9), "deep12": [nested(11)]},  # nesting around the cap
    {"id": 6, "comments": [{"body": "z" * 9000}], "description": "d" * 9000},  # long nested and top-level text
    {"id": 7, "odd\ud800key": {"k\ud800": "v\udfff"}, "weird": {1: "int key"}},  # surrogates, non-str keys
    {"id": 8, "brackets": "[[[[[[[[[[{{{{{{{{", "list": [["]]]]"]], "esc": "quote \" and \\ backslash"},
    {"id": 9, "status": "new", "organization_id": None, "_ab_stream": "x", "id_": 3, "id-": 4},  # renames
]


def slow_builder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(documents, "_clean_json", lambda value: None)
    monkeypatch.setattr(documents, "_unchanged_by_bounding", lambda value: False)


def same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


@pytest.mark.parametrize("record", TRICKY + [m["record"]["data"] for m in generate_messages(30, 12)
                                              if m["type"] == "RECORD"])
def test_fast_path_equals_value_by_value_walk(record, monkeypatch):
    processing = ProcessingConfig(text_fields=["body", "title", "description", "subject"])
    fast = DocumentBuilder(processing, {"id", "vector", "text"}).build("tickets", record, [["id"]])
    with monkeypatch.context() as patch:
        slow_builder(patch)
        slow = DocumentBuilder(processing, {"id", "vector", "text"}).build("tickets", record, [["id"]])
    assert same(fast.metadata, slow.metadata)
    assert fast.warnings == slow.warnings
