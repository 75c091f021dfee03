"""The words a case shares with a ticket or an article (pure text logic)."""

from __future__ import annotations

from destination_milvus_zendesk.support.terms import Words, coverage, shared_words, stem


def test_stems_make_inflections_meet() -> None:
    assert stem("charged") == stem("charge") == stem("charges") == stem("charging")
    assert stem("setting") == stem("settings") == stem("set")
    assert stem("policies") == "policy"


def test_content_words_leave_out_stop_words_small_talk_and_numbers() -> None:
    assert Words.of("Hi team, I was charged twice this month, 3 times! Thanks").content == {
        "charg": "charged", "twic": "twice", "tim": "times"}


def test_coverage_is_the_share_of_the_words_the_other_text_has() -> None:
    query, title = Words.of("double charge??"), Words.of("Why was I charged twice?")
    assert coverage(query, title) == 0.5 and shared_words(query, title) == ["charge"]
    assert coverage(Words.of("the a of"), title) == 0.0
    saml = Words.of("How do I set up SAML single sign-on with JumpCloud?")
    assert coverage(saml, Words.of("Setting up SAML single sign-on: the complete guide")) == 0.8
    assert coverage(saml, Words.of("Automatic user provisioning with SCIM")) == 0.0


def test_words_written_apart_meet_their_compound_both_ways() -> None:
    title, query = Words.of("Large reports time out"), Words.of("Big reports fail with a timeout")
    assert "timeout" in title.vocabulary
    assert shared_words(query, title) == ["reports", "timeout"]
    assert shared_words(title, query) == ["reports", "time"]  # "time out" in the title meets "timeout"
