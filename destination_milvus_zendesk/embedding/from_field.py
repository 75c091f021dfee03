"""Vectors that arrive inside the records (embedding mode from_field): nothing is called."""

from __future__ import annotations

from ..config import FromFieldEmbedding
from ..errors import ConfigError
from .base import Embedder


class FromFieldEmbedder(Embedder):
    """Only the dimension is known. A stored vector is never reused: the record's own vector may
    change while its text stays the same, and the record is the authority on it."""

    reuses_stored_vectors = False

    def __init__(self, cfg: FromFieldEmbedding) -> None:
        self.dimensions = cfg.dimensions
        self.vector_field = cfg.field_name
        self.model_id = f"from_field:{cfg.field_name}:{cfg.dimensions}"

    def _embed(self, texts: list[str]) -> list[list[float]]:
        raise ConfigError(f"Embedding mode from_field takes vectors from field '{self.vector_field}'; "
                          "a record without a valid vector there cannot be stored.")

    def check(self) -> None:
        return None
