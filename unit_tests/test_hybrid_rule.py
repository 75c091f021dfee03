"""The hybrid decision rule and fusion helpers (issue 15): fused scores are not distances."""

from __future__ import annotations

import math

import pytest
from pymilvus import DataType

from destination_milvus_zendesk import query
from destination_milvus_zendesk.milvus_store import BM25_FIELD, DENSE, HYBRID, CollectionInfo
from destination_milvus_zendesk.query import (ArticleHit, Hit, HybridRule, SupportAnswer, TicketHit, chosen_retrieval,
                                              closeness_of_score, decision_score, default_thresholds, dense_distance,
                                              dense_score, group_by_record, hybrid_rule)


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


def test_dense_score_is_milvus_weighted_normalization() -> None:
    assert dense_score(0.0) == 1.0
    assert dense_score(1.0) == pytest.approx(0.5)  # 1 - 2/pi * atan(1)
    assert dense_score(1.25) > dense_score(1.5)
    assert dense_score(0.2, "COSINE") == pytest.approx(0.6)


def test_decision_score_recovers_both_evidences_from_the_fused_score() -> None:
    weights = (0.3, 0.7)
    dense, bm25 = dense_score(0.8), 0.9
    fused = weights[0] * dense + weights[1] * bm25  # what Milvus's weighted ranker returns
    assert decision_score(0.8, fused, HybridRule(1.0, 0, 0), weights) == pytest.approx(dense)
    assert decision_score(0.8, fused, HybridRule(0.0, 0, 0), weights) == pytest.approx(bm25)
    assert decision_score(0.8, fused, HybridRule(0.5, 0, 0), weights) == pytest.approx((dense + bm25) / 2)
    # no BM25 match (the row came from the dense list only): bm25 is 0, not negative
    assert decision_score(0.8, weights[0] * dense, HybridRule(0.0, 0, 0), weights) == pytest.approx(0.0)
    assert decision_score(float("nan"), 0.5, HybridRule(1.0, 0, 0), weights) == 0.0


def test_thresholds_per_family_and_retrieval() -> None:
    assert default_thresholds("local", DENSE) == query.THRESHOLDS["local"]
    local = query.HYBRID_RULES["local"]
    assert default_thresholds("local", HYBRID) == (local.duplicate, local.article)
    # not measurable here (OpenAI is never called): its dense thresholds decide on the hybrid's hits
    rule = hybrid_rule("openai", query.THRESHOLDS["openai"])
    assert rule.alpha == 1.0 and rule.duplicate == pytest.approx(dense_score(0.35))
    assert default_thresholds("openai", HYBRID) == (rule.duplicate, rule.article)
    # a hit at the dense threshold passes exactly as it does in dense retrieval
    assert decision_score(0.35, 0.0, rule) == pytest.approx(rule.duplicate)


def test_closeness_of_score_uses_the_distance_words() -> None:
    assert closeness_of_score(0.9, 0.6) == "nearly the same text"  # (1 - 0.9) / (1 - 0.6) = 0.25
    assert closeness_of_score(0.7, 0.6) == "very close"  # 0.75
    assert closeness_of_score(0.6, 0.6) == "close"
    assert closeness_of_score(0.55, 0.6) == "somewhat related"
    assert closeness_of_score(0.3, 0.6) == "not close"


def test_chosen_retrieval() -> None:
    assert chosen_retrieval("auto", HYBRID, "c") == HYBRID
    assert chosen_retrieval("auto", DENSE, "c") == DENSE
    assert chosen_retrieval(DENSE, HYBRID, "c") == DENSE
    with pytest.raises(query.ConfigError, match="no BM25"):
        chosen_retrieval(HYBRID, DENSE, "c")
    with pytest.raises(query.QueryInputError):
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
    ticket = TicketHit(7, "Charged twice", None, 1.3, 0.35, True, score=0.61, closeness="close")
    article = ArticleHit(9, "Refunds", "u", 1.2, 0.4, True, score=0.58, closeness="close")
    answer = SupportAnswer([ticket], [article], 1, ["new"], None, 0.6, 0.55, retrieval=HYBRID)
    data = answer.to_dict()
    assert data["retrieval"] == "hybrid" and data["threshold_kind"] == "min decision score"
    assert data["duplicate"]["score"] == 0.61
    text = query.render(answer)
    assert "hybrid score 0.610" in text and "BM25" in text
    dense = SupportAnswer([TicketHit(7, "s", None, 0.8, 0.6, True)], [], 1, ["new"], None, 1.25, 1.25)
    assert dense.to_dict()["retrieval"] == "dense" and "distance 0.800" in query.render(dense)
    assert isinstance(Hit({}, 1.0, 0.5).rank_key, float)


def test_a_bare_vector_on_a_hybrid_collection_is_decided_on_the_hybrid_scale() -> None:
    """No text, no BM25: the dense hit is scored as a hybrid hit without BM25 evidence, so the
    hybrid thresholds (scores) are never compared with a distance."""
    search = query.SupportSearch.__new__(query.SupportSearch)
    search.retrieval, search.rule, search.fusion = HYBRID, HybridRule(1.0, 0.469, 0.427), ("weighted", (0.3, 0.7))
    search.info = info(bm25_field=BM25_FIELD)
    near, far = Hit({}, 1.0, 0.5), Hit({}, 1.2, 0.4)  # dense_score: 0.5 and 0.44
    assert search._decide(near, 0.469)[0] and search._decide(near, 0.469)[2] == pytest.approx(dense_score(1.0))
    assert not search._decide(far, 0.469)[0]
    search.retrieval = DENSE
    assert search._decide(far, 1.25)[:2] == (True, "close") and search._decide(far, 1.25)[2] is None
