"""Deterministic "hashed bag of words" embeddings (numpy + stdlib only).

Used by the fake OpenAI server (``test_support/fake_openai.py``) and usable as an
offline embedding backend: no model download, no network, no randomness.

Algorithm (stable across processes, machines and Python versions):

* lowercase the text and split it into word tokens with ``re.findall(r"\\w+")``;
* every token contributes weight ``1.0`` and every adjacent word bigram weight
  ``BIGRAM_WEIGHT`` (0.5);
* a feature's bucket and sign come from an 8-byte BLAKE2b digest of its UTF-8
  bytes (domain-separated prefixes for unigrams / bigrams), *not* Python's
  salted ``hash()``: ``sign = -1 if h & 1 else +1``, ``bucket = (h >> 1) % dimensions``;
* the per-bucket sums are L2-normalized. A text without any word token (empty,
  whitespace, punctuation only) - or the astronomically unlikely all-cancelled
  vector - maps to the fixed unit vector ``e_0``.

Texts that share words get a high cosine similarity; identical texts get
bit-identical vectors. Values are float32-representable, so a float32/base64
round trip (what the OpenAI SDK does by default) is lossless.
"""

from __future__ import annotations

import hashlib
import re
import threading
from itertools import repeat
from operator import add as _add
from typing import Sequence

import numpy as np

__all__ = [
    "DEFAULT_FAKE_DIMENSIONS",
    "BIGRAM_WEIGHT",
    "feature_hash_embeddings",
    "feature_hash_matrix",
]

DEFAULT_FAKE_DIMENSIONS = 1536
BIGRAM_WEIGHT = 0.5

_WORD_RE = re.compile(r"\w+")
_UNIGRAM_PREFIX = b"u\x00"
_BIGRAM_PREFIX = b"b\x00"
# Rows embedded per numpy block; bounds the dense scratch matrix
# (512 x 3072 float64 = 12.6 MB).
_BLOCK_ROWS = 512
# Feature -> 64-bit hash cache. Vocabulary repeats a lot across tickets, so this
# removes most BLAKE2b calls. Cleared wholesale when it grows too large.
_CACHE_MAX = 65_536  # entries (~10 MB): bounded so that memory stays flat on long syncs
_hash_cache: dict[str, int] = {}
_cache_lock = threading.Lock()


def _stable_hash(feature: str, prefix: bytes) -> int:
    digest = hashlib.blake2b(prefix + feature.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def _feature_hashes(text: str) -> tuple[list[int], list[int]]:
    """Return (unigram hashes, bigram hashes) of one text (lookups run in C via map; misses hashed)."""
    tokens = _WORD_RE.findall(text.lower())
    if not tokens:
        return [], []
    cache = _hash_cache
    uni: list[int] = list(map(cache.get, tokens))
    if None in uni:
        for i, h in enumerate(uni):
            if h is None:
                h = cache[tokens[i]] = _stable_hash(tokens[i], _UNIGRAM_PREFIX)
                uni[i] = h
    # \w+ tokens never contain a space: no clash with unigrams
    keys = list(map(_add, map(_add, tokens, repeat(" ")), tokens[1:]))
    bi: list[int] = list(map(cache.get, keys))
    if None in bi:
        for i, h in enumerate(bi):
            if h is None:
                h = cache[keys[i]] = _stable_hash(keys[i], _BIGRAM_PREFIX)
                bi[i] = h
    return uni, bi


def _check_args(texts: Sequence[str], dimensions: int) -> None:
    if isinstance(dimensions, bool) or not isinstance(dimensions, (int, np.integer)) or dimensions < 1:
        raise ValueError(f"dimensions must be a positive integer, got {dimensions!r}")
    if isinstance(texts, str):
        raise TypeError("texts must be a sequence of str, not a single str")
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise TypeError(f"texts[{i}] must be str, got {type(t).__name__}")


def _embed_block(texts: Sequence[str], dimensions: int) -> np.ndarray:
    n = len(texts)
    rows: list[int] = []
    hashes: list[int] = []
    weights: list[float] = []
    for i, text in enumerate(texts):
        uni, bi = _feature_hashes(text)
        if uni:
            rows.extend([i] * (len(uni) + len(bi)))
            hashes.extend(uni)
            hashes.extend(bi)
            weights.extend([1.0] * len(uni))
            weights.extend([BIGRAM_WEIGHT] * len(bi))
    if hashes:
        h = np.fromiter(hashes, dtype=np.uint64, count=len(hashes))
        buckets = ((h >> np.uint64(1)) % np.uint64(dimensions)).astype(np.int64)
        signs = 1.0 - 2.0 * (h & np.uint64(1)).astype(np.float64)
        flat = np.asarray(rows, dtype=np.int64) * dimensions + buckets
        w = signs * np.asarray(weights, dtype=np.float64)
        mat = np.bincount(flat, weights=w, minlength=n * dimensions).reshape(n, dimensions)
    else:
        mat = np.zeros((n, dimensions), dtype=np.float64)
    norms = np.sqrt(np.einsum("ij,ij->i", mat, mat))
    empty = norms == 0.0
    if empty.any():
        mat[empty] = 0.0
        mat[empty, 0] = 1.0
        norms[empty] = 1.0
    mat /= norms[:, None]
    return mat.astype(np.float32)


def feature_hash_matrix(texts: Sequence[str], dimensions: int = DEFAULT_FAKE_DIMENSIONS) -> np.ndarray:
    """Embed ``texts`` into a ``(len(texts), dimensions)`` float32 matrix of unit rows."""
    _check_args(texts, dimensions)
    dimensions = int(dimensions)
    if len(_hash_cache) > _CACHE_MAX:
        with _cache_lock:
            if len(_hash_cache) > _CACHE_MAX:
                _hash_cache.clear()
    n = len(texts)
    if n == 0:
        return np.zeros((0, dimensions), dtype=np.float32)
    if n <= _BLOCK_ROWS:
        return _embed_block(texts, dimensions)
    out = np.empty((n, dimensions), dtype=np.float32)
    for start in range(0, n, _BLOCK_ROWS):
        out[start : start + _BLOCK_ROWS] = _embed_block(texts[start : start + _BLOCK_ROWS], dimensions)
    return out


def feature_hash_embeddings(texts: list[str], dimensions: int = DEFAULT_FAKE_DIMENSIONS) -> list[list[float]]:
    """Embed ``texts`` as L2-normalized hashed bag-of-words vectors (Python lists).

    Deterministic: the same text always yields the same vector, in any process.
    """
    # float32 -> float64 is exact; converting from float64 is faster than from float32.
    return feature_hash_matrix(texts, dimensions).astype(np.float64).tolist()
