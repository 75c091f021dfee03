"""What the partition key on organization_id buys a support lookup as the collection grows.

    python -m bench.partition_key [--sizes 10000,100000,300000] [--queries 50] [--uri URI --token TOKEN] [--docs]

Two collections of the connector-created shape on a Milvus server, filled with the same rows: one
created as the connector creates it (organization_id is the partition key, 16 partitions), one
created without the partition key (the control; everything else equal: typed, indexed scalar
columns). Each gets the same real sync of generated tickets and articles, then grows with copies of
those rows over 200 organizations (bench/scale.py's fill: random unit 1536-d vectors, flush, vector
index). At each size the form's lookup (`SupportSearch.lookup`: the organization's unsolved tickets and
the articles) runs for the same generated cases on both: median and p90, and whether both collections
gave the same answer (the same tickets and articles, in the same order) to each case.

Collections are named bench_pk_* and dropped at the end (--keep leaves them).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import scale
from bench.sections import SECTIONS, write_section

PREFIX = "bench_pk_"
SIZES = (10_000, 100_000, 300_000)


class Variant(scale.Collection):
    """The connector-created collection, with or without the partition key."""

    def __init__(self, bench: scale.Bench, partitioned: bool) -> None:
        super().__init__(bench, "created")
        self.partitioned = partitioned
        self.label = "partition key" if partitioned else "no partition key"
        self.name = f"{PREFIX}{'partitioned' if partitioned else 'flat'}"
        self.config_path = bench.write_config(self.name, create=True)

    def create(self) -> dict[str, Any]:
        """Created by the connector's own code (MilvusStore.create_collection), then the template sync."""
        from destination_milvus_zendesk.milvus import MilvusStore
        from destination_milvus_zendesk.support.settings import load_config

        if self.bench.client.has_collection(self.name):
            self.bench.client.drop_collection(self.name)
        store = MilvusStore(load_config(str(self.config_path)).indexing)
        store.connect(create=True)
        try:
            info = store.create_collection(scale.DIMENSIONS, partitioned=self.partitioned)
        finally:
            store.close()
        if (info.partition_key is not None) != self.partitioned:
            raise SystemExit(f"{self.name}: the server did not create the collection as asked "
                             f"(partition key: {info.partition_key})")
        return self.sync_templates()


def run(args: argparse.Namespace) -> dict[str, Any]:
    from bench.run import machine

    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="dmz-bench-pk-"))
    scale.log(f"work dir {work}; sizes {args.sizes}; server {args.uri}")
    results: dict[str, Any] = {"machine": machine(), "date": dt.datetime.now(dt.timezone.utc).strftime(
        "%Y-%m-%d %H:%M UTC"), "commit": scale._commit(), "queries": args.queries, "sizes": {}}
    bench = scale.Bench(args, work)
    variants = [Variant(bench, True), Variant(bench, False)]
    try:
        for variant in variants:
            variant.create()
        for size in args.sizes:
            entry: dict[str, Any] = {}
            for variant in variants:
                grown = variant.grow(size)
                lookup = bench.lookups(variant.config_path)
                lookup["index"] = scale._coverage(grown["index"])
                lookup["rows"] = variant.expected_rows
                scale.log(f"{variant.label} at {variant.expected_rows} rows: {scale.brief(lookup)}")
                entry[variant.label] = lookup
            answers = [entry[v.label]["answers"] for v in variants]
            entry["same_answers"] = sum(1 for a, b in zip(*answers) if a == b)
            results["sizes"][str(size)] = entry
    finally:
        if not args.keep:
            for variant in variants:
                variant.drop()
        bench.close()
    results["total_s"] = time.perf_counter() - started
    results["load_avg_end"] = os.getloadavg()
    return results


def render(results: dict[str, Any], command: str) -> str:
    start, end = SECTIONS["partition-key"]
    m = results["machine"]
    lines = [start, "## Partition key: one organization's lookup as the others' tickets grow", "",
             f"`{command}` on {results['date']} at commit {results['commit']}: {m['nproc']} cores, load average "
             f"{m['load_avg_start'][0]:.1f} at the start and {results['load_avg_end'][0]:.1f} at the end; total "
             f"{results['total_s'] / 60:.0f} min. How it is measured: bench/partition_key.py's docstring.", "",
             "| rows | partition key: lookup median / p90 | no partition key: median / p90 | same answers | index |",
             "|---|---|---|---|---|"]
    for size, entry in results["sizes"].items():
        a, b = entry["partition key"], entry["no partition key"]
        lines.append(f"| {a['rows']:,} | {a['median_ms']:.1f} / {a['p90_ms']:.1f} ms | {b['median_ms']:.1f} / "
                     f"{b['p90_ms']:.1f} ms | {entry['same_answers']} of {a['lookups']} | {a['index']} / {b['index']} |")
    first, last = list(results["sizes"].values())[0], list(results["sizes"].values())[-1]
    growth = {label: last[label]["median_ms"] / first[label]["median_ms"] for label in ("partition key",
                                                                                          "no partition key")}
    lines += ["", f"Lookup median from {first['partition key']['rows']:,} to {last['partition key']['rows']:,} rows: "
              f"x{growth['partition key']:.2f} with the partition key, x{growth['no partition key']:.2f} without. "
              f"{results['queries']} generated cases over {scale.ORGS} organizations, each lookup the form's "
              "(tickets of one organization, then articles).", end]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=scale.parse_sizes, default=list(SIZES))
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--index-wait", type=float, default=900)
    parser.add_argument("--uri", default=os.environ.get("DMZ_MILVUS_URI", "http://127.0.0.1:19530"))
    parser.add_argument("--token", default=os.environ.get("DMZ_MILVUS_TOKEN", "root:Milvus"))
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--docs", action="store_true", help="write the section in docs/benchmarks.md")
    args = parser.parse_args(argv)
    results = run(args)
    command = "python -m bench.partition_key " + " ".join(sys.argv[1:] if argv is None else argv)
    text = render(results, command.strip())
    print(text)
    if args.docs:
        print(f"wrote {write_section('partition-key', text)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
