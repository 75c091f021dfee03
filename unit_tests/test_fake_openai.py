"""The fake OpenAI embeddings server, exercised through the REAL ``openai`` SDK."""

from __future__ import annotations

import base64
import json
import math
import threading
import time
import urllib.error
import urllib.request

import numpy as np
import openai
import pytest

from destination_milvus_zendesk.embedding.hashing import feature_hash_embeddings
from test_support.fake_openai import FakeOpenAIServer, count_tokens

KEY = "sk-test-0123456789"
MODEL = "text-embedding-3-small"


@pytest.fixture
def srv():
    with FakeOpenAIServer(port=0, api_key=KEY) as server:
        yield server


@pytest.fixture
def client(srv):
    c = openai.OpenAI(api_key=KEY, base_url=srv.base_url, max_retries=0, timeout=10)
    yield c
    c.close()


def _http(method: str, url: str, body: dict | None = None, headers: dict | None = None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), json.loads(e.read())


# --------------------------------------------------------------------------- compatibility


def test_default_base64_and_float_formats_match_hashing(srv, client):
    texts = ["How do I reset my password?", "Printer broken", "x"]
    raw = client.embeddings.with_raw_response.create(model=MODEL, input=texts)
    wire = raw.http_response.json()
    # the SDK asked for base64 by default: the server answered with strings...
    assert all(isinstance(d["embedding"], str) for d in wire["data"])
    # ...and the SDK decoded them to float lists
    b64 = raw.parse()
    flt = client.embeddings.create(model=MODEL, input=texts, encoding_format="float")
    expected = feature_hash_embeddings(texts, 1536)
    assert [d.embedding for d in b64.data] == expected
    assert [d.embedding for d in flt.data] == expected
    assert [d.index for d in flt.data] == [0, 1, 2]
    assert flt.model == MODEL and flt.object == "list"
    tokens = sum(count_tokens(texts))
    assert flt.usage.prompt_tokens == flt.usage.total_tokens == tokens
    # explicit base64: the SDK leaves the strings alone
    explicit = client.embeddings.create(model=MODEL, input=texts, encoding_format="base64")
    assert np.frombuffer(base64.b64decode(explicit.data[0].embedding), "<f4").tolist() == expected[0]
    st = srv.stats()
    assert st["requests"] == st["successful_requests"] == 3
    assert st["inputs"] == 9 and st["tokens"] == 3 * tokens


def test_dimensions_per_model_and_param(srv, client):
    assert len(client.embeddings.create(model="text-embedding-3-large", input="a").data[0].embedding) == 3072
    assert len(client.embeddings.create(model="text-embedding-ada-002", input="a").data[0].embedding) == 1536
    assert len(client.embeddings.create(model=MODEL, input="a", dimensions=256).data[0].embedding) == 256
    srv.set(default_dimensions=384)
    assert len(client.embeddings.create(model="my-local-model", input="a").data[0].embedding) == 384
    with pytest.raises(openai.BadRequestError):  # like the real API
        client.embeddings.create(model="text-embedding-ada-002", input="a", dimensions=512)
    with pytest.raises(openai.BadRequestError):
        client.embeddings.create(model=MODEL, input="a", dimensions=4096)


def test_token_array_inputs(srv, client):
    one = client.embeddings.create(model=MODEL, input=[11, 22, 33], encoding_format="float")
    assert one.usage.prompt_tokens == 3 and len(one.data) == 1
    assert one.data[0].embedding == feature_hash_embeddings(["11 22 33"], 1536)[0]
    many = client.embeddings.create(model=MODEL, input=[[1, 2], [3, 4, 5]])
    assert many.usage.prompt_tokens == 5 and len(many.data) == 2


def test_request_validation(srv, client):
    for bad in ("", ["ok", ""], []):
        with pytest.raises(openai.BadRequestError):
            client.embeddings.create(model=MODEL, input=bad)
    with pytest.raises(openai.BadRequestError):
        client.embeddings.create(model=MODEL, input=["t"] * 2049)
    with pytest.raises(openai.BadRequestError) as ei:
        client.embeddings.create(model=MODEL, input=[[7] * 8193])
    assert "maximum context length" in str(ei.value)
    assert srv.stats()["invalid_requests"] == 5


def test_auth_errors_and_azure_header(srv):
    bad = openai.OpenAI(api_key="sk-wrong-key-000", base_url=srv.base_url, max_retries=0)
    with pytest.raises(openai.AuthenticationError) as ei:
        bad.embeddings.create(model=MODEL, input="x")
    e = ei.value
    assert e.status_code == 401 and e.code == "invalid_api_key" and e.type == "invalid_request_error"
    assert e.body["message"].startswith("Incorrect API key provided")
    status, _, body = _http("POST", srv.base_url + "/embeddings", {"model": MODEL, "input": "x"})
    assert status == 401 and body["error"]["code"] == "invalid_api_key"
    # Azure flavour: /openai/deployments/{name}/embeddings?api-version=..., "api-key" header
    az = openai.AzureOpenAI(api_key=KEY, api_version="2024-02-01", azure_endpoint=srv.url, max_retries=0)
    r = az.embeddings.create(model="text-embedding-3-large", input=["azure"])
    assert len(r.data[0].embedding) == 3072
    assert srv.stats()["auth_failures"] == 2


def test_unknown_model_404(srv, client):
    srv.set(known_models={MODEL})
    with pytest.raises(openai.NotFoundError) as ei:
        client.embeddings.create(model="text-embedding-3-huge", input="x")
    assert ei.value.code == "model_not_found"
    assert client.embeddings.create(model=MODEL, input="x").data


# --------------------------------------------------------------------------- rate limiting


def test_tpm_429_carries_retry_after(srv, client):
    srv.set(tokens_per_minute=60)  # 1 token/s, bucket of 60
    client.embeddings.create(model=MODEL, input=[[1] * 50])
    with pytest.raises(openai.RateLimitError) as ei:
        client.embeddings.create(model=MODEL, input=[[1] * 50])
    e = ei.value
    assert e.code == "rate_limit_exceeded" and e.type == "tokens"
    ra = float(e.response.headers["retry-after"])
    assert 35 <= ra <= 41  # needs 50 - ~10 tokens at 1 token/s
    assert abs(int(e.response.headers["retry-after-ms"]) / 1000 - ra) < 0.01
    # A request larger than the whole TPM can never succeed: no Retry-After, and the
    # SDK must not retry it even with retries enabled (x-should-retry: false).
    retrying = openai.OpenAI(api_key=KEY, base_url=srv.base_url, max_retries=3)
    before = srv.stats()["requests"]
    with pytest.raises(openai.RateLimitError) as ei:
        retrying.embeddings.create(model=MODEL, input=[[1] * 61])
    assert "Request too large" in str(ei.value) and "retry-after" not in ei.value.response.headers
    st = srv.stats()
    assert st["requests"] == before + 1
    assert st["rate_limited"] == st["http_429"] == 2 and st["successful_requests"] == 1


def test_tpm_client_honouring_retry_after_sustains_rate():
    rate = 200.0  # tokens per second
    with FakeOpenAIServer(tokens_per_minute=rate * 60, tpm_burst_tokens=100) as srv:
        c = openai.OpenAI(api_key="k", base_url=srv.base_url, max_retries=0)
        served = limited = 0
        t0 = time.monotonic()
        while time.monotonic() - t0 < 2.5:
            try:
                served += c.embeddings.create(model=MODEL, input=[[5] * 40]).usage.prompt_tokens
            except openai.RateLimitError as e:
                limited += 1
                time.sleep(float(e.response.headers["retry-after"]))
        elapsed = time.monotonic() - t0
        achieved = served / elapsed
        assert limited > 5
        assert achieved >= 0.8 * rate, achieved
        assert served <= 100 + rate * elapsed + 40  # burst + refill (+ one request of rounding)
        assert srv.stats()["tokens"] == served


def test_sdk_retry_sleeps_retry_after(srv):
    srv.set(tokens_per_minute=6000, tpm_burst_tokens=100)  # 100 tokens/s
    c = openai.OpenAI(api_key=KEY, base_url=srv.base_url, max_retries=5)
    c.embeddings.create(model=MODEL, input=[[1] * 100])
    t0 = time.monotonic()
    r = c.embeddings.create(model=MODEL, input=[[1] * 30])  # needs ~0.3 s of refill
    elapsed = time.monotonic() - t0
    assert r.usage.prompt_tokens == 30
    assert 0.2 <= elapsed < 1.5
    assert srv.stats()["rate_limited"] >= 1


# --------------------------------------------------------------------------- faults


@pytest.mark.parametrize(
    "fault, exc, status",
    [
        ({"kind": "status", "status": 500}, openai.InternalServerError, 500),
        ({"kind": "status", "status": 503}, openai.InternalServerError, 503),
        ({"kind": "status", "status": 400}, openai.BadRequestError, 400),
        ({"kind": "status", "status": 401}, openai.AuthenticationError, 401),
        ({"kind": "status", "status": 403}, openai.PermissionDeniedError, 403),
        ({"kind": "status", "status": 429, "retry_after": 0.25}, openai.RateLimitError, 429),
    ],
)
def test_status_faults(srv, client, fault, exc, status):
    srv.inject(fault)
    with pytest.raises(exc) as ei:
        client.embeddings.create(model=MODEL, input="x")
    assert ei.value.status_code == status
    assert "injected" in ei.value.message
    if status == 429:
        assert ei.value.response.headers["retry-after"] == "0.25"
        assert ei.value.response.headers["retry-after-ms"] == "250"
    assert client.embeddings.create(model=MODEL, input="x").data  # queue consumed
    st = srv.stats()
    assert st["faults_served"] == 1 and st["faults_by_kind"] == {"status": 1}
    assert st["responses_by_status"] == {str(status): 1, "200": 1}


def test_drop_raises_connection_error(srv, client):
    srv.inject("drop")
    with pytest.raises(openai.APIConnectionError) as ei:
        client.embeddings.create(model=MODEL, input="x")
    assert not isinstance(ei.value, openai.APITimeoutError)
    assert client.embeddings.create(model=MODEL, input="x").data


def test_delay_raises_timeout(srv, client):
    srv.inject({"kind": "delay", "seconds": 3})
    t0 = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        client.embeddings.create(model=MODEL, input="x", timeout=0.3)
    assert time.monotonic() - t0 < 2
    assert srv.stats()["faults_by_kind"] == {"delay": 1}


def test_malformed_json_raises_decode_error(srv, client):
    srv.inject("malformed")
    with pytest.raises(json.JSONDecodeError):
        client.embeddings.create(model=MODEL, input="x")


def test_modifying_faults(srv, client):
    srv.inject({"kind": "wrong_dimension", "dimensions": 7}, "fewer_vectors", "fewer_vectors")
    assert [len(d.embedding) for d in client.embeddings.create(model=MODEL, input=["a", "b"]).data] == [7, 7]
    assert len(client.embeddings.create(model=MODEL, input=["a", "b", "c"]).data) == 2
    # SDK quirk: with the default (implicit base64) format an empty "data" raises ValueError
    with pytest.raises(ValueError, match="No embedding data"):
        client.embeddings.create(model=MODEL, input=["only one"])
    assert srv.stats()["successful_requests"] == 0


@pytest.mark.parametrize("encoding_format", ["float", "base64-default"])
@pytest.mark.parametrize("value", ["nan", "inf"])
def test_nan_fault_reaches_the_client(srv, client, encoding_format, value):
    srv.inject({"kind": "nan", "value": value, "index": 1})
    kwargs = {"encoding_format": "float"} if encoding_format == "float" else {}
    data = client.embeddings.create(model=MODEL, input=["a", "b"], **kwargs).data
    assert all(math.isfinite(x) for x in data[0].embedding)
    bad = data[1].embedding[0]
    assert math.isnan(bad) if value == "nan" else math.isinf(bad)


def test_modifying_fault_discarded_when_request_fails(srv):
    srv.inject("nan")
    bad = openai.OpenAI(api_key="sk-nope-nope", base_url=srv.base_url, max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.embeddings.create(model=MODEL, input="x")
    st = srv.stats()
    assert st["faults_discarded"] == 1 and st["faults_served"] == 0 and st["pending_faults"] == 0


def test_fault_queue_is_fifo_with_repeat_and_shorthands(srv, client):
    srv.inject(503, {"kind": "drop", "repeat": 2}, "malformed")
    assert srv.pending_faults() == 4
    outcomes = []
    for _ in range(5):
        try:
            client.embeddings.create(model=MODEL, input="x")
            outcomes.append("ok")
        except Exception as e:  # noqa: BLE001
            outcomes.append(type(e).__name__)
    assert outcomes == ["InternalServerError", "APIConnectionError", "APIConnectionError",
                        "JSONDecodeError", "ok"]
    srv.inject("drop")
    srv.clear_faults()
    assert srv.pending_faults() == 0
    with pytest.raises(ValueError):
        srv.inject({"kind": "explode"})


def test_random_faults_are_seeded(srv):
    def run() -> list[int]:
        srv.set(fault_rate=0.5, seed=7, fault_kinds=[500, {"kind": "status", "status": 503}])
        out = []
        for _ in range(30):
            status, _, _ = _http("POST", srv.base_url + "/embeddings", {"model": MODEL, "input": "x"},
                                 {"Authorization": f"Bearer {KEY}"})
            out.append(status)
        return out

    first, second = run(), run()
    assert first == second
    assert set(first) == {200, 500, 503}
    assert 5 <= sum(s != 200 for s in first) <= 25


# --------------------------------------------------------------------------- concurrency, stats, control


def test_concurrent_requests_really_overlap(srv, client):
    srv.set(latency_s=0.15)
    client.embeddings.create(model=MODEL, input="warm-up")
    srv.reset_stats()
    barrier = threading.Barrier(16)
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            barrier.wait()
            assert len(client.embeddings.create(model=MODEL, input=f"text {i}").data) == 1
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(16)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    assert not errors
    assert elapsed < 0.8, elapsed  # serial would take 16 * 0.15 = 2.4 s
    st = srv.stats()
    assert st["successful_requests"] == 16 and st["max_concurrent"] >= 12 and st["concurrent"] == 0


def test_set_and_reset_stats(srv, client):
    with pytest.raises(TypeError):
        srv.set(no_such_option=1)
    srv.set(latency_s=0.2)
    t0 = time.monotonic()
    client.embeddings.create(model=MODEL, input="x")
    assert time.monotonic() - t0 >= 0.2
    srv.set(latency_s=0.0, api_key=None)
    openai.OpenAI(api_key="anything", base_url=srv.base_url, max_retries=0).embeddings.create(model=MODEL, input="x")
    assert srv.stats()["successful_requests"] == 2
    srv.reset_stats()
    st = srv.stats()
    assert st["requests"] == st["successful_requests"] == st["tokens"] == 0


def test_http_control_and_stats_endpoints(srv, client):
    status, _, body = _http("POST", srv.url + "/_control",
                            {"set": {"api_key": "sk-other"}, "inject": [{"kind": "status", "status": 502}]})
    assert status == 200 and body["ok"] and body["stats"]["pending_faults"] == 1
    other = openai.OpenAI(api_key="sk-other", base_url=srv.base_url, max_retries=0)
    with pytest.raises(openai.InternalServerError):
        other.embeddings.create(model=MODEL, input="x")
    assert other.embeddings.create(model=MODEL, input="x").data
    with pytest.raises(openai.AuthenticationError):
        client.embeddings.create(model=MODEL, input="x")
    status, _, st = _http("GET", srv.url + "/_stats")
    assert status == 200 and st["requests"] == 3 and st["successful_requests"] == 1 and st["faults_served"] == 1
    status, _, body = _http("POST", srv.url + "/_control", {"reset_stats": True})
    assert body["stats"]["requests"] == 0
    status, _, body = _http("POST", srv.url + "/_control", {"set": {"bogus": 1}})
    assert status == 400 and not body["ok"]
    status, _, body = _http("POST", srv.url + "/v1/chat/completions", {})
    assert status == 404 and "Invalid URL" in body["error"]["message"]
