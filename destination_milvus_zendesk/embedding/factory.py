"""Build the configured embedder; the only place that maps config modes to providers."""

from __future__ import annotations

from ..config import (AzureOpenAIEmbedding, CohereEmbedding, ConnectorConfig, FakeEmbedding, FromFieldEmbedding,
                      LocalEmbedding, OpenAICompatibleEmbedding, OpenAIEmbedding)
from ..errors import ConfigError
from .base import Embedder
from .from_field import FromFieldEmbedder


def create_embedder(config: ConnectorConfig) -> Embedder:
    cfg = config.embedding
    if isinstance(cfg, (OpenAIEmbedding, AzureOpenAIEmbedding, OpenAICompatibleEmbedding)):
        from .openai_api import from_config

        return from_config(cfg, max_retries=config.embedding_max_retries, timeout_s=config.embedding_timeout_seconds)
    if isinstance(cfg, LocalEmbedding):
        from .local import WordLlamaEmbedder

        return WordLlamaEmbedder()
    if isinstance(cfg, FakeEmbedding):
        from .local import FakeEmbedder

        return FakeEmbedder()
    if isinstance(cfg, FromFieldEmbedding):
        return FromFieldEmbedder(cfg)
    if isinstance(cfg, CohereEmbedding):
        raise ConfigError("Embedding mode 'cohere' is not supported by this connector yet: use openai, azure_openai, "
                          "openai_compatible (Cohere offers an OpenAI-compatible endpoint) or local.")
    raise ConfigError(f"Unknown embedding mode {getattr(cfg, 'mode', cfg)!r}.")
