"""The acceptance configs under `secrets/` (acceptance-test-config.yml), built at test time since they
need what exists only then: the server URI and token, the OpenAI stub's port, a Milvus Lite file,
collections of a given shape. The standard suite checks them in process, test_docker_image.py in a
container; both expect each invalid one to fail with its message below."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, Callable

import pytest
from pymilvus import MilvusClient

from test_support.tutorial_collection import create_tutorial_collection

from .helpers import TEST_OPENAI_KEY

TEXT_FIELDS = ["body", "title", "description", "subject"]


def _processing() -> dict[str, Any]:
    return {"chunk_size": 1000, "text_fields": TEXT_FIELDS}


def _server_collection(request: pytest.FixtureRequest, dim: int) -> tuple[Any, str]:
    """A tutorial-shaped collection on the test server, dropped after the test."""
    server = request.getfixturevalue("milvus_server")
    name = "std_" + uuid.uuid4().hex[:10]
    client = MilvusClient(uri=server.uri, token=server.token)
    create_tutorial_collection(client, name, dim=dim)
    client.close()

    def drop() -> None:
        c = MilvusClient(uri=server.uri, token=server.token)
        try:
            c.drop_collection(name)
        finally:
            c.close()

    request.addfinalizer(drop)
    return server, name


def config_lite(request: pytest.FixtureRequest, tmp: Path) -> dict[str, Any]:
    """The offline setup: Milvus Lite file, local embedding model, collection created on first sync."""
    return {"processing": _processing(), "embedding": {"mode": "local"},
            "indexing": {"host": str(tmp / "zendesk.db"), "collection": "zendesk", "create_collection": True}}


def config_server(request: pytest.FixtureRequest, tmp: Path) -> dict[str, Any]:
    """Real server with auth, the tutorial's hand-made collection, OpenAI-compatible embeddings."""
    server, name = _server_collection(request, 1536)
    token = request.getfixturevalue("server_token")
    stub = request.getfixturevalue("openai_stub")
    return {"processing": _processing(),
            "embedding": {"mode": "openai_compatible", "api_key": TEST_OPENAI_KEY, "base_url": stub.base_url,
                          "model_name": "text-embedding-ada-002", "dimensions": 1536},
            "indexing": {"host": server.uri, "collection": name, "auth": {"mode": "token", "token": token},
                         "timeout_seconds": 10}}


def invalid_config_missing_collection(request: pytest.FixtureRequest, tmp: Path) -> dict[str, Any]:
    server = request.getfixturevalue("milvus_server")
    token = request.getfixturevalue("server_token")
    return {"processing": _processing(), "embedding": {"mode": "fake"},
            "indexing": {"host": server.uri, "collection": "missing_" + uuid.uuid4().hex[:10],
                         "auth": {"mode": "token", "token": token}, "timeout_seconds": 10}}


def invalid_config_wrong_dimension(request: pytest.FixtureRequest, tmp: Path) -> dict[str, Any]:
    """A 768-d tutorial collection in a Lite file, while the fake embedder produces 1536-d vectors."""
    path = tmp / "wrong_dim.db"
    client = MilvusClient(uri=str(path))
    create_tutorial_collection(client, "zendesk", dim=768)
    client.close()
    from milvus_lite.server_manager import server_manager_instance

    server_manager_instance.release_server(str(path))  # the connector opens the file next
    return {"processing": _processing(), "embedding": {"mode": "fake"},
            "indexing": {"host": str(path), "collection": "zendesk"}}


def invalid_config_bad_token(request: pytest.FixtureRequest, tmp: Path) -> dict[str, Any]:
    server = request.getfixturevalue("milvus_server")
    return {"processing": _processing(), "embedding": {"mode": "fake"},
            "indexing": {"host": server.uri, "collection": "zendesk",
                         "auth": {"mode": "token", "token": "root:Wrong-Password-5e1d"}, "timeout_seconds": 10}}


# what each invalid config's `check` must say (here in-process, in test_docker_image.py in a container)
INVALID_CONFIG_MESSAGES = {
    "invalid_config_missing_collection": "does not exist in database 'default'",
    "invalid_config_wrong_dimension": "stores 768-dimensional vectors",
    "invalid_config_bad_token": "refused the session: check indexing.auth",
    "invalid_config_unreachable_host": "Milvus endpoint 127.0.0.1:1 is unreachable",
}

GENERATED: dict[str, Callable[[pytest.FixtureRequest, Path], dict[str, Any]]] = {
    f.__name__: f for f in (config_lite, config_server, invalid_config_missing_collection,
                            invalid_config_wrong_dimension, invalid_config_bad_token)
}
