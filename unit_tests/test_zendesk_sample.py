"""The Zendesk sample-data generator: determinism, shapes (real source schemas), update modes,
bundled files and the evaluation query set."""

from __future__ import annotations

import copy
import json
import re
import types
from datetime import datetime
from pathlib import Path

import jsonschema
import pytest

from test_support import zendesk_sample as zs
from test_support.zendesk_schemas import SchemasMissing, load_schemas

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DIR = ROOT / "destination_milvus_zendesk" / "sample_data"
TEXT_FIELDS = {"tickets": ("subject", "raw_subject", "description"), "articles": ("title", "name", "body")}
TICKET_METADATA = {"status", "custom_status_id", "updated_at", "generated_timestamp", "tags", "assignee_id"}
ISO_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


# --- helpers ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def schemas() -> dict[str, dict]:
    try:
        out = load_schemas()
    except SchemasMissing as exc:
        pytest.fail(str(exc))
    assert "properties" in out["tickets"] and "via" in out["tickets"]["properties"], out["tickets"]
    assert "$ref" not in json.dumps(out), "a $ref was left unresolved"
    return out


@pytest.fixture(scope="module")
def validators(schemas):
    return {k: jsonschema.Draft7Validator(v) for k, v in schemas.items()}


def _records(messages, stream=None):
    return [m["record"]["data"] for m in messages
            if m["type"] == "RECORD" and (stream is None or m["record"]["stream"] == stream)]


def _lines(**kw) -> list[str]:
    return [zs.dumps(m) for m in zs.generate_messages(**kw)]


def _check_datetimes(schema: dict, data, path="") -> None:
    """Every `format: date-time` value is an ISO-8601 UTC string (jsonschema skips formats without extras)."""
    if data is None:
        return
    if schema.get("format") == "date-time":
        assert isinstance(data, str) and ISO_RE.match(data), f"{path}: {data!r}"
        datetime.strptime(data, "%Y-%m-%dT%H:%M:%SZ")
    if isinstance(data, dict):
        for k, sub in (schema.get("properties") or {}).items():
            if k in data:
                _check_datetimes(sub, data[k], f"{path}.{k}")
    if isinstance(data, list) and isinstance(schema.get("items"), dict):
        for j, item in enumerate(data):
            _check_datetimes(schema["items"], item, f"{path}[{j}]")


@pytest.fixture(scope="module")
def bundled() -> list[dict]:
    return [json.loads(line) for line in (SAMPLE_DIR / "zendesk_sample.jsonl").read_text("utf-8").splitlines()]


# --- determinism, sizes, streaming -----------------------------------------------------------


def test_same_seed_same_bytes_and_other_seed_differs():
    a = _lines(n_tickets=120, n_articles=12, seed=11)
    b = _lines(n_tickets=120, n_articles=12, seed=11)
    c = _lines(n_tickets=120, n_articles=12, seed=12)
    assert a == b
    assert a != c
    for mode in zs.MODES[1:]:
        assert _lines(n_tickets=50, n_articles=10, mode=mode) == _lines(n_tickets=50, n_articles=10, mode=mode)


def test_sizes_states_and_message_shape():
    msgs = list(zs.generate_messages(250, 30, state_every=100))
    tickets, articles = _records(msgs, "tickets"), _records(msgs, "articles")
    assert len(tickets) == 250 and len(articles) == 30
    assert len({t["id"] for t in tickets}) == 250 and len({a["id"] for a in articles}) == 30
    states = [(k, m) for k, m in enumerate(msgs) if m["type"] == "STATE"]
    names = [m["state"]["stream"]["stream_descriptor"]["name"] for _, m in states]
    assert names == ["tickets", "tickets", "tickets", "articles"]  # after 100, 200, end; articles end
    # each STATE carries the max cursor of the records before it, and follows the stream's records
    for k, m in states:
        stream = m["state"]["stream"]["stream_descriptor"]["name"]
        before = [x["record"]["data"]["updated_at"] for x in msgs[:k]
                  if x["type"] == "RECORD" and x["record"]["stream"] == stream]
        assert m["state"]["stream"]["stream_state"] == {"updated_at": max(before)}
        assert m["state"]["type"] == "STREAM"
    for m in msgs:
        if m["type"] == "RECORD":
            assert set(m["record"]) == {"stream", "data", "emitted_at"}
            assert isinstance(m["record"]["emitted_at"], int)
    # state_every=0: only the end-of-stream states
    only_end = [m for m in zs.generate_messages(250, 30, state_every=0) if m["type"] == "STATE"]
    assert len(only_end) == 2


def test_messages_parse_as_airbyte_protocol():
    from airbyte_cdk.models import AirbyteMessageSerializer, Type

    for line in _lines(n_tickets=30, n_articles=5, state_every=10):
        msg = AirbyteMessageSerializer.load(json.loads(line))
        assert msg.type in (Type.RECORD, Type.STATE)


def test_streaming_and_lazy():
    gen = zs.generate_messages(10**9, 10**9)
    assert isinstance(gen, types.GeneratorType)
    first = next(gen)  # no up-front work proportional to the size
    assert first["record"]["stream"] == "tickets" and first["record"]["data"]["id"] == zs.TICKET_ID_BASE
    # a record does not depend on how many records follow it (only timestamps/status scale with n)
    small = _records(zs.generate_messages(10, 0), "tickets")
    big = _records(zs.generate_messages(1000, 0), "tickets")
    assert [t["id"] for t in small] == [t["id"] for t in big[:10]]


def test_organizations_and_statuses():
    tickets = _records(zs.generate_messages(300, 0, n_orgs=8))
    orgs = {t["organization_id"] for t in tickets}
    assert len(orgs - {None}) == 8 and None in orgs
    assert sum(t["organization_id"] is None for t in tickets) < 30
    statuses = {s: sum(t["status"] == s for t in tickets) for s in zs._STATUSES}
    assert set(statuses) == {"new", "open", "pending", "hold", "solved", "closed"}
    assert statuses["new"] >= 40 and statuses["open"] >= 40, statuses
    assert all(v > 0 for v in statuses.values()), statuses
    assert {zs.ticket_topic(t) for t in tickets} == set(zs.TOPIC_KEYS)


# --- schemas ---------------------------------------------------------------------------------


def test_bundled_records_validate_against_source_schemas(bundled, schemas, validators):
    n = 0
    for m in bundled:
        if m["type"] != "RECORD":
            continue
        stream, data = m["record"]["stream"], m["record"]["data"]
        errors = sorted(validators[stream].iter_errors(data), key=lambda e: list(e.path))
        assert not errors, f"{stream} {data.get('id')}: {[(list(e.path), e.message[:120]) for e in errors[:3]]}"
        _check_datetimes(schemas[stream], data)
        n += 1
    assert n == 340


@pytest.mark.parametrize("mode", ["update-metadata", "update-paragraph"])
def test_update_mode_records_validate(mode, schemas, validators):
    for m in zs.generate_messages(150, 40, mode=mode):
        if m["type"] == "RECORD":
            stream, data = m["record"]["stream"], m["record"]["data"]
            assert not list(validators[stream].iter_errors(data)), (mode, stream, data["id"])
            _check_datetimes(schemas[stream], data)


def test_records_cover_every_schema_property(schemas, bundled):
    for stream in ("tickets", "articles"):
        keys = set().union(*(m["record"]["data"] for m in bundled
                             if m["type"] == "RECORD" and m["record"]["stream"] == stream))
        missing = set(schemas[stream]["properties"]) - keys
        assert not missing, f"{stream} records lack schema properties {missing}"


def test_values_are_realistic(bundled):
    tickets = _records(bundled, "tickets")
    articles = _records(bundled, "articles")
    # nulls where the schema allows them
    for key in ("external_id", "assignee_id", "group_id", "organization_id", "priority", "type", "satisfaction_rating"):
        assert any(t[key] is None for t in tickets), key
        assert any(t[key] is not None for t in tickets), key
    channels = {t["via"]["channel"] for t in tickets}
    assert {"email", "web", "api", "chat", "voice"} <= channels
    values = [f["value"] for t in tickets for f in t["custom_fields"]]
    assert None in values and "True" in values and "False" in values  # normalized like the source does
    assert any(v and v.startswith("[") for v in values)  # multiselect list, stringified
    assert any(isinstance(t["satisfaction_rating"], dict) and t["satisfaction_rating"].get("score") == "good"
               for t in tickets)
    assert any(len(t["description"]) > 10_000 for t in tickets)  # pasted log
    assert any(ord(ch) > 127 for t in tickets for ch in t["description"])  # non-ASCII text
    for a in articles:
        assert re.fullmatch(rf"{zs.SUBDOMAIN_URL}/hc/en-us/articles/{a['id']}-[A-Za-z0-9-]+", a["html_url"])
        assert a["url"].endswith(f"/articles/{a['id']}.json")
    bodies = "".join(a["body"] for a in articles)
    for token in ("<h2>", "<p>", "<ul>", "<li>", "<a href=", "<strong>", "<code>", "&amp;", "&nbsp;", "&gt;"):
        assert token in bodies, token


def test_raw_types_match_the_source_normalization(schemas):
    """`raw_types=True` is the Zendesk API's own typing; the source's TypeTransformer turns it into
    exactly what the default mode emits."""
    from airbyte_cdk.sources.utils.transform import TransformConfig, TypeTransformer

    transformer = TypeTransformer(TransformConfig.DefaultSchemaNormalization)
    raw = _records(zs.generate_messages(200, 0, raw_types=True))
    normalized = _records(zs.generate_messages(200, 0))
    kinds = {type(f["value"]).__name__ for t in raw for f in t["custom_fields"]}
    assert {"str", "NoneType", "bool", "int", "float", "list"} <= kinds, kinds
    for r, n in zip(raw, normalized):
        r = copy.deepcopy(r)
        transformer.transform(r, schemas["tickets"])
        assert r == n


# --- update modes ----------------------------------------------------------------------------


def _by_stream(mode, n_tickets=300, n_articles=40):
    msgs = list(zs.generate_messages(n_tickets, n_articles, mode=mode))
    return _records(msgs, "tickets"), _records(msgs, "articles")


@pytest.fixture(scope="module")
def initial():
    return _by_stream("initial")


@pytest.mark.parametrize("mode", ["update-metadata", "update-paragraph"])
def test_tickets_in_update_modes_change_only_metadata(mode, initial):
    tickets, _ = _by_stream(mode)
    assert [t["id"] for t in tickets] == [t["id"] for t in initial[0]]
    changed_status = 0
    for old, new in zip(initial[0], tickets):
        for f in TEXT_FIELDS["tickets"]:
            assert old[f] == new[f]
        diff = {k for k in old if old[k] != new[k]}
        assert diff <= TICKET_METADATA, diff
        assert new["updated_at"] > old["updated_at"]
        assert new["tags"] != old["tags"]
        changed_status += old["status"] != new["status"]
    assert changed_status > 100


def test_articles_update_metadata_keeps_text(initial):
    _, articles = _by_stream("update-metadata")
    for old, new in zip(initial[1], articles):
        assert old["id"] == new["id"]
        for f in TEXT_FIELDS["articles"]:
            assert old[f] == new[f]
        assert new["updated_at"] > old["updated_at"]
        assert {k for k in old if old[k] != new[k]} <= {"updated_at", "vote_sum", "vote_count", "label_names"}


def test_articles_update_paragraph_changes_exactly_one_paragraph_of_long_articles(initial):
    _, articles = _by_stream("update-paragraph")
    long_seen = 0
    for i, (old, new) in enumerate(zip(initial[1], articles)):
        assert old["title"] == new["title"] and new["updated_at"] > old["updated_at"]
        a, b = old["body"].split("\n"), new["body"].split("\n")
        assert len(a) == len(b)
        changed = [k for k in range(len(a)) if a[k] != b[k]]
        if zs.article_is_long(i):
            long_seen += 1
            assert len(changed) == 1, (old["id"], changed)
            k = changed[0]
            assert a[k].startswith("<p>") and b[k].startswith("<p>")
            assert len(a) * 0.3 < k < len(a) * 0.8  # a middle paragraph: not in the first chunk
            assert abs(len(a[k]) - len(b[k])) < 120  # roughly the same size: later chunks stay aligned
        else:
            assert changed == [], old["id"]
    assert long_seen >= 5


def test_long_and_short_articles(initial):
    from destination_milvus_zendesk.documents import html_to_text

    try:
        from destination_milvus_zendesk.tokens import count_tokens
    except Exception:  # pragma: no cover - rough count when the tokenizer is unavailable
        def count_tokens(text: str) -> int:
            return int(len(text.split()) * 1.3)

    words = []
    for i, a in enumerate(initial[1]):
        text = html_to_text(a["body"])
        words.append(len(text.split()))
        if zs.article_is_long(i):
            assert 2500 <= words[-1] <= 6500, (a["title"], words[-1])
            assert count_tokens(text) > 2000, a["title"]  # several 1000-token chunks
    assert sum(w > 2500 for w in words) >= 5
    assert sum(w < 800 for w in words) >= 30  # most are a few hundred words


# --- bundled files ---------------------------------------------------------------------------


def test_bundled_jsonl_equals_generator_output():
    expected = "".join(line + "\n" for line in _lines())
    assert (SAMPLE_DIR / "zendesk_sample.jsonl").read_text("utf-8") == expected, (
        "regenerate with: python -m test_support.zendesk_sample "
        "> destination_milvus_zendesk/sample_data/zendesk_sample.jsonl")


def test_bundled_catalog_and_eval_queries_are_current():
    assert json.loads((SAMPLE_DIR / "catalog.json").read_text()) == zs.configured_catalog()
    assert json.loads((SAMPLE_DIR / "eval_queries.json").read_text("utf-8")) == zs.build_eval_queries(), (
        "regenerate with: python -m test_support.zendesk_sample --eval-queries "
        "> destination_milvus_zendesk/sample_data/eval_queries.json")


def test_catalog_shape():
    from airbyte_cdk.models import ConfiguredAirbyteCatalogSerializer, DestinationSyncMode, SyncMode

    for mode in ("append_dedup", "append", "overwrite"):
        catalog = ConfiguredAirbyteCatalogSerializer.load(zs.configured_catalog(mode))
        assert [s.stream.name for s in catalog.streams] == ["tickets", "articles"]
        for s in catalog.streams:
            assert s.sync_mode == SyncMode.incremental
            assert s.destination_sync_mode == DestinationSyncMode(mode)
            assert s.primary_key == [["id"]] and s.cursor_field == ["updated_at"]


def test_every_template_formats_for_every_slot_choice():
    import random

    rng = random.Random(0)
    for topic in zs.TOPICS:
        for _ in range(40):
            slots = zs._slot_values(rng, topic)
            slots.update(first="Ann", last="Lee", job="CTO", org="Org")
            texts = list(topic["details"]) + list(topic["tried"]) + list(topic["questions"])
            texts += list(topic.get("impacts") or []) + zs._IMPACTS + zs._SIGNOFFS
            for subjects, desc, paras in topic["problems"]:
                texts += list(subjects) + [desc] + list(paras)
            for t in texts:
                out = t.format(**slots)
                assert "{" not in out and "}" not in out, (topic["key"], t)
        assert len(topic["articles"]) >= 2


def test_eval_queries(bundled):
    q = zs.build_eval_queries()
    tickets = {t["id"]: t for t in _records(bundled, "tickets")}
    article_topics = {a["id"]: zs.article_topic(a) for a in _records(bundled, "articles")}
    assert len(q["duplicates"]) == 40 and len(q["articles"]) == 30 and len(q["novel"]) == 20
    for d in q["duplicates"]:
        t = tickets[d["expected_ticket_id"]]
        assert t["status"] == "new" and t["organization_id"] == d["organization_id"]
        assert zs.ticket_topic(t) == d["topic"]
        assert d["expected_ticket_id"] in d["acceptable_ticket_ids"]
        for other in d["acceptable_ticket_ids"]:
            o = tickets[other]
            assert o["organization_id"] == d["organization_id"] and zs.ticket_topic(o) == d["topic"]
            assert o["status"] in ("new", "open", "pending")
        # a re-wording, not a copy
        assert d["text"] not in t["description"] and d["text"][:40] not in t["description"]
    assert len({d["topic"] for d in q["duplicates"]}) >= 12
    for a in q["articles"]:
        assert a["expected_article_ids"]
        assert {article_topics[i] for i in a["expected_article_ids"]} == {a["topic"]}
        assert sorted(i for i, t in article_topics.items() if t == a["topic"]) == sorted(a["expected_article_ids"])
    assert len({a["topic"] for a in q["articles"]}) == len(zs.TOPICS)
    for n in q["novel"]:
        assert n["expected_ticket_id"] is None
        same_org = [t for t in tickets.values() if t["organization_id"] == n["organization_id"]]
        assert same_org and all(zs.ticket_topic(t) != n["topic"] for t in same_org)
    assert len({n["organization_id"] for n in q["novel"]}) >= 6


def test_generator_is_dev_tooling_and_its_prose_is_data():
    """The package ships the bundled JSONL only; the generator and its prose live in test_support/."""
    import destination_milvus_zendesk

    package = Path(destination_milvus_zendesk.__file__).parent
    assert not (package / "zendesk_sample.py").exists()
    assert not [p.name for p in package.rglob("*.py")
                if re.search(r"^\s*(from|import) test_support", p.read_text("utf-8"), re.M)]
    data = ROOT / "test_support" / "zendesk_sample_data"
    topics = json.loads((data / "topics.json").read_text("utf-8"))
    assert [t["key"] for t in topics] == zs.TOPIC_KEYS and len(topics) == 16
    assert set(json.loads((data / "article_prose.json").read_text("utf-8"))) == {
        "generic_article", "cause_forms", "scenarios", "revisions"}
