"""When a hit counts: a likely duplicate ticket, an article worth showing.

Thresholds are given as L2 distances on normalized vectors (Milvus returns squared L2) and compared
as similarities, `similarity = 1 - d / 2` for L2, the score itself for COSINE/IP. Hybrid retrieval:
Milvus's fused score ranks, but it does not decide (BM25 is squashed by atan: a score of 18 and one
of 50 both normalize above 0.96), so a ticket is decided by its dense distance lowered by its BM25
share (HybridRule).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from ..milvus_store import HYBRID

# (duplicate, article) thresholds as squared-L2 distances on unit vectors, per embedding family.
# OpenAI: the tutorial's values. Local (wordllama): F1-optimal on the bundled sample, precision/recall
# 0.95/0.95 for duplicates, 0.86/0.90 for articles (docs/local_model_quality.md). Fake: for tests only.
THRESHOLDS = {"openai": (0.35, 0.362), "azure_openai": (0.35, 0.362), "openai_compatible": (0.35, 0.362),
              "local": (1.25, 1.25), "fake": (0.5, 1.2), "from_field": (0.35, 0.362)}


@dataclass(frozen=True)
class HybridRule:
    """Hybrid decisions. A ticket is a likely duplicate when its adjusted distance
    `distance - share_weight * bm25_share` is below `duplicate`. bm25_share (0..1) is the ticket's
    BM25 score for the text divided by the best BM25 score the text gets among all the collection's
    tickets (any organization, any status). BM25 never vouches for a hit at `max_distance` or farther
    (the farthest true duplicate the rule was fitted on). Articles are shown when their distance is
    below `article` (BM25 only reorders them)."""
    share_weight: float
    duplicate: float
    article: float
    max_distance: float = 4.0  # squared L2 on unit vectors is at most 4: no cap

    def adjusted(self, distance: float, share: float) -> float:
        return distance - self.share_weight * share

    def passes(self, distance: float, share: float, threshold: float) -> bool:
        return distance < self.max_distance and self.adjusted(distance, share) < threshold


# Per embedding family, fitted on seed 7 of bench/retrieval_quality.py (docs/retrieval_quality.md).
HYBRID_RULES = {"local": HybridRule(share_weight=1.373, duplicate=0.44, article=1.261, max_distance=1.408),
                "fake": HybridRule(share_weight=4.918, duplicate=-1.689, article=1.833, max_distance=1.747)}


def closeness(similarity: float, l2_threshold: float) -> str:
    """The distance in words, relative to the threshold that decides a match."""
    distance = 2.0 * (1.0 - similarity)  # back to squared L2 on unit vectors
    return closeness_words(distance / l2_threshold if l2_threshold > 0 else float("inf"))


def closeness_adjusted(adjusted: float, threshold: float, share_weight: float) -> str:
    """An adjusted distance in the same words (both shifted by share_weight: a share is at most 1)."""
    span = threshold + share_weight
    return closeness_words((adjusted + share_weight) / span if span > 0 else float("inf"))


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


def hybrid_rule(family: str, dense_thresholds: tuple[float, float]) -> HybridRule:
    """The family's measured rule, else its dense thresholds on the hybrid's hits (share_weight 0)."""
    return HYBRID_RULES.get(family) or HybridRule(0.0, dense_thresholds[0], dense_thresholds[1])


def bm25_shares(scores: Sequence[float], best: float) -> list[float]:
    """Each hit's BM25 score over the best score of the text anywhere (0 when nothing matched), in [0, 1]."""
    return [min(1.0, max(0.0, score / best)) if best > 0 else 0.0 for score in scores]


def default_thresholds(family: str, retrieval: str) -> tuple[float, float]:
    """The measured thresholds of the family for this retrieval (see HYBRID_RULES)."""
    dense = THRESHOLDS.get(family, THRESHOLDS["openai"])
    if retrieval != HYBRID:
        return dense
    rule = hybrid_rule(family, dense)
    return rule.duplicate, rule.article
