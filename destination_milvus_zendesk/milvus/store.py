"""`MilvusStore`: the one object the commands, the writer (as a `VectorStore`) and the support
lookups use. It holds the parts and forwards to them, so each can change on its own: the
connection (how the client is opened), the collection (its shape and lifecycle), the rows (what is
written, deleted and read) and the searches."""

from __future__ import annotations

from typing import Any, Callable, Iterator

from pymilvus import MilvusClient

from ..config import IndexingConfig
from ..schema import CollectionInfo
from ..store import StoredRow
from .collection import CollectionManager
from .connection import MilvusConnection
from .errors import call
from .rows import MilvusRows
from .search import MilvusSearch


class MilvusStore:
    def __init__(self, cfg: IndexingConfig, *, write_batch_rows: int = 1000, write_batch_bytes: int = 16 << 20) -> None:
        self.cfg = cfg
        self.collection = cfg.collection
        self.connection = MilvusConnection(cfg)
        self.collection_manager = CollectionManager(self.connection)
        self.rows = MilvusRows(self.connection, self.collection_manager, write_batch_rows=write_batch_rows,
                               write_batch_bytes=write_batch_bytes if not cfg.is_lite else min(write_batch_bytes,
                                                                                                8 << 20))
        self.searches = MilvusSearch(self.collection_manager)

    @property
    def client(self) -> MilvusClient | None:
        """The open client (None before connect and after close)."""
        return self.connection.client

    @client.setter
    def client(self, client: MilvusClient | None) -> None:
        self.connection.client = client

    @property
    def info(self) -> CollectionInfo | None:
        """The described collection (None before `describe`/`create_collection`)."""
        return self.collection_manager.info

    @staticmethod
    def call(request: Callable[[], Any], what: str) -> Any:
        """A Milvus request, retried and classified (errors.call)."""
        return call(request, what)

    # --- connection ---------------------------------------------------------------------------

    @property
    def lite_missing(self) -> bool:
        return self.connection.lite_missing

    def connect(self, *, create: bool | None = None) -> MilvusClient:
        return self.connection.connect(create=create)

    def close(self) -> None:
        self.connection.close()

    # --- the collection -----------------------------------------------------------------------

    def describe(self) -> CollectionInfo | None:
        return self.collection_manager.describe()

    def repair(self, info: CollectionInfo) -> CollectionInfo:
        return self.collection_manager.repair(info)

    def load(self, info: CollectionInfo) -> None:
        self.collection_manager.load(info)

    def create_collection(self, dimensions: int, partitioned: bool = True) -> CollectionInfo:
        return self.collection_manager.create(dimensions, partitioned)

    def set_keyed_rows(self, keyed: bool) -> None:
        self.collection_manager.set_keyed_rows(keyed)

    def set_model(self, model_id: str) -> None:
        self.collection_manager.set_model(model_id)

    def set_property(self, name: str, value: str) -> None:
        self.collection_manager.set_property(name, value)

    # --- rows ---------------------------------------------------------------------------------

    def primary_key(self, record_id: str | None, chunk_index: int) -> Any:
        return self.rows.primary_key(record_id, chunk_index)

    def write(self, rows: list[dict[str, Any]], sizes: list[int] | None = None) -> list[Any]:
        return self.rows.write(rows, sizes)

    def delete(self, filter_expr: str) -> None:
        self.rows.delete(filter_expr)

    def delete_records(self, record_ids: list[str], keep_write_id: str | None = None) -> None:
        self.rows.delete_records(record_ids, keep_write_id)

    def delete_stream_rows_except(self, stream: str, tag: str) -> None:
        self.rows.delete_stream_rows_except(stream, tag)

    def delete_records_in_tag(self, record_ids: list[str], tag: str, keep_write_id: str) -> None:
        self.rows.delete_records_in_tag(record_ids, tag, keep_write_id)

    def query(self, expr: str, output_fields: list[str]) -> list[dict[str, Any]]:
        return self.rows.query(expr, output_fields)

    def existing_keys(self, keys: list[Any], guarantee_ts: int = 0) -> set[Any]:
        return self.rows.existing_keys(keys, guarantee_ts)

    def write_timestamp(self) -> int:
        return self.rows.write_timestamp()

    def chunks_by_key(self, keys: list[Any], guarantee_ts: int = 0,
                      vectors: bool = True) -> dict[Any, tuple[str | None, list[float] | None]]:
        return self.rows.chunks_by_key(keys, guarantee_ts, vectors)

    def stored_rows(self, record_ids: list[str]) -> tuple[list[StoredRow], set[str]]:
        return self.rows.stored_rows(record_ids)

    def vectors_by_key(self, keys: list[Any]) -> dict[Any, list[float]]:
        return self.rows.vectors_by_key(keys)

    def delete_keys(self, keys: list[Any]) -> None:
        self.rows.delete_keys(keys)

    def has_tagged_rows(self, stream: str, tag: str) -> bool:
        return self.rows.has_tagged_rows(stream, tag)

    def count(self, expr: str = "") -> int:
        return self.rows.count(expr)

    def is_empty(self) -> bool:
        return self.rows.is_empty()

    def has_rows(self, expr: str) -> bool:
        return self.rows.has_rows(expr)

    def visible_count(self) -> int:
        return self.rows.visible_count()

    def pages_by_key(self, after: Any = None, page_rows: int = 1000) -> Iterator[list[dict[str, Any]]]:
        return self.rows.pages_by_key(after, page_rows)

    def search(self, vector: Any, *, filter_expr: str, limit: int, output_fields: list[str],
               consistency_level: str = "Strong") -> list[dict[str, Any]]:
        return self.searches.search(vector, filter_expr=filter_expr, limit=limit, output_fields=output_fields,
                                    consistency_level=consistency_level)

    def hybrid_search(self, vector: Any, text: str, *, filter_expr: str, limit: int, output_fields: list[str],
                      fusion: tuple[str, Any], consistency_level: str = "Strong") -> list[dict[str, Any]]:
        return self.searches.hybrid_search(vector, text, filter_expr=filter_expr, limit=limit,
                                           output_fields=output_fields, fusion=fusion,
                                           consistency_level=consistency_level)

    def text_search(self, text: str, *, filter_expr: str, limit: int, output_fields: list[str],
                    consistency_level: str = "Strong") -> list[dict[str, Any]]:
        return self.searches.text_search(text, filter_expr=filter_expr, limit=limit, output_fields=output_fields,
                                         consistency_level=consistency_level)
