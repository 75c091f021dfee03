"""A source row as the connector would have written it into a collection it creates.

Typed columns are filled the way the writer fills them (`_ab_stream`, `_ab_record_id`, the text,
the filter columns with their sentinels), the primary key is the writer's (record id, chunk) key,
and every other field stays as dynamic metadata, `_ab_hash` included: a later sync then reuses the
copied vectors, finds a record's rows by key and deduplicates exactly. Pure: no Milvus, no embedding.

A row gets a key of its own (derived from its source key, so that copying it again overwrites it)
when it has no record id, no chunk index (rows of other tools), or when an earlier row already has
its (record, chunk): append streams keep every version of a record under random keys. Such rows
with a record id make the collection unkeyed, as the writer does for append streams.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import TYPE_CHECKING, Any, Callable

from ..errors import ConfigError
from ..schema import CHUNK, RECORD_ID, STREAM, row_key

if TYPE_CHECKING:
    from ..schema import CollectionInfo

BOOKKEEPING_COLUMN_BYTES = {STREAM: 256, RECORD_ID: 2048}  # their max_length in collections the connector creates


def _is_chunk_index(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def record_id_of(row: dict[str, Any]) -> str | None:
    """The row's record id, None when it has none (the writer stores "" for records without one)."""
    value = row.get(RECORD_ID)
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else str(value)


def _fit_text(text: str, limit: int) -> str:
    data = text.encode("utf-8", "replace")
    return text if len(data) <= limit else data[:limit].decode("utf-8", "ignore")


def _is_vector(dtype: Any) -> bool:
    return str(getattr(dtype, "name", dtype)).upper().endswith("VECTOR")


class RowConverter:
    """Source rows (every field, as `pages_by_key` reads them) into the target's rows."""

    def __init__(self, source: CollectionInfo, target: CollectionInfo, text_field: str) -> None:
        self.source = source
        self.target = target
        self.text_field = text_field
        # the source's key, what a function filled, and other vector fields: no place in the target's JSON
        self.dropped = {source.pk_field, *source.function_outputs, *target.function_outputs,
                        *(name for name, dtype in source.fields.items()
                          if _is_vector(dtype) and name != source.vector_field)}
        self.filled = {source.vector_field, text_field, STREAM, RECORD_ID, *target.metadata_columns}
        self.refused: Counter[str] = Counter()  # filter-column values stored as the sentinel, by column

    def connector_key(self, row: dict[str, Any]) -> Any | None:
        """The writer's key of the row, from (record id, chunk); None without either."""
        record_id, chunk = record_id_of(row), row.get(CHUNK)
        if record_id is None or not _is_chunk_index(chunk):
            return None
        return row_key(record_id, chunk, int_keys=self.target.int_keys, max_length=self.target.pk_max_length)

    def own_key(self, source_key: Any) -> Any:
        """A key of the row's own, the same each time the row is copied: 32 hex digits, like the writer's
        random keys (never a record key, which has a '#')."""
        digest = hashlib.blake2b(f"{type(source_key).__name__}:{source_key}".encode(), digest_size=16)
        if self.target.int_keys:
            return int.from_bytes(digest.digest()[:8], "big") & ((1 << 63) - 1)
        return digest.hexdigest()

    def target_row(self, row: dict[str, Any], key: Any) -> dict[str, Any]:
        source_key = row.get(self.source.pk_field)
        out: dict[str, Any] = {}
        for name, value in row.items():
            if name in self.dropped or name in self.filled:
                continue
            out[self._free_name(name, out)] = value
        out[self.target.pk_field] = key
        out[self.target.vector_field] = row[self.source.vector_field]
        if self.text_field in self.target.fields:
            text = row.get(self.text_field)
            out[self.text_field] = _fit_text(text, self.target.text_limit(self.text_field)) if isinstance(text, str) else ""
        out[STREAM] = self._bounded(STREAM, row.get(STREAM), source_key)
        out[RECORD_ID] = self._bounded(RECORD_ID, record_id_of(row), source_key)
        for name in self.target.metadata_columns:
            out[name], refused = self.target.column_value(name, row.get(name))
            if refused:
                self.refused[name] += 1
        return out

    def _free_name(self, name: str, out: dict[str, Any]) -> str:
        """A dynamic field named like one of the target's own fields is renamed as the writer renames
        record fields (`id` -> `_id`): a leading underscore until the name is free."""
        target = name
        while target in self.target.fields or target in out:
            target = "_" + target
        return target

    def _bounded(self, name: str, value: Any, source_key: Any) -> str:
        text = "" if value is None else value if isinstance(value, str) else str(value)
        limit = int(self.target.field_params.get(name, {}).get("max_length", BOOKKEEPING_COLUMN_BYTES[name]))
        if len(text.encode("utf-8", "replace")) > limit:
            raise ConfigError(f"Row {source_key!r} of collection '{self.source.name}' has a {name} of more than "
                              f"{limit} bytes, which the new collection's {name} column cannot hold: it was not "
                              "written by this connector (which hashes longer record ids).")
        return text


def choose_keys(converter: RowConverter, page: list[dict[str, Any]], taken: set[Any],
                decided: Callable[[Any], bool | None]) -> tuple[list[Any], list[Any], int]:
    """The target key of each row of a page: (keys, source keys of rows that collided, how many rows
    with a record id got a key of their own: the collection is then unkeyed).

    `taken`: connector keys the target already holds (rows of earlier pages); `decided(source key)`:
    for rows of a page an interrupted run had started, whether that run gave the row a key of its own
    (True/False), else None. Those rows are not judged again: their key may be in `taken` because
    that run wrote them."""
    pk = converter.source.pk_field
    keys: list[Any] = []
    collided: list[Any] = []
    unkeyed = 0
    seen: set[Any] = set()
    for row in page:
        source_key, wanted = row[pk], converter.connector_key(row)
        earlier = decided(source_key)
        if wanted is None:
            own = True
        elif earlier is not None:
            own = earlier
        else:
            own = wanted in taken or wanted in seen
        if own and wanted is not None and earlier is None:
            collided.append(source_key)
        unkeyed += own and record_id_of(row) is not None
        key = converter.own_key(source_key) if own else wanted
        seen.add(key)
        keys.append(key)
    return keys, collided, unkeyed

