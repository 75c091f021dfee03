"""Overwrite, refreshes and clears with catalogs shaped exactly as the platform and PyAirbyte send
them, on both backends and both collection kinds (the tutorial's hand-made auto-id collection and
one the connector creates); CDC deletes and append_dedup in the same runs, since they share the
delete path.

Platform shapes (airbyte-platform `CatalogGenerationSetter`): `sync_id` is the job id (new per job,
shared by its attempts); `generation_id` is the stream's generation (0 until the first refresh or
clear); `minimum_generation_id` equals it when the sync truncates (full-refresh overwrite, "refresh
and remove records", clear) and is 0 otherwise. PyAirbyte shapes: written by PyAirbyte's own
`CatalogProvider` (in `.venv-pyairbyte`), as `Destination.write` does: 1/1/1 on every write.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
from pathlib import Path

import pytest

from test_support.tutorial_collection import create_tutorial_collection
from test_support.zendesk_sample import configured_catalog, generate_messages

from .helpers import REPO, backend_named, make_config, record, run_connector, state, stream_status
from .reliability import (LiveRun, Oracle, assert_exact, encode,
                          numbered_states, secrets_in, state_seq, stored_rows)

PYAIRBYTE_PYTHON = REPO / ".venv-pyairbyte" / "bin" / "python"


def platform_catalog(mode: str, generation: int, minimum: int, sync_id: int) -> dict:
    """As the platform sends it: full_refresh for overwrite, incremental otherwise, plus the three fields."""
    catalog = configured_catalog(mode)
    for entry in catalog["streams"]:
        entry.update(sync_mode="full_refresh" if mode == "overwrite" else "incremental", generation_id=generation,
                     minimum_generation_id=minimum, sync_id=sync_id)
    return catalog


@pytest.fixture(params=["auto_id", "created"])
def target(request, backend, collection_name):
    """(backend, collection, config): the tutorial's auto-id collection, or one the connector creates."""
    yield from _target(request.param, backend, collection_name)


@pytest.fixture(params=[("auto_id", "lite"), ("created", "server")], ids=["auto_id-lite", "created-server"])
def paired_target(request, tmp_path, collection_name):
    """As `target`, each shape on one backend: for tests whose path does not depend on the pairing
    (every shape and every backend still run; the whole matrix would repeat them at CI's expense)."""
    shape, backend_name = request.param
    yield from _target(shape, backend_named(backend_name, request, tmp_path), collection_name)


def _target(shape, backend, collection_name):
    if shape == "auto_id":
        with backend.connect() as client:
            create_tutorial_collection(client, collection_name)
    config = make_config(backend, collection_name, create=shape == "created")
    yield backend, collection_name, config


def completed(catalog, messages):
    """The input as the platform ends it after the source exited 0: with platform generation fields
    (not PyAirbyte's 1/1/1), a COMPLETE status per stream, unless the test sent statuses itself."""
    fields = [(e.get("generation_id"), e.get("minimum_generation_id"), e.get("sync_id")) for e in catalog["streams"]]
    if any(f[2] is None or f == (1, 1, 1) for f in fields) or any(
            isinstance(m, dict) and m.get("type") == "TRACE" for m in messages):
        return messages
    return list(messages) + [stream_status(e["stream"]["name"], "COMPLETE") for e in catalog["streams"]]


def sync(tmp_path, config, catalog, messages):
    run = run_connector("write", tmp_path, config, catalog, completed(catalog, messages))
    assert run.returncode == 0, run.errors or run.stderr[-2000:]
    return run


def tickets(n, seed, mode="initial", articles=0):
    return list(generate_messages(n, articles, seed=seed, state_every=25, mode=mode))


def with_cdc_delete(messages, record_id):
    """The same messages plus a CDC delete of ticket `record_id` (as the Zendesk CDC shape carries it)."""
    out = copy.deepcopy(messages)
    data = next(m["record"]["data"] for m in out if m["type"] == "RECORD" and m["record"]["data"]["id"] == record_id)
    out.insert(-1, record("tickets", {**data, "_ab_cdc_deleted_at": "2025-03-01T00:00:00Z"}))
    return out


def tags(backend, name):
    return {r["_ab_gen"] for r in stored_rows(backend, name, ["_ab_gen"])}


def test_platform_overwrite_removes_records_deleted_at_the_source(target, tmp_path):
    """Consecutive overwrite jobs at generation 0 (both fields 0, new sync_id): each ends with exactly
    its own records; before, they shared generation "0" and nothing was ever removed."""
    backend, name, config = target
    first = tickets(60, seed=11, articles=6)
    sync(tmp_path, config, platform_catalog("overwrite", 0, 0, 101), first)
    assert_exact(stored_rows(backend, name), Oracle(config, first).expected())
    second = tickets(20, seed=11, mode="update-paragraph", articles=2)  # 40 tickets, 4 articles deleted
    run = sync(tmp_path, config, platform_catalog("overwrite", 0, 0, 102), second)
    assert_exact(stored_rows(backend, name), Oracle(config, second).expected())
    assert tags(backend, name) == {"g0.s102"}
    assert any("truncate" in line for line in run.logs("INFO"))


def test_refresh_remove_retain_clear_and_incremental_on_append_dedup(target, tmp_path):
    """append_dedup through a stream's life: incremental syncs at generation 0 keep (dedup, CDC delete);
    "refresh and remove records" (1/1) ends with exactly its records; the incremental syncs after it
    (1/0) keep; "refresh and retain" (2/0) keeps; a clear (3/3, no records) empties the streams."""
    backend, name, config = target
    initial = tickets(60, seed=21, articles=4)
    sync(tmp_path, config, platform_catalog("append_dedup", 0, 0, 201), initial)
    updates = with_cdc_delete(tickets(10, seed=21, mode="update-paragraph"), initial[0]["record"]["data"]["id"])
    sync(tmp_path, config, platform_catalog("append_dedup", 0, 0, 202), updates)
    assert_exact(stored_rows(backend, name), Oracle(config, initial + updates).expected())

    refresh = tickets(25, seed=21, mode="update-paragraph", articles=2)
    sync(tmp_path, config, platform_catalog("append_dedup", 1, 1, 203), refresh)
    assert_exact(stored_rows(backend, name), Oracle(config, refresh).expected())  # 35 tickets, 2 articles gone

    after = with_cdc_delete(tickets(3, seed=21), refresh[1]["record"]["data"]["id"])
    after += [record("tickets", {**refresh[2]["record"]["data"], "id": 999_001}), state("tickets", "z")]
    sync(tmp_path, config, platform_catalog("append_dedup", 1, 0, 204), after)
    retain = tickets(5, seed=21, mode="update-paragraph")
    sync(tmp_path, config, platform_catalog("append_dedup", 2, 0, 205), retain)
    assert_exact(stored_rows(backend, name), Oracle(config, refresh + after + retain).expected())

    clear = [state("tickets", "cleared"), state("articles", "cleared")]
    sync(tmp_path, config, platform_catalog("append_dedup", 3, 3, 206), clear)
    assert stored_rows(backend, name) == []


def test_retaining_append_keeps_every_version_and_refresh_remove_truncates(target, tmp_path):
    backend, name, config = target
    first = tickets(15, seed=31)
    sync(tmp_path, config, platform_catalog("append", 0, 0, 301), first)
    sync(tmp_path, config, platform_catalog("append", 0, 0, 302), first)
    per_record = {}
    for row in stored_rows(backend, name):
        per_record.setdefault(row["_ab_record_id"], []).append(row["_ab_chunk"])
    expected = Oracle(config, first).expected()
    assert per_record.keys() == expected.keys()
    assert all(sorted(c) == sorted(2 * [i for i, _ in expected[r]["chunks"]]) for r, c in per_record.items())
    second = tickets(5, seed=31, mode="update-paragraph")
    sync(tmp_path, config, platform_catalog("append", 1, 1, 303), second)
    assert_exact(stored_rows(backend, name), Oracle(config, second).expected())


# --- PyAirbyte ----------------------------------------------------------------------------------

_PYAIRBYTE_CATALOGS = """
import json
from airbyte_protocol.models import (AirbyteStream, ConfiguredAirbyteCatalog, ConfiguredAirbyteStream,
                                     DestinationSyncMode, SyncMode)
from airbyte.shared.catalog_providers import CatalogProvider
from airbyte.strategies import WriteStrategy

# as Source.get_configured_catalog builds it (generation fields None), then Destination.write:
# CatalogProvider(...) fills in 1/1/1, with_write_strategy(...) sets the destination sync mode
streams = [ConfiguredAirbyteStream(
    stream=AirbyteStream(name=name, json_schema={"type": "object"},
                         supported_sync_modes=[SyncMode.full_refresh, SyncMode.incremental], source_defined_cursor=True,
                         default_cursor_field=["updated_at"], source_defined_primary_key=[["id"]]),
    destination_sync_mode=DestinationSyncMode.overwrite, sync_mode=SyncMode.incremental, primary_key=[["id"]],
    cursor_field=["updated_at"], generation_id=None, minimum_generation_id=None, sync_id=None)
    for name in ("tickets", "articles")]
provider = CatalogProvider(ConfiguredAirbyteCatalog(streams=streams))
print(json.dumps({strategy: json.loads(provider.with_write_strategy(WriteStrategy(strategy)).configured_catalog
                                       .model_dump_json(exclude_none=True))
                  for strategy in ("append", "merge", "replace", "auto")}))
"""


@pytest.fixture(scope="module")
def pyairbyte_catalogs() -> dict[str, dict]:
    if not PYAIRBYTE_PYTHON.exists():
        pytest.skip("no .venv-pyairbyte: run scripts/setup.sh --test")
    env = {**os.environ, "AIRBYTE_OFFLINE_MODE": "1", "DO_NOT_TRACK": "1"}
    out = subprocess.run([str(PYAIRBYTE_PYTHON), "-c", _PYAIRBYTE_CATALOGS], capture_output=True, text=True,
                         timeout=120, env=env, cwd=Path(__file__).parent)
    assert out.returncode == 0, out.stderr[-2000:]
    catalogs = json.loads(out.stdout.strip().splitlines()[-1])
    for strategy, mode in (("append", "append"), ("merge", "append_dedup"), ("replace", "overwrite"),
                           ("auto", "append_dedup")):
        shapes = {(s["destination_sync_mode"], s["generation_id"], s["minimum_generation_id"], s["sync_id"])
                  for s in catalogs[strategy]["streams"]}
        assert shapes == {(mode, 1, 1, 1)}, (strategy, shapes)  # what this suite's cases rely on
    return catalogs


@pytest.mark.parametrize("strategy", ["append", "merge", "replace"])
def test_pyairbyte_write_strategies_do_what_their_names_say(strategy, pyairbyte_catalogs, paired_target, tmp_path):
    """Two PyAirbyte writes (the same 1/1/1 each time): append keeps every version, merge keeps the
    latest of every record (CDC delete applied), replace ends with exactly the second write's records."""
    backend, name, config = paired_target
    catalog = pyairbyte_catalogs[strategy]
    first = tickets(20, seed=41, articles=3)
    sync(tmp_path, config, catalog, first)
    second = with_cdc_delete(tickets(8, seed=41, mode="update-paragraph"), first[0]["record"]["data"]["id"])
    sync(tmp_path, config, catalog, second)
    found = stored_rows(backend, name)
    if strategy == "merge":
        assert_exact(found, Oracle(config, first + second).expected())
    elif strategy == "replace":
        assert_exact(found, Oracle(config, second).expected())
    else:  # append: every version of every record, except the CDC-deleted record's
        deleted = f"tickets_{first[0]['record']['data']['id']}"
        versions = {}
        for m in first + second:
            if m["type"] == "RECORD" and "_ab_cdc_deleted_at" not in m["record"]["data"]:
                rid = f"{m['record']['stream']}_{m['record']['data']['id']}"
                versions.setdefault(rid, []).extend(c for c, _ in Oracle(config, [m]).expected()[rid]["chunks"])
        versions.pop(deleted)
        per_record = {}
        for row in found:
            per_record.setdefault(row["_ab_record_id"], []).append(row["_ab_chunk"])
        assert {r: sorted(c) for r, c in per_record.items()} == {r: sorted(c) for r, c in versions.items()}


# --- kill -9 mid-sync, then the job's next attempt -----------------------------------------------


@pytest.mark.parametrize("shape", ["overwrite", "refresh_remove"])
def test_kill9_mid_truncating_sync_then_next_attempt_of_the_same_job(shape, paired_target, tmp_path):
    """A truncating job (overwrite at generation 0, or "refresh and remove" of append_dedup) killed
    half way: every record of the previous job is still there (old-only ones unchanged). The job's
    next attempt (same sync_id) resumes after the last echoed STATE and ends with exactly the job's
    records: the first attempt's rows before that STATE kept, records it re-sends replaced, the
    previous job's rows (including records deleted at the source) removed."""
    backend, name, config = paired_target
    mode, before, job = ("overwrite", (0, 0), (0, 0)) if shape == "overwrite" else ("append_dedup", (0, 0), (1, 1))
    old = numbered_states(tickets(200, seed=51, articles=8))
    sync(tmp_path, config, platform_catalog(mode, *before, 401), old)
    old_expected = Oracle(config, old).expected()
    assert_exact(stored_rows(backend, name), old_expected)

    new = numbered_states(tickets(120, seed=51, mode="update-paragraph", articles=4))  # 80 tickets, 4 articles gone
    new_expected = Oracle(config, new).expected()
    lines = encode(new)
    state_at = [i for i, m in enumerate(new) if m["type"] == "STATE"]
    cut = state_at[len(state_at) // 2] + 10  # ten records past a STATE: unacknowledged, sent again by attempt 2
    catalog = platform_catalog(mode, *job, 402)
    attempt = LiveRun(tmp_path, config, catalog, lines[:cut], close_stdin=False)  # stdin open: it cannot end
    acknowledged = attempt.wait_states(sum(1 for i in state_at if i < cut), timeout=240)
    assert acknowledged, attempt.errors or attempt.stderr[-2000:]
    attempt.kill9()
    assert attempt.killed
    assert not secrets_in(attempt.stdout + attempt.stderr)

    found = stored_rows(backend, name)
    by_record: dict[str, set] = {}
    for row in found:
        by_record.setdefault(row["_ab_record_id"], set()).add((row["_ab_chunk"], row["text"]))
    assert not [r for r in old_expected if r not in by_record], "old records lost by the killed attempt"
    for record_id, chunks in by_record.items():
        if record_id not in new_expected:
            assert chunks == old_expected[record_id]["chunks"], f"{record_id}: old-only record changed"
    assert len(tags(backend, name)) == 2  # the previous job's rows and this attempt's

    seq_index = {state_seq(new[i]["state"]): i for i in state_at}
    resumed = sync(tmp_path, config, catalog, new[seq_index[state_seq(attempt.states[-1])] + 1:])
    assert_exact(stored_rows(backend, name), new_expected)
    assert tags(backend, name) == {f"g{job[0]}.s402"}
    assert not [line for line in resumed.logs("WARN") if "earlier syncs" in line]


@pytest.mark.slow
@pytest.mark.parametrize("strategy,counts,expected", [("replace", "50,20", 20), ("append", "30,30", 60)])
def test_real_pyairbyte_replace_and_append(strategy, counts, expected, tmp_path):
    """PyAirbyte itself (source-faker -> our console script -> Milvus Lite), two writes per strategy:
    replace ends with the second write's records only; append keeps both writes' rows."""
    import sys

    from .helpers import Backend, rows

    if not PYAIRBYTE_PYTHON.exists():
        pytest.skip("no .venv-pyairbyte: run scripts/setup.sh --test")
    console_script = Path(sys.executable).parent / "destination-milvus-zendesk"
    db = tmp_path / "faker.db"
    env = {**os.environ, "AIRBYTE_OFFLINE_MODE": "1", "DO_NOT_TRACK": "1",
           "AIRBYTE_LOGGING_ROOT": str(tmp_path / "logs"), "AIRBYTE_PROJECT_DIR": str(tmp_path),
           "PATH": f"{PYAIRBYTE_PYTHON.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    proc = subprocess.run([str(PYAIRBYTE_PYTHON), str(REPO / "integration_tests" / "pyairbyte_sync.py"), "--db",
                           str(db), "--destination", str(console_script), "--strategy", strategy, "--counts", counts],
                          capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)
    assert proc.returncode == 0, f"stdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-5000:]}"
    first, second = (int(c) for c in counts.split(","))
    assert json.loads(proc.stdout.strip().splitlines()[-1])["written"] == [2 * first, 2 * second]
    found = rows(Backend("lite", str(db), {"mode": "no_auth"}, None), "faker")
    for stream in ("users", "products"):
        ids = sorted(r["_id"] for r in found if r["_ab_stream"] == stream)
        if strategy == "replace":
            assert ids == list(range(1, second + 1)), (stream, len(ids))
        else:
            assert len(ids) == expected and set(ids) == set(range(1, first + 1)), (stream, len(ids))


def test_stream_not_reported_complete_keeps_its_earlier_rows(paired_target, tmp_path):
    """An overwrite job whose tickets stream is reported INCOMPLETE keeps the previous job's tickets (a
    warning says so) while its COMPLETE articles stream is truncated; the next attempt of the job,
    reported COMPLETE, ends with exactly the job's records."""
    backend, name, config = paired_target
    old = tickets(30, seed=61, articles=4)
    sync(tmp_path, config, platform_catalog("overwrite", 0, 0, 501), old)
    new = tickets(10, seed=61, mode="update-paragraph", articles=2)
    catalog = platform_catalog("overwrite", 0, 0, 502)
    run = sync(tmp_path, config, catalog, new + [stream_status("tickets", "INCOMPLETE"),
                                                 stream_status("articles", "COMPLETE")])
    assert any("'tickets'" in line and "INCOMPLETE" in line for line in run.logs("WARN")), run.logs("WARN")
    found = {r["_ab_record_id"] for r in stored_rows(backend, name)}
    old_ids, new_ids = set(Oracle(config, old).expected()), set(Oracle(config, new).expected())
    assert found == {r for r in old_ids | new_ids if r.startswith("tickets")} | {r for r in new_ids
                                                                                 if r.startswith("articles")}
    sync(tmp_path, config, catalog, [stream_status("tickets", "COMPLETE"), stream_status("articles", "COMPLETE")])
    assert_exact(stored_rows(backend, name), Oracle(config, new).expected())


def test_catalog_without_generation_fields_behaves_as_before(paired_target, tmp_path):
    """No generation_id/minimum_generation_id/sync_id (older platforms, hand-written catalogs): each run
    is its own job; overwrite ends with exactly its records, append_dedup keeps older ones."""
    backend, name, config = paired_target
    first, second = tickets(20, seed=71, articles=2), tickets(6, seed=71, mode="update-paragraph")
    sync(tmp_path, config, configured_catalog("append_dedup"), first)
    sync(tmp_path, config, configured_catalog("append_dedup"), second)
    assert_exact(stored_rows(backend, name), Oracle(config, first + second).expected())
    overwrite = configured_catalog("overwrite")
    for entry in overwrite["streams"]:
        entry["sync_mode"] = "full_refresh"
    sync(tmp_path, config, overwrite, first)
    sync(tmp_path, config, overwrite, second)
    assert_exact(stored_rows(backend, name), Oracle(config, second).expected())
