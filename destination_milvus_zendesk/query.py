"""Support-form lookups on a collection this connector (or the official one) wrote.

* `similar_open_tickets`: is this case a duplicate of an open ticket of the same organization?
* `relevant_articles`: which help-center articles answer it?

One embedding per submitted text serves both. Hits are grouped by record (one long ticket cannot
fill every slot), filters are built from validated, typed values (no injection through an
organization id), and thresholds keep the tutorial's meaning whatever the metric: they are given
as L2 distances on normalized vectors (Milvus returns squared L2) and compared as similarities,
`similarity = 1 - d / 2` for L2, the score itself for COSINE/IP.

CLI: python -m destination_milvus_zendesk.query "text" --org 123 [--json] [--config config.json]
Without --config: MILVUS_URL, MILVUS_TOKEN, OPENAI_API_KEY (and optional MILVUS_COLLECTION).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

from .config import ConnectorConfig, parse_config
from .embedding.base import Embedder
from .embedding.factory import create_embedder
from .errors import ConfigError, ConnectorError
from .milvus_store import RECORD_ID, STREAM, MilvusStore, in_filter, literal

ZENDESK_STATUSES = ("new", "open", "pending", "hold", "solved", "closed")
DEFAULT_STATUSES = ("new",)
# (duplicate, article) thresholds as squared-L2 distances on unit vectors, per embedding family.
# OpenAI: the tutorial's values. Local (wordllama): F1-optimal on the bundled sample, precision/recall
# 0.95/0.95 for duplicates, 0.86/0.90 for articles (docs/local_model_quality.md). Fake: for tests only.
THRESHOLDS = {"openai": (0.35, 0.362), "azure_openai": (0.35, 0.362), "openai_compatible": (0.35, 0.362),
              "local": (1.25, 1.25), "fake": (0.5, 1.2), "from_field": (0.35, 0.362)}
MAX_CANDIDATES = 200


class QueryInputError(ValueError):
    """A value a user typed cannot be used (bad organization id, unknown status, empty text)."""


@dataclass
class TicketHit:
    id: Any
    subject: str | None
    description: str | None
    distance: float
    similarity: float
    duplicate: bool


@dataclass
class ArticleHit:
    id: Any
    title: str | None
    html_url: str | None
    distance: float
    similarity: float
    relevant: bool


@dataclass
class SupportAnswer:
    tickets: list[TicketHit] = field(default_factory=list)
    articles: list[ArticleHit] = field(default_factory=list)

    @property
    def duplicate(self) -> TicketHit | None:
        return self.tickets[0] if self.tickets and self.tickets[0].duplicate else None

    @property
    def helpful_articles(self) -> list[ArticleHit]:
        return [a for a in self.articles if a.relevant]

    def to_dict(self) -> dict[str, Any]:
        return {"duplicate": asdict(self.duplicate) if self.duplicate else None,
                "tickets": [asdict(t) for t in self.tickets], "articles": [asdict(a) for a in self.articles]}


def organization_id_value(value: Any) -> int:
    """Zendesk organization ids are integers; anything else is refused (no string reaches a filter)."""
    if isinstance(value, bool):
        raise QueryInputError("organization id must be an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise QueryInputError(f"organization id must be an integer, got {str(value)[:40]!r}")


def statuses_value(statuses: Sequence[str]) -> list[str]:
    chosen = [s.strip().lower() for s in statuses]
    unknown = [s for s in chosen if s not in ZENDESK_STATUSES]
    if unknown or not chosen:
        raise QueryInputError(f"ticket status must be among {', '.join(ZENDESK_STATUSES)}; got {unknown or 'none'}")
    return chosen


def similarity_of(distance: float, metric: str | None) -> float:
    """Higher is closer, for every metric."""
    return 1.0 - distance / 2.0 if (metric or "L2") == "L2" else distance


class SupportSearch:
    # A strong read waits until the server's newest timestamp is readable: ~0.2 s per search on a
    # 2.3 server, the whole latency budget of the form. Bounded reads data that is a few seconds old
    # at most, which the form does not notice (tickets arrive through syncs minutes apart).
    consistency_level = "Bounded"

    def __init__(self, store: MilvusStore, embedder: Embedder, *, family: str, tickets_stream: str = "tickets",
                 articles_stream: str = "articles", duplicate_threshold: float | None = None,
                 article_threshold: float | None = None) -> None:
        self.store = store
        self.embedder = embedder
        info = store.describe()
        if info is None:
            raise ConfigError(f"Collection '{store.collection}' does not exist: run a sync first.")
        store.load(info)
        self.info = info
        default_dup, default_art = THRESHOLDS.get(family, THRESHOLDS["openai"])
        self.duplicate_threshold = default_dup if duplicate_threshold is None else duplicate_threshold
        self.article_threshold = default_art if article_threshold is None else article_threshold
        self.tickets_stream = tickets_stream
        self.articles_stream = articles_stream
        # Zendesk's `id` is stored as `_id` when the collection's primary key is named `id`
        self.id_field = "_id" if "id" in info.fields else "id"

    @classmethod
    def from_config(cls, config: ConnectorConfig, **kwargs: Any) -> "SupportSearch":
        store = MilvusStore(config.indexing)
        store.connect()
        return cls(store, create_embedder(config), family=config.embedding.mode, **kwargs)

    # --- the two lookups ----------------------------------------------------------------------

    def embed(self, text: str) -> list[float]:
        if not text or not text.strip():
            raise QueryInputError("describe the problem first: the text is empty")
        return self.embedder.embed([text.strip()])[0]

    def lookup(self, text: str, organization_id: Any, statuses: Sequence[str] = DEFAULT_STATUSES,
               ticket_limit: int = 2, article_limit: int = 5) -> SupportAnswer:
        vector = self.embed(text)
        return SupportAnswer(self.similar_open_tickets(vector, organization_id, statuses, ticket_limit),
                             self.relevant_articles(vector, article_limit))

    def similar_open_tickets(self, query: str | list[float], organization_id: Any,
                             statuses: Sequence[str] = DEFAULT_STATUSES, limit: int = 2) -> list[TicketHit]:
        org = organization_id_value(organization_id)
        wanted = statuses_value(statuses)
        expr = (f"{STREAM} == {literal(self.tickets_stream)} and {in_filter('status', wanted)} "
                f"and organization_id == {literal(org)}")
        hits = self._search(query, expr, limit, [self.id_field, "subject", "description"])
        return [TicketHit(h.get(self.id_field), h.get("subject"), h.get("description"), d, s,
                          self._closer(s, self.duplicate_threshold)) for h, d, s in hits]

    def relevant_articles(self, query: str | list[float], limit: int = 5) -> list[ArticleHit]:
        expr = f"{STREAM} == {literal(self.articles_stream)}"
        hits = self._search(query, expr, limit, [self.id_field, "title", "html_url"])
        return [ArticleHit(h.get(self.id_field), h.get("title"), h.get("html_url"), d, s,
                           self._closer(s, self.article_threshold)) for h, d, s in hits]

    # --- internals ------------------------------------------------------------------------------

    def _closer(self, similarity: float, l2_threshold: float) -> bool:
        return similarity >= 1.0 - l2_threshold / 2.0

    def _search(self, query: str | list[float], expr: str, limit: int,
                fields: list[str]) -> list[tuple[dict[str, Any], float, float]]:
        """Best chunk per record, closest first; widens the search until `limit` records are found."""
        vector = self.embed(query) if isinstance(query, str) else query
        metric = self.info.metric
        candidates = min(MAX_CANDIDATES, max(limit * 4, 10))
        while True:
            result = self.store.call(lambda n=candidates: self.store.client.search(  # type: ignore[union-attr]
                self.store.collection, data=[vector], anns_field=self.info.vector_field, filter=expr,
                limit=n, output_fields=list(dict.fromkeys(fields + [RECORD_ID])),
                consistency_level=self.consistency_level, timeout=self.store.cfg.timeout_seconds)[0], "searching")
            best: dict[Any, tuple[dict[str, Any], float, float]] = {}
            for hit in result:
                entity = hit.get("entity", {})
                distance = float(hit["distance"])
                key = entity.get(RECORD_ID) or entity.get(self.id_field) or hit.get("id")
                score = similarity_of(distance, metric)
                if key not in best or score > best[key][2]:
                    best[key] = (entity, distance, score)
            if len(best) >= limit or len(result) < candidates or candidates >= MAX_CANDIDATES:
                break
            candidates = min(MAX_CANDIDATES, candidates * 4)
        return sorted(best.values(), key=lambda item: -item[2])[:limit]


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
        with open(path, encoding="utf-8") as handle:
            raw = json.load(handle)
        if collection:
            raw.setdefault("indexing", {})["collection"] = collection
        return parse_config(raw)
    return config_from_env(collection)


def render(answer: SupportAnswer) -> str:
    """The support form's answer as text: the duplicate warning, or 'Submitted!' and articles."""
    lines = []
    if answer.duplicate:
        d = answer.duplicate
        lines.append(f"This case seems very similar to {d.subject} (id #{d.id})  [distance {d.distance:.3f}]")
    else:
        lines.append("Submitted!")
        helpful = answer.helpful_articles
        if helpful:
            lines.append("We also found some articles that might help you:")
            lines += [f"* [{a.title}]({a.html_url})  [distance {a.distance:.3f}]" for a in helpful]
        else:
            lines.append("(no article close enough)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m destination_milvus_zendesk.query",
                                     description="Find duplicate open tickets and helpful articles for a support case.")
    parser.add_argument("text", help="the customer's description of the problem")
    parser.add_argument("--org", required=True, help="the customer's organization id (integer)")
    parser.add_argument("--status", action="append", help="ticket statuses that count as open (default: new)")
    parser.add_argument("--config", help="the connector's config JSON (default: MILVUS_URL/MILVUS_TOKEN/OPENAI_API_KEY)")
    parser.add_argument("--collection", help="collection name (overrides the config)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    try:
        search = SupportSearch.from_config(load_config(args.config, args.collection))
        answer = search.lookup(args.text, args.org, args.status or DEFAULT_STATUSES)
    except (QueryInputError, ConnectorError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(answer.to_dict(), indent=2, ensure_ascii=False) if args.json else render(answer))
    return 0


if __name__ == "__main__":
    sys.exit(main())
