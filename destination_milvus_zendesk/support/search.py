"""The support-form lookups on a collection this connector (or the official one) wrote.

* `similar_open_tickets`: is this case a duplicate of an unsolved ticket of the same organization?
* `relevant_articles`: which help-center articles answer it?

One embedding per submitted text serves both. Hits are grouped by record (one long ticket cannot
fill every slot). Hybrid retrieval: on a collection with a BM25 full-text field (created by this
connector on Milvus Lite, 2.5+, Zilliz Cloud) each search also runs BM25 on the raw text and Milvus
fuses both lists with a weighted ranker, which ranks; elsewhere: dense only. Every answer says which
retrieval it used.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from typing import Any, Sequence

from ..config import ConnectorConfig
from ..embedding.base import Embedder
from ..embedding.factory import create_embedder
from ..errors import ConfigError
from ..milvus_store import DENSE, HYBRID, RECORD_ID, MilvusStore
from . import filters
from .answer import ArticleHit, SupportAnswer, TicketHit
from .decision import (THRESHOLDS, bm25_shares, closeness, closeness_adjusted, default_thresholds,
                       hybrid_rule)
from .inputs import DEFAULT_STATUSES, QueryInputError, organization_id_value, statuses_value, text_value

# Hybrid ranking: Milvus's WeightedRanker on (dense, BM25) with norm_score (chosen on seed 7 of
# bench/retrieval_quality.py: best duplicate F1 and paraphrase top-1).
HYBRID_WEIGHTS = (0.3, 0.7)
MAX_CANDIDATES = 200
PASSAGE_CHARS = 280
_API_TICKET_URL = re.compile(r"^(https?://[^/]+)/api/v2/tickets/(\d+)(?:\.json)?$")


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
                 retrieval: str = "auto") -> None:
        """`retrieval`: "auto" (hybrid where the collection has a BM25 field), "dense" or "hybrid";
        thresholds given explicitly are distances (hybrid duplicates: adjusted distances, HybridRule)."""
        self.store = store
        self.embedder = embedder
        if store.client is None:
            store.connect(create=False)
        info = store.describe()
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

    def query_of(self, query: "str | list[float] | Query") -> Query:
        """Text is embedded once; a bare vector has no text, so it is searched densely only."""
        if isinstance(query, Query):
            return query
        if isinstance(query, str):
            text = text_value(query)
            return Query(text, self.embedder.embed([text])[0])
        return Query(None, list(query))

    def embed(self, text: str) -> list[float]:
        return self.query_of(text).vector

    def lookup(self, text: str, organization_id: Any, statuses: Sequence[str] | str = DEFAULT_STATUSES,
               ticket_limit: int = 2, article_limit: int = 5) -> SupportAnswer:
        org = organization_id_value(organization_id)
        wanted = statuses_value(statuses)
        query = self.query_of(text)
        tickets = self.similar_open_tickets(query, org, wanted, ticket_limit)
        articles = self.relevant_articles(query, article_limit)
        has_tickets = None
        if not tickets:
            has_tickets = self.store.has_rows(filters.organization_tickets(self.tickets_stream, org))
        return SupportAnswer(tickets, articles, org, wanted, has_tickets, self.duplicate_threshold,
                             self.article_threshold, retrieval=self.retrieval)

    def similar_open_tickets(self, query: "str | list[float] | Query", organization_id: Any,
                             statuses: Sequence[str] | str = DEFAULT_STATUSES, limit: int = 2) -> list[TicketHit]:
        org = organization_id_value(organization_id)
        wanted = statuses_value(statuses)
        query = self.query_of(query)
        expr = filters.open_tickets(self.tickets_stream, org, wanted)
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
        hits = self._search(self.query_of(query), filters.stream(self.articles_stream), limit,
                            [self.id_field, "title", "html_url", self.store.cfg.text_field])
        out = []
        for h in hits:
            relevant, words, _ = self._decide(h, self.article_threshold)
            out.append(ArticleHit(h.entity.get(self.id_field), h.entity.get("title"), h.entity.get("html_url"),
                                  h.distance, h.similarity, relevant,
                                  passage=passage_of(h.entity.get(self.store.cfg.text_field)), closeness=words,
                                  fused=h.score))
        return out

    # --- internals ------------------------------------------------------------------------------

    def _decide(self, hit: Hit, threshold: float, share: float | None = None) -> tuple[bool, str, float | None]:
        """(passes, closeness in words, adjusted distance or None). `share` None (dense retrieval, and
        articles): the distance decides. Hybrid tickets: the adjusted distance (HybridRule)."""
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
        top = self.store.text_search(query.text, filter_expr=filters.stream(self.tickets_stream), limit=1,
                                     output_fields=[RECORD_ID], consistency_level=self.consistency_level)
        rows = self.store.text_search(query.text, filter_expr=filters.records(self.tickets_stream, [k for k in keys if k]),
                                      limit=MAX_CANDIDATES, output_fields=[RECORD_ID],
                                      consistency_level=self.consistency_level)
        scores: dict[Any, float] = {}
        for row in rows:  # a record's best chunk
            key = row.get("entity", {}).get(RECORD_ID)
            scores[key] = max(scores.get(key, 0.0), float(row["distance"]))
        best = max([float(top[0]["distance"]) if top else 0.0, *scores.values()])
        return bm25_shares([scores.get(k, 0.0) if k else 0.0 for k in keys], best)

    def _search(self, query: Query, expr: str, limit: int, fields: list[str]) -> list[Hit]:
        """Best chunk per record, closest first; widens the search until `limit` records are found."""
        hybrid = self.retrieval == HYBRID and bool(query.text)
        fields = list(dict.fromkeys(fields + [RECORD_ID] + ([self.info.vector_field] if hybrid else [])))
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


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
