"""Support-form lookups on a collection this connector (or the official one) wrote.

* `similar_open_tickets`: is this case a duplicate of an unsolved ticket of the same organization?
* `relevant_articles`: which help-center articles answer it?

One embedding per submitted text serves both. Hits are grouped by record (one long ticket cannot
fill every slot), filters are built from validated, typed values (no injection through an
organization id), and thresholds keep the tutorial's meaning whatever the metric: they are given
as L2 distances on normalized vectors (Milvus returns squared L2) and compared as similarities,
`similarity = 1 - d / 2` for L2, the score itself for COSINE/IP.

Hybrid retrieval: on a collection with a BM25 full-text field (created by this connector on Milvus
Lite, 2.5+, Zilliz Cloud) each search also runs BM25 on the raw text and Milvus fuses both lists
with a weighted ranker, which ranks; a ticket is decided by its distance lowered by its BM25 share
(HybridRule, measured per embedding family: HYBRID_RULES, docs/retrieval_quality.md). Elsewhere:
dense only.
Every answer says which retrieval it used.

CLI: python -m destination_milvus_zendesk.query "text" --org 123 [--json] [--config config.json]
     python -m destination_milvus_zendesk.query --batch queries.jsonl --config config.json  (JSONL in, JSONL out)
Without --config: MILVUS_URL, MILVUS_TOKEN, OPENAI_API_KEY (and optional MILVUS_COLLECTION).
Imports stay light (no airbyte_cdk, no openai unless configured): a lookup starts in about a second.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
from dataclasses import asdict, dataclass, field
from typing import Any, Iterator, Sequence

from .config import ConnectorConfig, parse_config, read_json_object
from .embedding.base import Embedder
from .embedding.factory import create_embedder
from .errors import ConfigError, ConnectorError
from .milvus_store import DENSE, HYBRID, RECORD_ID, STREAM, MilvusStore, in_filter, literal

ZENDESK_STATUSES = ("new", "open", "pending", "hold", "solved", "closed")
# Zendesk's "unsolved" set: a case is a duplicate of any ticket still being worked on.
DEFAULT_STATUSES = ("new", "open", "pending", "hold")
TUTORIAL_STATUSES = ("new",)  # the tutorial's filter, `status == "new"`
# (duplicate, article) thresholds as squared-L2 distances on unit vectors, per embedding family.
# OpenAI: the tutorial's values. Local (wordllama): F1-optimal on the bundled sample, precision/recall
# 0.95/0.95 for duplicates, 0.86/0.90 for articles (docs/local_model_quality.md). Fake: for tests only.
THRESHOLDS = {"openai": (0.35, 0.362), "azure_openai": (0.35, 0.362), "openai_compatible": (0.35, 0.362),
              "local": (1.25, 1.25), "fake": (0.5, 1.2), "from_field": (0.35, 0.362)}
# Hybrid ranking: Milvus's WeightedRanker on (dense, BM25) with norm_score (chosen on seed 7 of
# bench/retrieval_quality.py: best duplicate F1 and paraphrase top-1). Its fused score ranks, but it
# does not decide: BM25 is squashed by atan (a score of 18 and one of 50 both normalize above 0.96),
# so the decision uses the hit's dense distance and its BM25 share (HybridRule).
HYBRID_WEIGHTS = (0.3, 0.7)


@dataclass(frozen=True)
class HybridRule:
    """Hybrid decisions. A ticket is a likely duplicate when its adjusted distance
    `distance - share_weight * bm25_share` is below `duplicate`. bm25_share (0..1) is the ticket's
    BM25 score for the text divided by the best BM25 score the text gets among all the collection's
    tickets (any organization, any status): a ratio of two scores from the same collection, so it
    does not grow with the collection's size as raw BM25 scores do, and a text whose best full-text
    match is another organization's ticket (or a solved one) gets a low share. The distance is the
    squared L2 distance on unit vectors, as in dense retrieval. A share is relative: in a small
    collection, or for words no ticket uses, the best match anywhere may share only common words
    ("with", "the"), so BM25 never vouches for a hit at `max_distance` or farther (the farthest true
    duplicate the rule was fitted on). Articles are ranked by the fused score and shown when their
    distance is below `article` (BM25 only reorders them)."""
    share_weight: float
    duplicate: float
    article: float
    max_distance: float = 4.0  # squared L2 on unit vectors is at most 4: no cap

    def adjusted(self, distance: float, share: float) -> float:
        return distance - self.share_weight * share

    def passes(self, distance: float, share: float, threshold: float) -> bool:
        return distance < self.max_distance and self.adjusted(distance, share) < threshold


# Per embedding family: share_weight from a logistic regression on (distance, BM25 share), the
# thresholds F1-optimal, max_distance the farthest passing true duplicate, all on the seed-7 sample only; the held-out seeds 8-10 measure them
# (bench/retrieval_quality.py, docs/retrieval_quality.md). Families the benchmark cannot measure
# (OpenAI: never called) keep their dense thresholds on the hybrid's hits: share_weight 0 (hybrid_rule).
HYBRID_RULES = {"local": HybridRule(share_weight=1.373, duplicate=0.44, article=1.261, max_distance=1.408),
                "fake": HybridRule(share_weight=4.918, duplicate=-1.689, article=1.833, max_distance=1.747)}
MAX_CANDIDATES = 200
PASSAGE_CHARS = 280
_API_TICKET_URL = re.compile(r"^(https?://[^/]+)/api/v2/tickets/(\d+)(?:\.json)?$")


class QueryInputError(ValueError):
    """A value a user typed cannot be used (bad organization id, unknown status, empty text)."""


def closeness(similarity: float, l2_threshold: float) -> str:
    """The distance in words, relative to the threshold that decides a match."""
    distance = 2.0 * (1.0 - similarity)  # back to squared L2 on unit vectors
    return closeness_words(distance / l2_threshold if l2_threshold > 0 else float("inf"))


def closeness_adjusted(adjusted: float, threshold: float, share_weight: float) -> str:
    """An adjusted distance in the same words. It is at least -share_weight (a share is at most 1), so
    both are shifted by share_weight: with share_weight 0 this is `closeness` of the distance."""
    span = threshold + share_weight
    return closeness_words((adjusted + share_weight) / span if span > 0 else float("inf"))


def hybrid_rule(family: str, dense_thresholds: tuple[float, float]) -> HybridRule:
    """The family's measured rule, else its dense thresholds on the hybrid's hits (share_weight 0)."""
    return HYBRID_RULES.get(family) or HybridRule(0.0, dense_thresholds[0], dense_thresholds[1])  # no cap


def bm25_shares(scores: Sequence[float], best: float) -> list[float]:
    """Each hit's BM25 score over the best score of the text anywhere (0 when nothing matched), in [0, 1]."""
    return [min(1.0, max(0.0, score / best)) if best > 0 else 0.0 for score in scores]


def closeness_words(ratio: float) -> str:
    """ratio: the hit's distance over the threshold's (at most 1: the hit passes)."""
    if ratio <= 0.5:
        return "nearly the same text"
    if ratio <= 0.8:
        return "very close"
    if ratio <= 1.0:
        return "close"
    if ratio <= 1.15:
        return "somewhat related"
    return "not close"


def agent_url(ticket_id: Any, api_url: Any = None, subdomain: str | None = None) -> str | None:
    """The ticket's page in Zendesk's agent interface: from a configured subdomain, else from the
    ticket's API `url` (https://acme.zendesk.com/api/v2/tickets/35436.json)."""
    if ticket_id is None:
        return None
    if subdomain:
        host = subdomain if "." in subdomain else f"{subdomain}.zendesk.com"
        host = host if host.startswith(("http://", "https://")) else f"https://{host}"
        return f"{host.rstrip('/')}/agent/tickets/{ticket_id}"
    match = _API_TICKET_URL.match(str(api_url or ""))
    return f"{match.group(1)}/agent/tickets/{match.group(2)}" if match else None


def passage_of(text: Any) -> str | None:
    """The matching chunk, on one line, cut at a word near PASSAGE_CHARS."""
    if not isinstance(text, str) or not text.strip():
        return None
    flat = " ".join(text.split())
    if len(flat) <= PASSAGE_CHARS:
        return flat
    return flat[:PASSAGE_CHARS].rsplit(" ", 1)[0] + " ..."


@dataclass
class TicketHit:
    id: Any
    subject: str | None
    description: str | None
    distance: float  # dense distance, whatever the retrieval (hybrid: computed from the hit's vector)
    similarity: float
    duplicate: bool
    status: str | None = None
    updated_at: str | None = None
    url: str | None = None
    passage: str | None = None
    closeness: str = ""
    score: float | None = None  # hybrid: the adjusted distance (HybridRule) the threshold applies to; None: dense
    fused: float | None = None  # hybrid: Milvus's fused score, which ranked the hit
    bm25_share: float | None = None  # hybrid: BM25 score over the text's best BM25 score among all tickets


@dataclass
class ArticleHit:
    id: Any
    title: str | None
    html_url: str | None
    distance: float
    similarity: float
    relevant: bool
    passage: str | None = None
    closeness: str = ""
    score: float | None = None
    fused: float | None = None


@dataclass
class Query:
    """A submitted text and its embedding; `text` None: a bare vector (dense search only)."""
    text: str | None
    vector: list[float]


@dataclass
class Hit:
    """A record's best chunk: its fields, dense distance and similarity, and the hybrid fused score."""
    entity: dict[str, Any]
    distance: float
    similarity: float
    score: float | None = None

    @property
    def rank_key(self) -> float:
        return self.similarity if self.score is None else self.score


@dataclass
class SupportAnswer:
    tickets: list[TicketHit] = field(default_factory=list)
    articles: list[ArticleHit] = field(default_factory=list)
    organization_id: int | None = None
    statuses: list[str] = field(default_factory=list)
    organization_has_tickets: bool | None = None  # False: no ticket of any status (a wrong id?)
    duplicate_threshold: float | None = None  # distances (hybrid: adjusted distances) below it count
    article_threshold: float | None = None
    retrieval: str = DENSE  # "hybrid" (dense + BM25, fused) or "dense"

    @property
    def duplicate(self) -> TicketHit | None:
        return self.tickets[0] if self.tickets and self.tickets[0].duplicate else None

    @property
    def helpful_articles(self) -> list[ArticleHit]:
        return [a for a in self.articles if a.relevant]

    def to_dict(self) -> dict[str, Any]:
        return {"duplicate": asdict(self.duplicate) if self.duplicate else None,
                "tickets": [asdict(t) for t in self.tickets], "articles": [asdict(a) for a in self.articles],
                "organization_id": self.organization_id, "statuses": list(self.statuses),
                "organization_has_tickets": self.organization_has_tickets,
                "duplicate_threshold": self.duplicate_threshold, "article_threshold": self.article_threshold,
                "retrieval": self.retrieval,
                "threshold_kind": "max adjusted distance" if self.retrieval == HYBRID else "max distance"}

    def measure(self, hit: TicketHit | ArticleHit) -> str:
        """What the decision compared, for display: `distance 0.812`, or for a hybrid ticket
        `adjusted distance 0.112 (distance 1.147, BM25 share 0.75)`."""
        if isinstance(hit, TicketHit) and hit.score is not None:
            return f"adjusted distance {hit.score:.3f} (distance {hit.distance:.3f}, BM25 share {hit.bm25_share:.2f})"
        return f"distance {hit.distance:.3f}"


def organization_id_value(value: Any) -> int:
    """Zendesk organization ids are integers; anything else is refused (no string reaches a filter)."""
    if isinstance(value, bool):
        raise QueryInputError("organization id must be an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise QueryInputError(f"organization id must be an integer, got {str(value)[:40]!r}")


def statuses_value(statuses: Sequence[str] | str) -> list[str]:
    """Statuses as a list or comma-separated ("new,open,pending"), validated, duplicates dropped."""
    items = [statuses] if isinstance(statuses, str) else list(statuses)
    chosen = list(dict.fromkeys(part.strip().lower() for item in items for part in str(item).split(",")
                                if part.strip()))
    unknown = [s for s in chosen if s not in ZENDESK_STATUSES]
    if unknown or not chosen:
        raise QueryInputError(f"ticket status must be among {', '.join(ZENDESK_STATUSES)} (comma-separated); "
                              f"got {', '.join(unknown) if unknown else 'none'}")
    return chosen


def similarity_of(distance: float, metric: str | None) -> float:
    """Higher is closer, for every metric."""
    return 1.0 - distance / 2.0 if (metric or "L2") == "L2" else distance


class SupportSearch:
    # A strong read waits until the server's newest timestamp is readable: ~0.2 s per search on a
    # 2.3 server, the whole latency budget of the form. Bounded reads data that is a few seconds old
    # at most, which the form does not notice (tickets arrive through syncs minutes apart).
    consistency_level = "Bounded"
    # ("weighted", (dense weight, BM25 weight)) or ("rrf", k): the benchmark compares them
    fusion: tuple[str, Any] = ("weighted", HYBRID_WEIGHTS)

    def __init__(self, store: MilvusStore, embedder: Embedder, *, family: str, tickets_stream: str = "tickets",
                 articles_stream: str = "articles", duplicate_threshold: float | None = None,
                 article_threshold: float | None = None, zendesk_subdomain: str | None = None,
                 open_per_lookup: bool = False, retrieval: str = "auto") -> None:
        """`open_per_lookup` (Milvus Lite): the file is opened for each lookup and released after it,
        so a sync (or the CLI) can open it between lookups; Milvus Lite lets one process at a time.
        `retrieval`: "auto" (hybrid where the collection has a BM25 field), "dense" or "hybrid";
        thresholds given explicitly are distances (hybrid duplicates: adjusted distances, HybridRule)."""
        self.store = store
        self.embedder = embedder
        self.open_per_lookup = open_per_lookup
        if store.client is None:
            store.connect(create=False)
        try:
            info = store.describe()
        finally:
            if open_per_lookup:
                store.close()
        if info is None:
            raise ConfigError(f"Collection '{store.collection}' does not exist: run a sync first.")
        store.load(info)
        self.info = info
        self.retrieval = chosen_retrieval(retrieval, info.retrieval, store.collection)
        self.rule = hybrid_rule(family, THRESHOLDS.get(family, THRESHOLDS["openai"]))
        default_dup, default_art = default_thresholds(family, self.retrieval)
        self.duplicate_threshold = default_dup if duplicate_threshold is None else duplicate_threshold
        self.article_threshold = default_art if article_threshold is None else article_threshold
        self.tickets_stream = tickets_stream
        self.articles_stream = articles_stream
        self.zendesk_subdomain = zendesk_subdomain or os.environ.get("ZENDESK_SUBDOMAIN") or None
        # Zendesk's `id` is stored as `_id` when the collection's primary key is named `id`
        self.id_field = "_id" if "id" in info.fields else "id"

    @classmethod
    def from_config(cls, config: ConnectorConfig, embedder: Embedder | None = None, **kwargs: Any) -> "SupportSearch":
        store = MilvusStore(config.indexing)
        store.connect(create=False)
        try:
            return cls(store, embedder or create_embedder(config), family=config.embedding.mode, **kwargs)
        except BaseException:
            store.close()
            raise

    def close(self) -> None:
        self.store.close()

    # --- the two lookups ----------------------------------------------------------------------

    def embed(self, text: str) -> list[float]:
        if not text or not text.strip():
            raise QueryInputError("describe the problem first: the text is empty")
        return self.embedder.embed([text.strip()])[0]

    def query_of(self, query: "str | list[float] | Query") -> Query:
        """Text is embedded once; a bare vector has no text, so it is searched densely only."""
        if isinstance(query, Query):
            return query
        if isinstance(query, str):
            return Query(query.strip(), self.embed(query))
        return Query(None, list(query))

    def lookup(self, text: str, organization_id: Any, statuses: Sequence[str] | str = DEFAULT_STATUSES,
               ticket_limit: int = 2, article_limit: int = 5) -> SupportAnswer:
        org = organization_id_value(organization_id)
        wanted = statuses_value(statuses)
        query = self.query_of(text)
        with self._opened():
            tickets = self.similar_open_tickets(query, org, wanted, ticket_limit)
            articles = self.relevant_articles(query, article_limit)
            has_tickets = None
            if not tickets:
                has_tickets = self.store.has_rows(f"{STREAM} == {literal(self.tickets_stream)} and "
                                                  f"organization_id == {literal(org)}")
        return SupportAnswer(tickets, articles, org, wanted, has_tickets, self.duplicate_threshold,
                             self.article_threshold, retrieval=self.retrieval)

    def similar_open_tickets(self, query: "str | list[float] | Query", organization_id: Any,
                             statuses: Sequence[str] | str = DEFAULT_STATUSES, limit: int = 2) -> list[TicketHit]:
        org = organization_id_value(organization_id)
        wanted = statuses_value(statuses)
        query = self.query_of(query)
        expr = (f"{STREAM} == {literal(self.tickets_stream)} and {in_filter('status', wanted)} "
                f"and organization_id == {literal(org)}")
        with self._opened():
            hits = self._search(query, expr, limit, [self.id_field, "subject", "description", "status", "updated_at",
                                                     "url", self.store.cfg.text_field])
            shares = self._shares(query, hits) if self.retrieval == HYBRID else [None] * len(hits)
        out = []
        for h, share in zip(hits, shares):
            duplicate, words, score = self._decide(h, self.duplicate_threshold, share)
            out.append(TicketHit(h.entity.get(self.id_field), h.entity.get("subject"), h.entity.get("description"),
                                 h.distance, h.similarity, duplicate, status=h.entity.get("status"),
                                 updated_at=_text(h.entity.get("updated_at")),
                                 url=agent_url(h.entity.get(self.id_field), h.entity.get("url"), self.zendesk_subdomain),
                                 passage=passage_of(h.entity.get(self.store.cfg.text_field)), closeness=words,
                                 score=score, fused=h.score, bm25_share=share))
        return out

    def relevant_articles(self, query: "str | list[float] | Query", limit: int = 5) -> list[ArticleHit]:
        expr = f"{STREAM} == {literal(self.articles_stream)}"
        hits = self._search(query, expr, limit, [self.id_field, "title", "html_url", self.store.cfg.text_field])
        out = []
        for h in hits:
            relevant, words, _ = self._decide(h, self.article_threshold)
            out.append(ArticleHit(h.entity.get(self.id_field), h.entity.get("title"), h.entity.get("html_url"),
                                  h.distance, h.similarity, relevant,
                                  passage=passage_of(h.entity.get(self.store.cfg.text_field)), closeness=words,
                                  fused=h.score))
        return out

    # --- internals ------------------------------------------------------------------------------

    class _Opened:
        def __init__(self, search: "SupportSearch") -> None:
            self.search = search
            self.opened = False

        def __enter__(self) -> None:
            store = self.search.store
            if store.client is None:
                store.connect(create=False)
                self.opened = True
                info = store.describe()
                if info is None:
                    store.close()
                    raise ConfigError(f"Collection '{store.collection}' does not exist any more: run a sync first.")
                self.search.info = info

        def __exit__(self, *exc: Any) -> None:
            if self.opened and self.search.open_per_lookup:
                self.search.store.close()

    def _opened(self) -> "SupportSearch._Opened":
        return SupportSearch._Opened(self)

    def _decide(self, hit: Hit, threshold: float, share: float | None = None) -> tuple[bool, str, float | None]:
        """(passes, closeness in words, adjusted distance or None). `share` None (dense retrieval, and
        articles): the distance decides. Hybrid tickets: the adjusted distance (HybridRule), in the
        squared-L2 unit of unit vectors whatever the metric."""
        if share is None:
            return hit.similarity >= 1.0 - threshold / 2.0, closeness(hit.similarity, threshold), None
        distance = 2.0 * (1.0 - hit.similarity)
        adjusted = self.rule.adjusted(distance, share)
        words = closeness_adjusted(adjusted, threshold, self.rule.share_weight)
        if distance >= self.rule.max_distance:
            words = "not close"
        return self.rule.passes(distance, share, threshold), words, adjusted

    def _shares(self, query: Query, hits: list[Hit]) -> list[float]:
        """The hits' BM25 shares (HybridRule): their BM25 scores for the text over its best score among
        all tickets. Two BM25 searches; a bare vector (no text) or a row without a record id has share 0."""
        keys = [h.entity.get(RECORD_ID) for h in hits]
        if not query.text or not any(keys):
            return [0.0] * len(hits)
        tickets = f"{STREAM} == {literal(self.tickets_stream)}"
        top = self.store.text_search(query.text, filter_expr=tickets, limit=1, output_fields=[RECORD_ID],
                                     consistency_level=self.consistency_level)
        rows = self.store.text_search(query.text, filter_expr=f"{tickets} and {in_filter(RECORD_ID, [k for k in keys if k])}",
                                      limit=MAX_CANDIDATES, output_fields=[RECORD_ID],
                                      consistency_level=self.consistency_level)
        scores: dict[Any, float] = {}
        for row in rows:  # a record's best chunk
            key = row.get("entity", {}).get(RECORD_ID)
            scores[key] = max(scores.get(key, 0.0), float(row["distance"]))
        best = max([float(top[0]["distance"]) if top else 0.0, *scores.values()])
        return bm25_shares([scores.get(k, 0.0) if k else 0.0 for k in keys], best)

    def _search(self, query: "str | list[float] | Query", expr: str, limit: int, fields: list[str]) -> list[Hit]:
        """Best chunk per record, closest first; widens the search until `limit` records are found."""
        query = self.query_of(query)
        hybrid = self.retrieval == HYBRID and bool(query.text)
        fields = list(dict.fromkeys(fields + [RECORD_ID] + ([self.info.vector_field] if hybrid else [])))
        with self._opened():
            candidates = min(MAX_CANDIDATES, max(limit * 4, 10))
            while True:
                result = self._candidates(query, hybrid, expr, candidates, fields)
                best = group_by_record(result, self.info.metric, self.id_field,
                                       (query.vector, self.info.vector_field) if hybrid else None)
                if len(best) >= limit or len(result) < candidates or candidates >= MAX_CANDIDATES:
                    break
                candidates = min(MAX_CANDIDATES, candidates * 4)
        return sorted(best.values(), key=lambda hit: -hit.rank_key)[:limit]

    def _candidates(self, query: Query, hybrid: bool, expr: str, limit: int, fields: list[str]) -> list[dict]:
        if hybrid:
            return self.store.hybrid_search(query.vector, query.text or "", filter_expr=expr, limit=limit,
                                            output_fields=fields, fusion=self.fusion,
                                            consistency_level=self.consistency_level)
        return self.store.search(query.vector, filter_expr=expr, limit=limit, output_fields=fields,
                                 consistency_level=self.consistency_level)


def group_by_record(result: list[dict[str, Any]], metric: str | None, id_field: str,
                    hybrid: tuple[list[float], str] | None = None) -> dict[Any, Hit]:
    """Each record's best chunk. `hybrid` (query vector, vector field): the rows' `distance` is the
    fused score, and their dense distance is computed from the returned vectors (for display)."""
    best: dict[Any, Hit] = {}
    for row in result:
        entity = row.get("entity", {})
        key = entity.get(RECORD_ID) or entity.get(id_field) or row.get("id")
        if hybrid is None:
            distance = float(row["distance"])
            hit = Hit(entity, distance, similarity_of(distance, metric))
        else:
            distance = dense_distance(hybrid[0], entity.pop(hybrid[1], None), metric)
            hit = Hit(entity, distance, similarity_of(distance, metric), float(row["distance"]))
        if key not in best or hit.rank_key > best[key].rank_key:
            best[key] = hit
    return best


def dense_distance(query: Sequence[float], stored: Sequence[float] | None, metric: str | None) -> float:
    """What the dense search would have returned for this row: squared L2, or the inner product / cosine."""
    if stored is None:
        return float("nan")
    if (metric or "L2") == "L2":
        return float(sum((a - b) * (a - b) for a, b in zip(query, stored)))
    dot = float(sum(a * b for a, b in zip(query, stored)))
    if metric == "COSINE":
        norm = math.sqrt(sum(a * a for a in query) * sum(b * b for b in stored)) or 1.0
        return dot / norm
    return dot


def chosen_retrieval(requested: str, supported: str, collection: str) -> str:
    """auto: what the collection supports; "hybrid" on a collection without BM25 is a config error."""
    if requested in ("auto", "", None):
        return supported
    if requested == HYBRID and supported != HYBRID:
        raise ConfigError(f"Collection '{collection}' has no BM25 full-text field, so hybrid retrieval is not "
                          "possible: use dense, or re-sync into a new collection (docs/milvus-zendesk.md).")
    if requested not in (HYBRID, DENSE):
        raise QueryInputError(f"retrieval must be auto, dense or hybrid, not {requested!r}")
    return requested


def default_thresholds(family: str, retrieval: str) -> tuple[float, float]:
    """The measured thresholds of the family for this retrieval (see HYBRID_RULES)."""
    dense = THRESHOLDS.get(family, THRESHOLDS["openai"])
    if retrieval != HYBRID:
        return dense
    rule = hybrid_rule(family, dense)
    return rule.duplicate, rule.article


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


# --- configuration and CLI ------------------------------------------------------------------------


def config_from_env(collection: str | None = None) -> ConnectorConfig:
    """The tutorial's environment: MILVUS_URL, MILVUS_TOKEN, OPENAI_API_KEY."""
    url = os.environ.get("MILVUS_URL")
    key = os.environ.get("OPENAI_API_KEY")
    if not url or not key:
        raise ConfigError("set MILVUS_URL and OPENAI_API_KEY (and MILVUS_TOKEN if the server needs one), "
                          "or pass --config with the connector's config file")
    token = os.environ.get("MILVUS_TOKEN")
    auth = {"mode": "token", "token": token} if token else {"mode": "no_auth"}
    return parse_config({
        "embedding": {"mode": "openai", "openai_key": key,
                      "model": os.environ.get("OPENAI_EMBEDDING_MODEL", "text-embedding-ada-002")},
        "indexing": {"host": url, "collection": collection or os.environ.get("MILVUS_COLLECTION", "zendesk"),
                     "auth": auth},
    })


def load_config(path: str | None, collection: str | None = None) -> ConnectorConfig:
    if path:
        raw = read_json_object(path)
        if collection:
            raw.setdefault("indexing", {})["collection"] = collection
        return parse_config(raw)
    return config_from_env(collection)


RETRIEVAL_NOTES = {HYBRID: "(searched by meaning and by exact words: dense vectors + BM25 full text, fused)",
                   DENSE: "(searched by meaning only: dense vectors)"}


def render(answer: SupportAnswer, tutorial: bool = False) -> str:
    """The answer as text. Tutorial: its duplicate warning, or 'Submitted!' and articles. Otherwise
    what was found, with links, statuses and reasons, and nothing claimed that did not happen."""
    if tutorial:
        return render_tutorial(answer)
    lines = _duplicate_lines(answer) if answer.duplicate else _new_case_lines(answer)
    helpful = answer.helpful_articles
    if helpful:
        lines.append("Articles that may help:")
        lines += [f"* [{a.title}]({a.html_url})  {a.closeness} [{answer.measure(a)}]" for a in helpful]
    else:
        lines.append("No help-center article is close to this text.")
    lines.append(RETRIEVAL_NOTES[answer.retrieval])
    return "\n".join(lines)


def _duplicate_lines(answer: SupportAnswer) -> list[str]:
    d = answer.duplicate
    lines = [f"Possible duplicate: #{d.id} {d.subject!r} ({d.status or 'status unknown'}, "
             f"updated {d.updated_at or 'unknown'}), {d.closeness} [{answer.measure(d)}]"]
    if d.url:
        lines.append(f"  {d.url}")
    if d.passage:
        lines.append(f"  matching passage: {d.passage}")
    for other in answer.tickets[1:]:
        if other.duplicate:
            lines.append(f"Also similar: #{other.id} {other.subject!r} ({other.status}), {other.closeness}"
                         + (f"  {other.url}" if other.url else ""))
    return lines


def _new_case_lines(answer: SupportAnswer) -> list[str]:
    if answer.organization_has_tickets is False:
        return [f"Organization {answer.organization_id} has no tickets in this collection: check the "
                "organization id."]
    statuses = ", ".join(answer.statuses) or "any"
    lines = [f"No {statuses} ticket of organization {answer.organization_id} matches: this looks like a "
             "new case (nothing was submitted)."]
    if answer.tickets:
        t = answer.tickets[0]
        lines.append(f"  closest: #{t.id} {t.subject!r} ({t.status}), {t.closeness} [{answer.measure(t)}]")
    return lines


def render_tutorial(answer: SupportAnswer) -> str:
    """The tutorial's form as text: the duplicate warning, or 'Submitted!' and articles."""
    lines = []
    if answer.duplicate:
        d = answer.duplicate
        lines.append(f"This case seems very similar to {d.subject} (id #{d.id})  [{answer.measure(d)}]")
    else:
        lines.append("Submitted!")
        helpful = answer.helpful_articles
        if helpful:
            lines.append("We also found some articles that might help you:")
            lines += [f"* [{a.title}]({a.html_url})  [{answer.measure(a)}]" for a in helpful]
        else:
            lines.append("(no article close enough)")
    return "\n".join(lines)


class _Parser(argparse.ArgumentParser):
    """argparse, except that with --json a usage error is a JSON object on stdout too."""

    json_errors = False

    def error(self, message: str) -> Any:  # type: ignore[override]
        if self.json_errors:
            print(json.dumps({"error": f"{message} (see --help)", "kind": "usage"}))
            sys.exit(2)
        super().error(message)


def _error_kind(exc: BaseException) -> str:
    if isinstance(exc, QueryInputError):
        return "input"
    if isinstance(exc, ConfigError):
        return "config"
    return "unavailable"


def _batch_lines(path: str) -> Iterator[tuple[int, str]]:
    handle = sys.stdin if path == "-" else open(path, encoding="utf-8")
    try:
        for number, line in enumerate(handle, 1):
            if line.strip():
                yield number, line
    finally:
        if handle is not sys.stdin:
            handle.close()


def run_batch(search: SupportSearch, path: str, default_statuses: Sequence[str] | str, out: Any = None) -> int:
    """JSONL in ({"text", "org", optional "status", optional "id"}), one JSON answer per line out, in order.
    A bad line gets {"line", "error"} and the batch goes on; the exit code is 1 if any line failed."""
    out = out or sys.stdout
    failed = 0
    for number, line in _batch_lines(path):
        result, ok = _batch_answer(search, number, line, default_statuses)
        failed += not ok
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
        out.flush()
    return 1 if failed else 0


def _batch_answer(search: SupportSearch, number: int, line: str,
                  default_statuses: Sequence[str] | str) -> tuple[dict[str, Any], bool]:
    """(one batch line's answer, True), or ({"line", "error", "kind"} with the line's "id" if any, False)."""
    item: Any = None
    try:
        item = json.loads(line)
        if not isinstance(item, dict):
            raise QueryInputError("each line must be a JSON object with text and org")
        if "org" not in item and "organization_id" not in item:
            raise QueryInputError("missing org (the organization id)")
        answer = search.lookup(str(item.get("text") or ""), item.get("org", item.get("organization_id")),
                               item.get("status") or default_statuses)
        return {"line": number, **({"id": item["id"]} if "id" in item else {}), **answer.to_dict()}, True
    except (QueryInputError, ConnectorError, ValueError) as exc:
        return _batch_error(number, item, exc), False


def _batch_error(number: int, item: Any, exc: Exception) -> dict[str, Any]:
    message = exc.message if isinstance(exc, ConnectorError) else str(exc)
    if isinstance(exc, ValueError) and not isinstance(exc, QueryInputError):
        message = f"not a JSON object: {exc}"
    return {"line": number, **({"id": item["id"]} if isinstance(item, dict) and "id" in item else {}),
            "error": message, "kind": _error_kind(exc) if not isinstance(exc, json.JSONDecodeError) else "input"}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser(json_errors="--json" in argv or "--batch" in argv)
    args = parser.parse_args(argv)
    if args.batch is None and (not args.text or args.org is None):
        parser.error("the text and --org are required (or --batch FILE)")
    return _run(args)


def _parser(json_errors: bool) -> "_Parser":
    parser = _Parser(prog="python -m destination_milvus_zendesk.query",
                     description="Find duplicate unsolved tickets and helpful articles for a support case.")
    parser.json_errors = json_errors
    parser.add_argument("text", nargs="?", help="the customer's description of the problem")
    parser.add_argument("--org", help="the customer's organization id (integer)")
    parser.add_argument("--status", action="append",
                        help="ticket statuses that count as open, comma-separated or repeated "
                             f"(default: {','.join(DEFAULT_STATUSES)}, Zendesk's unsolved tickets; the tutorial: new)")
    parser.add_argument("--config", help="the connector's config JSON (default: MILVUS_URL/MILVUS_TOKEN/OPENAI_API_KEY)")
    parser.add_argument("--collection", help="collection name (overrides the config)")
    parser.add_argument("--zendesk-subdomain", help="for ticket links: acme or acme.zendesk.com (default: from the "
                                                    "tickets' url field, or ZENDESK_SUBDOMAIN)")
    parser.add_argument("--json", action="store_true", help="print JSON (errors too, as {\"error\": ...})")
    parser.add_argument("--batch", metavar="FILE", help="JSONL queries ({\"text\", \"org\", \"status\", \"id\"}; - for "
                                                       "stdin): one JSON answer per line, in one process")
    parser.add_argument("--retrieval", choices=("auto", DENSE, HYBRID), default="auto",
                        help="auto (default): hybrid where the collection has a BM25 full-text field, else dense")
    parser.add_argument("--tutorial", action="store_true",
                        help="the tutorial's behaviour: statuses 'new' only, 'Submitted!' and articles only without "
                             "a duplicate")
    return parser


def _run(args: argparse.Namespace) -> int:
    """One lookup (or a batch) with the parsed arguments; errors as one line (JSON with --json/--batch)."""
    as_json = args.json or args.batch is not None
    search = None
    try:
        statuses = statuses_value(args.status or (TUTORIAL_STATUSES if args.tutorial else DEFAULT_STATUSES))
        search = SupportSearch.from_config(load_config(args.config, args.collection),
                                           zendesk_subdomain=args.zendesk_subdomain, retrieval=args.retrieval)
        if args.batch is not None:
            return run_batch(search, args.batch, statuses)
        answer = search.lookup(args.text, args.org, statuses)
    except (QueryInputError, ConnectorError) as exc:
        message = exc.message if isinstance(exc, ConnectorError) else str(exc)
        return _fail(message, _error_kind(exc), as_json)
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback
        return _fail(f"unexpected {type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}",
                     "unexpected", as_json)
    finally:
        if search is not None:
            search.close()
    print(json.dumps(answer.to_dict(), indent=2, ensure_ascii=False) if args.json
          else render(answer, tutorial=args.tutorial))
    return 0


def _fail(message: str, kind: str, as_json: bool) -> int:
    if as_json:
        print(json.dumps({"error": message, "kind": kind}))
    else:
        print(f"error: {message}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
