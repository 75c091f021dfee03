"""Candidates, their order and what the answer shows, with an in-memory stand-in for Milvus's search
(pure logic: the integration tests search a real collection)."""

from __future__ import annotations

import math

import pytest

from destination_milvus_zendesk.errors import ConfigError
from destination_milvus_zendesk.schema import BM25_FIELD, DENSE, HYBRID, CollectionInfo, Kind
from destination_milvus_zendesk.support import filters
from destination_milvus_zendesk.support.decision import (RELATED, SAME, ArticleRule, Logistic, SupportRule,
                                                         TicketRule)
from destination_milvus_zendesk.support.inputs import QueryInputError
from destination_milvus_zendesk.support.search import (Query, SupportSearch, agent_url, chosen_retrieval,
                                                       dense_distance, dense_distances, group_by_record,
                                                       passage_of)

RULE = SupportRule("test:model:2", 2,
                   TicketRule(Logistic(("distance", "overlap"), (-4.0, 2.0), 4.0), 0.5, 0.2, close=0.6, far=1.3),
                   ArticleRule(Logistic(("title_distance", "title_overlap"), (-4.0, 3.0), 2.0), 0.5), "a test rule")


def info(**extra: object) -> CollectionInfo:
    fields = {"id": Kind.VARCHAR, "vector": Kind.FLOAT_VECTOR, "text": Kind.VARCHAR,
              "status": Kind.VARCHAR, "organization_id": Kind.INT64, BM25_FIELD: Kind.SPARSE_FLOAT_VECTOR}
    values = dict(name="c", pk_field="id", pk_type=Kind.VARCHAR, auto_id=False, pk_max_length=512,
                  vector_field="vector", vector_type=Kind.FLOAT_VECTOR, dimensions=2, dynamic=True, fields=fields,
                  field_params={}, metric="L2", properties={"dmz.metadata_columns": f"status,organization_id,{BM25_FIELD}"})
    values.update(extra)
    return CollectionInfo(**values)  # type: ignore[arg-type]


def test_function_output_is_never_writable_nor_a_metadata_column() -> None:
    hybrid = info(function_outputs=frozenset({BM25_FIELD}), bm25_field=BM25_FIELD)
    assert BM25_FIELD not in hybrid.writable_fields
    assert BM25_FIELD not in hybrid.metadata_columns  # even when a property lists it
    assert BM25_FIELD in hybrid.reserved_names  # a record field of that name is renamed, not stored there
    assert hybrid.retrieval == HYBRID and info().retrieval == DENSE


def test_chosen_retrieval() -> None:
    assert chosen_retrieval("auto", HYBRID, "c") == HYBRID
    assert chosen_retrieval("auto", DENSE, "c") == DENSE
    assert chosen_retrieval(DENSE, HYBRID, "c") == DENSE
    with pytest.raises(ConfigError, match="no BM25"):
        chosen_retrieval(HYBRID, DENSE, "c")
    with pytest.raises(QueryInputError):
        chosen_retrieval("sparse", HYBRID, "c")


def test_hybrid_hits_are_grouped_by_fused_score_with_their_dense_distance() -> None:
    rows = [{"id": "a#0", "distance": 0.40, "entity": {"_ab_record_id": "a", "vector": [1.0, 0.0]}},
            {"id": "a#1", "distance": 0.70, "entity": {"_ab_record_id": "a", "vector": [0.0, 1.0]}},
            {"id": "b#0", "distance": 0.55, "entity": {"_ab_record_id": "b", "vector": [0.6, 0.8]}}]
    best = group_by_record(rows, "L2", "_id", ([1.0, 0.0], "vector"))
    assert best["a"].score == 0.70 and best["a"].distance == pytest.approx(2.0)  # chunk a#1: |(1,0)-(0,1)|^2
    assert best["b"].score == 0.55 and "vector" not in best["b"].entity
    dense = group_by_record([{"id": "x", "distance": 0.5, "entity": {"_ab_record_id": "x"}}], "L2", "_id")
    assert dense["x"].score is None and dense["x"].similarity == pytest.approx(0.75)
    cosine = group_by_record([{"id": "x", "distance": 0.75, "entity": {"_ab_record_id": "x"}}], "COSINE", "_id")
    assert cosine["x"].l2 == pytest.approx(0.5)  # decisions always see squared L2 on unit vectors


def test_dense_distance_per_metric() -> None:
    assert dense_distance([1.0, 0.0], [0.0, 1.0], "L2") == pytest.approx(2.0)
    assert dense_distance([1.0, 0.0], [2.0, 0.0], "COSINE") == pytest.approx(1.0)
    assert dense_distance([1.0, 0.0], [2.0, 0.0], "IP") == pytest.approx(2.0)
    assert math.isnan(dense_distance([1.0], None, "L2"))
    # every row at once, a missing vector left NaN in its place
    many = dense_distances([1.0, 0.0], [[0.0, 1.0], None, [0.0, 0.0]], "COSINE")
    assert many[0] == pytest.approx(0.0) and math.isnan(many[1]) and many[2] == pytest.approx(0.0)


def test_passages_and_links() -> None:
    assert passage_of("description: We were charged twice.\nsubject: Charged twice",
                      ["description", "subject"]) == "We were charged twice. Charged twice"
    assert passage_of("  ") is None and passage_of("word " * 100).endswith(" ...")
    assert agent_url(7, "https://acme.zendesk.com/api/v2/tickets/7.json") == "https://acme.zendesk.com/agent/tickets/7"
    assert agent_url(7, None, "acme") == "https://acme.zendesk.com/agent/tickets/7"
    assert agent_url(7) is None


class Store:
    """MilvusStore's search as the lookups use it: rows of the stream the filter names, nearest first."""

    def __init__(self, rows: dict[str, list[dict]], articles_with_organization: bool = False) -> None:
        self.rows = rows
        self.cfg = type("Cfg", (), {"text_field": "text"})()
        self.articles_with_organization = articles_with_organization
        self.asked: list[str] = []

    def has_rows(self, expr: str) -> bool:
        self.asked.append(expr)
        return self.articles_with_organization and "organization_id != -1" in expr

    def search(self, vector, *, filter_expr, limit, output_fields, consistency_level="Strong"):
        stream = "articles" if '"articles"' in filter_expr else "tickets"
        return sorted(self.rows[stream], key=lambda r: r["distance"])[:limit]


class Embedder:
    model_id, dimensions = "test:model:2", 2

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def embed(self, texts):
        self.calls.append(list(texts))
        return [[1.0, 0.0] if "charged" in t.lower() else [0.0, 1.0] for t in texts]


def search_over(rows: dict[str, list[dict]], rule: SupportRule | None = RULE, store: Store | None = None,
                collection: CollectionInfo | None = None) -> SupportSearch:
    search = SupportSearch.__new__(SupportSearch)
    search.store, search.embedder, search.info = store or Store(rows), Embedder(), collection or info()
    search.retrieval, search.rule, search.unmeasured = DENSE, rule, "" if rule else "unmeasured: calibrate"
    search.tickets_stream, search.articles_stream, search.id_field = "tickets", "articles", "_id"
    search.zendesk_subdomain, search._titles, search._pool = None, {}, None
    search.articles_filter = filters.articles("articles", search._articles_in_one_partition())
    return search


def test_articles_are_searched_in_their_own_partition_when_none_has_an_organization() -> None:
    partitioned = info(partition_key="organization_id")
    assert search_over({}, collection=partitioned).articles_filter == (
        '_ab_stream == "articles" and organization_id == -1')
    # an article with an organization lives in that organization's partition: no pruning then
    store = Store({}, articles_with_organization=True)
    assert search_over({}, store=store, collection=partitioned).articles_filter == '_ab_stream == "articles"'
    assert store.asked == ['_ab_stream == "articles" and organization_id != -1']
    # not partitioned (the tutorial's collection, or one created before partitioning): nothing to ask
    plain = Store({})
    assert search_over({}, store=plain).articles_filter == '_ab_stream == "articles"' and plain.asked == []


def ticket(record: str, distance: float, subject: str, description: str) -> dict:
    return {"id": record, "distance": distance, "entity": {"_ab_record_id": record, "_id": int(record),
                                                           "subject": subject, "description": description,
                                                           "status": "open", "text": description}}


TICKETS = [ticket("1", 0.70, "Billing question", "Where do I find invoices?"),  # nearest, but shares no word
           ticket("2", 0.90, "Charged twice", "We were charged twice this month."),
           ticket("3", 1.00, "E-2202 with PayPal", "PayPal payments fail with E-2202, charged twice.")]


def test_tickets_come_in_the_order_of_their_verdicts_not_of_the_search() -> None:
    hits = search_over({"tickets": TICKETS}).similar_open_tickets(Query("I was charged twice", [1.0, 0.0]), 1, limit=3)
    assert [(h.id, h.verdict) for h in hits][:2] == [(2, SAME), (3, SAME)]
    assert all(a.probability >= b.probability for a, b in zip(hits, hits[1:]) if a.verdict == b.verdict)
    assert hits[0].reasons[0] == "shared terms: charged, twice"


def test_a_twin_is_related_and_comes_after_the_same_problem() -> None:
    twin = search_over({"tickets": TICKETS}).similar_open_tickets(Query("charged twice, E-2201", [1.0, 0.0]), 1,
                                                                 limit=3)
    verdicts = {h.id: h for h in twin}
    assert verdicts[3].verdict == RELATED and "different error code (E-2202)" in verdicts[3].reasons
    assert verdicts[3].identifiers == {"same": [], "different": ["E-2202"], "missing": []}
    assert [h.verdict for h in twin] == sorted((h.verdict for h in twin), key=[SAME, RELATED].index)


def test_articles_are_judged_on_their_titles_embedded_once_per_process() -> None:
    articles = [{"id": "a", "distance": 0.5, "entity": {"_ab_record_id": "a", "_id": 11, "title": "Invoices explained",
                                                        "html_url": "u11", "text": "charged twice? see invoices"}},
                {"id": "b", "distance": 0.9, "entity": {"_ab_record_id": "b", "_id": 12,
                                                        "title": "Why was I charged twice?", "html_url": "u12",
                                                        "text": "refunds"}}]
    search = search_over({"articles": articles})
    shown = search.relevant_articles(Query("I was charged twice", [1.0, 0.0]))
    assert [a.id for a in shown] == [12] and shown[0].reasons == ["title matches: charged, twice"]
    search.relevant_articles(Query("I was charged twice", [1.0, 0.0]))
    assert search.embedder.calls == [["Invoices explained", "Why was I charged twice?"]]  # cached afterwards


def test_without_a_rule_tickets_sharing_words_are_listed_as_related() -> None:
    answer_tickets = search_over({"tickets": TICKETS}, rule=None).similar_open_tickets(
        Query("I was charged twice", [1.0, 0.0]), 1, limit=3)
    assert [h.id for h in answer_tickets] == [2, 3] and {h.verdict for h in answer_tickets} == {RELATED}
    assert all(h.probability is None for h in answer_tickets)
