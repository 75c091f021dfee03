"""MilvusStore against both real backends: error classification of what they actually raise, and
describe / repair / load as separate steps."""

from __future__ import annotations

import pytest

from destination_milvus_zendesk.config import parse_config
from destination_milvus_zendesk.errors import ConfigError, ServiceError
from destination_milvus_zendesk.milvus import MilvusStore

from .helpers import make_config


def _store(backend, collection: str, **indexing) -> MilvusStore:
    cfg = parse_config(make_config(backend, collection, indexing=indexing))
    store = MilvusStore(cfg.indexing)
    store.connect(create=True)  # a new Lite file: the test makes its own database
    return store


def test_real_errors_are_classified_by_code(backend, collection_name):
    store = _store(backend, collection_name)
    try:
        with pytest.raises(ConfigError, match="^Milvus refused counting rows: .*code=100"):
            store.count()  # collection not found: code 100 on both backends
        store.create_collection(4)
        # an unparsable filter: the server says 65535 (unexpected: a fault), Milvus Lite 6 (invalid argument)
        expected = ServiceError if backend.name == "server" else ConfigError
        with pytest.raises(expected):
            store.query("id >>> 0", ["id"])
    finally:
        store.close()


def _interrupted_creation(backend, name: str) -> None:
    """The connector's schema as create_collection makes it, killed right after the create call:
    no index, not loaded, no properties."""
    from pymilvus import DataType, MilvusClient

    with backend.connect() as client:
        schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=True)
        schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=512)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=4)
        schema.add_field("text", DataType.VARCHAR, max_length=65535)
        schema.add_field("_ab_stream", DataType.VARCHAR, max_length=256)
        schema.add_field("_ab_record_id", DataType.VARCHAR, max_length=2048)
        schema.add_field("status", DataType.VARCHAR, max_length=256)
        schema.add_field("organization_id", DataType.INT64)
        client.create_collection(name, schema=schema, consistency_level="Strong")


def _state(client, name: str) -> tuple[list[str], str, dict]:
    """Indexes, load state, properties, read with the store's own client (Milvus Lite serves one client)."""
    return (client.list_indexes(name), str(client.get_load_state(name)["state"]),
            client.describe_collection(name).get("properties") or {})


def test_describe_is_a_pure_read_then_repair_and_load_are_separate_steps(backend, collection_name):
    _interrupted_creation(backend, collection_name)
    store = _store(backend, collection_name, create_collection=True)
    try:
        before = _state(store.client, collection_name)
        assert before[0] == [] and ("NotLoad" in before[1] or backend.name == "lite")  # Lite: loaded on creation
        info = store.describe()
        assert info is not None and not info.vector_indexed and "dmz.keyed_rows" not in info.properties
        assert _state(store.client, collection_name) == before  # nothing created, altered or loaded
        info = store.repair(info)
        indexes, _, properties = _state(store.client, collection_name)
        assert properties.get("dmz.keyed_rows") == "1"
        assert properties.get("dmz.metadata_columns") == "status,organization_id"
        if backend.name == "server":
            assert info.vector_indexed and "vector" in [store.client.describe_index(collection_name, n)["field_name"]
                                                         for n in indexes]
        store.load(info)
        assert "Loaded" in _state(store.client, collection_name)[1]
        assert store.count() == 0
        assert store.describe().properties == info.properties  # a second describe sees the repaired collection
    finally:
        store.close()


def test_load_without_a_vector_index_is_a_config_error_unless_the_connector_may_repair(milvus_server, server_token,
                                                                                        collection_name):
    from .helpers import Backend

    backend = Backend("server", milvus_server.uri, {"mode": "token", "token": server_token}, server_token)
    _interrupted_creation(backend, collection_name)
    store = _store(backend, collection_name, create_collection=False)
    info = store.describe()
    assert store.repair(info) is info and not info.vector_indexed  # not ours to repair
    with pytest.raises(ConfigError, match="has no index on its vector field 'vector'.*create_collection"):
        store.load(info)
    store.close()
    store = _store(backend, collection_name, create_collection=True)
    store.load(store.describe())  # check: the next sync repairs it, nothing to load yet
    indexes, load_state, _ = _state(store.client, collection_name)
    assert "NotLoad" in load_state and indexes == []
    store.close()


def test_a_schema_the_server_refuses_at_creation_is_a_one_line_config_error(milvus_server, server_token,
                                                                           collection_name):
    """milvus-server refuses a field name with a hyphen only when the collection is created (describe
    accepts the collection's name): a config_error naming the refusal, not an untyped MilvusException,
    and nothing created. (Milvus Lite accepts the name.)"""
    from .helpers import Backend

    backend = Backend("server", milvus_server.uri, {"mode": "token", "token": server_token}, server_token)
    store = _store(backend, collection_name, create_collection=True, vector_field="vec-tor")
    try:
        assert store.describe() is None
        with pytest.raises(ConfigError, match=f"^Milvus refused creating the collection '{collection_name}': "
                                              ".*Invalid field name: vec-tor") as refused:
            store.create_collection(4)
        assert "\n" not in str(refused.value)
        assert store.describe() is None
    finally:
        store.close()


def test_session_timestamp_adapter_tracks_this_clients_writes(backend, collection_name):
    """Fails loudly if pymilvus stops keeping (or moves) the per-collection write timestamp that
    SessionTimestamps reads through its internals: the writer's probes would silently go strong."""
    import time

    store = _store(backend, collection_name, create_collection=True)
    try:
        store.create_collection(4)
        assert store.write_timestamp() == 0  # nothing written by this client yet
        row = {"id": "a#0", "vector": [0.1, 0.2, 0.3, 0.4], "text": "t", "_ab_stream": "s", "_ab_record_id": "a",
               "status": "", "organization_id": 1}
        store.write([row])
        first = store.write_timestamp()
        if backend.name == "lite":  # Milvus Lite returns no mutation timestamps: its probes read strongly
            assert first == 0 and store.existing_keys(["a#0", "c#0"]) == {"a#0"}
            return
        assert first > 0, "pymilvus no longer records the session write timestamp: see SessionTimestamps"
        physical_ms = first >> 18  # a hybrid timestamp: physical milliseconds, 18 logical bits
        assert abs(physical_ms / 1000 - time.time()) < 600, first
        store.write([{**row, "id": "b#0", "_ab_record_id": "b"}])
        assert store.write_timestamp() > first
        assert store.existing_keys(["a#0", "b#0", "c#0"], store.write_timestamp()) == {"a#0", "b#0"}
    finally:
        store.close()


def test_keyed_probe_reads_hashes_and_vectors_by_key_and_emptiness_without_a_count(backend, collection_name):
    """chunks_by_key: the stored keys among those asked, with text hash and vector (or the keys
    alone), at a session timestamp or strongly; is_empty is a one-row read that sees the last write."""
    store = _store(backend, collection_name, create_collection=True)
    try:
        store.create_collection(4)
        assert store.is_empty()
        rows = [{"id": f"a#{i}", "vector": [0.1 * i, 0.2, 0.3, 0.4], "text": "t", "_ab_stream": "s",
                 "_ab_record_id": "a", "_ab_hash": f"h{i}", "status": "", "organization_id": 1} for i in range(3)]
        store.write(rows)
        assert not store.is_empty()
        found = store.chunks_by_key(["a#0", "a#2", "a#3", "b#0"], store.write_timestamp())
        assert sorted(found) == ["a#0", "a#2"]
        digest, vector = found["a#2"]
        assert digest == "h2" and vector == pytest.approx([0.2, 0.2, 0.3, 0.4])
        assert store.chunks_by_key(["a#1", "c#0"], vectors=False) == {"a#1": (None, None)}
    finally:
        store.close()


def test_rows_of_a_tutorial_collection_are_listed_by_record_and_removed_by_key(backend, collection_name, monkeypatch):
    """stored_rows lists every row of the records, also when an answer would fill Milvus's result window
    (the part is split); vectors_by_key and delete_keys work by the auto-id keys write returned."""
    from destination_milvus_zendesk.milvus import rows as milvus_rows
    from test_support.tutorial_collection import create_tutorial_collection

    with backend.connect() as client:
        create_tutorial_collection(client, collection_name, dim=4)
    store = _store(backend, collection_name)
    try:
        store.describe()
        store.load(store.info)
        rows = [{"vector": [float(i), 1.0, 0.0, 0.0], "_ab_record_id": f"r{i % 3}", "_ab_stream": "tickets",
                 "_ab_hash": f"h{i}", "_ab_gen": "t1", "_ab_write": "w1"} for i in range(9)]
        rows.append({"vector": [9.0, 1.0, 0.0, 0.0], "_ab_record_id": "r0", "_ab_stream": "tickets"})  # another tool's
        keys = store.write(rows)
        assert len(set(keys)) == 10 and all(isinstance(k, int) for k in keys)
        monkeypatch.setattr(milvus_rows, "QUERY_LIMIT", 4)  # r0 alone has 4 rows: listed as incomplete
        listed, incomplete = store.stored_rows(["r0", "r1", "r2", "r9"])
        assert incomplete == {"r0"}
        assert sorted((r.record_id, r.text_hash) for r in listed) == sorted(
            (f"r{i % 3}", f"h{i}") for i in range(9) if i % 3)
        monkeypatch.setattr(milvus_rows, "QUERY_LIMIT", 16_384)
        listed, incomplete = store.stored_rows(["r0"])
        assert not incomplete and {r.key for r in listed} == {keys[i] for i in (0, 3, 6, 9)}
        assert [(r.tag, r.write_id) for r in listed if r.key == keys[9]] == [(None, None)]
        assert store.vectors_by_key([keys[4], keys[5]]) == {keys[4]: [4.0, 1.0, 0.0, 0.0],
                                                             keys[5]: [5.0, 1.0, 0.0, 0.0]}
        assert store.has_tagged_rows("tickets", "t1") and not store.has_tagged_rows("tickets", "t2")
        store.delete_keys([keys[0], keys[9]])
        assert {r.key for r in store.stored_rows(["r0"])[0]} == {keys[3], keys[6]}
    finally:
        store.close()


def test_why_only_backends_with_bm25_get_the_partition_key(backend, collection_name):
    """Upserted rows of a collection partitioned by organization: Milvus Lite finds them by their
    organization; the 2.3.5 server puts them in another partition, so a filter naming the organization
    misses them (milvus-io/milvus#30607). This is why `create` partitions only where the backend keeps
    BM25 functions. If this server ever finds them, the rule can widen."""
    from pymilvus import DataType, MilvusClient

    with backend.connect() as client:
        schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=True)
        schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=64)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=4)
        schema.add_field("organization_id", DataType.INT64, is_partition_key=True)
        client.create_collection(collection_name, schema=schema, num_partitions=16)
        try:
            index = client.prepare_index_params()
            index.add_index("vector", index_type="FLAT", metric_type="L2")
            client.create_index(collection_name, index)
            client.load_collection(collection_name)
            orgs = [-1, 1, 2, 3, 5, 8, 360000218329]
            client.insert(collection_name, [{"id": f"inserted-{o}", "vector": [0.1] * 4, "organization_id": o}
                                            for o in orgs])
            client.upsert(collection_name, [{"id": f"upserted-{o}", "vector": [0.1] * 4, "organization_id": o}
                                            for o in orgs])
            found = {o: {r["id"].split("-")[0] for r in client.query(
                collection_name, filter=f"organization_id == {o}", output_fields=["id"], consistency_level="Strong")}
                for o in orgs}
            total = client.query(collection_name, filter="", output_fields=["count(*)"],
                                 consistency_level="Strong")[0]["count(*)"]
        finally:
            client.drop_collection(collection_name)
    assert total == 2 * len(orgs)
    assert all("inserted" in ids for ids in found.values())  # inserts land in their key's partition
    upserted_found = sum("upserted" in ids for ids in found.values())
    if backend.name == "lite":
        assert upserted_found == len(orgs)
    else:
        assert upserted_found < len(orgs), "this server now routes upserts by partition key: see the docstring"
