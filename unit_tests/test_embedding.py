"""Embedders against the local OpenAI-compatible server: retries, classification, validation."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

from destination_milvus_zendesk.config import parse_config
from destination_milvus_zendesk.embedding import openai_api
from destination_milvus_zendesk.embedding.base import validate_vectors
from destination_milvus_zendesk.embedding.factory import create_embedder
from destination_milvus_zendesk.errors import ConfigError, ServiceError, TransientError

from .helpers import FAKE_OPENAI_KEY as KEY


@pytest.fixture(autouse=True)
def slept(monkeypatch) -> list[float]:
    """The embedder's waits (back-off, pacing), recorded on a virtual clock instead of slept: what
    the retry policy waits is asserted, not timed."""
    waits: list[float] = []
    clock = SimpleNamespace(monotonic=lambda: time.monotonic() + sum(waits), sleep=waits.append)
    monkeypatch.setattr(openai_api, "time", clock)
    return waits


def embedder(stub, *, retries=3, timeout=5.0, mode="openai_compatible", key=KEY, **embedding):
    if mode == "openai":
        emb = {"mode": "openai", "openai_key": key, **embedding}
    else:
        emb = {"mode": "openai_compatible", "api_key": key, "base_url": stub.base_url, "dimensions": 1536, **embedding}
    cfg = parse_config({"embedding": emb, "indexing": {"host": "x.db", "collection": "c"},
                        "embedding_max_retries": retries, "embedding_timeout_seconds": timeout})
    return create_embedder(cfg)


def test_vectors_are_returned_in_order_and_counted(stub):
    vectors = embedder(stub).embed(["a b c", "d e f", "a b c"])
    assert len(vectors) == 3 and len(vectors[0]) == 1536 and vectors[0] == vectors[2] != vectors[1]
    assert stub.stats()["successful_requests"] == 1


def test_openai_mode_with_text_embedding_3_sends_dimensions(stub, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", stub.base_url)
    emb = embedder(stub, mode="openai", model="text-embedding-3-large", dimensions=256)
    assert emb.dimensions == 256 and len(emb.embed(["hello"])[0]) == 256
    assert emb.model_id == "OpenAI:text-embedding-3-large:256"


def test_ada_002_refuses_other_dimensions(stub):
    with pytest.raises(ConfigError, match="always returns 1536"):
        embedder(stub, mode="openai", dimensions=512)


def test_rate_limit_is_retried_honouring_retry_after(stub, slept):
    stub.inject({"kind": "status", "status": 429, "retry_after": 0.4})
    assert len(embedder(stub).embed(["x"])) == 1
    assert len(slept) == 1 and 0.4 <= slept[0] <= 0.44  # Retry-After, plus at most 10% jitter
    assert stub.stats()["requests"] == 2


@pytest.mark.parametrize("fault", [500, 503, "drop", "malformed"])
def test_transient_faults_are_retried(stub, fault):
    stub.inject(fault, fault)
    assert len(embedder(stub).embed(["x"])) == 1
    assert stub.stats()["successful_requests"] == 1


def test_timeouts_are_retried(stub):
    stub.inject({"kind": "delay", "seconds": 3})
    assert len(embedder(stub, timeout=1.0).embed(["x"])) == 1


def test_retries_are_bounded_then_transient_error(stub, slept):
    stub.inject(*([503] * 5))
    with pytest.raises(TransientError, match="after 3 attempts"):
        embedder(stub, retries=2).embed(["x"])
    assert len(slept) == 2 and 0.5 <= slept[0] <= 0.55 and 1.0 <= slept[1] <= 1.1  # exponential back-off


@pytest.mark.parametrize("status", [401, 403])
def test_auth_errors_are_config_errors_at_once(stub, status):
    stub.inject(status)
    with pytest.raises(ConfigError, match=f"rejected the API key \\({status}\\)") as err:
        embedder(stub).embed(["x"])
    assert stub.stats()["requests"] == 1 and KEY not in err.value.message


def test_wrong_key_is_a_config_error(stub):
    with pytest.raises(ConfigError):
        embedder(stub, key="sk-wrong").embed(["x"])


@pytest.mark.parametrize("fault,match", [
    ({"kind": "wrong_dimension", "dimensions": 7}, "7-dimensional vector, expected 1536"),
    ({"kind": "fewer_vectors"}, "returned 1 vectors for 2 inputs"),
    ({"kind": "nan"}, "NaN or infinite"),
])
def test_wrong_vectors_are_never_accepted(stub, fault, match):
    stub.inject(fault)
    with pytest.raises(ServiceError, match=match):
        embedder(stub).embed(["x", "y"])


def test_validate_vectors_directly():
    validate_vectors([[0.0, 1.0]], 1, 2, "t")
    with pytest.raises(ServiceError):
        validate_vectors([[0.0, float("inf")]], 1, 2, "t")


def test_local_model_is_offline_normalized_and_semantic():
    emb = create_embedder(parse_config({"embedding": {"mode": "local"}, "indexing": {"host": "x.db", "collection": "c"}}))
    a, b, c = emb.embed(["I cannot log in to my account", "login to my account fails", "refund for my invoice"])
    dot = lambda u, v: sum(x * y for x, y in zip(u, v))  # noqa: E731
    assert abs(dot(a, a) - 1) < 1e-5 and dot(a, b) > dot(a, c)
    assert emb.dimensions == 256
