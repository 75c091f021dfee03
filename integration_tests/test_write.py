"""write: full sync, dedup with shrinking records, overwrite, deletes, state, reuse — on both backends."""

from __future__ import annotations

import pytest

from test_support.tutorial_collection import create_tutorial_collection

from .helpers import catalog, complete, make_config, record, rows, run_connector, state

LONG = "\n\n".join(f"Paragraph {i}: the export job stalls at {i}% when the CSV contains quoted newlines. " * 6
                   for i in range(40))  # several 1000-token chunks


def ticket(i, org=1, status="new", description=None, subject=None):
    return {"id": i, "subject": subject or f"Ticket {i} about invoices", "status": status, "organization_id": org,
            "description": description or f"Customer {i} cannot download invoice number {i * 7}.",
            "tags": ["billing"], "via": {"channel": "email"}, "custom_fields": [{"id": 1, "value": None}]}


def article(i, body="<p>Go to <b>Billing</b> &gt; Invoices.</p>"):
    return {"id": 1000 + i, "title": f"Article {i}", "body": body, "html_url": f"https://help.example.com/a/{i}"}


def by_record(found):
    out = {}
    for row in found:
        out.setdefault(row["_ab_record_id"], []).append(row)
    return out


@pytest.fixture(params=["auto_id", "varchar_pk"])
def collection(request, backend, collection_name):
    """The tutorial's hand-made auto-id collection, and one created by the connector (VARCHAR key)."""
    if request.param == "auto_id":
        with backend.connect() as client:
            create_tutorial_collection(client, collection_name)
        return collection_name, False
    return collection_name, True


def test_full_sync_then_dedup_with_changed_and_shrunk_records(backend, collection, openai_stub, tmp_path):
    name, create = collection
    config = make_config(backend, name, openai=openai_stub, create=create)
    first = [record("tickets", ticket(i, org=1 + i % 2)) for i in range(1, 11)]
    first += [record("tickets", ticket(11, description=LONG)), state("tickets", 1)]
    first += [record("articles", article(1)), record("articles", article(2, body="<p>" + LONG + "</p>")),
              state("articles", 1)]
    run = run_connector("write", tmp_path, config, catalog(), first)
    assert run.returncode == 0, run.stdout[-2000:]
    assert [s["destinationStats"]["recordCount"] for s in run.states] == [11.0, 2.0]
    stored = by_record(rows(backend, name))
    assert len(stored) == 13
    long_chunks = len(stored["tickets_11"])
    assert long_chunks >= 3
    row = stored["tickets_1"][0]
    assert row["_id"] == 1 and row["_ab_stream"] == "tickets" and row["status"] == "new"
    assert row["text"].startswith("description: Customer 1") and row["via"] == {"channel": "email"}
    assert "<p>" not in stored["articles_1002"][0]["text"]

    second = [record("tickets", ticket(11, description="Now short.")),  # shrinks to one chunk
              record("tickets", ticket(3, status="solved", subject="Renamed subject")),
              record("tickets", {**ticket(4), "_ab_cdc_deleted_at": "2024-05-01T00:00:00Z"}),
              state("tickets", 2)]
    run = run_connector("write", tmp_path, config, catalog(), second)
    assert run.returncode == 0, run.stdout[-2000:]
    stored = by_record(rows(backend, name))
    assert len(stored["tickets_11"]) == 1 and stored["tickets_11"][0]["description"] == "Now short."
    assert [r["subject"] for r in stored["tickets_3"]] == ["Renamed subject"]
    assert "tickets_4" not in stored
    assert len(stored) == 12
    assert all(len(chunks) == len({r["_ab_chunk"] for r in chunks}) for chunks in stored.values())

    third = [record("tickets", ticket(1, org=42, subject="Login loop")), state("tickets", 3)]
    run = run_connector("write", tmp_path, config, catalog(), third)
    assert run.returncode == 0, run.stdout[-2000:]
    # ticket 1 moved from organization 2 to 42: one row, in its new organization (on a created
    # collection that is another partition), none left behind in the old one
    assert [(r["organization_id"], r["subject"]) for r in by_record(rows(backend, name))["tickets_1"]] == [
        (42, "Login loop")]
    assert 1 not in [r["_id"] for r in rows(backend, name, "organization_id == 2", ["_id"])]
    if create:  # partitioned where the backend keeps BM25 (Lite); a 2.3 server's upserts misroute partitioned rows
        with backend.connect() as client:
            fields = client.describe_collection(name)["fields"]
        expected = ["organization_id"] if backend.name == "lite" else []
        assert [f["name"] for f in fields if f.get("is_partition_key")] == expected


def test_a_tutorial_collection_is_read_once_per_group_and_cleaned_by_primary_key(backend, collection_name, tmp_path,
                                                                                 monkeypatch):
    """On the hand-made auto-id collection a filter on _ab_record_id scans every row: a re-sync of two
    STATE intervals reads the stored rows with one such filter and deletes only by primary key, and
    ends with exactly one version of every record (changed, shrunk, new, deleted at the source)."""
    from airbyte_cdk.models import AirbyteMessageSerializer, ConfiguredAirbyteCatalogSerializer
    from pymilvus import MilvusClient

    from destination_milvus_zendesk.destination import DestinationMilvusZendesk

    with backend.connect() as client:
        create_tutorial_collection(client, collection_name)
    config = make_config(backend, collection_name)
    first = [record("tickets", ticket(i, description=LONG if i == 1 else None)) for i in range(1, 7)]
    assert run_connector("write", tmp_path, config, catalog(), first + [state("tickets", 1)]).returncode == 0
    filters = []
    for op in ("query", "delete"):
        original = getattr(MilvusClient, op)

        def spy(self, *args, _op=op, _original=original, **kwargs):
            filters.append((_op, kwargs.get("filter") or ""))
            return _original(self, *args, **kwargs)
        monkeypatch.setattr(MilvusClient, op, spy)
    second = [record("tickets", ticket(1, subject="Shrunk")), record("tickets", ticket(2, status="solved")),
              state("tickets", 2), record("tickets", {**ticket(3), "_ab_cdc_deleted_at": "2024-05-01T00:00:00Z"}),
              record("tickets", ticket(4, subject="Renamed")), record("tickets", ticket(7)), state("tickets", 3)]
    out = list(DestinationMilvusZendesk().write(config, ConfiguredAirbyteCatalogSerializer.load(catalog()),
                                                iter(AirbyteMessageSerializer.load(m) for m in second)))
    assert [m.state.destinationStats.recordCount for m in out if m.state] == [2.0, 3.0]
    by_record_id = [(op, f) for op, f in filters if "_ab_record_id" in f]
    assert [op for op, _ in by_record_id] == ["query"], by_record_id
    assert [f.split(" in ")[0] for op, f in filters if op == "delete"] == ["id"] * 2, filters
    stored = by_record(rows(backend, collection_name))
    assert sorted(stored) == ["tickets_1", "tickets_2", "tickets_4", "tickets_5", "tickets_6", "tickets_7"]
    assert [r["subject"] for r in stored["tickets_1"]] == ["Shrunk"] and stored["tickets_2"][0]["status"] == "solved"
    assert [r["subject"] for r in stored["tickets_4"]] == ["Renamed"] and len(stored["tickets_7"]) == 1
    assert all(len(chunks) == 1 for chunks in stored.values())


def test_metadata_only_resync_sends_no_embedding_tokens(backend, collection, openai_stub, tmp_path):
    name, create = collection
    config = make_config(backend, name, openai=openai_stub, create=create)
    records = [record("tickets", ticket(i, description=LONG if i == 1 else None)) for i in range(1, 6)]
    assert run_connector("write", tmp_path, config, catalog(), records + [state("tickets", 1)]).returncode == 0
    before = {(r["_ab_record_id"], r["_ab_chunk"]): r["vector"] for r in rows(backend, name)}
    openai_stub.reset_stats()
    changed = [record("tickets", {**ticket(i, description=LONG if i == 1 else None), "status": "open"})
               for i in range(1, 6)]
    run = run_connector("write", tmp_path, config, catalog(), changed + [state("tickets", 2)])
    assert run.returncode == 0
    assert openai_stub.stats()["tokens"] == 0 and openai_stub.stats()["requests"] == 0
    after = rows(backend, name)
    assert {r["status"] for r in after} == {"open"}
    assert {(r["_ab_record_id"], r["_ab_chunk"]): r["vector"] for r in after}.keys() == before.keys()
    for r in after:
        assert r["vector"] == pytest.approx(before[(r["_ab_record_id"], r["_ab_chunk"])], abs=1e-6)


def test_overwrite_keeps_old_rows_until_the_stream_is_done(backend, collection_name, openai_stub, tmp_path):
    config = make_config(backend, collection_name, openai=openai_stub, create=True)
    old = [record("articles", article(i)) for i in range(1, 4)] + [state("articles", 1)]
    assert run_connector("write", tmp_path, config, catalog("overwrite", ["articles"], generation=1), old).returncode == 0
    # an interrupted overwrite (bad line half way): the old data stays complete
    broken = [record("articles", article(7)), state("articles", 2), "{not json"]
    run = run_connector("write", tmp_path, config, catalog("overwrite", ["articles"], generation=2), broken)
    assert run.returncode != 0 and "Line 3" in run.errors[0]["message"]
    assert {r["_id"] for r in rows(backend, collection_name)} >= {1001, 1002, 1003}
    new = [record("articles", article(i)) for i in (5, 6)] + [state("articles", 3), complete("articles")]
    run = run_connector("write", tmp_path, config, catalog("overwrite", ["articles"], generation=3), new)
    assert run.returncode == 0
    assert sorted(r["_id"] for r in rows(backend, collection_name)) == [1005, 1006]


def test_append_inserts_every_version(backend, collection_name, openai_stub, tmp_path):
    config = make_config(backend, collection_name, openai=openai_stub, create=True)
    msgs = [record("tickets", ticket(1)), record("tickets", ticket(1, status="open")), state("tickets", 1)]
    assert run_connector("write", tmp_path, config, catalog("append", ["tickets"]), msgs).returncode == 0
    assert sorted(r["status"] for r in rows(backend, collection_name)) == ["new", "open"]


def test_tutorial_support_form_queries_run_unchanged(backend, collection_name, openai_stub, tmp_path):
    """mission.md section 3, verbatim parameters, against what the connector wrote."""
    with backend.connect() as client:
        create_tutorial_collection(client, collection_name)
    config = make_config(backend, collection_name, openai=openai_stub)
    msgs = [record("tickets", ticket(1, org=42, subject="Login loop", description="SSO login keeps looping back")),
            record("tickets", ticket(2, org=42, status="solved", subject="Login loop old",
                                     description="SSO login keeps looping back")),
            record("tickets", ticket(3, org=7, subject="Login loop", description="SSO login keeps looping back")),
            record("articles", article(1, body="<p>How to fix an SSO login loop: clear cookies.</p>")),
            state("tickets", 1)]
    assert run_connector("write", tmp_path, config, catalog(), msgs).returncode == 0
    import openai as openai_sdk

    from .helpers import TEST_OPENAI_KEY
    embedding = openai_sdk.OpenAI(api_key=TEST_OPENAI_KEY, base_url=openai_stub.base_url).embeddings.create(
        input="description: SSO login keeps looping back\nsubject: Login loop", model="text-embedding-ada-002"
    ).data[0].embedding
    with backend.connect() as client:
        client.load_collection(collection_name)
        results = client.search(collection_name, data=[embedding], anns_field="vector", limit=2,
                                filter='status == "new" and organization_id == 42',
                                output_fields=["_id", "subject", "description"], consistency_level="Strong")
        assert len(results[0]) == 1 and results[0][0]["entity"]["_id"] == 1
        assert results[0][0]["distance"] < 0.35
        articles = client.search(collection_name, data=[embedding], anns_field="vector", limit=5,
                                 filter='_ab_stream == "articles"', output_fields=["title", "html_url"],
                                 consistency_level="Strong")
        assert articles[0][0]["entity"]["title"] == "Article 1"
        assert articles[0][0]["entity"]["html_url"] == "https://help.example.com/a/1"


def test_an_id_sent_as_integral_float_then_as_int_is_one_record(collection_name, tmp_path):
    """The Zendesk source's user_fields/topics/audit_logs streams emit integer ids as floats."""
    from .helpers import Backend

    lite = Backend("lite", str(tmp_path / "milvus.db"), {"mode": "no_auth"}, None)
    config = make_config(lite, collection_name, create=True)
    topic = {"id": 7761239926287.0, "title": "Billing questions", "body": "<p>First version.</p>"}
    first = [record("topics", topic), record("topics", {**topic, "id": 7761239926287, "body": "<p>Second.</p>"}),
             state("topics", 1)]
    assert run_connector("write", tmp_path, config, catalog(streams=["topics"]), first).returncode == 0
    stored = by_record(rows(lite, collection_name))
    assert list(stored) == ["topics_7761239926287"] and len(stored["topics_7761239926287"]) == 1
    assert "Second." in stored["topics_7761239926287"][0]["text"]
    again = [record("topics", {**topic, "body": "<p>Third.</p>"}), state("topics", 2)]  # the float form again
    assert run_connector("write", tmp_path, config, catalog(streams=["topics"]), again).returncode == 0
    stored = by_record(rows(lite, collection_name))
    assert list(stored) == ["topics_7761239926287"] and len(stored["topics_7761239926287"]) == 1
    assert "Third." in stored["topics_7761239926287"][0]["text"]


def test_a_ticket_without_organization_is_not_found_as_organization_0(collection_name, tmp_path):
    from destination_milvus_zendesk.schema import NO_ORGANIZATION_ID

    from .helpers import Backend

    lite = Backend("lite", str(tmp_path / "milvus.db"), {"mode": "no_auth"}, None)
    config = make_config(lite, collection_name, create=True)
    tickets = [record("tickets", {**ticket(1), "organization_id": None}), record("tickets", ticket(2, org=0)),
               record("tickets", {k: v for k, v in ticket(3).items() if k != "organization_id"}), state("tickets", 1)]
    assert run_connector("write", tmp_path, config, catalog(streams=["tickets"]), tickets).returncode == 0
    assert [r["_id"] for r in rows(lite, collection_name, "organization_id == 0", ["_id"])] == [2]
    assert sorted(r["_id"] for r in rows(lite, collection_name, f"organization_id == {NO_ORGANIZATION_ID}",
                                         ["_id"])) == [1, 3]
