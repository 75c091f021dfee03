"""Configuration mistakes and weak hints become one actionable line, never a traceback (issue 12, 4 and 7).

Each case runs `main.py` as the platform does; run_connector also fails on any non-protocol stdout line.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from destination_milvus_zendesk.config import parse_config
from destination_milvus_zendesk.errors import ConfigError

from .helpers import REPO, run_connector

LITE = {"processing": {"chunk_size": 1000, "text_fields": ["body", "title", "description", "subject"]},
        "embedding": {"mode": "fake"}}


def lite_config(host: Path, create: bool = True, embedding: dict | None = None) -> dict:
    return {**LITE, "embedding": embedding or LITE["embedding"],
            "indexing": {"host": str(host), "collection": "zendesk", "create_collection": create}}


def catalog(stream: str = "tickets") -> dict:
    return {"streams": [{"stream": {"name": stream, "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
                         "sync_mode": "full_refresh", "destination_sync_mode": "append"}]}


def no_traceback(run) -> None:
    assert "Traceback" not in run.stdout and "Traceback" not in run.stderr, (run.stdout + run.stderr)[-2000:]
    assert not [m for m in run.messages if m["type"] == "LOG" and m["log"]["level"] == "FATAL"]


def connection_status(run) -> dict:
    statuses = [m["connectionStatus"] for m in run.messages if m["type"] == "CONNECTION_STATUS"]
    assert len(statuses) == 1, run.stdout[-2000:]
    return statuses[0]


def test_empty_openai_key_in_check_names_the_field(tmp_path: Path) -> None:
    config = lite_config(tmp_path / "z.db", embedding={"mode": "openai", "openai_key": ""})
    run = run_connector("check", tmp_path, config)
    no_traceback(run)
    assert connection_status(run) == {"status": "FAILED", "message": "embedding.openai_key is empty: set it to your "
                                                                     "OpenAI API key."}


def test_missing_key_is_reported_at_the_configs_own_path() -> None:
    raw = lite_config(Path("x.db"), embedding={"mode": "openai"})
    with pytest.raises(ConfigError) as caught:
        parse_config(raw)
    assert caught.value.message == ("Invalid configuration at 'embedding.openai_key': Field required: add "
                                    "'openai_key' to the 'embedding' object.")
    raw = {**lite_config(Path("x.db")), "indexing": {"host": "x.db", "collection": "z", "auth": {"mode": "token"}}}
    with pytest.raises(ConfigError, match="at 'indexing.auth.token'"):
        parse_config(raw)


@pytest.mark.parametrize("command", ["check", "write"])
def test_malformed_json_config_is_one_line(tmp_path: Path, command: str) -> None:
    path = tmp_path / "config.json"
    path.write_text('{"embedding": {"mode": "local"},, }')
    args = [sys.executable, str(REPO / "main.py"), command, "--config", str(path)]
    if command == "write":
        (tmp_path / "catalog.json").write_text(json.dumps(catalog()))
        args += ["--catalog", str(tmp_path / "catalog.json")]
    proc = subprocess.run(args, input=b"", capture_output=True, timeout=120, cwd=tmp_path)
    lines = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert b"Traceback" not in proc.stdout + proc.stderr
    message = (f"The configuration file {str(path)!r} is not valid JSON (line 1 column 33: Expecting property name "
               "enclosed in double quotes): fix the file.")
    if command == "check":
        assert proc.returncode == 0
        assert lines == [{"type": "CONNECTION_STATUS", "connectionStatus": {"status": "FAILED", "message": message}}]
    else:
        assert proc.returncode == 1
        assert [m["trace"]["error"]["message"] for m in lines if m["type"] == "TRACE"] == [message]
        assert [m["trace"]["error"]["failure_type"] for m in lines if m["type"] == "TRACE"] == ["config_error"]
        assert not [m for m in lines if m["type"] == "LOG" and m["log"]["level"] == "FATAL"]


def test_check_does_not_create_a_lite_file_from_a_typo(tmp_path: Path) -> None:
    typo = tmp_path / "zendsk.db"
    run = run_connector("check", tmp_path, lite_config(typo, create=False))
    no_traceback(run)
    assert connection_status(run) == {"status": "FAILED", "message": (
        f"Milvus Lite database {str(typo)!r} does not exist: check indexing.host (a sync with "
        "indexing.create_collection on creates it).")}
    assert not typo.exists()
    run = run_connector("check", tmp_path, lite_config(typo, create=True))
    status = connection_status(run)
    assert status["status"] == "SUCCEEDED" and "does not exist yet: the first sync creates it" in status["message"]
    assert not typo.exists(), "check never creates the database"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_refused_embedding_endpoint_on_first_request_fails_fast_naming_the_url(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    config = {**lite_config(tmp_path / "z.db", embedding={"mode": "openai_compatible", "base_url": url,
                                                             "dimensions": 8}),
              "embedding_max_retries": 8}
    record = {"type": "RECORD", "record": {"stream": "tickets", "data": {"id": 1, "subject": "Login broken"},
                                           "emitted_at": 1}}
    started = time.monotonic()
    run = run_connector("write", tmp_path, config, catalog(), [record])
    elapsed = time.monotonic() - started
    errors = [m["trace"]["error"] for m in run.messages if m["type"] == "TRACE"]
    assert run.returncode != 0 and len(errors) == 1, run.stdout[-2000:]
    assert errors[0]["failure_type"] == "config_error"
    assert f"endpoint {url}" in errors[0]["message"] and "refuses connections" in errors[0]["message"]
    assert elapsed < 20, f"{elapsed:.1f}s: the retries are for failures after the endpoint once answered"


# --- 7. hints ---------------------------------------------------------------------------------------------------


def test_schema_error_names_the_missing_field(tmp_path: Path) -> None:
    run = run_connector("write", tmp_path, lite_config(tmp_path / "z.db"), catalog(),
                        [{"type": "RECORD", "record": {"stream": "tickets", "data": {"id": 1}}}])
    errors = [m["trace"]["error"]["message"] for m in run.messages if m["type"] == "TRACE"]
    assert len(errors) == 1 and errors[0].startswith("Line 1 of the input is not an Airbyte message "
                                                     "(SchemaValidationError: "), errors
    assert '"emitted_at" is a required property' in errors[0], errors[0]


def test_stream_without_text_fields_ends_with_a_summary_warning(tmp_path: Path) -> None:
    records = [{"type": "RECORD", "record": {"stream": "users", "data": {"id": i, "name": "Ann", "email": "a@b.c"},
                                             "emitted_at": 1}} for i in range(3)]
    run = run_connector("write", tmp_path, lite_config(tmp_path / "z.db"), catalog("users"), records)
    assert run.returncode == 0
    warnings = [m["log"]["message"] for m in run.messages if m["type"] == "LOG" and m["log"]["level"] == "WARN"]
    assert warnings[-1] == ("stream 'users': none of its 3 records has text in the text fields (body, title, "
                            "description, subject), so nothing of it was stored. Its records have the fields id, name, "
                            "email: set processing.text_fields to the ones to embed."), warnings
