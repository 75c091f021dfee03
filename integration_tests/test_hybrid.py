"""Hybrid retrieval on both backends: Milvus Lite gets the BM25 field and the lookups find candidates
by fused dense and full-text search; milvus-server 2.3.5 has no BM25, so the collection stays dense and
every answer (and check) says so. On both, `--calibrate` stores the model's rule with the collection
and the verdicts use it."""

from __future__ import annotations

import json
import subprocess
import sys

from .helpers import REPO, catalog, make_config, record, run_connector

ERROR_CODE = "ERR_LEDGER_4711"
TICKETS = [
    {"id": 1, "organization_id": 5, "status": "new", "subject": "Export fails",
     "description": f"The nightly ledger export stops with {ERROR_CODE} after a few minutes."},
    {"id": 2, "organization_id": 5, "status": "open", "subject": "Export is slow",
     "description": "The nightly ledger export takes hours and sometimes stops after a few minutes."},
    {"id": 3, "organization_id": 5, "status": "new", "subject": "Invoice address",
     "description": "Please change the billing address on our invoices."},
    {"id": 4, "organization_id": 6, "status": "new", "subject": "Export fails",  # another organization
     "description": f"The nightly ledger export stops with {ERROR_CODE} after a few minutes."},
    {"id": 5, "organization_id": 5, "status": "solved", "subject": "Export fails",  # solved: a decoy
     "description": f"Our export stopped with {ERROR_CODE} last year."},
]
CASE = f"Our nightly ledger export stops with {ERROR_CODE} after a few minutes."
ARTICLES = [{"id": 90, "title": "Ledger export errors", "body": f"<p>{ERROR_CODE}: the export token expired.</p>",
             "html_url": "https://help.example.com/90"}]


def sync(backend, collection, tmp_path, **indexing):
    config = make_config(backend, collection, create=True, indexing=indexing)
    lines = [record("tickets", t) for t in TICKETS] + [record("articles", a) for a in ARTICLES]
    run = run_connector("write", tmp_path, config, catalog(), lines)
    assert run.returncode == 0, run.stderr[-2000:]
    return config


def ask(config, tmp_path, text, org, *extra):
    path = tmp_path / "query-config.json"
    path.write_text(json.dumps(config))
    out = subprocess.run([sys.executable, "-m", "destination_milvus_zendesk.query", text, "--org", str(org), "--json",
                          "--config", str(path), *extra], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    return json.loads(out.stdout)


def calibrate(config, tmp_path):
    path = tmp_path / "query-config.json"
    path.write_text(json.dumps(config))
    out = subprocess.run([sys.executable, "-m", "destination_milvus_zendesk.query", "--calibrate", "--config", str(path),
                          "--json"], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    return json.loads(out.stdout)


def check_message(config, tmp_path):
    [status] = run_connector("check", tmp_path, config).of_type("CONNECTION_STATUS")
    assert status["connectionStatus"]["status"] == "SUCCEEDED", status
    return status["connectionStatus"]["message"]


def test_lite_collection_gets_bm25_and_lookups_are_hybrid(tmp_path):
    from .helpers import Backend

    backend = Backend("lite", str(tmp_path / "hybrid.db"), {"mode": "no_auth"}, None)
    config = sync(backend, "zendesk", tmp_path)
    with backend.connect() as client:
        description = client.describe_collection("zendesk")
        [function] = description["functions"]
        assert client.list_collections() == ["zendesk"]  # the capability probe is gone
        assert function["output_field_names"] == ["_ab_bm25"] and function["input_field_names"] == ["text"]
        client.load_collection("zendesk")
        stored = client.query("zendesk", filter='_ab_stream == "tickets"', output_fields=["_ab_bm25", "id"], limit=10)
        assert len(stored) == len(TICKETS) and all(row["_ab_bm25"] for row in stored)  # Milvus filled it
    message = check_message(config, tmp_path)
    assert "Retrieval: hybrid" in message and "--calibrate" in message  # not calibrated yet: check says how
    assert calibrate(config, tmp_path)["model"] == "fake:hashing:1536"
    assert "decided by the rule calibrated for this model" in check_message(config, tmp_path)

    answer = ask(config, tmp_path, CASE, 5)
    assert answer["retrieval"] == "hybrid" and answer["rule"]["model"] == "fake:hashing:1536"
    top = answer["tickets"][0]
    assert top["id"] == 1 and top["verdict"] == "same" and top["fused"] is not None  # the exact term wins
    assert f"same error code {ERROR_CODE}" in top["reasons"]
    lookalike = [t for t in answer["tickets"] if t["id"] == 2]
    assert not lookalike or (lookalike[0]["verdict"] == "related"
                             and f"the ticket does not mention error code {ERROR_CODE}" in lookalike[0]["reasons"])
    assert {t["id"] for t in answer["tickets"]} <= {1, 2, 3}  # never the other org's #4 nor the solved #5
    assert answer["articles"][0]["id"] == 90

    dense = ask(config, tmp_path, CASE, 5, "--retrieval", "dense")
    assert dense["retrieval"] == "dense" and dense["tickets"][0]["fused"] is None
    assert (dense["tickets"][0]["id"], dense["tickets"][0]["verdict"]) == (1, "same")


def test_lite_collection_without_full_text_when_switched_off(tmp_path):
    """`indexing.full_text_search: false`: the BM25 field costs memory; a user may want dense only."""
    from .helpers import Backend

    backend = Backend("lite", str(tmp_path / "dense.db"), {"mode": "no_auth"}, None)
    config = sync(backend, "zendesk", tmp_path, full_text_search=False)
    with backend.connect() as client:
        description = client.describe_collection("zendesk")
        assert not description["functions"] and "_ab_bm25" not in {f["name"] for f in description["fields"]}
    assert "Retrieval: dense vectors only" in check_message(config, tmp_path)
    assert ask(config, tmp_path, f"{ERROR_CODE} again", 5)["retrieval"] == "dense"


def test_server_2_3_has_no_bm25_so_the_collection_is_dense_and_says_so(tmp_path, milvus_server, server_token,
                                                                       collection_name):
    from .helpers import Backend

    backend = Backend("server", milvus_server.uri, {"mode": "token", "token": server_token}, server_token)
    _server_is_dense(backend, collection_name, tmp_path)


def _server_is_dense(backend, collection_name, tmp_path):
    config = sync(backend, collection_name, tmp_path)
    with backend.connect() as client:
        description = client.describe_collection(collection_name)
        assert not description["functions"]
        assert "_ab_bm25" not in {f["name"] for f in description["fields"]}  # recreated without the sparse field
        assert client.list_collections().count(collection_name) == 1
        # the capability probe used a throwaway collection, gone again; the real name was created once
        # (creating, dropping and creating it again let a load reach the dropped sparse schema: 2.3.5 aborted)
        assert not [c for c in client.list_collections() if c.startswith("dmz_bm25_probe_")]
    assert "Retrieval: dense vectors only" in check_message(config, tmp_path)
    calibrate(config, tmp_path)  # the rule is a collection property on a 2.3 server too

    answer = ask(config, tmp_path, CASE, 5)
    assert answer["retrieval"] == "dense" and answer["rule"]["origin"].startswith("the rule calibrated")
    assert all(t["fused"] is None for t in answer["tickets"] + answer["articles"])
    assert (answer["tickets"][0]["id"], answer["tickets"][0]["verdict"]) == (1, "same")
    text = subprocess.run([sys.executable, "-m", "destination_milvus_zendesk.query", CASE, "--org",
                           "5", "--config", str(tmp_path / "query-config.json")], capture_output=True, text=True,
                          cwd=REPO, timeout=120).stdout
    assert text.startswith("Very likely the same problem as an unsolved ticket of organization 5")
