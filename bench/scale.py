"""Syncs and lookups as the collection grows, for both collection shapes, on a Milvus server.

    python -m bench.scale [--sizes 10000,100000,300000] [--quick] [--uri URI --token TOKEN] [--docs]
    python -m bench.run --only scale [--quick] [--docs]

Shapes: the tutorial's hand-made collection (auto-id key, everything in dynamic fields: filters scan
JSON) and the collection the connector creates on its first sync (create_collection: true). For each
size, smallest first, each shape in turn:

* fill: a real sync of generated tickets and articles (test_support/zendesk_sample.py) gives the
  rows exactly as the connector stores them; the collection then grows to the size with copies of
  those rows under new ticket ids, spread over ORGS organizations, with deterministic random unit
  vectors, inserted with pymilvus in batches; then flush and wait for the vector index. The same
  collection grows from one size to the next. The copies are keyed as the connector keys them (the
  fill stops with an error if the synced rows do not follow the key it knows).
* lookup: `SupportSearch.lookup` (the form's call: unsolved statuses, one organization) for
  `--queries` generated cases, embeddings computed before the clock starts, on the collection just
  grown, flushed and indexed: median and p90. A server builds the indexes of all its collections in
  one queue: the wait is bounded (--index-wait) and the index coverage is reported with the figures.
  Then the bench waits (at most --quiet-wait) for the server to go idle: after a bulk fill it compacts
  for minutes on the same cores, which a collection grown over months does not.
* incremental sync: then `--syncs` runs of the connector's write command in a fresh process
  (bench/worker.py `connector`: `DestinationMilvusZendesk().run(["write", ...])`, what main.py runs,
  timed around that call), each of 1,000 records: 500 existing tickets with a new text and 500 new
  tickets, a STATE every `--state-every` records, embeddings from test_support/fake_openai.py (never
  a real API). Per record: the median run / 1,000. Peak RSS: getrusage ru_maxrss of that connector
  process (imports included).
* 0 stale / 0 lost: after each sync every record it sent is read back (strong reads): a changed
  ticket has exactly one row, carrying its new text; a new ticket has each of its chunks once; a
  sample of untouched tickets keeps its rows; the collection's row count is what the fill and the
  syncs add up to.
* migrate (tutorial shape): `python -m destination_milvus_zendesk.migrate --config CFG --to NEW
  --json`: its rows/s and tokens (and the fake server's own token counter), then the same lookups on
  NEW, which is dropped afterwards.

Ratios come from one run. Sizes not measured (1M unless asked for) are a straight-line fit of the
measured ones, labelled "by extrapolation". Every collection is named bench_scale_* and dropped at
the end (--keep leaves them).
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import importlib.util
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import types
from array import array
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Iterable, Sequence
from urllib.parse import urlparse

REPO = Path(__file__).resolve().parent.parent
PY = sys.executable
PREFIX = "bench_scale_"
SHAPES = ("tutorial", "created")
FULL_SIZES = (10_000, 100_000, 300_000)
QUICK_SIZES = (5_000, 20_000)
EXTRAPOLATE_TO = 1_000_000
TEMPLATE_TICKETS, TEMPLATE_ARTICLES = 200, 40
ORGS = 200
FIRST_TICKET_ID = 10_000_000  # the copies' Zendesk ids: far above the generator's
FIRST_ORG_ID = 900_000_000_000
CHANGED, NEW = 500, 500
SEVERAL_CHUNKS = 50  # changed tickets taken from tickets of several chunks: the extra chunks must go
UNTOUCHED_SAMPLE = 200
FILL_BATCH_ROWS = 1_000
DIMENSIONS = 1536
TEXT_FIELDS = ["body", "title", "description", "subject"]
BENCH_KEY = "sk-bench-0123456789"
MIGRATE_MODULE = "destination_milvus_zendesk.migrate"
QUIET_CORES = 0.2  # the server counts as idle below this CPU use (cores, over QUIET_WINDOW_S)
QUIET_WINDOW_S = 10.0
QUIET_WINDOWS = 2  # idle windows in a row
SYNC_TARGET_RATIO = 1.25
CREATED_LOOKUP_TARGET_MS = 25.0
TARGET_SIZE = 300_000  # the size the targets are stated at


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


# --- pure logic (unit_tests/test_bench_scale.py) -------------------------------------------------


def ticket_id(index: int) -> int:
    return FIRST_TICKET_ID + index


def template_of(index: int, templates: int = TEMPLATE_TICKETS) -> int:
    return index % templates


def org_of(index: int, templates: int = TEMPLATE_TICKETS, orgs: int = ORGS) -> int:
    """Each organization gets every template (so every status) as the collection grows."""
    return FIRST_ORG_ID + (index // templates + index) % orgs


def parse_sizes(text: str) -> list[int]:
    """"10k,100k,300000" -> [10000, 100000, 300000], sorted."""
    sizes = []
    for part in filter(None, (p.strip().lower() for p in text.split(","))):
        factor = {"k": 1_000, "m": 1_000_000}.get(part[-1], 1)
        number = part[:-1] if factor > 1 else part
        if not number.isdigit() or int(number) * factor <= 0:
            raise SystemExit(f"--sizes: {part!r} is not a row count (e.g. 10000 or 10k)")
        sizes.append(int(number) * factor)
    if not sizes:
        raise SystemExit("--sizes: give at least one row count (e.g. 10k,100k)")
    return sorted(set(sizes))


def plan_sync(rows_of: Sequence[int], next_index: int, rng: random.Random, changed: int = CHANGED,
              new: int = NEW, several: int = SEVERAL_CHUNKS) -> tuple[list[int], list[int]]:
    """Which existing records get a new text (some of them records of several rows) and the indexes
    of the new records (the next ones)."""
    if next_index < changed:
        raise SystemExit(f"the collection holds {next_index} records: too few to change {changed}")
    multi = [i for i in range(next_index) if rows_of[i] > 1]
    chosen = set(rng.sample(multi, min(several, len(multi))))
    while len(chosen) < changed:
        chosen.add(rng.randrange(next_index))
    return sorted(chosen), list(range(next_index, next_index + new))


def judge(expected: dict[str, tuple[int, str | None]], rows: Iterable[dict[str, Any]]) -> dict[str, int]:
    """Rows read back against what each record must have: `expected` record id -> (chunks, text marker
    every row must carry or None). Stale: a row of an earlier version (chunk index past the record's
    chunks, or without the marker); lost: a chunk with no row; duplicates: a chunk with several rows;
    unexpected: rows of records not asked about."""
    by_record: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_record[row["_ab_record_id"]].append(row)
    stale = lost = duplicates = 0
    for record_id, (chunks, marker) in expected.items():
        current: Counter[int] = Counter()
        for row in by_record.pop(record_id, []):
            if row["_ab_chunk"] >= chunks or (marker is not None and marker not in row["text"]):
                stale += 1
            else:
                current[row["_ab_chunk"]] += 1
        lost += sum(1 for chunk in range(chunks) if current[chunk] == 0)
        duplicates += sum(n - 1 for n in current.values() if n > 1)
    return {"records": len(expected), "stale": stale, "lost": lost, "duplicates": duplicates,
            "unexpected": sum(len(v) for v in by_record.values())}


def add_tallies(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
    return {key: a.get(key, 0) + b.get(key, 0) for key in set(a) | set(b)}


def is_quiet(cores_by_window: Sequence[float], threshold: float = QUIET_CORES, needed: int = QUIET_WINDOWS) -> bool:
    """Were the last `needed` windows of server CPU use (cores) all below `threshold`?"""
    return len(cores_by_window) >= needed and all(c < threshold for c in cores_by_window[-needed:])


def p90(samples: Sequence[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, -(-len(ordered) * 9 // 10) - 1)]


def linear_fit(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float]:
    """Least-squares (slope, intercept); one point: a flat line through it."""
    if len(xs) == 1:
        return 0.0, float(ys[0])
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    return slope, my - slope * mx


def extrapolate(points: dict[int, float], at: int) -> float | None:
    """The straight line through the measured (rows, value) points, at `at` rows; None under 2 points.
    A line that falls (noise: nothing gets cheaper with more rows) stays at the largest size's value."""
    if len(points) < 2:
        return None
    slope, intercept = linear_fit(list(points), list(points.values()))
    if slope <= 0:
        return points[max(points)]
    return slope * at + intercept


def targets(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(target, measured, goal, status) from one run's per-size results."""
    sizes = sorted(int(s) for s in results["sizes"])
    small, large = sizes[0], sizes[-1]
    at = {int(s): entry for s, entry in results["sizes"].items()}
    out = []
    if large > small:
        for shape in SHAPES:
            a, b = at[small][shape]["per_record_ms"], at[large][shape]["per_record_ms"]
            ratio = b / a
            out.append((f"{shape}: sync cost per record, {large:,} / {small:,} rows", f"{b:.2f} / {a:.2f} ms = "
                        f"{ratio:.2f}x", f"<= {SYNC_TARGET_RATIO}x",
                        _status(ratio <= SYNC_TARGET_RATIO, large, "at 300k")))
    created = at[large]["created"]["lookup"]["median_ms"]
    out.append((f"created: lookup median at {large:,} rows", f"{created:.1f} ms (p90 "
                f"{at[large]['created']['lookup']['p90_ms']:.1f})", f"<= {CREATED_LOOKUP_TARGET_MS:.0f} ms",
                _status(created <= CREATED_LOOKUP_TARGET_MS, large, "at 300k")))
    for size in sizes:
        migrated = at[size].get("migrated")
        if migrated and migrated.get("lookup"):
            ratio = migrated["lookup"]["median_ms"] / at[size]["created"]["lookup"]["median_ms"]
            out.append((f"migrated vs created lookup at {size:,} rows", f"{migrated['lookup']['median_ms']:.1f} / "
                        f"{at[size]['created']['lookup']['median_ms']:.1f} ms = {ratio:.2f}x", "as fast (<= 1.25x)",
                        "met" if ratio <= 1.25 else "NOT met"))
        elif size == large:
            out.append(("migrated vs created lookup", (migrated or {}).get("error", "migrate not available"),
                        "as fast", "not measured"))
    wrong = add_tallies({}, {})
    for size in sizes:
        for shape in SHAPES:
            wrong = add_tallies(wrong, at[size][shape]["check"])
    bad = wrong.get("stale", 0) + wrong.get("lost", 0) + wrong.get("duplicates", 0) + wrong.get("count_diff", 0)
    out.append(("stale / lost / duplicated rows, count mismatch", f"{wrong.get('stale', 0)} / {wrong.get('lost', 0)} "
                f"/ {wrong.get('duplicates', 0)}, {wrong.get('count_diff', 0)} ({wrong.get('records', 0)} record "
                "checks)", "0", "met" if bad == 0 else "NOT met"))
    return out


def _status(ok: bool, size: int, where: str) -> str:
    status = "met" if ok else "NOT met"
    return status if size >= TARGET_SIZE else f"{status} (target is {where})"


# --- the collections -----------------------------------------------------------------------------


class Templates:
    """The generated records and the rows a real sync stored for them: what the fill copies."""

    def __init__(self, work: Path) -> None:
        from test_support.zendesk_sample import dumps, generate_messages

        self.messages = work / "templates.jsonl"
        self.tickets: list[dict[str, Any]] = []
        with open(self.messages, "w", encoding="utf-8") as fh:
            for message in generate_messages(TEMPLATE_TICKETS, TEMPLATE_ARTICLES, n_orgs=ORGS, state_every=100):
                fh.write(dumps(message) + "\n")
                if message["type"] == "RECORD" and message["record"]["stream"] == "tickets":
                    self.tickets.append(message["record"]["data"])

    def rows_by_ticket(self, stored: list[dict[str, Any]], keyed: bool) -> list[list[dict[str, Any]]]:
        """The stored rows of each template ticket, by chunk, without vector (and auto key)."""
        by_record: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in stored:
            by_record[row["_ab_record_id"]].append({k: v for k, v in row.items() if k != "vector"})
        out = []
        for record in self.tickets:
            rows = sorted(by_record.get(f"tickets_{record['id']}", []), key=lambda r: r["_ab_chunk"])
            if not rows:
                raise SystemExit(f"the template sync stored no row for ticket {record['id']} (record ids are "
                                 "no longer tickets_<id>?): the fill cannot copy the connector's rows")
            for row in rows:
                if keyed and row.get("id") != f"{row['_ab_record_id']}#{row['_ab_chunk']}":
                    raise SystemExit(f"the connector keys rows as {row.get('id')!r}, not <record id>#<chunk>: "
                                     "teach bench/scale.py its key before filling")
                if not keyed:
                    row.pop("id", None)
            out.append(rows)
        return out


class Collection:
    """One shape's collection: made by a real sync of the templates, grown with copies, synced."""

    def __init__(self, bench: "Bench", shape: str) -> None:
        self.bench = bench
        self.shape = shape
        self.name = f"{PREFIX}{shape}"
        self.keyed = shape == "created"
        self.rows_of = array("B")  # rows per record index (0: not stored)
        self.next_index = 0
        self.expected_rows = 0
        self.templates: list[list[dict[str, Any]]] = []
        self.config_path = bench.write_config(self.name, create=self.keyed)

    def create(self) -> dict[str, Any]:
        from test_support.tutorial_collection import create_tutorial_collection

        client = self.bench.client
        if client.has_collection(self.name):
            client.drop_collection(self.name)
        if not self.keyed:
            create_tutorial_collection(client, self.name, DIMENSIONS)
        return self.sync_templates()

    def sync_templates(self) -> dict[str, Any]:
        """The connector's sync of the generated records: the rows the fill copies."""
        client = self.bench.client
        result = self.bench.sync(self.config_path, self.bench.templates.messages)
        stored = client.query(self.name, filter="", output_fields=["*"], limit=16_384, consistency_level="Strong")
        self.templates = self.bench.templates.rows_by_ticket(stored, self.keyed)
        self.expected_rows = len(stored)
        log(f"{self.shape}: template sync stored {len(stored)} rows in {result['elapsed_s']:.1f} s")
        return {"rows": len(stored), "elapsed_s": result["elapsed_s"]}

    def copy_row(self, row: dict[str, Any], index: int) -> dict[str, Any]:
        old = row["_id"] if "_id" in row else None
        new_id = ticket_id(index)
        out = {k: (new_id if v == old and isinstance(v, int) else v) for k, v in row.items()}
        record_id = f"tickets_{new_id}"
        out["_ab_record_id"] = record_id
        out["organization_id"] = org_of(index)
        if isinstance(out.get("url"), str):
            out["url"] = re.sub(r"/tickets/\d+\.json$", f"/tickets/{new_id}.json", out["url"])
        if self.keyed:
            out["id"] = f"{record_id}#{row['_ab_chunk']}"
        return out

    def grow(self, size: int) -> dict[str, Any]:
        """Copies of the template rows until the collection holds `size` rows, then flush and index."""
        import numpy as np

        t0 = time.perf_counter()
        added = 0
        while self.expected_rows < size:
            batch: list[dict[str, Any]] = []
            first = self.next_index
            while len(batch) < FILL_BATCH_ROWS and self.expected_rows + len(batch) < size:
                rows = self.templates[template_of(self.next_index)]
                batch += [self.copy_row(row, self.next_index) for row in rows]
                self.rows_of.append(len(rows))
                self.next_index += 1
            vectors = np.random.default_rng(first).standard_normal((len(batch), DIMENSIONS)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            for row, vector in zip(batch, vectors):
                row["vector"] = vector
            self.bench.client.insert(self.name, batch)
            self.expected_rows += len(batch)
            added += len(batch)
        fill_s = time.perf_counter() - t0
        settled = self.bench.settle(self.name)
        log(f"{self.shape}: +{added} rows in {fill_s:.0f} s ({added / max(fill_s, 1e-9):.0f} rows/s), "
            f"{self.expected_rows} rows; flush + index {settled['seconds']:.0f} s")
        return {"added_rows": added, "fill_s": fill_s, "index_s": settled["seconds"], "index": settled}

    def sync_messages(self, path: Path, changed: list[int], new: list[int], marker: str) -> None:
        from test_support.zendesk_sample import dumps

        cursor = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        every = self.bench.args.state_every
        emitted = int(time.time() * 1000)
        with open(path, "w", encoding="utf-8") as fh:
            for n, index in enumerate(changed + new, 1):
                data = copy.deepcopy(self.bench.templates.tickets[template_of(index)])
                data.update(id=ticket_id(index), organization_id=org_of(index), updated_at=cursor,
                            url=f"https://example.zendesk.com/api/v2/tickets/{ticket_id(index)}.json")
                if n <= len(changed):  # a short new text: one chunk, wherever the old one had several
                    data["description"] = f"{marker} {str(data.get('description') or '')[:200]}"
                fh.write(dumps({"type": "RECORD", "record": {"stream": "tickets", "data": data,
                                                             "emitted_at": emitted + n}}) + "\n")
                if n % every == 0 or n == len(changed) + len(new):
                    fh.write(dumps({"type": "STATE", "state": {"type": "STREAM", "stream": {
                        "stream_descriptor": {"name": "tickets"}, "stream_state": {"updated_at": cursor}}}}) + "\n")

    def incremental_sync(self, number: int, rng: random.Random) -> dict[str, Any]:
        changed, new = plan_sync(self.rows_of, self.next_index, rng)
        marker = f"[rev {self.shape}-{self.next_index}-{number}]"
        path = self.bench.work / f"sync-{self.shape}-{self.next_index}.jsonl"
        self.sync_messages(path, changed, new, marker)
        tokens_before = self.bench.fake.stats()["tokens"]
        result = self.bench.sync(self.config_path, path)
        tokens = self.bench.fake.stats()["tokens"] - tokens_before
        path.unlink()
        expected: dict[str, tuple[int, str | None]] = {}
        for index in changed:
            self.expected_rows += 1 - self.rows_of[index]
            self.rows_of[index] = 1
            expected[f"tickets_{ticket_id(index)}"] = (1, marker)
        for index in new:
            chunks = len(self.templates[template_of(index)])
            self.rows_of.append(chunks)
            self.expected_rows += chunks
            expected[f"tickets_{ticket_id(index)}"] = (chunks, None)
        self.next_index += len(new)
        untouched = set(range(self.next_index - len(new))) - set(changed)
        for index in rng.sample(sorted(untouched), min(UNTOUCHED_SAMPLE, len(untouched))):
            expected[f"tickets_{ticket_id(index)}"] = (self.rows_of[index], None)
        check = self.check(expected)
        records = len(changed) + len(new)
        log(f"{self.shape} sync {number}: {records} records in {result['elapsed_s']:.2f} s "
            f"({result['elapsed_s'] / records * 1000:.2f} ms/record), peak RSS {result['maxrss_mb']:.0f} MB, "
            f"{tokens} tokens; check {check}")
        return {"records": records, "elapsed_s": result["elapsed_s"], "maxrss_mb": result["maxrss_mb"],
                "load_avg": os.getloadavg()[0],
                "cpu_s": result.get("cpu_s"), "server_cpu_s": result.get("server_cpu_s"), "tokens": tokens,
                "rows_written": result["rows"], "states": result["states"], "check": check}

    def check(self, expected: dict[str, tuple[int, str | None]]) -> dict[str, int]:
        client = self.bench.client
        ids = list(expected)
        rows: list[dict[str, Any]] = []
        for start in range(0, len(ids), 500):
            part = json.dumps(ids[start:start + 500])
            rows += client.query(self.name, filter=f"_ab_record_id in {part}", limit=16_384,
                                 output_fields=["_ab_record_id", "_ab_chunk", "text"], consistency_level="Strong")
        tally = judge(expected, rows)
        tally["count_diff"] = abs(self.bench.count(self.name) - self.expected_rows)
        return tally

    def drop(self) -> None:
        if self.bench.client.has_collection(self.name):
            self.bench.client.drop_collection(self.name)


# --- the run -------------------------------------------------------------------------------------


class Bench:
    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        from pymilvus import MilvusClient

        from bench.run import FakeOpenAI, Runner
        from test_support.milvus_server import check_server, pids_listening_on
        from test_support.zendesk_sample import configured_catalog

        self.args = args
        self.work = work
        error = check_server(args.uri, args.token, timeout=10)
        if error is not None:
            raise SystemExit(f"no Milvus server answers at {args.uri} with the given token ({error}): start one "
                             "or pass --uri/--token (or DMZ_MILVUS_URI/DMZ_MILVUS_TOKEN)")
        self.client = MilvusClient(uri=args.uri, token=args.token)
        host = urlparse(args.uri)
        pids = pids_listening_on(host.port or 19530) if host.hostname in ("127.0.0.1", "localhost") else []
        self.runner = Runner(work, types.SimpleNamespace(pid=pids[0] if pids else None))
        self.catalog = work / "catalog.json"
        self.catalog.write_text(json.dumps(configured_catalog("append_dedup")))
        self.fake = FakeOpenAI()
        self.templates = Templates(work)

    def close(self) -> None:
        self.fake.close()
        self.client.close()

    def connector_config(self, collection: str, create: bool) -> dict[str, Any]:
        auth = {"mode": "token", "token": self.args.token} if self.args.token else {"mode": "no_auth"}
        return {"processing": {"chunk_size": 1000, "text_fields": TEXT_FIELDS},
                "embedding": {"mode": "openai_compatible", "api_key": BENCH_KEY, "base_url": self.fake.base_url,
                              "model_name": "text-embedding-ada-002", "dimensions": DIMENSIONS},
                "indexing": {"host": self.args.uri, "collection": collection, "create_collection": create,
                             "auth": auth}}

    def write_config(self, collection: str, create: bool) -> Path:
        path = self.work / f"config-{collection}.json"
        path.write_text(json.dumps(self.connector_config(collection, create)))
        return path

    def sync(self, config: Path, messages: Path) -> dict[str, Any]:
        """The connector's write command in a fresh process (bench/worker.py `connector`)."""
        return self.runner.connector(json.loads(config.read_text()), self.catalog, messages, fresh=False)

    def count(self, name: str) -> int:
        return int(self.client.query(name, filter="", output_fields=["count(*)"],
                                     consistency_level="Strong")[0]["count(*)"])

    def settle(self, name: str) -> dict[str, Any]:
        """Flush, then wait (at most --index-wait seconds) until the vector index covers the rows,
        twice in a row (a just-sealed segment may not be queued yet). The server builds indexes one
        after another for every collection on it, so on a shared server this wait is bounded and the
        coverage reached is reported with the figures measured on it."""
        t0 = time.perf_counter()
        self.client.flush(name)
        index = (self.client.list_indexes(name, field_name="vector") or ["vector"])[0]
        calm, said = 0, t0
        while True:
            described = self.client.describe_index(name, index)
            calm = calm + 1 if index_built(described) else 0
            waited = time.perf_counter() - t0
            if calm >= 2 or waited > self.args.index_wait:
                break
            if time.perf_counter() - said > 60:
                log(f"{name}: waiting for the index: {described.get('indexed_rows')} of "
                    f"{described.get('total_rows')} rows indexed, {waited:.0f} s")
                said = time.perf_counter()
            time.sleep(2)
        if calm < 2:
            log(f"{name}: index still pending after {waited:.0f} s ({described.get('indexed_rows')} of "
                f"{described.get('total_rows')} rows indexed): measuring anyway, coverage reported")
        return {"seconds": time.perf_counter() - t0, "indexed_rows": described.get("indexed_rows"),
                "total_rows": described.get("total_rows"), "complete": calm >= 2}

    def server_cpu_s(self) -> float | None:
        """CPU seconds the Milvus server process has used (None: not a local process we can see)."""
        from bench.worker import process_cpu_s

        pid = self.runner.server.pid
        return process_cpu_s(pid) if pid else None

    def wait_quiet(self) -> dict[str, Any]:
        """Wait (at most --quiet-wait seconds) until the server is idle: after a bulk fill it compacts
        and indexes for minutes, on the same 2 cores the measured calls need. A collection that grew
        over months is not in that state, so syncs and lookups are measured once it has passed, at
        every size alike; the wait and the CPU use at its end are reported."""
        t0 = time.perf_counter()
        windows: list[float] = []
        last = self.server_cpu_s()
        while last is not None and not is_quiet(windows) and time.perf_counter() - t0 < self.args.quiet_wait:
            time.sleep(QUIET_WINDOW_S)
            now = self.server_cpu_s() or last
            windows.append((now - last) / QUIET_WINDOW_S)
            last = now
        waited = time.perf_counter() - t0
        if not windows:  # no server process to watch, or --quiet-wait 0: measured at once
            return {"waited_s": 0.0, "server_cores": None, "quiet": None}
        quiet = is_quiet(windows)
        log(f"server {'idle' if quiet else 'still busy'} after {waited:.0f} s ({windows[-1]:.2f} cores)")
        return {"waited_s": waited, "server_cores": windows[-1], "quiet": quiet}

    def lookups(self, config: Path) -> dict[str, Any]:
        """The form's lookup (SupportSearch.lookup: default unsolved statuses, one organization) of
        generated cases, their embeddings computed first; median and p90 of the timed calls."""
        from destination_milvus_zendesk.support.search import SupportSearch
        from destination_milvus_zendesk.support.settings import load_config
        from test_support.zendesk_sample import build_eval_queries

        cases = build_eval_queries(TEMPLATE_TICKETS, TEMPLATE_ARTICLES, n_orgs=ORGS)
        texts = [c["text"] for c in cases["duplicates"] + cases["novel"] + cases["articles"]][:self.args.queries]
        search = SupportSearch.from_config(load_config(str(config)))
        try:
            queries = [(search.query_of(text), org_of(n * 37)) for n, text in enumerate(texts)]
            for query, org in queries[:5]:  # warm-up: connection, loaded segments, the articles' titles
                search.lookup(query, org)
            samples, answers = [], []
            for query, org in queries:
                t = time.perf_counter()
                answer = search.lookup(query, org)
                samples.append((time.perf_counter() - t) * 1000)
                answers.append(([t.id for t in answer.tickets], [a.id for a in answer.articles]))
        finally:
            search.close()
        return {"median_ms": statistics.median(samples), "p90_ms": p90(samples), "lookups": len(samples),
                "with_tickets": sum(1 for tickets, _ in answers if tickets), "retrieval": search.retrieval,
                "answers": answers}

    def migrate(self, source: Collection, size: int) -> dict[str, Any] | None:
        """The migrate command on the tutorial-shaped collection, then the lookups on what it made."""
        if importlib.util.find_spec(MIGRATE_MODULE) is None:
            print("migrate: not available in this build", flush=True)
            return None
        target = f"{PREFIX}migrated_{size}"
        if self.client.has_collection(target):
            self.client.drop_collection(target)
        tokens_before = self.fake.stats()["tokens"]
        out, err = self.work / f"migrate-{size}.out", self.work / f"migrate-{size}.err"
        with open(out, "wb") as fh_out, open(err, "wb") as fh_err:
            t0 = time.perf_counter()
            proc = subprocess.Popen([PY, "-m", MIGRATE_MODULE, "--config", str(source.config_path), "--to", target,
                                     "--json"], stdout=fh_out, stderr=fh_err, cwd=REPO,
                                    env={**os.environ, "PYTHONPATH": str(REPO)})
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - t0
        code = os.waitstatus_to_exitcode(status)
        fake_tokens = self.fake.stats()["tokens"] - tokens_before
        if code != 0:
            message = (err.read_text(errors="replace") + out.read_text(errors="replace")).strip().splitlines()
            log(f"migrate failed (rc={code}): {message[-1:] }")
            return {"error": f"migrate failed (rc={code}): {(message or [''])[-1][:300]}"}
        reported = _last_json_object(out.read_text(errors="replace"))
        try:
            settled = self.settle(target)
            self.wait_quiet()
            copied = self.count(target)
            lookup = self.lookups(self.write_config(target, create=False))
            lookup["index"] = _coverage(settled)
        finally:
            if not self.args.keep:
                self.client.drop_collection(target)
        log(f"migrate: {reported}; wall {wall:.0f} s, fake server counted {fake_tokens} tokens; lookups "
            f"{brief(lookup)}")
        return {"reported": reported, "wall_s": wall, "maxrss_mb": usage.ru_maxrss / 1024, "fake_tokens": fake_tokens,
                "source_rows": source.expected_rows, "target_rows": copied, "index_s": settled["seconds"],
                "lookup": lookup}


def brief(lookup: dict[str, Any]) -> dict[str, Any]:
    """The lookup figures without the answers themselves (for the log)."""
    return {k: v for k, v in lookup.items() if k != "answers"}


def index_built(described: dict[str, Any]) -> bool:
    """Nothing waits for the index, or it covers every row: a compaction (of segments the syncs deleted
    from) queues its new segment while queries still read the indexed segments it replaces."""
    pending, indexed, total = (described.get(k) or 0 for k in ("pending_index_rows", "indexed_rows", "total_rows"))
    return pending == 0 or indexed >= total


def _coverage(settled: dict[str, Any]) -> str:
    """"complete", or how much of the vector index the server had built when the lookups ran."""
    if settled["complete"]:
        return "complete"
    return f"{settled['indexed_rows']}/{settled['total_rows']} rows indexed"


def _last_json_object(text: str) -> dict[str, Any] | None:
    for line in reversed(text.strip().splitlines()):
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def measure_shape(bench: Bench, collection: Collection, size: int) -> dict[str, Any]:
    """Grow (flush, index), look up, then sync: the lookups see the settled collection of the size,
    the syncs the same collection."""
    t0 = time.perf_counter()
    grown = collection.grow(size)
    quiet = bench.wait_quiet()
    lookup = bench.lookups(collection.config_path)
    lookup["index"] = _coverage(grown["index"])
    lookup_rows = collection.expected_rows
    log(f"{collection.shape} at {lookup_rows} rows: lookups {brief(lookup)}")
    rng = random.Random(f"{collection.shape}-{size}")
    syncs = [collection.incremental_sync(n + 1, rng) for n in range(bench.args.syncs)]
    check: dict[str, int] = {}
    for sync in syncs:
        check = add_tallies(check, sync["check"])
    median_s = statistics.median(s["elapsed_s"] for s in syncs)
    return {"rows": lookup_rows, "rows_after_syncs": collection.expected_rows, "fill": grown, "quiet": quiet,
            "syncs": syncs,
            "sync_median_s": median_s, "per_record_ms": median_s / syncs[0]["records"] * 1000,
            "peak_rss_mb": max(s["maxrss_mb"] for s in syncs), "lookup": lookup, "check": check,
            "wall_s": time.perf_counter() - t0}


def run(args: argparse.Namespace) -> dict[str, Any]:
    from bench.run import machine

    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="dmz-bench-scale-"))
    log(f"work dir {work}; sizes {args.sizes}; server {args.uri}")
    results: dict[str, Any] = {"machine": machine(), "date": dt.datetime.now(dt.timezone.utc).strftime(
        "%Y-%m-%d %H:%M UTC"), "commit": _commit(), "settings": {k: v for k, v in vars(args).items()
                                                                 if k not in ("token", "docs")}, "sizes": {}}
    bench = Bench(args, work)
    collections = [Collection(bench, shape) for shape in SHAPES]
    try:
        results["templates"] = {c.shape: c.create() for c in collections}
        results["partition_keys"] = {c.shape: [f["name"] for f in bench.client.describe_collection(c.name)["fields"]
                                               if f.get("is_partition_key")] for c in collections}
        for size in args.sizes:
            t0 = time.perf_counter()
            entry: dict[str, Any] = {}
            for collection in collections:
                entry[collection.shape] = measure_shape(bench, collection, size)
                if collection.shape == "tutorial":
                    entry["migrated"] = bench.migrate(collection, size)
            entry["wall_s"] = time.perf_counter() - t0
            results["sizes"][str(size)] = entry
            log(f"size {size:,}: {entry['wall_s'] / 60:.1f} min")
    finally:
        if not args.keep:
            for collection in collections:
                collection.drop()
        bench.close()
    results["total_s"] = time.perf_counter() - started
    results["load_avg_end"] = os.getloadavg()
    results["extrapolated"] = extrapolations(results)
    (work / "results.json").write_text(json.dumps(results, indent=1, default=str))
    results["work"] = str(work)
    return results


def extrapolations(results: dict[str, Any]) -> dict[str, Any]:
    """Per-record sync cost and lookup median at EXTRAPOLATE_TO rows, from the measured sizes."""
    if any(int(s) >= EXTRAPOLATE_TO for s in results["sizes"]):
        return {}
    out: dict[str, Any] = {"rows": EXTRAPOLATE_TO}
    for shape in SHAPES:
        measured = {r[shape]["rows"]: r[shape] for r in results["sizes"].values()}
        out[shape] = {"per_record_ms": extrapolate({k: v["per_record_ms"] for k, v in measured.items()}, EXTRAPOLATE_TO),
                      "lookup_median_ms": extrapolate({k: v["lookup"]["median_ms"] for k, v in measured.items()},
                                                      EXTRAPOLATE_TO)}
    return out


def _commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True,
                              timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("+uncommitted changes" if dirty else "")


# --- report --------------------------------------------------------------------------------------


def table(results: dict[str, Any]) -> list[str]:
    lines = ["| collection | rows (at the lookups) | incremental sync of 1,000 records (median) | per record | peak RSS | "
             "lookup median / p90 | fill + index |", "|---|---|---|---|---|---|---|"]
    for size, entry in results["sizes"].items():
        for shape in SHAPES:
            r = entry[shape]
            runs = ", ".join(f"{s['elapsed_s']:.2f}" for s in r["syncs"])
            cpu_s = [s["cpu_s"] for s in r["syncs"] if s.get("cpu_s") is not None]
            cpu = statistics.median(cpu_s) / r["syncs"][0]["records"] * 1000 if cpu_s else None
            cpu_text = f" ({cpu:.2f} ms connector CPU)" if cpu is not None else ""
            lines.append(f"| {shape} | {r['rows']:,} | {r['sync_median_s']:.2f} s (runs {runs}) | "
                         f"{r['per_record_ms']:.2f} ms{cpu_text} | "
                         f"{r['peak_rss_mb']:.0f} MB | {r['lookup']['median_ms']:.1f} / {r['lookup']['p90_ms']:.1f} ms "
                         f"(index {r['lookup']['index']}) | {r['fill']['fill_s']:.0f} + {r['fill']['index_s']:.0f} s |")
        migrated = entry.get("migrated")
        if migrated and migrated.get("lookup"):
            reported = migrated.get("reported") or {}
            lines.append(f"| migrated from tutorial | {migrated['target_rows']:,} | migrate: "
                         f"{reported.get('rows_per_s', 0):.0f} rows/s, {reported.get('tokens')} tokens (fake server "
                         f"counted {migrated['fake_tokens']}), {migrated['wall_s']:.0f} s | - | "
                         f"{migrated['maxrss_mb']:.0f} MB | {migrated['lookup']['median_ms']:.1f} / "
                         f"{migrated['lookup']['p90_ms']:.1f} ms (index {migrated['lookup']['index']}) | - |")
        elif migrated:
            lines.append(f"| migrated from tutorial | - | {migrated['error']} | - | - | - | - |")
        else:
            lines.append("| migrated from tutorial | - | migrate: not available in this build | - | - | - | - |")
    extra = results.get("extrapolated") or {}
    for shape in SHAPES if extra else ():
        e = extra[shape]
        if e["per_record_ms"] is not None:
            lines.append(f"| {shape}, **by extrapolation** (straight line through the measured sizes, held flat where it falls) | "
                         f"{extra['rows']:,} | {e['per_record_ms']:.2f} s | {e['per_record_ms']:.2f} ms | - | "
                         f"{e['lookup_median_ms']:.1f} ms median | - |")
    return lines


def render(results: dict[str, Any], command: str) -> str:
    from bench.sections import SECTIONS

    start, end = SECTIONS["scale"]
    m = results["machine"]
    lines = [start, "## Growing collections: syncs and lookups from 10k rows up", "",
             f"`{command}` on {results['date']} at commit {results['commit']}: {m['nproc']} cores, "
             f"{m['ram_gib']} GiB RAM, load average {m['load_avg_start'][0]:.1f} at the start and "
             f"{results['load_avg_end'][0]:.1f} at the end; total {results['total_s'] / 60:.0f} min. Milvus server "
             f"at {results['settings']['uri']} (shared: other work may have run on it). How each figure is "
             "measured: bench/scale.py's docstring.", "",
             "| target | measured | goal | status |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in targets(results)]
    lines += ["", *table(results), "",
              f"Each sync: {CHANGED} existing tickets with a new text and {NEW} new tickets, a STATE every "
              f"{results['settings']['state_every']} records, {results['settings']['syncs']} syncs per size; peak RSS "
              f"is the connector process's (ru_maxrss, imports included). Lookups: "
              f"{results['settings']['queries']} generated cases over {ORGS} organizations, after flush and index. "
              f"{partition_keys(results)} {quiet_waits(results)}"
              "Time per size (both shapes, migrate included): " + ", ".join(
                  f"{int(s):,}: {e['wall_s'] / 60:.1f} min" for s, e in results["sizes"].items()) + ".", end]
    return "\n".join(lines) + "\n"


def quiet_waits(results: dict[str, Any]) -> str:
    """How long each measurement waited for the server to go idle after its fill (older runs: nothing)."""
    waits = [(int(size), shape, entry[shape]["quiet"]) for size, entry in results["sizes"].items()
             for shape in SHAPES if entry[shape].get("quiet", {}).get("server_cores") is not None]
    if not waits:
        return ""
    said = ", ".join(f"{shape} {size:,} {q['waited_s']:.0f} s"
                     + ("" if q["quiet"] else f" (still busy: {q['server_cores']:.2f} cores)")
                     for size, shape, q in waits)
    return (f"Lookups and syncs start once the server is idle after the fill (under {QUIET_CORES} cores over "
            f"{QUIET_WINDOW_S:.0f} s, {QUIET_WINDOWS} windows in a row; waits: {said}). ")


def partition_keys(results: dict[str, Any]) -> str:
    """Which collections Milvus partitions by key (the connector partitions only where the backend has BM25)."""
    keys = results.get("partition_keys")
    if keys is None:
        return ""
    return "Partition keys: " + ", ".join(f"{shape} {', '.join(names) if names else 'none'}"
                                          for shape, names in keys.items()) + "."


def print_report(results: dict[str, Any]) -> None:
    rows = targets(results)
    width = max(len(r[0]) for r in rows)
    print()
    for name, measured, goal, status in rows:
        print(f"{name:<{width}}  {goal:>20}  {status:<10}  {measured}")
    print()
    print("\n".join(table(results)))
    print(f"\ntotal {results['total_s'] / 60:.1f} min; " + ", ".join(
        f"size {int(s):,}: {e['wall_s'] / 60:.1f} min" for s, e in results["sizes"].items())
        + f"; details in {results['work']}/results.json")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", help="row counts, e.g. 10k,100k,300k (default: "
                        f"{','.join(map(str, FULL_SIZES))}; --quick: {','.join(map(str, QUICK_SIZES))})")
    parser.add_argument("--quick", action="store_true", help="a smoke run at small sizes")
    parser.add_argument("--syncs", type=int, default=3, help="incremental syncs per size and shape (median kept)")
    parser.add_argument("--queries", type=int, default=50, help="lookups timed per collection")
    parser.add_argument("--state-every", type=int, default=100, help="a STATE message every N records of a sync")
    parser.add_argument("--index-wait", type=float, default=1200.0, help="seconds to wait, at most, for the vector "
                        "index after each fill (a shared server builds every collection's indexes in one queue)")
    parser.add_argument("--quiet-wait", type=float, default=900.0, help="seconds to wait, at most, for the server "
                        "to go idle after each fill, before the lookups and syncs (0: measure at once)")
    parser.add_argument("--uri", default=os.environ.get("DMZ_MILVUS_URI", "http://127.0.0.1:19530"))
    parser.add_argument("--token", default=os.environ.get("DMZ_MILVUS_TOKEN", "root:Milvus"))
    parser.add_argument("--docs", action="store_true", help="write the figures to docs/benchmarks.md (scale section)")
    parser.add_argument("--keep", action="store_true", help="leave the bench_scale_* collections (debugging)")
    parser.add_argument("--render", metavar="RESULTS_JSON", help="only write docs/benchmarks.md's section from the "
                        "results.json of an earlier run")
    args = parser.parse_args(argv)
    args.sizes = parse_sizes(args.sizes) if args.sizes else list(QUICK_SIZES if args.quick else FULL_SIZES)
    if args.syncs < 1 or args.queries < 5 or args.state_every < 1:
        parser.error("--syncs >= 1, --queries >= 5 and --state-every >= 1")
    return args


def command_of(settings: dict[str, Any]) -> str:
    """The command line that reproduces a run, from its recorded settings."""
    words = ["python -m bench.scale", f"--sizes {','.join(map(str, settings['sizes']))}"]
    for name, default in (("syncs", 3), ("queries", 50), ("state_every", 100), ("index_wait", 1200.0),
                          ("quiet_wait", 900.0)):
        if settings.get(name, default) != default:
            words.append(f"--{name.replace('_', '-')} {settings[name]:g}")
    return " ".join(words)


def main(argv: Sequence[str] | None = None) -> int:
    from bench.sections import write_section

    args = parse_args(argv)
    if args.render:
        results = json.loads(Path(args.render).read_text())
        results.setdefault("work", str(Path(args.render).parent))
        results["extrapolated"] = extrapolations(results)
    else:
        results = run(args)
    print_report(results)
    if args.docs or args.render:
        print(f"wrote {write_section('scale', render(results, command_of(results['settings'])))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
