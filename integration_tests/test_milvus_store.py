"""MilvusStore against both real backends: error classification of what they actually raise, and
describe / repair / load as separate steps."""

from __future__ import annotations

import pytest

from destination_milvus_zendesk.config import parse_config
from destination_milvus_zendesk.errors import ConfigError, ServiceError
from destination_milvus_zendesk.milvus_store import MilvusStore

from .conftest import make_config


def _store(backend, collection: str, **indexing) -> MilvusStore:
    cfg = parse_config(make_config(backend, collection, indexing=indexing))
    store = MilvusStore(cfg.indexing)
    store.connect()
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
        if backend.name == "server":
            with backend.connect() as client:
                client.drop_collection(collection_name)
