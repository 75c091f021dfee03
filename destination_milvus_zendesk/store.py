"""The store interface the writer depends on: what it asks of a vector database, nothing more.

`MilvusStore` (milvus/) is the real one and `MemoryStore` (memory_store.py) the in-memory
one the unit tests and the benchmark's capture share. Filters, schema details and error codes stay
behind it: the writer passes record ids, tags and write ids, never a filter expression.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .schema import CollectionInfo


@dataclass(frozen=True)
class StoredRow:
    """One stored row of a record, as `stored_rows` lists it: enough to decide whether it goes
    (tag, write id) and to reuse its vector (text hash), and the key to delete or read it by."""
    key: Any
    record_id: str
    text_hash: str | None
    tag: str | None  # GENERATION; None on rows other tools wrote
    write_id: str | None  # WRITE_ID; None on rows other tools wrote


class VectorStore(Protocol):
    @property
    def info(self) -> CollectionInfo | None:
        """The described collection (None before `describe`/`create_collection`)."""

    def primary_key(self, record_id: str | None, chunk_index: int) -> Any:
        """The row key of (record, chunk); random without a record id, None for auto-id collections."""

    def write(self, rows: list[dict[str, Any]], sizes: list[int] | None = None) -> list[Any]:
        """Insert or upsert `rows`; `sizes` are their approximate bytes when the caller knows them.
        Returns the rows' primary keys, in order (auto-id collections: the keys Milvus assigned)."""

    def existing_keys(self, keys: list[Any], guarantee_ts: int = 0) -> set[Any]:
        """Which of these primary keys are stored (seeing every write up to `guarantee_ts`)."""

    def write_timestamp(self) -> int:
        """A timestamp covering this client's writes so far, for `existing_keys`; 0 if unknown."""

    def chunks_by_key(self, keys: list[Any], guarantee_ts: int = 0,
                      vectors: bool = True) -> dict[Any, tuple[str | None, list[float] | None]]:
        """key -> (text hash, stored vector; None when `vectors` is False) of the stored rows among
        `keys`, seeing every write up to `guarantee_ts` (0: a strong read)."""

    def stored_rows(self, record_ids: list[str]) -> tuple[list[StoredRow], set[str]]:
        """(every stored row of these records, the records whose rows could not all be listed), from a
        strong read: one filter read for many records, where no key tells a record's rows."""

    def vectors_by_key(self, keys: list[Any]) -> dict[Any, list[float]]:
        """key -> stored vector, for rows `stored_rows` listed (a read by primary key); a row gone since
        is simply missing."""

    def delete_keys(self, keys: list[Any]) -> None:
        """Remove the rows with these primary keys (no filter scan)."""

    def has_tagged_rows(self, stream: str, tag: str) -> bool:
        """Does any row of `stream` carry `tag` (strong read)?"""

    def is_empty(self) -> bool:
        """Whether the collection has no row at all (a strong read)."""

    def delete_records(self, record_ids: list[str], keep_write_id: str | None = None) -> None:
        """Remove these records' rows, except those written under `keep_write_id`."""

    def delete_records_in_tag(self, record_ids: list[str], tag: str, keep_write_id: str) -> None:
        """Remove these records' rows carrying `tag`, except those written under `keep_write_id`."""

    def delete_stream_rows_except(self, stream: str, tag: str) -> None:
        """Remove every row of `stream` not carrying `tag` (the end-of-sync truncation)."""

    def set_keyed_rows(self, keyed: bool) -> None:
        """Record whether rows with a record id are keyed by (record, chunk) (`CollectionInfo.keyed`)."""
