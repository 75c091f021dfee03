"""Shared fixtures: one real Milvus server per session (auth on), a backend per test (a Milvus Lite
file or that server), the local OpenAI-compatible server, and no connector process left behind.
Plain helpers (configs, messages, running the connector as the platform does) are in helpers.py."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator

import pytest
from pymilvus import MilvusClient

from test_support.fake_openai import FakeOpenAIServer
from test_support.milvus_server import milvus_server_fixture

from .helpers import TEST_MILVUS_PASSWORD, TEST_MILVUS_USER, TEST_OPENAI_KEY, Backend, backend_named
from .reliability import kill_leftover_runs

milvus_server = pytest.fixture(scope="session")(milvus_server_fixture)


@pytest.fixture(scope="session")
def server_token(milvus_server) -> str:
    """A user with a recognisable password, so output can be scanned for it (root's is 'Milvus')."""
    client = MilvusClient(uri=milvus_server.uri, token=milvus_server.token)
    try:
        if TEST_MILVUS_USER not in client.list_users():
            client.create_user(TEST_MILVUS_USER, TEST_MILVUS_PASSWORD)
            client.grant_role(TEST_MILVUS_USER, "admin")
    finally:
        client.close()
    return f"{TEST_MILVUS_USER}:{TEST_MILVUS_PASSWORD}"


@pytest.fixture(scope="session")
def openai_stub():
    with FakeOpenAIServer(api_key=TEST_OPENAI_KEY) as server:
        yield server


@pytest.fixture(autouse=True)
def _reset_stub(request):
    """A test that uses the stub starts from a clean one and leaves it clean: faults it queued but
    did not consume must not reach a later test that shares the session's stub indirectly."""
    if "openai_stub" not in request.fixturenames:
        yield
        return
    stub = request.getfixturevalue("openai_stub")

    def reset() -> None:
        stub.clear_faults()
        stub.set(latency_s=0.0, tokens_per_minute=None, fault_rate=0.0)
        stub.reset_stats()
        stub.reset_rate_limiter()

    reset()
    yield
    reset()


@pytest.fixture(params=["lite", "server"])
def backend(request, tmp_path) -> Backend:
    return backend_named(request.param, request, tmp_path)


@pytest.fixture
def collection_name(request) -> Iterator[str]:
    """A fresh name. On the session's server the test's collections (this name, and the name with a
    suffix, such as a migration's target) are dropped afterwards: every loaded collection there holds
    memory and index work for the rest of the session. A Lite file goes with its tmp_path."""
    name = "t_" + uuid.uuid4().hex[:10]
    yield name
    if "milvus_server" in request.fixturenames:
        client = request.getfixturevalue("milvus_server").client()
        try:
            for left in client.list_collections():
                if left == name or left.startswith(name + "_"):
                    client.drop_collection(left)
        finally:
            client.close()


@pytest.fixture(autouse=True)
def _no_connector_left_running():
    """A failed test never leaves a connector process (reliability.LiveRun) behind."""
    yield
    kill_leftover_runs()


def pytest_terminal_summary(terminalreporter):
    """The reliability suite's figures (kill points survived, faults injected, fuzz cases, records
    lost, secrets leaked): printed here and written to build/reliability/ (git-ignored), or where
    DMZ_RELIABILITY_REPORT_DIR says (`docs` updates the committed docs/reliability.md)."""
    module = sys.modules.get("integration_tests.reliability")
    if module is None or not module.FIGURES:
        return
    terminalreporter.section("reliability figures")
    for line in module.summary_lines():
        terminalreporter.write_line(line)
    try:
        module.write_report()
    except (OSError, ValueError, TypeError) as exc:  # a report problem must not fail the session
        terminalreporter.write_line(f"{module.REPORT} not written: {exc!r}")
