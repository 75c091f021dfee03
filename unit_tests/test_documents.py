"""Record -> document: text, metadata hygiene, identity."""

import json

from destination_milvus_zendesk.config import ProcessingConfig
from destination_milvus_zendesk.documents import (MAX_METADATA_BYTES, MAX_VALUE_CHARS, DocumentBuilder, html_to_text,
                                                  legal_name, record_id_for, select_path)

RESERVED = {"id", "vector", "text"}
ZENDESK_FIELDS = ["body", "title", "description", "subject"]


def builder(**kwargs):
    return DocumentBuilder(ProcessingConfig(**{"text_fields": ZENDESK_FIELDS, **kwargs}), RESERVED)


def test_article_html_becomes_readable_text():
    html = ("<h2>Reset &amp; unlock</h2><p>Open <a href='/s'>Settings</a>&nbsp;now.</p>"
            "<ul><li>one</li><li>two</li></ul><script>evil()</script><p>Done</p>")
    assert html_to_text(html) == "Reset & unlock\n\nOpen Settings now.\n\n- one\n- two\n\nDone"


def test_text_fields_with_and_without_field_names():
    data = {"id": 7, "subject": "Login fails", "description": "SSO loop", "status": "new"}
    assert builder().build("tickets", data, [["id"]]).text == "description: SSO loop\nsubject: Login fails"
    assert builder(embed_field_names=False).build("tickets", data, [["id"]]).text == "SSO loop\n\nLogin fails"


def test_zendesk_id_stored_as__id_and_every_field_is_metadata_by_default():
    doc = builder().build("tickets", {"id": 7, "subject": "s", "organization_id": 3, "status": "new",
                                      "via": {"channel": "email"}, "tags": ["a"]}, [["id"]])
    assert doc.metadata["_id"] == 7 and "id" not in doc.metadata
    assert doc.metadata["organization_id"] == 3 and doc.metadata["via"] == {"channel": "email"}
    assert doc.metadata["subject"] == "s"  # text fields stay readable as metadata
    assert doc.record_id == "tickets_7"


def test_illegal_names_bookkeeping_collisions_and_mappings():
    doc = builder(field_name_mappings=[{"from_field": "old", "to_field": "new"}]).build(
        "s", {"a-b c": 1, "9lives": 2, "_ab_stream": "spoof", "vector": [1], "old": 3}, None)
    assert doc.metadata == {"a_b_c": 1, "_9lives": 2, "__ab_stream": "spoof", "_vector": [1], "new": 3}


def test_no_record_field_can_take_a_bookkeeping_fields_name():
    """Renaming `_ab_*` record fields protects the writer's own fields only if each of them has the prefix."""
    from destination_milvus_zendesk import schema

    bookkeeping = [schema.STREAM, schema.RECORD_ID, schema.CHUNK, schema.TEXT_HASH, schema.WRITE_ID,
                   schema.GENERATION]
    assert all(name.startswith(schema.BOOKKEEPING_PREFIX) for name in bookkeeping)
    doc = builder().build("s", {name: "spoof" for name in bookkeeping}, None)
    assert not set(doc.metadata) & set(bookkeeping) and len(doc.metadata) == len(bookkeeping)


def test_paths_and_wildcards():
    data = {"via": {"channel": "web"}, "comments": [{"body": "a"}, {"body": "b"}]}
    assert select_path(data, "via.channel") == ["web"]
    assert select_path(data, "comments.*.body") == ["a", "b"]
    doc = DocumentBuilder(ProcessingConfig(text_fields=["comments.*.body"], metadata_fields=["via.channel"]),
                          RESERVED).build("s", data, None)
    assert doc.text == "comments.*.body: a\nb" and doc.metadata == {"via_channel": "web"}


def test_oversized_values_are_truncated_or_dropped_with_warnings():
    doc = builder().build("s", {"big": "x" * (MAX_VALUE_CHARS + 5)}, None)
    assert len(doc.metadata["big"]) == MAX_VALUE_CHARS and "truncated" in doc.warnings[0]
    many = {f"f{i}": "y" * (MAX_VALUE_CHARS - 1) for i in range(10)}
    doc = builder().build("s", many, None)
    assert len(json.dumps(doc.metadata)) <= MAX_METADATA_BYTES + 200
    assert sum("dropped" in w for w in doc.warnings) == 10 - len(doc.metadata)


def test_lone_surrogates_nul_and_non_finite_numbers():
    doc = builder().build("s", {"subject": "bad \ud800 char\x00", "n": float("nan")}, None)
    doc.text.encode("utf-8")
    assert "\x00" not in doc.text and doc.metadata["n"] is None


def test_record_ids_for_every_json_type_and_cdc_delete():
    assert record_id_for("t", {"id": "abc"}, [["id"]]) == "t_abc"
    assert record_id_for("t", {"id": 1.5}, [["id"]]) == "t_1.5"
    assert record_id_for("t", {"a": {"b": 2}, "c": None}, [["a", "b"], ["c"]]) == "t_2_null"
    assert record_id_for("t", {}, [["id"]]) == "t___not_found__"
    doc = builder().build("t", {"id": 1, "subject": "x", "_ab_cdc_deleted_at": "2024-01-01"}, [["id"]])
    assert doc.deleted and doc.text == "" and doc.record_id == "t_1"


def test_an_integral_float_key_is_the_integer_it_equals():
    assert record_id_for("t", {"id": 7761239926287.0}, [["id"]]) == record_id_for("t", {"id": 7761239926287}, [["id"]])
    assert record_id_for("t", {"id": 7761239926287.0}, [["id"]]) == "t_7761239926287"
    assert record_id_for("t", {"id": -0.0}, [["id"]]) == "t_0"
    assert record_id_for("t", {"a": 1.0, "b": [2.0, 2.5]}, [["a"], ["b"]]) == "t_1_[2, 2.5]"
    assert record_id_for("t", {"id": float("inf")}, [["id"]]) == "t_Infinity"
    doc = builder().build("t", {"id": 42.0, "subject": "x"}, [["id"]])
    assert doc.record_id == "t_42"


def test_legal_name_limits_length():
    assert len(legal_name("x" * 400)) == 255
