"""What `migrate` costs: rows/s, embedding tokens and peak RSS for a tutorial-shaped collection.

    python -m bench.migration --records 50000 [--backend server|lite] [--uri URI --token TOKEN] [--dim 1536]

Fills the tutorial's hand-made collection directly (pymilvus inserts of rows shaped as the connector
writes them, fake unit vectors; every tenth ticket has three chunks), then runs the command exactly as
a user or bench/ would (`python -m destination_milvus_zendesk.migrate --config CFG --to NEW --json`) in
its own process, whose peak RSS the kernel reports (getrusage of the only child). The embedding is the OpenAI-compatible
mode pointed at an unreachable address: a single request would fail the run, so tokens = 0 is
measured, not assumed. The collections it creates are dropped at the end (server) or live in a
temporary folder (Lite).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from pymilvus import MilvusClient

from test_support.tutorial_collection import create_tutorial_collection, fill_tutorial_collection

REPO = Path(__file__).resolve().parent.parent
NO_EMBEDDING_SERVICE = "http://127.0.0.1:9/v1"  # discard port: nothing answers there


def _config(host: str, token: str | None, collection: str, dim: int) -> dict:
    auth = {"mode": "token", "token": token} if token else {"mode": "no_auth"}
    return {"embedding": {"mode": "openai_compatible", "api_key": "unused", "base_url": NO_EMBEDDING_SERVICE,
                          "model_name": "text-embedding-ada-002", "dimensions": dim},
            "indexing": {"host": host, "collection": collection, "auth": auth, "timeout_seconds": 60}}


def _client(host: str, token: str | None) -> MilvusClient:
    return MilvusClient(uri=host, token=token) if token else MilvusClient(uri=host)


def fill(host: str, token: str | None, name: str, records: int, dim: int) -> tuple[int, float]:
    started = time.monotonic()
    client = _client(host, token)
    try:
        create_tutorial_collection(client, name, dim)
        rows = fill_tutorial_collection(client, name, range(1, records + 1), dim)
        client.flush(name)
    finally:
        client.close()
        if "://" not in host:  # Milvus Lite serves one process at a time: release the file for the command
            from milvus_lite.server_manager import server_manager_instance

            server_manager_instance.release_server(host)
    return rows, time.monotonic() - started


def run_migrate(config_path: Path, target: str, page_rows: int | None) -> tuple[dict, int, float]:
    """(the command's JSON, its peak RSS in MB, wall seconds)."""
    args = [sys.executable, "-m", "destination_milvus_zendesk.migrate", "--config", str(config_path),
            "--to", target, "--json"] + (["--page-rows", str(page_rows)] if page_rows else [])
    started = time.monotonic()
    proc = subprocess.Popen(args, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    stdout, stderr = proc.communicate()
    wall = time.monotonic() - started
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the only child: this command
    if proc.returncode != 0:
        raise SystemExit(f"migrate failed ({proc.returncode}): {stdout.decode()[-500:]} {stderr.decode()[-500:]}")
    return json.loads(stdout), peak_kb // 1024, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--backend", choices=("server", "lite"), default="server")
    parser.add_argument("--uri", default=os.environ.get("DMZ_MILVUS_URI", "http://127.0.0.1:19530"))
    parser.add_argument("--token", default=os.environ.get("DMZ_MILVUS_TOKEN", "root:Milvus"))
    parser.add_argument("--dim", type=int, default=1536)
    parser.add_argument("--page-rows", type=int, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dmz-bench-migrate-") as folder:
        host, token = (args.uri, args.token) if args.backend == "server" else (str(Path(folder) / "m.db"), None)
        name = f"bench_mig_{uuid.uuid4().hex[:8]}"
        rows, fill_s = fill(host, token, name, args.records, args.dim)
        config_path = Path(folder) / "config.json"
        config_path.write_text(json.dumps(_config(host, token, name, args.dim)))
        try:
            summary, peak_mb, wall = run_migrate(config_path, f"{name}_v2", args.page_rows)
        finally:
            if args.backend == "server":
                client = _client(host, token)
                for collection in (name, f"{name}_v2"):
                    if client.has_collection(collection):
                        client.drop_collection(collection)
                client.close()
    print(json.dumps({"backend": args.backend, "records": args.records, "rows": rows, "dim": args.dim,
                      "fill_s": round(fill_s, 1), "migrate": summary, "wall_s": round(wall, 1),
                      "peak_rss_mb": peak_mb, "load_avg": os.getloadavg()[0]}))


if __name__ == "__main__":
    main()
