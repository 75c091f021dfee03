"""Identifiers in support texts and whether two texts agree on them (pure text logic)."""

from __future__ import annotations

import pytest

from destination_milvus_zendesk.support.identifiers import compare, extract, extract_messages, messages_in


def found(text: str) -> list[tuple[str, str]]:
    return [(i.kind, i.text) for i in extract(text)]


@pytest.mark.parametrize("text, expected", [
    ("Card payment fails with E-2201 for Visa cards", [("error code", "E-2201"), ("payment method", "Visa")]),
    ("The nightly export stops with ERR_LEDGER_4711.", [("error code", "ERR_LEDGER_4711")]),
    ("It fails with error code 4012 and 0x80070005", [("error code", "4012"), ("error code", "0x80070005")]),
    ("We were charged twice for invoice INV-2024-4913 ($4,322.00).",
     [("invoice", "INV-2024-4913"), ("amount", "$4,322.00")]),
    ("Order ORD-123456 and order #558812", [("order", "ORD-123456"), ("order", "#558812")]),
    ("Following up on ticket #1246", [("ticket", "#1246")]),
    ("Requests to /api/v2/projects fail with 429 in bursts", [("endpoint", "/api/v2/projects"), ("HTTP status", "429")]),
    ("Reports fail with 504 Gateway Timeout", [("HTTP status", "504")]),
    ("Pixel 7 (Android 15), app 5.1.3.", [("platform", "Android"), ("version", "5.1.3")]),
    ("iOS 17.4.1 on my iPhone", [("platform", "iOS"), ("iOS version", "17.4.1")]),
    ("Downgrade from Enterprise to Professional", [("plan", "Enterprise plan"), ("plan", "Professional plan")]),
    ("We want to move from the Enterprise plan to Team", [("plan", "Enterprise plan"), ("plan", "Team plan")]),
    ('They get "Signature validation failed" when signing in', [("error message", '"Signature validation failed"')]),
])
def test_each_kind_is_found(text: str, expected: list[tuple[str, str]]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize("text", [
    "we have 500 users and 150 seats", "ISO-8601 dates over TLS 1.2", "the S23 model", "Q3 roadmap",
    "ups and downs, the ideal case, one pixel off, pop-up windows", "sent to Team Lead Anna",
    "2024-03-11 05:34:38 UTC, price 1,756.50", 'he said "really" twice', "with 403 seats"])
def test_look_alikes_are_not_identifiers(text: str) -> None:
    assert found(text) == []


def test_spellings_of_one_name_are_one_identifier() -> None:
    assert [i.value for i in extract("Entra ID, formerly Azure Active Directory")] == ["azure ad"]
    assert extract("E-2201")[0].value == extract("E2201")[0].value
    assert extract("INV-2024-0193")[0].value == extract("invoice number 2024-0193")[0].value


def agreement(query: str, candidate: str):
    return compare(extract(query), extract(candidate), candidate)


def test_different_codes_and_vendors_disagree() -> None:
    twins = agreement("E-2201 for Visa cards", "Payments with PayPal fail with error E-2202 since this morning")
    assert twins.conflict and not twins.same
    assert [(str(mine), [str(t) for t in theirs]) for mine, theirs in twins.different] == [
        ("E-2201", ["E-2202"]), ("Visa", ["PayPal"])]


def test_shared_identifiers_agree_and_a_subset_is_enough() -> None:
    same = agreement("Visa payment fails with E-2201", "Card payment fails with E-2201 for Visa cards")
    assert [str(i) for i in same.same] == ["Visa", "E-2201"] and not same.conflict and not same.unconfirmed
    assert not agreement("E-2201", "codes E-2201 and E-2202 at checkout").conflict
    assert agreement("from Enterprise to Professional", "from the Enterprise plan to Team").conflict
    assert not agreement("leave the Enterprise plan", "from the Enterprise plan to Team").conflict


def test_a_version_matches_its_prefix() -> None:
    assert agreement("crashes on version 5.1", "crashes in app 5.1.3").same
    assert agreement("crashes on version 5.2", "crashes in app 5.1.3").conflict


def test_an_identifier_only_the_query_has_is_missing() -> None:
    unknown = agreement("E-4099 when syncing tasks", "Task sync stops after a few minutes")
    assert unknown.unconfirmed and not unknown.conflict and [str(i) for i in unknown.missing] == ["E-4099"]
    assert not agreement("sync stops", "Task sync stops with E-4012").unconfirmed  # only the candidate has one


def test_a_quoted_message_matches_the_same_words_unquoted() -> None:
    assert agreement('users get "SAML response is not valid"', "the error SAML response is not valid shows").same


def test_messages_quoted_elsewhere_are_recognized_unquoted() -> None:
    quoted = extract_messages('they get "NameID missing in SAML assertion" and "Invalid audience URI"')
    assert [i.value for i in messages_in("SSO fails with NameID missing in SAML  assertion", quoted)] == [
        "nameid missing in saml assertion"]
