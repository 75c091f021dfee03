"""The writer's store interface: it is exactly what the writer uses (read in its source, and asked
for in real syncs), both stores implement all of it with the same parameters, and the in-memory one
deletes exactly what the Milvus filters delete (rows without a write id or tag count as "other",
like `not (exists ...)`)."""

from __future__ import annotations

import ast
import gc
import inspect
from pathlib import Path
from typing import Any

import pytest
from airbyte_cdk.models import ConfiguredAirbyteCatalogSerializer

from destination_milvus_zendesk import writer
from destination_milvus_zendesk.config import parse_config
from destination_milvus_zendesk.embedding.local import FakeEmbedder
from destination_milvus_zendesk.errors import InputError
from destination_milvus_zendesk.memory_store import MemoryStore
from destination_milvus_zendesk.milvus import MilvusStore
from destination_milvus_zendesk.schema import CollectionInfo, Kind
from destination_milvus_zendesk.store import VectorStore
from destination_milvus_zendesk.writer import InputLine, Writer

from .helpers import keyed_store, make_writer, memory_store, messages, rec, st, tutorial_store

MEMBERS = [name for name in vars(VectorStore) if not name.startswith("_")]
WRITER = Path(writer.__file__).parent


def _store_members_read_in_the_writer() -> dict[str, set[str]]:
    """member -> writer modules reading it on a store (`store.x`, `self.store.x`); the modules hold
    the store under no other name, which test_the_writer_asks_only_the_protocol checks at run time."""
    found: dict[str, set[str]] = {}
    for path in WRITER.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Attribute) and (
                    (isinstance(node.value, ast.Name) and node.value.id == "store")
                    or (isinstance(node.value, ast.Attribute) and node.value.attr == "store")):
                found.setdefault(node.attr, set()).add(path.name)
    return found


def test_the_protocol_is_what_the_writer_reads():
    """Both ways: every member is read somewhere in writer/, and nothing else is read on a store."""
    read = _store_members_read_in_the_writer()
    assert set(read) == set(MEMBERS), {"not in the protocol": set(read) - set(MEMBERS),
                                       "never read by the writer": set(MEMBERS) - set(read)}


class ProtocolOnly:
    """A store as the protocol describes it: any other attribute raises, and each member used is noted."""

    def __init__(self, inner: MemoryStore) -> None:
        self.inner = inner
        self.used: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        if name not in MEMBERS:
            raise AttributeError(f"the writer asked the store for {name!r}, which VectorStore does not declare")
        self.used.add(name)
        return getattr(self.inner, name)


def _entry(mode: str, sync_mode: str = "incremental", generation: int | None = None) -> dict[str, Any]:
    entry = {"stream": {"name": "tickets", "json_schema": {}, "supported_sync_modes": ["full_refresh", "incremental"]},
             "sync_mode": sync_mode, "destination_sync_mode": mode, "primary_key": [["id"]]}
    if generation is not None:
        entry.update(generation_id=generation, minimum_generation_id=generation, sync_id=generation)
    return entry


def _sync(store: ProtocolOnly, entry: dict[str, Any], *items: dict[str, Any]) -> None:
    cfg = parse_config({"embedding": {"mode": "fake"}, "indexing": {"host": "x.db", "collection": "c"},
                        "processing": {"text_fields": ["subject", "description"], "chunk_size": 50},
                        "write_batch_rows": 1})
    catalog = ConfiguredAirbyteCatalogSerializer.load({"streams": [entry]})
    list(Writer(cfg, store, FakeEmbedder(), catalog).run(messages(*items)))


def test_the_writer_asks_only_the_protocol_and_real_syncs_use_all_of_it():
    """The real writer through dedup re-syncs (probes, reuse, shrinking records, a CDC delete), an
    overwrite in which a record shrinks and which truncates, an append stream that unkeys the collection,
    and re-syncs into the tutorial's auto-id collection (rows listed by filter, removed by key)."""
    long_text = " ".join(f"sentence {i} about the export that stalls on quoted newlines." for i in range(40))
    dedup = ProtocolOnly(keyed_store())
    _sync(dedup, _entry("append_dedup"), rec(1, description=long_text), rec(2), st(1))
    _sync(dedup, _entry("append_dedup"), rec(1), rec(2, status="solved"), rec(3, _ab_cdc_deleted_at="x"), st(2))
    overwrite = ProtocolOnly(keyed_store())
    _sync(overwrite, _entry("overwrite", "full_refresh", 3), rec(1, description=long_text), rec(2), rec(1), st(1),
          {"type": "TRACE", "trace": {"type": "STREAM_STATUS", "emitted_at": 1, "stream_status": {
              "stream_descriptor": {"name": "tickets"}, "status": "COMPLETE"}}})
    append = ProtocolOnly(keyed_store())
    _sync(append, _entry("append"), rec(1), st(1))
    tutorial = ProtocolOnly(tutorial_store())
    _sync(tutorial, _entry("append_dedup"), rec(1, description=long_text), rec(2), st(1))
    _sync(tutorial, _entry("append_dedup"), rec(1), rec(2, status="solved"), rec(3, _ab_cdc_deleted_at="x"), st(2))
    _sync(tutorial, _entry("overwrite", "full_refresh", 4), rec(1), st(3))
    used = dedup.used | overwrite.used | append.used | tutorial.used
    assert used == set(MEMBERS), {"never used": set(MEMBERS) - used}
    assert dedup.inner.called("delete_records") and overwrite.inner.called("delete_records_in_tag")


@pytest.mark.parametrize("store_class", [MilvusStore, MemoryStore])
@pytest.mark.parametrize("name", [m for m in MEMBERS if m != "info"])
def test_both_stores_take_the_protocols_parameters(store_class, name):
    wanted = inspect.signature(getattr(VectorStore, name)).parameters
    got = inspect.signature(getattr(store_class, name)).parameters
    for param in wanted:  # extra optional parameters (MilvusStore.count's filter) are allowed
        assert param in got, (store_class.__name__, name, param)
    assert all(p.default is not inspect.Parameter.empty for n, p in got.items() if n not in wanted)


def _row(key, record, write_id, tag, stream="tickets"):
    return {"id": key, "_ab_record_id": record, "_ab_write": write_id, "_ab_gen": tag, "_ab_stream": stream}


def test_memory_deletes_follow_the_milvus_filters():
    store = MemoryStore(CollectionInfo("c", "id", Kind.VARCHAR, False, 512, "vector", Kind.FLOAT_VECTOR, 4,
                                       True, {}, {}, "L2"))
    store.write([_row("a0", "a", "w1", "t1"), _row("a1", "a", "w2", "t1"), _row("b0", "b", "w1", "t0"),
                 {"id": "x0", "_ab_record_id": "a", "_ab_stream": "tickets"},  # another tool's row: no write id
                 _row("c0", "c", "w1", "t0", stream="articles")])
    store.delete_records(["a"], keep_write_id="w2")
    assert sorted(store.rows) == ["a1", "b0", "c0"]
    store.write([{"id": "a2", "_ab_record_id": "a", "_ab_gen": "t1", "_ab_stream": "tickets"}])  # no write id
    store.delete_records_in_tag(["a", "b"], "t1", keep_write_id="w9")
    assert sorted(store.rows) == ["a2", "b0", "c0"]  # `_ab_write != 'w9'` is false without the field
    store.delete_records(["a"])
    store.delete_stream_rows_except("tickets", "t1")
    assert sorted(store.rows) == ["c0"]


def test_an_error_found_later_names_the_line_the_message_came_from():
    """The reader thread runs ahead: the line travels with its message, not through shared state."""
    lines = [InputLine(n, m) for n, m in zip([11, 12, 13], messages(rec(1), rec(2), rec(3, stream="users")))]
    with pytest.raises(InputError, match=r"^Line 13: record for stream 'users'"):
        list(make_writer(memory_store()).run(lines))


def test_a_run_leaves_the_gc_thresholds_alone():
    """No process-wide state: the writer no longer raises the gen-0 threshold (no measurable gain)."""
    before = gc.get_threshold()
    list(make_writer(memory_store()).run(messages(rec(1), st(1))))
    assert gc.get_threshold() == before
