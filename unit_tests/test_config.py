"""Config and spec: the official destination-milvus config must load unchanged."""

import json

import pytest

from destination_milvus_zendesk.config import parse_config, spec_schema
from destination_milvus_zendesk.destination import DestinationMilvusZendesk
from destination_milvus_zendesk.errors import ConfigError

OFFICIAL_CONFIG = {  # as saved by the official connector's UI
    "processing": {"chunk_size": 1000, "chunk_overlap": 0, "text_fields": ["body", "title", "description", "subject"],
                   "metadata_fields": [], "text_splitter": {"mode": "separator", "separators": ['"\\n\\n"', '"\\n"'],
                                                            "keep_separator": False},
                   "field_name_mappings": [{"from_field": "via.channel", "to_field": "channel"}]},
    "embedding": {"mode": "openai", "openai_key": "sk-secret"},
    "indexing": {"host": "https://in01-abc.api.gcp-us-west1.zillizcloud.com", "db": "", "collection": "zendesk",
                 "auth": {"mode": "token", "token": "tok-secret"}, "vector_field": "vector", "text_field": "text"},
    "omit_raw_text": False,
}


def test_official_config_loads_unchanged_with_ada_002():
    cfg = parse_config(OFFICIAL_CONFIG)
    assert cfg.embedding.mode == "openai"
    assert cfg.embedding.model == "text-embedding-ada-002"  # same vector space as the official connector
    assert cfg.indexing.auth.token == "tok-secret"
    assert cfg.processing.text_splitter.separators == ['"\\n\\n"', '"\\n"']
    assert not cfg.indexing.is_lite


@pytest.mark.parametrize("mode,extra", [
    ("azure_openai", {"openai_key": "k", "api_base": "https://x.openai.azure.com", "deployment": "d"}),
    ("openai_compatible", {"api_key": "k", "base_url": "http://127.0.0.1:1/v1", "dimensions": 384}),
    ("cohere", {"cohere_key": "k"}),
    ("fake", {}),
    ("from_field", {"field_name": "embedding", "dimensions": 8}),
    ("local", {}),
])
def test_every_embedding_mode_parses(mode, extra):
    cfg = parse_config({**OFFICIAL_CONFIG, "embedding": {"mode": mode, **extra}})
    assert cfg.embedding.mode == mode


def test_lite_path_and_tcp_host():
    assert parse_config({**OFFICIAL_CONFIG, "indexing": {"host": "./z.db", "collection": "c"}}).indexing.is_lite
    tcp = parse_config({**OFFICIAL_CONFIG, "indexing": {"host": "tcp://host.docker.internal:19530", "collection": "c"}})
    assert tcp.indexing.uri == "http://host.docker.internal:19530"


@pytest.mark.parametrize("patch,field", [
    ({"processing": {"chunk_size": 0}}, "processing.chunk_size"),
    ({"processing": {"chunk_size": 100, "chunk_overlap": 100}}, "processing.chunk_overlap"),
    ({"embedding": {"mode": "nope"}}, "embedding"),
    ({"indexing": {"host": "x.db"}}, "indexing.collection"),
])
def test_invalid_config_names_the_field(patch, field):
    with pytest.raises(ConfigError) as err:
        parse_config({**OFFICIAL_CONFIG, **patch})
    assert field in err.value.message
    assert "secret" not in err.value.message


def test_spec_is_inlined_and_marks_every_secret():
    spec = spec_schema()
    text = json.dumps(spec)
    assert "$ref" not in text and "$defs" not in text
    emb = {o["properties"]["mode"]["const"]: o for o in spec["properties"]["embedding"]["oneOf"]}
    assert emb["openai"]["properties"]["openai_key"]["airbyte_secret"] is True
    assert emb["azure_openai"]["properties"]["openai_key"]["airbyte_secret"] is True
    assert emb["openai_compatible"]["properties"]["api_key"]["airbyte_secret"] is True
    assert emb["cohere"]["properties"]["cohere_key"]["airbyte_secret"] is True
    auth = {o["properties"]["mode"]["const"]: o for o in spec["properties"]["indexing"]["properties"]["auth"]["oneOf"]}
    assert auth["token"]["properties"]["token"]["airbyte_secret"] is True
    assert auth["username_password"]["properties"]["password"]["airbyte_secret"] is True
    assert {g["id"] for g in spec["groups"]} == {"processing", "embedding", "indexing", "advanced"}
    assert set(spec["required"]) == {"embedding", "indexing"}


def test_connector_spec_declares_sync_modes():
    spec = DestinationMilvusZendesk().spec(None)
    modes = {m.value for m in spec.supported_destination_sync_modes}
    assert modes == {"append", "overwrite", "append_dedup"}
    assert spec.supportsIncremental


# --- what a mistyped config is told ---------------------------------------------------------------------------


def _lite(**indexing):
    return {"embedding": {"mode": "fake"}, "indexing": {"host": "x.db", "collection": "z", **indexing}}


def _message(raw) -> str:
    from destination_milvus_zendesk.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        parse_config(raw)
    return caught.value.message


def test_unknown_keys_are_found_inside_unions_and_lists():
    from destination_milvus_zendesk.config import unknown_keys

    raw = {**_lite(auth={"mode": "token", "tokn": "t"}), "processing": {"field_name_mappings": [
        {"from_field": "a", "to_fild": "b"}], "text_splitter": {"mode": "markdown", "split_levl": 2}}}
    found = {(k.path, k.suggestion) for k in unknown_keys(raw)}
    assert found == {("indexing.auth.tokn", "token"), ("processing.field_name_mappings.0.to_fild", "to_field"),
                     ("processing.text_splitter.split_levl", "split_level")}


def test_a_misspelled_key_is_refused_and_an_unrelated_one_kept_as_ignored():
    from destination_milvus_zendesk.config import ignored_keys

    assert "unknown key 'indexing.create_colection' (did you mean 'create_collection'?)" in _message(
        _lite(create_colection=True))
    assert ignored_keys(parse_config(_lite(team_note="x"))) == ["indexing.team_note"]
    assert ignored_keys(parse_config(_lite())) == []


def test_a_missing_mode_lists_the_modes_of_that_union():
    assert _message(_lite(auth={})) == ("Invalid configuration at 'indexing.auth.mode': required: one of token, "
                                        "username_password, no_auth.")


@pytest.mark.parametrize("host, expected", [
    ("localhost:19530", "for a Milvus server write 'http://localhost:19530'"),
    ("milvus.internal", "for a Milvus server write 'http://milvus.internal:19530'"),
    ("data/zendesk", "must end in .db, e.g. 'data/zendesk.db'"),
])
def test_host_that_is_neither_a_url_nor_a_lite_file(host, expected):
    assert expected in _message(_lite(host=host))


def test_a_lite_path_is_made_absolute_and_a_url_kept(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert parse_config(_lite(host="sub/z.db")).indexing.host == str(tmp_path / "sub" / "z.db")
    assert parse_config(_lite(host="https://a.example:443")).indexing.host == "https://a.example:443"
