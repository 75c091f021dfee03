"""The support-form lookups on a collection this connector (or the official one) wrote.

* `similar_open_tickets`: is this case the same problem as an unsolved ticket of the organization?
* `relevant_articles`: which help-center articles answer it?

Milvus finds the candidates: by meaning, and where the collection has a BM25 full-text field
(created by this connector on Milvus Lite, 2.5+, Zilliz Cloud) also by exact words, fused by
Milvus's weighted ranker; elsewhere by meaning only. The decision is not Milvus's: each candidate
is judged by the collection's rule for the embedding model (decision.py, stored by calibration.py)
on its dense distance, the words it shares with the case and their identifiers, and the answer
lists candidates in the order of those verdicts. One embedding per submitted text serves both
lookups; the titles of candidate articles are embedded once per process.
"""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ..config import ConnectorConfig
from ..embedding.base import Embedder
from ..embedding.factory import create_embedder
from ..errors import ConfigError
from ..milvus import MilvusStore
from ..schema import DENSE, HYBRID, PARTITION_KEY, RECORD_ID
from . import filters
from .answer import ArticleHit, RuleInfo, SupportAnswer, TicketHit
from .calibration import stored_rule
from .decision import (NONE, SAME, CaseText, SupportRule, TicketEvidence, Verdict, article_evidence, judge_article,
                       judge_ticket, ticket_evidence)
from .inputs import DEFAULT_STATUSES, QueryInputError, organization_id_value, statuses_value, text_value

# Hybrid ranking: Milvus's WeightedRanker on (dense, BM25) with norm_score; it only finds candidates.
HYBRID_WEIGHTS = (0.3, 0.7)
MAX_CANDIDATES = 200
TICKET_CANDIDATES = 10  # records judged per lookup, at least (the rule re-orders them)
ARTICLE_CANDIDATES = 40  # articles judged per lookup: their titles decide, their chunks only find them
PASSAGE_CHARS = 280
_API_TICKET_URL = re.compile(r"^(https?://[^/]+)/api/v2/tickets/(\d+)(?:\.json)?$")


@dataclass
class Query:
    """A submitted text and its embedding; `text` None: a bare vector (no words to compare)."""
    text: str | None
    vector: list[float]


@dataclass
class Hit:
    """A record's best chunk: its fields, its dense distance and similarity, and the hybrid fused score."""
    entity: dict[str, Any]
    distance: float
    similarity: float
    score: float | None = None

    @property
    def rank_key(self) -> float:
        return self.similarity if self.score is None else self.score

    @property
    def l2(self) -> float:
        """The distance as squared L2 on unit vectors, whatever the collection's metric."""
        return 2.0 * (1.0 - self.similarity)


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


def passage_of(text: Any, field_names: Sequence[str] = ()) -> str | None:
    """The matching chunk, on one line, cut at a word near PASSAGE_CHARS, without the "description: "
    the connector puts before each field's text."""
    if not isinstance(text, str) or not text.strip():
        return None
    prefixes = tuple(f"{name}: " for name in field_names)
    flat = " ".join(" ".join(line[len(next((p for p in prefixes if line.startswith(p)), "")):]
                             for line in text.splitlines()).split())
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

    def __init__(self, store: MilvusStore, embedder: Embedder, *, tickets_stream: str = "tickets",
                 articles_stream: str = "articles", zendesk_subdomain: str | None = None, retrieval: str = "auto",
                 rule: SupportRule | None = None) -> None:
        """`retrieval`: "auto" (hybrid where the collection has a BM25 field), "dense" or "hybrid".
        `rule`: decide with this rule instead of the one stored with the collection (benchmarks)."""
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
        if rule is None:
            self.rule, self.unmeasured = stored_rule(info.properties, embedder.model_id, embedder.dimensions)
        else:
            self.rule, self.unmeasured = rule, ""
        self.tickets_stream = tickets_stream
        self.articles_stream = articles_stream
        self.zendesk_subdomain = zendesk_subdomain or os.environ.get("ZENDESK_SUBDOMAIN") or None
        # Zendesk's `id` is stored as `_id` when the collection's primary key is named `id`
        self.id_field = "_id" if "id" in info.fields else "id"
        self._titles: dict[str, np.ndarray] = {}  # article title -> its embedding made unit length, for this process
        self._pool: ThreadPoolExecutor | None = None  # the article search runs beside the ticket search
        self.articles_filter = filters.articles(articles_stream, self._articles_in_one_partition())

    field_names: Sequence[str] = ("description", "subject", "body", "title")  # text fields, as rows prefix them

    @classmethod
    def from_config(cls, config: ConnectorConfig, embedder: Embedder | None = None, **kwargs: Any) -> "SupportSearch":
        store = MilvusStore(config.indexing)
        store.connect(create=False)
        try:
            search = cls(store, embedder or create_embedder(config), **kwargs)
        except BaseException:
            store.close()
            raise
        search.field_names = tuple(config.processing.text_fields)
        return search

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        self.store.close()

    @property
    def rule_info(self) -> RuleInfo:
        if self.rule is None:
            return RuleInfo(self.embedder.model_id, None, self.unmeasured)
        return RuleInfo(self.rule.model, self.rule.origin, "", self.rule.tickets.duplicate, self.rule.tickets.related,
                        self.rule.articles.shown)

    # --- the two lookups ----------------------------------------------------------------------

    def query_of(self, query: "str | Sequence[float] | Query") -> Query:
        """Text is embedded once; a bare vector has no text, so only its distance is judged."""
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
        # two independent searches: Milvus answers both at once, so the lookup waits for the slower only
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dmz-articles")
        articles_future = self._pool.submit(self.relevant_articles, query, article_limit)
        try:
            tickets = self.similar_open_tickets(query, org, wanted, ticket_limit)
        finally:
            articles = articles_future.result()
        has_tickets = None
        if not tickets:
            has_tickets = self.store.has_rows(filters.organization_tickets(self.tickets_stream, org))
        return SupportAnswer(tickets, articles, org, wanted, has_tickets, retrieval=self.retrieval,
                             rule=self.rule_info)

    def similar_open_tickets(self, query: "str | Sequence[float] | Query", organization_id: Any,
                             statuses: Sequence[str] | str = DEFAULT_STATUSES, limit: int = 2) -> list[TicketHit]:
        """The organization's candidates in these statuses, judged, best verdict first: those the
        rule calls the same problem or related (without a rule: those sharing words or identifiers)."""
        judged = self.judged_tickets(query, organization_id, statuses, max(limit, TICKET_CANDIDATES))
        return [self._ticket_hit(h, verdict, evidence) for verdict, evidence, h in judged if verdict.level != NONE][:limit]

    def judged_tickets(self, query: "str | Sequence[float] | Query", organization_id: Any,
                       statuses: Sequence[str] | str, candidates: int) -> list[tuple[Verdict, TicketEvidence, Hit]]:
        """Every candidate Milvus found (up to `candidates`), with its verdict and evidence, in the order
        of the verdicts (then of the search): what the answer lists, and what the benchmark measures."""
        org = organization_id_value(organization_id)
        query = self.query_of(query)
        hits = self._search(query, filters.open_tickets(self.tickets_stream, org, statuses_value(statuses)), candidates,
                            [self.id_field, "subject", "description", "status", "updated_at", "url",
                             self.store.cfg.text_field])
        case = CaseText.of(query.text or "", [str(h.entity.get("description") or "") for h in hits])
        judged = []
        for n, h in enumerate(hits):
            evidence = ticket_evidence(case, str(h.entity.get("subject") or ""), str(
                h.entity.get("description") or h.entity.get(self.store.cfg.text_field) or ""), h.l2,
                h.entity.get(self.id_field))
            judged.append((judge_ticket(self.rule, evidence), n, h, evidence))
        judged.sort(key=lambda item: (-item[0].rank[0], -item[0].rank[1], item[1]))
        return [(verdict, evidence, h) for verdict, _, h, evidence in judged]

    def relevant_articles(self, query: "str | Sequence[float] | Query", limit: int = 5) -> list[ArticleHit]:
        """The articles the rule shows for this case, best first."""
        query = self.query_of(query)
        hits = self._search(query, self.articles_filter, max(limit, ARTICLE_CANDIDATES),
                            [self.id_field, "title", "html_url", self.store.cfg.text_field])
        case = CaseText.of(query.text or "")
        titles = self._title_distances(query, [str(h.entity.get("title") or "") for h in hits])
        judged = []
        for n, (h, title_distance) in enumerate(zip(hits, titles)):
            evidence = article_evidence(case, str(h.entity.get("title") or ""), h.l2, title_distance)
            verdict = judge_article(self.rule, evidence)
            judged.append((verdict, n, h, evidence.title_distance))
        judged.sort(key=lambda item: (-item[0].rank[0], -item[0].rank[1], item[1]))
        return [ArticleHit(h.entity.get(self.id_field), h.entity.get("title"), h.entity.get("html_url"),
                           shown=verdict.level == SAME, reasons=list(verdict.reasons), probability=verdict.probability,
                           distance=h.l2, title_distance=title_distance,
                           passage=passage_of(h.entity.get(self.store.cfg.text_field), self.field_names), fused=h.score)
                for verdict, _, h, title_distance in judged if verdict.level == SAME][:limit]

    # --- internals ------------------------------------------------------------------------------

    def _ticket_hit(self, h: Hit, verdict: Verdict, evidence: TicketEvidence) -> TicketHit:
        agreement = evidence.agreement
        return TicketHit(
            h.entity.get(self.id_field), h.entity.get("subject"), h.entity.get("description"), verdict.level,
            list(verdict.reasons), verdict.probability, h.l2, evidence.overlap,
            status=h.entity.get("status"), updated_at=_text(h.entity.get("updated_at")),
            url=agent_url(h.entity.get(self.id_field), h.entity.get("url"), self.zendesk_subdomain),
            passage=passage_of(h.entity.get(self.store.cfg.text_field), self.field_names), fused=h.score,
            identifiers={"same": [str(i) for i in agreement.same],
                         "different": [str(theirs[0]) for _, theirs in agreement.different if theirs],
                         "missing": [str(i) for i in agreement.missing]})

    def _articles_in_one_partition(self) -> bool:
        """Partitioned by organization, with no article carrying one (Zendesk's help-center articles have
        none): asked once per process; an article with an organization keeps the search unpruned."""
        if self.info.partition_key != PARTITION_KEY or PARTITION_KEY not in self.info.metadata_columns:
            return False
        return not self.store.has_rows(filters.articles_with_organization(self.articles_stream))

    def _title_distances(self, query: Query, titles: list[str]) -> list[float]:
        """Squared L2 between the case and each title, both made unit length (2 - 2 cos); titles new to
        this process are embedded in one request and kept. A bare vector is compared as is."""
        missing = list(dict.fromkeys(t for t in titles if t and t not in self._titles))
        if missing:
            self._titles.update(zip(missing, map(_unit, self.embedder.embed(missing))))
        known = [t for t in titles if t]
        if not known:
            return [4.0] * len(titles)
        cosines = iter((np.stack([self._titles[t] for t in known]) @ _unit(query.vector)).tolist())
        return [max(0.0, 2.0 - 2.0 * next(cosines)) if t else 4.0 for t in titles]

    def _search(self, query: Query, expr: str, limit: int, fields: list[str]) -> list[Hit]:
        """Best chunk per record, in retrieval order; widens the search until `limit` records are found."""
        hybrid = self.retrieval == HYBRID and bool(query.text)
        fields = list(dict.fromkeys(fields + [RECORD_ID] + ([self.info.vector_field] if hybrid else [])))
        candidates = min(MAX_CANDIDATES, max(limit * 2, 10))  # rows: most records have one or two chunks
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
                    hybrid: tuple[Sequence[float], str] | None = None) -> dict[Any, Hit]:
    """Each record's best chunk. `hybrid` (query vector, vector field): the rows' `distance` is the
    fused score, and their dense distance is computed from the returned vectors (all rows at once)."""
    entities = [row.get("entity", {}) for row in result]
    if hybrid is None:
        dense = [float(row["distance"]) for row in result]
    else:
        dense = dense_distances(hybrid[0], [entity.pop(hybrid[1], None) for entity in entities], metric)
    best: dict[Any, Hit] = {}
    for row, entity, distance in zip(result, entities, dense):
        key = entity.get(RECORD_ID) or entity.get(id_field) or row.get("id")
        hit = Hit(entity, distance, similarity_of(distance, metric), None if hybrid is None else float(row["distance"]))
        if key not in best or hit.rank_key > best[key].rank_key:
            best[key] = hit
    return best


def dense_distances(query: Sequence[float], stored: Sequence[Sequence[float] | None], metric: str | None) -> list[float]:
    """What the dense search would have returned for each row: squared L2, or the inner product /
    cosine; NaN for a row without its vector."""
    present = [n for n, vector in enumerate(stored) if vector is not None]
    out = [float("nan")] * len(stored)
    if not present:
        return out
    a = np.asarray(query, dtype=np.float64)
    b = np.asarray([stored[n] for n in present], dtype=np.float64)
    if (metric or "L2") == "L2":
        values = np.sum((b - a) ** 2, axis=1)
    else:
        values = b @ a
        if metric == "COSINE":
            norms = np.linalg.norm(b, axis=1) * float(np.linalg.norm(a))
            values = values / np.where(norms == 0.0, 1.0, norms)
    for n, value in zip(present, values.tolist()):
        out[n] = float(value)
    return out


def dense_distance(query: Sequence[float], stored: Sequence[float] | None, metric: str | None) -> float:
    return dense_distances(query, [stored], metric)[0]


def _unit(vector: Sequence[float]) -> np.ndarray:
    """The vector made unit length (a zero vector stays zero)."""
    x = np.asarray(vector, dtype=np.float64)
    return x / (float(np.linalg.norm(x)) or 1.0)


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
