"""Tests of the deterministic hashed bag-of-words embeddings."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from destination_milvus_zendesk.embedding.hashing import (
    DEFAULT_FAKE_DIMENSIONS,
    feature_hash_embeddings,
    feature_hash_matrix,
)


TEXTS = [
    "My printer is broken and shows error E42",
    "Cannot log in: password reset email never arrives",
    "Refund request for order #12345 (charged twice)",
    "Ünïcödé тикет 日本語 text with émojis 🙂",
]


def _cos(a, b) -> float:
    a, b = np.asarray(a), np.asarray(b)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_default_dimensions_constant():
    assert DEFAULT_FAKE_DIMENSIONS == 1536


@pytest.mark.parametrize("dims", [8, 1536, 3072])
def test_shape_type_and_unit_norm(dims):
    vecs = feature_hash_embeddings(TEXTS, dims)
    assert isinstance(vecs, list) and len(vecs) == len(TEXTS)
    for v in vecs:
        assert isinstance(v, list) and len(v) == dims
        assert all(isinstance(x, float) for x in v)
        assert abs(np.linalg.norm(v) - 1.0) < 1e-5
        assert all(np.isfinite(v))


def test_empty_and_tokenless_texts_get_fixed_unit_vector():
    vecs = feature_hash_embeddings(["", "   ", "?!", "..."], 16)
    e0 = [1.0] + [0.0] * 15
    assert vecs == [e0, e0, e0, e0]
    assert feature_hash_embeddings([], 16) == []
    assert feature_hash_matrix([], 16).shape == (0, 16)


def test_identical_text_identical_vector_and_case_insensitive():
    a = feature_hash_embeddings(["Hello World"], 1536)[0]
    b = feature_hash_embeddings(["hello world"], 1536)[0]
    c = feature_hash_embeddings(["hello, WORLD!!"], 1536)[0]
    assert a == b == c


def test_golden_values_pin_the_algorithm():
    # Changing the hashing scheme silently would invalidate vectors stored by earlier
    # runs (e.g. a Milvus collection built against the fake server): pin a few values.
    v = np.array(feature_hash_embeddings(["hello"], 1536)[0])
    assert np.nonzero(v)[0].tolist() == [479]
    assert v[479] == 1.0
    v = np.array(feature_hash_embeddings(["Hello, world!"], 1536)[0])
    assert np.nonzero(v)[0].tolist() == [479, 500, 893]
    np.testing.assert_allclose(v[[479, 500, 893]], [2 / 3, 2 / 3, -1 / 3], rtol=1e-6)


def test_similar_texts_closer_than_dissimilar():
    base, similar, other = feature_hash_embeddings(
        [
            "The printer in the office is broken again and prints blank pages",
            "office printer broken, it prints blank pages",
            "Please refund my subscription, I was charged twice this month",
        ],
        1536,
    )
    assert _cos(base, similar) > 0.5
    assert _cos(base, similar) > _cos(base, other) + 0.3
    # word order only changes the (lower weighted) bigrams
    ab, ba = feature_hash_embeddings(["alpha beta gamma", "gamma beta alpha"], 1536)
    assert ab != ba
    assert 0.7 < _cos(ab, ba) < 1.0


def test_batch_equals_individual_and_matrix_equals_lists():
    texts = [f"ticket {i} about topic {i % 7} and product {i % 13}" for i in range(1200)]  # > one block
    batch = feature_hash_embeddings(texts, 64)
    for i in (0, 511, 512, 1023, 1199):
        assert batch[i] == feature_hash_embeddings([texts[i]], 64)[0]
    mat = feature_hash_matrix(texts, 64)
    assert mat.dtype == np.float32 and mat.shape == (1200, 64)
    assert mat.tolist() == batch
    # float32-representable: a float32 round trip (the base64 wire format) is lossless
    assert np.frombuffer(mat.astype("<f4").tobytes(), dtype="<f4").reshape(1200, 64).tolist() == batch


def test_the_vectors_are_pinned_bytes():
    """Stable across processes, machines and versions: stored fake vectors stay comparable. A salted
    `hash()` would change these bytes from one run to the next (integration_tests/test_fresh_process.py
    also runs it under two PYTHONHASHSEEDs); an algorithm change changes them once: update them knowingly."""
    matrix = feature_hash_matrix(TEXTS, 96)
    assert hashlib.sha256(matrix.astype("<f4").tobytes()).hexdigest() == (
        "bb68c15550a70121b295b587769aa868880edd702126bd0e2779bd553c58d43b")


def test_invalid_arguments():
    with pytest.raises(ValueError):
        feature_hash_embeddings(["x"], 0)
    with pytest.raises(ValueError):
        feature_hash_embeddings(["x"], True)
    with pytest.raises(TypeError):
        feature_hash_embeddings("not a list", 8)
    with pytest.raises(TypeError):
        feature_hash_embeddings(["ok", None], 8)
