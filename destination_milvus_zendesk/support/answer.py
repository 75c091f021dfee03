"""What a lookup found, and how it is told to an agent: the answer's data (also `--json`) and ONE
presentation of it (`present`), which the CLI prints as text (`render`) and the form lays out with
Streamlit. An agent reads verdicts in words ("very likely the same problem", "related", "no match")
and why; the numbers and the rule behind them are details (the form's expander, `--json`).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from ..schema import DENSE, HYBRID
from .decision import RELATED, SAME

VERDICT_WORDS = {SAME: "Very likely the same problem", RELATED: "Related"}


@dataclass
class TicketHit:
    id: Any
    subject: str | None
    description: str | None
    verdict: str  # decision.SAME or decision.RELATED
    reasons: list[str]
    probability: float | None  # the rule's score; None: no rule for this model
    distance: float  # dense distance, squared L2 on unit vectors
    overlap: float  # share of the case's content words the ticket has
    status: str | None = None
    updated_at: str | None = None
    url: str | None = None
    passage: str | None = None
    fused: float | None = None  # hybrid: Milvus's fused score, which found the candidate
    identifiers: dict[str, list[str]] = field(default_factory=dict)  # same / different / missing

    @property
    def duplicate(self) -> bool:
        return self.verdict == SAME


@dataclass
class ArticleHit:
    id: Any
    title: str | None
    html_url: str | None
    shown: bool
    reasons: list[str]
    probability: float | None
    distance: float  # to the article's closest chunk
    title_distance: float
    passage: str | None = None
    fused: float | None = None


@dataclass
class RuleInfo:
    """Which rule decided: the collection's calibrated rule (or the tutorial's) for this model, or
    none (`unmeasured` says why, and how to calibrate)."""
    model: str
    origin: str | None
    unmeasured: str = ""
    duplicate: float | None = None
    related: float | None = None
    article: float | None = None

    @property
    def measured(self) -> bool:
        return self.origin is not None


@dataclass
class SupportAnswer:
    tickets: list[TicketHit] = field(default_factory=list)  # best verdict first: the order shown
    articles: list[ArticleHit] = field(default_factory=list)  # the articles shown, best first
    organization_id: int | None = None
    statuses: list[str] = field(default_factory=list)
    organization_has_tickets: bool | None = None  # False: no ticket of any status (a wrong id?)
    retrieval: str = DENSE  # "hybrid" (dense + BM25, fused) or "dense": how candidates were found
    rule: RuleInfo = field(default_factory=lambda: RuleInfo("", None))

    @property
    def duplicate(self) -> TicketHit | None:
        return next((t for t in self.tickets if t.duplicate), None)

    @property
    def helpful_articles(self) -> list[ArticleHit]:
        return [a for a in self.articles if a.shown]

    def to_dict(self) -> dict[str, Any]:
        return {"duplicate": asdict(self.duplicate) if self.duplicate else None,
                "tickets": [asdict(t) for t in self.tickets], "articles": [asdict(a) for a in self.articles],
                "organization_id": self.organization_id, "statuses": list(self.statuses),
                "organization_has_tickets": self.organization_has_tickets, "retrieval": self.retrieval,
                "rule": asdict(self.rule)}


# --- the presentation -----------------------------------------------------------------------------


@dataclass
class TicketView:
    label: str  # "Very likely the same problem" / "Related"
    title: str  # '#1264 "Charged twice this month"'
    url: str | None
    facts: str  # "open, updated 2024-11-10 15:01 UTC"
    why: str
    passage: str | None


@dataclass
class ArticleView:
    title: str
    url: str | None
    why: str


@dataclass
class View:
    tone: str  # "duplicate", "related", "new", "unknown organization" (tutorial: "duplicate", "submitted")
    headline: str
    tickets: list[TicketView] = field(default_factory=list)
    articles: list[ArticleView] = field(default_factory=list)
    articles_intro: str = "Help-center articles"
    no_articles: str = "No help-center article is close to this text."
    show_articles: bool = True  # the tutorial lists articles only when no duplicate was found
    notice: str = ""  # for the agent: the verdicts are limited (no rule for this model)
    details: list[str] = field(default_factory=list)  # numbers and the rule: under an expander, never in the way


RETRIEVAL_DETAILS = {
    HYBRID: "Candidates were found by meaning and by exact words (dense vectors and BM25 full text, fused by Milvus); "
            "the verdicts use the dense distance, the shared words and the identifiers.",
    DENSE: "Candidates were found by meaning (dense vectors); the verdicts use the dense distance, the shared words "
           "and the identifiers."}


def when(timestamp: str | None) -> str:
    """2024-11-10T15:01:48Z -> 2024-11-10 15:01 UTC (other shapes as they are)."""
    match = re.match(r"^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d)(?::\d\d(?:\.\d+)?)?(Z|[+-]00:?00)?$", timestamp or "")
    if not match:
        return timestamp or "unknown"
    return f"{match.group(1)} {match.group(2)}" + (" UTC" if match.group(3) else "")


def present(answer: SupportAnswer, for_admin: bool = False) -> View:
    """The answer in an agent's words. `for_admin` (the CLI): a missing rule names the command that
    makes one; the form says to ask the administrator (and logs the command)."""
    tickets = [_ticket_view(t) for t in answer.tickets]
    articles = [ArticleView(a.title or a.html_url or str(a.id), a.html_url, "; ".join(a.reasons))
                for a in answer.helpful_articles]
    view = View(*_headline(answer), tickets, articles, details=_details(answer))
    if not answer.rule.measured:
        view.notice = ("Duplicate detection is not calibrated for this embedding model, so no ticket is called the "
                       "same problem: the closest are listed as related. " +
                       (f"To calibrate: {answer.rule.unmeasured}" if for_admin else "Ask your administrator to "
                        "calibrate it (the form's log says how)."))
    return view


def _headline(answer: SupportAnswer) -> tuple[str, str]:
    org = answer.organization_id
    same = [t for t in answer.tickets if t.duplicate]
    if len(same) == 1:
        return "duplicate", (f"Very likely the same problem as an unsolved ticket of organization {org}: add to it "
                             "rather than opening a new one.")
    if same:
        return "duplicate", (f"Very likely the same problem as {len(same)} unsolved tickets of organization {org}: "
                             "add to one of them rather than opening a new one.")
    if answer.organization_has_tickets is False:
        return "unknown organization", (f"Organization {org} has no tickets in this collection: check the "
                                        "organization id. Nothing was submitted.")
    statuses = ", ".join(answer.statuses) or "any"
    if answer.tickets:
        return "related", (f"No {statuses} ticket of organization {org} is very likely the same problem; related "
                           "tickets are below. Nothing was submitted.")
    return "new", (f"No match among organization {org}'s {statuses} tickets: this looks like a new case. Nothing "
                   "was submitted: create the ticket in Zendesk.")


def _ticket_view(t: TicketHit) -> TicketView:
    facts = (t.status or "status unknown") + (f", updated {when(t.updated_at)}" if t.updated_at else "")
    return TicketView(VERDICT_WORDS[t.verdict], f"#{t.id} “{t.subject or '(no subject)'}”", t.url, facts,
                      "; ".join(t.reasons), t.passage)


def _details(answer: SupportAnswer) -> list[str]:
    rule = answer.rule
    if rule.measured:
        lines = [f"Decided by {rule.origin}, model {rule.model}: very likely the same problem from a score of "
                 f"{rule.duplicate:.2f} (when the identifiers agree and the ticket is close in meaning), related from "
                 f"{rule.related:.2f}; articles shown from {rule.article:.2f}."]
    else:
        lines = [f"No rule for model {rule.model}: {rule.unmeasured}"]
    for t in answer.tickets:
        score = "no score" if t.probability is None else f"score {t.probability:.2f}"
        ids = ", ".join(f"{k}: {', '.join(v)}" for k, v in t.identifiers.items() if v)
        lines.append(f"#{t.id}: {t.verdict}, {score}, distance {t.distance:.3f}, {t.overlap:.0%} of the case's words"
                     + (f"; identifiers {ids}" if ids else ""))
    for a in answer.helpful_articles:
        score = "no score" if a.probability is None else f"score {a.probability:.2f}"
        lines.append(f"{a.title}: {score}, title distance {a.title_distance:.3f}, distance {a.distance:.3f}")
    lines.append(RETRIEVAL_DETAILS[answer.retrieval])
    return lines


def present_tutorial(answer: SupportAnswer) -> View:
    """The tutorial's form: its duplicate warning, or 'Submitted!' and the articles."""
    if answer.duplicate:
        d = answer.duplicate
        return View("duplicate", f"This case seems very similar to {d.subject} (id #{d.id})", show_articles=False,
                    details=_details(answer))
    articles = [ArticleView(a.title or a.html_url or str(a.id), a.html_url, "") for a in answer.helpful_articles]
    return View("submitted", "Submitted!", articles=articles,
                articles_intro="We also found some articles that might help you:", no_articles="",
                details=_details(answer))


def render(answer: SupportAnswer, tutorial: bool = False, details: bool = False) -> str:
    """The presentation as plain text (the CLI)."""
    view = present_tutorial(answer) if tutorial else present(answer, for_admin=True)
    lines = [view.headline] + [line for t in view.tickets for line in _ticket_lines(t)] + _article_lines(view)
    lines += [f"Note: {view.notice}"] if view.notice else []
    if details:
        lines += ["Details:"] + [f"  {line}" for line in view.details]
    return "\n".join(lines)


def _ticket_lines(t: TicketView) -> list[str]:
    lines = [f"{t.label}: {t.title} ({t.facts})"]
    lines += [f"  why: {t.why}"] if t.why else []
    lines += [f"  {t.url}"] if t.url else []
    if t.passage and t.label == VERDICT_WORDS[SAME]:
        lines.append(f"  matching passage: {t.passage}")
    return lines


def _article_lines(view: View) -> list[str]:
    if not view.show_articles:
        return []
    if not view.articles:
        return [view.no_articles] if view.no_articles else []
    intro = view.articles_intro if view.articles_intro.endswith(":") else f"{view.articles_intro}:"
    return [intro] + [f"* {a.title}" + (f"  {a.url}" if a.url else "") + (f"  ({a.why})" if a.why else "")
                      for a in view.articles]
