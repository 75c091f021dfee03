"""A complete `VectorStore` in memory: rows by primary key, the same delete semantics as the Milvus
filters (a row without a write id or tag counts as "other"), and a log of the calls it received.

The unit tests and the benchmark's capture run the real writer against it; nothing in the writer
knows it is not Milvus. It lives in the package (not test_support) next to the protocol it implements,
so the import-boundary and complexity checks cover it and bench/ needs no test code.
"""

from __future__ import annotations

import itertools
from typing import Any, Callable

from .errors import TransientError
from .schema import GENERATION, KEYED_PROPERTY, RECORD_ID, STREAM, TEXT_HASH, WRITE_ID, CollectionInfo, row_key
from .store import StoredRow


class MemoryStore:
    def __init__(self, info: CollectionInfo, *, fail_on_write: int | None = None,
                 keep: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> None:
        """`info`: the collection's shape; `fail_on_write`: the n-th write raises a TransientError;
        `keep`: transforms each row before it is kept (the benchmark stores float32 vectors)."""
        self.info = info
        self.rows: dict[Any, dict[str, Any]] = {}
        self.calls: list[tuple[Any, ...]] = []  # (method name, arguments...) in call order
        self.writes = 0
        self.fail_on_write = fail_on_write
        self._keep = keep
        self._auto_ids = itertools.count(1)
        self._timestamp = 0

    def called(self, name: str) -> list[tuple[Any, ...]]:
        """The arguments of every call to `name`, in order."""
        return [call[1:] for call in self.calls if call[0] == name]

    def primary_key(self, record_id: str | None, chunk_index: int) -> Any:
        if self.info.auto_id:
            return None
        return row_key(record_id, chunk_index, int_keys=self.info.int_keys, max_length=self.info.pk_max_length)

    def write(self, rows: list[dict[str, Any]], sizes: list[int] | None = None) -> list[Any]:
        self.writes += 1
        if self.writes == self.fail_on_write:
            raise TransientError("Milvus kept failing")
        self.calls.append(("write", len(rows)))
        keys = []
        for row in rows:
            key = next(self._auto_ids) if self.info.auto_id else row[self.info.pk_field]
            self.rows.pop(key, None)  # an upsert moves the row to the end, as a re-insert would
            self.rows[key] = self._keep(row) if self._keep else row
            keys.append(key)
        self._timestamp += 1
        return keys

    def existing_keys(self, keys: list[Any], guarantee_ts: int = 0) -> set[Any]:
        self.calls.append(("existing_keys", list(keys)))
        return {k for k in keys if k in self.rows}

    def write_timestamp(self) -> int:
        return self._timestamp

    def chunks_by_key(self, keys: list[Any], guarantee_ts: int = 0,
                      vectors: bool = True) -> dict[Any, tuple[str | None, list[float] | None]]:
        self.calls.append(("chunks_by_key", list(keys), vectors))
        return {k: (self.rows[k].get(TEXT_HASH), self.rows[k][self.info.vector_field]) if vectors else (None, None)
                for k in keys if k in self.rows}

    def stored_rows(self, record_ids: list[str]) -> tuple[list[StoredRow], set[str]]:
        self.calls.append(("stored_rows", list(record_ids)))
        ids = set(record_ids)
        return [StoredRow(k, r[RECORD_ID], r.get(TEXT_HASH), r.get(GENERATION), r.get(WRITE_ID))
                for k, r in self.rows.items() if r.get(RECORD_ID) in ids], set()

    def vectors_by_key(self, keys: list[Any]) -> dict[Any, list[float]]:
        self.calls.append(("vectors_by_key", list(keys)))
        return {k: self.rows[k][self.info.vector_field] for k in keys if k in self.rows}

    def delete_keys(self, keys: list[Any]) -> None:
        self.calls.append(("delete_keys", list(keys)))
        for key in keys:
            self.rows.pop(key, None)

    def has_tagged_rows(self, stream: str, tag: str) -> bool:
        self.calls.append(("has_tagged_rows", stream, tag))
        return any(r.get(STREAM) == stream and r.get(GENERATION) == tag for r in self.rows.values())

    def count(self) -> int:
        return len(self.rows)

    def is_empty(self) -> bool:
        return not self.rows

    def delete_records(self, record_ids: list[str], keep_write_id: str | None = None) -> None:
        self.calls.append(("delete_records", tuple(record_ids), keep_write_id))
        ids = set(record_ids)
        self._remove(lambda r: r.get(RECORD_ID) in ids and (keep_write_id is None or r.get(WRITE_ID) != keep_write_id))

    def delete_records_in_tag(self, record_ids: list[str], tag: str, keep_write_id: str) -> None:
        self.calls.append(("delete_records_in_tag", tuple(record_ids), tag, keep_write_id))
        ids = set(record_ids)
        # as in Milvus, a comparison with a missing field is false: a row without a write id stays
        self._remove(lambda r: r.get(RECORD_ID) in ids and r.get(GENERATION) == tag
                     and WRITE_ID in r and r[WRITE_ID] != keep_write_id)

    def delete_stream_rows_except(self, stream: str, tag: str) -> None:
        self.calls.append(("delete_stream_rows_except", stream, tag))
        self._remove(lambda r: r.get(STREAM) == stream and r.get(GENERATION) != tag)

    def set_keyed_rows(self, keyed: bool) -> None:
        self.calls.append(("set_keyed_rows", keyed))
        self.info.properties[KEYED_PROPERTY] = "1" if keyed else "0"

    def _remove(self, doomed: Callable[[dict[str, Any]], bool]) -> None:
        self.rows = {k: r for k, r in self.rows.items() if not doomed(r)}
