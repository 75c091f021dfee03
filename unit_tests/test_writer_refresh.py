"""Which streams truncate, and with which row tag, for catalogs shaped as the platform's
CatalogGenerationSetter and PyAirbyte's CatalogProvider write them; and when the end-of-sync delete runs."""

from __future__ import annotations

import pytest
from airbyte_cdk.models import ConfiguredAirbyteCatalogSerializer

from destination_milvus_zendesk.config import parse_config
from destination_milvus_zendesk.embedding.local import FakeEmbedder
from destination_milvus_zendesk.writer import Writer

from .helpers import memory_store, messages, rec, st


def truncations(store):
    return store.called("delete_stream_rows_except")


def status(name, value):
    return {"type": "TRACE", "trace": {"type": "STREAM_STATUS", "emitted_at": 1, "stream_status": {
        "stream_descriptor": {"name": name}, "status": value}}}


def entry(mode, sync_mode="incremental", fields=None, name="tickets"):
    e = {"stream": {"name": name, "json_schema": {}, "supported_sync_modes": ["full_refresh", "incremental"]},
         "sync_mode": sync_mode, "destination_sync_mode": mode, "primary_key": [["id"]]}
    if fields is not None:
        e.update(generation_id=fields[0], minimum_generation_id=fields[1], sync_id=fields[2])
    return e


def writer(store, *entries):
    cfg = parse_config({"embedding": {"mode": "fake"}, "indexing": {"host": "x.db", "collection": "c"},
                        "processing": {"text_fields": ["subject", "description"]}})
    catalog = ConfiguredAirbyteCatalogSerializer.load({"streams": list(entries)})
    return Writer(cfg, store, FakeEmbedder(), catalog)


# (destination mode, sync mode, (generation, minimum, sync id) or None) -> (tag or "run", truncate)
CASES = [
    # the platform: overwrite always truncates, also at generation 0 where both read 0
    ("overwrite", "full_refresh", (0, 0, 101), "g0.s101", True),
    ("overwrite", "full_refresh", (3, 3, 102), "g3.s102", True),
    # ordinary incremental syncs (generation 0, or after a refresh: minimum 0): keep
    ("append_dedup", "incremental", (0, 0, 103), "g0.s103", False),
    ("append", "incremental", (0, 0, 104), "g0.s104", False),
    ("append_dedup", "incremental", (2, 0, 105), "g2.s105", False),
    ("append", "full_refresh", (2, 0, 106), "g2.s106", False),  # full refresh | append
    # "refresh and remove records" / clear: minimum == generation > 0 truncates in any mode
    ("append_dedup", "incremental", (1, 1, 107), "g1.s107", True),
    ("append", "incremental", (4, 4, 108), "g4.s108", True),
    # "refresh and retain records": minimum 0 keeps
    ("append_dedup", "incremental", (5, 0, 109), "g5.s109", False),
    # PyAirbyte fills in 1/1/1 on every write: the mode decides, each write is its own job
    ("append", "incremental", (1, 1, 1), "run", False),
    ("append_dedup", "incremental", (1, 1, 1), "run", False),
    ("overwrite", "full_refresh", (1, 1, 1), "run", True),
    # no fields at all: as before
    ("overwrite", "full_refresh", None, "run", True),
    ("append_dedup", "incremental", None, "run", False),
]


@pytest.mark.parametrize("mode,sync_mode,fields,tag,truncate", CASES)
def test_plan_follows_the_platform_and_pyairbyte_shapes(mode, sync_mode, fields, tag, truncate):
    w = writer(memory_store(), entry(mode, sync_mode, fields))
    plan = w.plans["tickets"]
    assert plan.generation == (w.run_id if tag == "run" else tag)
    assert plan.truncate is truncate


def test_truncation_runs_at_the_end_with_this_jobs_tag_and_rows_carry_it():
    store = memory_store()
    out = list(writer(store, entry("overwrite", "full_refresh", (0, 0, 7))).run(
        messages(rec(1), rec(2), st(1), status("tickets", "COMPLETE"))))
    assert truncations(store) == [("tickets", "g0.s7")]
    assert {r["_ab_gen"] for r in store.rows.values()} == {"g0.s7"}
    assert [c[:2] for c in store.calls if c[0] in ("write", "delete_stream_rows_except")] == [
        ("write", 2), ("delete_stream_rows_except", "tickets")]  # the delete comes after every write
    assert any("truncate" in m.log.message for m in out if m.log)


def test_retaining_sync_truncates_nothing():
    store = memory_store()
    list(writer(store, entry("append_dedup", "incremental", (2, 0, 8))).run(messages(rec(1), st(1))))
    assert truncations(store) == []




def test_stream_reported_complete_is_truncated():
    store = memory_store()
    list(writer(store, entry("overwrite", "full_refresh", (0, 0, 9))).run(
        messages(rec(1), st(1), status("tickets", "COMPLETE"))))
    assert truncations(store) == [("tickets", "g0.s9")]


@pytest.mark.parametrize("statuses", [["INCOMPLETE"], ["STARTED", "RUNNING"]])
def test_stream_not_reported_complete_keeps_earlier_rows(statuses):
    """The source did not end the stream (platform: no COMPLETE after a failed source): no truncation."""
    store = memory_store()
    trailer = [status("tickets", s) for s in statuses]
    out = list(writer(store, entry("overwrite", "full_refresh", (0, 0, 10)),
                      entry("overwrite", "full_refresh", (0, 0, 10), name="articles")).run(
        messages(rec(1), st(1), *trailer, status("articles", "COMPLETE"))))
    assert truncations(store) == [("articles", "g0.s10")]
    warnings = [m.log.message for m in out if m.log and m.log.level.value == "WARN"]
    assert any("'tickets'" in w and "kept" in w for w in warnings), warnings
    assert [m for m in out if m.state]  # the records before the state are still acknowledged


def test_platform_input_without_any_status_keeps_earlier_rows():
    """The platform sends COMPLETE after a successful source and nothing after a failed one, whose input
    just ends: with platform generation fields and no status at all, truncating would empty the stream
    down to a failed job's partial data, so the earlier rows stay and a warning says why."""
    store = memory_store()
    out = list(writer(store, entry("overwrite", "full_refresh", (0, 0, 11))).run(messages(rec(1), st(1))))
    assert truncations(store) == []
    warnings = [m.log.message for m in out if m.log and m.log.level.value == "WARN"]
    assert any("'tickets'" in w and "COMPLETE" in w and "kept" in w for w in warnings), warnings
    assert [m for m in out if m.state]


@pytest.mark.parametrize("fields", [None, (1, 1, 1)])
def test_input_without_platform_fields_truncates_at_its_end(fields):
    """No generation fields, or PyAirbyte's 1/1/1: no statuses are sent, the end of input is the end."""
    store = memory_store()
    w = writer(store, entry("overwrite", "full_refresh", fields))
    list(w.run(messages(rec(1), st(1))))
    assert truncations(store) == [("tickets", w.run_id)]
