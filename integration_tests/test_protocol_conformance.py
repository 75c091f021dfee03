"""Airbyte protocol conformance of the process as the platform runs it.

Every stdout line of `spec`, `check` and `write` (successful and failing) must load with the CDK's
`AirbyteMessageSerializer`; logs reach the platform only as LOG messages (stderr stays empty, so
no library prints around the protocol); exit codes follow the CDK: 0 when the command ran (a
`check` that reports FAILED included), non-zero when it raised, with a TRACE error saying why.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from airbyte_cdk.models import (AirbyteMessage, AirbyteMessageSerializer, FailureType, Status, TraceType,
                                Type)

from .helpers import Run, catalog, make_config, record, run_connector, state

SAMPLE = Path(__file__).resolve().parent.parent / "destination_milvus_zendesk" / "sample_data"


def protocol(run: Run) -> list[AirbyteMessage]:
    """Each stdout line through the CDK's own deserializer; stderr must be silent."""
    messages = []
    for number, line in enumerate(run.stdout.splitlines(), 1):
        assert line.strip(), f"blank stdout line {number}"
        try:
            messages.append(AirbyteMessageSerializer.load(json.loads(line)))
        except Exception as exc:  # noqa: BLE001 - report which line and why
            raise AssertionError(f"stdout line {number} is not an Airbyte message ({exc}): {line[:300]}") from None
    assert run.stderr.strip() == "", f"output outside the protocol (stderr): {run.stderr[:1500]}"
    return messages


def of(messages: list[AirbyteMessage], kind: Type) -> list[AirbyteMessage]:
    return [m for m in messages if m.type == kind]


def error_traces(messages: list[AirbyteMessage]):
    return [m.trace.error for m in of(messages, Type.TRACE) if m.trace.type == TraceType.ERROR]


def sample_lines(n_records: int) -> list[str]:
    """The bundled Zendesk sample's first tickets and articles (2:1), each stream closed by a STATE."""
    lines = [json.loads(line) for line in (SAMPLE / "zendesk_sample.jsonl").read_text("utf-8").splitlines()]
    n_articles = n_records // 3
    out = []
    for stream, n in (("tickets", n_records - n_articles), ("articles", n_articles)):
        out += [json.dumps(m) for m in lines if m["type"] == "RECORD" and m["record"]["stream"] == stream][:n]
        out.append(json.dumps(state(stream, "2025-01-01T00:00:00Z")))
    return out


def test_spec(tmp_path):
    run = run_connector("spec", tmp_path)
    messages = protocol(run)
    assert run.returncode == 0
    assert [m.type for m in messages] == [Type.SPEC]
    spec = messages[0].spec
    assert spec.connectionSpecification["required"] == ["embedding", "indexing"]
    assert {m.value for m in spec.supported_destination_sync_modes} == {"append", "append_dedup", "overwrite"}


def test_check_succeeds_offline_with_the_local_model(tmp_path):
    """Milvus Lite + the packaged local model: nothing they load may print to stdout or stderr."""
    config = make_config(_lite(tmp_path), "zendesk", embedding={"mode": "local"}, create=True)
    run = run_connector("check", tmp_path, config)
    messages = protocol(run)
    assert run.returncode == 0
    [status] = of(messages, Type.CONNECTION_STATUS)
    assert status.connectionStatus.status == Status.SUCCEEDED, status.connectionStatus.message


def test_check_reports_failures_as_status_with_exit_0(backend, collection_name, tmp_path):
    run = run_connector("check", tmp_path, make_config(backend, collection_name))
    messages = protocol(run)
    assert run.returncode == 0
    [status] = of(messages, Type.CONNECTION_STATUS)
    assert status.connectionStatus.status == Status.FAILED
    assert "does not exist" in status.connectionStatus.message


def test_check_of_a_config_that_breaks_the_spec(tmp_path):
    config = make_config(_lite(tmp_path), "zendesk", create=True, processing={"chunk_size": "a thousand"})
    run = run_connector("check", tmp_path, config)
    messages = protocol(run)
    assert run.returncode == 0
    [status] = of(messages, Type.CONNECTION_STATUS)
    assert status.connectionStatus.status == Status.FAILED


@pytest.mark.parametrize("embedding", ["fake", "local"])
def test_write_success(backend, collection_name, tmp_path, embedding):
    if backend.name == "server" and embedding == "local":
        pytest.skip("the local model is covered on Lite; the server run uses the fake embedder")
    config = make_config(backend, collection_name, embedding={"mode": embedding}, create=True)
    run = run_connector("write", tmp_path, config, catalog(), sample_lines(12))
    messages = protocol(run)
    assert run.returncode == 0, run.stdout[-2000:]
    states = of(messages, Type.STATE)
    assert len(states) == 2 and sum(s.state.destinationStats.recordCount for s in states) == 12
    assert not error_traces(messages)
    assert {m.type for m in messages} <= {Type.LOG, Type.STATE}
    assert any("done: 12 records" in m.log.message for m in of(messages, Type.LOG))


def test_failing_write_bad_input_line(backend, collection_name, tmp_path):
    """Records before the broken line are stored and their STATE released; then a TRACE, exit 1."""
    config = make_config(backend, collection_name, create=True)
    lines = sample_lines(5) + ['{"type": "RECORD", "record": {"stream": "tickets", "data": {"id": 1}']
    run = run_connector("write", tmp_path, config, catalog(), lines)
    messages = protocol(run)
    assert run.returncode != 0
    assert len(of(messages, Type.STATE)) == 2  # both streams' states precede the broken line
    [error] = error_traces(messages)
    assert error.failure_type == FailureType.system_error
    assert "is not valid JSON" in error.message and f"Line {len(lines)}" in error.message


def test_failing_write_missing_collection_is_a_config_error(backend, collection_name, tmp_path):
    with backend.connect():  # the database exists (a missing Lite file has its own message): the collection does not
        pass
    run = run_connector("write", tmp_path, make_config(backend, collection_name), catalog(),
                        [record("tickets", {"id": 1, "subject": "x"})])
    messages = protocol(run)
    assert run.returncode != 0
    [error] = error_traces(messages)
    assert error.failure_type == FailureType.config_error
    assert f"Collection '{collection_name}' does not exist" in error.message
    assert not of(messages, Type.STATE)


def test_failing_write_with_a_config_that_breaks_the_spec(tmp_path):
    config = make_config(_lite(tmp_path), "zendesk", create=True)
    del config["indexing"]["collection"]
    run = run_connector("write", tmp_path, config, catalog(), [record("tickets", {"id": 1, "subject": "x"})])
    messages = protocol(run)
    assert run.returncode != 0
    [error] = error_traces(messages)
    assert error.failure_type == FailureType.config_error


def test_failing_write_unknown_stream(tmp_path):
    config = make_config(_lite(tmp_path), "zendesk", create=True)
    run = run_connector("write", tmp_path, config, catalog(streams=["tickets"]),
                        [record("users", {"id": 1, "name": "x"})])
    messages = protocol(run)
    assert run.returncode != 0
    [error] = error_traces(messages)
    assert "not in the configured catalog" in error.message


def test_bad_command_line_prints_nothing_on_stdout(tmp_path):
    run = run_connector("read", tmp_path)  # a destination has no read
    assert run.returncode != 0 and run.stdout == ""


def _lite(tmp_path):
    from .helpers import Backend

    return Backend("lite", str(tmp_path / "milvus.db"), {"mode": "no_auth"}, None)
