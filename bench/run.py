#!/usr/bin/env python
"""Throughput, embedding cost, memory and lookup latency of the connector, measured side by side.

    python -m bench.run            # full run (~10-15 min), writes docs/benchmarks.md
    python -m bench.run --quick    # smaller sizes (~3-4 min), prints the table only (--docs to write it)

Needs only the repository and the venv `scripts/setup.sh --test` creates (the Milvus 2.3.5 server
wheel included). A Milvus server already answering on 127.0.0.1:19530 (root:Milvus) is used and
left running; otherwise one is started with test_support.milvus_server.MilvusServer and stopped at the
end. Embeddings are either `fake` (deterministic, in-process, no network) or served by the local
OpenAI-compatible server test_support/fake_openai.py (latency, tokens-per-minute limit, token counter).
Every measurement runs in a fresh interpreter (bench/worker.py); the raw baseline and the connector
alternate, and each side's best of the repetitions is kept (the machine may be shared).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.sections import kept_sections, write_section
from test_support.milvus_server import ROOT_TOKEN, MilvusServer, check_server, pids_listening_on, port_in_use

REPO = Path(__file__).resolve().parent.parent

PY = sys.executable
WORKER = ["-m", "bench.worker"]  # a fresh interpreter per measurement; PYTHONPATH names the repository
SERVER_URI = "http://127.0.0.1:19530"
BENCH_KEY = "sk-bench-0123456789"
TEXT_FIELDS = ["body", "title", "description", "subject"]

SIZES = {
    "full": {
        "ratio_tickets": 10_000, "ratio_articles": 300, "reps": 3,
        "mem_small": 10_000, "mem_large": 100_000, "orgs": 100,
        "conc_tickets": 4_000, "conc_batch": 16, "conc_high": 16,
        "tpm": 1_000_000, "tpm_tickets": 8_000,
        "cost_tickets": 1_000, "cost_articles": 300, "query_rounds": 3,
    },
    "quick": {
        "ratio_tickets": 2_000, "ratio_articles": 100, "reps": 2,
        "mem_small": 2_000, "mem_large": 20_000, "orgs": 100,
        "conc_tickets": 1_000, "conc_batch": 16, "conc_high": 16,
        "tpm": 1_000_000, "tpm_tickets": 2_000,
        "cost_tickets": 200, "cost_articles": 120, "query_rounds": 2,
    },
}


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


# --- environment ---------------------------------------------------------------------------------


class Server:
    """The Milvus server: an answering one is used as is; otherwise one is started and later stopped."""

    def __init__(self) -> None:
        self.started: MilvusServer | None = None

    def __enter__(self) -> "Server":
        if port_in_use(19530):
            deadline = time.monotonic() + 90
            while (err := check_server(SERVER_URI, ROOT_TOKEN, timeout=5)) is not None:
                if time.monotonic() > deadline:
                    raise SystemExit(f"a server listens on 19530 but does not accept root:Milvus: {err}")
                time.sleep(2)
            log("using the Milvus server already running at 127.0.0.1:19530 (left running)")
        else:
            log("no Milvus server running: starting one (test_support.milvus_server)")
            self.started = MilvusServer(auth=True, start_timeout=240, reuse_existing=False).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.started is not None:
            log("stopping the Milvus server this run started")
            self.started.stop()

    @property
    def pid(self) -> int | None:
        if self.started is not None and self.started.standalone_pid:
            return self.started.standalone_pid
        pids = pids_listening_on(19530)
        return pids[0] if pids else None


class FakeOpenAI:
    """test_support/fake_openai.py in its own process (its vector math must not share our GIL)."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen([PY, "-m", "test_support.fake_openai", "--port", "0", "--api-key", BENCH_KEY],
                                     cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("listening on "):
            raise SystemExit(f"fake_openai did not start: {line!r}")
        self.base_url = line.split("listening on ", 1)[1]
        self.root = self.base_url.rsplit("/v1", 1)[0]

    def control(self, **command: Any) -> dict[str, Any]:
        request = urllib.request.Request(f"{self.root}/_control", data=json.dumps(command).encode(),
                                         headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.root}/_stats", timeout=10) as response:
            return json.loads(response.read())

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def machine() -> dict[str, Any]:
    mem_kb = 0
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    cpu = ""
    with open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    versions = {}
    for name in ("pymilvus", "milvus-lite", "milvus", "airbyte-cdk", "openai", "pydantic", "tiktoken", "numpy",
                 "orjson"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "-"
    return {"nproc": os.cpu_count(), "ram_gib": round(mem_kb / 1024 / 1024, 1), "cpu": cpu,
            "python": platform.python_version(), "platform": platform.platform(), "versions": versions,
            "load_avg_start": os.getloadavg()}


# --- data and configs ----------------------------------------------------------------------------


def generate(path: Path, tickets: int, articles: int, *, mode: str = "initial", orgs: int = 8,
             state_every: int = 1000) -> Path:
    from test_support.zendesk_sample import dumps, generate_messages

    if not path.exists():
        with open(path, "w", encoding="utf-8") as fh:
            for message in generate_messages(tickets, articles, mode=mode, n_orgs=orgs, state_every=state_every):
                fh.write(dumps(message) + "\n")
    return path


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data))
    return path


def config(work: Path, backend: str, collection: str, *, embedding: dict | None = None, create: bool = True,
           **extra: Any) -> dict:
    if backend == "lite":
        indexing = {"host": str(work / f"{collection}.db"), "collection": collection, "create_collection": create}
    else:
        indexing = {"host": SERVER_URI, "collection": collection, "create_collection": create,
                    "auth": {"mode": "token", "token": ROOT_TOKEN}}
    return {"processing": {"chunk_size": 1000, "text_fields": TEXT_FIELDS},
            "embedding": embedding or {"mode": "fake"}, "indexing": indexing, **extra}


def openai_embedding(fake: FakeOpenAI) -> dict[str, Any]:
    return {"mode": "openai_compatible", "api_key": BENCH_KEY, "base_url": fake.base_url,
            "model_name": "text-embedding-ada-002", "dimensions": 1536}


def drop(backend: str, work: Path, collection: str) -> None:
    if backend == "lite":
        shutil.rmtree(work / f"{collection}.db", ignore_errors=True)
        return
    from pymilvus import MilvusClient

    client = MilvusClient(uri=SERVER_URI, token=ROOT_TOKEN)
    try:
        if client.has_collection(collection):
            client.drop_collection(collection)
    finally:
        client.close()


# --- running workers -----------------------------------------------------------------------------


class WorkerFailed(Exception):
    pass


class Runner:
    def __init__(self, work: Path, server: "Server") -> None:
        self.work = work
        self.server = server
        self.n = 0

    def worker(self, *args: str, stdin: Path | None = None, timeout: float = 1800) -> dict[str, Any]:
        self.n += 1
        result = self.work / f"result-{self.n}.json"
        out = self.work / f"out-{self.n}.jsonl"
        err = self.work / f"err-{self.n}.txt"
        t0 = time.perf_counter()
        with open(out, "wb") as stdout, open(err, "wb") as stderr, \
                (open(stdin, "rb") if stdin else open(os.devnull, "rb")) as fh_in:
            env = {**os.environ, "PYTHONPATH": str(REPO), "BENCH_SERVER_PID": str(self.server.pid or "")}
            proc = subprocess.run([PY, *WORKER, *args, "--result", str(result)], stdin=fh_in, stdout=stdout,
                                  stderr=stderr, env=env, cwd=self.work, timeout=timeout)
        wall = time.perf_counter() - t0
        if proc.returncode != 0 or not result.exists():
            tail = err.read_text(errors="replace")[-3000:] + out.read_text(errors="replace")[-3000:]
            raise WorkerFailed(f"worker {args[0]} failed (rc={proc.returncode}):\n{tail}")
        data = json.loads(result.read_text())
        data["process_wall_s"] = wall
        if args[0] == "connector":
            data.update(connector_summary(out))
        return data

    def connector(self, cfg: dict, catalog: Path, messages: Path, *, fresh: bool = True) -> dict[str, Any]:
        path = write_json(self.work / f"config-{self.n + 1}.json", cfg)
        args = ["connector", "--config", str(path), "--catalog", str(catalog)] + (["--fresh"] if fresh else [])
        try:
            return self.worker(*args, stdin=messages)
        except WorkerFailed as exc:
            # the server is shared (e.g. a test suite restarting it): a transient failure is retried once,
            # and the retry is what is measured (a re-sync continues where the states left off, anyway)
            if "transient_error" not in str(exc) or not fresh:
                raise SystemExit(str(exc)) from None
            log("connector run failed with a transient error (server restarted?): waiting for the server, retrying")
            deadline = time.monotonic() + 180
            while check_server(SERVER_URI, ROOT_TOKEN, timeout=5) is not None and time.monotonic() < deadline:
                time.sleep(3)
            try:
                return self.worker(*args, stdin=messages)
            except WorkerFailed as again:
                raise SystemExit(str(again)) from None


def connector_summary(out: Path) -> dict[str, Any]:
    """Rows written and states from the connector's own output (every line an Airbyte message)."""
    states = 0
    done = ""
    errors = []
    with open(out, "rb") as fh:
        for line in fh:
            message = json.loads(line)
            if message["type"] == "STATE":
                states += 1
            elif message["type"] == "LOG" and message["log"]["message"].startswith("done: "):
                done = message["log"]["message"]
            elif message["type"] == "TRACE" and message["trace"].get("type") == "ERROR":
                errors.append(message["trace"]["error"]["message"])
    if errors or not done:
        raise SystemExit(f"connector run failed: {errors or 'no done line'}")
    words = done.split()
    rows = int(words[words.index("rows") - 1])
    return {"rows": rows, "states": states, "done": done}


# --- the targets ---------------------------------------------------------------------------------


def t1_indexing(run: Runner, s: dict, work: Path, catalog: Path) -> dict[str, Any]:
    """Connector rows/s vs raw pymilvus upserts of the same rows into the same backend."""
    data = generate(work / "ratio.jsonl", s["ratio_tickets"], s["ratio_articles"], orgs=s["orgs"])
    capture_cfg = write_json(work / "capture.json", config(work, "lite", "capture"))
    rows_file = work / "ratio-rows.pkl"
    log(f"T1: capturing the connector's rows for {s['ratio_tickets']} tickets + {s['ratio_articles']} articles")
    captured = run.worker("capture", "--config", str(capture_cfg), "--catalog", str(catalog), "--input", str(data),
                          "--out", str(rows_file))
    out: dict[str, Any] = {"records": s["ratio_tickets"] + s["ratio_articles"], "rows": captured["rows"]}
    for backend in ("lite", "server"):
        raw_runs, con_runs = [], []
        for rep in range(s["reps"]):
            name = f"bench_ratio_{backend}"
            cfg = config(work, backend, name)
            raw_cfg = write_json(work / f"raw-{backend}.json", cfg)
            drop(backend, work, name)
            raw = run.worker("raw", "--config", str(raw_cfg), "--rows", str(rows_file), "--batch", "1000")
            raw_runs.append(raw)
            drop(backend, work, name)
            con = run.connector(cfg, catalog, data)
            con_runs.append(con)
            drop(backend, work, name)
            log(f"T1 {backend} #{rep + 1}: raw {raw['rows'] / raw['elapsed_s']:.0f} rows/s, connector "
                f"{con['rows'] / con['elapsed_s']:.0f} rows/s")
            assert raw["stored"] == captured["rows"] and con["rows"] == captured["rows"], (raw, con)
        best_raw = min(raw_runs, key=lambda r: r["elapsed_s"])
        best_con = min(con_runs, key=lambda r: r["elapsed_s"])
        out[backend] = {
            "raw_rows_s": captured["rows"] / best_raw["elapsed_s"],
            "connector_rows_s": captured["rows"] / best_con["elapsed_s"],
            "connector_end_to_end_rows_s": captured["rows"] / best_con["process_wall_s"],
            "raw_runs_s": [round(r["elapsed_s"], 2) for r in raw_runs],
            "connector_runs_s": [round(r["elapsed_s"], 2) for r in con_runs],
            "connector_cpu_s": round(best_con["cpu_s"], 2), "raw_cpu_s": round(best_raw["cpu_s"], 2),
            "connector_server_cpu_s": round(best_con.get("server_cpu_s", 0), 2),
            "raw_server_cpu_s": round(best_raw.get("server_cpu_s", 0), 2),
        }
        out[backend]["ratio"] = out[backend]["connector_rows_s"] / out[backend]["raw_rows_s"]
    rows_file.unlink(missing_ok=True)
    return out


def t4_memory(run: Runner, s: dict, work: Path, catalog: Path) -> dict[str, Any]:
    """Peak RSS of the connector process for a small and a large sync (fake embeddings, server)."""
    out: dict[str, Any] = {}
    for size in (s["mem_small"], s["mem_large"]):
        log(f"T4: generating and syncing {size} tickets (server, fake embeddings)")
        data = generate(work / f"mem-{size}.jsonl", size, 0, orgs=s["orgs"])
        name = f"bench_mem_{size}"
        drop("server", work, name)
        result = run.connector(config(work, "server", name), catalog, data)
        out[size] = {"maxrss_mb": result["maxrss_mb"], "rows": result["rows"], "elapsed_s": result["elapsed_s"],
                     "rows_s": result["rows"] / result["elapsed_s"], "collection": name}
        if size != s["mem_large"]:
            drop("server", work, name)
        data.unlink()
    out["growth_mb"] = out[s["mem_large"]]["maxrss_mb"] - out[s["mem_small"]]["maxrss_mb"]
    return out


def t6_query(run: Runner, s: dict, work: Path, memory: dict) -> dict[str, Any]:
    """SupportSearch lookups (precomputed vectors) on the large collection of T4."""
    info = memory[s["mem_large"]]
    cfg = write_json(work / "query.json", config(work, "server", info["collection"]))
    log(f"T6: support-form lookups on {info['collection']} ({info['rows']} rows)")
    fresh = run.worker("query", "--config", str(cfg), "--tickets", "2000", "--articles", "100",
                       "--orgs", str(s["orgs"]), "--rounds", str(s["query_rounds"]))
    settled = run.worker("query", "--config", str(cfg), "--tickets", "2000", "--articles", "100",
                         "--orgs", str(s["orgs"]), "--rounds", str(s["query_rounds"]), "--flush")
    drop("server", work, info["collection"])
    return {"right_after_sync": fresh, "after_flush": settled}


def t2_concurrency(run: Runner, s: dict, work: Path, catalog: Path, fake: FakeOpenAI) -> dict[str, Any]:
    """150 ms per embedding request: embedding_concurrency=N vs 1, everything else equal."""
    data = generate(work / "conc.jsonl", s["conc_tickets"], 0, orgs=s["orgs"])
    fake.control(set={"latency_s": 0.15, "tokens_per_minute": None}, reset_stats=True)
    out: dict[str, Any] = {"batch_size": s["conc_batch"]}
    for concurrency in (1, 8, s["conc_high"]):
        name = "bench_conc"
        drop("server", work, name)
        fake.control(reset_stats=True)
        cfg = config(work, "server", name, embedding=openai_embedding(fake), embedding_batch_size=s["conc_batch"],
                     embedding_concurrency=concurrency)
        result = run.connector(cfg, catalog, data)
        stats = fake.stats()
        out[concurrency] = {"rows_s": result["rows"] / result["elapsed_s"], "elapsed_s": result["elapsed_s"],
                            "rows": result["rows"], "requests": stats["requests"],
                            "max_concurrent": stats["max_concurrent"]}
        log(f"T2 concurrency {concurrency}: {out[concurrency]['rows_s']:.0f} rows/s "
            f"({stats['requests']} requests, max {stats['max_concurrent']} in flight)")
        drop("server", work, name)
    fake.control(set={"latency_s": 0.0})
    return out


def t3_rate_limit(run: Runner, s: dict, work: Path, catalog: Path, fake: FakeOpenAI) -> dict[str, Any]:
    """Tokens-per-minute limit (bucket of 2 s, so the first minute is not free): sustained tokens/s."""
    data = generate(work / "tpm.jsonl", s["tpm_tickets"], 0, orgs=s["orgs"])
    tpm = s["tpm"]
    fake.control(set={"latency_s": 0.0, "tokens_per_minute": tpm, "tpm_burst_tokens": tpm // 30},
                 reset_stats=True, reset_rate_limiter=True)
    name = "bench_tpm"
    drop("server", work, name)
    cfg = config(work, "server", name, embedding=openai_embedding(fake))
    log(f"T3: {s['tpm_tickets']} tickets under {tpm} tokens/min")
    result = run.connector(cfg, catalog, data)
    stats = fake.stats()
    drop("server", work, name)
    fake.control(set={"tokens_per_minute": None, "tpm_burst_tokens": None}, reset_stats=True)
    allowed = tpm / 60.0
    achieved = stats["tokens"] / result["elapsed_s"]
    return {"tpm": tpm, "allowed_tokens_s": allowed, "tokens": stats["tokens"], "elapsed_s": result["elapsed_s"],
            "tokens_s": achieved, "ratio": achieved / allowed, "requests": stats["requests"],
            "successful_requests": stats["successful_requests"], "http_429": stats["http_429"],
            "rows": result["rows"], "states": result["states"]}


def expected_reembedding(old: Path, new: Path) -> dict[str, int]:
    """Chunks of the new versions whose text no stored chunk of the same record has (what must be embedded)."""
    import orjson

    from destination_milvus_zendesk.chunking import Chunker
    from destination_milvus_zendesk.config import ProcessingConfig
    from destination_milvus_zendesk.documents import DocumentBuilder

    processing = ProcessingConfig(chunk_size=1000, text_fields=TEXT_FIELDS)
    builder = DocumentBuilder(processing, {"id", "vector", "text"})
    chunker = Chunker.from_config(processing)

    def chunks(path: Path) -> dict[str, list[tuple[str, int]]]:
        out = {}
        with open(path, "rb") as fh:
            for line in fh:
                message = orjson.loads(line)
                if message["type"] == "RECORD":
                    record = message["record"]
                    doc = builder.build(record["stream"], record["data"], [["id"]])
                    out[doc.record_id] = chunker.split_counted(doc.text)
        return out

    before, after = chunks(old), chunks(new)
    changed = [(text, tokens) for rid, pieces in after.items() for text, tokens in pieces
               if text not in {t for t, _ in before.get(rid, [])}]
    return {"chunks": sum(len(p) for p in after.values()), "changed_chunks": len(changed),
            "changed_tokens": sum(t for _, t in changed),
            "records_changed": sum(1 for rid, p in after.items() if [t for t, _ in p] != [t for t, _ in before.get(rid, [])])}


def t5_cost(run: Runner, s: dict, work: Path, catalog: Path, fake: FakeOpenAI) -> dict[str, Any]:
    """Re-syncs: metadata only -> 0 tokens; one changed paragraph -> only the changed chunks embedded."""
    files = {mode: generate(work / f"cost-{mode}.jsonl", s["cost_tickets"], s["cost_articles"], mode=mode,
                            orgs=s["orgs"]) for mode in ("initial", "update-metadata", "update-paragraph")}
    name = "bench_cost"
    drop("server", work, name)
    cfg = config(work, "server", name, embedding=openai_embedding(fake))
    fake.control(set={"latency_s": 0.0, "tokens_per_minute": None}, reset_stats=True)
    out: dict[str, Any] = {}
    for mode, path in files.items():
        fake.control(reset_stats=True)
        result = run.connector(cfg, catalog, path, fresh=(mode == "initial"))
        stats = fake.stats()
        out[mode] = {"rows": result["rows"], "tokens": stats["tokens"], "inputs": stats["inputs"],
                     "requests": stats["requests"], "elapsed_s": result["elapsed_s"]}
        log(f"T5 {mode}: {stats['tokens']} tokens, {stats['inputs']} inputs embedded")
    out["expected_paragraph"] = expected_reembedding(files["update-metadata"], files["update-paragraph"])
    fake.control(reset_stats=True)
    verify_cfg = write_json(work / "verify.json", cfg)
    out["verify"] = run.worker("verify", "--config", str(verify_cfg))
    drop("server", work, name)
    return out


# --- report --------------------------------------------------------------------------------------


def table(r: dict[str, Any], s: dict) -> list[tuple[str, str, str, str, str]]:
    rows = []
    t1 = r["t1"]
    for backend, label in (("lite", "Milvus Lite"), ("server", "Milvus server 2.3.5")):
        b = t1[backend]
        rows.append((f"1. indexing, {label}", f"connector {b['connector_rows_s']:.0f} rows/s vs raw pymilvus "
                     f"upserts {b['raw_rows_s']:.0f} rows/s ({t1['rows']} rows)", f"{b['ratio']:.0%}", ">= 70%",
                     "met" if b["ratio"] >= 0.70 else "NOT met"))
    t2 = r["t2"]
    high = s["conc_high"]
    ratio2 = t2[high]["rows_s"] / t2[1]["rows_s"]
    rows.append(("2. concurrent embedding, 150 ms/request",
                 f"concurrency {high}: {t2[high]['rows_s']:.0f} rows/s; 8: {t2[8]['rows_s']:.0f}; "
                 f"1: {t2[1]['rows_s']:.1f} rows/s ({s['conc_batch']} inputs/request)", f"{ratio2:.1f}x", ">= 8x",
                 "met" if ratio2 >= 8 else "NOT met"))
    t3 = r["t3"]
    rows.append(("3. tokens-per-minute limit", f"{t3['tokens_s']:.0f} tokens/s of {t3['allowed_tokens_s']:.0f} "
                 f"allowed; {t3['http_429']} x 429 over {t3['requests']} requests; sync succeeded",
                 f"{t3['ratio']:.0%}", ">= 80%", "met" if t3["ratio"] >= 0.8 else "NOT met"))
    t4 = r["t4"]
    small, large = s["mem_small"], s["mem_large"]
    rows.append(("4. memory (peak RSS)", f"{small} records: {t4[small]['maxrss_mb']:.0f} MB; {large} records: "
                 f"{t4[large]['maxrss_mb']:.0f} MB", f"+{t4['growth_mb']:.0f} MB", "< +50 MB",
                 "met" if t4["growth_mb"] < 50 else "NOT met"))
    t5 = r["t5"]
    expected = t5["expected_paragraph"]
    para = t5["update-paragraph"]
    rows.append(("5a. metadata-only re-sync", f"{t5['update-metadata']['tokens']} tokens, "
                 f"{t5['update-metadata']['requests']} requests (initial sync: {t5['initial']['tokens']} tokens)",
                 str(t5["update-metadata"]["tokens"]), "0 tokens",
                 "met" if t5["update-metadata"]["tokens"] == 0 else "NOT met"))
    ok5b = para["inputs"] == expected["changed_chunks"] and para["tokens"] == expected["changed_tokens"]
    rows.append(("5b. one paragraph changed", f"{para['inputs']} chunks / {para['tokens']} tokens embedded; changed "
                 f"text: {expected['changed_chunks']} chunks / {expected['changed_tokens']} tokens (of "
                 f"{expected['chunks']} chunks)", f"{para['inputs']}/{expected['changed_chunks']}",
                 "only changed chunks", "met" if ok5b else "NOT met"))
    verify = t5["verify"]
    rows.append(("5c. stored vs fresh vectors", f"{verify['rows']} rows compared, max abs diff "
                 f"{verify['max_abs_diff']:g}", str(verify["rows_differing"]), "0 differing",
                 "met" if verify["rows_differing"] == 0 else "NOT met"))
    t6 = r["t6"]
    q = t6["after_flush"]
    rows.append(("6. support-form lookup", f"median {q['median_ms']:.1f} ms (p90 {q['p90_ms']:.1f}; tickets "
                 f"{q['tickets_median_ms']:.1f} + articles {q['articles_median_ms']:.1f}) on {q['rows']} rows; "
                 f"right after the sync: {t6['right_after_sync']['median_ms']:.1f} ms", f"{q['median_ms']:.1f} ms",
                 "< 50 ms", "met" if q["median_ms"] < 50 and t6["right_after_sync"]["median_ms"] < 50 else "NOT met"))
    return rows


DOCKER_SECTION = "## Docker image"  # from bench/docker_bench.py: kept when this script rewrites the page


def write_benchmarks(text: str) -> None:
    """docs/benchmarks.md from this run, keeping the sections other bench scripts own: the marked ones
    (bench/sections.py: issue 14's CPU figures, bench/query_cli.py's) and bench/docker_bench.py's
    (from DOCKER_SECTION on)."""
    path = REPO / "docs" / "benchmarks.md"
    kept = ""
    if path.exists():
        current = path.read_text()
        kept = kept_sections(current)
        if DOCKER_SECTION in current:
            kept += "\n" + current[current.index(DOCKER_SECTION):].rstrip("\n") + "\n"
    path.write_text(text.rstrip("\n") + "\n" + kept)


def render(r: dict[str, Any], s: dict, mode: str, command: str) -> str:
    m = r["machine"]
    lines = [f"# Benchmarks ({mode} run)", "",
             f"Measured {r['date']} with `{command}` (total {r['total_s'] / 60:.1f} min).", "",
             f"Machine: {m['nproc']} cores ({m['cpu']}), {m['ram_gib']} GiB RAM, Python {m['python']}, "
             f"{m['platform']}; load average at start {m['load_avg_start'][0]:.1f}, at end "
             f"{r['load_avg_end'][0]:.1f} (the machine may be shared: each side's best of {s['reps']} runs is kept).", "",
             "Packages: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()) + ".", "",
             "| target | measured | ratio / value | goal | status |", "|---|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} | {e} |" for a, b, c, d, e in table(r, s)]
    t1 = r["t1"]
    lines += ["", "## How each figure is measured", "",
              f"Sizes: {json.dumps(s)}.", "",
              "1. **Indexing path.** Fake (deterministic, in-process) embeddings, no network. Data: "
              f"{t1['records']} Zendesk records (tickets and help-center articles from `zendesk_sample`, "
              f"{t1['rows']} rows). *Connector*: a fresh process runs the connector's entry point "
              "(`DestinationMilvusZendesk().run(['write', ...])`, what `main.py write` runs) with stdin = the "
              "messages file; timed from the call to its return, so message parsing, document building, "
              "chunking, embedding, row building and all Milvus calls are included; only interpreter start and "
              "imports are not (end-to-end process figures below). *Raw*: the same rows (captured from the "
              "same pipeline: same vectors, text and metadata) written with `MilvusClient.upsert` in batches "
              "of 1000; only the upsert calls are timed. Both write into a freshly created, empty collection of "
              "the connector's schema (Lite: a new .db file; server: the running 2.3.5 server).", ""]
    for backend in ("lite", "server"):
        b = t1[backend]
        lines.append(f"   - {backend}: raw runs {b['raw_runs_s']} s, connector runs {b['connector_runs_s']} s; "
                     f"end-to-end process (incl. interpreter start): {b['connector_end_to_end_rows_s']:.0f} rows/s; "
                     f"CPU of the best runs: connector process {b['connector_cpu_s']} s, raw process "
                     f"{b['raw_cpu_s']} s" + (f", Milvus server process {b['connector_server_cpu_s']} s vs "
                                               f"{b['raw_server_cpu_s']} s" if backend == "server"
                                               and b["raw_server_cpu_s"] else ""))
    t2 = r["t2"]
    lines += ["", f"2. **Concurrent embedding.** test_support/fake_openai.py in its own process, 150 ms per request; "
              f"{s['conc_tickets']} tickets into the server; `embedding_batch_size` {s['conc_batch']} for every run "
              "(so that embedding latency, not Milvus, bounds the slow run); only `embedding_concurrency` differs. "
              + "; ".join(f"concurrency {c}: {t2[c]['rows_s']:.1f} rows/s in {t2[c]['elapsed_s']:.1f} s, "
                          f"{t2[c]['requests']} requests, at most {t2[c]['max_concurrent']} in flight"
                          for c in (1, 8, s["conc_high"])) + ".", ""]
    t3 = r["t3"]
    lines += [f"3. **Rate limit.** fake_openai with {t3['tpm']} tokens/min and a bucket of 2 s "
              f"({t3['tpm'] // 30} tokens, so the first minute is not free); {s['tpm_tickets']} tickets, "
              f"default knobs (128 inputs, 8 in flight). {t3['tokens']} tokens embedded in {t3['elapsed_s']:.1f} s "
              f"(whole sync) = {t3['tokens_s']:.0f} tokens/s vs {t3['allowed_tokens_s']:.0f} allowed; "
              f"{t3['requests']} requests, {t3['http_429']} answered 429; {t3['states']} states released, "
              "exit 0.", ""]
    t4 = r["t4"]
    lines += ["4. **Memory.** Peak RSS (`getrusage` max RSS of the connector process, imports included) of a sync "
              "of tickets into the server with fake embeddings: " + "; ".join(
                  f"{k} records: {v['maxrss_mb']:.0f} MB ({v['rows']} rows, {v['rows_s']:.0f} rows/s)"
                  for k, v in t4.items() if isinstance(k, int)) + ".", ""]
    t5 = r["t5"]
    lines += [f"5. **Embedding cost.** OpenAI-compatible embeddings from fake_openai (its token counter, cl100k); "
              f"{s['cost_tickets']} tickets + {s['cost_articles']} articles, append_dedup, into the server; then the "
              "generator's `update-metadata` and `update-paragraph` versions of the same records. "
              + "; ".join(f"{mode}: {v['tokens']} tokens in {v['requests']} requests ({v['inputs']} chunks)"
                          for mode, v in t5.items() if mode in ("initial", "update-metadata", "update-paragraph"))
              + f". Expected for the paragraph change (chunks whose text no stored chunk of the record has, computed "
              f"by chunking both versions): {t5['expected_paragraph']}. Afterwards all "
              f"{t5['verify']['rows']} stored vectors were compared with a fresh embedding of their stored text by "
              f"the same embedder: max abs difference {t5['verify']['max_abs_diff']:g}.", ""]
    t6 = r["t6"]
    lines += [f"6. **Lookup latency.** `SupportSearch.similar_open_tickets` + `relevant_articles` with precomputed "
              f"vectors ({t6['after_flush']['lookups']} lookups of the generator's evaluation texts, organizations "
              f"of the data set, status `new`), on the connector-created collection of step 4 "
              f"({t6['after_flush']['rows']} rows, {s['orgs']} organizations). Right after the sync: "
              f"{json.dumps({k: round(v, 1) if isinstance(v, float) else v for k, v in t6['right_after_sync'].items()})}; "
              f"after `flush` (sealed, indexed segments): "
              f"{json.dumps({k: round(v, 1) if isinstance(v, float) else v for k, v in t6['after_flush'].items()})}.",
              ""]
    lines += ["## Reading the indexing ratio", "",
              "The ratio moves with the machine's load: the raw client leaves most of the CPU to Milvus, the "
              "connector needs about a core more (see CPU above), so a busy machine slows the raw side more "
              "than the connector's and the ratio rises; on a quiet machine it is lower. Compare runs made "
              "under similar load averages (shown at the top).", ""]
    lines += ["## Where the indexing time goes", "",
              "The raw baseline only encodes rows (pymilvus, Python) and waits for Milvus. The connector also "
              "parses the Airbyte messages, builds documents (text fields, HTML to text, metadata made safe), "
              "chunks by tokens (tiktoken), embeds (here: the deterministic hashing embedder), hashes each "
              "chunk, and pymilvus turns its float32 vectors into floats. On this machine the extra work costs "
              "about 0.3-0.4 ms of CPU per row (connector process CPU vs raw process CPU above). With Milvus Lite "
              "all of it shares one interpreter (one GIL) with the database itself, so it adds up almost linearly; "
              "with the server, the connector and the server share the same 2 cores (the raw client leaves the "
              "server a core to itself).", "",
              "What the writer does to keep that overhead small: records are parsed, built and cut into batches "
              "by the main thread while a pool chunks, embeds and builds rows of the next batches and the writer "
              "applies earlier ones (on a server two batches that share no record are written at once); a first "
              "sync into an empty collection makes no lookups and no deletes (a per-sync Bloom filter of record "
              "ids proves a record has no stored row); later syncs look stored rows up by primary key (one point "
              "read per batch, at a timestamp already readable, instead of a strong filter query), delete only "
              "rows of records that shrank, and reuse stored vectors of unchanged chunks; metadata is checked in C "
              "(orjson) instead of value by value; vectors stay float32 arrays until pymilvus encodes them (6 KB "
              "instead of 49 KB per queued vector); row sizes are computed once per record.", ""]
    return "\n".join(lines) + "\n"


def _int_keys(obj: dict) -> dict:
    """results.json keeps sizes and concurrency levels as dict keys: JSON turned them into strings."""
    return {int(k) if isinstance(k, str) and k.isdigit() else k: v for k, v in obj.items()}




def cpu_main(docs: bool = False) -> int:
    """Issue 14's targets (bench/cpu.py), printed and written to their section of docs/benchmarks.md."""
    from bench.cpu import render, report, run_cpu

    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="dmz-bench-cpu-"))
    from test_support.zendesk_sample import configured_catalog

    catalog = write_json(work / "catalog.json", configured_catalog("append_dedup"))
    results: dict[str, Any] = {"machine": machine(),
                               "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}
    with Server() as server:
        run = Runner(work, server)
        results["cpu"] = run_cpu(run.worker, config, write_json, connector_summary, work, catalog, log=log)
    results["total_s"] = time.perf_counter() - started
    results["load_avg_end"] = os.getloadavg()
    (work / "results.json").write_text(json.dumps(results, indent=1, default=str))
    lines = report(results["cpu"])
    width = max(len(line[0]) for line in lines)
    for name, measured, goal, status in lines:
        print(f"{name:<{width}}  {goal:>10}  {status:<7}  {measured}")
    print(f"load average {results['machine']['load_avg_start'][0]:.1f} -> {results['load_avg_end'][0]:.1f}; "
          f"total {results['total_s']:.0f} s; details in {work / 'results.json'}")
    if docs:
        print(f"wrote {write_section('cpu', render(results, 'python -m bench.run --only cpu --docs'))}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (~3 min)")
    parser.add_argument("--docs", action="store_true", help="also write docs/benchmarks.md for a --quick run")
    parser.add_argument("--only", help="comma-separated targets to run (t1,t2,t3,t4,t5,t6); report needs all; "
                        "`cpu` alone: issue 14's CPU-per-row and start-up targets (bench/cpu.py); `scale` alone: "
                        "syncs and lookups on growing collections (bench/scale.py; --quick: small sizes)")
    parser.add_argument("--render", metavar="RESULTS_JSON", help="only rewrite docs/benchmarks.md from a results.json")
    args = parser.parse_args()
    if args.render:
        results = json.loads(Path(args.render).read_text(), object_hook=_int_keys)
        s = SIZES[results["mode"]]
        command = "python -m bench.run" + (" --quick" if results["mode"] == "quick" else "")
        write_benchmarks(render(results, s, results["mode"], command))
        return 0
    mode = "quick" if args.quick else "full"
    s = SIZES[mode]
    only = set(args.only.split(",")) if args.only else {"t1", "t2", "t3", "t4", "t5", "t6"}
    if only == {"cpu"}:
        return cpu_main(args.docs)
    if only == {"scale"}:
        from bench.scale import main as scale_main

        return scale_main(["--quick"] * args.quick + ["--docs"] * args.docs)
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="dmz-bench-"))
    results: dict[str, Any] = {"machine": machine(), "mode": mode,
                               "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}
    log(f"work dir {work}; {mode} sizes {s}")
    from test_support.zendesk_sample import configured_catalog

    catalog = write_json(work / "catalog.json", configured_catalog("append_dedup"))
    fake = None
    try:
        with Server() as server:
            run = Runner(work, server)
            if "t1" in only:
                results["t1"] = t1_indexing(run, s, work, catalog)
            if "t4" in only or "t6" in only:
                results["t4"] = t4_memory(run, s, work, catalog)
            if "t6" in only:
                results["t6"] = t6_query(run, s, work, results["t4"])
            fake = FakeOpenAI()
            if "t2" in only:
                results["t2"] = t2_concurrency(run, s, work, catalog, fake)
            if "t3" in only:
                results["t3"] = t3_rate_limit(run, s, work, catalog, fake)
            if "t5" in only:
                results["t5"] = t5_cost(run, s, work, catalog, fake)
    finally:
        if fake is not None:
            fake.close()
    results["total_s"] = time.perf_counter() - started
    results["load_avg_end"] = os.getloadavg()
    (work / "results.json").write_text(json.dumps(results, indent=1, default=str))
    if only != {"t1", "t2", "t3", "t4", "t5", "t6"}:
        print(json.dumps(results, indent=1, default=str))
        return 0
    command = "python -m bench.run" + (" --quick" if args.quick else "")
    rows = table(results, s)
    width = max(len(r[0]) for r in rows)
    print(f"\n{'target':<{width}}  {'ratio/value':>14}  {'goal':>19}  status   measured")
    for name, measured, value, goal, status in rows:
        print(f"{name:<{width}}  {value:>14}  {goal:>19}  {status:<7}  {measured}")
    print(f"\ntotal {results['total_s'] / 60:.1f} min; details in {work / 'results.json'}")
    if mode == "full" or args.docs:
        write_benchmarks(render(results, s, mode, command))
        print(f"wrote {REPO / 'docs' / 'benchmarks.md'}")
    for path in work.iterdir():  # keep results.json, configs and logs; drop data files and databases
        if path.suffix in (".jsonl", ".pkl") and not path.name.startswith(("out-", "err-")):
            path.unlink(missing_ok=True)
        elif path.is_dir() and path.name.endswith(".db"):
            shutil.rmtree(path, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
