"""What the BM25 full-text field costs at 100k rows on Milvus Lite: write time, disk, memory, lookup latency.

    .venv/bin/python -m bench.hybrid_cost [--rows 100000]        (about 3-4 minutes)

Two collections in two Lite files, built by MilvusStore exactly as the connector creates them, one
without and one with the BM25 function (`collection_schema(cfg, dim, full_text)`), each filled in its own
process with the same rows: the generated Zendesk tickets' text (subject + description, as the
connector embeds them) with random 256-d unit vectors (the embedding is not what is measured).
Reports insert time, the Lite file's size on disk, the memory (RSS) of the process and of the Lite
server it starts, and the latency of the support form's duplicate search (org + status filter):
dense search on both, hybrid (dense + BM25, weighted) on the full-text one.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BATCH = 2000
QUERIES = 200


def _tree_rss_mb(pid: int) -> float:
    """RSS of a process and its descendants (Milvus Lite serves from a child process)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as handle:
                total += next(int(line.split()[1]) for line in handle if line.startswith("VmRSS"))
            with open(f"/proc/{p}/task/{p}/children") as handle:
                todo += [int(c) for c in handle.read().split()]
        except (OSError, StopIteration):
            pass
    return total / 1024


def _disk_mb(path: str) -> float:
    if os.path.isfile(path):
        return os.path.getsize(path) / 2**20
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file()) / 2**20


def _open(full_text: bool, path: str):
    """A store on a new Lite file with the connector's schema, with or without BM25, loaded."""
    from destination_milvus_zendesk.config import parse_config
    from destination_milvus_zendesk.milvus import MilvusStore
    from destination_milvus_zendesk.milvus.collection import collection_schema
    from destination_milvus_zendesk.schema import BM25_FIELD, METADATA_COLUMNS, RECORD_ID, STREAM, Kind

    cfg = parse_config({"embedding": {"mode": "local"},
                        "indexing": {"host": path, "collection": "cost", "create_collection": True}})
    store = MilvusStore(cfg.indexing)
    client = store.connect()
    client.create_collection("cost", schema=collection_schema(cfg.indexing, 256, full_text), consistency_level="Strong")
    store.collection_manager.create_indexes({STREAM: Kind.VARCHAR, RECORD_ID: Kind.VARCHAR,
                                             **{n: d for n, (d, _) in METADATA_COLUMNS.items()},
                                             **({BM25_FIELD: Kind.SPARSE_FLOAT_VECTOR} if full_text else {})})
    client.load_collection("cost")
    store.describe()
    return store, client


def _unit(rng) -> list[float]:
    vector = rng.standard_normal(256)
    return (vector / (vector @ vector) ** 0.5).tolist()


def _batches(rows: int, rng, queries: list[tuple[str, int]]):
    """Rows as the connector writes tickets (text = description + subject), in batches; the first
    QUERIES subjects of tickets with an organization go to `queries`."""
    from test_support import zendesk_sample as zs

    batch = []
    for message in zs.generate_messages(rows, 0, seed=7, state_every=0):
        if message["type"] != "RECORD":
            continue
        t = message["record"]["data"]
        batch.append({"id": str(t["id"]), "vector": _unit(rng), "_ab_stream": "tickets",
                      "text": f"description: {t['description']}\nsubject: {t['subject']}"[:8000],
                      "_ab_record_id": str(t["id"]), "status": t["status"], "organization_id": t["organization_id"] or -1})
        if len(queries) < QUERIES and t["organization_id"]:
            queries.append((t["subject"], t["organization_id"]))
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _latencies(store, queries: list[tuple[str, int]], full_text: bool, rng) -> dict[str, float]:
    """p50/p95 of the form's duplicate search: dense, and hybrid where the collection has BM25."""
    from destination_milvus_zendesk.support.search import HYBRID_WEIGHTS

    expr = 'status in ["new", "open", "pending", "hold"] and organization_id == {}'
    times: dict[str, list[float]] = {"dense": [], **({"hybrid": []} if full_text else {})}
    for text, org in queries:
        vector = _unit(rng)
        started = time.perf_counter()
        store.search(vector, filter_expr=expr.format(org), limit=10, output_fields=["text"], consistency_level="Bounded")
        times["dense"].append(time.perf_counter() - started)
        if full_text:
            started = time.perf_counter()
            store.hybrid_search(vector, text, filter_expr=expr.format(org), limit=10, output_fields=["text", "vector"],
                                fusion=("weighted", HYBRID_WEIGHTS), consistency_level="Bounded")
            times["hybrid"].append(time.perf_counter() - started)
    out = {}
    for name, values in times.items():
        values.sort()
        out[f"{name}_p50_ms"] = 1000 * values[len(values) // 2]
        out[f"{name}_p95_ms"] = 1000 * values[int(len(values) * 0.95)]
    return out


def child(full_text: bool, rows: int, path: str) -> dict:
    import numpy as np

    store, client = _open(full_text, path)
    rss_empty = _tree_rss_mb(os.getpid())
    rng = np.random.default_rng(1)
    queries: list[tuple[str, int]] = []
    insert_s = 0.0
    for batch in _batches(rows, rng, queries):
        started = time.perf_counter()
        client.insert("cost", batch)
        insert_s += time.perf_counter() - started
    client.flush("cost")
    result = {"full_text": full_text, "rows": store.count(), "insert_s": insert_s, "rss_empty_mb": rss_empty,
              "rss_loaded_mb": _tree_rss_mb(os.getpid()), **_latencies(store, queries, full_text, rng)}
    store.close()
    result["disk_mb"] = _disk_mb(path)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--child", choices=("dense", "hybrid"))
    parser.add_argument("--path")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child == "hybrid", args.rows, args.path)))
        return 0
    results = {}
    with tempfile.TemporaryDirectory(prefix="dmz-cost-") as folder:
        for variant in ("dense", "hybrid"):
            out = subprocess.run([sys.executable, "-m", "bench.hybrid_cost", "--child", variant, "--rows", str(args.rows),
                                  "--path", os.path.join(folder, f"{variant}.db")],
                                 capture_output=True, text=True, check=True, cwd=ROOT)
            results[variant] = json.loads(out.stdout.strip().splitlines()[-1])
            print(variant, results[variant], file=sys.stderr)
    print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
