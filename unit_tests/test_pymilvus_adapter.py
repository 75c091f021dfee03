"""The adapters over pymilvus: its DataType maps onto the neutral schema.Kind and back (the rest of the
connector never sees a DataType), and SessionTimestamps degrades loudly, not silently, when the pymilvus
internals it reads are gone (integration_tests/test_milvus_store.py checks it works against both real
backends)."""

from __future__ import annotations

import logging

from pymilvus import DataType

from destination_milvus_zendesk.config import IndexingConfig
from destination_milvus_zendesk.milvus.collection import _collection_info, collection_schema, data_type, kind_of
from destination_milvus_zendesk.milvus.connection import SessionTimestamps
from destination_milvus_zendesk.schema import Kind


def test_every_kind_is_the_data_type_of_the_same_name_and_back():
    for kind in Kind:
        if kind is not Kind.OTHER:
            assert data_type(kind).name == kind.name and kind_of(data_type(kind)) is kind
    assert kind_of(DataType.GEOMETRY) is Kind.OTHER and kind_of(None) is Kind.OTHER


def test_a_described_collection_is_seen_in_kinds():
    desc = {"fields": [{"name": "id", "type": DataType.INT64, "is_primary": True, "auto_id": True, "params": {}},
                       {"name": "vector", "type": DataType.FLOAT_VECTOR, "params": {"dim": 8}},
                       {"name": "shape", "type": DataType.GEOMETRY, "params": {}}],
            "enable_dynamic_field": True, "properties": {"dmz.keyed_rows": "0"}}
    info = _collection_info("c", "vector", desc)
    assert (info.pk_type, info.vector_type, info.dimensions, info.auto_id) == (Kind.INT64, Kind.FLOAT_VECTOR, 8, True)
    assert info.fields == {"id": Kind.INT64, "vector": Kind.FLOAT_VECTOR, "shape": Kind.OTHER}
    assert info.int_keys and not info.keyed


def test_created_collections_are_partitioned_by_organization_and_described_so():
    schema = collection_schema(IndexingConfig(host="/tmp/x.db", collection="c"), 8, full_text=False)
    assert [f.name for f in schema.fields if f.is_partition_key] == ["organization_id"]
    desc = {"fields": [{"name": "id", "type": DataType.VARCHAR, "is_primary": True, "params": {"max_length": 512}},
                       {"name": "organization_id", "type": DataType.INT64, "params": {}, "is_partition_key": True}]}
    assert _collection_info("c", "vector", desc).partition_key == "organization_id"
    assert _collection_info("c", "vector", {"fields": desc["fields"][:1]}).partition_key is None


def test_a_missing_internal_logs_one_warning_and_falls_back_to_strong_reads(monkeypatch, caplog):
    class ClientWithoutInternals:
        pass

    monkeypatch.setattr(SessionTimestamps, "_warned", False)
    with caplog.at_level(logging.WARNING, logger="airbyte"):
        assert SessionTimestamps.latest(ClientWithoutInternals(), "c", "") == 0
        assert SessionTimestamps.latest(ClientWithoutInternals(), "c", "") == 0
    warnings = [r.getMessage() for r in caplog.records if "session timestamps" in r.getMessage()]
    assert len(warnings) == 1 and "strong reads" in warnings[0]
