"""Writer logic with an in-memory store: state ordering, batching, dedup inside a batch, failures."""

from __future__ import annotations

import pytest
from airbyte_cdk.models import Type

from destination_milvus_zendesk.config import parse_config
from destination_milvus_zendesk.errors import InputError, TransientError
from destination_milvus_zendesk.writer import Writer

from .helpers import CATALOG, make_writer, memory_store, messages, rec, st


def test_states_follow_their_records_with_counts():
    store = memory_store()
    out = list(make_writer(store, write_batch_rows=2).run(messages(rec(1), rec(2), rec(3), st(1), rec(4), st(2))))
    states = [m.state for m in out if m.type == Type.STATE]
    assert [s.destinationStats.recordCount for s in states] == [3.0, 1.0]
    assert len(store.rows) == 4 and store.called("write") == [(2,), (1,), (1,)]


def test_no_state_is_released_after_a_failed_write():
    store = memory_store(fail_on_write=2)
    out = []
    with pytest.raises(TransientError):
        for message in make_writer(store).run(messages(rec(1), st(1), rec(2), st(2), rec(3), st(3))):
            out.append(message)
    states = [m.state.stream.stream_state.n for m in out if m.type == Type.STATE]
    assert states == [1]


def test_last_version_of_a_record_in_a_batch_wins():
    store = memory_store()
    list(make_writer(store).run(messages(rec(1, subject="stored"), st(1))))
    list(make_writer(store).run(messages(rec(1, subject="old"), rec(1, subject="new"), st(2))))
    assert [r["subject"] for r in store.rows.values()] == ["new"]
    assert store.called("stored_rows") == [(["tickets_1"],)]
    assert store.called("delete_keys") == [] and store.called("delete_records") == []  # upserted onto its key


def test_record_without_text_is_counted_and_its_old_rows_removed():
    store = memory_store()
    list(make_writer(store).run(messages(rec(1), st(1))))
    out = list(make_writer(store).run(messages(rec(1, subject=None, description=None), st(2))))
    assert store.rows == {}
    assert store.called("delete_keys") == [(["tickets_1#0"],)]
    warnings = [m.log.message for m in out if m.type == Type.LOG and m.log.level.value == "WARN"]
    assert any("has no text" in w for w in warnings) and any("1 x stream 'tickets'" in w for w in warnings)


def test_first_sync_into_an_empty_unkeyed_collection_looks_nothing_up_and_cleans_nothing():
    """A hand-made collection (rows found by filter) empty when the sync begins: records in no earlier
    batch have no row, so only a record repeated in a later batch is looked up, and its rows from the
    earlier batch (written after the read) are removed by the keys that write returned."""
    store = memory_store()
    out = list(make_writer(store, write_batch_rows=2).run(messages(
        rec(1), rec(2), rec(3), rec(4), rec(1, subject="again"), st(1))))
    assert store.called("stored_rows") == [(["tickets_1"],)]
    assert store.called("delete_keys") == [] and store.called("delete_records") == []  # upserted onto its key
    assert sorted(r["subject"] for r in store.rows.values()) == ["again", "s2", "s3", "s4"]
    assert [m.state.destinationStats.recordCount for m in out if m.type == Type.STATE] == [5.0]


def test_a_collection_with_rows_is_looked_up_once_for_the_batches_of_a_group():
    store = memory_store()
    list(make_writer(store).run(messages(rec(9), st(1))))
    list(make_writer(store, write_batch_rows=2).run(messages(rec(1), rec(2), rec(3), st(2))))
    assert store.called("stored_rows") == [(["tickets_1", "tickets_2", "tickets_3"],)]
    assert store.called("delete_keys") == [] and store.called("delete_records") == []  # nothing was stored
    assert sorted(r["_ab_record_id"] for r in store.rows.values()) == ["tickets_1", "tickets_2", "tickets_3",
                                                                       "tickets_9"]


def test_unknown_stream_stops_the_sync_naming_it():
    with pytest.raises(InputError, match="stream 'users', which is not in the configured catalog"):
        list(make_writer(memory_store()).run(messages(rec(1, stream="users"))))


def test_batches_respect_the_embedding_budget():
    store = memory_store()
    writer = make_writer(store, embedding_batch_size=2, embedding_concurrency=1)
    list(writer.run(messages(*[rec(i) for i in range(7)], st(1))))
    assert writer.stats.embed_requests == 4 and writer.stats.embedded == 7


def test_vectors_from_a_record_field_are_stored_as_sent_and_never_reused():
    """from_field: the writer learns from the embedder where the vectors are, embeds nothing, warns
    about a record without a usable vector, and stores a changed vector even when the text is the same."""
    from destination_milvus_zendesk.config import FromFieldEmbedding
    from destination_milvus_zendesk.embedding.from_field import FromFieldEmbedder

    store = memory_store()
    cfg = parse_config({"embedding": {"mode": "from_field", "field_name": "embedding", "dimensions": 3},
                        "indexing": {"host": "x.db", "collection": "c"},
                        "processing": {"text_fields": ["subject", "description"]}})
    embedder = FromFieldEmbedder(FromFieldEmbedding(field_name="embedding", dimensions=3))

    def sync(*items):
        writer = Writer(cfg, store, embedder, CATALOG)
        return writer, list(writer.run(messages(*items)))

    writer, out = sync(rec(1, embedding=[1, 0, 0]), rec(2, embedding=[0, 1]), rec(3), st(1))
    assert {r["_ab_record_id"]: r["vector"] for r in store.rows.values()} == {"tickets_1": [1.0, 0.0, 0.0]}
    assert all("embedding" not in r for r in store.rows.values())  # the vector source is not metadata
    warnings = [m.log.message for m in out if m.type == Type.LOG and m.log.level.value == "WARN"]
    assert any("record without a valid 'embedding' vector" in w for w in warnings)
    assert writer.stats.embedded == 0
    sync(rec(1, embedding=[0, 0, 1]), st(2))
    assert [r["vector"] for r in store.rows.values()] == [[0.0, 0.0, 1.0]]
    assert store.called("stored_chunks") == [] and store.called("vectors_by_key") == []
