"""migrate's logic in memory: rows converted as the writer would have written them, keys chosen
(collisions of append streams included), progress recorded and resumed after a kill at every
step, refusals, the scanning-shape advice, and the command's output. Milvus itself: see
integration_tests/test_migrate.py."""

from __future__ import annotations

import ast
import copy
import json
from pathlib import Path
from typing import Any

import pytest


from destination_milvus_zendesk import migrate
from destination_milvus_zendesk.config import parse_config
from destination_milvus_zendesk.errors import ConfigError, ServiceError
from destination_milvus_zendesk.migration.copy import RECENT_PAGES, Migration, MigrationResult, WrittenKeys
from destination_milvus_zendesk.migration.progress import Progress
from destination_milvus_zendesk.migration.rows import RowConverter, choose_keys
from destination_milvus_zendesk.migration.shape import ADVICE_ROWS_ENV, scanning_advice, scans_every_row
from destination_milvus_zendesk.schema import NO_ORGANIZATION_ID, CollectionInfo, Kind
from destination_milvus_zendesk.schema import COLUMNS_PROPERTY, KEYED_PROPERTY, MIGRATION_PROPERTY, MODEL_PROPERTY

PACKAGE = Path(__file__).resolve().parents[1] / "destination_milvus_zendesk"


def tutorial_info(properties: dict[str, str] | None = None) -> CollectionInfo:
    return CollectionInfo("zendesk", "id", Kind.INT64, True, 0, "vector", Kind.FLOAT_VECTOR, 4, True,
                          {"id": Kind.INT64, "vector": Kind.FLOAT_VECTOR}, {}, "L2", dict(properties or {}))


def created_info(name: str = "zendesk_v2") -> CollectionInfo:
    fields = {"id": Kind.VARCHAR, "vector": Kind.FLOAT_VECTOR, "text": Kind.VARCHAR,
              "_ab_stream": Kind.VARCHAR, "_ab_record_id": Kind.VARCHAR, "status": Kind.VARCHAR,
              "organization_id": Kind.INT64, "_ab_bm25": Kind.SPARSE_FLOAT_VECTOR}
    params = {"id": {"max_length": 512}, "text": {"max_length": 40}, "_ab_stream": {"max_length": 256},
              "_ab_record_id": {"max_length": 2048}, "status": {"max_length": 256}}
    return CollectionInfo(name, "id", Kind.VARCHAR, False, 512, "vector", Kind.FLOAT_VECTOR, 4, True, fields,
                          params, "L2", {KEYED_PROPERTY: "1", COLUMNS_PROPERTY: "status,organization_id"},
                          function_outputs=frozenset({"_ab_bm25"}), bm25_field="_ab_bm25")


def tutorial_row(pk: int, record: int | None, chunk: Any = 0, **extra: Any) -> dict[str, Any]:
    """A row as the writer stores it in the tutorial's collection (every field but `id` dynamic)."""
    row = {"id": pk, "vector": [float(pk), 0.0, 0.0, 1.0], "text": f"description: ticket {record} chunk {chunk}",
           "_ab_stream": "tickets", "_ab_record_id": f"tickets_{record}" if record is not None else "",
           "_ab_chunk": chunk, "_ab_hash": f"h{pk}", "_ab_write": "w1", "_ab_gen": "g1", "_id": record,
           "status": "open", "organization_id": 7, "tags": ["billing"], "via": {"channel": "email"}}
    row.update(extra)
    return row


class Killed(Exception):
    """The process dies here (kill -9): nothing after this step happens."""


class FakeCollection:
    """The part of MilvusStore migrate uses, in memory: rows by key, properties, a kill switch."""

    def __init__(self, name: str, info: CollectionInfo | None, rows: list[dict[str, Any]] = (),
                 creates: CollectionInfo | None = None) -> None:
        self.collection = name
        self.stored = info
        self.creates = creates
        self.info: CollectionInfo | None = None
        self.rows = {row[info.pk_field]: row for row in rows} if info else {}
        self.steps = 0  # writes and property changes so far
        self.kill_at: int | None = None
        self.extra_count = 0  # rows `count` reports beyond the stored ones (a source that changed)

    def _step(self) -> None:
        self.steps += 1
        if self.kill_at is not None and self.steps >= self.kill_at:
            raise Killed()

    def connect(self, create: bool | None = None) -> None:
        pass

    def describe(self) -> CollectionInfo | None:
        self.info = copy.deepcopy(self.stored)
        return self.info

    def load(self, info: CollectionInfo) -> None:
        pass

    def repair(self, info: CollectionInfo) -> CollectionInfo:
        return info

    def close(self) -> None:
        pass

    def create_collection(self, dimensions: int) -> CollectionInfo:
        self.stored = copy.deepcopy(self.creates)
        return self.describe()

    def count(self) -> int:
        return len(self.rows) + self.extra_count

    def visible_count(self) -> int:
        return len(self.rows) + self.extra_count

    def has_rows(self, expr: str) -> bool:
        return False

    def pages_by_key(self, after: Any = None, page_rows: int = 1000):
        keys = sorted(k for k in self.rows if after is None or k > after)
        for start in range(0, len(keys), page_rows):
            yield [dict(self.rows[k]) for k in keys[start:start + page_rows]]

    def existing_keys(self, keys: list[Any], guarantee_ts: int = 0) -> set[Any]:
        return {k for k in keys if k in self.rows}

    def write_timestamp(self) -> int:
        return 0

    def set_property(self, name: str, value: str) -> None:
        self._step()
        self.stored.properties[name] = value
        self.info.properties[name] = value

    def set_keyed_rows(self, keyed: bool) -> None:
        self.set_property(KEYED_PROPERTY, "1" if keyed else "0")

    def write(self, rows: list[dict[str, Any]]) -> None:
        for n, row in enumerate(rows):
            if n == len(rows) // 2:
                self._step()  # killed half way through a write: some rows of the page are stored
            self.rows[row[self.stored.pk_field]] = row


def config(tmp_path) -> Any:
    return parse_config({"embedding": {"mode": "fake"},
                         "indexing": {"host": str(tmp_path / "m.db"), "collection": "zendesk"}})


def stores(rows: list[dict[str, Any]], properties: dict[str, str] | None = None) -> tuple[FakeCollection, FakeCollection]:
    return (FakeCollection("zendesk", tutorial_info(properties), rows),
            FakeCollection("zendesk_v2", None, creates=created_info()))


def migrate_with(tmp_path, pair: tuple[FakeCollection, FakeCollection], page_rows: int = 3) -> MigrationResult:
    return Migration(config(tmp_path), "zendesk_v2", page_rows=page_rows, stores=pair).run()


# a tutorial collection after append_dedup syncs: records 1-4 (record 2 in three chunks), an article
CLEAN = [tutorial_row(10, 1), tutorial_row(11, 2, 0), tutorial_row(12, 2, 1), tutorial_row(13, 2, 2),
         tutorial_row(14, 3), tutorial_row(15, 4, status=None, organization_id=None),
         tutorial_row(16, 1001, _ab_stream="articles", _ab_record_id="articles_1001", title="Invoices", status=None, organization_id=None)]
# ... plus what append streams and other tools leave: two versions of record 5 (same record and chunk),
# a row without a record id, a row without a chunk index, a third version of record 1 in a later page
MESSY = CLEAN + [tutorial_row(20, 5), tutorial_row(21, 5), tutorial_row(22, None), tutorial_row(23, 6, chunk=None),
                 tutorial_row(30, 1)]


# --- rows ---------------------------------------------------------------------------------------


def test_a_tutorial_row_becomes_the_row_the_writer_writes_into_a_created_collection():
    converter = RowConverter(tutorial_info(), created_info(), "text")
    source = tutorial_row(10, 1, text="x" * 50, _ab_bm25={1: 0.5})
    row = converter.target_row(source, converter.connector_key(source))
    assert row["id"] == "tickets_1#0"  # the writer's (record, chunk) key
    assert row["vector"] == source["vector"] and row["_ab_record_id"] == "tickets_1" and row["_ab_stream"] == "tickets"
    assert row["status"] == "open" and row["organization_id"] == 7  # typed columns
    assert row["text"] == "x" * 40  # cut to the column's max_length, as the writer cuts
    assert {k: row[k] for k in ("_ab_chunk", "_ab_hash", "_ab_write", "_ab_gen", "_id", "tags", "via")} == {
        "_ab_chunk": 0, "_ab_hash": "h10", "_ab_write": "w1", "_ab_gen": "g1", "_id": 1, "tags": ["billing"],
        "via": {"channel": "email"}}  # dynamic metadata kept; the hash lets a later sync reuse the vector
    assert "_ab_bm25" not in row  # Milvus fills it from the text


def test_missing_filter_values_take_the_sentinels_and_values_that_do_not_fit_are_counted():
    converter = RowConverter(tutorial_info(), created_info(), "text")
    empty = converter.target_row(tutorial_row(1, 1, status=None, organization_id=None), "k1")
    assert (empty["status"], empty["organization_id"]) == ("", NO_ORGANIZATION_ID)
    odd = converter.target_row(tutorial_row(2, 2, organization_id="acme"), "k2")
    assert odd["organization_id"] == NO_ORGANIZATION_ID and converter.refused == {"organization_id": 1}
    text = converter.target_row(tutorial_row(3, 3, organization_id="42", text=None), "k3")
    assert text["organization_id"] == 42 and text["text"] == ""


def test_a_dynamic_field_named_like_a_target_field_is_renamed_as_the_writer_renames_it():
    source = CollectionInfo("hand", "pk", Kind.INT64, True, 0, "vector", Kind.FLOAT_VECTOR, 4, True,
                            {"pk": Kind.INT64, "vector": Kind.FLOAT_VECTOR}, {}, "L2")
    converter = RowConverter(source, created_info(), "text")
    row = converter.target_row({"pk": 1, "vector": [0.0] * 4, "id": 99, "_id": "taken", "_ab_record_id": "r"}, "k")
    assert row["id"] == "k" and row["_id"] == 99 and row["__id"] == "taken"  # as the writer, in field order


def test_keys_of_their_own_are_stable_and_never_look_like_record_keys():
    converter = RowConverter(tutorial_info(), created_info(), "text")
    assert converter.own_key(22) == converter.own_key(22) != converter.own_key(23) != converter.own_key("23")
    assert len(converter.own_key(22)) == 32 and "#" not in converter.own_key(22)
    assert converter.connector_key(tutorial_row(1, None)) is None  # no record id
    assert converter.connector_key(tutorial_row(1, 3, chunk=None)) is None  # no chunk index (other tools)
    assert converter.connector_key(tutorial_row(1, 3, chunk=True)) is None
    assert converter.connector_key(tutorial_row(1, 3, chunk=2)) == "tickets_3#2"


def test_a_record_id_longer_than_the_column_is_one_line_naming_the_row():
    converter = RowConverter(tutorial_info(), created_info(), "text")
    with pytest.raises(ConfigError, match="Row 5 of collection 'zendesk' has a _ab_record_id of more than 2048"):
        converter.target_row(tutorial_row(5, 1, _ab_record_id="r" * 3000), "k")


def test_rows_that_collide_get_keys_of_their_own_and_make_the_collection_unkeyed():
    converter = RowConverter(tutorial_info(), created_info(), "text")
    page = [tutorial_row(20, 5), tutorial_row(21, 5), tutorial_row(22, None), tutorial_row(23, 1)]
    keys, collided, unkeyed = choose_keys(converter, page, taken={"tickets_1#0"}, decided=lambda key: None)
    assert keys == ["tickets_5#0", converter.own_key(21), converter.own_key(22), converter.own_key(23)]
    assert collided == [21, 23] and unkeyed == 2  # the row without a record id needs no record, keeps keys
    # rows an interrupted run had keyed are keyed the same, whatever the target holds now
    decided = {20: False, 21: True}
    keys, collided, unkeyed = choose_keys(converter, page[:2], taken={"tickets_5#0"}, decided=decided.get)
    assert keys == ["tickets_5#0", converter.own_key(21)] and collided == [] and unkeyed == 1


# --- progress -----------------------------------------------------------------------------------


def test_progress_round_trips_and_anything_else_is_no_migration():
    progress = Progress("zendesk", after=12, page_end=15, own_keys=(14,), rows=3)
    assert Progress.from_json(progress.to_json()) == progress
    assert Progress.from_json(Progress("z", after="a#0", page_end="c#1").to_json()).page_end == "c#1"
    for raw in (None, "", "{", "[]", '{"state": "copying"}', '{"source": "z", "state": "other"}'):
        assert Progress.from_json(raw) is None


def test_progress_keeps_the_decisions_of_a_page_until_every_row_of_it_is_written():
    started = Progress("z").begin_page(15, [14])
    assert [started.decided(k) for k in (11, 14, 15, 16)] == [False, True, False, None]
    smaller = started.page_written(13, 3)  # a resumed run with smaller pages: rows 14-15 still decided
    assert (smaller.after, smaller.page_end, smaller.own_keys, smaller.rows) == (13, 15, (14,), 3)
    assert smaller.decided(13) is None and smaller.decided(14) is True
    done = smaller.page_written(20, 2)
    assert (done.page_end, done.own_keys, done.decided(14)) == (None, (), None)


# --- the copy -----------------------------------------------------------------------------------


def test_a_clean_tutorial_collection_is_copied_with_connector_keys(tmp_path):
    source, target = stores(CLEAN, {MODEL_PROPERTY: "fake:hashing:4", "dmz.support_rule": "{}"})
    before = copy.deepcopy(source.rows)
    result = migrate_with(tmp_path, (source, target))
    assert (result.rows, result.copied, result.tokens, result.keyed, result.own_keys) == (7, 7, 0, True, 0)
    assert sorted(target.rows) == sorted(["tickets_1#0", "tickets_2#0", "tickets_2#1", "tickets_2#2", "tickets_3#0",
                                          "tickets_4#0", "articles_1001#0"])
    props = target.stored.properties
    assert props[MODEL_PROPERTY] == "fake:hashing:4" and props["dmz.support_rule"] == "{}"
    assert props[KEYED_PROPERTY] == "1" and Progress.from_json(props[MIGRATION_PROPERTY]).done
    assert source.rows == before and source.steps == 0  # the source is only read


def test_append_versions_and_rows_of_other_tools_are_all_kept(tmp_path):
    source, target = stores(MESSY)
    result = migrate_with(tmp_path, (source, target))
    assert result.rows == len(MESSY) == len(target.rows) and not result.keyed and result.own_keys == 3
    converter = RowConverter(source.stored, target.stored, "text")
    assert {converter.own_key(k) for k in (21, 22, 23, 30)} <= set(target.rows)
    assert target.stored.properties[KEYED_PROPERTY] == "0"  # syncs find rows by the record column


@pytest.mark.parametrize("resume_page_rows", [2, 3, 5])
def test_killed_at_any_step_and_resumed_the_copy_is_exactly_the_uninterrupted_one(tmp_path, resume_page_rows):
    reference = stores(MESSY)
    migrate_with(tmp_path, reference)
    steps = reference[1].steps
    for kill_at in range(1, steps + 1):
        pair = stores(MESSY)
        pair[1].kill_at = kill_at
        with pytest.raises(Killed):
            migrate_with(tmp_path, pair)
        pair[1].kill_at = None
        result = migrate_with(tmp_path, pair, page_rows=resume_page_rows)
        assert pair[1].rows == reference[1].rows, f"killed at step {kill_at}"
        assert result.rows == len(MESSY) and result.resumed
        assert pair[1].stored.properties[KEYED_PROPERTY] == "0"


def test_keys_of_recent_pages_are_remembered_and_older_ones_read_at_a_readable_timestamp():
    class Clock(FakeCollection):
        def __init__(self) -> None:
            super().__init__("t", created_info())
            self.ts, self.reads = 0, []

        def write_timestamp(self) -> int:
            self.ts += 10
            return self.ts

        def existing_keys(self, keys: list[Any], guarantee_ts: int = 0) -> set[Any]:
            self.reads.append((sorted(keys), guarantee_ts))
            return {k for k in keys if k == "old"}

    store = Clock()
    fresh = WrittenKeys(store, empty=True)
    for page in range(RECENT_PAGES):
        fresh.written([f"p{page}"])
    assert fresh.taken(["p0", "new"]) == {"p0"} and store.reads == []  # all in memory: no read at all
    fresh.written(["p_last"])  # the first page leaves the memory: from now on read at its timestamp
    assert fresh.taken(["p0", "p1", "old"]) == {"p1", "old"} and store.reads == [(["old", "p0"], 10)]
    resumed = WrittenKeys(store, empty=False)  # an interrupted run wrote rows: read them strongly
    assert resumed.taken(["old"]) == {"old"} and store.reads[-1] == (["old"], 0)


def test_a_finished_copy_is_verified_again_and_nothing_is_copied(tmp_path):
    pair = stores(CLEAN)
    migrate_with(tmp_path, pair)
    steps = pair[1].steps
    result = migrate_with(tmp_path, pair)
    assert result.already_done and result.copied == 0 and result.rows == 7 and pair[1].steps == steps


def test_counts_that_differ_at_the_end_are_an_error_and_a_rerun_resumes(tmp_path):
    pair = stores(CLEAN)
    migrate_with(tmp_path, pair)
    pair[1].stored.properties[MIGRATION_PROPERTY] = Progress("zendesk", after=16, rows=7).to_json()
    pair[0].extra_count = 1
    with pytest.raises(ServiceError, match="'zendesk_v2' has 7 rows but 'zendesk' has 8: the source changed"):
        migrate_with(tmp_path, pair)
    assert not Progress.from_json(pair[1].stored.properties[MIGRATION_PROPERTY]).done


def test_an_existing_collection_that_is_not_a_copy_of_the_source_is_refused(tmp_path):
    used = FakeCollection("zendesk_v2", created_info(), [{"id": "x#0", "vector": [0.0] * 4}])
    with pytest.raises(ConfigError, match="already exists and is not a copy made by migrate"):
        migrate_with(tmp_path, (stores(CLEAN)[0], used))
    other = created_info()
    other.properties[MIGRATION_PROPERTY] = Progress("tickets_old").to_json()
    with pytest.raises(ConfigError, match="is a copy of collection 'tickets_old', not of 'zendesk'"):
        migrate_with(tmp_path, (stores(CLEAN)[0], FakeCollection("zendesk_v2", other)))
    assert used.rows == {"x#0": {"id": "x#0", "vector": [0.0] * 4}}


def test_an_empty_collection_left_by_a_killed_creation_is_taken_over(tmp_path):
    empty = FakeCollection("zendesk_v2", created_info())  # created, then killed before its progress was recorded
    result = migrate_with(tmp_path, (stores(CLEAN)[0], empty))
    assert result.rows == 7 and result.resumed


@pytest.mark.parametrize("name, message", [("zendesk", "names the configured collection"),
                                           ("2fast", "is not a Milvus collection name"),
                                           ("bad-name", "is not a Milvus collection name")])
def test_target_names_are_checked_before_anything_is_opened(tmp_path, name, message):
    with pytest.raises(ConfigError, match=message):
        Migration(config(tmp_path), name, stores=stores(CLEAN))


def test_migration_never_constructs_an_embedder():
    """0 tokens by construction: neither the command nor the migration package imports embedding/."""
    files = [PACKAGE / "migrate.py", *sorted((PACKAGE / "migration").glob("*.py"))]
    for path in files:
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom):
                assert "embedding" not in (node.module or ""), f"{path.name} imports {node.module}"


# --- the scanning shape -------------------------------------------------------------------------


def test_the_tutorial_shape_scans_and_a_created_collection_does_not():
    assert scans_every_row(tutorial_info()) and not scans_every_row(created_info())


def test_the_advice_names_the_size_the_cost_and_the_command_only_above_the_threshold(monkeypatch):
    store = FakeCollection("zendesk", tutorial_info(), [tutorial_row(k, k) for k in range(1, 6)])
    monkeypatch.setenv(ADVICE_ROWS_ENV, "6")
    assert scanning_advice(store, tutorial_info()) == ""
    monkeypatch.setenv(ADVICE_ROWS_ENV, "5")
    advice = scanning_advice(store, tutorial_info(), "cfg.json")
    assert advice.startswith("Collection 'zendesk' (5 rows) stores record ids, organization ids and statuses in "
                             "dynamic fields, so every sync and lookup scans all of its rows (one such filter took ")
    assert "`python -m destination_milvus_zendesk.migrate --config cfg.json --to zendesk_v2`" in advice
    assert scanning_advice(store, created_info()) == ""


# --- the command --------------------------------------------------------------------------------


def test_the_json_summary_has_what_the_benchmark_reads():
    result = MigrationResult("zendesk", "zendesk_v2", 1000, 1000, 2.0, retrieval="hybrid")
    summary = migrate.summary(result)
    assert {k: summary[k] for k in ("rows", "seconds", "rows_per_s", "tokens", "source", "target")} == {
        "rows": 1000, "seconds": 2.0, "rows_per_s": 500.0, "tokens": 0, "source": "zendesk", "target": "zendesk_v2"}
    text = migrate.report(result, "cfg.json")
    assert "1,000 rows in 2.0 s (500 rows/s), 0 embedding tokens" in text
    assert text.endswith('set in cfg.json: "indexing": {..., "collection": "zendesk_v2"}')


def test_command_errors_are_one_line_with_their_kind(tmp_path, capsys):
    missing = str(tmp_path / "nope.json")
    assert migrate.main(["--config", missing, "--to", "zendesk_v2"]) == migrate.EXIT_CONFIG
    err = capsys.readouterr().err
    assert err.startswith("error: Cannot read the configuration file") and err.count("\n") == 1
    assert migrate.main(["--config", missing, "--to", "zendesk_v2", "--json"]) == migrate.EXIT_CONFIG
    assert json.loads(capsys.readouterr().out)["kind"] == "config"
    with pytest.raises(SystemExit):
        migrate.main(["--config", missing, "--to", "x", "--page-rows", "20000"])
    capsys.readouterr()
    with pytest.raises(SystemExit):
        migrate.main(["--config", missing, "--json"])
    assert json.loads(capsys.readouterr().out) == {"error": "the following arguments are required: --to (see --help)",
                                                   "kind": "usage"}
