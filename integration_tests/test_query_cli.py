"""The query module and CLI as people use them every day (issue 12): defaults, answers, errors, locks.

The bundled Zendesk sample is synced once with the offline local model into a Milvus Lite file, as
`scripts/demo.sh` does; every CLI call is a real process, as from a shell.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pymilvus import MilvusException

from destination_milvus_zendesk.support import inputs
from destination_milvus_zendesk.support.search import SupportSearch
from destination_milvus_zendesk.config import parse_config
from destination_milvus_zendesk.errors import ConfigError
from destination_milvus_zendesk.milvus_store import MilvusStore
from devtools.sample_sync import SAMPLE, sync_sample

REPO = Path(__file__).resolve().parents[1]
DOUBLE_CHARGE = "I was charged twice this month"
ORG_DOUBLE_CHARGE = 360000105148  # open #1264 and pending #1246 "Charged twice this month", new #1268


def cli(*args: str, stdin: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "destination_milvus_zendesk.query", *args], input=stdin,
                          capture_output=True, text=True, cwd=REPO, timeout=timeout)


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled sample, written by `main.py write` with the local model into a Lite file; the config path."""
    path, proc = sync_sample(tmp_path_factory.mktemp("query_cli"), timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:]
    return path


# --- 2. statuses ------------------------------------------------------------------------------------


def test_default_statuses_are_zendesks_unsolved_set() -> None:
    assert inputs.DEFAULT_STATUSES == ("new", "open", "pending", "hold")
    assert inputs.statuses_value(["new,open,pending"]) == ["new", "open", "pending"]
    assert inputs.statuses_value("new, hold,new") == ["new", "hold"]
    with pytest.raises(inputs.QueryInputError, match="deleted"):
        inputs.statuses_value(["new,deleted"])


def test_double_charge_is_a_duplicate_by_default_and_the_tutorials_new_sees_only_new(sample_db: Path) -> None:
    default = cli(DOUBLE_CHARGE, "--org", str(ORG_DOUBLE_CHARGE), "--config", str(sample_db), "--json")
    assert default.returncode == 0, default.stderr
    answer = json.loads(default.stdout)
    assert answer["duplicate"]["id"] in (1264, 1246), answer["duplicate"]
    assert answer["statuses"] == ["new", "open", "pending", "hold"]
    # status new: the open #1264 and pending #1246 are out of reach; the new #1268 "double charge??" is
    # the same problem in other words (issue 15's example): dense misses it (distance 1.258, threshold
    # 1.25), hybrid finds it (its BM25 share for "charged twice" lowers the adjusted distance)
    tutorial = json.loads(cli(DOUBLE_CHARGE, "--org", str(ORG_DOUBLE_CHARGE), "--config", str(sample_db), "--json",
                              "--status", "new").stdout)
    assert tutorial["statuses"] == ["new"] and {t["status"] for t in tutorial["tickets"]} == {"new"}
    assert tutorial["retrieval"] == "hybrid" and tutorial["duplicate"]["id"] == 1268
    dense = json.loads(cli(DOUBLE_CHARGE, "--org", str(ORG_DOUBLE_CHARGE), "--config", str(sample_db), "--json",
                           "--status", "new", "--retrieval", "dense").stdout)
    assert dense["duplicate"] is None and dense["tickets"][0]["id"] == 1268
    assert dense["tickets"][0]["distance"] > dense["duplicate_threshold"]
    comma = cli(DOUBLE_CHARGE, "--org", str(ORG_DOUBLE_CHARGE), "--config", str(sample_db), "--json",
                "--status", "new,open,pending")
    assert comma.returncode == 0, comma.stdout + comma.stderr
    assert json.loads(comma.stdout)["statuses"] == ["new", "open", "pending"]


# --- 3. answers that inform ---------------------------------------------------------------------------


def test_answer_has_link_status_update_passage_and_closeness(sample_db: Path) -> None:
    run = cli(DOUBLE_CHARGE, "--org", str(ORG_DOUBLE_CHARGE), "--config", str(sample_db))
    assert run.returncode == 0, run.stderr
    first = run.stdout.splitlines()
    assert first[0].startswith("Possible duplicate: #12"), run.stdout
    assert "(pending, updated 2024-" in first[0] or "(open, updated 2024-" in first[0], first[0]
    assert any(word in first[0] for word in ("nearly the same text", "very close", "close")), first[0]
    assert first[1].strip().startswith("https://example.zendesk.com/agent/tickets/12"), run.stdout
    assert first[2].strip().startswith("matching passage: "), run.stdout
    assert "Submitted!" not in run.stdout
    answer = json.loads(cli(DOUBLE_CHARGE, "--org", str(ORG_DOUBLE_CHARGE), "--config", str(sample_db), "--json",
                            "--zendesk-subdomain", "acme").stdout)
    dup = answer["duplicate"]
    assert dup["url"] == f"https://acme.zendesk.com/agent/tickets/{dup['id']}"
    assert dup["status"] in ("open", "pending") and dup["updated_at"].startswith("20") and dup["passage"]
    assert answer["articles"], "articles are listed whether or not a duplicate was found"


def test_nothing_submitted_and_no_claim_of_it(sample_db: Path) -> None:
    run = cli("what's the weather like tomorrow", "--org", str(ORG_DOUBLE_CHARGE), "--config", str(sample_db))
    assert run.returncode == 0, run.stderr
    assert "Submitted!" not in run.stdout
    assert "nothing was submitted" in run.stdout
    tutorial = cli("what's the weather like tomorrow", "--org", str(ORG_DOUBLE_CHARGE), "--config", str(sample_db),
                   "--tutorial")
    assert tutorial.stdout.startswith("Submitted!"), "the tutorial's wording stays reachable"


def test_organization_without_tickets_says_so(sample_db: Path) -> None:
    run = cli("I can't log in since the SSO change", "--org", "1001", "--config", str(sample_db))
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("Organization 1001 has no tickets in this collection"), run.stdout


def test_readme_org_example_is_in_the_sample() -> None:
    readme = (REPO / "README.md").read_text()
    messages = [json.loads(line) for line in (SAMPLE / "zendesk_sample.jsonl").read_text().splitlines()]
    orgs = {m["record"]["data"].get("organization_id") for m in messages
            if m["type"] == "RECORD" and m["record"]["stream"] == "tickets"}
    examples = [line for line in readme.splitlines() if "destination_milvus_zendesk.query" in line and "--org" in line]
    assert examples
    for line in examples:
        org = line.split("--org", 1)[1].split()[0]
        assert int(org) in orgs, line


# --- 4/5. errors: one line, JSON with --json ---------------------------------------------------------------


def test_malformed_config_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"embedding": {"mode": "local"},, }')
    run = cli("text", "--org", "1", "--config", str(bad))
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert run.stderr.strip().splitlines() == [
        f"error: The configuration file {str(bad)!r} is not valid JSON (line 1 column 33: Expecting property name "
        "enclosed in double quotes): fix the file."]


def test_json_errors_are_json_on_stdout(tmp_path: Path, sample_db: Path) -> None:
    for args in (["text", "--org", "1", "--config", str(tmp_path / "missing.json")],  # config error
                 ["text", "--org", "x1", "--config", str(sample_db)],  # input error
                 ["text"],  # usage error
                 ["text", "--org", "1", "--status", "deleted", "--config", str(sample_db)]):
        run = cli(*args, "--json")
        assert run.returncode != 0, args
        error = json.loads(run.stdout)
        assert set(error) == {"error", "kind"} and error["error"], (args, run.stdout)


def test_typo_in_lite_path_is_an_error_and_creates_nothing(tmp_path: Path, sample_db: Path) -> None:
    config = json.loads(sample_db.read_text())
    typo = tmp_path / "zendsk.db"
    config["indexing"]["host"] = str(typo)
    path = tmp_path / "typo.json"
    path.write_text(json.dumps(config))
    run = cli("text", "--org", "1", "--config", str(path), "--json")
    assert run.returncode == 2
    assert json.loads(run.stdout)["error"] == (f"Milvus Lite database {str(typo)!r} does not exist: check "
                                               "indexing.host (a sync with indexing.create_collection on creates it).")
    assert not typo.exists()


# --- 1. the Milvus Lite lock -------------------------------------------------------------------------------


def test_locked_database_names_the_process_holding_it(sample_db: Path) -> None:
    host = json.loads(sample_db.read_text())["indexing"]["host"]
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time\nfrom pymilvus import MilvusClient\n"
                               f"MilvusClient(uri={host!r}).list_collections()\nprint('ready', flush=True)\n"
                               "time.sleep(120)"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        run = cli("text", "--org", "1", "--config", str(sample_db))
        assert run.returncode == 2
        line = run.stderr.strip()
        assert len(line.splitlines()) == 1 and "Traceback" not in line
        assert f"is in use by another process (pid {holder.pid}: " in line, line
        assert "Stop that process or wait for it to finish" in line and "Milvus server" in line
        as_json = cli("text", "--org", "1", "--config", str(sample_db), "--json")
        assert f"(pid {holder.pid}" in json.loads(as_json.stdout)["error"] and as_json.returncode == 2
    finally:
        holder.kill()
        holder.wait()


def test_close_releases_the_lite_file_in_process(sample_db: Path) -> None:
    config = parse_config(json.loads(sample_db.read_text()))
    store = MilvusStore(config.indexing)
    store.connect()
    assert store.describe() is not None
    store.close()
    run = subprocess.run([sys.executable, str(REPO / "main.py"), "check", "--config", str(sample_db)],
                         capture_output=True, text=True, timeout=120)
    status = [json.loads(line) for line in run.stdout.splitlines() if '"CONNECTION_STATUS"' in line]
    assert status and status[0]["connectionStatus"]["status"] == "SUCCEEDED", run.stdout[-1500:]


# --- 6. start-up and batch mode --------------------------------------------------------------------------


def test_cli_imports_stay_light() -> None:
    code = ("import sys, destination_milvus_zendesk.query\n"
            "heavy = [m for m in ('airbyte_cdk', 'openai', 'streamlit') if m in sys.modules]\n"
            "assert not heavy, heavy")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert run.returncode == 0, run.stderr


def test_batch_mode_jsonl_in_jsonl_out(sample_db: Path) -> None:
    lines = [json.dumps({"id": "a", "text": DOUBLE_CHARGE, "org": ORG_DOUBLE_CHARGE}),
             json.dumps({"id": "b", "text": DOUBLE_CHARGE, "org": ORG_DOUBLE_CHARGE, "status": "new"}),
             json.dumps({"id": "c", "text": "x", "org": "not a number"}),
             "{not json",
             json.dumps({"text": "How do I set up SAML single sign-on?", "org": 1001})]
    started = time.monotonic()
    run = cli("--batch", "-", "--config", str(sample_db), stdin="\n".join(lines) + "\n")
    elapsed = time.monotonic() - started
    out = [json.loads(line) for line in run.stdout.splitlines()]
    assert [o["line"] for o in out] == [1, 2, 3, 4, 5] and run.returncode == 1
    assert out[0]["id"] == "a" and out[0]["duplicate"]["id"] in (1264, 1246)
    assert out[1]["duplicate"]["id"] == 1268 and out[1]["statuses"] == ["new"]  # hybrid: see above
    assert out[2]["kind"] == "input" and "organization id must be an integer" in out[2]["error"]
    assert out[3]["kind"] == "input" and out[3]["error"].startswith("not a JSON object")
    assert out[4]["organization_has_tickets"] is False and out[4]["articles"]
    assert elapsed < 60


# --- issue 13: searches go through the store; an unreadable metric is an error ---------------------------------


def test_lookups_search_through_the_store(sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real, real_hybrid = MilvusStore.search, MilvusStore.hybrid_search

    def spy(self, vector, **kwargs):
        calls.append(("dense", kwargs["filter_expr"]))
        return real(self, vector, **kwargs)

    def hybrid_spy(self, vector, text, **kwargs):
        calls.append(("hybrid", kwargs["filter_expr"]))
        return real_hybrid(self, vector, text, **kwargs)

    real_text = MilvusStore.text_search

    def text_spy(self, text, **kwargs):
        calls.append(("bm25", kwargs["filter_expr"]))
        return real_text(self, text, **kwargs)

    monkeypatch.setattr(MilvusStore, "search", spy)
    monkeypatch.setattr(MilvusStore, "hybrid_search", hybrid_spy)
    monkeypatch.setattr(MilvusStore, "text_search", text_spy)
    search = SupportSearch.from_config(parse_config(json.loads(sample_db.read_text())))
    try:
        answer = search.lookup(DOUBLE_CHARGE, ORG_DOUBLE_CHARGE)
    finally:
        search.close()
    assert answer.duplicate is not None
    kind = answer.retrieval  # the sample's Lite collection was created by the connector: hybrid
    # tickets: the hybrid search, then the BM25 shares (best score among all tickets, the hits' scores)
    assert kind == "hybrid" and [k for k, _ in calls] == [kind, "bm25", "bm25", kind]
    assert "tickets" in calls[0][1] and "articles" in calls[3][1]
    assert "organization_id" not in calls[1][1] and "_ab_record_id in" in calls[2][1]


def test_unreadable_index_metric_is_an_error_not_l2(tmp_path: Path) -> None:
    class Client:
        def list_indexes(self, *args, **kwargs):
            raise MilvusException(code=1401, message="permission denied: DescribeIndex")  # privilege range

    store = MilvusStore(parse_config({"embedding": {"mode": "fake"},
                                      "indexing": {"host": str(tmp_path / "x.db"), "collection": "c"}}).indexing)
    store.client = Client()  # type: ignore[assignment]
    with pytest.raises(ConfigError, match="reading the metric of the vector index on 'vector'"):
        store._metric("vector")
    if os.path.exists(tmp_path / "x.db"):
        raise AssertionError("nothing opened")
