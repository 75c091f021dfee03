"""Smoke test for the real Milvus 2.3.5 server started by test_support.milvus_server (auth on).

Uses the session fixture ``milvus_server`` when integration_tests/conftest.py provides it
(see ``test_support.milvus_server.milvus_server_fixture``); otherwise starts/stops its own server
for this module.

    .venv/bin/python -m pytest integration_tests/test_milvus_server_smoke.py -m server -v
"""

from __future__ import annotations

import random
import shutil
import time
import uuid

import pytest

from test_support.milvus_server import MilvusServer, describe_connection_error

pytestmark = pytest.mark.server

DIM = 8


@pytest.fixture(scope="module")
def server(request, tmp_path_factory) -> MilvusServer:
    try:
        return request.getfixturevalue("milvus_server")
    except pytest.FixtureLookupError:
        pass
    data_dir = tmp_path_factory.mktemp("milvus_smoke")

    def finish():
        srv.stop()
        for sub in ("bin", "data"):  # ~250 MB binaries + ~270 MB etcd/rocksmq; logs are kept
            shutil.rmtree(data_dir / sub, ignore_errors=True)

    srv = MilvusServer(data_dir=str(data_dir), auth=True)
    request.addfinalizer(finish)
    srv.start()
    return srv


@pytest.fixture
def client(server):
    from pymilvus import MilvusClient

    c = MilvusClient(uri=server.uri, token=server.token, timeout=30)
    yield c
    c.close()


def test_server_is_up_with_auth(server, client):
    assert server.is_running()
    assert server.token == "root:Milvus"
    assert isinstance(client.list_collections(), list)
    version = client.get_server_version()
    if not server.reused:
        assert "2.3.5" in version


@pytest.mark.parametrize(
    "token, reason",
    [
        ("root:wrong-password", "auth check failure, please check username and password are correct"),
        ("nobody:Milvus", "auth check failure, please check username and password are correct"),
        ("", "missing authorization in header"),
    ],
)
def test_bad_credentials_are_rejected(server, token, reason):
    from pymilvus import MilvusClient
    from pymilvus.exceptions import MilvusException

    t0 = time.monotonic()
    with pytest.raises(MilvusException) as info:
        c = MilvusClient(uri=server.uri, token=token, timeout=3)
        c.list_collections()  # only reached if the constructor did not already fail
    elapsed = time.monotonic() - t0
    exc = info.value
    assert exc.code == 2
    assert "Fail connecting to server on 127.0.0.1:" in exc.message
    assert "illegal connection params or server unavailable" in exc.message
    # the real reason is only on the chained grpc error
    text = describe_connection_error(exc)
    assert "UNAUTHENTICATED" in text, text
    assert reason in text, text
    assert elapsed < 3, f"rejection took {elapsed:.2f}s"


def test_unreachable_port_is_a_different_error(server):
    from pymilvus import MilvusClient
    from pymilvus.exceptions import MilvusException

    with pytest.raises(MilvusException) as info:
        MilvusClient(uri="http://127.0.0.1:1", token=server.token, timeout=2)
    text = describe_connection_error(info.value)
    assert info.value.code == 2
    assert "UNAVAILABLE" in text and "Connection refused" in text, text


def test_collection_create_insert_query_search(client):
    from pymilvus import DataType

    name = f"smoke_{uuid.uuid4().hex[:10]}"
    schema = client.create_schema(auto_id=True, enable_dynamic_field=True)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=DIM)
    schema.add_field("text", DataType.VARCHAR, max_length=1024)
    index_params = client.prepare_index_params()
    index_params.add_index(field_name="vector", index_type="IVF_FLAT", metric_type="L2", params={"nlist": 16})
    client.create_collection(name, schema=schema, index_params=index_params)
    try:
        assert client.has_collection(name)
        rng = random.Random(0)
        rows = [
            {"vector": [rng.random() for _ in range(DIM)], "text": f"doc {i}", "_ab_record_id": f"r{i}",
             "meta": {"n": i}}
            for i in range(20)
        ]
        res = client.insert(name, rows)
        assert res["insert_count"] == 20
        assert len(res["ids"]) == 20
        got = client.query(name, filter='_ab_record_id in ["r1", "r2"]', output_fields=["text", "meta"],
                           consistency_level="Strong")
        assert sorted(r["text"] for r in got) == ["doc 1", "doc 2"]
        assert {r["meta"]["n"] for r in got} == {1, 2}
        hits = client.search(name, data=[rows[3]["vector"]], limit=3, output_fields=["text"],
                             consistency_level="Strong")
        assert hits[0][0]["entity"]["text"] == "doc 3"
        assert hits[0][0]["distance"] == pytest.approx(0.0, abs=1e-5)
        client.delete(name, filter='_ab_record_id in ["r1"]')
        left = client.query(name, filter='_ab_record_id like "r%"', output_fields=["text"],
                            consistency_level="Strong")
        assert len(left) == 19
    finally:
        client.drop_collection(name)
    assert not client.has_collection(name)
