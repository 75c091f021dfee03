"""Does a ticket describe the same problem as the case, is an article worth showing, and why.

Each decision uses evidence that depends only on the embedding model and the two texts, so a rule
fitted on a small calibration set (calibration.py) holds on any collection:

* the dense distance (squared L2 on unit vectors, whatever the collection's metric), whose scale
  is the model's own: this is why every model needs its own rule;
* the share of the case's content words the ticket also has (terms.py);
* identifiers (identifiers.py): an error code, invoice, version, vendor... present in both and
  different means "not the same problem"; one only the case has leaves it unconfirmed. Both cap
  the verdict at "related", whatever the score.

Milvus's BM25 scores are left out on purpose: they depend on what the collection holds. Hybrid
retrieval still finds the candidates. A rule is a logistic score over the evidence and two cuts
(very likely the same problem; related), plus the article score and its cut; `SupportRule` is one
model's rule, stored with the collection as JSON.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, Mapping

from .identifiers import Agreement, Identifier, compare, extract, extract_messages, messages_in, of_ticket
from .terms import Words, coverage, shared_words

SAME, RELATED, NONE = "same", "related", "none"
LEVELS = {SAME: 2, RELATED: 1, NONE: 0}
# strong identifiers: sharing one is evidence of the same problem (a shared platform or vendor is not)
STRONG_KINDS = frozenset({"error code", "HTTP status", "invoice", "order", "ticket", "version", "amount", "endpoint",
                          "error message"})
TICKET_FEATURES = ("distance", "overlap", "subject_overlap", "same_identifier")
# the direction each feature may move a score: closer, more shared words or identifiers never count against
FEATURE_SIGNS = {"distance": -1, "title_distance": -1, "overlap": 1, "subject_overlap": 1, "same_identifier": 1,
                 "title_overlap": 1, "title_coverage": 1}
# The article's chunks are left out of its score: the calibration articles are short, real ones are
# long (a 1000-token chunk is far from any question), so a weight fitted on one does not hold on the
# other. Titles are short in both.
ARTICLE_FEATURES = ("title_distance", "title_overlap", "title_coverage")


@dataclass(frozen=True)
class Logistic:
    """p = sigmoid(bias + sum(weight * feature)), on the raw features named in `features`."""
    features: tuple[str, ...]
    weights: tuple[float, ...]
    bias: float

    def probability(self, values: Mapping[str, float]) -> float:
        z = self.bias + sum(w * float(values[name]) for name, w in zip(self.features, self.weights))
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))


@dataclass(frozen=True)
class TicketRule:
    score: Logistic
    duplicate: float  # p at or above: very likely the same problem (unless identifiers disagree)
    related: float  # p at or above: related
    close: float  # distances in words: at most `close` is "very close in meaning" ...
    far: float  # ... below `far` "close in meaning", else "not close in meaning"


@dataclass(frozen=True)
class ArticleRule:
    score: Logistic
    shown: float  # p at or above: the article is shown


@dataclass(frozen=True)
class SupportRule:
    """One embedding model's rule: `model` is the embedder's model id (name and dimensions)."""
    model: str
    dimensions: int
    tickets: TicketRule
    articles: ArticleRule
    origin: str  # how it was made, in words ("calibrated on ... with this model")
    figures: dict[str, Any] = field(default_factory=dict)  # what the calibration measured

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "SupportRule":
        raw = json.loads(text)
        tickets, articles = raw["tickets"], raw["articles"]
        return cls(model=str(raw["model"]), dimensions=int(raw["dimensions"]),
                   tickets=TicketRule(**{**tickets, "score": _logistic(tickets["score"])}),
                   articles=ArticleRule(**{**articles, "score": _logistic(articles["score"])}),
                   origin=str(raw.get("origin", "")), figures=dict(raw.get("figures") or {}))

    def fits(self, model: str, dimensions: int) -> bool:
        return self.model == model and self.dimensions == dimensions


def _logistic(raw: Mapping[str, Any]) -> Logistic:
    return Logistic(tuple(raw["features"]), tuple(float(w) for w in raw["weights"]), float(raw["bias"]))


def _threshold_rule(model: str, dimensions: int, duplicate: float, article: float, origin: str) -> SupportRule:
    """A distance-only rule: p >= 0.5 exactly when the distance is below the threshold."""
    steep = 200.0
    tickets = TicketRule(Logistic(("distance",), (-steep,), steep * duplicate), 0.5, 0.5, duplicate, 4.0)
    articles = ArticleRule(Logistic(("distance",), (-steep,), steep * article), 0.5)
    return SupportRule(model, dimensions, tickets, articles, origin)


# The tutorial's thresholds (duplicate d < 0.35, article d < 0.362) for the model it used. Not measured
# by this project: a calibrated rule stored with the collection replaces it.
TUTORIAL_RULE = _threshold_rule("OpenAI:text-embedding-ada-002:1536", 1536, 0.35, 0.362,
                                "the tutorial's thresholds for text-embedding-ada-002 (distance below 0.35; not "
                                "measured by this project: calibrate to replace them)")


# --- evidence and verdicts ------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseText:
    """The submitted text, read once: its content words and identifiers."""
    text: str
    words: Words
    identifiers: tuple[Identifier, ...]

    @classmethod
    def of(cls, text: str, candidates: Iterable[str] = ()) -> "CaseText":
        """`candidates`: the texts it is compared with; the error messages they quote and the case
        names without quotes count as the case's own (identifiers.messages_in)."""
        own = extract(text)
        quoted = [i for candidate in candidates for i in extract_messages(candidate)]
        extra = tuple(m for m in messages_in(text, quoted) if all(m.value != i.value for i in own))
        return cls(text, Words.of(text), own + extra)


def ticket_evidence(case: CaseText, subject: str, description: str, distance: float,
                    ticket_id: Any = None) -> TicketEvidence:
    """The ticket's identifiers are its subject's, then its description's (identifiers.of_ticket); its
    own number counts as one of them, so a case quoting "#1264" agrees with ticket 1264 only."""
    text = f"{subject}\n{description}"
    own = (Identifier("ticket", str(ticket_id), f"#{ticket_id}"),) if ticket_id is not None else ()
    theirs = Words.of(text)
    return TicketEvidence(distance, coverage(case.words, theirs), coverage(Words.of(subject), case.words),
                          tuple(shared_words(case.words, theirs)),
                          compare(case.identifiers, of_ticket(subject, description) + own, text))


def article_evidence(case: CaseText, title: str, distance: float, title_distance: float) -> ArticleEvidence:
    """`distance`: to the article's closest chunk (shown in the details; the title decides)."""
    title_words = Words.of(title)
    return ArticleEvidence(distance, title_distance, coverage(case.words, title_words), coverage(title_words, case.words),
                           tuple(shared_words(case.words, title_words)))



@dataclass(frozen=True)
class TicketEvidence:
    distance: float
    overlap: float  # share of the case's content words the ticket has
    subject_overlap: float  # share of the ticket subject's content words the case has
    shared_words: tuple[str, ...]
    agreement: Agreement

    @property
    def same_identifier(self) -> bool:
        return any(i.kind in STRONG_KINDS for i in self.agreement.same)

    def features(self) -> dict[str, float]:
        return {"distance": self.distance, "overlap": self.overlap, "subject_overlap": self.subject_overlap,
                "same_identifier": float(self.same_identifier)}


@dataclass(frozen=True)
class ArticleEvidence:
    distance: float  # to the article's closest chunk
    title_distance: float  # to its title alone: the article an agent picks is the one whose title answers
    title_overlap: float  # share of the case's content words in the title
    title_coverage: float  # share of the title's content words in the case
    title_words: tuple[str, ...]

    def features(self) -> dict[str, float]:
        return {"distance": self.distance, "title_distance": self.title_distance, "title_overlap": self.title_overlap,
                "title_coverage": self.title_coverage}


@dataclass(frozen=True)
class Verdict:
    level: str  # SAME, RELATED or NONE (articles: SAME = shown)
    probability: float | None  # None: no rule for this model
    reasons: tuple[str, ...]

    @property
    def rank(self) -> tuple[int, float]:
        return LEVELS[self.level], -1.0 if self.probability is None else self.probability


def judge_ticket(rule: SupportRule | None, evidence: TicketEvidence) -> Verdict:
    """The verdict on one candidate ticket. Identifiers that disagree, or that the ticket does not
    confirm, cap it at "related"; without a rule for this model there is no verdict beyond that."""
    reasons = identifier_reasons(evidence.agreement)
    if evidence.shared_words:
        reasons.append("shared terms: " + ", ".join(evidence.shared_words[:5]))
    if rule is None:
        return Verdict(RELATED if evidence.agreement.same or evidence.shared_words else NONE, None, tuple(reasons))
    p = rule.tickets.score.probability(evidence.features())
    reasons.append(closeness_words(evidence.distance, rule.tickets))
    if p >= rule.tickets.duplicate and not capped(rule, evidence):
        level = SAME
    elif p >= min(rule.tickets.related, rule.tickets.duplicate):
        level = RELATED
    else:
        level = NONE
    return Verdict(level, p, tuple(reasons))


def capped(rule: SupportRule, evidence: TicketEvidence) -> bool:
    """Related at most, whatever the score: identifiers that disagree or that the ticket does not
    confirm, or a ticket not close in meaning (whatever words or identifiers it shares)."""
    return evidence.agreement.conflict or evidence.agreement.unconfirmed or evidence.distance >= rule.tickets.far


def judge_article(rule: SupportRule | None, evidence: ArticleEvidence) -> Verdict:
    """Shown (SAME) or not (NONE). Without a rule for this model: shown when its title shares words."""
    reasons = ("title matches: " + ", ".join(evidence.title_words[:5]),) if evidence.title_words else ()
    if rule is None:
        return Verdict(SAME if evidence.title_words else NONE, None, reasons)
    p = rule.articles.score.probability(evidence.features())
    return Verdict(SAME if p >= rule.articles.shown else NONE, p, reasons)


def identifier_reasons(agreement: Agreement) -> list[str]:
    """ "same error code E-2201", "different error code (E-2202)", "the ticket does not mention E-4099"."""
    reasons = [f"same {identifier.kind} {identifier}" for identifier in agreement.same
               if identifier.kind in STRONG_KINDS]
    reasons += [f"same {identifier.kind} {identifier}" for identifier in agreement.same
                if identifier.kind not in STRONG_KINDS]
    reasons += [f"different {mine.kind} ({', '.join(str(t) for t in theirs[:2])})"
                for mine, theirs in agreement.different]
    reasons += [f"the ticket does not mention {_named(identifier)}" for identifier in agreement.missing]
    return reasons


def _named(identifier: Identifier) -> str:
    kind = identifier.kind
    text = str(identifier)
    return text if kind in ("error message", "amount") or kind.lower() in text.lower() else f"{kind} {text}"


def closeness_words(distance: float, rule: TicketRule) -> str:
    if distance <= rule.close:
        return "very close in meaning"
    if distance < rule.far:
        return "close in meaning"
    return "not close in meaning"
