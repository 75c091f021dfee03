"""Retrieval quality of the support form, dense only vs hybrid (dense + BM25), on Milvus Lite.

    .venv/bin/python -m bench.retrieval_quality [--embedders local,fake] [--held-out 8,9,10] [--no-doc]

For each embedder (wordllama `local`, the hashing `fake` test embedder) and each sample seed, the
connector syncs the generated Zendesk sample (300 tickets over 8 orgs, 40 articles) into a fresh
Milvus Lite file (a collection it creates: dense + BM25), then SupportSearch answers every
evaluation query with each retrieval: dense, hybrid with RRF, hybrid with weighted rankers.

Queries (test_support.zendesk_sample): paraphrased duplicates of unsolved tickets and novel problems
(build_eval_queries), keyword-style exact-term cases (error codes, invoice/order numbers, versions,
vendor and product names) and exact-term decoys whose only matching tickets are in another
organization or solved (build_exact_term_queries). Decision metrics: a query counts as found when
its top-1 ticket (new/open/pending, same org) is acceptable and passes the threshold; a false alarm
is a top-1 that passes but is not acceptable (every hit of a novel query or decoy).

Decision rules are fitted on seed 7 only, then applied unchanged to the held-out seeds: what the
held-out columns report. Dense: a distance threshold (F1-optimal, middle of the optimal range). Hybrid
(query.HybridRule): adjusted distance = distance - k * BM25 share, k from a logistic regression on
(distance, BM25 share) of seed 7's top hits (numpy), the threshold F1-optimal as for dense, and a
distance cap (the farthest true duplicate that rule passes on seed 7). Also the
issue's own example ("double charge??" on the bundled sample). Writes docs/retrieval_quality.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from airbyte_cdk.models import AirbyteMessageSerializer, ConfiguredAirbyteCatalogSerializer

from destination_milvus_zendesk.config import parse_config
from destination_milvus_zendesk.destination import DestinationMilvusZendesk
from destination_milvus_zendesk.embedding.factory import create_embedder
from destination_milvus_zendesk.milvus_store import MilvusStore
from destination_milvus_zendesk.query import HYBRID_RULES, HYBRID_WEIGHTS, THRESHOLDS, SupportSearch
from test_support import zendesk_sample as zs
from test_support.sample_sync import sync_sample

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "retrieval_quality.md"
TUNING_SEED = 7
STATUSES = ("new", "open", "pending")  # the evaluation sets' definition of an acceptable duplicate
PROCESSING = {"chunk_size": 1000, "chunk_overlap": 0, "text_fields": ["body", "title", "description", "subject"]}
# name -> (retrieval, ranker factory)
# The weights the query module ships (0.3/0.7) were chosen on seed 7: best duplicate F1 and paraphrase top-1.
CONFIGS: dict[str, tuple[str, Any]] = {
    "dense": ("dense", None),
    "hybrid RRF k=60": ("hybrid", ("rrf", 60)),
    "hybrid weighted 0.3/0.7": ("hybrid", ("weighted", (0.3, 0.7))),
    "hybrid weighted 0.5/0.5": ("hybrid", ("weighted", (0.5, 0.5))),
    "hybrid weighted 0.7/0.3": ("hybrid", ("weighted", (0.7, 0.3))),
}


def sync(seed: int, mode: str, folder: str, syncs: int = 1) -> dict[str, Any]:
    """The sample of `seed` written by the connector into a new Lite file; returns the config. syncs=2:
    the same records in two syncs, the first half of the tickets (with the articles) then the rest."""
    config = {"processing": PROCESSING, "embedding": {"mode": mode},
              "indexing": {"host": os.path.join(folder, f"{mode}-{seed}-{syncs}.db"), "collection": "zendesk",
                           "create_collection": True}}
    catalog = ConfiguredAirbyteCatalogSerializer.load(zs.configured_catalog())
    messages = list(zs.generate_messages(300, 40, seed=seed))
    tickets = [m for m in messages if m["type"] == "RECORD" and m["record"]["stream"] == "tickets"]
    others = [m for m in messages if not (m["type"] == "RECORD" and m["record"]["stream"] == "tickets")]
    batches = [messages] if syncs == 1 else [tickets[:150] + others, tickets[150:]]
    for batch in batches:
        for _ in DestinationMilvusZendesk().write(config, catalog, (AirbyteMessageSerializer.load(m) for m in batch)):
            pass
    return config


def queries(seed: int) -> list[dict[str, Any]]:
    """Every evaluation query of the seed, with its kind and the articles of its topic."""
    base = zs.build_eval_queries(seed=seed)
    exact = zs.build_exact_term_queries(seed=seed)
    by_topic = zs.article_ids_by_topic(40)
    out = [dict(q, kind="paraphrase") for q in base["duplicates"]] + [dict(q, kind="novel") for q in base["novel"]]
    out += [dict(q, kind="exact") for q in exact["positives"]] + [dict(q, kind="decoy") for q in exact["decoys"]]
    out += [dict(q, kind="article") for q in base["articles"]]
    for q in out:
        q.setdefault("expected_article_ids", by_topic[q["topic"]])
    return out


def answer_all(config: dict[str, Any], items: list[dict[str, Any]],
               configs: tuple[str, ...] = tuple(CONFIGS)) -> dict[str, list[dict[str, Any]]]:
    """Per configuration, per query: the top ticket (id, (distance, fused score, BM25 share)) and the
    top-5 articles (id, (distance, fused score)); dense has no fused score nor share. Also the mean
    lookup time."""
    cfg = parse_config(config)
    embedder = create_embedder(cfg)
    store = MilvusStore(cfg.indexing)
    store.connect(create=False)
    results: dict[str, list[dict[str, Any]]] = {}
    try:
        for name in configs:
            retrieval, ranker = CONFIGS[name]
            search = SupportSearch(store, embedder, family=cfg.embedding.mode, retrieval=retrieval)
            if ranker:
                search.fusion = ranker
            rows, started = [], time.perf_counter()
            for q in items:
                org = q.get("organization_id") or zs.ORG_ID_BASE + 1000  # article queries: any org
                a = search.lookup(q["text"], org, STATUSES, ticket_limit=2, article_limit=5)
                top = a.tickets[0] if a.tickets else None
                rows.append({"ticket": top.id if top else None,
                             "hit": (top.distance, top.fused, top.bm25_share) if top else None,
                             "articles": [(x.id, (x.distance, x.fused)) for x in a.articles]})
            results[name] = rows
            results[name + " ms"] = [{"ms": 1000 * (time.perf_counter() - started) / len(items)}]
    finally:
        store.close()
    return results


NEVER = -1e9  # the value of a hit the rule cannot pass


def valuer(k: float | None, cap: float = 4.0) -> Any:
    """(distance, fused, share) -> the value a decision compares, higher is closer: -distance (dense,
    k None), -(distance - k * share) for the hybrid rule (query.HybridRule), NEVER at `cap` or farther."""
    if k is None:
        return lambda hit: -hit[0]
    return lambda hit: -(hit[0] - k * (hit[2] or 0.0)) if hit[0] < cap else NEVER


def fit_cap(items: list[dict[str, Any]], rows: list[dict[str, Any]], value: Any, threshold: float) -> float:
    """max_distance of the hybrid rule: the distance of the farthest true duplicate the fitted rule passes
    (ties pass: the cap is the first distance that never does, so it sits just above that one)."""
    found = [r["hit"][0] for q, r in zip(items, rows) if q["kind"] != "article" and q["expected_ticket_id"] is not None
             and r["ticket"] in q["acceptable_ticket_ids"] and value(r["hit"]) >= threshold]
    return round(max(found) + 0.0005, 3) if found else 4.0


def fit_share_weight(items: list[dict[str, Any]], rows: list[dict[str, Any]]) -> float:
    """k of the hybrid rule: a logistic regression of "the top-1 ticket is a right duplicate" on its
    (distance, BM25 share), over the non-article queries with a top hit; k is the ratio of the two
    coefficients (the slope of the decision line). Plain gradient descent on standardized features."""
    data = [(r["hit"][0], r["hit"][2] or 0.0, q["expected_ticket_id"] is not None
             and r["ticket"] in q["acceptable_ticket_ids"])
            for q, r in zip(items, rows) if q["kind"] != "article" and r["ticket"] is not None]
    x = np.array([[d, s] for d, s, _ in data])
    y = np.array([ok for _, _, ok in data], dtype=float)
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = np.hstack([(x - mean) / std, np.ones((len(x), 1))])
    w = np.zeros(3)
    for _ in range(5000):
        p = 1.0 / (1.0 + np.exp(-z @ w))
        w -= 0.5 * (z.T @ (p - y) / len(y) + 0.01 * np.r_[w[:2], 0.0])
    slope_d, slope_s = w[0] / std[0], w[1] / std[1]
    return round(float(max(0.0, -slope_s / slope_d)), 3) if slope_d < 0 else 0.0


# --- metrics ----------------------------------------------------------------------------------------


def decisions(items: list[dict[str, Any]], rows: list[dict[str, Any]], value: Any) -> tuple[list[float], list[float], int]:
    """(values of correct top-1 hits of positive queries, values of wrong top-1 hits, number of positives)."""
    good, bad, positives = [], [], 0
    for q, r in zip(items, rows):
        if q["kind"] == "article":
            continue
        positive = q["expected_ticket_id"] is not None
        positives += positive
        if r["ticket"] is None:
            continue
        ok = positive and r["ticket"] in q["acceptable_ticket_ids"]
        (good if ok else bad).append(value(r["hit"]))
    return good, bad, positives


def prf(good: list[float], bad: list[float], positives: int, t: float) -> dict[str, float]:
    tp, fp = sum(v >= t for v in good), sum(v >= t for v in bad)
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / positives if positives else 0.0
    return {"threshold": t, "precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0,
            "tp": tp, "fp": fp, "positives": positives}


def tune(good: list[float], bad: list[float], positives: int) -> dict[str, float]:
    """F1-optimal threshold (pass if value >= t), the middle of the widest optimal interval."""
    values = sorted(set(good) | set(bad))
    cuts = [values[0] - 1e-6] + [(a + b) / 2 for a, b in zip(values, values[1:])] + [values[-1] + 1e-6]
    scored = [(prf(good, bad, positives, t)["f1"], t) for t in cuts]
    best = max(f for f, _ in scored)
    optimal = [t for f, t in scored if abs(f - best) <= 1e-12]
    # the optimal cuts form runs; take the middle of the run with the largest value gap
    runs, run = [], [optimal[0]]
    for t in optimal[1:]:
        if cuts.index(t) == cuts.index(run[-1]) + 1:
            run.append(t)
        else:
            runs.append(run)
            run = [t]
    runs.append(run)
    chosen = max(runs, key=lambda r: (r[-1] - r[0], -abs(len(r))))
    t = (chosen[0] + chosen[-1]) / 2 if len(chosen) > 1 else chosen[0]
    return prf(good, bad, positives, t)


def article_hits(items: list[dict[str, Any]], rows: list[dict[str, Any]], kinds: set[str]) -> dict[str, float]:
    chosen = [(q, r) for q, r in zip(items, rows) if q["kind"] in kinds]
    h1 = sum(bool(r["articles"]) and r["articles"][0][0] in q["expected_article_ids"] for q, r in chosen)
    h5 = sum(any(a in q["expected_article_ids"] for a, _ in r["articles"][:5]) for q, r in chosen)
    return {"hit1": h1 / len(chosen), "hit5": h5 / len(chosen), "queries": len(chosen)}


def article_threshold(items, rows, value, t=None) -> dict[str, float]:
    """Display threshold over the top-5 articles of the article queries: precision of what is shown,
    recall = share of queries with a relevant article shown. t None: F1-optimal."""
    shown = [(value(v), a in q["expected_article_ids"], n) for n, (q, r) in enumerate(zip(items, rows))
             if q["kind"] == "article" for a, v in r["articles"]]
    if t is not None:
        return _display_at(shown, t)
    values = sorted({v for v, _, _ in shown})
    cuts = [(a + b) / 2 for a, b in zip(values, values[1:])]
    scored = [_display_at(shown, c) for c in cuts]
    best = max(s["f1"] for s in scored)
    optimal = [s["threshold"] for s in scored if abs(s["f1"] - best) <= 1e-12]
    return _display_at(shown, (optimal[0] + optimal[-1]) / 2 if len(optimal) > 1 else optimal[0])


def _display_at(shown: list[tuple[float, bool, int]], cut: float) -> dict[str, float]:
    """shown: (value, relevant?, query number) of every article shown; what passes `cut`."""
    rel = [n for v, ok, n in shown if ok and v >= cut]
    irr = [v for v, ok, _ in shown if not ok and v >= cut]
    p = len(rel) / (len(rel) + len(irr)) if rel or irr else 1.0
    r = len(set(rel)) / len({n for _, _, n in shown})
    return {"threshold": cut, "precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}


# --- the run -------------------------------------------------------------------------------------------


def run(embedders: list[str], held_out: list[int], folder: str) -> dict[str, Any]:
    report: dict[str, Any] = {}
    for mode in embedders:
        per_seed = {}
        for seed in [TUNING_SEED] + held_out:
            started = time.perf_counter()
            config = sync(seed, mode, folder)
            items = queries(seed)
            per_seed[seed] = (items, answer_all(config, items))
            print(f"{mode} seed {seed}: synced and answered {len(items)} queries x {len(CONFIGS)} in "
                  f"{time.perf_counter() - started:.1f} s", file=sys.stderr)
        report[mode] = summarize(mode, per_seed, held_out)
        report[mode]["_raw"] = {seed: {"items": items, "rows": rows} for seed, (items, rows) in per_seed.items()}
        if mode == "local":
            report[mode]["_two_syncs"] = two_syncs(mode, per_seed, held_out, folder)
    return report


SHIPPED = f"hybrid weighted {HYBRID_WEIGHTS[0]}/{HYBRID_WEIGHTS[1]}"


def two_syncs(mode: str, per_seed: dict[int, Any], held_out: list[int], folder: str) -> dict[str, Any]:
    """The held-out seeds written in two syncs instead of one, answered with the shipped hybrid rule:
    do BM25 shares (and the decisions) move when rows arrive in another sync?"""
    rule = HYBRID_RULES[mode]
    value = valuer(rule.share_weight, rule.max_distance)
    items, one, two = [], [], []
    for seed in held_out:
        config = sync(seed, mode, folder, syncs=2)
        items += per_seed[seed][0]
        one += per_seed[seed][1][SHIPPED]
        two += answer_all(config, per_seed[seed][0], (SHIPPED,))[SHIPPED]
    same = [(a["hit"][2], b["hit"][2]) for q, a, b in zip(items, one, two)
            if q["kind"] != "article" and a["ticket"] is not None and a["ticket"] == b["ticket"]]
    moved = [abs(x - y) for x, y in same]
    return {"queries": sum(q["kind"] != "article" for q in items), "same_top1": len(same),
            "share_mean": sum(moved) / len(moved), "share_max": max(moved), "share_over_005": sum(m > 0.05 for m in moved),
            "one": prf(*decisions(items, one, value), -rule.duplicate),
            "two": prf(*decisions(items, two, value), -rule.duplicate)}


def summarize(mode: str, per_seed: dict[int, Any], held_out: list[int]) -> dict[str, Any]:
    out = {}
    for name, (retrieval, _) in CONFIGS.items():
        items, rows = per_seed[TUNING_SEED][0], per_seed[TUNING_SEED][1][name]
        # k and thresholds: the tuning seed only
        k = fit_share_weight(items, rows) if retrieval == "hybrid" else None
        tuned = tune(*decisions(items, rows, valuer(k)))
        cap = fit_cap(items, rows, valuer(k), tuned["threshold"]) if k is not None else 4.0
        tuned = prf(*decisions(items, rows, valuer(k, cap)), tuned["threshold"])
        art_t = article_threshold(items, rows, valuer(None))
        tuned["k"], tuned["cap"] = k, cap
        entry = {"tuned": {"dup": tuned, "art": art_t, **_ranking(items, rows)}}
        h_items = [q for s in held_out for q in per_seed[s][0]]
        h_rows = [r for s in held_out for r in per_seed[s][1][name]]
        entry["held_out"] = {"dup": dict(prf(*decisions(h_items, h_rows, valuer(k, cap)), tuned["threshold"]), k=k,
                                         cap=cap),
                             "art": article_threshold(h_items, h_rows, valuer(None), art_t["threshold"]),
                             **_ranking(h_items, h_rows)}
        entry["held_out"]["oracle"] = oracle(*decisions(h_items, h_rows, valuer(k, cap)))
        if name == "dense":
            shipped = -THRESHOLDS[mode][0]
            entry["held_out"]["dup_shipped"] = prf(*decisions(h_items, h_rows, valuer(None)), shipped)
        entry["ms"] = sum(per_seed[s][1][name + " ms"][0]["ms"] for s in per_seed) / len(per_seed)
        out[name] = entry
    out["_shipped"] = shipped_metrics(mode, per_seed, held_out)
    return out


def oracle(good: list[float], bad: list[float], positives: int) -> dict[str, float]:
    """The best recall any threshold on these values reaches at precision >= 0.95, the threshold chosen
    on the same data (not a shippable figure: it says whether a rule of this form could meet the target),
    and the ceiling: the share of positive queries whose top-1 is right (no threshold passes more)."""
    cuts = sorted((set(good) | set(bad)) - {NEVER})
    ok = [prf(good, bad, positives, t) for t in cuts]
    best = max((r["recall"] for r in ok if r["precision"] >= 0.95), default=0.0)
    return {"recall_at_p95": best, "ceiling": len(good) / positives if positives else 0.0}


def shipped_metrics(mode: str, per_seed: dict[int, Any], held_out: list[int]) -> dict[str, Any]:
    """What the query module ships (dense THRESHOLDS; HYBRID_WEIGHTS with HYBRID_RULES), on the held-out seeds."""
    name = SHIPPED
    rule = HYBRID_RULES[mode]
    items = [q for s in held_out for q in per_seed[s][0]]
    out = {}
    for label, config, value, t_dup, t_art in (
            ("dense", "dense", valuer(None), THRESHOLDS[mode][0], THRESHOLDS[mode][1]),
            ("hybrid", name, valuer(rule.share_weight, rule.max_distance), rule.duplicate, rule.article)):
        rows = [r for s in held_out for r in per_seed[s][1][config]]
        out[label] = {"dup": prf(*decisions(items, rows, value), -t_dup),
                      "art": article_threshold(items, rows, valuer(None), -t_art), **_ranking(items, rows)}
    out["rule"] = {"k": rule.share_weight, "duplicate": rule.duplicate, "article": rule.article,
                   "cap": rule.max_distance, "weights": HYBRID_WEIGHTS}
    return out


def _ranking(items, rows) -> dict[str, Any]:
    by_kind = {}
    for kind in ("paraphrase", "exact"):
        chosen = [(q, r) for q, r in zip(items, rows) if q["kind"] == kind]
        by_kind[kind] = sum(r["ticket"] in q["acceptable_ticket_ids"] for q, r in chosen) / len(chosen)
    return {"top1": by_kind, "articles": article_hits(items, rows, {"article"}),
            "articles_all": article_hits(items, rows, {"article", "paraphrase", "novel", "exact", "decoy"})}


# --- the issue's example ------------------------------------------------------------------------------

EXAMPLE_ORG = 360000105148
# (text, statuses): the issue's short text with the default statuses, and the CLI tests' text with the
# tutorial's status "new", whose only candidate is #1268 (the issue's "1.258 against the 1.25 threshold")
EXAMPLES = (("double charge??", ("new", "open", "pending", "hold")), ("I was charged twice this month", ("new",)))


def issue_example(folder: str) -> dict[str, Any]:
    """The issue's example on the bundled sample (local model), organization 360000105148, with each
    retrieval: the top tickets, what decided, and whether each is called a duplicate."""
    path, proc = sync_sample(Path(folder), timeout=900)
    if proc.returncode != 0:
        raise RuntimeError(f"syncing the bundled sample failed: {proc.stderr[-2000:]!r}")
    out: dict[str, Any] = {}
    for retrieval in ("dense", "hybrid"):
        search = SupportSearch.from_config(parse_config(json.loads(path.read_text())), retrieval=retrieval)
        try:
            for text, statuses in EXAMPLES:
                answer = search.lookup(text, EXAMPLE_ORG, statuses)
                out.setdefault(f"{text} | {','.join(statuses)}", {})[retrieval] = [
                    {"id": t.id, "subject": t.subject, "status": t.status, "duplicate": t.duplicate,
                     "measure": answer.measure(t), "threshold": answer.duplicate_threshold} for t in answer.tickets]
        finally:
            search.close()
    return out


# --- the document ------------------------------------------------------------------------------------


def _f(x: float) -> str:
    return f"{x:.3f}"


def _rule_text(name: str, result: dict[str, Any]) -> str:
    k = result.get("k")
    if k is None:
        return f"d < {-result['threshold']:.3f}"
    return f"d - {k:.3f} * share < {-result['threshold']:.3f}, d < {result['cap']:.3f}"


def _header(held_out: list[int], seconds: float, command: str) -> list[str]:
    return ["# Retrieval quality: dense only vs hybrid (dense + BM25)", "",
            "Generated by `bench/retrieval_quality.py` on Milvus Lite (a real sync by the connector, real "
            "`SupportSearch` lookups; no mocks). Do not edit by hand: run the command again.", "",
            f"* Command: `{command}` ({seconds:.0f} s)",
            f"* Machine: {platform.system()} {platform.machine()}, {os.cpu_count()} CPU, Python "
            f"{platform.python_version()}",
            f"* Data: `test_support.zendesk_sample`, 300 tickets over 8 orgs and 40 articles per seed; seed "
            f"{TUNING_SEED} fits every rule (k, thresholds, weights), seeds {', '.join(map(str, held_out))} are "
            "held out (never used for fitting, weights or ranker choice).",
            "* Queries per seed: 40 paraphrased duplicates and 20 novel problems (`build_eval_queries`), 40 "
            "exact-term cases and 20 exact-term decoys (`build_exact_term_queries`: the terms' tickets are in "
            "another organization or solved), 30 article questions. Duplicates are searched among the "
            "organization's new/open/pending tickets.",
            "* Duplicate decision: found = top-1 is an acceptable ticket and passes; false alarm = a passing top-1 "
            "that is not (any passing hit of a novel query or decoy, or a wrong top-1 of a duplicate query). "
            "Dense passes when its squared L2 distance `d` is below the threshold. Hybrid (query.HybridRule) "
            "passes when its adjusted distance `d - k * share` is below the threshold and `d` is below a cap; "
            "`share` is the hit's BM25 "
            "score over the best BM25 score of the text among all tickets of the collection (any organization, "
            "any status), so it is in [0, 1] and does not grow with the collection.",
            f"* Fitting on seed {TUNING_SEED}: `k` by a logistic regression of \"top-1 is a right duplicate\" on "
            "(d, share) (numpy; k = the ratio of the coefficients); the threshold F1-optimal (middle of the optimal "
            "interval); the cap: the distance of the farthest true duplicate that rule passes (a share is relative, "
            "so a hit sharing only common words can be the best BM25 match anywhere: BM25 never vouches for a hit "
            "farther than that). Article display threshold: F1-optimal on the dense distance of the shown "
            "articles.", ""]


def _shipped_lines(report: dict[str, Any]) -> list[str]:
    lines = ["## What ships, on the held-out seeds", "",
             "| embedder | retrieval | rule | dup precision | dup recall | top-1 paraphrase | top-1 exact-term | "
             "article hit@1 | hit@5 | article display P / R |", "|---|---|---|---|---|---|---|---|---|---|"]
    for mode, configs in report.items():
        ship = configs["_shipped"]
        r = ship["rule"]
        rules = {"dense": f"d < {THRESHOLDS[mode][0]} (articles d < {THRESHOLDS[mode][1]})",
                 "hybrid": f"weighted {r['weights'][0]}/{r['weights'][1]}; d - {r['k']} * share < {r['duplicate']}, "
                           f"d < {r['cap']} (articles d < {r['article']})"}
        for label in ("dense", "hybrid"):
            e = ship[label]
            lines.append(f"| `{mode}` | {label} | {rules[label]} | {_f(e['dup']['precision'])} | "
                         f"{_f(e['dup']['recall'])} | {_f(e['top1']['paraphrase'])} | {_f(e['top1']['exact'])} | "
                         f"{_f(e['articles']['hit1'])} | {_f(e['articles']['hit5'])} | "
                         f"{_f(e['art']['precision'])} / {_f(e['art']['recall'])} |")
    lines += ["", "query.HYBRID_RULES holds the seed-7 fit of the `hybrid weighted 0.3/0.7` rows below "
                  "(rounded to 3 decimals); the dense thresholds are query.THRESHOLDS (issue 9's)."]
    if "local" in report:
        lines += _target_lines(report["local"])
    return lines + [""]


def _target_lines(local: dict[str, Any]) -> list[str]:
    dup = local["_shipped"]["hybrid"]["dup"]
    met = dup["recall"] >= 0.97 and dup["precision"] >= 0.95
    name = f"hybrid weighted {HYBRID_WEIGHTS[0]}/{HYBRID_WEIGHTS[1]}"
    oracle_ = local[name]["held_out"]["oracle"]
    return ["", f"Target (issue 15): duplicate recall >= 0.97 at precision >= 0.95 on the held-out seeds with the "
                f"local model: **{'met' if met else 'not met'}** (precision {_f(dup['precision'])}, recall "
                f"{_f(dup['recall'])}). The ranking bounds any decision rule: only {_f(oracle_['ceiling'])} of the "
                f"held-out duplicate queries have a right top-1 with this ranker (the recall ceiling), and the best "
                f"threshold on this rule's own held-out values, chosen after the fact, reaches recall "
                f"{_f(oracle_['recall_at_p95'])} at precision >= 0.95."]


def _mode_lines(mode: str, configs: dict[str, Any], held_out: list[int]) -> list[str]:
    configs = {k: v for k, v in configs.items() if not k.startswith("_")}
    lines = [f"## Embedder `{mode}`", "",
             "| retrieval | split | dup rule | dup precision | dup recall | top-1 paraphrase | "
             "top-1 exact-term | article hit@1 | hit@5 | all queries hit@1 | hit@5 | lookup ms |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, entry in configs.items():
        for split in ("tuned", "held_out"):
            e = entry[split]
            label = f"seed {TUNING_SEED} (tuning)" if split == "tuned" else "held-out " + ",".join(map(str, held_out))
            lines.append(f"| {name} | {label} | {_rule_text(name, e['dup'])} | {_f(e['dup']['precision'])} | "
                         f"{_f(e['dup']['recall'])} | {_f(e['top1']['paraphrase'])} | {_f(e['top1']['exact'])} | "
                         f"{_f(e['articles']['hit1'])} | {_f(e['articles']['hit5'])} | "
                         f"{_f(e['articles_all']['hit1'])} | {_f(e['articles_all']['hit5'])} | {entry['ms']:.1f} |")
    shipped = configs["dense"]["held_out"]["dup_shipped"]
    lines += ["", f"Dense at the shipped threshold (d < {-shipped['threshold']:.3f}), held-out: precision "
                  f"{_f(shipped['precision'])}, recall {_f(shipped['recall'])}.", "",
              "Held-out recall ceiling (right top-1) and, for information only, the best recall at precision >= 0.95 "
              "of each rule with its threshold chosen on the held-out data itself:", "",
              "| retrieval | recall ceiling | recall at P >= 0.95 (threshold chosen after the fact) |", "|---|---|---|"]
    for name, entry in configs.items():
        o = entry["held_out"]["oracle"]
        lines.append(f"| {name} | {_f(o['ceiling'])} | {_f(o['recall_at_p95'])} |")
    lines += ["", f"Article display threshold (F1 on seed {TUNING_SEED}'s article queries; precision of the top-5 "
                  "shown, recall = queries with a relevant article shown):", "",
              "| retrieval | rule | tuning P / R | held-out P / R |", "|---|---|---|---|"]
    for name, entry in configs.items():
        tuned, held = entry["tuned"]["art"], entry["held_out"]["art"]
        lines.append(f"| {name} | d < {-tuned['threshold']:.3f} | {_f(tuned['precision'])} / {_f(tuned['recall'])} | "
                     f"{_f(held['precision'])} / {_f(held['recall'])} |")
    return lines + [""]


def _example_lines(example: dict[str, Any] | None) -> list[str]:
    if not example:
        return []
    lines = ["## The issue's example", "",
             f"Organization {EXAMPLE_ORG} on the bundled sample (`destination_milvus_zendesk/sample_data`, synced "
             "with the local model by `test_support/sample_sync.py`): its unsolved tickets #1246 (pending), #1264 (open) "
             "\"Charged twice this month\" and #1268 (new) \"double charge??\" are all the same problem.", "",
             "| text | statuses | retrieval | hit | status | what decided | threshold | likely duplicate? |",
             "|---|---|---|---|---|---|---|---|"]
    for key, by_retrieval in example.items():
        text, statuses = key.split(" | ")
        for retrieval, hits in by_retrieval.items():
            for h in hits:
                lines.append(f"| {text} | {statuses} | {retrieval} | #{h['id']} {h['subject']!r} | {h['status']} | "
                             f"{h['measure']} | < {h['threshold']} | {'yes' if h['duplicate'] else 'no'} |")
    return lines + [""]


def _two_syncs_lines(report: dict[str, Any]) -> list[str]:
    t = report.get("local", {}).get("_two_syncs")
    if not t:
        return []
    return ["## The same data in two syncs", "",
            "The held-out seeds written again, the first 150 tickets (with the articles) in one sync and the other "
            "150 in a second, and answered with the shipped hybrid rule (local model). The BM25 scores Milvus Lite "
            "returns depend on how the rows arrived (the mechanism, e.g. statistics kept per segment, was not "
            "examined), so a share does too:", "",
            f"* top-1 ticket unchanged for {t['same_top1']} of {t['queries']} non-article queries; their BM25 share "
            f"moved by {t['share_mean']:.3f} on average, at most {t['share_max']:.3f}, more than 0.05 for "
            f"{t['share_over_005']};",
            f"* duplicate precision / recall: one sync {_f(t['one']['precision'])} / {_f(t['one']['recall'])}, two "
            f"syncs {_f(t['two']['precision'])} / {_f(t['two']['recall'])}.", ""]


def markdown(report: dict[str, Any], held_out: list[int], seconds: float, command: str,
             example: dict[str, Any] | None = None) -> str:
    lines = (_header(held_out, seconds, command) + _shipped_lines(report) + _example_lines(example)
             + _two_syncs_lines(report))
    for mode, configs in report.items():
        lines += _mode_lines(mode, configs, held_out)
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embedders", default="local,fake")
    parser.add_argument("--held-out", default="8,9,10")
    parser.add_argument("--no-doc", action="store_true")
    parser.add_argument("--json", help="also write the raw report here")
    parser.add_argument("--from-json", help="recompute the report from the raw answers of an earlier --json run")
    args = parser.parse_args(argv)
    command = ".venv/bin/python -m bench.retrieval_quality " + " ".join(argv if argv is not None else sys.argv[1:])
    held_out = [int(s) for s in args.held_out.split(",") if s]
    started = time.perf_counter()
    if args.from_json:
        raw = json.loads(Path(args.from_json).read_text())
        example = raw.pop("_example", None)
        report = {mode: {**summarize(mode, {int(seed): (r["items"], r["rows"]) for seed, r in data["_raw"].items()},
                                     held_out), "_two_syncs": data.get("_two_syncs")} for mode, data in raw.items()}
    else:
        folder = tempfile.mkdtemp(prefix="dmz-retrieval-")
        try:
            report = run(args.embedders.split(","), held_out, folder)
            example = issue_example(folder) if "local" in report else None
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    text = markdown(report, held_out, time.perf_counter() - started, command.strip(), example)
    print(text)
    if args.json:
        Path(args.json).write_text(json.dumps({**report, "_example": example}, indent=1, default=str))
    if not args.no_doc:
        DOC.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
