"""bench/scale.py's own judgement: what counts as a stale, lost or duplicated row, which records a
sync changes, the straight-line extrapolation and the targets' verdicts. Nothing here talks to
Milvus; the benchmark does, and trusts these."""

from __future__ import annotations

import random
from array import array

import pytest

from bench.scale import (FIRST_ORG_ID, ORGS, extrapolate, index_built, is_quiet, judge, linear_fit, org_of, p90,
                         parse_sizes, plan_sync, targets, template_of)


def row(record, chunk, text="t"):
    return {"_ab_record_id": record, "_ab_chunk": chunk, "text": text}


def test_a_record_with_exactly_its_current_rows_is_clean():
    expected = {"a": (2, None), "b": (1, "[rev 1]")}
    rows = [row("a", 0), row("a", 1), row("b", 0, "x [rev 1] y")]
    assert judge(expected, rows) == {"records": 2, "stale": 0, "lost": 0, "duplicates": 0, "unexpected": 0}


def test_rows_of_an_earlier_version_are_stale_and_a_missing_chunk_is_lost():
    # b was changed to a one-chunk text: its old text and its old second chunk are both stale
    expected = {"a": (2, None), "b": (1, "[rev 2]")}
    rows = [row("a", 0), row("b", 0, "old text"), row("b", 1, "old tail")]
    tally = judge(expected, rows)
    assert (tally["stale"], tally["lost"], tally["duplicates"]) == (2, 2, 0)  # a#1 and b#0 (new) missing


def test_a_chunk_stored_twice_is_a_duplicate_and_other_records_are_unexpected():
    tally = judge({"a": (1, None)}, [row("a", 0), row("a", 0), row("z", 0)])
    assert (tally["duplicates"], tally["unexpected"], tally["lost"], tally["stale"]) == (1, 1, 0, 0)


def test_a_sync_changes_distinct_existing_records_some_of_several_rows_and_adds_the_next_ones():
    rows_of = array("B", [1] * 1000)
    for i in range(0, 1000, 50):
        rows_of[i] = 3
    changed, new = plan_sync(rows_of, 1000, random.Random(1), changed=100, new=10, several=5)
    assert len(changed) == len(set(changed)) == 100 and all(0 <= i < 1000 for i in changed)
    assert sum(rows_of[i] > 1 for i in changed) >= 5
    assert new == list(range(1000, 1010))


def test_a_sync_needs_enough_records_to_change():
    with pytest.raises(SystemExit):
        plan_sync(array("B", [1] * 10), 10, random.Random(1), changed=20)


def test_every_organization_gets_every_template_as_the_collection_grows():
    pairs = {(template_of(i), org_of(i)) for i in range(200 * ORGS)}
    assert len(pairs) == 200 * ORGS
    assert {org_of(i) for i in range(1000)} <= set(range(FIRST_ORG_ID, FIRST_ORG_ID + ORGS))


def test_sizes_are_read_with_suffixes_and_sorted():
    assert parse_sizes("300k, 10000,1m") == [10_000, 300_000, 1_000_000]
    with pytest.raises(SystemExit):
        parse_sizes("ten")


def test_the_extrapolation_is_the_least_squares_line():
    assert linear_fit([1, 2, 3], [2, 4, 6]) == pytest.approx((2.0, 0.0))
    assert extrapolate({10_000: 5.0, 100_000: 6.0, 300_000: 8.0}, 1_000_000) == pytest.approx(
        1_000_000 * linear_fit([10_000, 100_000, 300_000], [5.0, 6.0, 8.0])[0]
        + linear_fit([10_000, 100_000, 300_000], [5.0, 6.0, 8.0])[1])
    assert extrapolate({10_000: 5.0}, 1_000_000) is None
    assert extrapolate({10_000: 12.9, 100_000: 7.1}, 1_000_000) == 7.1  # a falling line: noise, held flat


def test_p90_is_a_measured_sample():
    assert p90([float(i) for i in range(1, 11)]) == 9.0
    assert p90([3.0]) == 3.0


def _shape(per_record_ms, lookup_ms, stale=0):
    return {"per_record_ms": per_record_ms, "lookup": {"median_ms": lookup_ms, "p90_ms": lookup_ms + 1},
            "check": {"records": 10, "stale": stale, "lost": 0, "duplicates": 0, "count_diff": 0}}


def test_the_targets_compare_the_largest_size_with_the_smallest_of_the_same_run():
    results = {"sizes": {
        "10000": {"tutorial": _shape(5.0, 30.0), "created": _shape(4.0, 8.0), "migrated": None},
        "300000": {"tutorial": _shape(9.0, 400.0, stale=1), "created": _shape(4.4, 9.0),
                   "migrated": {"lookup": {"median_ms": 10.0, "p90_ms": 12.0}}},
    }}
    verdicts = {name.split(":")[0] if ":" in name else name: status for name, _, _, status in targets(results)}
    assert verdicts["tutorial"] == "NOT met"  # 1.8x
    assert verdicts["created"] == "met"  # 1.1x, and the lookup line below
    assert verdicts["migrated vs created lookup at 300,000 rows"] == "met"  # 10 / 9 ms
    assert verdicts["stale / lost / duplicated rows, count mismatch"] == "NOT met"


def test_a_target_stated_at_300k_says_so_when_the_run_was_smaller():
    results = {"sizes": {"5000": {"tutorial": _shape(5.0, 30.0), "created": _shape(4.0, 8.0), "migrated": None},
                         "20000": {"tutorial": _shape(5.1, 31.0), "created": _shape(4.0, 8.0), "migrated": None}}}
    statuses = [status for *_, status in targets(results)]
    assert "met (target is at 300k)" in statuses and "not measured" in statuses


def test_the_index_counts_as_built_when_nothing_waits_or_it_covers_every_row():
    assert index_built({"pending_index_rows": 0, "indexed_rows": 0, "total_rows": 5000})
    assert index_built({"pending_index_rows": 1864, "indexed_rows": 101864, "total_rows": 100000})  # a compaction queued
    assert not index_built({"pending_index_rows": 5000, "indexed_rows": 0, "total_rows": 5000})


def test_the_server_is_quiet_only_after_enough_idle_windows_in_a_row():
    assert not is_quiet([], threshold=0.2, needed=2)
    assert not is_quiet([0.1], threshold=0.2, needed=2)
    assert not is_quiet([0.05, 0.9], threshold=0.2, needed=2)
    assert is_quiet([1.5, 0.1, 0.05], threshold=0.2, needed=2)
