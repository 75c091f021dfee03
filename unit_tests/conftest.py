"""Fixtures the unit tests share (plain builders are in helpers.py)."""

from __future__ import annotations

from typing import Iterator

import pytest

from test_support.fake_openai import FakeOpenAIServer

from .helpers import FAKE_OPENAI_KEY


@pytest.fixture(scope="session")
def openai_stub() -> Iterator[FakeOpenAIServer]:
    """The local OpenAI-compatible server, in this process; each test gets it without faults or stats."""
    with FakeOpenAIServer(api_key=FAKE_OPENAI_KEY) as server:
        yield server


@pytest.fixture
def stub(openai_stub: FakeOpenAIServer) -> FakeOpenAIServer:
    openai_stub.clear_faults()
    openai_stub.reset_stats()
    openai_stub.set(latency_s=0.0, tokens_per_minute=None)
    return openai_stub
