"""Embedding provider faults through a full `write` (openai_compatible mode pointed at the local stub).

Each fault ends as designed:
* 429 with Retry-After, 500, 503, timeouts, dropped connections, malformed JSON: retried, then the
  sync succeeds with exactly the expected rows;
* the same faults beyond `embedding_max_retries`: a transient_error TRACE and a non-zero exit;
* a 401: a config_error at once;
* wrong dimension, fewer vectors than inputs, NaN/Infinity: a system_error at once;
and in every case no STATE is echoed past what is stored, and every stored vector equals a fresh
embedding of its stored text (a wrong vector is never stored).
"""

from __future__ import annotations

import copy
import re
import uuid

import openai
import pytest

from .helpers import TEST_OPENAI_KEY, Backend, make_config
from .reliability import (LiveRun, Oracle, assert_exact, encode, figure,
                          numbered_states, state_seq, stored_rows)

LONG = "\n\n".join(f"Step {k}: open Settings, then Billing, then Export; the CSV export retries at {k}% "
                   "when a quoted newline appears in a field. " * 5 for k in range(25))
SECTION = "embedding_faults"


@pytest.fixture(scope="module")
def server_backend(milvus_server, server_token) -> Backend:
    return Backend("server", milvus_server.uri, {"mode": "token", "token": server_token}, server_token)


@pytest.fixture(scope="module")
def shared_collection(server_backend):
    """One collection for the module (creating one costs ~4 s on the server); each test writes its own ids."""
    name = "faults_" + uuid.uuid4().hex[:8]
    yield name
    with server_backend.connect() as client:
        client.drop_collection(name)


_next_block = iter(range(1, 1000))


@pytest.fixture
def ids() -> int:
    """The first record id of this test's own block in the shared collection."""
    return next(_next_block) * 10_000


def ticket(i: int, text: str | None = None) -> dict:
    return {"type": "RECORD", "record": {"stream": "tickets", "emitted_at": 1, "data": {
        "id": i, "subject": f"Invoice {i} cannot be downloaded", "status": "open", "organization_id": i % 3,
        "description": text or f"Customer {i} reports that invoice {i * 13} fails with error E{i % 7}.",
        "updated_at": f"2025-01-01T00:00:{i % 60:02d}Z"}}}


def state(n: int) -> dict:
    return {"type": "STATE", "state": {"type": "STREAM", "stream": {"stream_descriptor": {"name": "tickets"},
                                                                    "stream_state": {"n": n}}}}


def part(first: int, count: int, n_state: int) -> list[dict]:
    return [ticket(i, LONG if i % 10 == 3 else None) for i in range(first, first + count)] + [state(n_state)]


def catalog() -> dict:
    return {"streams": [{"stream": {"name": "tickets", "json_schema": {"type": "object"},
                                    "supported_sync_modes": ["incremental"]},
                         "sync_mode": "incremental", "destination_sync_mode": "append_dedup",
                         "primary_key": [["id"]]}]}


def fault_config(backend, name, stub, **extra) -> dict:
    options = {"embedding_batch_size": 8, "embedding_concurrency": 2, "embedding_timeout_seconds": 1.0, **extra}
    return make_config(backend, name, openai=stub, create=True, **options)


def own_rows(backend, name, messages, fields=None) -> list[dict]:
    """The rows of this test's records (the collection is shared by the module's tests)."""
    record_ids = {f"tickets_{m['record']['data']['id']}" for m in messages if m["type"] == "RECORD"}
    return [r for r in stored_rows(backend, name, list(dict.fromkeys(["_ab_record_id", *(fields or [
        "_ab_chunk", "text", "updated_at"])]))) if r["_ab_record_id"] in record_ids]


def assert_vectors_match_fresh_embeddings(backend, name, stub, messages) -> int:
    """Every stored vector equals the provider's embedding of the row's stored text."""
    found = own_rows(backend, name, messages, ["text", "vector"])
    client = openai.OpenAI(api_key=TEST_OPENAI_KEY, base_url=stub.base_url, max_retries=2)
    stub.clear_faults()
    for start in range(0, len(found), 64):
        page = found[start:start + 64]
        fresh = client.embeddings.create(model="text-embedding-ada-002", input=[r["text"] for r in page]).data
        for row, emb in zip(page, sorted(fresh, key=lambda d: d.index)):
            assert row["vector"] == pytest.approx(emb.embedding, abs=1e-6), (
                f"wrong vector stored for {row['_ab_record_id']}")
    figure(SECTION, vectors_verified=len(found))
    return len(found)


def assert_states_cover_stored(run: LiveRun, messages: list[dict], backend, name, config) -> None:
    """No STATE past what is stored: every record before the last echoed state is stored, exactly."""
    if not run.states:
        return
    index = {state_seq(m["state"]): i for i, m in enumerate(messages) if m["type"] == "STATE"}
    last = index[state_seq(run.states[-1])]
    expected = Oracle(config, messages).expected(last + 1)
    found = [r for r in own_rows(backend, name, messages) if r["_ab_record_id"] in expected]
    assert_exact(found, expected)


RETRIED = {  # fault -> the connector's log line about it
    "429 Retry-After": ({"kind": "status", "status": 429, "retry_after": 0.7},
                        r"rate limited \(429\) \d+ times; retry \d+/\d+ in 0\.7\d"),
    "500": ({"kind": "status", "status": 500}, r"server error 500"),
    "503": ({"kind": "status", "status": 503}, r"server error 503"),
    "timeout": ({"kind": "delay", "seconds": 1.6}, r"request timed out"),
    "dropped connection": ({"kind": "drop"}, r"connection failed"),
    "malformed JSON": ({"kind": "malformed"}, r"malformed response"),
}


@pytest.mark.server
def test_retryable_faults_are_retried_then_the_sync_succeeds(server_backend, shared_collection, ids, openai_stub,
                                                            tmp_path):
    """Each retryable fault on consecutive requests (4 in flight, so no request waits through a long
    backoff): all retried (429 after its Retry-After), the sync succeeds with exactly the expected
    rows and vectors."""
    config = fault_config(server_backend, shared_collection, openai_stub, embedding_batch_size=4,
                          embedding_concurrency=4)
    messages = numbered_states(part(ids, 24, 1) + part(ids + 100, 24, 2) + part(ids + 200, 24, 3))
    for spec, _ in RETRIED.values():
        openai_stub.inject(spec)
    run = LiveRun(tmp_path, config, catalog(), encode(messages))
    rc = run.wait()
    run.scan(SECTION)
    assert rc == 0, run.errors or run.stderr[-2000:]
    stats = openai_stub.stats()
    assert stats["pending_faults"] == 0 and stats["faults_by_kind"] == {
        "status": 3, "delay": 1, "drop": 1, "malformed": 1}, stats
    logs = run.logs("INFO")
    for fault, (_, pattern) in RETRIED.items():
        assert any(re.search(pattern, line) for line in logs), (fault, [x for x in logs if "retry" in x])
    assert len(run.states) == 3
    assert_exact(own_rows(server_backend, shared_collection, messages), Oracle(config, messages).expected())
    assert_vectors_match_fresh_embeddings(server_backend, shared_collection, openai_stub, messages)
    figure(SECTION, faults_injected=sum(stats["faults_by_kind"].values()), retried_then_succeeded=len(RETRIED),
           records_lost=0)


FAILING = {
    # fault, failure_type, words the message must contain, retries allowed by the config
    # (faults "beyond retries" are repeated more often than any request can retry, whatever the interleaving)
    "500 beyond retries": ({"kind": "status", "status": 500, "repeat": 12}, "transient_error", "after 3 attempts", 2),
    "429 beyond retries": ({"kind": "status", "status": 429, "retry_after": 0.1, "repeat": 12}, "transient_error",
                           "rate limited (429) 3 times", 2),
    "timeouts beyond retries": ({"kind": "delay", "seconds": 1.6, "repeat": 8}, "transient_error",
                                "request timed out", 1),
    "401": ({"kind": "status", "status": 401, "message": "Incorrect API key provided"}, "config_error",
            "rejected the API key (401)", 2),
    "wrong dimension": ({"kind": "wrong_dimension", "dimensions": 7}, "system_error", "7-dimensional vector", 2),
    "fewer vectors": ({"kind": "fewer_vectors"}, "system_error", "vectors for", 2),
    "NaN": ({"kind": "nan", "value": "nan", "index": 1}, "system_error", "NaN or infinite", 2),
    "Infinity": ({"kind": "nan", "value": "-inf", "index": 0}, "system_error", "NaN or infinite", 2),
}


@pytest.mark.server
@pytest.mark.parametrize("fault", list(FAILING))
def test_fault_that_cannot_be_retried_fails_clearly_and_stores_nothing_wrong(fault, server_backend, shared_collection,
                                                                           ids, openai_stub, tmp_path):
    spec, failure_type, words, retries = FAILING[fault]
    config = fault_config(server_backend, shared_collection, openai_stub, embedding_max_retries=retries,
                          embedding_concurrency=1)
    good, bad = part(ids, 16, 1), part(ids + 100, 16, 2) + part(ids + 200, 8, 3)
    messages = numbered_states(good + bad)
    run = LiveRun(tmp_path, config, catalog(), encode(messages[:len(good)]), close_stdin=False,
                  env={"PYTHONUNBUFFERED": "1"})
    assert run.wait_states(1, timeout=120), run.errors or run.stderr[-2000:]  # the first part is stored
    openai_stub.inject(copy.deepcopy(spec))
    run.feed(encode(messages[len(good):]))
    rc = run.wait()
    run.scan(SECTION)
    assert rc != 0, "the sync must fail"
    [error] = run.errors
    assert error["failure_type"] == failure_type, error
    assert words in error["message"], error["message"]
    assert "Traceback" not in error["message"] and TEST_OPENAI_KEY not in error["message"]
    assert len(run.states) == 1, "no STATE may follow records that were not stored"
    assert_states_cover_stored(run, messages, server_backend, shared_collection, config)
    stored_ids = {r["_ab_record_id"] for r in own_rows(server_backend, shared_collection, messages)}
    assert stored_ids >= {f"tickets_{i}" for i in range(ids, ids + 16)}
    assert_vectors_match_fresh_embeddings(server_backend, shared_collection, openai_stub, messages)
    served = sum(openai_stub.stats()["faults_by_kind"].values())
    figure(SECTION, faults_injected=served, failed_clearly=1)
