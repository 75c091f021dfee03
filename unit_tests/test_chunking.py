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


# --- the official splitter options do what they say ------------------------------------------

PARAGRAPHS = "\n\n".join(f"Paragraph {n} says something about invoices and refunds." for n in range(40))


def _chunker(text_splitter: dict, size: int = 30) -> Chunker:
    return Chunker.from_config(ProcessingConfig(chunk_size=size, text_splitter=text_splitter))


def test_keep_separator_off_drops_the_separator_where_the_text_is_cut():
    separators = ['"\\n\\n"', '" "']
    dropped = _chunker({"mode": "separator", "separators": separators, "keep_separator": False}).split(PARAGRAPHS)
    kept = _chunker({"mode": "separator", "separators": separators, "keep_separator": True}).split(PARAGRAPHS)
    assert len(kept) > 3 and "".join(kept) == PARAGRAPHS
    assert all(c.endswith("\n\n") for c in kept[:-1])
    assert not any(c.endswith(("\n\n", " ")) or c.startswith("\n") for c in dropped)
    assert dropped == [c.removesuffix("\n\n") for c in kept]  # same cuts, only the cut separator is gone
    assert "\n\n".join(dropped) == PARAGRAPHS


def test_keep_separator_is_the_official_default_off_and_no_splitter_keeps_everything():
    assert _chunker({"mode": "separator"}).keep_separator is False
    assert Chunker.from_config(ProcessingConfig(chunk_size=30)).keep_separator is True


PYTHON = "\n".join(f"def handler_{n}(event):\n    total = {n}\n    return total * 2\n" for n in range(30))


def test_code_language_cuts_at_definitions_and_they_open_the_next_chunk():
    chunker = _chunker({"mode": "code", "language": "python"}, size=40)
    chunks = chunker.split("import os\n" + PYTHON)
    assert "".join(chunks) == "import os\n" + PYTHON
    assert len(chunks) > 3 and all(c.startswith("\ndef handler_") for c in chunks[1:])
    assert all(chunker.count(c) <= 40 for c in chunks)
    go = _chunker({"mode": "code", "language": "go"}, size=40).split(PYTHON.replace("def ", "func "))
    assert all(c.startswith("\nfunc handler_") for c in go[1:])


def test_markdown_headers_open_the_next_chunk():
    text = "".join(f"\n## Section {n}\nSome words about section {n} and its settings.\n" for n in range(20))
    chunks = _chunker({"mode": "markdown", "split_level": 2}, size=30).split(text)
    assert "".join(chunks) == text and len(chunks) > 3
    assert all(c.startswith("\n## Section") for c in chunks)


def test_every_official_language_has_separators_and_an_unknown_one_is_a_config_error():
    from typing import get_args

    from destination_milvus_zendesk.chunking import CODE_SEPARATORS
    from destination_milvus_zendesk.config import CodeLanguage, parse_config
    from destination_milvus_zendesk.errors import ConfigError

    assert set(get_args(CodeLanguage)) == set(CODE_SEPARATORS)
    raw = {"processing": {"chunk_size": 100, "text_splitter": {"mode": "code", "language": "cobol"}},
           "embedding": {"mode": "fake"}, "indexing": {"host": "./x.db", "collection": "c"}}
    with pytest.raises(ConfigError) as err:
        parse_config(raw)
    assert "language" in err.value.message and "'python'" in err.value.message and "\n" not in err.value.message
