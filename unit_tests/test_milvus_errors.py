"""Milvus failures are classified by error code and exception type: retry (then transient_error),
config_error, or system_error; never by message text, and never "every other error is config"."""

from __future__ import annotations

import logging

import grpc
import pytest
from pymilvus import MilvusException
from pymilvus.exceptions import DataNotMatchException, ErrorCode, ParamError
from pymilvus.grpc_gen import common_pb2

from destination_milvus_zendesk.milvus import errors as milvus_errors
from destination_milvus_zendesk.config import IndexingConfig
from destination_milvus_zendesk.errors import ConfigError, ServiceError, TransientError
from destination_milvus_zendesk.milvus import MilvusStore
from destination_milvus_zendesk.milvus.errors import Failure, classify

LEGACY = common_pb2.ErrorCode


def server_error(code: int, legacy: int = LEGACY.UnexpectedError, message: str = "x") -> MilvusException:
    """What pymilvus raises for a server Status (MilvusException.from_status), raised so it has a cause."""
    try:
        exc = MilvusException(code, message, legacy)
        raise exc from exc  # pymilvus's decorators re-raise `from e`
    except MilvusException as raised:
        return raised


class FakeRpcError(grpc.RpcError):
    def __init__(self, status: grpc.StatusCode) -> None:
        self._status = status

    def code(self) -> grpc.StatusCode:
        return self._status


@pytest.mark.parametrize("code, legacy, expected", [
    (2, 1, Failure.RETRY),      # service unavailable
    (8, 49, Failure.RETRY),     # rate limit
    (101, 1, Failure.RETRY),    # collection not loaded (2.3.5: a restarted server is reloading it)
    (503, 1, Failure.RETRY),    # channel (shard leader) not available
    (901, 1, Failure.RETRY),    # query node not found
    (1, LEGACY.NotReadyServe, Failure.RETRY),  # a server that sets only the legacy code
    (100, 4, Failure.CONFIG),   # collection not found (probed on both backends)
    (800, 1, Failure.CONFIG),   # database not found (probed on the server)
    (1100, 5, Failure.CONFIG),  # invalid parameter: a VARCHAR over max_length (probed on the server)
    (6, 6, Failure.CONFIG),     # Milvus Lite: invalid argument (bad dim, too long key; probed)
    (1401, 1, Failure.CONFIG),  # privilege not permitted
    (9, LEGACY.ForceDeny, Failure.CONFIG),
    (65535, 1, Failure.SYSTEM),  # the server's unexpected error (2.3.5: e.g. an unparsable filter)
    (5, 1, Failure.SYSTEM),      # service internal
    (3, LEGACY.MemoryQuotaExhausted, Failure.SYSTEM),
    (1, 1, Failure.SYSTEM),      # unexpected, nothing more known
])
def test_server_codes(code, legacy, expected):
    assert classify(server_error(code, legacy)) is expected


def test_the_message_text_does_not_decide():
    assert classify(server_error(65535, message="service closed, connection reset, timeout")) is Failure.SYSTEM
    assert classify(server_error(2, message="invalid parameter")) is Failure.RETRY


@pytest.mark.parametrize("status, expected", [
    (grpc.StatusCode.UNAVAILABLE, Failure.RETRY), (grpc.StatusCode.DEADLINE_EXCEEDED, Failure.RETRY),
    (grpc.StatusCode.RESOURCE_EXHAUSTED, Failure.RETRY), (grpc.StatusCode.UNAUTHENTICATED, Failure.CONFIG),
    (grpc.StatusCode.PERMISSION_DENIED, Failure.CONFIG), (grpc.StatusCode.INVALID_ARGUMENT, Failure.CONFIG),
    (grpc.StatusCode.INTERNAL, Failure.SYSTEM), (grpc.StatusCode.UNKNOWN, Failure.SYSTEM),
])
def test_grpc_status_raw_and_after_pymilvus_retries(status, expected):
    assert classify(FakeRpcError(status)) is expected  # the codes pymilvus does not retry reach us raw
    assert classify(MilvusException(status, "[query] Retry timeout: 30s")) is expected  # its retries ran out


def test_client_side_checks_of_rows_are_config_and_unexpected_wrappers_go_by_their_cause():
    assert classify(DataNotMatchException(message="field should be a int64")) is Failure.CONFIG
    assert classify(ParamError(message="bad param")) is Failure.CONFIG
    channel = grpc.insecure_channel("127.0.0.1:9")
    channel.close()
    with pytest.raises(ValueError) as closed:  # a real closed channel: what an in-flight call sees on reconnect
        channel.unary_unary("/x/y")(b"")
    try:
        raise MilvusException(message="Unexpected error, message=<...>") from closed.value
    except MilvusException as wrapped:
        assert classify(wrapped) is Failure.RETRY
    assert classify(ValueError("Cannot invoke RPC on closed channel!")) is Failure.SYSTEM  # not raised by grpc
    try:
        raise MilvusException(message="Unexpected error, message=<boom>") from KeyError("boom")
    except MilvusException as wrapped:
        assert classify(wrapped) is Failure.SYSTEM
    assert classify(MilvusException(ErrorCode.UNEXPECTED_ERROR, "should create connection first")) is Failure.SYSTEM


@pytest.fixture
def store(tmp_path, monkeypatch) -> MilvusStore:
    monkeypatch.setattr(milvus_errors.time, "sleep", lambda s: None)
    return MilvusStore(IndexingConfig(host=str(tmp_path / "x.db"), collection="c"))


def test_call_retries_then_gives_a_transient_error(store):
    attempts = []

    def unavailable():
        attempts.append(1)
        raise server_error(2)

    with pytest.raises(TransientError, match="Milvus kept failing while writing"):
        store.call(unavailable, "writing 3 rows")
    assert len(attempts) == milvus_errors.WRITE_RETRIES + 1
    flaky = iter([server_error(8), server_error(503)])

    def recovers():
        exc = next(flaky, None)
        if exc:
            raise exc
        return "ok"

    assert store.call(recovers, "writing") == "ok"


def test_call_config_and_system_failures_are_not_retried(store):
    calls = []

    def fail(exc):
        def run():
            calls.append(1)
            raise exc
        return run

    with pytest.raises(ConfigError, match="^Milvus refused writing: "):
        store.call(fail(server_error(1100)), "writing")
    with pytest.raises(ServiceError, match="^Milvus failed while querying rows .*see the server's logs"):
        store.call(fail(server_error(65535)), "querying rows")
    with pytest.raises(ConfigError):
        store.call(fail(FakeRpcError(grpc.StatusCode.UNAUTHENTICATED)), "writing")
    assert len(calls) == 3


def test_count_goes_through_the_retry_wrapper(store):
    class Client:
        def __init__(self):
            self.calls = 0

        def query(self, *args, **kwargs):
            self.calls += 1
            if self.calls == 1:
                raise server_error(101)  # not loaded yet: retried
            return [{"count(*)": 7}]

    store.client = Client()
    assert store.count() == 7 and store.client.calls == 2


def test_a_failed_metric_read_is_an_error_not_an_assumed_l2(store):
    class Client:
        def list_indexes(self, *args, **kwargs):
            return ["vector_idx"]

        def describe_index(self, *args, **kwargs):
            raise server_error(65535)

    store.client = Client()
    with pytest.raises(ServiceError, match="reading the metric of the vector index on .vector."):
        store.collection_manager.metric("vector")
    store.client.describe_index = lambda *a, **k: {"metric_type": "cosine"}
    assert store.collection_manager.metric("vector") == "COSINE"
    store.client.list_indexes = lambda *a, **k: []
    assert store.collection_manager.metric("vector") is None  # no index: no metric


class CreatingClient:
    """Just enough of MilvusClient for a collection's creation; `failing` names the request that raises."""

    def __init__(self, failing: str, exc: Exception) -> None:
        self.failing, self.exc, self.requests = failing, exc, []
        self.answers = {"has_collection": False, "list_indexes": [], "describe_collection": {"functions": []}}

    def __getattr__(self, name: str):
        def request(*args, **kwargs):
            self.requests.append(name)
            if name == self.failing:
                raise self.exc
            return self.answers.get(name)
        return request

    def prepare_index_params(self):
        class Params:
            def add_index(self, *args, **kwargs):
                pass
        return Params()


@pytest.mark.parametrize("failing, exc, expected, message", [
    ("create_collection", server_error(1701, message="Invalid field name: vec-tor"), ConfigError,
     "^Milvus refused creating the collection 'c': .*Invalid field name: vec-tor"),
    ("create_index", server_error(65535), ServiceError, "^Milvus failed while creating an index on 'vector'"),
    ("load_collection", server_error(2), TransientError, "^Milvus kept failing while loading the collection"),
    ("alter_collection_properties", server_error(1401), ConfigError,
     "^Milvus refused setting the collection's properties"),
])
def test_a_failure_while_creating_the_collection_is_a_classified_one_line_error(store, failing, exc, expected,
                                                                               message):
    store.client = CreatingClient(failing, exc)
    with pytest.raises(expected, match=message) as raised:
        store.create_collection(4)
    assert "\n" not in str(raised.value)
    assert "create_collection" in store.client.requests  # the probe's (BM25) at least


def test_a_refused_full_text_probe_means_dense_retrieval_not_a_failure(store, caplog):
    """The BM25 probe collection is refused (a backend without sparse vectors): dense retrieval, no
    error; a probe created without the function, whose drop fails, only leaves a warning."""
    client = CreatingClient("create_collection", server_error(1100))
    store.client = client
    assert store.collection_manager._full_text_kept(4) is False
    client.failing, client.answers["has_collection"] = "drop_collection", True
    client.requests.clear()
    with caplog.at_level(logging.WARNING, logger="airbyte"):
        assert store.collection_manager._full_text_kept(4) is False  # created, but no BM25 function kept
    assert client.requests == ["create_collection", "describe_collection", "has_collection", "drop_collection"]
    assert any("Could not drop the probe collection" in r.getMessage() for r in caplog.records)
