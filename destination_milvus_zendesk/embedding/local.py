"""Offline embedders: the wordllama model shipped inside its PyPI package, and the fake one.

Neither touches the network, so the demo and the tests run on a machine with no API key.
"""

from __future__ import annotations

import functools
from pathlib import Path

from ..config import FAKE_DIMENSIONS, LOCAL_MODEL, LOCAL_MODEL_DIMENSIONS
from .base import Embedder
from .hashing import feature_hash_matrix


@functools.lru_cache(maxsize=1)
def _wordllama():
    import wordllama
    from wordllama import WordLlama

    # The 256-d weights and tokenizer config ship inside the wheel; never download.
    return WordLlama.load(cache_dir=Path(wordllama.__file__).parent, disable_download=True)


class WordLlamaEmbedder(Embedder):
    dimensions = LOCAL_MODEL_DIMENSIONS
    model_id = f"local:{LOCAL_MODEL}:{LOCAL_MODEL_DIMENSIONS}"

    def __init__(self) -> None:
        self._model = _wordllama()

    def _embed(self, texts: list[str]) -> list[list[float]]:
        # wordllama pads each internal batch of 64 to its longest text: one long ticket among short
        # ones made a batch 150x slower. Embedding in length order, then restoring it, avoids that.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        vectors = self._model.embed([texts[i] for i in order], norm=True).astype("float64").tolist()
        out: list[list[float]] = [[] for _ in texts]
        for position, index in enumerate(order):
            out[index] = vectors[position]
        return out


class FakeEmbedder(Embedder):
    """Deterministic hashed bag-of-words vectors: similar text, close vectors; no cost, no network."""

    dimensions = FAKE_DIMENSIONS
    model_id = f"fake:hashing:{FAKE_DIMENSIONS}"

    def _embed(self, texts: list[str]) -> list[list[float]]:
        # float32 rows of one matrix (pymilvus takes numpy vectors): 6 KB per queued vector instead of
        # 49 KB as a list of Python floats, and no conversion until the row is encoded for Milvus
        return list(feature_hash_matrix(texts, self.dimensions))  # type: ignore[arg-type]
