"""The hybrid decision rule and fusion helpers (issue 15): fused scores are not distances."""

from __future__ import annotations

import math

import pytest
from pymilvus import DataType

from destination_milvus_zendesk.errors import ConfigError
from destination_milvus_zendesk.support import decision
from destination_milvus_zendesk.support.answer import ArticleHit, SupportAnswer, TicketHit, render
from destination_milvus_zendesk.support.inputs import QueryInputError
from destination_milvus_zendesk.support.search import Hit, Query, SupportSearch, chosen_retrieval, dense_distance, group_by_record
from destination_milvus_zendesk.milvus_store import BM25_FIELD, DENSE, HYBRID, CollectionInfo
from destination_milvus_zendesk.support.decision import (HybridRule, bm25_shares, closeness, closeness_adjusted,
                                                         default_thresholds, hybrid_rule)


def info(**extra: object) -> CollectionInfo:
    fields = {"id": DataType.VARCHAR, "vector": DataType.FLOAT_VECTOR, "text": DataType.VARCHAR,
              "status": DataType.VARCHAR, "organization_id": DataType.INT64, BM25_FIELD: DataType.SPARSE_FLOAT_VECTOR}
    values = dict(name="c", pk_field="id", pk_type=DataType.VARCHAR, auto_id=False, pk_max_length=512,
                  vector_field="vector", vector_type=DataType.FLOAT_VECTOR, dimensions=4, dynamic=True, fields=fields,
                  field_params={}, metric="L2", properties={"dmz.metadata_columns": f"status,organization_id,{BM25_FIELD}"})
    values.update(extra)
    return CollectionInfo(**values)  # type: ignore[arg-type]


def test_function_output_is_never_writable_nor_a_metadata_column() -> None:
    hybrid = info(function_outputs=frozenset({BM25_FIELD}), bm25_field=BM25_FIELD)
    assert BM25_FIELD not in hybrid.writable_fields
    assert BM25_FIELD not in hybrid.metadata_columns  # even when a property lists it
    assert BM25_FIELD in hybrid.reserved_names  # a record field of that name is renamed, not stored there
    assert hybrid.retrieval == HYBRID
    assert info().retrieval == DENSE


def test_adjusted_distance_lowers_the_distance_by_the_bm25_share() -> None:
    rule = HybridRule(share_weight=1.5, duplicate=0.4, article=1.2)
    assert rule.adjusted(1.1, 1.0) == pytest.approx(-0.4)  # best full-text match anywhere: a big step closer
    assert rule.adjusted(1.1, 0.0) == pytest.approx(1.1)  # no shared words: the distance alone
    assert rule.adjusted(0.9, 0.6) < rule.adjusted(0.9, 0.2)


def test_bm25_shares_are_ratios_to_the_best_score_and_do_not_scale_with_it() -> None:
    assert bm25_shares([18.0, 9.0, 0.0], 18.0) == [1.0, 0.5, 0.0]
    assert bm25_shares([36.0, 18.0, 0.0], 36.0) == [1.0, 0.5, 0.0]  # every score twice as high: same shares
    assert bm25_shares([5.0], 0.0) == [0.0]  # nothing matched anywhere
    assert bm25_shares([20.0], 18.0) == [1.0]  # never above 1 (the best may be read a moment earlier)


def test_thresholds_per_family_and_retrieval() -> None:
    assert default_thresholds("local", DENSE) == decision.THRESHOLDS["local"]
    local = decision.HYBRID_RULES["local"]
    assert default_thresholds("local", HYBRID) == (local.duplicate, local.article)
    assert local.share_weight > 0  # measured: BM25 evidence moves the decision
    # not measurable here (OpenAI is never called): its dense thresholds decide on the hybrid's hits
    rule = hybrid_rule("openai", decision.THRESHOLDS["openai"])
    assert rule == HybridRule(0.0, 0.35, 0.362)
    assert rule.adjusted(0.3, 1.0) == 0.3  # the share changes nothing: the dense decision
    assert default_thresholds("openai", HYBRID) == (0.35, 0.362)


def test_closeness_of_an_adjusted_distance_uses_the_distance_words() -> None:
    # share_weight 0: exactly the dense words
    for distance in (0.1, 0.3, 0.5, 0.7):
        assert closeness_adjusted(distance, 0.5, 0.0) == closeness(1.0 - distance / 2.0, 0.5)
    assert closeness_adjusted(-1.0, 0.4, 1.0) == "nearly the same text"  # (-1 + 1) / 1.4 = 0
    assert closeness_adjusted(0.35, 0.4, 1.0) == "close"  # 1.35 / 1.4
    assert closeness_adjusted(0.5, 0.4, 1.0) == "somewhat related"  # 1.5 / 1.4
    assert closeness_adjusted(2.0, 0.4, 1.0) == "not close"


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


def test_dense_distance_per_metric() -> None:
    assert dense_distance([1.0, 0.0], [0.0, 1.0], "L2") == pytest.approx(2.0)
    assert dense_distance([1.0, 0.0], [2.0, 0.0], "COSINE") == pytest.approx(1.0)
    assert dense_distance([1.0, 0.0], [2.0, 0.0], "IP") == pytest.approx(2.0)
    assert math.isnan(dense_distance([1.0], None, "L2"))


def test_answer_says_which_retrieval_and_what_decided() -> None:
    ticket = TicketHit(7, "Charged twice", None, 1.3, 0.35, True, score=0.1, closeness="close", fused=0.8,
                       bm25_share=0.8)
    article = ArticleHit(9, "Refunds", "u", 1.2, 0.4, True, closeness="close", fused=0.7)
    answer = SupportAnswer([ticket], [article], 1, ["new"], None, 0.4, 1.25, retrieval=HYBRID)
    data = answer.to_dict()
    assert data["retrieval"] == "hybrid" and data["threshold_kind"] == "max adjusted distance"
    assert data["duplicate"]["score"] == 0.1 and data["duplicate"]["bm25_share"] == 0.8
    text = render(answer)
    assert "adjusted distance 0.100 (distance 1.300, BM25 share 0.80)" in text and "BM25" in text
    assert "distance 1.200" in text  # articles: their distance decides
    dense = SupportAnswer([TicketHit(7, "s", None, 0.8, 0.6, True)], [], 1, ["new"], None, 1.25, 1.25)
    assert dense.to_dict()["retrieval"] == "dense" and "distance 0.800" in render(dense)
    assert isinstance(Hit({}, 1.0, 0.5).rank_key, float)


class FakeStore:
    """text_search as MilvusStore's: BM25 scores of the tickets stream, best first, filtered by record id."""

    def __init__(self, scores: dict[str, float]) -> None:
        self.scores = scores
        self.calls: list[str] = []

    def text_search(self, text, *, filter_expr, limit, output_fields, consistency_level="Strong"):
        self.calls.append(filter_expr)
        keys = [k for k in self.scores if "_ab_record_id in" not in filter_expr or f'"{k}"' in filter_expr]
        rows = [{"distance": self.scores[k], "entity": {"_ab_record_id": k}} for k in keys]
        return sorted(rows, key=lambda r: -r["distance"])[:limit]


def hybrid_search(rule: HybridRule, store: object = None) -> SupportSearch:
    search = SupportSearch.__new__(SupportSearch)
    search.retrieval, search.rule, search.store = HYBRID, rule, store
    search.tickets_stream, search.consistency_level = "tickets", "Bounded"
    search.info = info(bm25_field=BM25_FIELD)
    return search


def test_shares_are_over_the_best_bm25_score_among_all_tickets() -> None:
    # "other" is another organization's ticket: the best full-text match anywhere
    store = FakeStore({"other": 20.0, "t1": 15.0, "t2": 5.0})
    search = hybrid_search(HybridRule(1.0, 0.5, 1.2), store)
    hits = [Hit({"_ab_record_id": "t1"}, 0.9, 0.55), Hit({"_ab_record_id": "t2"}, 1.0, 0.5), Hit({}, 1.1, 0.45)]
    assert search._shares(Query("text", [1.0]), hits) == [0.75, 0.25, 0.0]  # no record id: no share
    assert len(store.calls) == 2 and "_ab_record_id in" not in store.calls[0] and '"t1"' in store.calls[1]
    assert search._shares(Query(None, [1.0]), hits) == [0.0, 0.0, 0.0]  # a bare vector has no text


def test_hybrid_tickets_pass_on_the_adjusted_distance_articles_on_the_distance() -> None:
    search = hybrid_search(HybridRule(share_weight=1.0, duplicate=0.5, article=1.2))
    hit = Hit({}, 1.2, 0.4)  # distance 1.2
    passes, words, adjusted = search._decide(hit, 0.5, share=0.9)
    assert passes and adjusted == pytest.approx(0.3) and words == closeness_adjusted(0.3, 0.5, 1.0)
    assert not search._decide(hit, 0.5, share=0.5)[0]  # adjusted 0.7
    assert not search._decide(hit, 0.5, share=0.0)[0]  # a bare vector: the distance alone
    assert search._decide(hit, 1.25) == (True, "close", None)  # articles (no share): the dense decision


def test_bm25_never_vouches_for_a_hit_beyond_max_distance() -> None:
    """A share is relative: an unrelated hit sharing only "with" can be the best BM25 match anywhere."""
    rule = HybridRule(share_weight=1.0, duplicate=0.5, article=1.2, max_distance=1.4)
    assert rule.passes(1.35, 1.0, 0.5) and not rule.passes(1.45, 1.0, 0.5)
    search = hybrid_search(rule)
    passes, words, adjusted = search._decide(Hit({}, 1.9, 0.05), 0.5, share=1.0)  # distance 1.9
    assert not passes and words == "not close" and adjusted == pytest.approx(0.9)
