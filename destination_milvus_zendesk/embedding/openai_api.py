"""OpenAI, Azure OpenAI and OpenAI-compatible embeddings through the openai v1 SDK.

The SDK's own retries are off: we retry here so that the policy is explicit and bounded,
honours Retry-After, and classifies failures (bad key = config_error at once; rate limits,
5xx, timeouts = retried, then transient_error). `OPENAI_BASE_URL` redirects the `openai`
mode (local servers, proxies, tests).
"""

from __future__ import annotations

import logging
import random
import socket
import ssl
import threading
import time
from typing import Any

import openai

from ..config import (AzureOpenAIEmbedding, OPENAI_MODEL_DIMENSIONS, OpenAICompatibleEmbedding,
                      OpenAIEmbedding)
from ..errors import ConfigError, ServiceError, TransientError
from .base import Embedder

logger = logging.getLogger("airbyte")
MAX_BACKOFF_S = 60.0
AZURE_MAX_INPUTS = 16  # Azure OpenAI accepts at most 16 inputs per embeddings request


def retry_after_seconds(headers: Any) -> float | None:
    """Seconds the server asked us to wait (`retry-after-ms` or `retry-after`), if any."""
    if headers is None:
        return None
    try:
        if headers.get("retry-after-ms"):
            return float(headers["retry-after-ms"]) / 1000.0
        if headers.get("retry-after"):
            return float(headers["retry-after"])
    except (TypeError, ValueError):
        return None
    return None


class TokenPacer:
    """Spaces requests to the provider's tokens-per-minute limit, shared by every request in flight.

    The limit is learned from the `x-ratelimit-limit-tokens` header (OpenAI, Azure and the local test
    server send it); until then requests go out freely. Each request is scheduled on a virtual clock
    at its estimated cost (characters / learned characters per token), corrected by the real usage
    once answered, so requests reach the provider at the rate it admits instead of all retrying after
    each 429 (which burns the retry budget of every request in flight). A 429 pauses everyone for
    its Retry-After.
    """

    USE = 0.97  # of the advertised rate: headroom for estimation errors

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rate: float | None = None  # tokens per second
        self._next = 0.0  # monotonic time the next request may start
        self._chars = 0
        self._tokens = 0

    def estimate(self, texts: list[str]) -> float:
        chars = sum(len(t) for t in texts)
        with self._lock:
            per_token = self._chars / self._tokens if self._tokens >= 1000 else 4.0
        return chars / per_token

    def wait(self, cost: float) -> None:
        with self._lock:
            if self._rate is None:
                return
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + cost / self._rate
        if start > now:
            time.sleep(start - now)

    def settle(self, estimated: float, used: int, chars: int, headers: Any) -> None:
        """After an answer: learn the limit and the characters per token, correct the schedule."""
        limit = _header_number(headers, "x-ratelimit-limit-tokens")
        with self._lock:
            if limit:
                rate = limit / 60.0 * self.USE
                if self._rate is None:
                    self._next = time.monotonic()
                self._rate = rate
            if used:
                self._chars += chars
                self._tokens += used
            if self._rate is not None:
                self._next += (used - estimated) / self._rate

    def pause(self, seconds: float) -> None:
        with self._lock:
            self._next = max(self._next, time.monotonic() + seconds)


def _header_number(headers: Any, name: str) -> float | None:
    try:
        value = headers.get(name) if headers is not None else None
        return float(value) if value else None
    except (TypeError, ValueError, AttributeError):
        return None


class OpenAIEmbedder(Embedder):
    remote = True

    def __init__(self, *, client: openai.OpenAI, model: str, dimensions: int, send_dimensions: bool,
                 max_retries: int, label: str, secret: str, max_inputs: int = 2048) -> None:
        self._client = client
        self._model = model
        self.dimensions = dimensions
        self._send_dimensions = send_dimensions
        self._max_retries = max_retries
        self._label = label
        self._secret = secret
        self.max_inputs = max_inputs
        self.model_id = f"{label}:{model}:{dimensions}"
        self._pacer = TokenPacer()
        self._answered = False  # has the endpoint ever answered? (a refusal before that is configuration)

    def _embed(self, texts: list[str]) -> list[list[float]]:
        kwargs: dict[str, Any] = {"model": self._model, "input": texts}
        if self._send_dimensions:
            kwargs["dimensions"] = self.dimensions
        attempt = 0
        chars = sum(len(t) for t in texts)
        while True:
            cost = self._pacer.estimate(texts)
            self._pacer.wait(cost)
            headers = None
            try:
                raw = self._client.embeddings.with_raw_response.create(**kwargs)
                headers = raw.headers
                response = raw.parse()
                data = sorted(response.data, key=lambda d: d.index)
                used = getattr(response.usage, "total_tokens", 0) or 0
                self._pacer.settle(cost, used, chars, headers)
                self._answered = True
                return [list(map(float, d.embedding)) for d in data]
            except (openai.OpenAIError, ValueError) as exc:
                self._raise_if_fatal(exc)
                delay, failure, error_headers = self._retry_reason(exc, attempt)
                headers = error_headers if error_headers is not None else headers
            self._pacer.settle(cost, 0, chars, headers)  # not admitted: its tokens go back to the schedule
            if failure.startswith("rate limited") and delay is not None:
                self._pacer.pause(delay)  # everyone waits, not only this request
            if attempt >= self._max_retries:
                raise TransientError(f"{self._label} embedding failed after {attempt + 1} attempts: {failure}. "
                                     "Check the provider's status and rate limits, then retry the sync.")
            attempt += 1
            self._back_off(attempt, delay, failure)

    def _raise_if_fatal(self, exc: BaseException) -> None:
        """Errors no retry can fix: raised as configuration or service errors."""
        if isinstance(exc, (openai.AuthenticationError, openai.PermissionDeniedError)):
            raise ConfigError(f"{self._label} rejected the API key ({exc.status_code}): check the embedding API key "
                              "and that it may use this model.", internal=self._scrub(str(exc))) from None
        if isinstance(exc, openai.NotFoundError):
            raise ConfigError(f"{self._label} does not know model '{self._model}' (404): check the model name, "
                              "deployment or base URL.", internal=self._scrub(str(exc))) from None
        if isinstance(exc, openai.RateLimitError) and _code(exc) == "insufficient_quota":
            raise ConfigError(f"{self._label} says the account's quota is exhausted (429 insufficient_quota): "
                              "check billing.") from None
        if isinstance(exc, openai.BadRequestError):
            raise ConfigError(f"{self._label} refused the request (400): {self._scrub(_message(exc))}") from None
        if isinstance(exc, openai.APIConnectionError) and not isinstance(exc, openai.APITimeoutError):
            self._raise_if_unreachable(exc)
        if isinstance(exc, openai.APIStatusError) and not isinstance(exc, (openai.RateLimitError,
                                                                           openai.InternalServerError)):
            raise ServiceError(f"{self._label} answered {exc.status_code}: {self._scrub(_message(exc))}") from None

    def _raise_if_unreachable(self, exc: openai.APIConnectionError) -> None:
        untrusted = _certificate_error(exc)
        if untrusted is not None:  # retrying cannot help, and verification is never turned off
            raise ConfigError(f"The TLS certificate of the {self._label} endpoint could not be verified "
                              f"({untrusted}): use an endpoint whose certificate a trusted CA signed for "
                              "its host name.") from None
        if not self._answered and _refused(exc):
            # nothing ever answered at this address: a mistyped URL or port, not an outage
            raise ConfigError(f"The {self._label} endpoint {self._client.base_url} refuses connections: "
                              "check the base URL (embedding.base_url, embedding.api_base or "
                              "OPENAI_BASE_URL) and that the service is running.") from None

    @staticmethod
    def _retry_reason(exc: BaseException, attempt: int) -> tuple[float | None, str, Any]:
        """(server-requested delay, what failed, response headers) of a retryable error; others re-raised."""
        if isinstance(exc, openai.RateLimitError):
            return retry_after_seconds(exc.response.headers), f"rate limited (429) {attempt + 1} times", \
                exc.response.headers
        if isinstance(exc, openai.InternalServerError):
            return retry_after_seconds(exc.response.headers), f"server error {exc.status_code}", None
        if isinstance(exc, openai.APITimeoutError):
            return None, "request timed out", None
        if isinstance(exc, openai.APIConnectionError):
            return None, "connection failed", None
        if isinstance(exc, (ValueError, openai.APIResponseValidationError)):  # malformed JSON body
            return None, f"malformed response ({type(exc).__name__})", None
        raise exc

    def _back_off(self, attempt: int, delay: float | None, failure: str) -> None:
        wait = delay if delay is not None else min(MAX_BACKOFF_S, 0.5 * 2 ** (attempt - 1))
        wait = min(MAX_BACKOFF_S, wait) * (1 + random.random() * 0.1)
        logger.info(f"{self._label}: {failure}; retry {attempt}/{self._max_retries} in {wait:.2f}s")
        time.sleep(wait)

    def _scrub(self, text: str) -> str:
        return text.replace(self._secret, "****") if self._secret else text


def _refused(exc: BaseException) -> bool:
    """Was the connection refused, or the host name unknown (httpx wraps the socket error)?"""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, (ConnectionRefusedError, socket.gaierror)):
            return True
        text = str(current)
        if "Connection refused" in text or "Name or service not known" in text or "nodename nor servname" in text:
            return True
        current = current.__cause__ or current.__context__
    return False


def _certificate_error(exc: BaseException) -> str | None:
    """The verification failure behind a connection error (httpx wraps ssl's), if that is what it was."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            return str(current.verify_message or current.reason or "certificate verify failed")
        if "CERTIFICATE_VERIFY_FAILED" in str(current):
            return "certificate verify failed"
        current = current.__cause__ or current.__context__
    return None


def _code(exc: openai.APIStatusError) -> str | None:
    body = exc.body if isinstance(exc.body, dict) else {}
    err = body.get("error", body) if isinstance(body, dict) else {}
    return err.get("code") if isinstance(err, dict) else None


def _message(exc: openai.APIStatusError) -> str:
    body = exc.body if isinstance(exc.body, dict) else {}
    err = body.get("error", body) if isinstance(body, dict) else {}
    msg = err.get("message") if isinstance(err, dict) else None
    return (msg or str(exc)).splitlines()[0][:300]


def from_config(cfg: OpenAIEmbedding | AzureOpenAIEmbedding | OpenAICompatibleEmbedding, *, max_retries: int,
                timeout_s: float) -> OpenAIEmbedder:
    if isinstance(cfg, (OpenAIEmbedding, AzureOpenAIEmbedding)) and not cfg.openai_key.strip():
        raise ConfigError(f"embedding.openai_key is empty: set it to your {'Azure ' if cfg.mode == 'azure_openai' else ''}"
                          "OpenAI API key.")
    try:
        return _from_config(cfg, max_retries=max_retries, timeout_s=timeout_s)
    except openai.OpenAIError as exc:  # the SDK refuses a client it cannot build (no key, no endpoint)
        raise ConfigError(f"The embedding client cannot be set up: {str(exc).splitlines()[0][:200]}; check the "
                          "embedding settings.") from None


def _from_config(cfg: OpenAIEmbedding | AzureOpenAIEmbedding | OpenAICompatibleEmbedding, *, max_retries: int,
                 timeout_s: float) -> OpenAIEmbedder:
    common = {"max_retries": 0, "timeout": timeout_s}
    if isinstance(cfg, OpenAIEmbedding):
        if cfg.model not in OPENAI_MODEL_DIMENSIONS and cfg.dimensions is None:
            raise ConfigError(f"OpenAI model '{cfg.model}' has no known dimension: set embedding.dimensions.")
        if cfg.dimensions is not None and cfg.model == "text-embedding-ada-002" and cfg.dimensions != 1536:
            raise ConfigError("text-embedding-ada-002 always returns 1536 dimensions: remove embedding.dimensions "
                              "or choose a text-embedding-3 model.")
        dims = cfg.dimensions or OPENAI_MODEL_DIMENSIONS[cfg.model]
        client = openai.OpenAI(api_key=cfg.openai_key, base_url=cfg.base_url, **common)
        return OpenAIEmbedder(client=client, model=cfg.model, dimensions=dims, send_dimensions=cfg.dimensions is not None,
                              max_retries=max_retries, label="OpenAI", secret=cfg.openai_key)
    if isinstance(cfg, AzureOpenAIEmbedding):
        client = openai.AzureOpenAI(api_key=cfg.openai_key, azure_endpoint=cfg.api_base, api_version=cfg.api_version,
                                    azure_deployment=cfg.deployment, **common)
        return OpenAIEmbedder(client=client, model=cfg.deployment, dimensions=cfg.dimensions, send_dimensions=False,
                              max_retries=max_retries, label="Azure OpenAI", secret=cfg.openai_key,
                              max_inputs=AZURE_MAX_INPUTS)
    client = openai.OpenAI(api_key=cfg.api_key or "none", base_url=cfg.base_url, **common)
    # `dimensions` here describes what the model returns; many compatible servers refuse the parameter.
    return OpenAIEmbedder(client=client, model=cfg.model_name, dimensions=cfg.dimensions, send_dimensions=False,
                          max_retries=max_retries, label="OpenAI-compatible service", secret=cfg.api_key)

