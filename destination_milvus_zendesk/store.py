"""The store interface the writer depends on: what it asks of a vector database, nothing more.

`MilvusStore` (milvus/) is the real one and `MemoryStore` (memory_store.py) the in-memory
one the unit tests and the benchmark's capture share. Filters, schema details and error codes stay
behind it: the writer passes record ids, tags and write ids, never a filter expression.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .schema import CollectionInfo


class VectorStore(Protocol):
    @property
    def info(self) -> CollectionInfo | None:
        """The described collection (None before `describe`/`create_collection`)."""

    def primary_key(self, record_id: str | None, chunk_index: int) -> Any:
        """The row key of (record, chunk); random without a record id, None for auto-id collections."""

    def write(self, rows: list[dict[str, Any]], sizes: list[int] | None = None) -> None:
        """Insert or upsert `rows`; `sizes` are their approximate bytes when the caller knows them."""

    def existing_keys(self, keys: list[Any], guarantee_ts: int = 0) -> set[Any]:
        """Which of these primary keys are stored (seeing every write up to `guarantee_ts`)."""

    def write_timestamp(self) -> int:
        """A timestamp covering this client's writes so far, for `existing_keys`; 0 if unknown."""

    def stored_chunks(self, record_ids: list[str]) -> dict[tuple[str, str], list[float]]:
        """(record id, text hash) -> stored vector."""

    def count(self) -> int:
        """Rows in the collection."""

    def delete_records(self, record_ids: list[str], keep_write_id: str | None = None) -> None:
        """Remove these records' rows, except those written under `keep_write_id`."""

    def delete_records_in_tag(self, record_ids: list[str], tag: str, keep_write_id: str) -> None:
        """Remove these records' rows carrying `tag`, except those written under `keep_write_id`."""

    def delete_stream_rows_except(self, stream: str, tag: str) -> None:
        """Remove every row of `stream` not carrying `tag` (the end-of-sync truncation)."""

    def set_keyed_rows(self, keyed: bool) -> None:
        """Record whether rows with a record id are keyed by (record, chunk) (`CollectionInfo.keyed`)."""
