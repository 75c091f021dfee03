"""What the partition key on organization_id buys a support lookup as the other organizations'
tickets grow, on Milvus Lite.

    python -m bench.partition_key --lite [--sizes 10000,100000,300000] [--dimensions 256] [--queries 50] [--docs]

Milvus Lite only (--lite is the one mode, and the default): the connector gives a collection the
partition key only where the backend keeps BM25 functions, and the Milvus server at hand (2.3.5)
does not, so a server run would compare two collections without the key. Measuring on a 2.5+ server
would need a server fill (bench/scale.py's) instead of the Lite files.

* templates: one real sync (the connector's write command in a fresh process: bench/worker.py
  `connector`, as bench/scale.py runs it) of generated tickets of TEMPLATE_ORGS organizations and
  articles into a Lite file of its own, with hashed bag-of-words embeddings of --dimensions from
  test_support/fake_openai.py, served from this process (never a real API). This process opens that
  file only after the sync's process has ended (Lite lets one process open a file), reads the stored
  rows and closes it.
* two collections, each in its own Lite file, created by the connector's code
  (MilvusStore.create_collection with partitioned True: organization_id is the partition key; and
  False: the control, otherwise the same typed, indexed columns and BM25 field), given the template
  collection's properties (its embedding model) and the template rows as stored, vectors included.
* growth: copies of the template tickets under new ids (bench/scale.py's copy_row: keyed as the
  connector keys its rows) spread over scale.ORGS other organizations, with deterministic random unit
  vectors; each batch goes into both collections, so both hold the same rows, then both are flushed.
  The looked-up organizations' rows are fixed: they are the templates' organizations, and no copy
  belongs to them. Only the other organizations' tickets grow. Fill time: each collection's own
  insert calls and flush; file size: the bytes of its Lite file (a folder) after the flush.
* lookups: the form's call (`SupportSearch.from_config(...).lookup(text, organization)`: unsolved
  tickets of that organization, then articles) for --queries generated cases (re-worded duplicates of
  a template ticket and novel problems, with their organization; article questions, given a template
  organization in turn), embeddings computed before the clock starts, a few warm-up lookups, then
  the two collections alternately, case by case: median and p90, and whether both gave the same
  answer (the same ticket ids and article ids, in the same order). A differing case is listed with
  both answers, never dropped. Duplicates found: duplicate cases whose answer lists a ticket they
  duplicate (how much a difference costs).
* why answers differ (untimed): the same cases with dense retrieval only; and the dense recall of the
  lookup's two searches under its filters, against the exact nearest rows (numpy over the rows the
  filter passes): Milvus Lite searches each segment's vector index with the filter as an ID selector,
  which can miss rows when the filter passes few of a segment's rows.
* pruning check (untimed by the lookups): on the partitioned collection, the lookup's dense ticket
  search as the connector sends it (the filter names the organization) and with the organization's
  partition named in the request (found with public calls: the one partition holding its rows). If
  naming it is faster, the backend does not narrow the search to that partition by itself.

The Lite files are in a temporary folder, deleted at the end (--keep leaves it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
import types
from array import array
from pathlib import Path
from typing import Any, Iterator, Sequence

from bench import scale
from bench.sections import SECTIONS, write_section

SIZES = (10_000, 100_000, 300_000)
DIMENSIONS = 256  # the local model's (wordllama); keeps 300k rows of two collections tractable on Lite
TEMPLATE_ORGS = 8  # organizations of the templates: the looked-up ones, ~25 tickets each
EMBEDDING_MODEL = "bench-hashing"  # the fake server's hashed bag of words, at the dimension it is told
COLLECTION = "support"
WARM_UP = 5
RECALL_K = 10  # rows compared with the exact nearest ones, per search
LABELS = ("partition key", "no partition key")


def log(text: str) -> None:
    scale.log(text)


# --- pure logic (unit_tests/test_bench_partition_key.py) -----------------------------------------


def lookup_cases(queries: dict[str, list[dict[str, Any]]], count: int, orgs: Sequence[int]) -> list[dict[str, Any]]:
    """`count` cases taken in turn from the duplicates, the article questions and the novel problems
    (so any count mixes the three): {"kind", "text", "org", "expected"}. A duplicate or novel case keeps
    its own organization; an article question has none, so it gets the template organizations in turn.
    `expected`: the tickets a duplicate may be answered with (None for the other kinds)."""
    pools = [("duplicate", queries.get("duplicates", [])), ("article", queries.get("articles", [])),
             ("novel", queries.get("novel", []))]
    cases: list[dict[str, Any]] = []
    depth = 0
    while len(cases) < count and any(depth < len(pool) for _, pool in pools):
        for kind, pool in pools:
            if depth < len(pool) and len(cases) < count:
                case = pool[depth]
                org = case.get("organization_id")
                if org is None:
                    org = orgs[sum(1 for c in cases if c["kind"] == "article") % len(orgs)]
                cases.append({"kind": kind, "text": case["text"], "org": org,
                              "expected": case.get("acceptable_ticket_ids") if kind == "duplicate" else None})
        depth += 1
    return cases


def compare_answers(a: Sequence[Any], b: Sequence[Any]) -> dict[str, Any]:
    """Answers ((ticket ids), (article ids)) of the same cases on two collections: how many are the
    same; of the others, how many list the same tickets and articles in another order, and which
    cases differ (their indexes)."""
    differing = [n for n, (x, y) in enumerate(zip(a, b)) if _ids(x) != _ids(y)]
    reordered = [n for n in differing
                 if sorted(_ids(a[n])[0]) == sorted(_ids(b[n])[0]) and sorted(_ids(a[n])[1]) == sorted(_ids(b[n])[1])]
    return {"cases": min(len(a), len(b)), "same": min(len(a), len(b)) - len(differing), "reordered": len(reordered),
            "differing": differing}


def duplicates_found(cases: Sequence[dict[str, Any]], answers: Sequence[Any]) -> int:
    """Duplicate cases whose answer lists one of the tickets they duplicate."""
    return sum(1 for case, (tickets, _) in zip(cases, answers)
               if case["expected"] is not None and set(tickets) & set(case["expected"]))


def _ids(answer: Any) -> tuple[list[Any], list[Any]]:
    tickets, articles = answer
    return list(tickets), list(articles)


def nearest_ids(ids: Sequence[Any], vectors: Any, query: Sequence[float], k: int) -> set[Any]:
    """The ids of the k rows nearest the query by exact (squared) L2: what a search returns at full recall."""
    import numpy as np

    if not len(ids):
        return set()
    distances = ((np.asarray(vectors, dtype=np.float64) - np.asarray(query, dtype=np.float64)) ** 2).sum(axis=1)
    return {ids[n] for n in np.argsort(distances, kind="stable")[:k]}


def folder_bytes(path: Path) -> int:
    """Bytes of the files under `path` (a Lite database is a folder), or of the file itself."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


# --- the collections -----------------------------------------------------------------------------


class Templates(scale.Templates):
    """bench/scale.py's templates, from TEMPLATE_ORGS organizations instead of scale.ORGS: each
    looked-up organization then has a few dozen tickets, not one."""

    def __init__(self, work: Path) -> None:  # the same fields as scale.Templates, other organizations
        from test_support.zendesk_sample import build_eval_queries, dumps, generate_messages

        self.messages = work / "templates.jsonl"
        self.tickets: list[dict[str, Any]] = []
        with open(self.messages, "w", encoding="utf-8") as fh:
            for message in generate_messages(scale.TEMPLATE_TICKETS, scale.TEMPLATE_ARTICLES, n_orgs=TEMPLATE_ORGS,
                                             state_every=100):
                fh.write(dumps(message) + "\n")
                if message["type"] == "RECORD" and message["record"]["stream"] == "tickets":
                    self.tickets.append(message["record"]["data"])
        self.orgs = sorted({t["organization_id"] for t in self.tickets if t.get("organization_id") is not None})
        self.queries = build_eval_queries(scale.TEMPLATE_TICKETS, scale.TEMPLATE_ARTICLES, n_orgs=TEMPLATE_ORGS)


class Copies(scale.Collection):
    """What both collections hold beyond the template rows: bench/scale.py's copies of the template
    tickets (its copy_row, keyed as the connector keys rows), made once and inserted into both."""

    def __init__(self, templates: list[list[dict[str, Any]]], template_rows: int, dimensions: int) -> None:
        # scale.Collection.__init__ would write a server config: only the copying state is needed here
        self.shape = "created"
        self.keyed = True
        self.templates = templates
        self.rows_of = array("B")
        self.next_index = 0
        self.expected_rows = template_rows
        self.dimensions = dimensions

    def batches(self, size: int) -> Iterator[list[dict[str, Any]]]:
        """Batches of copies until `size` rows, random unit vectors seeded by the first copy's index
        (bench/scale.py's grow, at this run's dimension)."""
        import numpy as np

        while self.expected_rows < size:
            batch: list[dict[str, Any]] = []
            first = self.next_index
            while len(batch) < scale.FILL_BATCH_ROWS and self.expected_rows + len(batch) < size:
                rows = self.templates[scale.template_of(self.next_index, len(self.templates))]
                batch += [self.copy_row(row, self.next_index) for row in rows]
                self.rows_of.append(len(rows))
                self.next_index += 1
            vectors = np.random.default_rng(first).standard_normal((len(batch), self.dimensions)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            for row, vector in zip(batch, vectors):
                row["vector"] = vector
            self.expected_rows += len(batch)
            yield batch


class Variant:
    """One Lite file holding the connector-created collection, with or without the partition key. Its
    store stays open for the whole run: this process is the file's only user."""

    def __init__(self, bench: "LiteBench", partitioned: bool) -> None:
        self.bench = bench
        self.partitioned = partitioned
        self.label = LABELS[0] if partitioned else LABELS[1]
        self.path = bench.work / f"{'partitioned' if partitioned else 'flat'}.db"
        self.config_path = bench.write_config(self.path, create=True)
        self.store: Any = None
        self.fill_s = 0.0

    def create(self, template: dict[str, Any]) -> None:
        """Created by the connector's own code (MilvusStore.create_collection), then given the template
        collection's properties (the embedding model) and its rows as stored."""
        from destination_milvus_zendesk.milvus import MilvusStore
        from destination_milvus_zendesk.support.settings import load_config

        self.store = MilvusStore(load_config(str(self.config_path)).indexing)
        self.store.connect(create=True)
        info = self.store.create_collection(self.bench.dimensions, partitioned=self.partitioned)
        if (info.partition_key is not None) != self.partitioned:
            raise SystemExit(f"{self.path.name}: Milvus Lite did not create the collection as asked "
                             f"(partition key: {info.partition_key})")
        for key, value in template["properties"].items():
            if key not in info.properties:
                self.store.set_property(key, value)
        self.insert(template["rows"])

    def insert(self, rows: list[dict[str, Any]]) -> None:
        t0 = time.perf_counter()
        for start in range(0, len(rows), scale.FILL_BATCH_ROWS):
            self.store.client.insert(COLLECTION, rows[start:start + scale.FILL_BATCH_ROWS])
        self.fill_s += time.perf_counter() - t0

    def flush(self) -> None:
        t0 = time.perf_counter()
        self.store.client.flush(COLLECTION)
        self.fill_s += time.perf_counter() - t0

    def count(self) -> int:
        return int(self.store.client.query(COLLECTION, filter="", output_fields=["count(*)"],
                                           consistency_level="Strong")[0]["count(*)"])

    def close(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None


class LiteBench:
    """The fake embedding server, the template sync, and the lookups."""

    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        from bench.run import Runner
        from test_support.fake_openai import FakeOpenAIServer
        from test_support.zendesk_sample import configured_catalog

        self.args = args
        self.work = work
        self.dimensions = args.dimensions
        # in this process (a server process of its own was once gone mid-run): it embeds the template
        # sync's records, then the cases before the clock starts and the article titles during the
        # first warm-up lookup (every article is a candidate, and titles are kept per search object)
        self.fake = FakeOpenAIServer(api_key=scale.BENCH_KEY, model_dimensions={EMBEDDING_MODEL: self.dimensions})
        self.fake.start()
        self.runner = Runner(work, types.SimpleNamespace(pid=None))
        self.catalog = work / "catalog.json"
        self.catalog.write_text(json.dumps(configured_catalog("append_dedup")))
        self.templates = Templates(work)

    def close(self) -> None:
        self.fake.stop()

    def connector_config(self, path: Path, create: bool) -> dict[str, Any]:
        return {"processing": {"chunk_size": 1000, "text_fields": scale.TEXT_FIELDS},
                "embedding": {"mode": "openai_compatible", "api_key": scale.BENCH_KEY, "base_url": self.fake.base_url,
                              "model_name": EMBEDDING_MODEL, "dimensions": self.dimensions},
                "indexing": {"host": str(path), "collection": COLLECTION, "create_collection": create,
                             "auth": {"mode": "no_auth"}}}

    def write_config(self, path: Path, create: bool) -> Path:
        config = self.work / f"config-{path.stem}{'' if create else '-read'}.json"
        config.write_text(json.dumps(self.connector_config(path, create)))
        return config

    def template_sync(self) -> dict[str, Any]:
        """The connector's sync of the generated records into templates.db, in its own process; then
        this process reads the stored rows and closes the file again."""
        from destination_milvus_zendesk.milvus import MilvusStore
        from destination_milvus_zendesk.support.settings import load_config

        path = self.work / "templates.db"
        result = self.runner.connector(self.connector_config(path, True), self.catalog, self.templates.messages,
                                       fresh=False)
        store = MilvusStore(load_config(str(self.write_config(path, False))).indexing)
        store.connect(create=False)
        try:
            info = store.describe()
            if info is None:
                raise SystemExit(f"the template sync created no collection in {path}")
            store.load(info)
            stored = store.client.query(COLLECTION, filter="", output_fields=["*"], limit=16_384,
                                        consistency_level="Strong")
        finally:
            store.close()
        # the BM25 field is filled by the collection's function: Milvus refuses rows that carry it
        rows = [{k: v for k, v in row.items() if k not in info.function_outputs} for row in stored]
        log(f"template sync: {len(rows)} rows in {result['elapsed_s']:.1f} s")
        return {"rows": rows, "tickets": self.templates.rows_by_ticket(rows, keyed=True),
                "properties": dict(info.properties), "elapsed_s": result["elapsed_s"]}

    def searches(self, variants: Sequence[Variant], retrieval: str) -> list[Any]:
        """The form's search object on each collection, from the connector config (a second client on
        the file, in this process)."""
        from destination_milvus_zendesk.support.search import SupportSearch
        from destination_milvus_zendesk.support.settings import load_config

        return [SupportSearch.from_config(load_config(str(self.write_config(v.path, False))), retrieval=retrieval)
                for v in variants]

    def lookups(self, variants: Sequence[Variant]) -> dict[str, Any]:
        """The form's lookup of the same cases on each collection, the collections alternating case by
        case (so a burst of load elsewhere falls on both), embeddings computed first. Then, untimed, the
        same cases with dense retrieval only: do the answers differ without the BM25 half?"""
        cases = lookup_cases(self.templates.queries, self.args.queries, self.templates.orgs)
        searches = self.searches(variants, "auto")
        try:
            queries = [(searches[0].query_of(case["text"]), case["org"]) for case in cases]
            for search in searches:
                for query, org in queries[:WARM_UP]:  # connection, the articles' titles
                    search.lookup(query, org)
            samples: list[list[float]] = [[] for _ in variants]
            answers: list[list[Any]] = [[] for _ in variants]
            for n, (query, org) in enumerate(queries):
                for i in (range(len(variants)) if n % 2 == 0 else reversed(range(len(variants)))):
                    t = time.perf_counter()
                    answer = searches[i].lookup(query, org)
                    samples[i].append((time.perf_counter() - t) * 1000)
                    answers[i].append(_answer_ids(answer))
            recall = [dense_recall(search, queries) for search in searches]
            pruning = [pruning_check(search, queries) if v.partitioned else None for v, search in zip(variants, searches)]
        finally:
            for search in searches:
                search.close()
        out: dict[str, Any] = {"cases": cases, "retrieval": searches[0].retrieval}
        for i, variant in enumerate(variants):
            out[variant.label] = {"median_ms": statistics.median(samples[i]), "p90_ms": scale.p90(samples[i]),
                                  "lookups": len(samples[i]), "retrieval": searches[i].retrieval,
                                  "with_tickets": sum(1 for tickets, _ in answers[i] if tickets),
                                  "answers": answers[i], "recall": recall[i], "pruning": pruning[i]}
        dense = self.searches(variants, "dense")
        try:
            out["dense_answers"] = [[_answer_ids(search.lookup(query, org)) for query, org in queries]
                                    for search in dense]
        finally:
            for search in dense:
                search.close()
        return out


def dense_recall(search: Any, queries: Sequence[tuple[Any, int]], k: int = RECALL_K) -> dict[str, float]:
    """Of the k rows nearest each case among those the lookup's filters pass (its organization's open
    tickets; the articles), the share the collection's dense search returns under the same filter.
    Below 1: its vector index missed rows, and a lookup may answer differently on another layout."""
    from destination_milvus_zendesk.support import filters
    from destination_milvus_zendesk.support.inputs import DEFAULT_STATUSES

    client, field = search.store.client, search.info.vector_field
    found = {"tickets": [0, 0], "articles": [0, 0]}
    for query, org in queries:
        for kind, expr in (("tickets", filters.open_tickets(search.tickets_stream, org, DEFAULT_STATUSES)),
                           ("articles", search.articles_filter)):
            rows = client.query(COLLECTION, filter=expr, output_fields=["id", field], limit=16_384)
            exact = nearest_ids([r["id"] for r in rows], [r[field] for r in rows], query.vector, k)
            hits = client.search(COLLECTION, [list(query.vector)], filter=expr, limit=k, anns_field=field,
                                 output_fields=["id"])[0]
            found[kind][0] += len(exact & {h["id"] for h in hits})
            found[kind][1] += len(exact)
    return {kind: hit / total if total else 1.0 for kind, (hit, total) in found.items()}


def pruning_check(search: Any, queries: Sequence[tuple[Any, int]]) -> dict[str, float]:
    """Does the backend search only the partition the filter's organization hashes to? The ticket search
    of each case (dense, the lookup's filter) timed as the connector sends it and with that
    organization's partition named in the request (found as the one partition holding its rows):
    medians. Much faster with the name: the backend does not narrow the search by itself."""
    from destination_milvus_zendesk.support import filters
    from destination_milvus_zendesk.support.inputs import DEFAULT_STATUSES

    client, field = search.store.client, search.info.vector_field
    home: dict[int, list[str]] = {}
    for org in sorted({org for _, org in queries}):
        home[org] = [p for p in client.list_partitions(COLLECTION) if client.query(
            COLLECTION, filter=filters.organization_tickets(search.tickets_stream, org), partition_names=[p],
            output_fields=["count(*)"])[0]["count(*)"]]
    samples: dict[str, list[float]] = {"filter": [], "named": []}
    for n, (query, org) in enumerate(queries):
        expr = filters.open_tickets(search.tickets_stream, org, DEFAULT_STATUSES)
        for how in (("filter", "named") if n % 2 == 0 else ("named", "filter")):
            t = time.perf_counter()
            client.search(COLLECTION, [list(query.vector)], filter=expr, limit=RECALL_K, anns_field=field,
                          output_fields=["id"], **({"partition_names": home[org]} if how == "named" else {}))
            samples[how].append((time.perf_counter() - t) * 1000)
    return {"filter_ms": statistics.median(samples["filter"]), "named_ms": statistics.median(samples["named"]),
            "partitions": statistics.median(len(names) for names in home.values())}


def _answer_ids(answer: Any) -> tuple[list[Any], list[Any]]:
    return [h.id for h in answer.tickets], [a.id for a in answer.articles]


# --- the run -------------------------------------------------------------------------------------


def measure_size(bench: LiteBench, copies: Copies, variants: Sequence[Variant], size: int) -> dict[str, Any]:
    """Grow both collections with the same batches (alternating which gets a batch first), flush,
    then look up on both."""
    t0 = time.perf_counter()
    before = {v.label: v.fill_s for v in variants}
    for n, batch in enumerate(copies.batches(size)):
        for variant in (variants if n % 2 == 0 else list(reversed(variants))):
            variant.insert(batch)
    for variant in variants:
        variant.flush()
    entry: dict[str, Any] = {"rows": copies.expected_rows}
    for variant in variants:
        counted = variant.count()
        if counted != copies.expected_rows:
            raise SystemExit(f"{variant.label}: {counted} rows stored, {copies.expected_rows} inserted")
        entry[variant.label] = {"fill_s": variant.fill_s - before[variant.label], "fill_total_s": variant.fill_s,
                                "file_bytes": folder_bytes(variant.path)}
    log(f"{copies.expected_rows:,} rows: fill " + ", ".join(
        f"{v.label} {entry[v.label]['fill_s']:.0f} s" for v in variants))
    looked_up = bench.lookups(variants)
    cases = looked_up["cases"]
    for variant in variants:
        entry[variant.label].update(looked_up[variant.label])
    entry["retrieval"] = looked_up["retrieval"]
    for variant in variants:
        entry[variant.label]["duplicates_found"] = duplicates_found(cases, entry[variant.label]["answers"])
    entry["duplicate_cases"] = sum(1 for case in cases if case["expected"] is not None)
    entry["comparison"] = compare_answers(*(entry[v.label]["answers"] for v in variants))
    entry["dense_comparison"] = compare_answers(*looked_up["dense_answers"])
    entry["differences"] = [{"case": n, **cases[n], **{v.label: entry[v.label]["answers"][n] for v in variants}}
                            for n in entry["comparison"]["differing"]]
    entry["wall_s"] = time.perf_counter() - t0
    entry["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Lite runs in this process
    log(f"{copies.expected_rows:,} rows in {entry['wall_s']:.0f} s, peak RSS {entry['peak_rss_mb']:.0f} MB: " + "; ".join(
        f"{v.label} {entry[v.label]['median_ms']:.1f} / {entry[v.label]['p90_ms']:.1f} ms" for v in variants)
        + f"; same answers {entry['comparison']['same']} of {entry['comparison']['cases']} "
        f"({entry['dense_comparison']['same']} with dense retrieval only); dense recall@{RECALL_K} " + "; ".join(
            f"{v.label} {entry[v.label]['recall']}" for v in variants) + "; pruning check " + str(entry[LABELS[0]]["pruning"]))
    return entry


def run(args: argparse.Namespace) -> dict[str, Any]:
    from importlib.metadata import version

    from bench.run import machine

    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="dmz-bench-pk-"))
    log(f"work dir {work}; sizes {args.sizes}; {args.dimensions}-d; Milvus Lite")
    results: dict[str, Any] = {"machine": machine(), "date": dt.datetime.now(dt.timezone.utc).strftime(
        "%Y-%m-%d %H:%M UTC"), "commit": scale._commit(), "queries": args.queries, "dimensions": args.dimensions,
        "milvus_lite": version("milvus-lite"), "sizes": {}}
    bench = LiteBench(args, work)
    variants = [Variant(bench, True), Variant(bench, False)]
    try:
        template = bench.template_sync()
        results["template_rows"] = len(template["rows"])
        results["looked_up_orgs"] = len(bench.templates.orgs)
        copies = Copies(template["tickets"], len(template["rows"]), args.dimensions)
        for variant in variants:
            variant.create(template)
        for size in args.sizes:
            results["sizes"][str(size)] = measure_size(bench, copies, variants, size)
    finally:
        for variant in variants:
            variant.close()
        bench.close()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    results["total_s"] = time.perf_counter() - started
    results["load_avg_end"] = os.getloadavg()
    if args.keep:
        (work / "results.json").write_text(json.dumps(results, indent=1, default=str))
        results["work"] = str(work)
    return results


# --- report --------------------------------------------------------------------------------------


def render(results: dict[str, Any], command: str) -> str:
    start, end = SECTIONS["partition-key"]
    m = results["machine"]
    a, b = LABELS
    lines = [start, "## Partition key: one organization's lookup as the other organizations' tickets grow", "",
             f"`{command}` on {results['date']} at commit {results['commit']}: Milvus Lite {results['milvus_lite']}, "
             f"{results['dimensions']}-d vectors (the local model's dimension), {m['nproc']} cores shared with other "
             f"work, load average {m['load_avg_start'][0]:.1f} at the start and {results['load_avg_end'][0]:.1f} at "
             f"the end; total {results['total_s'] / 60:.0f} min. How it is measured: bench/partition_key.py's "
             "docstring.", "",
             f"| rows | {a}: lookup median / p90 | {b}: lookup median / p90 | same answers: lookup (dense only) | "
             f"dense recall@{RECALL_K}, tickets / articles: {a}; {b} | one ticket search: filter alone / partition "
             f"named ({a}) | duplicates found: {a} / {b} | fill: {a} / {b} | Lite file: {a} / {b} |",
             "|---|---|---|---|---|---|---|---|---|"]
    for entry in results["sizes"].values():
        x, y, same, dense = entry[a], entry[b], entry["comparison"], entry["dense_comparison"]
        lines.append(f"| {entry['rows']:,} | {x['median_ms']:.1f} / {x['p90_ms']:.1f} ms | {y['median_ms']:.1f} / "
                     f"{y['p90_ms']:.1f} ms | {same['same']} of {same['cases']} ({dense['same']}) | "
                     f"{_recall(x['recall'])}; {_recall(y['recall'])} | {x['pruning']['filter_ms']:.1f} / "
                     f"{x['pruning']['named_ms']:.1f} ms | {x['duplicates_found']} / {y['duplicates_found']} of "
                     f"{entry['duplicate_cases']} | {x['fill_s']:.0f} / {y['fill_s']:.0f} s | "
                     f"{x['file_bytes'] / 2**20:.0f} / {y['file_bytes'] / 2**20:.0f} MB |")
    sizes = list(results["sizes"].values())
    first, last = sizes[0], sizes[-1]
    lines += ["", f"Lookup median from {first['rows']:,} to {last['rows']:,} rows: x{last[a]['median_ms'] / first[a]['median_ms']:.2f} "
              f"with the partition key, x{last[b]['median_ms'] / first[b]['median_ms']:.2f} without. "
              f"{results['queries']} generated cases of {results['looked_up_orgs']} organizations whose "
              f"{results['template_rows']} template rows (tickets and articles) stay fixed while copies of other "
              f"organizations' tickets ({scale.ORGS} of them, random vectors) fill the collections; each lookup is the "
              f"form's ({first['retrieval']} retrieval: that organization's unsolved tickets, then articles). Same "
              "answers: the same ticket ids and article ids in the same order on both collections; dense only: the "
              f"same cases with dense retrieval (untimed). Dense recall@{RECALL_K}: of the {RECALL_K} rows nearest "
              "each case among those the lookup's filter passes (exact distances), the share Milvus Lite's dense "
              "search returns under that filter: below 1, its vector index missed rows, so the two collections can "
              "answer differently. One ticket search: the lookup's dense ticket search on the partitioned collection "
              "as the connector sends it (the filter names the organization) and with the organization's partition "
              "named in the request: if naming it is faster, Milvus Lite does not narrow the search to that "
              "partition by itself. Duplicates found: duplicate cases whose answer lists one of the tickets they "
              "duplicate. Fill: each collection's inserts and flush for the rows added at that size. Peak RSS of "
              f"the benchmark's process, where Milvus Lite runs: {last['peak_rss_mb']:,.0f} MB."]
    lines += difference_lines(results)
    lines.append(end)
    return "\n".join(lines) + "\n"


def _recall(recall: dict[str, float]) -> str:
    return f"{recall['tickets']:.2f} / {recall['articles']:.2f}"


def difference_lines(results: dict[str, Any]) -> list[str]:
    """Every case whose answers differ, with both answers (never only a count); a size whose differing
    cases and answers are those of the size before says so in one line."""
    a, b = LABELS
    out: list[str] = []
    previous: list[dict[str, Any]] | None = None
    for entry in results["sizes"].values():
        differences, same = entry["differences"], entry["comparison"]
        if differences and differences == previous:
            out += ["", f"At {entry['rows']:,} rows, the same {len(differences)} cases differ, with the same answers."]
        elif differences:
            out += ["", f"At {entry['rows']:,} rows, {len(differences)} cases differ ({same['reordered']} of them "
                    "only in order):", ""]
            out += [f"- case {d['case']} ({d['kind']}, organization {d['org']}): {a}: tickets {d[a][0]}, articles "
                    f"{d[a][1]}; {b}: tickets {d[b][0]}, articles {d[b][1]}" for d in differences]
        previous = differences
    return out


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.partition_key", description=__doc__.split("\n\n")[0])
    parser.add_argument("--lite", action="store_true", default=True,
                        help="Milvus Lite files (the only mode: see the docstring)")
    parser.add_argument("--sizes", type=scale.parse_sizes, default=list(SIZES), help="row counts, e.g. 10k,100k,300k")
    parser.add_argument("--dimensions", type=int, default=DIMENSIONS,
                        help=f"vector dimension (default {DIMENSIONS}: the local model's)")
    parser.add_argument("--queries", type=int, default=50, help="lookup cases timed on each collection")
    parser.add_argument("--keep", action="store_true", help="leave the work folder (Lite files, results.json)")
    parser.add_argument("--docs", action="store_true", help="write the section in docs/benchmarks.md")
    args = parser.parse_args(argv)
    if args.dimensions < 2 or args.queries < WARM_UP:
        parser.error(f"--dimensions >= 2 and --queries >= {WARM_UP}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    results = run(args)
    command = "python -m bench.partition_key " + " ".join(sys.argv[1:] if argv is None else argv)
    text = render(results, command.strip())
    print(text)
    if results.get("work"):
        print(f"kept {results['work']}")
    if args.docs:
        print(f"wrote {write_section('partition-key', text)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
