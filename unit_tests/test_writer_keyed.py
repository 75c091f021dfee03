"""Keyed collections (created by the connector): stored rows probed by primary key instead of filter
queries, deletes only for records that shrank, typed filter columns, and the Bloom filter of ids."""

from __future__ import annotations

from airbyte_cdk.models import AirbyteMessageSerializer

from destination_milvus_zendesk.config import parse_config
from destination_milvus_zendesk.embedding.local import FakeEmbedder
from destination_milvus_zendesk.schema import NO_ORGANIZATION_ID
from destination_milvus_zendesk.writer import SeenRecords, Writer

from .helpers import CATALOG, keyed_store


def deletes(store):
    return [ids for ids, _keep in store.called("delete_records")]


LONG = "\n\n".join(f"Paragraph {i}: the export stalls at {i}% when the CSV has quoted newlines. " * 30 for i in range(8))


def rec(i, description="short", **data):
    return {"type": "RECORD", "record": {"stream": "tickets", "emitted_at": 1, "data": {
        "id": i, "subject": f"s{i}", "description": description, **data}}}


def run(store, *items, **config):
    cfg = parse_config({"embedding": {"mode": "fake"}, "indexing": {"host": "x.db", "collection": "c"},
                        "processing": {"text_fields": ["subject", "description"], "chunk_size": 200}, **config})
    writer = Writer(cfg, store, FakeEmbedder(), CATALOG)
    list(writer.run([AirbyteMessageSerializer.load(m) for m in items]))
    return writer


def by_record(store):
    out: dict[str, list] = {}
    for row in store.rows.values():
        out.setdefault(row["_ab_record_id"], []).append(row["_ab_chunk"])
    return {k: sorted(v) for k, v in out.items()}


def test_first_sync_into_an_empty_collection_probes_and_deletes_nothing():
    store = keyed_store()
    run(store, *[rec(i) for i in range(20)], rec(20, LONG))
    assert store.called("existing_keys") == [] and deletes(store) == [] and store.called("chunks_by_key") == []
    assert len(by_record(store)) == 21 and len(by_record(store)["tickets_20"]) > 1


def test_resync_deletes_only_records_that_shrank_and_reuses_vectors():
    store = keyed_store()
    run(store, rec(1, LONG), rec(2, LONG), rec(3))
    before = {k: list(r["vector"]) for k, r in store.rows.items()}
    old_chunks_of_1 = len(by_record(store)["tickets_1"])
    writer = run(store, rec(1, "now short"), rec(2, LONG, status="solved"), rec(3, status="open"))
    assert deletes(store) == []  # the shrunk record's extra rows go by key, no filter delete
    assert store.called("delete_keys") == [([f"tickets_1#{i}" for i in range(1, old_chunks_of_1)],)]
    # one read by key served the probe and the reuse; the rows past tickets_1's new end, a second
    assert len(store.called("chunks_by_key")) == 1 and len(store.called("existing_keys")) == 1
    assert by_record(store) == {"tickets_1": [0], "tickets_2": sorted(by_record(store)["tickets_2"]), "tickets_3": [0]}
    assert writer.stats.reused == len(by_record(store)["tickets_2"]) + 1  # unchanged texts kept their vectors
    assert all(list(store.rows[k]["vector"]) == before[k] for k in store.rows if k.startswith("tickets_2#"))


def test_a_record_shrinking_within_one_sync_is_cleaned():
    store = keyed_store()
    run(store, rec(1, LONG), *[rec(i) for i in range(100, 130)], rec(1, "short again"), write_batch_rows=10)
    assert by_record(store)["tickets_1"] == [0]


def test_a_record_shrinking_by_more_than_the_keys_read_is_removed_by_filter(monkeypatch):
    from destination_milvus_zendesk.writer import prepare

    store = keyed_store()
    run(store, rec(1, LONG), rec(2, LONG))
    grown = len(by_record(store)["tickets_1"])
    assert grown > 3
    monkeypatch.setattr(prepare, "SHRUNK_KEYS_READ", 2)  # tickets_1 goes on past chunk 2: unbounded
    run(store, rec(1, "short"), rec(2, LONG[: len(LONG) * (grown - 1) // grown]))
    assert by_record(store)["tickets_1"] == [0] and deletes(store) == [("tickets_1",)]
    assert len(by_record(store)["tickets_2"]) < grown  # tickets_2 shrank by one: by key
    assert any(all(k.startswith("tickets_2#") for k in keys) for (keys,) in store.called("delete_keys"))


def test_no_reuse_reads_keys_without_vectors():
    store = keyed_store()
    run(store, rec(1, LONG))
    writer = run(store, rec(1, LONG), reuse_embeddings=False)
    assert [vectors for _keys, vectors in store.called("chunks_by_key")] == [False] and writer.stats.reused == 0


def test_typed_filter_columns_take_the_record_values_or_sentinels():
    store = keyed_store()
    writer = run(store, rec(1, status="new", organization_id=42), rec(2, organization_id="77"), rec(3, organization_id="x"))
    rows = {r["_ab_record_id"]: r for r in store.rows.values()}
    assert (rows["tickets_1"]["status"], rows["tickets_1"]["organization_id"]) == ("new", 42)
    assert (rows["tickets_2"]["status"], rows["tickets_2"]["organization_id"]) == ("", 77)
    assert rows["tickets_3"]["organization_id"] == NO_ORGANIZATION_ID
    assert any("organization_id" in reason for reason in writer.stats.warnings)


def test_a_ticket_without_organization_is_not_organization_0():
    store = keyed_store()
    run(store, rec(1, organization_id=None), rec(2, organization_id=0), rec(3))
    rows = {r["_ab_record_id"]: r["organization_id"] for r in store.rows.values()}
    assert rows == {"tickets_1": NO_ORGANIZATION_ID, "tickets_2": 0, "tickets_3": NO_ORGANIZATION_ID}
    assert NO_ORGANIZATION_ID < 0  # Zendesk organization ids are positive: never a real one


def test_seen_records_never_forgets():
    seen = SeenRecords()
    assert not seen.add("tickets_1") and seen.add("tickets_1")
    assert sum(seen.add(f"r{i}") for i in range(10_000)) < 5  # false positives are rare
