"""Probe what Milvus 2.3.5 (real server, auth on) and Milvus Lite actually do with pymilvus 3.x.

Runs every experiment on both backends and prints a comparison table (markdown); the raw
results (including full error strings and describe_* dumps) go to a JSON file.

    .venv/bin/python scripts/research/probe_milvus.py                  # both backends, everything
    .venv/bin/python scripts/research/probe_milvus.py --backend lite   # only Milvus Lite
    .venv/bin/python scripts/research/probe_milvus.py --only a,c,g     # some experiments
    .venv/bin/python scripts/research/probe_milvus.py --quick          # skip the slow size/timing parts

A research tool (its findings: docs/milvus_probe.md), not test support: nothing imports it.

The server is started/stopped with test_support.milvus_server.MilvusServer (an already running
server that accepts root:Milvus is reused and left running).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root, as scripts/ do

from test_support.milvus_server import MilvusServer, describe_connection_error, milvus_processes  # noqa: E402

DIM = 1536
SMALL = 8


# --------------------------------------------------------------------------- helpers
def err_text(exc: BaseException, limit: int = 600) -> str:
    text = describe_connection_error(exc)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def short(value: Any, limit: int = 160) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def vec(i: int, dim: int = DIM) -> List[float]:
    r = random.Random(i)
    return [r.random() for _ in range(dim)]


def unit(i: int, dim: int) -> List[float]:
    v = [0.0] * dim
    v[i] = 1.0
    return v


class Probe:
    def __init__(self, backend: str, make_client: Callable[..., Any], info: Dict[str, Any], quick: bool):
        self.backend = backend
        self.make_client = make_client
        self.client = make_client()
        self.info = info
        self.quick = quick
        self.results: "OrderedDict[str, Dict[str, Any]]" = OrderedDict()
        self.collections: List[str] = []

    # result bookkeeping ---------------------------------------------------
    def rec(self, key: str, question: str, value: Any, detail: Any = None) -> None:
        self.results[key] = {"q": question, "v": value if isinstance(value, str) else short(value), "detail": detail}
        print(f"[{self.backend}] {key}: {self.results[key]['v']}", flush=True)

    def attempt(self, key: str, question: str, fn: Callable[[], Any], ok: Callable[[Any], str] = None,
                detail_ok: bool = False) -> Any:
        t0 = time.monotonic()
        try:
            res = fn()
        except Exception as exc:  # noqa: BLE001 - the error text is the result
            dt = time.monotonic() - t0
            self.rec(key, question, f"ERROR ({dt:.2f}s): {err_text(exc)}", detail=err_text(exc, 4000))
            return exc
        dt = time.monotonic() - t0
        summary = ok(res) if ok else short(res)
        self.rec(key, question, f"OK ({dt:.2f}s): {summary}" if dt >= 0.5 else f"OK: {summary}",
                 detail=res if detail_ok else None)
        return res

    def coll(self, stem: str) -> str:
        name = f"probe_{stem}_{uuid.uuid4().hex[:6]}"
        self.collections.append(name)
        return name

    def cleanup(self) -> None:
        for name in self.collections:
            try:
                if self.client.has_collection(name):
                    self.client.drop_collection(name)
            except Exception:  # noqa: BLE001
                pass

    # schema helpers --------------------------------------------------------
    def create_tutorial(self, name: str, dim: int = DIM, index_type: str = "AUTOINDEX", metric: str = "L2",
                        params: Optional[dict] = None):
        from pymilvus import DataType, MilvusClient

        schema = MilvusClient.create_schema(auto_id=True, enable_dynamic_field=True)
        schema.add_field("id", DataType.INT64, is_primary=True, auto_id=True)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
        ip = self.client.prepare_index_params()
        ip.add_index(field_name="vector", index_type=index_type, metric_type=metric, params=params or {})
        self.client.create_collection(name, schema=schema, index_params=ip)
        return schema

    def count(self, name: str) -> int:
        res = self.client.query(name, filter="", output_fields=["count(*)"], consistency_level="Strong")
        return int(res[0]["count(*)"])


# --------------------------------------------------------------------------- a. tutorial collection
def exp_a(p: Probe) -> None:
    c = p.client
    name = p.coll("tutorial")
    idx_used = "AUTOINDEX"
    r = p.attempt("a1", "create INT64 auto_id pk + FLOAT_VECTOR(1536) + dynamic, index AUTOINDEX/L2 (create_collection(index_params=) loads it)",
                  lambda: p.create_tutorial(name, index_type="AUTOINDEX"), ok=lambda _: "created")
    if isinstance(r, Exception):
        idx_used = "IVF_FLAT"
        p.attempt("a1b", "fallback: same with IVF_FLAT nlist=128 L2",
                  lambda: p.create_tutorial(name, index_type="IVF_FLAT", params={"nlist": 128}), ok=lambda _: "created")
    p.attempt("a2", "get_load_state right after create_collection(index_params=...)", lambda: c.get_load_state(name),
              ok=lambda s: str(s.get("state")))
    p.attempt("a2b", "describe_index('vector'): index_type actually used / params",
              lambda: c.describe_index(name, "vector"), ok=lambda d: short({k: d.get(k) for k in ("index_type", "metric_type", "params") if k in d} or d))

    base = {"text": "hello world", "_ab_stream": "tickets", "_id": "tickets_1",
            "nested": {"k": {"deep": [1, 2, {"x": "y"}]}}, "tags": ["a", "b"], "nullable": None,
            "flag": True, "count": 3, "ratio": 0.5}
    rows = [
        dict(base, vector=vec(1), _ab_record_id="a", _ab_write_id="x"),
        dict(base, vector=vec(2), _ab_record_id="b", _ab_write_id="y"),
        dict(base, vector=vec(3), _ab_record_id="b"),  # no _ab_write_id key at all
        dict(base, vector=vec(4), _ab_record_id="c", _ab_write_id="y"),
        dict(base, vector=vec(5), _ab_record_id="d", _ab_write_id="x"),
    ]
    res = p.attempt("a3", "insert 5 rows WITHOUT 'id' key, dynamic text/_ab_*/_id/nested dict/list/None/bool",
                    lambda: c.insert(name, rows), ok=lambda r: f"insert_count={r['insert_count']} ids[:2]={list(r['ids'])[:2]} (type {type(list(r['ids'])[0]).__name__})")
    p.attempt("a4", "insert a row WITH an explicit 'id' into the auto_id collection",
              lambda: c.insert(name, [dict(base, vector=vec(6), id=123456, _ab_record_id="z")]),
              ok=lambda r: f"accepted: insert_count={r['insert_count']} ids={list(r['ids'])}")
    p.attempt("a4b", "insert a row with 'id': None into the auto_id collection",
              lambda: c.insert(name, [dict(base, vector=vec(7), id=None, _ab_record_id="z2")]),
              ok=lambda r: f"accepted: ids={list(r['ids'])}")
    p.attempt("a5", "count(*) right after insert WITHOUT consistency_level (collection default)",
              lambda: c.query(name, filter="", output_fields=["count(*)"]), ok=lambda r: f"count={r[0]['count(*)']}")
    p.attempt("a5b", "count(*) with consistency_level='Strong'", lambda: p.count(name), ok=lambda n: f"count={n}")
    p.attempt("a6", "query(filter='_ab_record_id == \"a\"', output_fields=['*']) -> keys and dynamic values",
                    lambda: c.query(name, filter='_ab_record_id == "a"', output_fields=["*"], consistency_level="Strong"),
                    ok=lambda r: short({k: (f"<{len(v)} floats>" if k == "vector" else v) for k, v in r[0].items()}, 400) if r else "no rows",
                    )
    p.attempt("a6b", "query(output_fields=['nested','nullable','flag','tags']) (dynamic keys by name)",
              lambda: c.query(name, filter='_ab_record_id == "a"', output_fields=["nested", "nullable", "flag", "tags"], consistency_level="Strong"),
              ok=lambda r: short(r[0], 300) if r else "no rows")
    p.attempt("a7", "query(filter=..., output_fields=['vector','text']) returns vectors?",
              lambda: c.query(name, filter='_ab_record_id == "a"', output_fields=["vector", "text"], consistency_level="Strong"),
              ok=lambda r: (f"vector returned: {type(r[0].get('vector')).__name__} len={len(r[0]['vector'])}, first={float(r[0]['vector'][0]):.4f} (inserted {vec(1)[0]:.4f}); text={r[0].get('text')!r}"
                            if r and r[0].get("vector") is not None else f"NO vector: {short(r)}"))
    p.attempt("a7b", "get(ids=[first id], output_fields=['vector']) returns vectors?",
              lambda: c.get(name, ids=[list(res["ids"])[0]] if isinstance(res, dict) else [0], output_fields=["vector"]),
              ok=lambda r: f"vector len={len(r[0]['vector'])}" if r and r[0].get("vector") is not None else f"NO vector: {short(r)}")
    p.attempt("a8", "filter on a dynamic key that no row has: 'never_set == 1'",
              lambda: c.query(name, filter="never_set == 1", output_fields=["_ab_record_id"], consistency_level="Strong"),
              ok=lambda r: f"{len(r)} rows")
    p.attempt("a8b", "filter 'nullable is null' (2.4+ syntax) on a JSON-null dynamic value",
              lambda: c.query(name, filter="nullable is null", output_fields=["_ab_record_id"], consistency_level="Strong"),
              ok=lambda r: f"{len(r)} rows")
    p.attempt("a8c", "filter on nested path: 'nested[\"k\"][\"deep\"][0] == 1'",
              lambda: c.query(name, filter='nested["k"]["deep"][0] == 1', output_fields=["_ab_record_id"], consistency_level="Strong"),
              ok=lambda r: f"{len(r)} rows")
    p.attempt("a8d", "filter with $meta syntax: '$meta[\"_ab_stream\"] == \"tickets\"'",
              lambda: c.query(name, filter='$meta["_ab_stream"] == "tickets"', output_fields=["_ab_record_id"], consistency_level="Strong"),
              ok=lambda r: f"{len(r)} rows")
    p.attempt("a8e", "insert dynamic keys with odd names ('with-dash', 'with.dot', 'with space', 'ünï')",
              lambda: c.insert(name, [{"vector": vec(8), "_ab_record_id": "odd", "with-dash": 1, "with.dot": 2, "with space": 3, "ünï": 4}]),
              ok=lambda r: f"insert_count={r['insert_count']}")
    p.attempt("a8f", "filter on odd key via $meta[\"with-dash\"] == 1 (output _ab_record_id)",
              lambda: c.query(name, filter='$meta["with-dash"] == 1', output_fields=["_ab_record_id"], consistency_level="Strong"),
              ok=lambda r: short(r, 200))
    p.attempt("a8f2", "output_fields=['with-dash','with.dot'] (odd dynamic key names)",
              lambda: c.query(name, filter='_ab_record_id == "odd"', output_fields=["with-dash", "with.dot"], consistency_level="Strong"),
              ok=lambda r: short(r, 200))
    p.attempt("a8f3", "output_fields=['$meta'] for the odd row",
              lambda: c.query(name, filter='_ab_record_id == "odd"', output_fields=["$meta"], consistency_level="Strong"),
              ok=lambda r: short(r, 200))
    p.attempt("a8g", "insert a dynamic key literally named '$meta'",
              lambda: c.insert(name, [{"vector": vec(9), "_ab_record_id": "meta", "$meta": {"a": 1}}]),
              ok=lambda r: f"insert_count={r['insert_count']}")

    def ids_left():
        r = c.query(name, filter='_ab_record_id in ["a","b","c","d"]', output_fields=["_ab_record_id", "_ab_write_id"], consistency_level="Strong")
        return sorted(f"{x['_ab_record_id']}/{x.get('_ab_write_id', '<missing>')}" for x in r)

    p.attempt("a9", "rows before deletes (record/write_id)", ids_left)
    p.attempt("a10", "delete(filter='_ab_record_id in [\"a\",\"b\"] and _ab_write_id != \"x\"') -> result, rows left",
              lambda: (c.delete(name, filter='_ab_record_id in ["a","b"] and _ab_write_id != "x"'), ids_left()),
              ok=lambda r: f"delete() returned {short(r[0])}; left {r[1]}")
    p.attempt("a11", "delete(filter='_ab_record_id in [\"a\",\"b\"]') -> result, rows left",
              lambda: (c.delete(name, filter='_ab_record_id in ["a","b"]'), ids_left()),
              ok=lambda r: f"delete() returned {short(r[0])}; left {r[1]}")
    p.attempt("a12", "delete(filter='not exists ...') style: '_ab_record_id == \"c\" and not (_ab_write_id == \"x\")'",
              lambda: (c.delete(name, filter='_ab_record_id == "c" and not (_ab_write_id == "x")'), ids_left()),
              ok=lambda r: f"delete() returned {short(r[0])}; left {r[1]}")
    p.attempt("a13", "delete(ids=[...]) by primary key", lambda: c.delete(name, ids=[list(res["ids"])[-1]] if isinstance(res, dict) else [0]),
              ok=lambda r: short(r))
    p.info.setdefault("a_index", idx_used)

    # semantics of comparisons on a dynamic key that is MISSING in some rows
    n2 = p.coll("missing_key")
    p.create_tutorial(n2, dim=SMALL, index_type="FLAT")
    c.insert(n2, [{"vector": vec(1, SMALL), "rid": "x1", "k": "x"}, {"vector": vec(2, SMALL), "rid": "y1", "k": "y"},
                  {"vector": vec(3, SMALL), "rid": "missing"}, {"vector": vec(4, SMALL), "rid": "null", "k": None}])
    for i, expr in enumerate(['k != "x"', 'not (k == "x")', 'k not in ["x"]', 'k in ["y"]', "exists k",
                              'json_contains(tags, "a")', 'k == "x" or k != "x"']):
        p.attempt(f"a14.{i}", f"rows k=x / k=y / k missing / k=null: which match `{expr}`?",
                  lambda expr=expr: c.query(n2, filter=expr, output_fields=["rid"], consistency_level="Strong"),
                  ok=lambda r: "matches " + short(sorted(x["rid"] for x in r)))


# --------------------------------------------------------------------------- b. size limits
def exp_b(p: Probe) -> None:
    from pymilvus import DataType, MilvusClient

    c = p.client
    name = p.coll("sizes")
    p.create_tutorial(name, dim=SMALL, index_type="FLAT")
    for label, size in [("60 KB", 60_000), ("65,535 B", 65_535), ("65,536 B", 65_536), ("65,537 B", 65_537),
                        ("100 KB", 100_000), ("1 MB", 1_000_000), ("16 MB", 16_000_000)]:
        row = {"vector": vec(size, SMALL), "blob": "x" * size}
        p.attempt(f"b1 {label}", f"one dynamic string value of {size:,} bytes ($meta JSON ~{size + 12:,} B)",
                  lambda row=row: c.insert(name, [row]), ok=lambda r: f"insert_count={r['insert_count']}")
    many = {"vector": vec(1, SMALL), **{f"k{i}": "y" * 1000 for i in range(1000)}}
    p.attempt("b1 1000x1KB keys", "1,000 dynamic keys of 1 KB each (~1 MB $meta)", lambda: c.insert(name, [many]),
              ok=lambda r: f"insert_count={r['insert_count']}")
    p.attempt("b1 read back 1MB", "query back the 1 MB blob row, check length",
              lambda: c.query(name, filter="blob like \"x%\"", output_fields=["blob"], consistency_level="Strong"),
              ok=lambda r: "lengths " + str(sorted(len(x["blob"]) for x in r)))

    # VARCHAR semantics
    vname = p.coll("varchar")
    schema = MilvusClient.create_schema(auto_id=True, enable_dynamic_field=False)
    schema.add_field("id", DataType.INT64, is_primary=True, auto_id=True)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=SMALL)
    schema.add_field("t", DataType.VARCHAR, max_length=10)
    ip = c.prepare_index_params()
    ip.add_index("vector", index_type="FLAT", metric_type="L2")
    c.create_collection(vname, schema=schema, index_params=ip)
    for label, text in [("'a'*10", "a" * 10), ("'a'*11", "a" * 11), ("'é'*5 (5 chars/10 B)", "é" * 5),
                        ("'é'*6 (6 chars/12 B)", "é" * 6), ("'中'*4 (4 chars/12 B)", "中" * 4),
                        ("'😀'*3 (3 chars/12 B)", "😀" * 3)]:
        p.attempt(f"b2 max_length=10 {label}", f"VARCHAR(max_length=10) insert {label}",
                  lambda text=text: c.insert(vname, [{"vector": vec(2, SMALL), "t": text}]),
                  ok=lambda r: "accepted")
    for ml in (65535, 65536, 1_048_576):
        n2 = p.coll(f"vc{ml}")
        sch = MilvusClient.create_schema(auto_id=True)
        sch.add_field("id", DataType.INT64, is_primary=True, auto_id=True)
        sch.add_field("vector", DataType.FLOAT_VECTOR, dim=SMALL)
        p.attempt(f"b3 max_length={ml}", f"create VARCHAR(max_length={ml:,})",
                  lambda sch=sch, n2=n2, ml=ml: (sch.add_field("t", DataType.VARCHAR, max_length=ml),
                                                 c.create_collection(n2, schema=sch, index_params=_flat(c))),
                  ok=lambda r: "created")
    n3 = [x for x in p.collections if x.startswith("probe_vc65535_")][0]
    if c.has_collection(n3):
        for label, text in [("65,535 ASCII", "a" * 65535), ("65,536 ASCII", "a" * 65536),
                            ("32,767 'é' (65,534 B)", "é" * 32767), ("32,768 'é' (65,536 B)", "é" * 32768),
                            ("65,535 'é' (131,070 B)", "é" * 65535)]:
            p.attempt(f"b4 VARCHAR(65535) {label}", f"VARCHAR(max_length=65535) insert {label}",
                      lambda text=text: c.insert(n3, [{"vector": vec(3, SMALL), "t": text}]), ok=lambda r: "accepted")

    if p.quick:
        return
    # biggest insert request: 1536-d vector + 4 KB dynamic text per row
    bname = p.coll("bigreq")
    p.create_tutorial(bname, dim=DIM, index_type="FLAT")
    v = vec(42)
    text4k = ("lorem ipsum " * 400)[:4096]

    def try_rows(n: int):
        rows = [{"vector": v, "text": text4k, "_ab_record_id": f"r{i}"} for i in range(n)]
        size = _request_size(c, bname, rows)
        t0 = time.monotonic()
        try:
            c.insert(bname, rows, timeout=300)
            return True, size, time.monotonic() - t0, ""
        except Exception as exc:  # noqa: BLE001
            return False, size, time.monotonic() - t0, err_text(exc, 2000)

    last_ok, first_fail, fail_err, sizes = 0, None, "", {}
    for n in (1000, 2000, 4000, 6000, 8000, 12000, 16000, 24000):
        ok, size, dt, e = try_rows(n)
        sizes[n] = size
        p.rec(f"b5 {n} rows", f"insert {n:,} rows x (1536-d + 4 KB text) in ONE request",
              f"{'OK' if ok else 'ERROR'} request={size / 1e6:.1f} MB in {dt:.1f}s" + ("" if ok else f": {e}"))
        if ok:
            last_ok = n
        else:
            first_fail, fail_err = n, e
            break
    if first_fail:
        lo, hi = last_ok, first_fail
        while hi - lo > max(50, lo // 50):
            mid = (lo + hi) // 2
            ok, size, dt, e = try_rows(mid)
            sizes[mid] = size
            if ok:
                lo = mid
            else:
                hi, fail_err = mid, e
        p.rec("b6 threshold", "largest single insert accepted (bisected)",
              f"OK at {lo:,} rows ({sizes[lo] / 1e6:.2f} MB = {sizes[lo]:,} B), fails at {hi:,} rows "
              f"({sizes[hi] / 1e6:.2f} MB = {sizes[hi]:,} B) with: {fail_err}", detail=fail_err)
    else:
        p.rec("b6 threshold", "largest single insert accepted", f"no failure up to {last_ok:,} rows ({sizes[last_ok] / 1e6:.1f} MB)")
    c.drop_collection(bname)


def _flat(c):
    ip = c.prepare_index_params()
    ip.add_index("vector", index_type="FLAT", metric_type="L2")
    return ip


def _request_size(c, name: str, rows: List[dict]) -> int:
    """Serialized InsertRequest size as pymilvus would send it (falls back to an estimate)."""
    try:
        conn = c._get_connection()
        req = conn._prepare_row_insert_request(name, rows, context=c._generate_call_context())
        return req.ByteSize()
    except Exception:  # noqa: BLE001
        return sum(len(r["vector"]) * 4 + len(json.dumps({k: v for k, v in r.items() if k != "vector"})) for r in rows)


# --------------------------------------------------------------------------- c. describe / properties
def exp_c(p: Probe) -> None:
    from pymilvus import DataType, MilvusClient

    c = p.client
    name = p.coll("describe")
    p.create_tutorial(name, dim=DIM, index_type="AUTOINDEX" if p.info.get("a_index", "AUTOINDEX") == "AUTOINDEX" else "IVF_FLAT",
                      params={} if p.info.get("a_index", "AUTOINDEX") == "AUTOINDEX" else {"nlist": 128})
    d = p.attempt("c1", "describe_collection (auto_id INT64 pk + vector + dynamic): top-level keys",
                  lambda: c.describe_collection(name), ok=lambda d: short(sorted(d.keys()), 400), detail_ok=True)
    if isinstance(d, dict):
        p.rec("c2", "describe_collection fields[] entries (name/type/params/flags)",
              short([{k: (str(v) if k == "type" else v) for k, v in f.items()} for f in d.get("fields", [])], 600))
        p.rec("c3", "auto_id / enable_dynamic_field / properties / consistency_level values",
              short({k: d.get(k) for k in ("auto_id", "enable_dynamic_field", "properties", "consistency_level", "num_shards", "num_partitions")}, 400))
        vf = [f for f in d.get("fields", []) if f.get("name") == "vector"]
        if vf:
            p.rec("c4", "how to read dim: fields[i]['params']['dim'] type", f"{vf[0].get('params')!r} -> dim type {type(vf[0].get('params', {}).get('dim')).__name__}; field type repr {vf[0].get('type')!r} (int {int(vf[0].get('type'))})")
    p.attempt("c5", "list_indexes(name)", lambda: c.list_indexes(name), ok=short)
    p.attempt("c6", "describe_index(name, 'vector')", lambda: c.describe_index(name, "vector"), ok=lambda r: short(r, 400), detail_ok=True)
    p.attempt("c7", "alter_collection_properties(properties={'dmz.embedding_model': 'text-embedding-ada-002'})",
              lambda: c.alter_collection_properties(name, properties={"dmz.embedding_model": "text-embedding-ada-002"}), ok=lambda r: "accepted")
    p.attempt("c8", "describe_collection()['properties'] after alter",
              lambda: c.describe_collection(name).get("properties"), ok=short)
    p.attempt("c9", "alter properties while collection is LOADED with a 2nd key + a known key collection.ttl.seconds",
              lambda: (c.alter_collection_properties(name, properties={"dmz.dim": "1536", "collection.ttl.seconds": 0}),
                       c.describe_collection(name).get("properties"))[1], ok=short)
    p.attempt("c10", "drop_collection_properties(['dmz.dim'])",
              lambda: (c.drop_collection_properties(name, property_keys=["dmz.dim"]), c.describe_collection(name).get("properties"))[1], ok=short)
    p.attempt("c10b", "describe_collection of a missing collection",
              lambda: c.describe_collection("probe_no_such_collection"), ok=short)
    p.attempt("c10c", "create_collection with description + properties= kwarg",
              lambda: _create_with_props(c, p.coll("props")), ok=short)
    # VARCHAR pk kind
    n2 = p.coll("describe_vc")
    schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=True, description="probe varchar pk")
    schema.add_field("pk", DataType.VARCHAR, max_length=512, is_primary=True)
    schema.add_field("embedding", DataType.FLOAT_VECTOR, dim=SMALL)
    schema.add_field("text", DataType.VARCHAR, max_length=65535)
    ip = c.prepare_index_params()
    ip.add_index("embedding", index_type="FLAT", metric_type="COSINE")
    c.create_collection(n2, schema=schema, index_params=ip)
    p.attempt("c11", "describe_collection (VARCHAR pk, no auto_id): fields[]",
              lambda: c.describe_collection(n2),
              ok=lambda d: short({"auto_id": d.get("auto_id"), "fields": [{k: (str(v) if k == "type" else v) for k, v in f.items()} for f in d["fields"]], "description": d.get("description")}, 600),
              detail_ok=True)
    p.attempt("c12", "describe_index on COSINE FLAT index", lambda: c.describe_index(n2, c.list_indexes(n2)[0]), ok=lambda r: short(r, 300))
    p.attempt("c13", "list_indexes(field_name='embedding') vs list_indexes() ",
              lambda: (c.list_indexes(n2, field_name="embedding"), c.list_indexes(n2)), ok=short)
    p.attempt("c14", "get_collection_stats", lambda: c.get_collection_stats(n2), ok=short)
    p.attempt("c15", "get_server_version", lambda: c.get_server_version(), ok=short)


def _create_with_props(c, name):
    from pymilvus import DataType, MilvusClient

    schema = MilvusClient.create_schema(auto_id=True, enable_dynamic_field=True, description="dmz test")
    schema.add_field("id", DataType.INT64, is_primary=True, auto_id=True)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=SMALL)
    c.create_collection(name, schema=schema, index_params=_flat(c), properties={"dmz.embedding_model": "fake"})
    d = c.describe_collection(name)
    return {"description": d.get("description"), "properties": d.get("properties")}


# --------------------------------------------------------------------------- d. upsert
def exp_d(p: Probe) -> None:
    from pymilvus import DataType, MilvusClient

    c = p.client
    for kind, dtype, extra, keys in (("varchar", DataType.VARCHAR, {"max_length": 256}, ["t1", "t2", "t3", "t4"]),
                                     ("int64", DataType.INT64, {}, [11, 12, 13, 14])):
        name = p.coll(f"upsert_{kind}")
        schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=True)
        schema.add_field("pk", dtype, is_primary=True, **extra)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=SMALL)
        c.create_collection(name, schema=schema, index_params=_flat(c))
        rows = [{"pk": k, "vector": vec(i, SMALL), "text": f"v1-{k}"} for i, k in enumerate(keys[:3])]
        p.attempt(f"d1 {kind}", f"{kind} pk: insert 3 rows", lambda: c.insert(name, rows), ok=lambda r: f"insert_count={r['insert_count']} ids={list(r['ids'])}")
        up = [{"pk": keys[0], "vector": vec(9, SMALL), "text": "v2-updated"}, {"pk": keys[3], "vector": vec(10, SMALL), "text": "v2-new"}]
        p.attempt(f"d2 {kind}", f"{kind} pk: upsert 1 existing + 1 new -> result, count, text of existing",
                  lambda: (c.upsert(name, up), p.count(name),
                           c.query(name, filter=(f'pk == "{keys[0]}"' if kind == "varchar" else f"pk == {keys[0]}"),
                                   output_fields=["text"], consistency_level="Strong")),
                  ok=lambda r: f"upsert() -> {short(r[0])}; count={r[1]}; existing row now {short([x['text'] for x in r[2]])}")
        p.attempt(f"d3 {kind}", f"{kind} pk: plain insert of an EXISTING pk (duplicate?) -> count",
                  lambda: (c.insert(name, [{"pk": keys[1], "vector": vec(11, SMALL), "text": "dup"}]), p.count(name),
                           c.query(name, filter=(f'pk == "{keys[1]}"' if kind == "varchar" else f"pk == {keys[1]}"), output_fields=["text"], consistency_level="Strong")),
                  ok=lambda r: f"count={r[1]}; rows for that pk: {short([x['text'] for x in r[2]])}")
        p.attempt(f"d4 {kind}", f"{kind} pk: upsert with duplicate pks inside ONE batch",
                  lambda: (c.upsert(name, [{"pk": keys[2], "vector": vec(12, SMALL), "text": "a"}, {"pk": keys[2], "vector": vec(13, SMALL), "text": "b"}]),
                           c.query(name, filter=(f'pk == "{keys[2]}"' if kind == "varchar" else f"pk == {keys[2]}"), output_fields=["text"], consistency_level="Strong")),
                  ok=lambda r: f"{short(r[0])}; rows now {short([x['text'] for x in r[1]])}")
        p.attempt(f"d5 {kind}", f"{kind} pk: insert row missing the pk", lambda: c.insert(name, [{"vector": vec(14, SMALL)}]), ok=short)
    name = p.coll("upsert_auto")
    p.create_tutorial(name, dim=SMALL, index_type="FLAT")
    ins = c.insert(name, [{"vector": vec(1, SMALL), "text": "orig"}])
    pk = list(ins["ids"])[0]
    p.attempt("d6 auto_id", "auto_id INT64: upsert with the existing id -> result, count",
              lambda: (c.upsert(name, [{"id": pk, "vector": vec(2, SMALL), "text": "upserted"}]), p.count(name),
                       c.query(name, filter="", output_fields=["id", "text"], limit=10, consistency_level="Strong")),
              ok=lambda r: f"upsert() -> {short(r[0])}; count={r[1]}; rows={short(r[2], 200)}")
    p.attempt("d7 auto_id", "auto_id INT64: upsert WITHOUT id key",
              lambda: (c.upsert(name, [{"vector": vec(3, SMALL), "text": "no-id"}]), p.count(name)),
              ok=lambda r: f"upsert() -> {short(r[0])}; count={r[1]}")


# --------------------------------------------------------------------------- e. scalar indexes
def exp_e(p: Probe) -> None:
    from pymilvus import DataType, MilvusClient

    c = p.client
    name = p.coll("scalar_idx")
    schema = MilvusClient.create_schema(auto_id=True, enable_dynamic_field=True)
    schema.add_field("id", DataType.INT64, is_primary=True, auto_id=True)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=SMALL)
    for f in ("title_trie", "title_inv", "title_bitmap", "title_auto"):
        schema.add_field(f, DataType.VARCHAR, max_length=256)
    for f in ("num_sort", "num_inv", "num_auto"):
        schema.add_field(f, DataType.INT64)
    schema.add_field("meta", DataType.JSON)
    c.create_collection(name, schema=schema, index_params=_flat(c))
    c.insert(name, [{"vector": vec(i, SMALL), "title_trie": f"t{i}", "title_inv": f"t{i}", "title_bitmap": f"t{i % 3}",
                     "title_auto": f"t{i}", "num_sort": i, "num_inv": i, "num_auto": i, "meta": {"status": "new"},
                     "status": "new" if i % 2 else "open", "organization_id": i} for i in range(50)])

    def make(field, itype, iname, params=None, release=False):
        def run():
            if release:
                c.release_collection(name)
            ip = c.prepare_index_params()
            ip.add_index(field_name=field, index_type=itype, index_name=iname, params=params or {})
            c.create_index(name, ip)
            names = c.list_indexes(name)
            used = iname if iname in names else (field if field in names else None)
            out = c.describe_index(name, used) if used else {"list_indexes": names}
            if used != iname:
                out = dict(out, note=f"index_name {iname!r} ignored, index is named {used!r}")
            if release:
                c.load_collection(name)
            return out
        return run

    cases = [
        ("e1", "title_trie", "Trie", "idx_trie", None),
        ("e2", "num_sort", "STL_SORT", "idx_sort", None),
        ("e3", "title_inv", "INVERTED", "idx_inv_s", None),
        ("e4", "num_inv", "INVERTED", "idx_inv_i", None),
        ("e5", "title_bitmap", "BITMAP", "idx_bitmap", None),
        ("e6", "title_auto", "AUTOINDEX", "idx_auto_s", None),
        ("e7", "meta", "INVERTED", "idx_json", {"json_path": 'meta["status"]', "json_cast_type": "varchar"}),
        ("e8", "status", "INVERTED", "idx_dyn", {"json_path": "status", "json_cast_type": "varchar"}),
        ("e9", "$meta", "INVERTED", "idx_dyn2", {"json_path": '$meta["organization_id"]', "json_cast_type": "double"}),
    ]
    for key, field, itype, iname, params in cases:
        r = p.attempt(key, f"create_index {itype} on {field}{' ' + json.dumps(params) if params else ''} (collection LOADED)",
                      make(field, itype, iname, params), ok=lambda d: f"created: {short({k: d.get(k) for k in ('index_type', 'field_name', 'params', 'json_path', 'json_cast_type', 'note') if k in d}, 250)}")
        if isinstance(r, Exception) and "load" in str(r).lower():
            p.attempt(key + "b", "same after release_collection()", make(field, itype, iname, params, release=True),
                      ok=lambda d: "created after release")
    p.attempt("e10", "list_indexes after all attempts", lambda: c.list_indexes(name), ok=short)
    p.attempt("e11", "query on indexed fields: title_trie == 't3' and num_sort > 40",
              lambda: c.query(name, filter='title_trie == "t3" or num_sort > 47', output_fields=["num_sort"], consistency_level="Strong"),
              ok=lambda r: short(sorted(x["num_sort"] for x in r)))


# --------------------------------------------------------------------------- f. search
def exp_f(p: Probe) -> None:
    from pymilvus import DataType, MilvusClient

    c = p.client
    name = p.coll("search")
    schema = MilvusClient.create_schema(auto_id=True, enable_dynamic_field=True)
    schema.add_field("id", DataType.INT64, is_primary=True, auto_id=True)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=SMALL)
    schema.add_field("doc_id", DataType.VARCHAR, max_length=64)
    c.create_collection(name, schema=schema, index_params=_flat(c))
    rows = []
    for i in range(40):
        rows.append({"vector": vec(i, SMALL), "doc_id": f"doc{i % 5}", "text": f"chunk {i}",
                     "status": "new" if i % 2 == 0 else "open", "organization_id": 123 if i % 4 == 0 else 456,
                     "ticket_id": i % 5})
    c.insert(name, rows)
    q = vec(0, SMALL)
    p.attempt("f1", "search filter='status == \"new\" and organization_id == 123', output_fields=['text','status','organization_id']",
              lambda: c.search(name, data=[q], limit=5, filter='status == "new" and organization_id == 123',
                               output_fields=["text", "status", "organization_id"], consistency_level="Strong"),
              ok=lambda r: f"{len(r[0])} hits; first={short(r[0][0], 250)}")
    p.attempt("f1b", "search output_fields=['*'] -> entity keys",
              lambda: c.search(name, data=[q], limit=1, output_fields=["*"], consistency_level="Strong"),
              ok=lambda r: short(sorted(r[0][0]["entity"].keys())))
    p.attempt("f2", "search group_by_field='doc_id' (real VARCHAR field)",
              lambda: c.search(name, data=[q], limit=5, group_by_field="doc_id", output_fields=["doc_id"], consistency_level="Strong"),
              ok=lambda r: f"{len(r[0])} hits, doc_ids={[h['entity'].get('doc_id') for h in r[0]]}")
    p.attempt("f3", "search group_by_field='ticket_id' (dynamic field)",
              lambda: c.search(name, data=[q], limit=5, group_by_field="ticket_id", output_fields=["ticket_id"], consistency_level="Strong"),
              ok=lambda r: f"{len(r[0])} hits, ticket_ids={[h['entity'].get('ticket_id') for h in r[0]]}")
    p.attempt("f3b", "search group_by_field='doc_id' + group_size=2",
              lambda: c.search(name, data=[q], limit=3, group_by_field="doc_id", group_size=2, output_fields=["doc_id"], consistency_level="Strong"),
              ok=lambda r: f"{len(r[0])} hits, doc_ids={[h['entity'].get('doc_id') for h in r[0]]}")
    p.attempt("f3c", "search limit=16384 (max topk) / 16385",
              lambda: (len(c.search(name, data=[q], limit=16384, consistency_level="Strong")[0]),
                       _try(lambda: len(c.search(name, data=[q], limit=16385, consistency_level="Strong")[0]))),
              ok=short)

    # distance semantics with unit vectors e0, e1 (distance(e0, e1): L2 = sqrt(2)=1.414 or squared = 2)
    for metric in ("L2", "IP", "COSINE"):
        n2 = p.coll(f"metric_{metric.lower()}")
        sch = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        sch.add_field("pk", DataType.INT64, is_primary=True)
        sch.add_field("vector", DataType.FLOAT_VECTOR, dim=4)
        ip = c.prepare_index_params()
        ip.add_index("vector", index_type="FLAT", metric_type=metric)
        c.create_collection(n2, schema=sch, index_params=ip)
        c.insert(n2, [{"pk": 1, "vector": [1.0, 0, 0, 0]}, {"pk": 2, "vector": [0, 1.0, 0, 0]},
                      {"pk": 3, "vector": [-1.0, 0, 0, 0]}, {"pk": 4, "vector": [3.0, 4.0, 0, 0]}])
        p.attempt(f"f4 {metric}", f"{metric}: query [1,0,0,0] vs pk1=[1,0,0,0], pk2=[0,1,0,0], pk3=[-1,0,0,0], pk4=[3,4,0,0] -> (pk, distance) in result order",
                  lambda n2=n2: c.search(n2, data=[[1.0, 0, 0, 0]], limit=4, consistency_level="Strong"),
                  ok=lambda r: ", ".join(f"pk{h.id}={h.distance:.4f}" for h in r[0]) + f"; hit dict keys={sorted(dict(r[0][0]).keys())}, entity keys={sorted(dict(r[0][0]['entity']).keys())}")
        p.attempt(f"f4b {metric}", f"{metric}: search with radius/range_filter params (range search)",
                  lambda n2=n2, metric=metric: c.search(n2, data=[[1.0, 0, 0, 0]], limit=4, consistency_level="Strong",
                                                        search_params={"params": {"radius": 2.5 if metric == "L2" else -0.5,
                                                                                  "range_filter": 0.0 if metric == "L2" else 1.01}}),
                  ok=lambda r: ", ".join(f"pk{h.id}={h.distance:.4f}" for h in r[0]))
    p.attempt("f5", "search result hit shape (keys of one hit)",
              lambda: c.search(name, data=[q], limit=1, output_fields=["text"], consistency_level="Strong")[0][0],
              ok=lambda h: short({k: (v if k != "entity" else dict(v)) for k, v in dict(h).items()}))


def _try(fn):
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001
        return f"ERROR: {err_text(exc, 300)}"


# --------------------------------------------------------------------------- g. connection failures
def exp_g(p: Probe) -> None:
    from pymilvus import MilvusClient

    c = p.client

    def timed_connect(key, question, **kw):
        def run():
            cl = MilvusClient(**kw)
            try:
                return cl.list_collections()
            finally:
                cl.close()
        p.attempt(key, question, run, ok=lambda r: f"connected, list_collections -> {len(r)} names")

    if p.backend == "server":
        uri, token = p.info["uri"], p.info["token"]
        timed_connect("g1", "port with nothing listening: uri=http://127.0.0.1:1, timeout=3", uri="http://127.0.0.1:1", token=token, timeout=3)
        timed_connect("g1b", "same with NO timeout argument (pymilvus default)", uri="http://127.0.0.1:1", token=token)
        # a TCP listener that accepts and never answers (hung server / wrong service)
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(16)
        hung = srv.getsockname()[1]
        timed_connect("g2", "blackhole TCP listener (accepts, never speaks), timeout=3", uri=f"http://127.0.0.1:{hung}", token=token, timeout=3)
        timed_connect("g2a", "blackhole TCP listener, NO timeout argument", uri=f"http://127.0.0.1:{hung}", token=token)
        srv.close()
        timed_connect("g2b", "Milvus' own HTTP metrics port 9091 instead of gRPC, timeout=3", uri="http://127.0.0.1:9091", token=token, timeout=3)
        timed_connect("g3", "wrong password root:wrong, timeout=3", uri=uri, token="root:wrong", timeout=3)
        timed_connect("g3b", "unknown user nobody:x", uri=uri, token="nobody:x", timeout=3)
        timed_connect("g3c", "empty token on auth server", uri=uri, token="", timeout=3)
        timed_connect("g3d", "user=/password= kwargs instead of token", uri=uri, user="root", password="Milvus", timeout=3)
        timed_connect("g3e", "token without colon 'rootMilvus'", uri=uri, token="rootMilvus", timeout=3)
        timed_connect("g4", "db_name='nope' (constructor + list_collections)", uri=uri, token=token, db_name="nope", timeout=3)
        timed_connect("g4b", "db_name='default'", uri=uri, token=token, db_name="default", timeout=3)
        timed_connect("g4c", "uri with https:// scheme against plaintext server, timeout=3", uri=uri.replace("http://", "https://"), token=token, timeout=3)
        timed_connect("g4d", "uri without scheme '127.0.0.1:19530'", uri=uri.replace("http://", ""), token=token, timeout=3)
        timed_connect("g4e", "uri='tcp://127.0.0.1:19530'", uri=uri.replace("http://", "tcp://"), token=token, timeout=3)
        p.attempt("g4f", "create_collection in db_name='nope'", lambda: _create_in_db(uri, token, "nope"), ok=short)
        p.attempt("g4g", "create_database('dmz_probe_db'), then use_database() / MilvusClient(db_name=...)",
                  lambda: _db_roundtrip(c, p.make_client), ok=lambda r: short(r, 900))
    else:
        d = tempfile.mkdtemp(prefix="dmz-lite-g-")
        timed_connect("gL1", "Lite: file in a non-existent directory /nonexistent/x.db", uri="/nonexistent/dir/x.db")
        timed_connect("gL1b", "Lite: path not ending in .db (./probe.sqlite)", uri=os.path.join(d, "probe.sqlite"))
        timed_connect("gL3", "Lite: token='root:wrong' is ignored?", uri=os.path.join(d, "a.db"), token="root:wrong")
        timed_connect("gL4", "Lite: db_name='nope'", uri=os.path.join(d, "b.db"), db_name="nope")
        p.attempt("g4g", "create_database('dmz_probe_db'), then use_database() / MilvusClient(db_name=...)",
                  lambda: _db_roundtrip(c, p.make_client), ok=lambda r: short(r, 900))
        lite_path = p.info["db_path"]
        timed_connect("gL5", "Lite: a SECOND MilvusClient on the SAME .db in the same process", uri=lite_path)
        p.attempt("gL6", "Lite: a second PROCESS opening the same .db while we hold it",
                  lambda: _second_process_open(lite_path), ok=short)
        shutil.rmtree(d, ignore_errors=True)
    p.attempt("g7", "has_collection('probe_missing_xyz')", lambda: c.has_collection("probe_missing_xyz"), ok=short)
    p.attempt("g8", "insert into a missing collection", lambda: c.insert("probe_missing_xyz", [{"vector": [0.0] * 8}]), ok=short)
    p.attempt("g9", "query on a missing collection", lambda: c.query("probe_missing_xyz", filter="id > 0"), ok=short)
    p.attempt("g9b", "drop_collection of a missing collection", lambda: c.drop_collection("probe_missing_xyz"), ok=lambda r: "no error")
    p.attempt("g10", "create_collection with an invalid name 'bad-name'", lambda: c.create_collection("bad-name", dimension=8), ok=short)
    name = p.coll("errs")
    p.create_tutorial(name, dim=SMALL, index_type="FLAT")
    p.attempt("g11", "insert vector of wrong dim (4 instead of 8)", lambda: c.insert(name, [{"vector": [0.1] * 4}]), ok=short)
    p.attempt("g12", "insert vector with NaN", lambda: c.insert(name, [{"vector": [float("nan")] * SMALL}]), ok=short)
    p.attempt("g13", "insert row missing the vector", lambda: c.insert(name, [{"text": "no vector"}]), ok=short)
    p.attempt("g14", "query with a syntax error in filter", lambda: c.query(name, filter="text === 'x'", consistency_level="Strong"), ok=short)
    p.attempt("g15", "query filter with single-quoted string: text == 'x'", lambda: c.query(name, filter="text == 'x'", consistency_level="Strong"), ok=short)
    p.attempt("g16", "query without filter and without limit", lambda: c.query(name, filter="", consistency_level="Strong"), ok=short)
    p.attempt("g17", "query(filter='', limit=10)", lambda: c.query(name, filter="", limit=10, consistency_level="Strong"), ok=lambda r: f"{len(r)} rows")
    p.attempt("g18", "query limit=16385 (> max window)", lambda: c.query(name, filter="", limit=16385, consistency_level="Strong"), ok=lambda r: f"{len(r)} rows")
    p.attempt("g19", "search on a RELEASED collection",
              lambda: (c.release_collection(name), c.search(name, data=[[0.1] * SMALL], limit=1))[1], ok=short)
    p.attempt("g20", "insert into a RELEASED collection",
              lambda: c.insert(name, [{"vector": [0.1] * SMALL}]), ok=lambda r: f"insert_count={r['insert_count']}")
    p.attempt("g21", "delete by filter on a RELEASED collection",
              lambda: c.delete(name, filter='text == "x"'), ok=short)
    p.attempt("g22", "create_collection(name, dimension=8) quick-setup: resulting schema",
              lambda: _quick_setup(c, p.coll("quick")), ok=lambda r: short(r, 400))


def _create_in_db(uri, token, db):
    from pymilvus import MilvusClient

    cl = MilvusClient(uri=uri, token=token, db_name=db, timeout=5)
    try:
        cl.create_collection("probe_in_missing_db", dimension=8)
        return "created?!"
    finally:
        cl.close()


def _db_roundtrip(c, make_client):
    """create_database, then (1) use_database() on the same client, (2) a new client with
    db_name=...; never creates anything in 'default' if switching fails."""
    out: Dict[str, Any] = {}

    def step(label, fn):
        try:
            r = fn()
            out[label] = "ok" if r is None else r
            return True
        except Exception as exc:  # noqa: BLE001
            out[label] = "ERROR " + err_text(exc, 200)
            return False

    step("list_databases", lambda: c.list_databases())
    if "dmz_probe_db" not in (out.get("list_databases") or []):
        step("create_database", lambda: c.create_database("dmz_probe_db"))
    if step("use_database", lambda: c.use_database("dmz_probe_db")):
        step("create_collection via use_database", lambda: c.create_collection("probe_in_db", dimension=8))
        step("list_collections", lambda: c.list_collections())
        step("drop_collection", lambda: c.drop_collection("probe_in_db"))
        step("use_database(default)", lambda: c.use_database("default"))
    c2 = None
    if step("MilvusClient(db_name='dmz_probe_db')", lambda: None):
        try:
            c2 = make_client(db_name="dmz_probe_db")
            step("db_name client: create_collection", lambda: c2.create_collection("probe_in_db2", dimension=8))
            step("db_name client: list_collections", lambda: c2.list_collections())
            step("default client sees it?", lambda: "probe_in_db2" in c.list_collections())
            step("db_name client: drop_collection", lambda: c2.drop_collection("probe_in_db2"))
        except Exception as exc:  # noqa: BLE001
            out["MilvusClient(db_name='dmz_probe_db')"] = "ERROR " + err_text(exc, 200)
        finally:
            if c2 is not None:
                c2.close()
    step("drop_database", lambda: c.drop_database("dmz_probe_db"))
    return out


def _quick_setup(c, name):
    c.create_collection(name, dimension=8)
    d = c.describe_collection(name)
    return {"fields": [(f["name"], str(f["type"]), f.get("params"), f.get("is_primary", False), f.get("auto_id", False)) for f in d["fields"]],
            "enable_dynamic_field": d.get("enable_dynamic_field"), "auto_id": d.get("auto_id"),
            "indexes": [c.describe_index(name, i) for i in c.list_indexes(name)]}


def _second_process_open(path):
    code = ("import sys,time; from pymilvus import MilvusClient\n"
            "t=time.time()\n"
            "try:\n c=MilvusClient(sys.argv[1]); print('OK', c.list_collections(), round(time.time()-t,2))\n"
            "except Exception as e:\n print('ERROR', type(e).__name__, str(e)[:500], round(time.time()-t,2))\n")
    import subprocess

    out = subprocess.run([sys.executable, "-c", code, path], capture_output=True, text=True, timeout=120)
    return (out.stdout.strip() or out.stderr.strip()[-500:])


# --------------------------------------------------------------------------- h. threads
def exp_h(p: Probe) -> None:
    c = p.client
    vecs = [vec(i) for i in range(200)]

    def run(label: str, question: str, threads_n: int, reads: bool) -> None:
        name = p.coll("threads")
        p.create_tutorial(name, dim=DIM, index_type="FLAT")
        errors: List[str] = []
        ids: List[int] = []
        lock = threading.Lock()
        per_thread = 20 // threads_n  # 20 batches of 200 rows = 4,000 rows in total

        def worker(t: int):
            for b in range(per_thread):
                rows = [{"vector": vecs[i], "text": f"t{t}-b{b}-{i}", "thread": t} for i in range(200)]
                try:
                    r = c.insert(name, rows)
                    with lock:
                        ids.extend(r["ids"] if isinstance(r, dict) else r)
                except Exception as exc:  # noqa: BLE001
                    with lock:
                        errors.append(err_text(exc, 300))
                if reads:
                    try:
                        c.query(name, filter=f"thread == {t}", output_fields=["text"], limit=5)
                        c.search(name, data=[vecs[t]], limit=3, filter=f"thread == {t}")
                    except Exception as exc:  # noqa: BLE001
                        with lock:
                            errors.append("read: " + err_text(exc, 300))

        t0 = time.monotonic()
        threads = [threading.Thread(target=worker, args=(t,)) for t in range(threads_n)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        dt = time.monotonic() - t0
        cnt = p.count(name)
        p.rec(label, question,
              f"{'OK' if not errors and cnt == 4000 and len(set(ids)) == 4000 else 'PROBLEM'}: {dt:.1f}s, errors={len(errors)}, "
              f"count={cnt}, unique ids={len(set(ids))}" + (f"; first error: {errors[0]}" if errors else ""))
        c.drop_collection(name)

    run("h1", "4 threads x 5 inserts of 200 rows (1536-d), ONE shared MilvusClient", 4, False)
    run("h2", "same + a query and a filtered search after every insert (4 threads)", 4, True)
    run("h3", "baseline: 1 thread, 20 inserts of 200 rows + query/search after each", 1, True)
    run("h4", "baseline: 1 thread, 20 inserts of 200 rows, no reads", 1, False)


# --------------------------------------------------------------------------- i. throughput
def exp_i(p: Probe) -> None:
    if p.quick:
        return
    c = p.client
    text = ("Customer reports the export button fails with a 500 error after upgrading. " * 14)[:1024]
    vecs = [vec(i) for i in range(10_000)]
    rows = [{"vector": vecs[i], "text": text, "_ab_stream": "tickets", "_ab_record_id": f"tickets_{i}",
             "_ab_write_id": "w1", "ticket_id": i, "status": "open", "priority": "high", "organization_id": i % 97,
             "created_at": "2024-01-01T00:00:00Z", "tags": ["billing", "export"], "url": f"https://x.zendesk.com/t/{i}"}
            for i in range(10_000)]
    per_row = None
    for batch in (500, 1000, 2000):
        name = p.coll(f"tput{batch}")
        p.create_tutorial(name, dim=DIM, index_type="AUTOINDEX" if p.info.get("a_index") == "AUTOINDEX" else "IVF_FLAT",
                          params={} if p.info.get("a_index") == "AUTOINDEX" else {"nlist": 128})
        if per_row is None:
            per_row = _request_size(c, name, rows[:1000]) / 1000
        t0 = time.monotonic()
        err = None
        try:
            for s in range(0, len(rows), batch):
                c.insert(name, rows[s : s + batch])
        except Exception as exc:  # noqa: BLE001
            err = err_text(exc, 300)
        dt = time.monotonic() - t0
        t1 = time.monotonic()
        cnt = p.count(name) if not err else -1
        dt_visible = time.monotonic() - t1
        if not err:
            p.rec(f"i1 batch={batch}", f"insert 10k rows (1536-d, 1 KB text, 10 dynamic fields) in batches of {batch}",
                  f"{dt:.1f}s = {10_000 / dt:,.0f} rows/s; Strong count={cnt} after +{dt_visible:.1f}s")
        else:
            p.rec(f"i1 batch={batch}", f"insert 10k rows in batches of {batch}", f"ERROR after {dt:.1f}s: {err}")
        c.drop_collection(name)
    p.rec("i2", "insert-request bytes per row (1536-d + 1 KB text + 10 dyn fields)",
          f"{per_row:,.0f} B/row -> batch 500 = {per_row * 500 / 1e6:.1f} MB, 2000 = {per_row * 2000 / 1e6:.1f} MB")


EXPERIMENTS = OrderedDict([("a", exp_a), ("b", exp_b), ("c", exp_c), ("d", exp_d), ("e", exp_e),
                           ("f", exp_f), ("g", exp_g), ("h", exp_h), ("i", exp_i)])


# --------------------------------------------------------------------------- runner
def run_backend(backend: str, only: List[str], quick: bool, server: Optional[MilvusServer]) -> Dict:
    from pymilvus import MilvusClient

    info: Dict[str, Any] = {"backend": backend}
    tmp = None
    if backend == "server":
        info.update(uri=server.uri, token=server.token, startup_seconds=server.startup_seconds, reused=server.reused)
        make = lambda **kw: MilvusClient(uri=server.uri, token=server.token, timeout=60, **kw)  # noqa: E731
    else:
        tmp = tempfile.mkdtemp(prefix="dmz-lite-probe-")
        info["db_path"] = os.path.join(tmp, "probe.db")
        t0 = time.monotonic()
        make = lambda **kw: MilvusClient(info["db_path"], **kw)  # noqa: E731
    t0 = time.monotonic()
    probe = Probe(backend, make, info, quick)
    info["client_open_seconds"] = round(time.monotonic() - t0, 2)
    try:
        info["server_version"] = probe.client.get_server_version()
    except Exception as exc:  # noqa: BLE001
        info["server_version"] = err_text(exc)
    for key, fn in EXPERIMENTS.items():
        if only and key not in only:
            continue
        t0 = time.monotonic()
        try:
            fn(probe)
        except Exception as exc:  # noqa: BLE001 - keep probing the other experiments
            probe.rec(f"{key}!", f"experiment {key} crashed", f"CRASH: {err_text(exc, 800)}",
                      detail=traceback.format_exc())
        info[f"seconds_{key}"] = round(time.monotonic() - t0, 1)
        probe.cleanup()
        probe.collections.clear()
    try:
        probe.client.close()
    except Exception:  # noqa: BLE001
        pass
    if tmp:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"info": info, "results": probe.results}


def to_markdown(all_results: Dict[str, Dict]) -> str:
    backends = list(all_results)
    order: List[str] = []
    questions: Dict[str, str] = {}
    for b in backends:  # merge key orders: a backend-only key goes right after its predecessor
        prev = None
        for k, r in all_results[b]["results"].items():
            if k not in questions:
                questions[k] = r["q"]
                order.insert(order.index(prev) + 1 if prev in order else len(order), k)
            prev = k
    keys = OrderedDict((k, questions[k]) for k in order)
    lines = ["| # | experiment | " + " | ".join(backends) + " |", "|---|---|" + "---|" * len(backends)]
    for k, q in keys.items():
        cells = []
        for b in backends:
            r = all_results[b]["results"].get(k)
            cells.append((r["v"] if r else "n/a").replace("|", "\\|"))
        lines.append(f"| {k} | {q.replace('|', '/')} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", choices=["both", "server", "lite"], default="both")
    ap.add_argument("--only", default="", help="comma-separated experiment letters (a..i)")
    ap.add_argument("--quick", action="store_true", help="skip the big-request and throughput parts")
    ap.add_argument("--json", default=os.path.join(tempfile.gettempdir(), "milvus_probe.json"))
    ap.add_argument("--markdown", default=os.path.join(tempfile.gettempdir(), "milvus_probe_table.md"))
    args = ap.parse_args(argv)
    only = [x.strip() for x in args.only.split(",") if x.strip()]
    all_results: Dict[str, Dict] = OrderedDict()
    if args.backend in ("both", "server"):
        server = MilvusServer(auth=True)
        server.start()
        try:
            all_results["server"] = run_backend("server", only, args.quick, server)
        finally:
            server.stop()
    if args.backend in ("both", "lite"):
        all_results["lite"] = run_backend("lite", only, args.quick, None)
    with open(args.json, "w") as fh:
        json.dump(all_results, fh, indent=1, default=str)
    md = to_markdown(all_results)
    with open(args.markdown, "w") as fh:
        fh.write(md + "\n")
    print("\n" + md)
    print(f"\ninfo: {json.dumps({b: r['info'] for b, r in all_results.items()}, default=str)}")
    print(f"raw results: {args.json}; table: {args.markdown}")
    left = [p for p in milvus_processes()]
    print(f"milvus processes still running: {[(p['pid'], p['cmdline'][:80]) for p in left]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
