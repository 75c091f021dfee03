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
    assert caught.value.message == ("Invalid configuration at 'embedding.openai_key': required: add "
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


# --- one line for every mistake a new user makes -----------------------------------------------------------------


def known_failure(run) -> dict:
    """A known failure of `write`: exit 1, one TRACE error without a stack trace, no FATAL log, no traceback."""
    no_traceback(run)
    errors = [m["trace"]["error"] for m in run.messages if m["type"] == "TRACE"]
    assert run.returncode == 1 and len(errors) == 1, run.stdout[-2000:]
    assert not errors[0].get("stack_trace"), errors[0]
    assert "\n" not in errors[0]["message"]
    return errors[0]


def test_missing_catalog_file_is_one_config_error_line(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps(lite_config(tmp_path / "z.db")))
    proc = subprocess.run([sys.executable, str(REPO / "main.py"), "write", "--config", str(config), "--catalog",
                           str(tmp_path / "nope.json")], input=b"", capture_output=True, timeout=120, cwd=tmp_path)
    messages = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    run = type("Run", (), {"returncode": proc.returncode, "messages": messages, "stdout": proc.stdout.decode(),
                           "stderr": proc.stderr.decode()})
    error = known_failure(run)
    assert error["failure_type"] == "config_error"
    assert error["message"] == f"Cannot read the catalog file {str(tmp_path / 'nope.json')!r}: No such file or directory."


def test_catalog_that_is_not_a_catalog_is_one_line(tmp_path: Path) -> None:
    run = run_connector("write", tmp_path, lite_config(tmp_path / "z.db"), {"streams": [{"name": "tickets"}]})
    error = known_failure(run)
    assert error["failure_type"] == "config_error"
    assert "is not a configured Airbyte catalog" in error["message"]


def test_a_known_write_failure_has_no_traceback_anywhere(tmp_path: Path) -> None:
    run = run_connector("write", tmp_path, lite_config(tmp_path / "absent.db", create=False), catalog(), [])
    error = known_failure(run)
    assert error["failure_type"] == "config_error" and "does not exist" in error["message"]
    assert [m["log"]["message"] for m in run.messages if m["type"] == "LOG" and m["log"]["level"] == "ERROR"] == \
        [error["message"]]


@pytest.mark.parametrize("processing, indexing, message", [
    ({"chunk_sise": 500}, {}, "unknown key 'processing.chunk_sise' (did you mean 'chunk_size'?)"),
    ({}, {"create_colection": True}, "unknown key 'indexing.create_colection' (did you mean 'create_collection'?)"),
])
def test_misspelled_optional_keys_fail_check_with_did_you_mean(tmp_path: Path, processing, indexing,
                                                                message) -> None:
    config = json.loads(json.dumps(lite_config(tmp_path / "z.db")))  # a deep copy: LITE is shared
    config["processing"].update(processing)
    config["indexing"].update(indexing)
    status = connection_status(run_connector("check", tmp_path, config))
    assert status["status"] == "FAILED" and message in status["message"], status


def test_unknown_key_without_a_near_match_is_a_warning_not_a_failure(tmp_path: Path) -> None:
    config = lite_config(tmp_path / "z.db")
    config["indexing"]["x_team_note"] = "ours"
    status = connection_status(run_connector("check", tmp_path, config))
    assert status["status"] == "SUCCEEDED"
    assert "Ignored unknown configuration key 'indexing.x_team_note'" in status["message"], status


def test_misspelled_required_key_names_its_path_in_check_as_in_query(tmp_path: Path) -> None:
    config = lite_config(tmp_path / "z.db")
    config["indexing"]["hots"] = config["indexing"].pop("host")
    status = connection_status(run_connector("check", tmp_path, config))
    assert status == {"status": "FAILED", "message": "Invalid configuration at 'indexing.host': missing, but the "
                                                      "config has 'indexing.hots': did you mean 'host'?"}
    path = tmp_path / "hots.json"
    path.write_text(json.dumps(config))
    query = subprocess.run([sys.executable, "-m", "destination_milvus_zendesk.query", "text", "--org", "1",
                            "--config", str(path)], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert query.returncode == 2 and query.stderr.strip() == f"error: {status['message']}"


def test_an_unknown_mode_lists_the_allowed_ones(tmp_path: Path) -> None:
    status = connection_status(run_connector("check", tmp_path, lite_config(tmp_path / "z.db",
                                                                           embedding={"mode": "locl"})))
    assert status["status"] == "FAILED"
    assert status["message"] == ("Invalid configuration at 'embedding.mode': 'locl' is not a mode; use one of openai, "
                                 "azure_openai, openai_compatible, cohere, fake, from_field, local (did you mean "
                                 "'local'?).")


@pytest.mark.parametrize("host, suggestion", [("localhost:19530", "'http://localhost:19530'"),
                                              ("./demo-data/zendesk", "'./demo-data/zendesk.db'")])
def test_a_host_that_is_neither_url_nor_lite_file_says_what_was_meant(tmp_path: Path, host: str,
                                                                      suggestion: str) -> None:
    config = lite_config(tmp_path / "unused.db")
    config["indexing"] = {**config["indexing"], "host": host}
    status = connection_status(run_connector("check", tmp_path, config))
    assert status["status"] == "FAILED" and suggestion in status["message"], status
    assert "does not exist" not in status["message"]
    assert not list(tmp_path.glob("**/*.db")), "nothing created"


def test_relative_lite_path_is_shown_resolved_in_check_and_write(tmp_path: Path) -> None:
    config = lite_config(Path("data/zendesk.db"))  # relative: run_connector works in tmp_path
    status = connection_status(run_connector("check", tmp_path, config))
    assert status["status"] == "SUCCEEDED" and repr(str(tmp_path / "data" / "zendesk.db")) in status["message"]
    config["indexing"]["create_collection"] = False
    error = known_failure(run_connector("write", tmp_path, config, catalog(), []))
    assert repr(str(tmp_path / "data" / "zendesk.db")) in error["message"]


def test_empty_input_to_write_says_nothing_was_read(tmp_path: Path) -> None:
    run = run_connector("write", tmp_path, lite_config(tmp_path / "z.db"), catalog(), b"")
    assert run.returncode == 0
    warnings = [m["log"]["message"] for m in run.messages if m["type"] == "LOG" and m["log"]["level"] == "WARN"]
    assert any(w.startswith("The input was empty: no Airbyte message was read from standard input") for w in warnings)
