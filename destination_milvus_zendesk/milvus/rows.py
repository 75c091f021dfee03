"""The row side of the store: writes in bounded requests, deletes by record, tag and write id, point
reads by key, counts and whole-collection reads. It needs a connected client and a described
collection, nothing of how either came to be. The searches are search.py's."""

from __future__ import annotations

import json
from typing import Any, Iterator

import numpy as np
import orjson
from pymilvus import MilvusClient

from ..schema import GENERATION, RECORD_ID, TEXT_HASH, WRITE_ID, CollectionInfo, row_key
from ..store import StoredRow
from . import filters
from .collection import CollectionManager
from .connection import MilvusConnection
from .errors import call

QUERY_LIMIT = 16_384  # Milvus's maximum query result window
RECORDS_PER_SCAN = 4096  # record ids per filter read that scans every row (its cost hardly depends on them)
KEYS_PER_DELETE = 4096  # primary keys per delete by key


class MilvusRows:
    def __init__(self, connection: MilvusConnection, collection: CollectionManager, *, write_batch_rows: int,
                 write_batch_bytes: int) -> None:
        self.connection = connection
        self.collection = collection
        self.name = collection.name
        self.timeout = connection.cfg.timeout_seconds
        self.write_batch_rows = write_batch_rows
        self.write_batch_bytes = write_batch_bytes

    @property
    def client(self) -> MilvusClient:
        return self.connection.connected()

    @property
    def info(self) -> CollectionInfo:
        return self.collection.described()

    # --- keys ---------------------------------------------------------------------------------

    def primary_key(self, record_id: str | None, chunk_index: int) -> Any:
        """A deterministic key per (record, chunk) so a re-sync overwrites in place; random without a record id."""
        info = self.info
        if info.auto_id:
            return None
        return row_key(record_id, chunk_index, int_keys=info.int_keys, max_length=info.pk_max_length)

    # --- writes -------------------------------------------------------------------------------

    def write(self, rows: list[dict[str, Any]], sizes: list[int] | None = None) -> list[Any]:
        """Insert (auto-id) or upsert (record-defined key), in batches bounded by rows and bytes.
        Returns the rows' primary keys in order (on auto-id collections, the ones Milvus assigned).

        `sizes`: the rows' sizes if the caller knows them (the writer sizes a record's metadata once
        for all its chunks instead of every value of every row)."""
        client, info = self.client, self.info
        op = client.insert if info.auto_id else client.upsert
        keys: list[Any] = []
        for batch in self._batches(rows, sizes):
            result = call(lambda b=batch: op(self.name, b, timeout=self.timeout * 3), f"writing {len(batch)} rows")
            keys.extend(result["ids"] if info.auto_id else (row[info.pk_field] for row in batch))
        return keys

    def _batches(self, rows: list[dict[str, Any]], sizes: list[int] | None = None) -> Iterator[list[dict[str, Any]]]:
        batch: list[dict[str, Any]] = []
        size = 0
        for n, row in enumerate(rows):
            row_bytes = sizes[n] if sizes is not None else _row_bytes(row)
            if batch and (len(batch) >= self.write_batch_rows or size + row_bytes > self.write_batch_bytes):
                yield batch
                batch, size = [], 0
            batch.append(row)
            size += row_bytes
        if batch:
            yield batch

    def delete(self, filter_expr: str) -> None:
        client = self.client
        call(lambda: client.delete(self.name, filter=filter_expr, timeout=self.timeout * 3), "deleting rows")

    def delete_records(self, record_ids: list[str], keep_write_id: str | None = None) -> None:
        """Remove the rows of these records, except those written by `keep_write_id` (this batch)."""
        for ids in filters.batches(sorted(set(record_ids))):
            self.delete(filters.records_except_write(ids, keep_write_id))

    def delete_stream_rows_except(self, stream: str, tag: str) -> None:
        """Truncate at the end of a sync: every row of `stream` not written under `tag` (this job's
        GENERATION value), including rows with no tag at all (other tools, older versions)."""
        self.delete(filters.stream_rows_except_tag(stream, tag))

    def delete_records_in_tag(self, record_ids: list[str], tag: str, keep_write_id: str) -> None:
        """Overwrite with a primary key: the record's rows an earlier attempt of this job (same tag)
        wrote, except this batch's; rows of earlier jobs stay readable until the end-of-sync delete."""
        for ids in filters.batches(sorted(set(record_ids))):
            self.delete(filters.records_in_tag_except_write(ids, tag, keep_write_id))

    # --- reads --------------------------------------------------------------------------------

    def query(self, expr: str, output_fields: list[str]) -> list[dict[str, Any]]:
        client = self.client
        return call(lambda: client.query(self.name, filter=expr, output_fields=output_fields, limit=QUERY_LIMIT,
                                         consistency_level="Strong", timeout=self.timeout * 3), "querying rows")

    def existing_keys(self, keys: list[Any], guarantee_ts: int = 0) -> set[Any]:
        """Which of these primary keys are stored: point reads by key, cheap on every backend, unlike a
        filter query (Milvus Lite scans its whole memtable for one; the server scans growing segments).

        `guarantee_ts` (a `write_timestamp()`): see every write up to it, instead of a strong read,
        which on a busy 2.3 server waits 0.2-0.7 s for the newest timestamp to become readable.
        """
        pk = self.info.pk_field
        return {row[pk] for row in self._by_key(keys, [pk], _as_of(guarantee_ts), "looking up stored rows")}

    def _by_key(self, keys: list[Any], fields: list[str], consistency: dict[str, Any], what: str) -> Iterator[dict]:
        """The stored rows among `keys`, `fields` of each, read by primary key in bounded parts: the same
        `pk in [...]` read MilvusClient.get sends, but with escaped literals (get quotes VARCHAR keys as
        '...' without escaping, so a key with ' or \\ breaks the filter)."""
        client, pk = self.client, self.info.pk_field
        for part in filters.batches(list(dict.fromkeys(keys))):
            yield from call(lambda p=part: client.query(self.name, filter=filters.in_filter(pk, p), output_fields=fields,
                                                        timeout=self.timeout * 3, **consistency), what)

    def write_timestamp(self) -> int:
        """The newest (hybrid) timestamp of this client's writes to the collection, as pymilvus tracks it
        for session consistency; 0 if unknown (readers then fall back to a strong read)."""
        return self.connection.write_timestamp(self.name)

    def chunks_by_key(self, keys: list[Any], guarantee_ts: int = 0,
                      vectors: bool = True) -> dict[Any, tuple[str | None, list[float] | None]]:
        """key -> (text hash, vector) of the stored rows among `keys`: the keyed probe, which also
        answers which keys exist, so a batch needs one read by key for both (`existing_keys`'
        consistency). `vectors=False` reads the keys alone, (None, None) each: nothing would be reused."""
        pk, vector_field = self.info.pk_field, self.info.vector_field
        fields = [pk, TEXT_HASH, vector_field] if vectors else [pk]
        return {row[pk]: (row.get(TEXT_HASH), [float(x) for x in row[vector_field]]) if vectors else (None, None)
                for row in self._by_key(keys, fields, _as_of(guarantee_ts), "reading stored chunks")}

    # --- rows found by filter, removed by key (collections not keyed by record) ---------------

    def stored_rows(self, record_ids: list[str]) -> tuple[list[StoredRow], set[str]]:
        """Every stored row of these records (no vectors), and the records whose rows could not all be
        listed. A filter on a dynamic `_ab_record_id` scans every row whatever the number of ids: one
        strong read serves many records; a part filling Milvus's result window is split."""
        info = self.info
        found: list[StoredRow] = []
        incomplete: set[str] = set()
        parts = list(filters.batches(sorted(set(record_ids)), RECORDS_PER_SCAN))
        while parts:
            part = parts.pop()
            rows = self.query(filters.records(part), [info.pk_field, RECORD_ID, TEXT_HASH, GENERATION, WRITE_ID])
            if len(rows) >= QUERY_LIMIT:
                if len(part) == 1:
                    incomplete.update(part)
                else:
                    parts += [part[:len(part) // 2], part[len(part) // 2:]]
                continue
            found += [StoredRow(row[info.pk_field], row[RECORD_ID], row.get(TEXT_HASH), row.get(GENERATION),
                                row.get(WRITE_ID)) for row in rows]
        return found, incomplete

    def vectors_by_key(self, keys: list[Any]) -> dict[Any, list[float]]:
        """key -> vector, read by primary key (no scan). Bounded: a strong read just listed the rows;
        a row missed anyway only costs its embedding."""
        pk, vector_field = self.info.pk_field, self.info.vector_field
        return {row[pk]: [float(x) for x in row[vector_field]] for row in self._by_key(
            keys, [pk, vector_field], {"consistency_level": "Bounded"}, "reading stored vectors")}

    def delete_keys(self, keys: list[Any]) -> None:
        """Delete by primary key: Milvus finds the rows without evaluating a filter on every row."""
        info = self.info
        for part in filters.batches(list(dict.fromkeys(keys)), KEYS_PER_DELETE):
            self.delete(filters.in_filter(info.pk_field, part))

    def has_tagged_rows(self, stream: str, tag: str) -> bool:
        """Does any row of `stream` carry `tag`? A strong read (an earlier attempt's rows count)."""
        return self._any_row(filters.stream_rows_with_tag(stream, tag), self.info.pk_field,
                             {"consistency_level": "Strong"}, self.timeout * 3)

    def count(self, expr: str = "") -> int:
        return self._count(expr, {"consistency_level": "Strong"})

    def is_empty(self) -> bool:
        """No row at all (strong): one row read, where a count(*) grows with the collection."""
        return not self._any_row("", self.info.pk_field, {"consistency_level": "Strong"}, self.timeout * 3)

    def _count(self, expr: str, consistency: dict[str, Any]) -> int:
        client = self.client
        rows = call(lambda: client.query(self.name, filter=expr, output_fields=["count(*)"], timeout=self.timeout * 3,
                                         **consistency), "counting rows")
        return int(rows[0]["count(*)"])

    # --- reading a whole collection (migrate) ----------------------------------------------------

    def visible_count(self) -> int:
        """Rows as the collection's default consistency sees them, which is what `pages_by_key` reads:
        on a Bounded collection (the tutorial's) the last seconds' writes are not there yet; `count` is strong."""
        return self._count("", {})

    def pages_by_key(self, after: Any = None, page_rows: int = 1000) -> Iterator[list[dict[str, Any]]]:
        """Every row with every field (vectors and dynamic fields included) in primary-key order,
        `page_rows` at a time, from the first key above `after` (None: from the start). pymilvus's
        query iterator asks Milvus for key-ordered pages (`pk > last`, each within the query window),
        so memory holds one page whatever the collection's size."""
        client, info = self.client, self.info
        expr = "" if after is None else f"{info.pk_field} > {filters.literal(after)}"
        iterator = call(lambda: client.query_iterator(
            self.name, batch_size=min(page_rows, QUERY_LIMIT), filter=expr, output_fields=["*"],
            timeout=self.timeout * 3), "reading rows by key")
        try:
            while True:
                page = call(iterator.next, "reading rows by key")  # a failed next() keeps its cursor
                if not page:
                    return
                yield list(page)
        finally:
            iterator.close()

    def has_rows(self, expr: str) -> bool:
        """Does any row match `expr`? (one row read, not a count)"""
        pk = self.collection.info.pk_field if self.collection.info else "id"
        return self._any_row(expr, pk, {"consistency_level": "Bounded"}, self.timeout)

    def _any_row(self, expr: str, pk: str, consistency: dict[str, Any], timeout: float) -> bool:
        client = self.client
        return bool(call(lambda: client.query(self.name, filter=expr, output_fields=[pk], limit=1, timeout=timeout,
                                              **consistency), "querying rows"))


def _as_of(guarantee_ts: int) -> dict[str, Any]:
    """Read consistency that sees every write up to `guarantee_ts` (a `write_timestamp()`); 0: strong."""
    if guarantee_ts:
        return {"consistency_level": "Customized", "guarantee_timestamp": guarantee_ts}
    return {"consistency_level": "Strong"}


def _row_bytes(row: dict[str, Any]) -> int:
    """The row's approximate size on the wire (for bounding write requests): orjson in C, not json.dumps."""
    size = 64
    for value in row.values():
        if isinstance(value, np.ndarray) or (isinstance(value, list) and value and isinstance(value[0], float)):
            size += 4 * len(value)
        elif isinstance(value, str):
            size += len(value.encode("utf-8", "replace")) + 8
        else:
            try:
                size += len(orjson.dumps(value, default=str)) + 8
            except (TypeError, ValueError):
                size += len(json.dumps(value, ensure_ascii=False, default=str)) + 8
    return size
