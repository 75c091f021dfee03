"""Chunking: never over the limit, nothing lost, boundaries preferred."""

import random

import pytest

from destination_milvus_zendesk.chunking import Chunker, separators_for
from destination_milvus_zendesk.config import ProcessingConfig

WORDS = ["password", "reset", "invoice", "café", "naïve", "API", "rate-limit", "😀", "東京", "x" * 40]


def random_text(seed: int) -> str:
    rng = random.Random(seed)
    paragraphs = []
    for _ in range(rng.randint(1, 60)):
        sentences = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 40))) for _ in range(rng.randint(1, 6))]
        paragraphs.append(". ".join(sentences))
    return "\n\n".join(paragraphs)


@pytest.mark.parametrize("seed", range(25))
@pytest.mark.parametrize("size", [20, 100, 1000])
def test_no_chunk_over_the_limit_and_nothing_lost(seed, size):
    chunker = Chunker(size, 0)
    text = random_text(seed)
    chunks = chunker.split_counted(text)
    assert all(chunker.count(c) <= size for c, _ in chunks)
    assert all(chunker.count(c) == n for c, n in chunks)
    assert "".join(c for c, _ in chunks) == text


@pytest.mark.parametrize("seed", range(10))
def test_overlap_repeats_the_tail_of_the_previous_chunk(seed):
    chunker = Chunker(60, 15)
    text = random_text(seed + 100)
    chunks = chunker.split(text)
    assert all(chunker.count(c) <= 60 for c in chunks)
    positions, overlapped = [], 0
    for chunk in chunks:
        start = text.find(chunk, positions[-1] + 1 if positions else 0)
        assert start >= 0
        if positions:
            previous_end = positions[-1] + len(chunks[len(positions) - 1])
            assert start <= previous_end  # no gap: nothing lost between chunks
            overlapped += start < previous_end
        positions.append(start)
    assert positions[0] == 0 and positions[-1] + len(chunks[-1]) == len(text)
    if len(chunks) > 2:
        assert overlapped > 0


def test_prefers_paragraph_then_sentence_boundaries():
    para = "First sentence here. Second sentence here."
    text = "\n\n".join([para] * 30)
    chunker = Chunker(25, 0)
    chunks = chunker.split(text)
    assert all(c.endswith(("\n\n", ". ")) or c == chunks[-1] for c in chunks)


def test_word_longer_than_the_limit_is_cut_at_token_boundaries():
    chunker = Chunker(5, 0)
    text = "é" * 500
    chunks = chunker.split(text)
    assert "".join(chunks) == text and all(chunker.count(c) <= 5 for c in chunks)


def test_short_and_empty_text():
    chunker = Chunker(1000, 0)
    assert chunker.split("") == []
    assert chunker.split("hello") == ["hello"]


def test_splitter_configs_map_to_separators():
    assert separators_for(ProcessingConfig(text_splitter={"mode": "separator", "separators": ['"\\n"', '"."']})) == ["\n", "."]
    assert separators_for(ProcessingConfig(text_splitter={"mode": "markdown", "split_level": 2}))[:2] == ["\n# ", "\n## "]
