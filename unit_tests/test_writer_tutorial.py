"""The tutorial's hand-made collection (auto-id keys, bookkeeping in dynamic fields): a record's rows
are found by one filter read per group of batches, across STATE messages, and removed by primary
key; STATEs still leave only after everything before them is stored."""

from __future__ import annotations

import threading
import time
from collections import Counter

from airbyte_cdk.models import ConfiguredAirbyteCatalogSerializer, Type

from destination_milvus_zendesk.config import parse_config
from destination_milvus_zendesk.embedding.local import FakeEmbedder
from destination_milvus_zendesk.writer import Writer, applied, lookup

from .helpers import make_writer, messages, rec, st, tutorial_store

LONG = "\n\n".join(f"Paragraph {i}: the export stalls at {i}% when the CSV has quoted newlines. " * 30 for i in range(8))
FILTER_DELETES = ("delete_records", "delete_records_in_tag")


def versions(store):
    """record id -> Counter of (chunk, subject): exactly one row per chunk of the latest version."""
    out: dict[str, Counter] = {}
    for row in store.rows.values():
        out.setdefault(row["_ab_record_id"], Counter())[(row["_ab_chunk"], row["subject"])] += 1
    return out


def sync(store, *items, **config):
    writer = make_writer(store, processing={"text_fields": ["subject", "description"], "chunk_size": 200}, **config)
    return writer, list(writer.run(messages(*items)))


def test_a_resync_deletes_by_primary_key_never_by_a_filter_on_the_record_id():
    store = tutorial_store()
    sync(store, rec(1, description=LONG), rec(2), rec(3), rec(4), st(1))
    old_keys = {r["_ab_record_id"]: {k for k, row in store.rows.items() if row["_ab_record_id"] == r["_ab_record_id"]}
                for r in store.rows.values()}
    writer, _ = sync(store, rec(1, subject="short now"), rec(2, subject="changed"), rec(3, _ab_cdc_deleted_at="x"),
                     rec(5), st(2))
    assert [store.called(name) for name in FILTER_DELETES] == [[], []]
    [(deleted,)] = store.called("delete_keys")
    assert set(deleted) == old_keys["tickets_1"] | old_keys["tickets_2"] | old_keys["tickets_3"]
    assert versions(store) == {"tickets_1": Counter({(0, "short now"): 1}), "tickets_2": Counter({(0, "changed"): 1}),
                               "tickets_4": Counter({(0, "s4"): 1}), "tickets_5": Counter({(0, "s5"): 1})}
    assert writer.stats.deleted_records == 1


def test_records_of_one_state_interval_and_the_next_share_one_stored_rows_query():
    store = tutorial_store()
    sync(store, *[rec(i) for i in range(6)], st(0))
    store.calls.clear()
    _, out = sync(store, rec(0, subject="a"), rec(1, subject="b"), st(1), rec(2, subject="c"), st(2),
                  rec(3, subject="d"), rec(9), st(3), write_batch_rows=1)
    assert store.called("stored_rows") == [(["tickets_0", "tickets_1", "tickets_2", "tickets_3", "tickets_9"],)]
    assert [m.state.destinationStats.recordCount for m in out if m.type == Type.STATE] == [2.0, 1.0, 2.0]
    assert len(store.called("write")) == 5 and len(store.called("delete_keys")) == 4  # per batch, by key


def test_a_state_leaves_only_after_the_records_before_it_are_stored():
    store = tutorial_store()
    sync(store, *[rec(i) for i in range(30)], st(0))
    items = []
    for n in range(1, 31):
        items += [rec(n, subject=f"v{n}"), st(n)] if n % 3 == 0 else [rec(n, subject=f"v{n}")]
    writer = make_writer(store, write_batch_rows=2)
    for message in writer.run(messages(*items)):
        if message.type == Type.STATE:
            upto = int(message.state.stream.stream_state.n)
            stored = {r["subject"] for r in store.rows.values()}
            assert {f"v{n}" for n in range(1, upto + 1)} <= stored, upto
    assert len(store.called("stored_rows")) == 2  # 10 STATE intervals, 20 batches: groups of 16 batches
    assert all(len(chunks) == 1 for chunks in versions(store).values()) and len(versions(store)) == 31


def test_a_record_changed_twice_in_one_group_keeps_only_its_last_version():
    """The second batch of the record comes after the group's read: the first batch's rows, written after
    it, are removed by the keys that write returned."""
    store = tutorial_store()
    sync(store, rec(1, description=LONG), rec(2), st(0))
    sync(store, rec(1, subject="first"), rec(2), rec(1, description=LONG, subject="second"), rec(2, subject="x"),
         st(1), write_batch_rows=2)
    assert len(store.called("stored_rows")) == 1
    assert set(versions(store)["tickets_1"]) == {(c, "second") for c in range(len(versions(store)["tickets_1"]))}
    assert all(count == 1 for chunks in versions(store).values() for count in chunks.values())
    assert versions(store)["tickets_2"] == Counter({(0, "x"): 1})


def test_unchanged_text_reuses_vectors_read_by_key():
    store = tutorial_store()
    sync(store, rec(1, description=LONG), rec(2), st(0))
    writer, _ = sync(store, rec(1, description=LONG, status="solved"), rec(2, status="open"), st(1))
    assert writer.stats.embedded == 0 and writer.stats.reused == len(store.rows)
    assert len(store.called("vectors_by_key")) == 1


def test_a_record_no_longer_remembered_falls_back_to_the_filter(monkeypatch):
    """More batches applied after the group's read than AppliedBatches remembers: a record that may have
    been written by one of them is removed by filter, so nothing stale is left."""
    monkeypatch.setattr(applied, "RECENT_BATCHES", 4)
    store = tutorial_store()
    sync(store, rec(1), st(0))
    sync(store, rec(1, subject="early"), *[rec(i) for i in range(10, 20)], rec(1, subject="late"), st(1),
         write_batch_rows=1)
    assert [ids for ids, _keep in store.called("delete_records")] == [("tickets_1",)]
    assert versions(store)["tickets_1"] == Counter({(0, "late"): 1})


def test_rows_that_could_not_all_be_listed_are_removed_by_filter():
    store = tutorial_store()
    sync(store, rec(1), rec(2), st(0))
    listing = store.stored_rows
    store.stored_rows = lambda ids: (listing(ids)[0], {"tickets_2"})
    sync(store, rec(1, subject="a"), rec(2, subject="b"), st(1))
    assert [ids for ids, _keep in store.called("delete_records")] == [("tickets_2",)]
    assert versions(store) == {"tickets_1": Counter({(0, "a"): 1}), "tickets_2": Counter({(0, "b"): 1})}


def overwrite(store, sync_id, *items):
    cfg = parse_config({"embedding": {"mode": "fake"}, "indexing": {"host": "x.db", "collection": "c"},
                        "processing": {"text_fields": ["subject", "description"]}})
    catalog = ConfiguredAirbyteCatalogSerializer.load({"streams": [{
        "stream": {"name": "tickets", "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
        "sync_mode": "full_refresh", "destination_sync_mode": "overwrite", "primary_key": [["id"]],
        "generation_id": 0, "minimum_generation_id": 0, "sync_id": sync_id}]})
    return list(Writer(cfg, store, FakeEmbedder(), catalog).run(messages(*items)))


def test_an_overwrite_whose_tag_is_new_looks_nothing_up_and_its_next_attempt_does():
    """No row carried the job's tag when it began: its records (in no earlier batch) have no row to
    remove. The job's next attempt finds the first attempt's rows by the tag and removes them by key."""
    store = tutorial_store()
    overwrite(store, 1, rec(1), rec(2), st(0))
    store.calls.clear()
    overwrite(store, 2, rec(1, subject="a"), rec(2, subject="b"), st(1))  # a new job: nothing of its tag yet
    assert store.called("stored_rows") == [] and store.called("delete_keys") == []
    assert store.called("has_tagged_rows") == [("tickets", "g0.s2")]
    complete = {"type": "TRACE", "trace": {"type": "STREAM_STATUS", "emitted_at": 1, "stream_status": {
        "stream_descriptor": {"name": "tickets"}, "status": "COMPLETE"}}}
    overwrite(store, 2, rec(2, subject="b2"), st(2), complete)  # the same job's next attempt, to its end
    [(deleted,)] = store.called("delete_keys")
    assert [store.rows.get(k) for k in deleted] == [None] and len(deleted) == 1
    assert versions(store) == {"tickets_1": Counter({(0, "a"): 1}), "tickets_2": Counter({(0, "b2"): 1})}


def test_a_paused_source_releases_the_held_states():
    """Batches and states wait for their group's read only while input arrives: when the source pauses,
    the held group is sent and its STATE released without the next message."""
    store = tutorial_store()
    sync(store, rec(1), st(0))
    resume = threading.Event()
    seen_state = []

    def source():
        yield from messages(rec(1, subject="x"), st(1))
        resume.wait(10)
        yield from messages(rec(2), st(2))

    for message in make_writer(store).run(source()):
        if message.type == Type.STATE:
            seen_state.append(resume.is_set())
            resume.set()
    assert seen_state == [False, True]


def test_a_trickling_source_does_not_hold_its_states_for_a_whole_group(monkeypatch):
    """Records arriving just often enough never to look idle: the group is sent once held MAX_HOLD_S."""
    monkeypatch.setattr(lookup, "MAX_HOLD_S", 0.2)
    store = tutorial_store()
    sync(store, rec(1), st(0))
    done = threading.Event()

    def source():
        for n in range(1, 9):
            yield from messages(rec(n, subject=f"v{n}"), st(n))
            time.sleep(0.1)
        done.set()

    early = [done.is_set() for m in make_writer(store).run(source()) if m.type == Type.STATE]
    assert len(early) == 8 and not early[0]
