"""How an answer is told: agent language first, the numbers as details; one presentation for the CLI
and the form; the CLI's exit codes (pure logic)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

from destination_milvus_zendesk.schema import DENSE, HYBRID
from destination_milvus_zendesk.support import cli
from destination_milvus_zendesk.support.answer import (ArticleHit, RuleInfo, SupportAnswer, TicketHit, present,
                                                       present_tutorial, render, when)
from destination_milvus_zendesk.support.decision import RELATED, SAME
from destination_milvus_zendesk.support.inputs import QueryInputError

REPO = Path(__file__).resolve().parents[1]
RULE = RuleInfo("local:wordllama-l2-supercat-256:256", "the rule calibrated for this model on 2025-01-06 (124 texts, "
                "2,873 tokens)", "", 0.5, 0.2, 0.23)
UNMEASURED = RuleInfo("OpenAI:text-embedding-3-small:1536", None, "the duplicate threshold is unmeasured for embedding "
                      "model OpenAI:text-embedding-3-small:1536: calibrate it (python -m ... --calibrate ...)")


def hit(id_: int, verdict: str, probability: float | None = 0.9, **extra) -> TicketHit:
    values = dict(subject="Charged twice this month", description="...", verdict=verdict,
                  reasons=["same invoice INV-2024-4913", "shared terms: charged, twice", "very close in meaning"],
                  probability=probability, distance=0.712, overlap=0.67, status="open",
                  updated_at="2024-11-10T15:01:48Z", url=f"https://acme.zendesk.com/agent/tickets/{id_}",
                  passage="We were charged twice.", identifiers={"same": ["INV-2024-4913"], "different": [],
                                                                 "missing": []})
    values.update(extra)
    return TicketHit(id_, **values)  # type: ignore[arg-type]


ARTICLE = ArticleHit(35, "Why was I charged twice?", "https://help/35", True, ["title matches: charged, twice"], 0.93,
                     1.834, 0.55)


def answer(tickets: list[TicketHit], articles: list[ArticleHit] | None = None, rule: RuleInfo = RULE,
           **extra) -> SupportAnswer:
    extra.setdefault("retrieval", HYBRID)
    return SupportAnswer(tickets, [ARTICLE] if articles is None else articles, 360000105148,
                         ["new", "open", "pending", "hold"], rule=rule, **extra)


def test_a_duplicate_is_told_in_words_with_its_reasons() -> None:
    view = present(answer([hit(1264, SAME), hit(1246, RELATED, 0.3)]))
    assert view.tone == "duplicate"
    assert view.headline == ("Very likely the same problem as an unsolved ticket of organization 360000105148: add to "
                             "it rather than opening a new one.")
    assert [(t.label, t.title) for t in view.tickets] == [("Very likely the same problem", "#1264 “Charged twice this month”"),
                                                          ("Related", "#1246 “Charged twice this month”")]
    assert view.tickets[0].facts == "open, updated 2024-11-10 15:01 UTC"
    assert view.tickets[0].why == "same invoice INV-2024-4913; shared terms: charged, twice; very close in meaning"
    text = render(answer([hit(1264, SAME)]))
    assert "score" not in text and "distance" not in text and "BM25" not in text, "numbers are details"
    assert text.splitlines()[1] == "Very likely the same problem: #1264 “Charged twice this month” (open, updated " \
                                   "2024-11-10 15:01 UTC)"


def test_the_numbers_and_the_rule_are_details() -> None:
    details = present(answer([hit(1264, SAME)])).details
    assert details[0].startswith("Decided by the rule calibrated for this model on 2025-01-06 (124 texts, 2,873 "
                                 "tokens), model local:wordllama-l2-supercat-256:256")
    assert details[1] == ("#1264: same, score 0.90, distance 0.712, 67% of the case's words; identifiers same: "
                          "INV-2024-4913")
    assert details[2] == "Why was I charged twice?: score 0.93, title distance 0.550, distance 1.834"
    assert "dense vectors and BM25" in details[3]
    assert "Details:" in render(answer([hit(1264, SAME)]), details=True)
    data = answer([hit(1264, SAME)]).to_dict()
    assert data["duplicate"]["probability"] == 0.9 and data["rule"]["origin"].startswith("the rule calibrated")
    json.dumps(data)


def test_related_only_and_no_match_and_unknown_organization() -> None:
    related = present(answer([hit(1246, RELATED, 0.3)]))
    assert related.tone == "related" and related.headline.startswith(
        "No new, open, pending, hold ticket of organization 360000105148 is very likely the same problem")
    new = present(answer([], articles=[]))
    assert new.tone == "new" and new.headline == (
        "No match among organization 360000105148's new, open, pending, hold tickets: this looks like a new case. "
        "Nothing was submitted: create the ticket in Zendesk.")
    assert "No help-center article is close to this text." in render(answer([], articles=[]))
    unknown = present(answer([], organization_has_tickets=False))
    assert unknown.tone == "unknown organization" and unknown.headline.startswith(
        "Organization 360000105148 has no tickets in this collection: check the organization id.")


def test_an_unmeasured_model_is_said_plainly_to_agents_and_with_the_command_to_admins() -> None:
    unmeasured = answer([hit(1246, RELATED, None)], rule=UNMEASURED)
    agent = present(unmeasured)
    assert "not calibrated for this embedding model" in agent.notice and "Ask your administrator" in agent.notice
    assert "--calibrate" not in agent.notice
    assert "--calibrate" in present(unmeasured, for_admin=True).notice
    assert agent.details[0].startswith("No rule for model OpenAI:text-embedding-3-small:1536")
    assert "#1246: related, no score" in agent.details[1]


def test_the_tutorials_wording_stays() -> None:
    dup = present_tutorial(answer([hit(1264, SAME)]))
    assert (dup.tone, dup.headline) == ("duplicate", "This case seems very similar to Charged twice this month (id #1264)")
    submitted = present_tutorial(answer([hit(1246, RELATED, 0.3)]))
    assert submitted.headline == "Submitted!" and submitted.articles_intro == "We also found some articles that might help you:"
    assert render(answer([], articles=[]), tutorial=True) == "Submitted!"


def test_when_is_readable() -> None:
    assert when("2024-11-10T15:01:48Z") == "2024-11-10 15:01 UTC" and when(None) == "unknown"
    assert when("yesterday") == "yesterday"


# --- the CLI's exit codes --------------------------------------------------------------------------


class Search:
    def lookup(self, text, org, statuses):
        if not str(org).isdigit():
            raise QueryInputError("organization id must be an integer")
        return answer([hit(1264, SAME)])


def test_a_batch_with_a_bad_line_answers_the_others_and_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "batch.jsonl"
    path.write_text(json.dumps({"text": "a", "org": 1}) + "\n{oops\n" + json.dumps({"text": "b", "org": "x"}) + "\n")
    out = io.StringIO()
    assert cli.run_batch(Search(), str(path), ["new"], out) == cli.EXIT_SOME_LINES_FAILED == 1
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["line"] for line in lines] == [1, 2, 3] and lines[0]["duplicate"]["id"] == 1264
    assert lines[1]["kind"] == lines[2]["kind"] == "input"
    path.write_text(json.dumps({"text": "a", "org": 1}) + "\n")
    assert cli.run_batch(Search(), str(path), ["new"], io.StringIO()) == cli.EXIT_OK


def test_exit_codes_are_documented_in_help_and_readme() -> None:
    help_text = cli._parser(False).format_help()
    codes = dict(re.findall(r"^\s+(\d+)\s+(\S.*)$", help_text.split("exit status:")[1], re.M))
    assert set(codes) == {"0", "1", "2", "141"} and "--batch" in codes["1"]
    readme = (REPO / "README.md").read_text()
    assert "exit status 1" in readme and "exit status 2" in readme and "141" in readme


def test_retrieval_words_are_for_details_only() -> None:
    assert "dense" not in present(answer([hit(1264, SAME)], retrieval=DENSE)).headline
