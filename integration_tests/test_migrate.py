"""migrate on both backends: the tutorial's collection copied into one the connector creates without
a single embedding request; later syncs into the copy deduplicate exactly as into a collection the
connector created itself; a copy killed with SIGKILL continues on the next run without duplicates;
refusals are one line; check and the query CLI advise the command once for large collections whose
filters scan every row (the threshold lowered through its environment variable)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from destination_milvus_zendesk.migration.shape import ADVICE_ROWS_ENV
from test_support.tutorial_collection import create_tutorial_collection, fill_tutorial_collection

from .helpers import REPO, SECRETS, catalog, make_config, record, rows, run_connector, state

MIGRATE = [sys.executable, "-m", "destination_milvus_zendesk.migrate"]
LONG = "\n\n".join(f"Paragraph {i}: the export job stalls at {i}% when the CSV contains quoted newlines. " * 6
                   for i in range(40))  # several 1000-token chunks
# what a row must keep through the copy and the later syncs (write ids and tags differ per run)
COMPARED = ("id", "_ab_record_id", "_ab_chunk", "_ab_stream", "_ab_hash", "text", "status", "organization_id", "_id",
            "subject", "description", "title", "tags", "via")


def ticket(i: int, org: int = 1, status: str = "new", description: str | None = None) -> dict[str, Any]:
    return {"id": i, "subject": f"Ticket {i} about invoices", "status": status, "organization_id": org,
            "description": description or f"Customer {i} cannot download invoice number {i * 7}.",
            "tags": ["billing"], "via": {"channel": "email"}}


def article(i: int, body: str = "<p>Go to <b>Billing</b> &gt; Invoices.</p>") -> dict[str, Any]:
    return {"id": 1000 + i, "title": f"Article {i}", "body": body, "html_url": f"https://help.example.com/a/{i}"}


FIRST = ([record("tickets", ticket(i, org=1 + i % 2)) for i in range(1, 11)]
         + [record("tickets", ticket(11, description=LONG)), state("tickets", 1),
            record("articles", article(1)), record("articles", article(2, body="<p>" + LONG + "</p>")),
            state("articles", 1)])
SECOND = [record("tickets", ticket(11, description="Now short.")),  # shrinks from several chunks to one
          record("tickets", ticket(3, status="solved")),  # metadata only: no embedding
          record("tickets", {**ticket(4), "_ab_cdc_deleted_at": "2024-05-01T00:00:00Z"}),
          record("tickets", ticket(12, org=2)), record("articles", article(2)), state("tickets", 2)]


def run_migrate(tmp_path: Path, config: dict[str, Any], target: str, *extra: str,
                env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    path = tmp_path / f"migrate-{uuid.uuid4().hex[:6]}.json"
    path.write_text(json.dumps(config))
    proc = subprocess.run([*MIGRATE, "--config", str(path), "--to", target, *extra], capture_output=True, text=True,
                          cwd=REPO, env={**os.environ, **(env or {})}, timeout=600)
    for secret in SECRETS:
        assert secret not in proc.stdout + proc.stderr, f"secret leaked: {secret[:6]}..."
    return proc


def comparable(found: list[dict[str, Any]]) -> dict[Any, dict[str, Any]]:
    return {row["id"]: {k: row.get(k) for k in COMPARED} for row in found}


def by_record(found: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for row in found:
        out.setdefault(row["_ab_record_id"], []).append(row)
    return out


def strong_count(backend, name: str) -> int:
    with backend.connect() as client:
        client.load_collection(name)
        return client.query(name, filter="", output_fields=["count(*)"], consistency_level="Strong")[0]["count(*)"]


def test_a_copy_costs_no_tokens_and_later_syncs_dedup_as_in_a_created_collection(backend, collection_name, openai_stub,
                                                                                   tmp_path):
    copy, direct = f"{collection_name}_v2", f"{collection_name}_direct"
    with backend.connect() as client:
        create_tutorial_collection(client, collection_name)
    config = make_config(backend, collection_name, openai=openai_stub)
    assert run_connector("write", tmp_path, config, catalog(), FIRST).returncode == 0
    source = rows(backend, collection_name)
    assert len(by_record(source)["tickets_11"]) >= 3

    openai_stub.reset_stats()
    proc = run_migrate(tmp_path, config, copy, "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["rows"] == summary["copied"] == len(source) and summary["tokens"] == 0 and summary["keyed"]
    assert summary["rows_per_s"] > 0 and summary["source"] == collection_name and summary["target"] == copy
    assert openai_stub.stats()["requests"] == 0  # vectors copied, nothing embedded

    # every row as the connector writes into a collection it creates: keyed by (record, chunk), typed
    # columns filled, metadata and vectors as they were
    copied = rows(backend, copy)
    assert {r["id"] for r in copied} == {f"{r['_ab_record_id']}#{r['_ab_chunk']}" for r in source}
    sources = {f"{r['_ab_record_id']}#{r['_ab_chunk']}": r for r in source}
    for row in copied:
        origin = sources[row["id"]]
        expected = {k: origin.get(k) for k in COMPARED if k != "id"}
        if origin["_ab_stream"] == "articles":  # no status or organization: the columns' sentinels
            expected.update(status="", organization_id=-1)
        assert {k: row.get(k) for k in COMPARED if k != "id"} == expected
        assert row["vector"] == pytest.approx(origin["vector"], abs=1e-6)
    assert comparable(rows(backend, collection_name)) == comparable(source)  # the source is only read

    # the same later sync into the copy and into a collection the connector created and filled itself
    direct_config = make_config(backend, direct, openai=openai_stub, create=True)
    assert run_connector("write", tmp_path, direct_config, catalog(), FIRST).returncode == 0
    openai_stub.reset_stats()
    assert run_connector("write", tmp_path, make_config(backend, copy, openai=openai_stub), catalog(),
                         SECOND).returncode == 0
    tokens_into_copy = openai_stub.stats()["tokens"]
    openai_stub.reset_stats()
    assert run_connector("write", tmp_path, direct_config, catalog(), SECOND).returncode == 0
    assert tokens_into_copy == openai_stub.stats()["tokens"] > 0  # the copy's stored vectors are reused alike
    after = rows(backend, copy)
    assert comparable(after) == comparable(rows(backend, direct))  # 0 stale, 0 lost
    records = by_record(after)
    assert len(records["tickets_11"]) == 1 and records["tickets_11"][0]["description"] == "Now short."
    assert records["tickets_3"][0]["status"] == "solved" and "tickets_4" not in records and "tickets_12" in records
    assert len(records) == 13 and all(len(chunks) == len({r["_ab_chunk"] for r in chunks})
                                      for chunks in records.values())


def test_killed_mid_copy_the_same_command_continues_without_duplicates(backend, collection_name, tmp_path):
    copy = f"{collection_name}_v2"
    with backend.connect() as client:
        create_tutorial_collection(client, collection_name, dim=8)
        total = fill_tutorial_collection(client, collection_name, range(1, 8001), dim=8)
    config = make_config(backend, collection_name)  # migrate never embeds: the model's dimension plays no part
    path = tmp_path / "migrate.json"
    path.write_text(json.dumps(config))
    proc = subprocess.Popen([*MIGRATE, "--config", str(path), "--to", copy, "--page-rows", "20"], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert "copied 0 of" in proc.stderr.readline()  # the copy has begun
        time.sleep(1.0)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    partial = strong_count(backend, copy)
    assert 0 < partial < total, f"the kill did not land mid-copy ({partial} of {total} rows)"

    rerun = run_migrate(tmp_path, config, copy, "--json", "--page-rows", "500")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    summary = json.loads(rerun.stdout)
    assert summary["resumed"] and summary["rows"] == total and summary["copied"] < total
    copied = rows(backend, copy, fields=["id", "_ab_record_id", "_ab_chunk"]) if total <= 16384 else []
    assert len(copied) == total == len({r["id"] for r in copied})
    assert {r["id"] for r in copied} == {f"{r['_ab_record_id']}#{r['_ab_chunk']}"
                                         for r in rows(backend, collection_name, fields=["_ab_record_id", "_ab_chunk"])}
    assert strong_count(backend, collection_name) == total


def test_every_version_an_append_stream_kept_is_copied_and_a_later_dedup_sync_replaces_them(backend, collection_name,
                                                                                             tmp_path):
    copy = f"{collection_name}_v2"
    with backend.connect() as client:
        create_tutorial_collection(client, collection_name)
    config = make_config(backend, collection_name)
    versions = [record("tickets", ticket(1)), record("tickets", ticket(1, status="open")),
                record("tickets", ticket(2)), state("tickets", 1)]
    assert run_connector("write", tmp_path, config, catalog("append", ["tickets"]), versions).returncode == 0
    assert len(by_record(rows(backend, collection_name))["tickets_1"]) == 2  # same record, same chunk

    proc = run_migrate(tmp_path, config, copy, "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = json.loads(proc.stdout)
    assert (summary["rows"], summary["keyed"], summary["own_keys"]) == (3, False, 1)
    assert sorted(r["status"] for r in by_record(rows(backend, copy))["tickets_1"]) == ["new", "open"]

    latest = [record("tickets", ticket(1, status="solved")), state("tickets", 2)]
    assert run_connector("write", tmp_path, make_config(backend, copy), catalog(streams=["tickets"]),
                         latest).returncode == 0
    records = by_record(rows(backend, copy))
    assert [r["status"] for r in records["tickets_1"]] == ["solved"] and len(records["tickets_2"]) == 1


def test_refusals_are_one_line_and_change_nothing(backend, collection_name, tmp_path):
    other = f"{collection_name}_other"
    with backend.connect() as client:
        create_tutorial_collection(client, collection_name, dim=8)
        create_tutorial_collection(client, other, dim=8)
        counts = (fill_tutorial_collection(client, collection_name, range(1, 11), dim=8),
                  fill_tutorial_collection(client, other, range(1, 4), dim=8))
    config = make_config(backend, collection_name)
    proc = run_migrate(tmp_path, config, other)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith(f"error: Collection '{other}' already exists and is not a copy made by migrate")
    assert proc.stderr.count("\n") == 1
    proc = run_migrate(tmp_path, make_config(backend, "t_missing_source"), other, "--json")
    assert proc.returncode == 2
    answer = json.loads(proc.stdout)
    assert answer["kind"] == "config" and answer["error"].startswith("Collection 't_missing_source' does not exist")
    assert (strong_count(backend, collection_name), strong_count(backend, other)) == counts


def test_check_and_the_query_cli_advise_migrate_once_for_a_large_scanning_collection(backend, collection_name,
                                                                                       openai_stub, tmp_path):
    copy = f"{collection_name}_v2"
    with backend.connect() as client:
        create_tutorial_collection(client, collection_name)
        total = fill_tutorial_collection(client, collection_name, range(1, 41))
    config = make_config(backend, collection_name, openai=openai_stub)
    advice = f"Collection '{collection_name}' ({total:,} rows) stores record ids, organization ids and statuses"

    message = run_connector("check", tmp_path, config, env={ADVICE_ROWS_ENV: str(total)}).status["message"]
    assert advice in message and f"migrate --config <the connector's config file> --to {copy}`" in message
    assert "filter took" in message
    quiet = run_connector("check", tmp_path, config, env={ADVICE_ROWS_ENV: str(total + 1)}).status["message"]
    assert "migrate" not in quiet

    path = tmp_path / "query.json"
    path.write_text(json.dumps(config))
    queries = tmp_path / "queries.jsonl"
    queries.write_text("".join(json.dumps({"text": f"invoice download fails {i}", "org": 2}) + "\n" for i in range(3)))
    proc = subprocess.run([sys.executable, "-m", "destination_milvus_zendesk.query", "--batch", str(queries),
                           "--config", str(path)], capture_output=True, text=True, cwd=REPO, timeout=300,
                          env={**os.environ, ADVICE_ROWS_ENV: str(total)})
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == 3  # the answers alone on stdout
    assert proc.stderr.count("note: " + advice) == 1 and f"--config {path} --to {copy}`" in proc.stderr

    assert run_migrate(tmp_path, config, copy).returncode == 0
    migrated = make_config(backend, copy, openai=openai_stub)
    message = run_connector("check", tmp_path, migrated, env={ADVICE_ROWS_ENV: "1"}).status["message"]
    assert message.startswith("Milvus and the embedding model are ready.") and "migrate" not in message
