"""The searches the support lookups send (dense, BM25, hybrid with Milvus's fusion): they change
with retrieval, not with how the connector writes rows."""

from __future__ import annotations

from typing import Any

from pymilvus import AnnSearchRequest, RRFRanker, WeightedRanker

from ..errors import ConfigError
from ..schema import CollectionInfo
from .collection import CollectionManager
from .errors import call


class MilvusSearch:
    """Searches of one described collection, over the collection manager's client."""

    def __init__(self, collection: CollectionManager) -> None:
        self.collection = collection
        self.name = collection.name
        self.timeout = collection.cfg.timeout_seconds

    def search(self, vector: Any, *, filter_expr: str, limit: int, output_fields: list[str],
               consistency_level: str = "Strong") -> list[dict[str, Any]]:
        """Nearest rows to one vector among those matching `filter_expr`: [{distance, entity, id}]."""
        client, info = self.collection.client, self.collection.described()
        return call(lambda: client.search(
            self.name, data=[vector], anns_field=info.vector_field, filter=filter_expr, limit=limit,
            output_fields=output_fields, consistency_level=consistency_level, timeout=self.timeout)[0], "searching")

    def hybrid_search(self, vector: Any, text: str, *, filter_expr: str, limit: int, output_fields: list[str],
                      fusion: tuple[str, Any], consistency_level: str = "Strong") -> list[dict[str, Any]]:
        """Nearest rows by the vector and by BM25 on `text`, both among rows matching `filter_expr`,
        fused by Milvus: `fusion` ("weighted", (w_dense, w_bm25)) with normalized scores, or ("rrf", k).
        [{distance: fused score (higher is closer), entity, id}]."""
        client = self.collection.client
        requests, ranker = _hybrid_request(self.collection.described(), vector, text, filter_expr, limit, fusion)
        return call(lambda: client.hybrid_search(
            self.name, requests, ranker, limit=limit, output_fields=output_fields,
            consistency_level=consistency_level, timeout=self.timeout)[0], "searching (hybrid)")

    def text_search(self, text: str, *, filter_expr: str, limit: int, output_fields: list[str],
                    consistency_level: str = "Strong") -> list[dict[str, Any]]:
        """Rows by BM25 on `text` alone (collections with a BM25 field), best first:
        [{distance: BM25 score (>= 0, higher is closer), entity, id}]. Milvus Lite 3.2 reports the score
        negated (ordered as a distance); a BM25 score is never negative, so its magnitude is the score."""
        client, info = self.collection.client, self.collection.described()
        if info.bm25_field is None:
            raise ConfigError(f"Collection '{self.name}' has no BM25 full-text field: only dense search works.")
        rows = call(lambda: client.search(
            self.name, data=[text], anns_field=info.bm25_field, search_params={"metric_type": "BM25"},
            filter=filter_expr, limit=limit, output_fields=output_fields, consistency_level=consistency_level,
            timeout=self.timeout)[0], "searching (BM25)")
        hits = [{**dict(row), "distance": abs(float(row["distance"]))} for row in rows]
        return sorted(hits, key=lambda row: -row["distance"])


def _hybrid_request(info: CollectionInfo, vector: Any, text: str, filter_expr: str, limit: int,
                    fusion: tuple[str, Any]) -> tuple[list[AnnSearchRequest], Any]:
    """The two searches of a hybrid search (dense, BM25 on the raw text) and the ranker that fuses them."""
    if info.bm25_field is None:
        raise ConfigError(f"Collection '{info.name}' has no BM25 full-text field: only dense search works.")
    requests = [AnnSearchRequest([vector], info.vector_field, {"metric_type": info.metric or "L2"}, limit,
                                 expr=filter_expr),
                AnnSearchRequest([text], info.bm25_field, {"metric_type": "BM25"}, limit, expr=filter_expr)]
    kind, param = fusion
    return requests, RRFRanker(int(param)) if kind == "rrf" else WeightedRanker(*param, norm_score=True)
