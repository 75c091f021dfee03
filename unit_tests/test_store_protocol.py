"""The writer's store interface: both stores implement all of it, with the same parameters, and the
in-memory one deletes exactly what the Milvus filters delete (rows without a write id or tag count
as "other", like `not (exists ...)`)."""

from __future__ import annotations

import gc
import inspect

import pytest
from pymilvus import DataType

from destination_milvus_zendesk.errors import InputError
from destination_milvus_zendesk.memory_store import MemoryStore
from destination_milvus_zendesk.milvus_store import CollectionInfo, MilvusStore
from destination_milvus_zendesk.store import VectorStore
from destination_milvus_zendesk.writer import InputLine

from .helpers import make_writer, memory_store, messages, rec, st

MEMBERS = [name for name in vars(VectorStore) if not name.startswith("_")]


def test_the_protocol_is_what_the_writer_uses():
    assert set(MEMBERS) == {"info", "primary_key", "write", "existing_keys", "write_timestamp", "stored_chunks",
                            "count", "delete_records", "delete_records_in_tag", "delete_stream_rows_except",
                            "set_keyed_rows"}


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
    store = MemoryStore(CollectionInfo("c", "id", DataType.VARCHAR, False, 512, "vector", DataType.FLOAT_VECTOR, 4,
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
