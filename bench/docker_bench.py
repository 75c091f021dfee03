#!/usr/bin/env python
"""The Docker image's figures: size and largest installed packages, build time (cold and cached),
`spec` cold start in a container, and a `write`'s records/s in a container next to the same write
outside Docker. Prints a Markdown table with each figure's command; writes nothing.

    .venv/bin/python -m bench.docker_bench                 # ~8 min on 2 shared cores (vfs storage)
    .venv/bin/python -m bench.docker_bench --no-build      # sizes, cold start and write only

Needs a Docker engine and the base image: `bash scripts/docker_env.sh` (as root it installs and
starts an engine and builds the base stand-in where Docker Hub is unreachable). The write is the
offline setup: Milvus Lite in a mounted folder, the local embedding model, `--network none`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENV_PY = str(REPO / ".venv" / "bin" / "python")
CATALOG = REPO / "destination_milvus_zendesk" / "sample_data" / "catalog.json"


def sh(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def timed(cmd: list[str], **kw) -> tuple[float, subprocess.CompletedProcess]:
    started = time.monotonic()
    proc = sh(cmd, **kw)
    return time.monotonic() - started, proc


def log(text: str) -> None:
    print(f"[docker_bench] {text}", file=sys.stderr, flush=True)


def build(tag: str, *extra: str) -> float:
    seconds, proc = timed(["bash", "scripts/docker_env.sh", "build", tag, *extra], cwd=REPO)
    if proc.returncode != 0:
        sys.exit(f"docker_bench: the build failed: {proc.stderr.strip().splitlines()[-1:]}")
    return seconds


def mb(size: int) -> str:
    return f"{size / 1e6:.0f} MB"


def done_figures(stdout: str) -> tuple[int, float]:
    """(records, seconds) from the connector's final `done:` LOG line (its own clock, no startup)."""
    for line in stdout.splitlines():
        message = json.loads(line)
        if message.get("type") == "LOG" and message["log"]["message"].startswith("done:"):
            text = message["log"]["message"]
            return int(re.search(r"(\d+) records,", text).group(1)), float(re.search(r"([\d.]+)s$", text).group(1))
    raise SystemExit("docker_bench: the write printed no `done:` line")


class Rows(list):
    """The table's rows, each also logged as it is measured (a later failure keeps the earlier figures)."""

    def append(self, row: tuple[str, str, str]) -> None:
        log(f"{row[0]}: {row[1]}")
        super().append(row)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--image", default="airbyte/destination-milvus-zendesk:bench")
    parser.add_argument("--tickets", type=int, default=1500)
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3, help="spec cold starts to time (median kept)")
    parser.add_argument("--no-build", action="store_true", help="use --image as it is")
    args = parser.parse_args()
    image = args.image
    rows = Rows()

    env = sh(["bash", "scripts/docker_env.sh"], cwd=REPO)
    if env.returncode != 0:
        sys.exit(f"docker_bench: no engine or base image: {env.stderr.strip().splitlines()[-1:]}")
    base = env.stdout.strip().splitlines()[-1].removeprefix("BASE_IMAGE=")

    if not args.no_build:
        log("cold build (base image present, no layer cache)")
        cold = build(image, "--no-cache")
        log("cached rebuild (nothing changed)")
        cached = build(image)
        rows.append(("build, cold (base present, `--no-cache`)", f"{cold:.0f} s",
                     f"`bash scripts/docker_env.sh build {image} --no-cache`"))
        rows.append(("build, nothing changed (layer cache)", f"{cached:.1f} s", f"`bash scripts/docker_env.sh build {image}`"))

    size = int(sh(["docker", "image", "inspect", "-f", "{{.Size}}", image]).stdout)
    base_size = int(sh(["docker", "image", "inspect", "-f", "{{.Size}}", base]).stdout)
    rows.append(("image size", f"{mb(size)} ({mb(base_size)} base `{base}` + {mb(size - base_size)} ours)",
                 f"`docker image inspect -f '{{{{.Size}}}}' {image}`"))
    du = sh(["docker", "run", "--rm", "--network", "none", "--entrypoint", "sh", image, "-c",
             "du -sk /usr/local/lib/python3*/*-packages/* | sort -rn | head -12"])
    largest = [(int(k), Path(p).name) for k, p in (line.split("\t") for line in du.stdout.splitlines())]
    rows.append(("largest installed packages", ", ".join(f"{n} {k / 1024:.0f} MB" for k, n in largest),
                 "`du -sk /usr/local/lib/python3*/*-packages/* \\| sort -rn` in the image"))

    log("spec cold starts")
    starts, empties = [], []
    for _ in range(args.repeat):
        seconds, proc = timed(["docker", "run", "--rm", "-i", "--network", "none", image, "spec"])
        assert proc.returncode == 0 and '"SPEC"' in proc.stdout, proc.stderr[-2000:]
        starts.append(seconds)
        seconds, proc = timed(["docker", "run", "--rm", "--network", "none", "--entrypoint", "true", image])
        empties.append(seconds)
    outside, proc = timed([VENV_PY, "main.py", "spec"], cwd=REPO)
    rows.append(("`spec` cold start in a container (median)",
                 f"{statistics.median(starts):.1f} s (an empty container, `--entrypoint true`: "
                 f"{statistics.median(empties):.1f} s; outside Docker: {outside:.1f} s)",
                 f"`time docker run --rm -i --network none {image} spec`"))

    from test_support.zendesk_sample import dumps, generate_messages

    with tempfile.TemporaryDirectory(prefix="docker-bench-") as tmp:
        work = Path(tmp)
        os.chmod(work, 0o755)  # mounted into the container, whose user is uid 1000
        messages = work / "messages.jsonl"
        with open(messages, "w", encoding="utf-8") as fh:
            for message in generate_messages(args.tickets, args.articles, mode="initial", n_orgs=8, state_every=500):
                fh.write(dumps(message) + "\n")
        records = sum(1 for line in messages.read_text().splitlines() if '"RECORD"' in line[:40])
        results = {}
        for where in ("container", "outside"):
            data = work / where
            data.mkdir()
            os.chmod(data, 0o777)
            config = {"processing": {"chunk_size": 1000, "text_fields": ["body", "title", "description", "subject"]},
                      "embedding": {"mode": "local"},
                      "indexing": {"host": str(data / "zendesk.db"), "collection": "zendesk", "create_collection": True}}
            (work / f"{where}.json").write_text(json.dumps(config))
            if where == "container":
                cmd = ["docker", "run", "--rm", "-i", "--network", "none", "-v", f"{work}:{work}", "-v",
                       f"{CATALOG}:/catalog.json:ro", image, "write", "--config", str(work / "container.json"),
                       "--catalog", "/catalog.json"]
            else:
                cmd = [VENV_PY, str(REPO / "main.py"), "write", "--config", str(work / "outside.json"),
                       "--catalog", str(CATALOG)]
            log(f"write of {records} records, {where}")
            with open(messages, "rb") as stdin:
                started = time.monotonic()
                proc = subprocess.run(cmd, stdin=stdin, capture_output=True, text=True, cwd=work)
                wall = time.monotonic() - started
            if proc.returncode != 0:
                sys.exit(f"docker_bench: the write {where} failed: {(proc.stdout + proc.stderr)[-2000:]}")
            results[where] = (wall, *done_figures(proc.stdout))
        (cw, cr, cs), (ow, orr, os_) = results["container"], results["outside"]
        rows.append((f"`write`, {records} records (Milvus Lite, local model), records/s",
                     f"container {cr / cs:.0f}/s in the connector ({records / cw:.0f}/s wall clock, startup "
                     f"included); outside Docker {orr / os_:.0f}/s ({records / ow:.0f}/s wall clock)",
                     "`docker run --rm -i --network none -v DIR:DIR IMAGE write ...` vs `.venv/bin/python main.py write ...`"))

    print(f"Docker engine {sh(['docker', 'info', '--format', '{{.ServerVersion}} ({{.Driver}} storage)']).stdout.strip()}, "
          f"{os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}\n")
    print("| figure | value | command |\n|---|---|---|")
    for figure, value, command in rows:
        print(f"| {figure} | {value} | {command} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
