"""One measurement per fresh interpreter; bench/run.py starts these and reads their JSON result.

    connector  runs the connector's entry point (what main.py runs: `DestinationMilvusZendesk().run(
               ["write", ...])`) with stdin = the messages file and stdout = the connector's messages;
               times the run and reports peak RSS
    capture    runs the same pipeline in-process with a store that keeps the rows instead of writing
               them, and pickles them (vectors as float32): the rows the raw baseline writes
    raw        upserts the captured rows with plain pymilvus in batches, timing only the upserts
               (and the final flush with --flush)
    ceiling    `main.py write` with an in-memory stand-in for Milvus: the connector's own CPU
    query      times SupportSearch lookups (precomputed vectors) on a collection
    verify     reads a collection back and re-embeds its texts with the configured embedder
"""

from __future__ import annotations

import time

T0 = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import pickle  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def process_cpu_s(pid: int) -> float | None:
    """CPU seconds (user + system) another process has used, from /proc; None if it cannot be read."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


class CpuClock:
    """CPU seconds of this process and, if its pid is given (BENCH_SERVER_PID), of the Milvus server."""

    def __init__(self) -> None:
        self.server_pid = int(os.environ.get("BENCH_SERVER_PID") or 0)
        self.start = self._now()

    def _now(self) -> tuple[float, float]:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        server = (process_cpu_s(self.server_pid) or 0.0) if self.server_pid else 0.0
        return usage.ru_utime + usage.ru_stime, server

    def report(self) -> dict[str, float]:
        now = self._now()
        return {"cpu_s": now[0] - self.start[0], "server_cpu_s": now[1] - self.start[1]}


def _config(path: str):
    from destination_milvus_zendesk.config import parse_config

    with open(path) as fh:
        return parse_config(json.load(fh))


def _fresh_collection(cfg, dimensions: int = 1536, *, tutorial: bool = False) -> None:
    """Drop and create the collection exactly as the connector creates it (same schema and indexes),
    or (`tutorial`) as the tutorial makes it by hand: auto-id key, vector, dynamic fields."""
    from destination_milvus_zendesk.milvus import MilvusStore
    from test_support.tutorial_collection import create_tutorial_collection

    store = MilvusStore(cfg.indexing)
    store.connect(create=True)
    try:
        if store.client.has_collection(cfg.indexing.collection):
            store.client.drop_collection(cfg.indexing.collection)
        if tutorial:
            create_tutorial_collection(store.client, cfg.indexing.collection, dimensions)
        else:
            store.create_collection(dimensions)
    finally:
        store.close()


def _write(result: dict[str, Any], path: str) -> None:
    with open(path, "w") as fh:
        json.dump(result, fh)


def cmd_connector(args: argparse.Namespace) -> None:
    from airbyte_cdk.logger import init_logger

    from destination_milvus_zendesk.destination import DestinationMilvusZendesk

    init_logger("airbyte")
    startup = time.perf_counter() - T0
    if args.fresh:
        _fresh_collection(_config(args.config), tutorial=args.tutorial)
    rss_before = _maxrss_mb()
    clock = CpuClock()
    t0 = time.perf_counter()
    DestinationMilvusZendesk().run(["write", "--config", args.config, "--catalog", args.catalog])
    elapsed = time.perf_counter() - t0
    sys.stdout.flush()
    _write({"elapsed_s": elapsed, "startup_s": startup, "maxrss_mb": _maxrss_mb(), "rss_before_mb": rss_before,
            **clock.report()}, args.result)


def cmd_capture(args: argparse.Namespace) -> None:
    import numpy as np
    import orjson
    from airbyte_cdk.models import AirbyteMessageSerializer, ConfiguredAirbyteCatalogSerializer

    from destination_milvus_zendesk.embedding.factory import create_embedder
    from destination_milvus_zendesk.memory_store import MemoryStore
    from destination_milvus_zendesk.milvus import MilvusStore
    from destination_milvus_zendesk.writer import Writer

    cfg = _config(args.config)
    embedder = create_embedder(cfg)
    vector_field = cfg.indexing.vector_field

    def keep(row: dict[str, Any]) -> dict[str, Any]:
        row = dict(row)
        row[vector_field] = np.asarray(row[vector_field], dtype=np.float32)
        return row

    _fresh_collection(cfg, embedder.dimensions, tutorial=args.tutorial)
    milvus = MilvusStore(cfg.indexing, write_batch_rows=cfg.write_batch_rows, write_batch_bytes=cfg.write_batch_bytes)
    milvus.connect()
    info = milvus.describe()
    milvus.close()
    store = MemoryStore(info, keep=keep)  # the collection's schema, the rows kept in memory
    with open(args.catalog) as fh:
        catalog = ConfiguredAirbyteCatalogSerializer.load(json.load(fh))
    with open(args.input, "rb") as fh:
        messages = (AirbyteMessageSerializer.load(orjson.loads(line)) for line in fh if line.strip())
        for _ in Writer(cfg, store, embedder, catalog).run(messages):
            pass
    captured = list(store.rows.values())
    with open(args.out, "wb") as fh:
        pickle.dump(captured, fh, protocol=pickle.HIGHEST_PROTOCOL)
    if args.info_out:  # the collection as the connector described it, for the ceiling's stand-in store
        with open(args.info_out, "wb") as fh:
            pickle.dump(milvus.info, fh, protocol=pickle.HIGHEST_PROTOCOL)
    _write({"rows": len(captured)}, args.result)


def cmd_raw(args: argparse.Namespace) -> None:
    """The pymilvus limit: batched upserts (inserts into an auto-id collection) of the captured rows,
    only the upsert calls (and with --flush the final flush) timed."""
    from destination_milvus_zendesk.milvus import MilvusStore

    cfg = _config(args.config)
    with open(args.rows, "rb") as fh:
        rows = pickle.load(fh)
    _fresh_collection(cfg, tutorial=args.tutorial)
    store = MilvusStore(cfg.indexing)
    client = store.connect()
    vector_field = cfg.indexing.vector_field
    name = cfg.indexing.collection
    if args.load:  # as the connector does (it reads during a sync); Milvus Lite then indexes what it flushes
        client.load_collection(name)
    timed = cpu = server_cpu = 0.0
    calls = 0
    for start in range(0, len(rows), args.batch):
        batch = [dict(row, **{vector_field: row[vector_field].tolist()}) for row in rows[start:start + args.batch]]
        clock = CpuClock()
        t = time.perf_counter()
        (client.insert if args.insert or args.tutorial else client.upsert)(name, batch)
        timed += time.perf_counter() - t
        used = clock.report()
        cpu += used["cpu_s"]
        server_cpu += used["server_cpu_s"]
        calls += 1
    if args.flush:
        clock = CpuClock()
        t = time.perf_counter()
        client.flush(name)
        timed += time.perf_counter() - t
        used = clock.report()
        cpu += used["cpu_s"]
        server_cpu += used["server_cpu_s"]
    t = time.perf_counter()
    count = client.query(name, filter="", output_fields=["count(*)"], consistency_level="Strong")[0]["count(*)"]
    store.close()  # Milvus Lite: waits for the index build its flush started in the background
    close_s = time.perf_counter() - t
    _write({"elapsed_s": timed, "rows": len(rows), "stored": int(count), "calls": calls, "cpu_s": cpu,
            "server_cpu_s": server_cpu, "close_s": close_s}, args.result)


def cmd_prepare(args: argparse.Namespace) -> None:
    """A fresh, empty collection (untimed set-up for a whole-process run of main.py)."""
    _fresh_collection(_config(args.config), tutorial=args.tutorial)
    _write({}, args.result)


def cmd_count(args: argparse.Namespace) -> None:
    """Rows in the collection (a strong read), to check what a run left behind."""
    from destination_milvus_zendesk.milvus import MilvusStore

    store = MilvusStore(_config(args.config).indexing)
    store.connect()
    try:
        _write({"rows": store.count()}, args.result)
    finally:
        store.close()


def cmd_ceiling(args: argparse.Namespace) -> None:
    """The connector's own CPU: `main.py write` exactly, but the Milvus store is an in-memory stand-in
    (MemoryStore over the collection the capture described) and embeddings are the in-process fake."""
    import destination_milvus_zendesk.destination as destination
    from destination_milvus_zendesk.entrypoint import run
    from destination_milvus_zendesk.memory_store import MemoryStore

    with open(args.info, "rb") as fh:
        info = pickle.load(fh)

    class StandIn(MemoryStore):
        """What destination.write asks of MilvusStore besides the VectorStore protocol."""

        def __init__(self, *_: Any, **__: Any) -> None:
            super().__init__(info)
            self.lite_missing = False

        def connect(self, **_: Any) -> None:
            return None

        def describe(self) -> Any:
            return self.info

        def repair(self, described: Any) -> Any:
            return described

        def load(self, _: Any) -> None:
            return None

        def set_model(self, _: str) -> None:
            return None

        def close(self) -> None:
            return None

    destination.MilvusStore = StandIn
    clock = CpuClock()
    t0 = time.perf_counter()
    run(["write", "--config", args.config, "--catalog", args.catalog])
    elapsed = time.perf_counter() - t0
    sys.stdout.flush()
    _write({"elapsed_s": elapsed, "startup_s": t0 - T0, "maxrss_mb": _maxrss_mb(), **clock.report()}, args.result)


def cmd_query(args: argparse.Namespace) -> None:
    """Median latency of the support form's two lookups with precomputed vectors (no embedding call)."""
    from destination_milvus_zendesk.embedding.factory import create_embedder
    from destination_milvus_zendesk.milvus import MilvusStore
    from destination_milvus_zendesk.support.search import SupportSearch
    from test_support.zendesk_sample import build_eval_queries

    cfg = _config(args.config)
    store = MilvusStore(cfg.indexing)
    store.connect()
    if args.flush:
        t = time.perf_counter()
        store.client.flush(cfg.indexing.collection)
        flush_s = time.perf_counter() - t
    else:
        flush_s = 0.0
    embedder = create_embedder(cfg)
    search = SupportSearch(store, embedder)
    evals = build_eval_queries(args.tickets, args.articles, n_orgs=args.orgs)
    queries = [(q["text"], q["organization_id"]) for q in evals["duplicates"] + evals["novel"]]
    vectors = embedder.embed([text for text, _ in queries])
    pairs = list(zip(vectors, [org for _, org in queries]))
    for vector, org in pairs[:5]:  # warm-up: connections, loaded segments, caches
        search.similar_open_tickets(vector, org)
        search.relevant_articles(vector)
    samples, ticket_ms, article_ms, found = [], [], [], 0
    for round_ in range(args.rounds):
        for vector, org in pairs:
            t = time.perf_counter()
            tickets = search.similar_open_tickets(vector, org)
            t1 = time.perf_counter()
            articles = search.relevant_articles(vector)
            t2 = time.perf_counter()
            samples.append((t2 - t) * 1000)
            ticket_ms.append((t1 - t) * 1000)
            article_ms.append((t2 - t1) * 1000)
            found += bool(tickets) + bool(articles)
    count = store.count()
    store.close()
    samples.sort()
    _write({"median_ms": statistics.median(samples), "p90_ms": samples[int(len(samples) * 0.9) - 1],
            "tickets_median_ms": statistics.median(ticket_ms), "articles_median_ms": statistics.median(article_ms),
            "lookups": len(samples), "rows": count, "answers_nonempty": found, "flush_s": flush_s}, args.result)


def cmd_verify(args: argparse.Namespace) -> None:
    """Stored vectors vs a fresh embedding of the stored chunk texts by the same embedder."""
    import numpy as np

    from destination_milvus_zendesk.embedding.factory import create_embedder
    from destination_milvus_zendesk.milvus import MilvusStore

    cfg = _config(args.config)
    store = MilvusStore(cfg.indexing)
    store.connect()
    store.load(store.describe())
    rows: list[dict[str, Any]] = []
    client = store.client
    iterator = client.query_iterator(cfg.indexing.collection, batch_size=1000, filter="_ab_chunk >= 0",
                                     output_fields=["_ab_record_id", "_ab_chunk", "_ab_write", "text", "vector"])
    while True:
        batch = iterator.next()
        if not batch:
            break
        rows.extend(batch)
    iterator.close()
    store.close()
    embedder = create_embedder(cfg)
    worst = 0.0
    mismatched = 0
    for start in range(0, len(rows), 128):
        part = rows[start:start + 128]
        fresh = np.asarray(embedder.embed([r["text"] for r in part]), dtype=np.float32)
        stored = np.asarray([r["vector"] for r in part], dtype=np.float32)
        diff = np.abs(fresh - stored).max(axis=1)
        worst = max(worst, float(diff.max()))
        mismatched += int((diff > 0).sum())
    writes = {}
    for r in rows:
        writes[r["_ab_write"]] = writes.get(r["_ab_write"], 0) + 1
    _write({"rows": len(rows), "max_abs_diff": worst, "rows_differing": mismatched, "write_ids": len(writes)},
           args.result)


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("connector")
    p.add_argument("--config", required=True)
    p.add_argument("--catalog", required=True)
    p.add_argument("--fresh", action="store_true", help="drop and create the collection first (untimed)")
    p.add_argument("--tutorial", action="store_true", help="the tutorial's hand-made auto-id collection")
    p.add_argument("--result", required=True)
    p = sub.add_parser("capture")
    p.add_argument("--config", required=True)
    p.add_argument("--catalog", required=True)
    p.add_argument("--input", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--tutorial", action="store_true", help="the tutorial's hand-made auto-id collection")
    p.add_argument("--info-out", help="also pickle the described collection here (for `ceiling`)")
    p.add_argument("--result", required=True)
    p = sub.add_parser("raw")
    p.add_argument("--config", required=True)
    p.add_argument("--rows", required=True)
    p.add_argument("--batch", type=int, default=1000)
    p.add_argument("--insert", action="store_true", help="insert instead of upsert")
    p.add_argument("--tutorial", action="store_true", help="the tutorial's hand-made auto-id collection (implies --insert)")
    p.add_argument("--flush", action="store_true", help="flush at the end, timed")
    p.add_argument("--load", action="store_true", help="load the collection first (untimed)")
    p.add_argument("--result", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--config", required=True)
    p.add_argument("--tutorial", action="store_true")
    p.add_argument("--result", required=True)
    p = sub.add_parser("count")
    p.add_argument("--config", required=True)
    p.add_argument("--result", required=True)
    p = sub.add_parser("ceiling")
    p.add_argument("--config", required=True)
    p.add_argument("--catalog", required=True)
    p.add_argument("--info", required=True, help="the pickled CollectionInfo `capture --info-out` wrote")
    p.add_argument("--result", required=True)
    p = sub.add_parser("query")
    p.add_argument("--config", required=True)
    p.add_argument("--tickets", type=int, required=True)
    p.add_argument("--articles", type=int, required=True)
    p.add_argument("--orgs", type=int, required=True)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--flush", action="store_true")
    p.add_argument("--result", required=True)
    p = sub.add_parser("verify")
    p.add_argument("--config", required=True)
    p.add_argument("--result", required=True)
    args = parser.parse_args()
    {"connector": cmd_connector, "capture": cmd_capture, "raw": cmd_raw, "ceiling": cmd_ceiling, "prepare": cmd_prepare, "count": cmd_count,
     "query": cmd_query,
     "verify": cmd_verify}[args.cmd](args)


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()
