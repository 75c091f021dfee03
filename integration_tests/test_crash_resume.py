"""Crash and resume: `kill -9` the connector at seeded random points of a multi-thousand-record
append_dedup sync, resume each time from the last STATE it echoed (feeding only the messages after
it, as the platform does), and require the collection to end with exactly the chunks of every
record's latest version: nothing lost, nothing duplicated, nothing stale.

Kill points (seeded): when the collection first appears (server: mid-creation), after N STATE
lines, a random delay after a STATE (mid-batch), or a random delay after start (startup, connect,
first batches). After every kill the checkpoint invariant is checked: every record before the last
echoed STATE is in the collection.
"""

from __future__ import annotations

import copy
import random
import time

import pytest
from pymilvus import MilvusClient

from test_support.tutorial_collection import create_tutorial_collection
from test_support.zendesk_sample import configured_catalog, generate_messages

from .helpers import complete, make_config
from .reliability import (LiveRun, Oracle, assert_exact, encode, figure,
                          note, numbered_states, state_seq, stored_rows)

STATE_EVERY = 25
GROWN = "\n\n".join(f"Update {k}: after the migration the export still stalls at {k}% on quoted newlines, "
                    "and the retry button does nothing; logs attached below. " * 6 for k in range(30))


def crash_input(n_tickets: int, n_articles: int, seed: int) -> list[dict]:
    """Initial sync, then updates of the same ids (text edits, shrinking and growing multi-chunk
    records, CDC deletes, article paragraph edits), then records changed twice back to back."""
    rng = random.Random(seed)
    initial = list(generate_messages(n_tickets, n_articles, seed=seed, state_every=STATE_EVERY))
    updates = [copy.deepcopy(m) for m in generate_messages(n_tickets // 2, n_articles, seed=seed,
                                                           state_every=STATE_EVERY, mode="update-paragraph")]
    for m in updates:
        if m["type"] != "RECORD" or m["record"]["stream"] != "tickets":
            continue
        data = m["record"]["data"]
        roll = rng.random()
        if len(data.get("description") or "") > 3000:
            data["description"] = data["description"][:300]  # multi-chunk ticket shrinks to one chunk
        elif roll < 0.05:
            data["_ab_cdc_deleted_at"] = data["updated_at"]
        elif roll < 0.08:
            data["description"] = GROWN  # one chunk grows to several
        elif roll < 0.30:
            data["description"] += f"\n\nFollow-up {data['id']}: the customer confirmed the workaround."
    tickets = [m["record"]["data"] for m in initial if m["type"] == "RECORD" and m["record"]["stream"] == "tickets"]
    twice = []
    for data in rng.sample(tickets, 30):
        for version in (3, 4):
            changed = copy.deepcopy(data)
            changed["description"] = f"Version {version} of ticket {data['id']}: " + data["description"][:500]
            changed["updated_at"] = f"2025-02-0{version}T00:00:00Z"
            twice.append({"type": "RECORD", "record": {"stream": "tickets", "data": changed, "emitted_at": 1}})
    twice.append({"type": "STATE", "state": {"type": "STREAM", "stream": {
        "stream_descriptor": {"name": "tickets"}, "stream_state": {"updated_at": "2025-02-04T00:00:00Z"}}}})
    return numbered_states(initial + updates + twice)


REPAIRS = ("interrupted creation", "stopped before setting its properties")


def kill_plan(rng: random.Random, attempt: int, backend) -> tuple[str, float]:
    if attempt == 0:
        return ("collection_appears", 0) if backend.name == "server" else ("delay", rng.uniform(1.0, 3.0))
    kind = rng.choice(["states", "states", "after_state", "delay"])
    if kind == "states":
        return kind, rng.randint(1, 3)
    if kind == "after_state":
        return kind, rng.uniform(0.0, 1.5)
    return kind, rng.uniform(0.5, 5.0)


def trigger(run: LiveRun, plan: tuple[str, float], backend, name: str) -> bool:
    """Wait for the kill point; False if the run ended first."""
    kind, value = plan
    if kind == "collection_appears":  # most likely between create_collection and its indexes/properties
        client = MilvusClient(uri=backend.host, token=backend.token, timeout=5)
        try:
            deadline = time.monotonic() + 60
            while run.proc.poll() is None and time.monotonic() < deadline:
                if client.has_collection(name):
                    return True
                time.sleep(0.005)
            return False
        finally:
            client.close()
    if kind == "states":
        return run.wait_states(int(value), timeout=120) and run.proc.poll() is None
    if kind == "after_state":
        if not run.wait_states(1, timeout=120):
            return False
        time.sleep(value)
        return run.proc.poll() is None
    return not run.wait_for(lambda r: r.proc.poll() is not None, timeout=value)


def crash_and_resume(backend, name, tmp_path, *, n_tickets, n_articles, kills, seed, shape=""):
    config = make_config(backend, name, create=True)
    catalog = configured_catalog("append_dedup")
    messages = crash_input(n_tickets, n_articles, seed)
    oracle = Oracle(config, messages)
    lines = encode(messages)
    seq_index = {state_seq(m["state"]): i for i, m in enumerate(messages) if m["type"] == "STATE"}
    rng = random.Random(seed)
    start, survived, runs, checkpoint = 0, 0, 0, -1
    kinds, timings, half_created, repairs = [], [], None, []
    started = time.monotonic()
    while True:
        runs += 1
        assert runs <= kills + 10, "too many runs: the sync does not make progress"
        run = LiveRun(tmp_path, config, catalog, lines[start:])
        plan = kill_plan(rng, survived, backend) if survived < kills else None
        if plan is not None and trigger(run, plan, backend, name):
            run.kill9()
            survived += 1
            kinds.append(plan[0])
        rc = run.wait()
        timings.append(f"{time.monotonic() - run.started:.1f}")
        repairs += [line for line in run.logs("WARN") if any(words in line for words in REPAIRS)]
        run.scan("crash_resume")
        if run.killed and plan[0] == "collection_appears":
            with backend.connect() as client:
                half_created = not client.list_indexes(name, field_name="vector")
        if run.states:
            checkpoint = seq_index[state_seq(run.states[-1])]
            start = checkpoint + 1
        if run.killed:
            if checkpoint >= 0:  # every record before the last echoed STATE is stored
                stored_ids = {r["_ab_record_id"] for r in stored_rows(backend, name, ["_ab_record_id"])}
                missing = oracle.must_be_stored_at_checkpoint(checkpoint) - stored_ids
                assert not missing, (f"after kill {survived} ({plan}): STATE echoed for unstored records "
                                     f"{sorted(missing)[:5]}")
            continue
        assert rc == 0, f"run {runs} failed: {run.errors or run.stderr[-2000:]}"
        if survived >= kills:
            break
        pytest.fail(f"the sync finished after only {survived} kills: make the input larger")
    found = stored_rows(backend, name)
    figures = assert_exact(found, oracle.expected())
    records = sum(1 for m in messages if m["type"] == "RECORD")
    section = f"crash_resume[{backend.name}{shape}]"
    figure(section, kill_points_survived=survived, runs=runs, input_records=records,
           input_states=len(seq_index), records_lost=figures["records_lost"],
           records_duplicated=figures["records_duplicated"], records_stale=figures["records_wrong_chunks"]
           + figures["rows_stale_metadata"], final_rows=figures["rows"], final_records=figures["records_expected"])
    note(section, f"seed {seed}: {records} records, {survived} kills ({', '.join(kinds)}), {runs} runs, "
                  f"{time.monotonic() - started:.0f}s (runs: {'/'.join(timings)}s)"
                  + ("" if half_created is None else f"; first kill left the collection "
                     f"{'without' if half_created else 'with'} its vector index")
                  + (f"; repaired: {' / '.join(repairs)}" if repairs else ""))
    return survived


@pytest.mark.server
def test_kill9_and_resume_on_the_server(milvus_server, server_token, tmp_path, collection_name):
    from .helpers import Backend

    backend = Backend("server", milvus_server.uri, {"mode": "token", "token": server_token}, server_token)
    assert crash_and_resume(backend, collection_name, tmp_path, n_tickets=2000, n_articles=40, kills=11,
                            seed=20240501) >= 11


@pytest.mark.server
def test_kill9_and_resume_into_the_tutorial_collection(milvus_server, server_token, tmp_path, collection_name):
    """The tutorial's hand-made auto-id collection: rows listed by one read per group of batches and
    removed by key, killed between a batch's write and its deletes as often as anywhere else."""
    from .helpers import Backend

    backend = Backend("server", milvus_server.uri, {"mode": "token", "token": server_token}, server_token)
    with backend.connect() as client:
        create_tutorial_collection(client, collection_name)
    assert crash_and_resume(backend, collection_name, tmp_path, n_tickets=2500, n_articles=40, kills=6,
                            seed=20240503, shape=", tutorial") >= 6


@pytest.mark.slow
def test_kill9_and_resume_on_milvus_lite(tmp_path, collection_name):
    from .helpers import Backend

    backend = Backend("lite", str(tmp_path / "milvus.db"), {"mode": "no_auth"}, None)
    assert crash_and_resume(backend, collection_name, tmp_path, n_tickets=1600, n_articles=30, kills=10,
                            seed=20240502) >= 10


def overwrite_catalog(generation: int) -> dict:
    catalog = configured_catalog("overwrite")
    for entry in catalog["streams"]:
        entry.update(sync_mode="full_refresh", generation_id=generation, minimum_generation_id=generation,
                     sync_id=generation)
    return catalog


def test_overwrite_killed_half_way_keeps_the_old_data(backend, collection_name, tmp_path):
    """kill -9 half way through an overwrite with a new generation: the old generation is still complete
    and searchable; resuming the same generation from its last STATE ends with exactly the new data."""
    config = make_config(backend, collection_name, create=True)
    old = numbered_states(generate_messages(240, 10, seed=5, state_every=STATE_EVERY))
    new = numbered_states(generate_messages(180, 6, seed=6, state_every=STATE_EVERY))
    old_oracle, new_oracle = Oracle(config, old), Oracle(config, new)
    first = LiveRun(tmp_path, config, overwrite_catalog(1), encode(old))
    assert first.wait() == 0, first.errors
    assert_exact(stored_rows(backend, collection_name), old_oracle.expected())

    total_states = sum(1 for m in new if m["type"] == "STATE")
    run = LiveRun(tmp_path, config, overwrite_catalog(2), encode(new))
    assert run.wait_states(total_states // 2, timeout=240), run.errors or run.stderr[-2000:]
    run.kill9()
    run.scan("overwrite_interrupted")
    assert run.killed, "the overwrite finished before the kill: make it longer"
    figure("overwrite_interrupted", kill_points_survived=1)

    found = stored_rows(backend, collection_name)
    by_record: dict[str, set] = {}
    for row in found:
        by_record.setdefault(row["_ab_record_id"], set()).add((row["_ab_chunk"], row["text"]))
    old_expected, new_expected = old_oracle.expected(), new_oracle.expected()
    lost = [r for r in old_expected if r not in by_record]
    assert not lost, f"old records lost by an interrupted overwrite: {lost[:5]}"
    for record_id, chunks in by_record.items():
        old_chunks = old_expected.get(record_id, {"chunks": set()})["chunks"]
        new_chunks = new_expected.get(record_id, {"chunks": set()})["chunks"]
        if record_id not in new_expected:
            assert chunks == old_chunks, f"{record_id}: old-only record changed by the interrupted overwrite"
        else:
            assert chunks <= old_chunks | new_chunks and any(c == 0 for c, _ in chunks), record_id
    with backend.connect() as client:  # still searchable: an old-only record is found by its own text
        client.load_collection(collection_name)
        target = next(r for r in old_expected if r not in new_expected and r.startswith("tickets"))
        text = sorted(old_expected[target]["chunks"])[0][1]
        from destination_milvus_zendesk.embedding.local import FakeEmbedder

        hits = client.search(collection_name, data=FakeEmbedder().embed([text]), anns_field="vector", limit=3,
                             output_fields=["_ab_record_id"], consistency_level="Strong")[0]
        assert hits and hits[0]["entity"]["_ab_record_id"] == target

    seq_index = {state_seq(m["state"]): i for i, m in enumerate(new) if m["type"] == "STATE"}
    start = seq_index[state_seq(run.states[-1])] + 1 if run.states else 0
    catalog = overwrite_catalog(2)  # platform-shaped: the job ends with COMPLETE per stream (source exited 0)
    resumed = LiveRun(tmp_path, config, catalog,
                      encode(new[start:] + [complete(e["stream"]["name"]) for e in catalog["streams"]]))
    assert resumed.wait() == 0, resumed.errors or resumed.stderr[-2000:]
    resumed.scan("overwrite_interrupted")
    figures = assert_exact(stored_rows(backend, collection_name), new_expected)
    figure("overwrite_interrupted", records_lost=figures["records_lost"], old_records_checked=len(old_expected),
           stale_after_resume=figures["records_unexpected"] + figures["records_wrong_chunks"])
