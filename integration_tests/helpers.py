"""Plain helpers the integration tests share: the test credentials, a backend's client, connector
configs and Airbyte messages, and running the connector as the platform does (a process reading
stdin and writing Airbyte messages to stdout). Fixtures are in conftest.py; test modules import from
here (or the subject helpers: reliability, docker_image, fuzz_cases, acceptance_configs), never from
each other."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

from airbyte_cdk.models import AirbyteMessage, AirbyteRecordMessage, ConfiguredAirbyteCatalogSerializer, Type
from pymilvus import MilvusClient

from destination_milvus_zendesk.config import parse_config
from destination_milvus_zendesk.destination import DestinationMilvusZendesk
from destination_milvus_zendesk.embedding.local import FakeEmbedder
from destination_milvus_zendesk.milvus import MilvusStore
from destination_milvus_zendesk.support.calibration import run_calibration

REPO = Path(__file__).resolve().parent.parent
TEST_OPENAI_KEY = "sk-test-SECRET-0123456789abcdef"
TEST_MILVUS_USER = "dmz_tester"
TEST_MILVUS_PASSWORD = "Pw-SECRET-5f3a9c71"
SECRETS = [TEST_OPENAI_KEY, TEST_MILVUS_PASSWORD]  # scanned for in every connector run's output


@dataclass
class Backend:
    name: str
    host: str
    auth: dict[str, Any]
    token: str | None

    @contextlib.contextmanager
    def connect(self) -> Iterator[MilvusClient]:
        """A client for the test's own reads/writes; a Lite file is released afterwards, since
        Milvus Lite serves one process at a time and the connector runs in another."""
        client = MilvusClient(uri=self.host, token=self.token) if self.token else MilvusClient(uri=self.host)
        try:
            yield client
        finally:
            client.close()
            if self.name == "lite":
                from milvus_lite.server_manager import server_manager_instance

                server_manager_instance.release_server(self.host)


def make_config(backend: Backend, collection: str, *, embedding: dict | None = None, openai: Any = None,
                create: bool = False, **extra: Any) -> dict[str, Any]:
    if embedding is None:
        embedding = {"mode": "openai_compatible", "api_key": TEST_OPENAI_KEY, "base_url": openai.base_url,
                     "model_name": "text-embedding-ada-002", "dimensions": 1536} if openai else {"mode": "fake"}
    processing = {"chunk_size": 1000, "text_fields": ["body", "title", "description", "subject"]}
    processing.update(extra.pop("processing", {}))
    return {"processing": processing, "embedding": embedding,
            "indexing": {"host": backend.host, "collection": collection, "auth": backend.auth,
                         "create_collection": create, "timeout_seconds": 10, **extra.pop("indexing", {})},
            **extra}


def catalog(mode: str = "append_dedup", streams: Iterable[str] = ("tickets", "articles"), generation: int | None = None,
            primary_key: bool = True) -> dict[str, Any]:
    entries = []
    for name in streams:
        entry = {"stream": {"name": name, "json_schema": {"type": "object"},
                            "supported_sync_modes": ["full_refresh", "incremental"]},
                 "sync_mode": "incremental" if mode != "overwrite" else "full_refresh",
                 "destination_sync_mode": mode}
        if primary_key:
            entry["primary_key"] = [["id"]]
        if generation is not None:
            entry.update(generation_id=generation, minimum_generation_id=generation, sync_id=generation)
        entries.append(entry)
    return {"streams": entries}


def record(stream: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"type": "RECORD", "record": {"stream": stream, "data": data, "emitted_at": 1700000000000}}


def state(stream: str, value: Any) -> dict[str, Any]:
    return {"type": "STATE", "state": {"type": "STREAM", "stream": {"stream_descriptor": {"name": stream},
                                                                    "stream_state": {"cursor": value}}}}


def stream_status(stream: str, status: str) -> dict[str, Any]:
    """What the platform sends a destination that supports refreshes, per stream, once the source exited 0
    (its StreamStatusCompletionTracker: COMPLETE); a source's own failure status is INCOMPLETE."""
    return {"type": "TRACE", "trace": {"type": "STREAM_STATUS", "emitted_at": 1700000000000.0, "stream_status": {
        "stream_descriptor": {"name": stream}, "status": status}}}


def complete(stream: str) -> dict[str, Any]:
    return stream_status(stream, "COMPLETE")


@dataclass
class Run:
    returncode: int
    messages: list[dict[str, Any]]
    stdout: str
    stderr: str

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["type"] == kind]

    @property
    def states(self) -> list[dict[str, Any]]:
        return [m["state"] for m in self.of_type("STATE")]

    @property
    def status(self) -> dict[str, Any]:
        [message] = self.of_type("CONNECTION_STATUS")
        return message["connectionStatus"]

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [m["trace"]["error"] for m in self.of_type("TRACE") if m["trace"].get("type") == "ERROR"]

    def logs(self, level: str | None = None) -> list[str]:
        return [m["log"]["message"] for m in self.of_type("LOG") if level is None or m["log"]["level"] == level]


def run_connector(command: str, tmp_path: Path, config: dict | None = None, catalog_: dict | None = None,
                  lines: Iterable[Any] | bytes = (), env: dict[str, str] | None = None, timeout: float = 300) -> Run:
    """Runs `python main.py <command>` like the platform; every stdout line must be an Airbyte message."""
    args = [sys.executable, str(REPO / "main.py"), command]
    if config is not None:
        path = tmp_path / f"config-{uuid.uuid4().hex[:6]}.json"
        path.write_text(json.dumps(config))
        args += ["--config", str(path)]
    if catalog_ is not None:
        path = tmp_path / f"catalog-{uuid.uuid4().hex[:6]}.json"
        path.write_text(json.dumps(catalog_))
        args += ["--catalog", str(path)]
    if isinstance(lines, bytes):
        stdin = lines
    else:
        stdin = "".join((json.dumps(x) if not isinstance(x, str) else x) + "\n" for x in lines).encode()
    proc = subprocess.run(args, input=stdin, capture_output=True, timeout=timeout,
                          env={**os.environ, **(env or {})}, cwd=tmp_path)
    stdout, stderr = proc.stdout.decode(), proc.stderr.decode()
    messages = []
    for line in stdout.splitlines():
        message = json.loads(line)  # raises: a non-protocol line on stdout is a bug
        assert message.get("type") in {"LOG", "SPEC", "CONNECTION_STATUS", "STATE", "TRACE", "CONTROL"}, line
        messages.append(message)
    for secret in SECRETS:
        assert secret not in stdout and secret not in stderr, f"secret leaked: {secret[:6]}..."
    return Run(proc.returncode, messages, stdout, stderr)


def backend_named(name: str, request: Any, tmp_path: Path) -> Backend:
    """"lite": a Lite file of the test's own; "server": the session's authenticated server."""
    if name == "lite":
        return Backend("lite", str(tmp_path / "milvus.db"), {"mode": "no_auth"}, None)
    server = request.getfixturevalue("milvus_server")
    token = request.getfixturevalue("server_token")
    return Backend("server", server.uri, {"mode": "token", "token": token}, token)


def rows(backend: Backend, collection: str, expr: str = "", fields: list[str] | None = None) -> list[dict[str, Any]]:
    with backend.connect() as client:
        client.load_collection(collection)
        return client.query(collection, filter=expr or "_ab_chunk >= 0", output_fields=fields or ["*"],
                            consistency_level="Strong", limit=16384)


# --- the support form's test collection (the AppTest and browser suites) --------------------------------------------

LOGIN = "I reset my password yesterday and now the login page says my credentials are invalid."
NEAR_COPY = "Cannot log in after password reset. " + LOGIN.replace("yesterday", "this morning")
CALENDAR = "Our shared team calendar stopped syncing with Outlook on Monday; events created since then are missing."
ARTICLE_QUERY = "How do I set up two-factor authentication with an authenticator app?"
TICKETS = [
    {"id": 101, "organization_id": 1, "status": "new", "subject": "Cannot log in after password reset",
     "description": LOGIN, "url": "https://acme.zendesk.com/api/v2/tickets/101.json",
     "updated_at": "2024-05-02T10:00:00Z"},
    {"id": 102, "organization_id": 1, "status": "open", "subject": "Invoice shows the wrong VAT number",
     "description": "Our March invoice lists an old VAT number, please correct it."},
    {"id": 201, "organization_id": 2, "status": "solved", "subject": "Password reset broke my login",
     "description": LOGIN},
    {"id": 203, "organization_id": 2, "status": "pending", "subject": "Calendar sync stopped",
     "description": CALENDAR},
    {"id": 202, "organization_id": 2, "status": "new", "subject": "Export to CSV times out",
     "description": "Exporting the full report to CSV never finishes and the page times out."},
]
ARTICLES = [
    {"id": 901, "title": "Set up two-factor authentication",
     "body": "<p>Two-factor authentication with an authenticator app: open <b>Settings</b>, choose Security, "
             "scan the QR code with your authenticator app and enter the code.</p>",
     "html_url": "https://help.example.com/hc/articles/901"},
    {"id": 902, "title": "Download your invoices",
     "body": "<p>Invoices are under Billing, then History. Each invoice can be downloaded as a PDF.</p>",
     "html_url": "https://help.example.com/hc/articles/902"},
]


def connector_config(host: str, **indexing: object) -> dict:
    return {"embedding": {"mode": "fake"},
            "indexing": {"host": host, "collection": "zendesk", "create_collection": True, **indexing},
            "processing": {"chunk_size": 1000, "text_fields": ["body", "title", "description", "subject"]}}


def write_collection(config: dict) -> None:
    streams = [{"stream": {"name": name, "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
                "sync_mode": "full_refresh", "destination_sync_mode": "overwrite", "primary_key": [["id"]]}
               for name in ("tickets", "articles")]
    catalog = ConfiguredAirbyteCatalogSerializer.load({"streams": streams})
    now = int(time.time() * 1000)
    messages = [AirbyteMessage(type=Type.RECORD, record=AirbyteRecordMessage(stream=stream, data=data, emitted_at=now))
                for stream, records in (("tickets", TICKETS), ("articles", ARTICLES)) for data in records]
    for _ in DestinationMilvusZendesk().write(config, catalog, iter(messages)):
        pass


def calibrate(config: dict) -> None:
    """The collection's rule for the hashing embedder, as `query --calibrate` stores it."""
    parsed = parse_config(config)
    store = MilvusStore(parsed.indexing)
    store.connect(create=False)
    try:
        store.describe()
        run_calibration(parsed, store, FakeEmbedder())
    finally:
        store.close()


def calibrated_collection(folder: Path) -> Path:
    """The test collection written and calibrated in `folder`; the path of its config file."""
    config = connector_config(str(folder / "zendesk.db"))
    write_collection(config)
    calibrate(config)
    path = folder / "config.json"
    path.write_text(json.dumps(config))
    return path
