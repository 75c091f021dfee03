"""Plain builders the unit tests share: in-memory collections, Airbyte messages, a writer on them.

Fixtures live in conftest.py; test modules import from here, never from each other.
"""

from __future__ import annotations

from typing import Any

from airbyte_cdk.models import AirbyteMessage, AirbyteMessageSerializer, ConfiguredAirbyteCatalogSerializer

from destination_milvus_zendesk.config import parse_config
from destination_milvus_zendesk.embedding.local import FakeEmbedder
from destination_milvus_zendesk.memory_store import MemoryStore
from destination_milvus_zendesk.schema import COLUMNS_PROPERTY, KEYED_PROPERTY, CollectionInfo, Kind
from destination_milvus_zendesk.writer import Writer

FAKE_OPENAI_KEY = "sk-unit-SECRET-42"  # the key the fake OpenAI server accepts (and no output may show)

CATALOG = ConfiguredAirbyteCatalogSerializer.load({"streams": [
    {"stream": {"name": "tickets", "json_schema": {}, "supported_sync_modes": ["incremental"]},
     "sync_mode": "incremental", "destination_sync_mode": "append_dedup", "primary_key": [["id"]]}]})


def memory_store(fail_on_write: int | None = None) -> MemoryStore:
    """A collection with a VARCHAR key, not keyed by record (as a hand-made one): rows probed by filter."""
    info = CollectionInfo("c", "id", Kind.VARCHAR, False, 512, "vector", Kind.FLOAT_VECTOR, 1536,
                          True, {"id": Kind.VARCHAR, "vector": Kind.FLOAT_VECTOR}, {}, "L2")
    return MemoryStore(info, fail_on_write=fail_on_write)


def tutorial_store() -> MemoryStore:
    """The tutorial's hand-made collection in memory: INT64 auto-id `id`, `vector`, dynamic fields."""
    info = CollectionInfo("c", "id", Kind.INT64, True, 0, "vector", Kind.FLOAT_VECTOR, 1536,
                          True, {"id": Kind.INT64, "vector": Kind.FLOAT_VECTOR}, {}, "L2")
    return MemoryStore(info)


def keyed_store() -> MemoryStore:
    """A connector-created collection in memory: rows keyed by (record, chunk), typed filter columns."""
    fields = {"id": Kind.VARCHAR, "vector": Kind.FLOAT_VECTOR, "text": Kind.VARCHAR,
              "_ab_stream": Kind.VARCHAR, "_ab_record_id": Kind.VARCHAR,
              "status": Kind.VARCHAR, "organization_id": Kind.INT64}
    return MemoryStore(CollectionInfo("c", "id", Kind.VARCHAR, False, 512, "vector", Kind.FLOAT_VECTOR, 1536,
                                      True, fields, {"status": {"max_length": 256}}, "L2",
                                      {KEYED_PROPERTY: "1", COLUMNS_PROPERTY: "status,organization_id"}))


def messages(*items: dict[str, Any]) -> list[AirbyteMessage]:
    return [AirbyteMessageSerializer.load(item) for item in items]


def rec(i: int, stream: str = "tickets", **data: Any) -> dict[str, Any]:
    return {"type": "RECORD", "record": {"stream": stream, "emitted_at": 1,
                                         "data": {"id": i, "subject": f"s{i}", "description": f"d{i}", **data}}}


def st(n: int, stream: str = "tickets") -> dict[str, Any]:
    return {"type": "STATE", "state": {"type": "STREAM", "stream": {"stream_descriptor": {"name": stream},
                                                                    "stream_state": {"n": n}}}}


def make_writer(store: Any, **config: Any) -> Writer:
    """The real writer (fake embedder, append_dedup tickets) on `store`; `config` overrides settings."""
    cfg = parse_config({"embedding": {"mode": "fake"}, "indexing": {"host": "x.db", "collection": "c"},
                        "processing": {"text_fields": ["subject", "description"]}, **config})
    return Writer(cfg, store, FakeEmbedder(), CATALOG)
