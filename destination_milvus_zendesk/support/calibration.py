"""Fit one embedding model's rule where it runs, and keep it with the collection.

Distances of different models live on different scales (text-embedding-3-small, a shortened
text-embedding-3-large, an Azure deployment or a local model): a threshold measured for one says
nothing about another. `calibrate` embeds the calibration set shipped with the package
(calibration_set.json: support tickets written for this project, the cases an agent could be handed
about them, help-center articles and questions) with the configured embedder, about three thousand
tokens once, and fits that model's rule (decision.SupportRule) on evidence that does not depend on
the collection: the dense distance, the words shared, and the identifiers. `store_rule` writes it
into a collection property keyed by the model's id (name and dimensions), so that every client of
the collection (the form, the CLI, the demo) decides with the same rule; `stored_rule` reads it
back and says, when there is none for this model, how to make one.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import math
from dataclasses import dataclass
from importlib import resources
from typing import Any, Callable, Sequence

import numpy as np

from ..config import ConnectorConfig, ProcessingConfig
from ..documents import DocumentBuilder
from ..embedding.base import Embedder
from ..errors import ConfigError
from ..schema import SUPPORT_RULE_PROPERTY
from ..tokens import count_tokens
from .decision import (ARTICLE_FEATURES, FEATURE_SIGNS, TICKET_FEATURES, TUTORIAL_RULE, ArticleRule, CaseText, Logistic,
                       SupportRule, TicketRule, article_evidence, ticket_evidence)

# The cuts are probabilities of the fitted model, not searched for on the calibration set: with a few
# dozen same-problem pairs, an F1-optimal cut there moves with each pair. "Very likely the same
# problem": at least even odds; "related": at least one chance in five.
DUPLICATE_PROBABILITY = 0.5
RELATED_PROBABILITY = 0.2
RULE_PROPERTY = SUPPORT_RULE_PROPERTY  # collection property: the SupportRule of the collection's model, as JSON
CALIBRATE_COMMAND = "python -m destination_milvus_zendesk.query --calibrate --config <the connector's config file>"


def _set_text() -> str:
    return (resources.files(__package__) / "calibration_set.json").read_text(encoding="utf-8")


def calibration_set() -> dict[str, Any]:
    return json.loads(_set_text())


def set_version() -> str:
    """A short digest of the calibration set: a rule records the set it was fitted on."""
    return hashlib.sha256(_set_text().encode()).hexdigest()[:12]


# --- the texts, embedded as the connector embeds rows -----------------------------------------------


@dataclass
class Pair:
    """A (case, ticket) or (question, article) pair: its evidence's features and labels."""
    features: dict[str, float]
    same: bool  # the same problem / the article that answers the question
    related: bool  # same topic (tickets); for articles: not a wrong answer (an "also" article)
    capped: bool = False  # identifiers disagree or are unconfirmed (tickets)
    case: int = 0  # which case or question


@dataclass
class Calibration:
    rule: SupportRule
    texts: int
    tokens: int
    tickets: list[Pair]
    articles: list[Pair]


def _row_text(builder: DocumentBuilder, stream: str, record: dict[str, Any]) -> str:
    return builder.build(stream, record, None).text


def calibrate(embedder: Embedder, processing: ProcessingConfig, today: datetime.date | None = None) -> Calibration:
    """Embed the calibration set with `embedder` (rows as the connector builds them from records
    with `processing`'s text fields) and fit its rule."""
    data = calibration_set()
    builder = DocumentBuilder(processing, reserved_names=set())
    groups = _calibration_texts(data, builder)
    texts = [text for group in groups for text in group]
    vectors = np.split(_unit(_embed(embedder, texts)), np.cumsum([len(g) for g in groups[:-1]]))
    ticket_vectors, article_vectors, title_vectors, case_vectors, question_vectors = vectors
    tickets = [t for g in data["groups"] for t in g["tickets"]]
    cases = [c for g in data["groups"] for c in g["cases"]]
    ticket_pairs = _ticket_pairs(data, tickets, cases, ticket_vectors, case_vectors)
    article_pairs = _article_pairs(data, (article_vectors, title_vectors), question_vectors)
    rule = fit_rule(embedder.model_id, embedder.dimensions, ticket_pairs, article_pairs)
    tokens = sum(count_tokens(t) for t in texts)
    day = (today or datetime.date.today()).isoformat()
    rule = SupportRule(rule.model, rule.dimensions, rule.tickets, rule.articles,
                       f"the rule calibrated for this model on {day} ({len(texts)} texts, {tokens:,} tokens)",
                       {**rule.figures, "texts": len(texts), "tokens": tokens, "date": day, "set": set_version()})
    return Calibration(rule, len(texts), tokens, ticket_pairs, article_pairs)


def _calibration_texts(data: dict[str, Any], builder: DocumentBuilder) -> list[list[str]]:
    """[ticket rows, article rows, article titles, cases, questions]: rows as the connector builds them."""
    ticket_rows = [_row_text(builder, "tickets", {"subject": t["subject"], "description": t["description"]})
                   for g in data["groups"] for t in g["tickets"]]
    article_rows = [_row_text(builder, "articles", {"title": a["title"], "body": a["body"]}) for a in data["articles"]]
    if not all(ticket_rows) or not all(article_rows):
        raise ConfigError("Calibration needs the tickets' subject/description and the articles' title/body among "
                          "processing.text_fields (the connector's default).")
    return [ticket_rows, article_rows, [a["title"] for a in data["articles"]],
            [c["text"] for g in data["groups"] for c in g["cases"]], [q["text"] for q in data["questions"]]]


def _embed(embedder: Embedder, texts: list[str]) -> np.ndarray:
    size = max(1, min(embedder.max_inputs, 256))
    out: list[Any] = []
    for start in range(0, len(texts), size):
        out += list(embedder.embed(texts[start:start + size]))
    return np.asarray(out, dtype=np.float64)


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0)


def _distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Squared L2 between unit vectors, rows of `a` against rows of `b`."""
    return np.clip(2.0 - 2.0 * (a @ b.T), 0.0, 4.0)


def _ticket_pairs(data: dict[str, Any], tickets: list[dict[str, Any]], cases: list[dict[str, Any]],
                  ticket_vectors: np.ndarray, case_vectors: np.ndarray) -> list[Pair]:
    group_of = {t["id"]: n for n, g in enumerate(data["groups"]) for t in g["tickets"]}
    case_group = [n for n, g in enumerate(data["groups"]) for _ in g["cases"]]
    distances = _distances(case_vectors, ticket_vectors)
    pool = [t["description"] for t in tickets]
    pairs = []
    for i, case in enumerate(cases):
        read = CaseText.of(case["text"], pool)
        for j, ticket in enumerate(tickets):
            evidence = ticket_evidence(read, ticket["subject"], ticket["description"], float(distances[i, j]))
            pairs.append(Pair(evidence.features(), case["same"] == ticket["id"], case_group[i] == group_of[ticket["id"]],
                              evidence.agreement.conflict or evidence.agreement.unconfirmed, i))
    return pairs


def _article_pairs(data: dict[str, Any], article_vectors: tuple[np.ndarray, np.ndarray],
                   question_vectors: np.ndarray) -> list[Pair]:
    """`article_vectors`: (the articles' rows, their titles alone)."""
    distances = _distances(question_vectors, article_vectors[0])
    title_distances = _distances(question_vectors, article_vectors[1])
    pairs = []
    for i, question in enumerate(data["questions"]):
        read = CaseText.of(question["text"])
        for j, article in enumerate(data["articles"]):
            evidence = article_evidence(read, article["title"], float(distances[i, j]), float(title_distances[i, j]))
            pairs.append(Pair(evidence.features(), question["article"] == article["id"],
                              article["id"] in question.get("also", ()), case=i))
    return pairs


# --- fitting ---------------------------------------------------------------------------------------


def fit_rule(model: str, dimensions: int, tickets: list[Pair], articles: list[Pair]) -> SupportRule:
    """The model's rule from its calibration pairs (see the module's docstring)."""
    ticket_rule, ticket_figures = _ticket_rule(tickets)
    article_rule, article_figures = _article_rule(articles)
    figures = {"duplicate": ticket_figures, "articles": article_figures,
               "pairs": {"tickets": len(tickets), "articles": len(articles)}}
    return SupportRule(model, dimensions, ticket_rule, article_rule, "", figures)


def _ticket_rule(pairs: list[Pair]) -> tuple[TicketRule, dict[str, float]]:
    """The score fitted on the pairs whose identifiers do not decide; the words for distances from
    the medians of the same-problem pairs and of the same-topic ones."""
    usable = [p for p in pairs if not p.capped]
    score = fit_logistic(TICKET_FEATURES, [p.features for p in usable], [p.same for p in usable])
    same = [p.features["distance"] for p in pairs if p.same]
    near = [p.features["distance"] for p in pairs if p.related and not p.same]
    rule = TicketRule(score, DUPLICATE_PROBABILITY, RELATED_PROBABILITY, _median(same), _median(near))
    probabilities = [score.probability(p.features) for p in pairs]
    return rule, _rounded(duplicate_scores(pairs, probabilities, DUPLICATE_PROBABILITY))


def _article_rule(pairs: list[Pair]) -> tuple[ArticleRule, dict[str, float]]:
    """The score and the F1-optimal cut, on the pairs that are right or wrong (not the "also" ones)."""
    judged = [p for p in pairs if not p.related]
    labels = [p.same for p in judged]
    score = fit_logistic(ARTICLE_FEATURES, [p.features for p in judged], labels)
    probabilities = [score.probability(p.features) for p in judged]
    shown = best_cut(probabilities, lambda cut: _pair_f1(labels, probabilities, cut))
    return ArticleRule(score, shown), _rounded(_pair_scores(labels, probabilities, shown))


def fit_logistic(names: Sequence[str], rows: list[dict[str, float]], labels: list[bool]) -> Logistic:
    """A logistic regression (plain gradient descent on standardized features, a little L2, each weight
    kept on its FEATURE_SIGNS side so that a small set cannot teach that being closer counts against),
    returned on the raw features. Deterministic: the same pairs give the same rule."""
    x = np.array([[row[name] for name in names] for row in rows], dtype=np.float64)
    y = np.array(labels, dtype=np.float64)
    if not len(y) or y.min() == y.max():
        raise ConfigError("The calibration pairs hold only one kind of answer: the calibration set is broken.")
    mean, std = x.mean(axis=0), x.std(axis=0)
    std = np.where(std > 1e-9, std, 1.0)
    z = np.hstack([(x - mean) / std, np.ones((len(x), 1))])
    signs = np.array([FEATURE_SIGNS[name] for name in names] + [0.0])
    w = np.zeros(z.shape[1])
    for _ in range(4000):
        p = 1.0 / (1.0 + np.exp(-np.clip(z @ w, -60, 60)))
        w -= 0.5 * (z.T @ (p - y) / len(y) + 0.001 * np.r_[w[:-1], 0.0])
        w = np.where(signs * w < 0, 0.0, w)
    weights = w[:-1] / std
    bias = float(w[-1] - np.sum(w[:-1] * mean / std))
    return Logistic(tuple(names), tuple(round(float(v), 6) for v in weights), round(bias, 6))


def best_cut(probabilities: list[float], f1: Callable[[float], float]) -> float:
    """The cut on p with the best F1: between two neighbouring p values, in the widest run of
    optimal cuts, at its middle in logit space (p values crowd near 0 and 1)."""
    values = sorted(set(probabilities))
    if len(values) < 2:
        return 0.5
    cuts = [(a + b) / 2 for a, b in zip(values, values[1:])]  # cuts[n] lies between values[n] and values[n + 1]
    scores = [f1(c) for c in cuts]
    best = max(scores)
    runs: list[list[int]] = []
    for n, score in enumerate(scores):
        if score >= best - 1e-12:
            if runs and runs[-1][-1] == n - 1:
                runs[-1].append(n)
            else:
                runs.append([n])
    run = max(runs, key=lambda r: _logit(values[r[-1] + 1]) - _logit(values[r[0]]))
    low, high = _logit(values[run[0]]), _logit(values[run[-1] + 1])
    return round(1.0 / (1.0 + math.exp(-(low + high) / 2)), 6)


def _logit(p: float) -> float:
    p = min(max(p, 1e-12), 1 - 1e-12)
    return math.log(p / (1 - p))


def duplicate_scores(pairs: list[Pair], probabilities: list[float], cut: float) -> dict[str, float]:
    """As a lookup decides: a flagged pair passes the cut and its identifiers agree; precision over the
    flagged pairs, recall over the cases that have a same ticket."""
    flagged = [p for p, q in zip(pairs, probabilities) if q >= cut and not p.capped]
    right = sum(p.same for p in flagged)
    found = {p.case for p in flagged if p.same}
    wanted = {p.case for p in pairs if p.same}
    precision = right / len(flagged) if flagged else 1.0
    recall = len(found) / len(wanted) if wanted else 1.0
    return {"precision": precision, "recall": recall, "f1": _f1(precision, recall), "cut": cut}


def _pair_scores(labels: list[bool], probabilities: list[float], cut: float) -> dict[str, float]:
    passed = [label for label, q in zip(labels, probabilities) if q >= cut]
    precision = sum(passed) / len(passed) if passed else 1.0
    recall = sum(passed) / sum(labels) if any(labels) else 1.0
    return {"precision": precision, "recall": recall, "f1": _f1(precision, recall), "cut": cut}


def _pair_f1(labels: list[bool], probabilities: list[float], cut: float) -> float:
    return _pair_scores(labels, probabilities, cut)["f1"]


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def _median(values: list[float]) -> float:
    return round(float(np.median(values)), 6) if values else 4.0


def _rounded(scores: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 4) for k, v in scores.items()}


# --- kept with the collection ----------------------------------------------------------------------


def store_rule(store: Any, rule: SupportRule) -> None:
    """The rule becomes a property of the collection (MilvusStore.set_property)."""
    store.set_property(RULE_PROPERTY, rule.to_json())


def stored_rule(properties: dict[str, str], model: str, dimensions: int) -> tuple[SupportRule | None, str]:
    """(the rule for this model, None) from the collection's properties, or the tutorial's rule for
    its model; (None, why) when the threshold is unmeasured for this model."""
    raw = properties.get(RULE_PROPERTY)
    if raw:
        try:
            rule = SupportRule.from_json(raw)
        except (ValueError, KeyError, TypeError):
            return None, f"the collection's support rule cannot be read: calibrate again ({CALIBRATE_COMMAND})"
        if rule.fits(model, dimensions):
            return rule, ""
        return None, (f"the collection's support rule was calibrated for {rule.model}, not {model}: "
                      f"calibrate again ({CALIBRATE_COMMAND})")
    if TUTORIAL_RULE.fits(model, dimensions):
        return TUTORIAL_RULE, ""
    return None, (f"the duplicate threshold is unmeasured for embedding model {model}: calibrate it "
                  f"({CALIBRATE_COMMAND})")


def calibration_note(properties: dict[str, str], model: str, dimensions: int) -> str:
    """One sentence for `check`: which rule the support lookups use on this collection, or how to make one."""
    if model.startswith("from_field:"):
        return ("Support lookups: embedding mode from_field cannot embed what an agent types; point the form and "
                "the CLI at a config with the model that made the vectors, then calibrate it.")
    rule, why = stored_rule(properties, model, dimensions)
    if rule is None:
        return f"Support lookups: {why[0].upper()}{why[1:]}."
    return f"Support lookups: duplicates and articles are decided by {rule.origin}."


def run_calibration(config: ConnectorConfig, store: Any, embedder: Embedder) -> Calibration:
    """Calibrate the configured model and store its rule with the (existing) collection."""
    calibration = calibrate(embedder, config.processing)
    store_rule(store, calibration.rule)
    return calibration
