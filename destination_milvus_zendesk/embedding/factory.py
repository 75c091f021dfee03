"""Build the configured embedder; the only place that maps config modes to providers."""

from __future__ import annotations

from ..config import (AzureOpenAIEmbedding, CohereEmbedding, ConnectorConfig, FakeEmbedding, FromFieldEmbedding,
                      LocalEmbedding, OpenAICompatibleEmbedding, OpenAIEmbedding)
from ..errors import ConfigError
from .base import Embedder


class FromFieldEmbedder(Embedder):
    """Vectors arrive inside the records; nothing is called. Only the dimension is known."""

    def __init__(self, cfg: FromFieldEmbedding) -> None:
        self.dimensions = cfg.dimensions
        self.field_name = cfg.field_name
        self.model_id = f"from_field:{cfg.field_name}:{cfg.dimensions}"

    def _embed(self, texts: list[str]) -> list[list[float]]:
        raise ConfigError(f"Embedding mode from_field takes vectors from field '{self.field_name}'; "
                          "a record without a valid vector there cannot be stored.")

    def check(self) -> None:
        return None


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
