"""The support lookups' decisions: verdicts, reasons, rules per model, and how a rule is fitted and kept
with the collection (pure logic; the calibration runs with the hashing test embedder)."""

from __future__ import annotations

import json

import pytest

from destination_milvus_zendesk.config import parse_config
from destination_milvus_zendesk.embedding.local import FakeEmbedder
from destination_milvus_zendesk.errors import ConfigError
from destination_milvus_zendesk.support import calibration
from destination_milvus_zendesk.support.calibration import (CALIBRATE_COMMAND, RULE_PROPERTY, Pair, calibrate,
                                                            calibration_note, fit_logistic, stored_rule)
from destination_milvus_zendesk.support.decision import (NONE, RELATED, SAME, TUTORIAL_RULE, ArticleRule, CaseText,
                                                         Logistic, SupportRule, TicketRule, article_evidence,
                                                         judge_article, judge_ticket, ticket_evidence)

# p = sigmoid(4 - 4 d + 2 overlap): a made-up model whose distances are around 1
RULE = SupportRule("test:model:8", 8,
                   TicketRule(Logistic(("distance", "overlap"), (-4.0, 2.0), 4.0), 0.5, 0.2, close=0.6, far=1.3),
                   ArticleRule(Logistic(("title_distance", "title_overlap"), (-4.0, 2.0), 3.0), 0.5), "a test rule")


def judge(case: str, subject: str, description: str, distance: float, rule: SupportRule | None = RULE):
    return judge_ticket(rule, ticket_evidence(CaseText.of(case), subject, description, distance))


def test_close_and_agreeing_is_very_likely_the_same_problem() -> None:
    verdict = judge("Card payments fail with E-2201", "E-2201 at checkout", "Visa card payments fail with E-2201.", 0.5)
    assert verdict.level == SAME and verdict.probability > 0.9
    assert verdict.reasons == ("same error code E-2201", "shared terms: card, payments, fail", "very close in meaning")


def test_identifiers_that_disagree_cap_the_verdict_at_related() -> None:
    verdict = judge("E-2201 for Visa cards", "E-2202 with PayPal", "PayPal payments fail with E-2202.", 0.5)
    assert verdict.level == RELATED and verdict.probability > 0.5
    assert verdict.reasons[:2] == ("different error code (E-2202)", "different payment method (PayPal)")


def test_an_identifier_the_ticket_does_not_mention_caps_it_too() -> None:
    verdict = judge("E-4099 when syncing tasks", "Sync fails", "Task sync stops after a few minutes.", 0.5)
    assert verdict.level == RELATED and verdict.reasons[0] == "the ticket does not mention error code E-4099"


def test_a_ticket_not_close_in_meaning_is_never_the_same_problem() -> None:
    verdict = judge("charged twice", "Charged twice", "We were charged twice.", 1.35)  # beyond `far`
    assert verdict.probability > 0.5 and verdict.level == RELATED and "not close in meaning" in verdict.reasons


def test_far_and_unrelated_is_no_match() -> None:
    assert judge("weather tomorrow", "Charged twice", "We were charged twice.", 1.9).level == NONE


def test_a_case_quoting_a_ticket_number_agrees_only_with_that_ticket() -> None:
    case = CaseText.of("follow-up on #1264: still charged twice")
    assert ticket_evidence(case, "Charged twice", "charged twice", 0.5, 1264).agreement.same
    assert ticket_evidence(case, "Charged twice", "charged twice", 0.5, 1246).agreement.conflict


def test_a_message_another_candidate_quotes_counts_as_the_case_s_own() -> None:
    candidates = ['bounced back with the error "NameID missing in SAML assertion"',
                  'bounced back with the error "Signature validation failed"']
    case = CaseText.of("every SSO login fails with NameID missing in SAML assertion", candidates)
    assert ticket_evidence(case, "SSO", candidates[1], 0.5).agreement.conflict
    assert ticket_evidence(case, "SSO", candidates[0], 0.5).agreement.same


def test_without_a_rule_nothing_is_called_the_same_problem() -> None:
    verdict = judge("Card payments fail with E-2201", "E-2201", "Visa card payments fail with E-2201.", 0.1, rule=None)
    assert verdict.level == RELATED and verdict.probability is None
    assert judge("weather", "Charged twice", "We were charged twice.", 0.1, rule=None).level == NONE


def test_articles_are_shown_on_their_title() -> None:
    case = CaseText.of("I was charged twice this month")
    right = article_evidence(case, "Why was I charged twice?", 1.6, 0.7)
    wrong = article_evidence(case, "Understanding your invoice", 1.2, 1.3)
    assert right.title_overlap == 1.0 and wrong.title_overlap == 0.0
    assert judge_article(RULE, right).level == SAME and judge_article(RULE, wrong).level == NONE
    assert judge_article(RULE, right).reasons == ("title matches: charged, twice",)


def test_a_rule_is_kept_as_json_and_keyed_by_model_and_dimensions() -> None:
    assert SupportRule.from_json(RULE.to_json()) == RULE
    properties = {RULE_PROPERTY: RULE.to_json()}
    assert stored_rule(properties, "test:model:8", 8) == (RULE, "")
    other, why = stored_rule(properties, "test:model:16", 16)
    assert other is None and "calibrated for test:model:8, not test:model:16" in why and CALIBRATE_COMMAND in why
    none, why = stored_rule({}, "OpenAI:text-embedding-3-small:1536", 1536)
    assert none is None and why.startswith("the duplicate threshold is unmeasured for embedding model "
                                           "OpenAI:text-embedding-3-small:1536")
    assert stored_rule({RULE_PROPERTY: "{broken"}, "test:model:8", 8)[0] is None


def test_only_the_tutorials_own_model_gets_the_tutorials_thresholds() -> None:
    assert stored_rule({}, "OpenAI:text-embedding-ada-002:1536", 1536) == (TUTORIAL_RULE, "")
    assert stored_rule({}, "Azure OpenAI:my-deployment:1536", 1536)[0] is None
    assert judge("x", "x", "x", 0.34, TUTORIAL_RULE).level == SAME
    assert judge("x", "x", "x", 0.36, TUTORIAL_RULE).level != SAME


def test_check_says_which_rule_or_how_to_calibrate() -> None:
    assert calibration_note({RULE_PROPERTY: RULE.to_json()}, "test:model:8", 8) == (
        "Support lookups: duplicates and articles are decided by a test rule.")
    note = calibration_note({}, "local:wordllama-l2-supercat-256:256", 256)
    assert note.startswith("Support lookups: The duplicate threshold is unmeasured for embedding model local:")
    assert CALIBRATE_COMMAND in note
    assert "from_field cannot embed what an agent types" in calibration_note({}, "from_field:vector:8", 8)


def test_fitted_weights_keep_their_sign_and_the_fit_is_deterministic() -> None:
    # distance carries the label; overlap is noise that correlates the wrong way in this small sample
    rows = [{"distance": d, "overlap": o} for d, o in ((0.4, 0.1), (0.5, 0.2), (0.6, 0.0), (1.4, 0.9), (1.5, 0.8),
                                                       (1.6, 0.7), (1.2, 0.9), (0.7, 0.3))]
    labels = [True, True, True, False, False, False, False, True]
    model = fit_logistic(("distance", "overlap"), rows, labels)
    assert model.weights[0] < 0 and model.weights[1] >= 0
    assert model == fit_logistic(("distance", "overlap"), rows, labels)
    assert model.probability({"distance": 0.5, "overlap": 0.2}) > 0.5 > model.probability({"distance": 1.5,
                                                                                           "overlap": 0.2})
    with pytest.raises(ConfigError):
        fit_logistic(("distance",), [{"distance": 1.0}], [True])


def test_calibration_embeds_a_few_thousand_tokens_and_fits_a_rule_for_the_model() -> None:
    config = parse_config({"embedding": {"mode": "fake"}, "indexing": {"host": "x.db", "collection": "c"}})
    result = calibrate(FakeEmbedder(), config.processing)
    assert 1000 < result.tokens < 4000 and result.texts > 100
    rule = result.rule
    assert rule.fits("fake:hashing:1536", 1536) and rule.tickets.duplicate == calibration.DUPLICATE_PROBABILITY
    assert rule.origin.startswith("the rule calibrated for this model on ") and f"{result.tokens:,} tokens" in rule.origin
    assert rule.figures["set"] == calibration.set_version() and rule.figures["duplicate"]["recall"] > 0.5
    assert SupportRule.from_json(rule.to_json()) == rule
    # every case naming a ticket is one same-problem pair; twins and unknown identifiers are capped
    assert sum(p.same for p in result.tickets) == sum(c["same"] is not None for g in calibration.calibration_set()
                                                      ["groups"] for c in g["cases"])
    assert any(p.capped and p.related for p in result.tickets)


def test_calibration_needs_the_text_fields_it_compares() -> None:
    config = parse_config({"embedding": {"mode": "fake"}, "indexing": {"host": "x.db", "collection": "c"},
                           "processing": {"chunk_size": 1000, "text_fields": ["comment"]}})
    with pytest.raises(ConfigError, match="subject/description"):
        calibrate(FakeEmbedder(), config.processing)


def test_the_calibration_set_is_consistent() -> None:
    data = calibration.calibration_set()
    tickets = {t["id"] for g in data["groups"] for t in g["tickets"]}
    assert len(tickets) == sum(len(g["tickets"]) for g in data["groups"])
    assert all(c["same"] in tickets for g in data["groups"] for c in g["cases"] if c["same"])
    articles = {a["id"] for a in data["articles"]}
    assert all(q["article"] in articles | {None} and set(q.get("also", ())) <= articles for q in data["questions"])
    json.dumps(data)


def test_pairs_are_judged_as_a_lookup_decides() -> None:
    pairs = [Pair({}, True, True, case=0), Pair({}, False, True, capped=True, case=0), Pair({}, False, False, case=1)]
    scores = calibration.duplicate_scores(pairs, [0.9, 0.9, 0.6], 0.5)
    assert scores["precision"] == 0.5 and scores["recall"] == 1.0  # the capped pair is not flagged
