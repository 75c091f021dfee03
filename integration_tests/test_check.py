"""check: each failure names what to fix, on the server (auth on) and on Milvus Lite."""

from __future__ import annotations

import pytest

from test_support.tutorial_collection import create_tutorial_collection

from .helpers import TEST_OPENAI_KEY, make_config, run_connector


def status(run):
    [message] = run.of_type("CONNECTION_STATUS")
    return message["connectionStatus"]


def test_tutorial_collection_passes(backend, collection_name, openai_stub, tmp_path):
    with backend.connect() as client:
        create_tutorial_collection(client, collection_name)
    run = run_connector("check", tmp_path, make_config(backend, collection_name, openai=openai_stub))
    assert run.returncode == 0
    assert status(run)["status"] == "SUCCEEDED", status(run)
    assert openai_stub.stats()["successful_requests"] == 1  # one tiny embedding call


@pytest.mark.parametrize("pk", ["int64", "varchar"])
def test_record_defined_primary_keys_pass(backend, collection_name, tmp_path, pk):
    with backend.connect() as client:
        create_tutorial_collection(client, collection_name, pk=pk)
    run = run_connector("check", tmp_path, make_config(backend, collection_name))
    assert status(run)["status"] == "SUCCEEDED", status(run)


def test_missing_collection(backend, collection_name, tmp_path):
    with backend.connect():  # the database exists (check never creates a Lite file): only the collection is missing
        pass
    run = run_connector("check", tmp_path, make_config(backend, collection_name))
    assert status(run)["status"] == "FAILED"
    assert f"Collection '{collection_name}' does not exist" in status(run)["message"]
    run = run_connector("check", tmp_path, make_config(backend, collection_name, create=True))
    assert status(run)["status"] == "SUCCEEDED" and "will be created" in status(run)["message"]


def test_dimension_mismatch(backend, collection_name, tmp_path):
    with backend.connect() as client:
        create_tutorial_collection(client, collection_name, dim=768)
    message = status(run_connector("check", tmp_path, make_config(backend, collection_name)))["message"]
    assert "768-dimensional" in message and "produces 1536" in message


def test_wrong_embedding_key_is_a_config_failure(backend, collection_name, openai_stub, tmp_path):
    with backend.connect() as client:
        create_tutorial_collection(client, collection_name)
    config = make_config(backend, collection_name, openai=openai_stub)
    config["embedding"]["api_key"] = "sk-wrong-key-000"
    run = run_connector("check", tmp_path, config)
    assert status(run)["status"] == "FAILED"
    assert "rejected the API key (401)" in status(run)["message"]
    assert "sk-wrong-key-000" not in run.stdout


def test_cohere_is_refused_clearly(backend, collection_name, tmp_path):
    config = make_config(backend, collection_name, embedding={"mode": "cohere", "cohere_key": "co-secret"})
    message = status(run_connector("check", tmp_path, config))["message"]
    assert "'cohere' is not supported" in message and "co-secret" not in message


def test_openai_mode_follows_openai_base_url(backend, collection_name, openai_stub, tmp_path):
    with backend.connect() as client:
        create_tutorial_collection(client, collection_name)
    config = make_config(backend, collection_name, embedding={"mode": "openai", "openai_key": TEST_OPENAI_KEY})
    run = run_connector("check", tmp_path, config, env={"OPENAI_BASE_URL": openai_stub.base_url})
    assert status(run)["status"] == "SUCCEEDED", status(run)
    assert openai_stub.stats()["successful_requests"] == 1


def test_model_recorded_on_the_collection_is_enforced(backend, collection_name, tmp_path):
    with backend.connect() as client:
        create_tutorial_collection(client, collection_name)
        client.alter_collection_properties(collection_name, properties={"dmz.embedding_model": "openai:text-embedding-3-small:1536"})
    message = status(run_connector("check", tmp_path, make_config(backend, collection_name)))["message"]
    assert "written with embedding model openai:text-embedding-3-small:1536" in message


@pytest.mark.server
def test_bad_credentials_on_the_server(milvus_server, collection_name, tmp_path):
    from .helpers import Backend

    backend = Backend("server", milvus_server.uri, {"mode": "username_password", "username": "root",
                                                    "password": "Wrong-PW-secret"}, None)
    run = run_connector("check", tmp_path, make_config(backend, collection_name))
    message = status(run)["message"]
    assert status(run)["status"] == "FAILED"
    assert "refused the session: check indexing.auth" in message
    assert "Wrong-PW-secret" not in run.stdout + run.stderr


@pytest.mark.server
def test_missing_database_on_the_server(milvus_server, server_token, collection_name, tmp_path):
    from .helpers import Backend

    backend = Backend("server", milvus_server.uri, {"mode": "token", "token": server_token}, server_token)
    config = make_config(backend, collection_name, indexing={"db": "no_such_db"})
    message = status(run_connector("check", tmp_path, config))["message"]
    assert "database 'no_such_db' does not exist" in message


def test_unreachable_host_fails_fast(tmp_path, collection_name):
    import time

    from .helpers import Backend

    backend = Backend("server", "http://127.0.0.1:1", {"mode": "no_auth"}, None)
    started = time.monotonic()
    message = status(run_connector("check", tmp_path, make_config(backend, collection_name)))["message"]
    assert "unreachable" in message and "127.0.0.1:1" in message
    assert time.monotonic() - started < 30
