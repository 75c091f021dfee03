"""Cold start of a `query` CLI lookup, and the batch mode's throughput (issue 12, finding 6).

    .venv/bin/python -m bench.query_cli [--runs 9] [--before /path/to/an/older/checkout] [--no-docs]

1. Syncs the bundled Zendesk sample with the offline local model into a Milvus Lite file (`main.py write`).
2. Cold start: `python -m destination_milvus_zendesk.query TEXT --org ORG --config ... --json`, each a new
   process, timed from spawn to exit (wall clock); median, min and max of --runs. With --before, the same
   against another checkout of the repository (its package first on PYTHONPATH), for a before/after.
   Also the import of the module alone (`python -c "import destination_milvus_zendesk.query"`).
3. Batch: every evaluation query of the sample (duplicates, articles, novel cases) repeated to 300
   lines, answered by one `--batch -` process: lookups per second and total time with start-up.
4. Writes the figures to docs/benchmarks.md, in its own section (between the query-cli markers);
   the rest of the file is left as it is.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.sections import SECTIONS
from test_support.sample_sync import SAMPLE, sync_sample

REPO = Path(__file__).resolve().parents[1]

START, END = SECTIONS["query-cli"]
TEXT, ORG = "I was charged twice this month", "360000105148"
BATCH_LINES = 300


def sync(work: Path) -> Path:
    path, proc = sync_sample(work, timeout=600)
    if proc.returncode != 0:
        raise SystemExit(f"sync failed: {proc.stdout.decode()[-1000:]}")
    # the model's rule, as the demo stores it: lookups then decide as they do for a user
    calibrated = subprocess.run([sys.executable, "-m", "destination_milvus_zendesk.query", "--calibrate", "--config",
                                 str(path)], capture_output=True, text=True, cwd=REPO, timeout=600)
    if calibrated.returncode != 0:
        raise SystemExit(f"calibrate failed: {calibrated.stderr[-1000:]}")
    return path


LAST_CPU = [0.0]  # CPU seconds (user + system) of the last timed process


def timed(args: list[str], repo: Path, stdin: str | None = None) -> tuple[float, subprocess.CompletedProcess]:
    env = {**os.environ, "PYTHONPATH": str(repo)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(args, input=stdin, capture_output=True, text=True, cwd=repo, env=env, timeout=600)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    LAST_CPU[0] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, proc


def cold_starts(config: Path, repo: Path, runs: int) -> dict:
    lookup = [sys.executable, "-m", "destination_milvus_zendesk.query", TEXT, "--org", ORG, "--config", str(config),
              "--json"]
    timed(lookup, repo)  # warm the page cache: "cold" is a new process, not a cold disk
    samples, cpu = [], []
    for _ in range(runs):
        seconds, proc = timed(lookup, repo)
        if proc.returncode != 0:
            raise SystemExit(f"lookup failed in {repo}: {proc.stdout[-500:]}{proc.stderr[-500:]}")
        samples.append(seconds)
        cpu.append(LAST_CPU[0])
    imports = [timed([sys.executable, "-c", "import destination_milvus_zendesk.query"], repo)[0] for _ in range(runs)]
    bare = [timed([sys.executable, "-c", "pass"], repo)[0] for _ in range(runs)]
    return {"median_s": statistics.median(samples), "min_s": min(samples), "max_s": max(samples),
            "cpu_median_s": statistics.median(cpu), "load_before": os.getloadavg()[0],
            "import_median_s": statistics.median(imports), "python_median_s": statistics.median(bare), "runs": runs}


def batch(config: Path) -> dict:
    queries = json.loads((SAMPLE / "eval_queries.json").read_text())
    items = [{"id": f"dup-{i}", "text": q["text"], "org": q["organization_id"]} for i, q in enumerate(queries["duplicates"])]
    items += [{"id": f"novel-{i}", "text": q["text"], "org": q["organization_id"]} for i, q in enumerate(queries["novel"])]
    items += [{"id": f"art-{i}", "text": q["text"], "org": int(ORG)} for i, q in enumerate(queries["articles"])]
    lines = [json.dumps(items[i % len(items)]) for i in range(BATCH_LINES)]
    seconds, proc = timed([sys.executable, "-m", "destination_milvus_zendesk.query", "--batch", "-", "--config",
                           str(config)], REPO, stdin="\n".join(lines) + "\n")
    answers = [json.loads(line) for line in proc.stdout.splitlines()]
    if len(answers) != BATCH_LINES or any("error" in a for a in answers):
        raise SystemExit(f"batch failed: {proc.stdout[-500:]}{proc.stderr[-500:]}")
    one, _ = timed([sys.executable, "-m", "destination_milvus_zendesk.query", "--batch", "-", "--config", str(config)],
                   REPO, stdin=lines[0] + "\n")
    per_lookup = (seconds - one) / (BATCH_LINES - 1)
    return {"lines": BATCH_LINES, "total_s": seconds, "single_line_s": one, "per_lookup_ms": 1000 * per_lookup,
            "lookups_per_s": 1 / per_lookup if per_lookup > 0 else float("inf"),
            "duplicates_found": sum(1 for a in answers if a["duplicate"])}


def section(after: dict, before: dict | None, batch_result: dict, before_label: str | None) -> str:
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [START, "## Query CLI: cold start and batch mode", "",
             f"`python -m bench.query_cli` on {when}: {platform.machine()}, {os.cpu_count()} cores, Python "
             f"{platform.python_version()}, load average {load:.1f} at the end (the machine is shared: figures vary "
             "by a few hundred ms between runs). The bundled sample synced with the local model (wordllama, 256-d) "
             "into Milvus Lite; each lookup is a new process, timed from spawn to exit (median of "
             f"{after['runs']} after one warm-up run).", "",
             "| | wall median | min | max | CPU (user+sys) median | `import destination_milvus_zendesk.query` "
             "| bare `python -c pass` | load average |",
             "|---|---|---|---|---|---|---|---|"]
    for label, r in ([(f"before ({before_label})", before)] if before else []) + [("after", after)]:
        lines.append(f"| {label} | {r['median_s']:.2f} s | {r['min_s']:.2f} s | {r['max_s']:.2f} s | "
                     f"{r['cpu_median_s']:.2f} s | {r['import_median_s']:.2f} s | {r['python_median_s']:.2f} s | "
                     f"{r['load_before']:.1f} |")
    status = "met" if after["median_s"] < 1.5 else "NOT met on this run"
    lines += ["", f"Target: cold start under 1.5 s: **{status}** (wall median {after['median_s']:.2f} s, CPU "
              f"{after['cpu_median_s']:.2f} s; on a shared 2-core machine the wall time follows the load: the CPU "
              "time is the figure that does not). Where the time "
              "went (`python -X importtime`): `airbyte_cdk`, imported only for its `FailureType` enum by "
              "`errors.py`, cost ~0.9 s of every lookup; it is now imported on first use, which a lookup never "
              "makes. What remains is pymilvus (with pandas, ~0.3-0.6 s), pydantic, Milvus Lite's in-process server "
              "and the model (~0.1-0.3 s).", "",
              f"Batch mode (`--batch -`, JSONL in, JSONL out, one process): {batch_result['lines']} lookups of the "
              f"sample's evaluation texts in {batch_result['total_s']:.2f} s including start-up "
              f"({batch_result['single_line_s']:.2f} s for one line), i.e. **{batch_result['per_lookup_ms']:.1f} ms "
              f"per lookup, {batch_result['lookups_per_s']:.0f} lookups/s** once started "
              f"({batch_result['duplicates_found']} answers with a duplicate).", END]
    return "\n".join(lines) + "\n"


def write_docs(text: str) -> Path:
    from bench.sections import write_section

    return write_section("query-cli", text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--before", type=Path, help="another checkout to time the same way (e.g. the commit before)")
    parser.add_argument("--before-label", default="the commit before")
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dmz-query-bench-") as tmp:
        config = sync(Path(tmp))
        before = cold_starts(config, args.before.resolve(), args.runs) if args.before else None
        after = cold_starts(config, REPO, args.runs)
        result = batch(config)
    print(json.dumps({"before": before, "after": after, "batch": result}, indent=1))
    if not args.no_docs:
        print(f"wrote {write_docs(section(after, before, result, args.before_label))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
