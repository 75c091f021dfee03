"""What the BM25 full-text field costs at 100k rows on Milvus Lite: write time, disk, memory, lookup latency.

    .venv/bin/python bench/hybrid_cost.py [--rows 100000]        (about 3-4 minutes)

Two collections in two Lite files, built by MilvusStore exactly as the connector creates them, one
without and one with the BM25 function (the `_schema(dim, full_text)` switch), each filled in its own
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
sys.path.insert(0, str(ROOT))

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


def child(full_text: bool, rows: int, path: str) -> dict:
    import numpy as np

    from destination_milvus_zendesk.config import parse_config
    from pymilvus import DataType

    from destination_milvus_zendesk.milvus_store import BM25_FIELD, METADATA_COLUMNS, RECORD_ID, STREAM, MilvusStore
    from destination_milvus_zendesk.query import HYBRID_WEIGHTS
    from devtools import zendesk_sample as zs

    cfg = parse_config({"embedding": {"mode": "local"},
                        "indexing": {"host": path, "collection": "cost", "create_collection": True}})
    store = MilvusStore(cfg.indexing)
    client = store.connect()
    client.create_collection("cost", schema=store._schema(256, full_text), consistency_level="Strong")
    store._create_indexes({STREAM: DataType.VARCHAR, RECORD_ID: DataType.VARCHAR,
                           **{n: d for n, (d, _) in METADATA_COLUMNS.items()},
                           **({BM25_FIELD: DataType.SPARSE_FLOAT_VECTOR} if full_text else {})})
    client.load_collection("cost")
    info = store.describe()
    rss_empty = _tree_rss_mb(os.getpid())
    rng = np.random.default_rng(1)
    insert_s, batch, texts, orgs = 0.0, [], [], []
    for message in zs.generate_messages(rows, 0, seed=7, state_every=0):
        if message["type"] != "RECORD":
            continue
        t = message["record"]["data"]
        text = f"description: {t['description']}\nsubject: {t['subject']}"[:8000]
        vector = rng.standard_normal(256).astype(np.float32)
        batch.append({"id": str(t["id"]), "vector": (vector / np.linalg.norm(vector)).tolist(), "text": text,
                      "_ab_stream": "tickets", "_ab_record_id": str(t["id"]), "status": t["status"],
                      "organization_id": t["organization_id"] or -1})
        if len(texts) < QUERIES and t["organization_id"]:
            texts.append(t["subject"])
            orgs.append(t["organization_id"])
        if len(batch) == BATCH:
            started = time.perf_counter()
            client.insert("cost", batch)
            insert_s += time.perf_counter() - started
            batch = []
    if batch:
        started = time.perf_counter()
        client.insert("cost", batch)
        insert_s += time.perf_counter() - started
    client.flush("cost")
    store.info = info
    expr = 'status in ["new", "open", "pending", "hold"] and organization_id == {}'
    latencies: dict[str, list[float]] = {"dense": [], **({"hybrid": []} if full_text else {})}
    for text, org in zip(texts, orgs):
        vector = rng.standard_normal(256)
        vector = (vector / np.linalg.norm(vector)).tolist()
        started = time.perf_counter()
        store.search(vector, filter_expr=expr.format(org), limit=10, output_fields=["text"], consistency_level="Bounded")
        latencies["dense"].append(time.perf_counter() - started)
        if full_text:
            started = time.perf_counter()
            store.hybrid_search(vector, text, filter_expr=expr.format(org), limit=10, output_fields=["text", "vector"],
                                fusion=("weighted", HYBRID_WEIGHTS), consistency_level="Bounded")
            latencies["hybrid"].append(time.perf_counter() - started)
    result = {"full_text": full_text, "rows": store.count(), "insert_s": insert_s,
              "rss_empty_mb": rss_empty, "rss_loaded_mb": _tree_rss_mb(os.getpid())}
    for name, values in latencies.items():
        values.sort()
        result[f"{name}_p50_ms"] = 1000 * values[len(values) // 2]
        result[f"{name}_p95_ms"] = 1000 * values[int(len(values) * 0.95)]
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
            out = subprocess.run([sys.executable, __file__, "--child", variant, "--rows", str(args.rows), "--path",
                                  os.path.join(folder, f"{variant}.db")], capture_output=True, text=True, check=True)
            results[variant] = json.loads(out.stdout.strip().splitlines()[-1])
            print(variant, results[variant], file=sys.stderr)
    print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
