"""What a lookup found, and how it is told: the answer's data (also `--json`) and its text."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ..milvus_store import DENSE, HYBRID


@dataclass
class TicketHit:
    id: Any
    subject: str | None
    description: str | None
    distance: float  # dense distance, whatever the retrieval (hybrid: computed from the hit's vector)
    similarity: float
    duplicate: bool
    status: str | None = None
    updated_at: str | None = None
    url: str | None = None
    passage: str | None = None
    closeness: str = ""
    score: float | None = None  # hybrid: the adjusted distance (HybridRule) the threshold applies to; None: dense
    fused: float | None = None  # hybrid: Milvus's fused score, which ranked the hit
    bm25_share: float | None = None  # hybrid: BM25 score over the text's best BM25 score among all tickets


@dataclass
class ArticleHit:
    id: Any
    title: str | None
    html_url: str | None
    distance: float
    similarity: float
    relevant: bool
    passage: str | None = None
    closeness: str = ""
    score: float | None = None
    fused: float | None = None


@dataclass
class SupportAnswer:
    tickets: list[TicketHit] = field(default_factory=list)
    articles: list[ArticleHit] = field(default_factory=list)
    organization_id: int | None = None
    statuses: list[str] = field(default_factory=list)
    organization_has_tickets: bool | None = None  # False: no ticket of any status (a wrong id?)
    duplicate_threshold: float | None = None  # distances (hybrid: adjusted distances) below it count
    article_threshold: float | None = None
    retrieval: str = DENSE  # "hybrid" (dense + BM25, fused) or "dense"

    @property
    def duplicate(self) -> TicketHit | None:
        return self.tickets[0] if self.tickets and self.tickets[0].duplicate else None

    @property
    def helpful_articles(self) -> list[ArticleHit]:
        return [a for a in self.articles if a.relevant]

    def to_dict(self) -> dict[str, Any]:
        return {"duplicate": asdict(self.duplicate) if self.duplicate else None,
                "tickets": [asdict(t) for t in self.tickets], "articles": [asdict(a) for a in self.articles],
                "organization_id": self.organization_id, "statuses": list(self.statuses),
                "organization_has_tickets": self.organization_has_tickets,
                "duplicate_threshold": self.duplicate_threshold, "article_threshold": self.article_threshold,
                "retrieval": self.retrieval,
                "threshold_kind": "max adjusted distance" if self.retrieval == HYBRID else "max distance"}

    def measure(self, hit: TicketHit | ArticleHit) -> str:
        """What the decision compared, for display."""
        if isinstance(hit, TicketHit) and hit.score is not None:
            return f"adjusted distance {hit.score:.3f} (distance {hit.distance:.3f}, BM25 share {hit.bm25_share:.2f})"
        return f"distance {hit.distance:.3f}"


RETRIEVAL_NOTES = {HYBRID: "(searched by meaning and by exact words: dense vectors + BM25 full text, fused)",
                   DENSE: "(searched by meaning only: dense vectors)"}


def render(answer: SupportAnswer, tutorial: bool = False) -> str:
    """The answer as text. Tutorial: its duplicate warning, or 'Submitted!' and articles. Otherwise
    what was found, with links, statuses and reasons, and nothing claimed that did not happen."""
    if tutorial:
        return render_tutorial(answer)
    lines = _duplicate_lines(answer) if answer.duplicate else _new_case_lines(answer)
    helpful = answer.helpful_articles
    if helpful:
        lines.append("Articles that may help:")
        lines += [f"* [{a.title}]({a.html_url})  {a.closeness} [{answer.measure(a)}]" for a in helpful]
    else:
        lines.append("No help-center article is close to this text.")
    lines.append(RETRIEVAL_NOTES[answer.retrieval])
    return "\n".join(lines)


def _duplicate_lines(answer: SupportAnswer) -> list[str]:
    d = answer.duplicate
    lines = [f"Possible duplicate: #{d.id} {d.subject!r} ({d.status or 'status unknown'}, "
             f"updated {d.updated_at or 'unknown'}), {d.closeness} [{answer.measure(d)}]"]
    if d.url:
        lines.append(f"  {d.url}")
    if d.passage:
        lines.append(f"  matching passage: {d.passage}")
    for other in answer.tickets[1:]:
        if other.duplicate:
            lines.append(f"Also similar: #{other.id} {other.subject!r} ({other.status}), {other.closeness}"
                         + (f"  {other.url}" if other.url else ""))
    return lines


def _new_case_lines(answer: SupportAnswer) -> list[str]:
    if answer.organization_has_tickets is False:
        return [f"Organization {answer.organization_id} has no tickets in this collection: check the "
                "organization id."]
    statuses = ", ".join(answer.statuses) or "any"
    lines = [f"No {statuses} ticket of organization {answer.organization_id} matches: this looks like a "
             "new case (nothing was submitted)."]
    if answer.tickets:
        t = answer.tickets[0]
        lines.append(f"  closest: #{t.id} {t.subject!r} ({t.status}), {t.closeness} [{answer.measure(t)}]")
    return lines


def render_tutorial(answer: SupportAnswer) -> str:
    """The tutorial's form as text: the duplicate warning, or 'Submitted!' and articles."""
    lines = []
    if answer.duplicate:
        d = answer.duplicate
        lines.append(f"This case seems very similar to {d.subject} (id #{d.id})  [{answer.measure(d)}]")
    else:
        lines.append("Submitted!")
        helpful = answer.helpful_articles
        if helpful:
            lines.append("We also found some articles that might help you:")
            lines += [f"* [{a.title}]({a.html_url})  [{answer.measure(a)}]" for a in helpful]
        else:
            lines.append("(no article close enough)")
    return "\n".join(lines)
