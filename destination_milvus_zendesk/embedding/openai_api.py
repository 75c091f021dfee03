"""OpenAI, Azure OpenAI and OpenAI-compatible embeddings through the openai v1 SDK.

The SDK's own retries are off: we retry here so that the policy is explicit and bounded,
honours Retry-After, and classifies failures (bad key = config_error at once; rate limits,
5xx, timeouts = retried, then transient_error). `OPENAI_BASE_URL` redirects the `openai`
mode (local servers, proxies, tests).
"""

from __future__ import annotations

import logging
import random
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
        self.stats_lock = threading.Lock()
        self.requests = 0
        self.retries = 0
        self.tokens = 0

    def _embed(self, texts: list[str]) -> list[list[float]]:
        kwargs: dict[str, Any] = {"model": self._model, "input": texts}
        if self._send_dimensions:
            kwargs["dimensions"] = self.dimensions
        attempt = 0
        while True:
            try:
                response = self._client.embeddings.create(**kwargs)
                data = sorted(response.data, key=lambda d: d.index)
                with self.stats_lock:
                    self.requests += 1
                    self.tokens += getattr(response.usage, "total_tokens", 0) or 0
                return [list(map(float, d.embedding)) for d in data]
            except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
                raise ConfigError(f"{self._label} rejected the API key ({exc.status_code}): check the embedding API key "
                                  "and that it may use this model.", internal=self._scrub(str(exc))) from None
            except openai.NotFoundError as exc:
                raise ConfigError(f"{self._label} does not know model '{self._model}' (404): check the model name, "
                                  "deployment or base URL.", internal=self._scrub(str(exc))) from None
            except openai.RateLimitError as exc:
                if _code(exc) == "insufficient_quota":
                    raise ConfigError(f"{self._label} says the account's quota is exhausted (429 insufficient_quota): "
                                      "check billing.") from None
                delay = retry_after_seconds(exc.response.headers)
                failure = f"rate limited (429) {attempt + 1} times"
            except openai.BadRequestError as exc:
                raise ConfigError(f"{self._label} refused the request (400): {self._scrub(_message(exc))}") from None
            except openai.InternalServerError as exc:
                delay = retry_after_seconds(exc.response.headers)
                failure = f"server error {exc.status_code}"
            except openai.APITimeoutError:
                delay, failure = None, "request timed out"
            except openai.APIConnectionError:
                delay, failure = None, "connection failed"
            except openai.APIStatusError as exc:  # other 4xx: not retryable
                raise ServiceError(f"{self._label} answered {exc.status_code}: {self._scrub(_message(exc))}") from None
            except (ValueError, openai.APIResponseValidationError) as exc:  # malformed JSON body
                delay, failure = None, f"malformed response ({type(exc).__name__})"
            if attempt >= self._max_retries:
                raise TransientError(f"{self._label} embedding failed after {attempt + 1} attempts: {failure}. "
                                     "Check the provider's status and rate limits, then retry the sync.")
            attempt += 1
            with self.stats_lock:
                self.retries += 1
            wait = delay if delay is not None else min(MAX_BACKOFF_S, 0.5 * 2 ** (attempt - 1))
            wait = min(MAX_BACKOFF_S, wait) * (1 + random.random() * 0.1)
            logger.info(f"{self._label}: {failure}; retry {attempt}/{self._max_retries} in {wait:.2f}s")
            time.sleep(wait)

    def _scrub(self, text: str) -> str:
        return text.replace(self._secret, "****") if self._secret else text


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

