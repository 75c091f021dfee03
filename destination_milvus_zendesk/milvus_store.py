"""Everything that talks to Milvus: connect, inspect, create, write, delete, read back vectors.

Only primitives both test backends support are used (milvus-server 2.3.5 and Milvus Lite):
insert, upsert with a record-defined key, delete by filter, query. Failures are classified here,
at the boundary, into one-line messages that say what to check, without secrets.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import ssl
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator
from urllib.parse import urlparse

import numpy as np
import orjson
from pymilvus import DataType, MilvusClient, MilvusException

from .config import IndexingConfig, NoAuth, TokenAuth, UsernamePasswordAuth
from .errors import ConfigError, TransientError

logger = logging.getLogger("airbyte")
# pymilvus logs every failed RPC with a traceback on stderr; failures are classified here instead.
logging.getLogger("pymilvus").setLevel(logging.CRITICAL)

MODEL_PROPERTY = "dmz.embedding_model"  # collection property recording the embedding model
# "1": every row that carries a record id is keyed by (record, chunk), so a record's stored rows can be
# probed by primary key. Set on collections this connector creates; "0" once an append stream with a
# primary key (random keys) writes into it. Absent (hand-made collections): the writer never relies on it.
KEYED_PROPERTY = "dmz.keyed_rows"
# Metadata the support form filters on (`status in [...] and organization_id == N`), stored as typed,
# indexed fields in collections this connector creates: a filter on a dynamic field parses every
# row's JSON (~0.2 s per search at 100k rows on milvus 2.3). Milvus 2.3 has no nullable fields and
# no defaults, so a row without the value (articles, tickets without organization) gets the sentinel.
# The property lists them; a record's field of that name fills the column instead of being renamed.
COLUMNS_PROPERTY = "dmz.metadata_columns"
METADATA_COLUMNS: dict[str, tuple[DataType, Any]] = {"status": (DataType.VARCHAR, ""),
                                                     "organization_id": (DataType.INT64, 0)}
COLUMN_VARCHAR_LENGTH = 256
STREAM = "_ab_stream"
RECORD_ID = "_ab_record_id"
CHUNK = "_ab_chunk"
TEXT_HASH = "_ab_hash"
WRITE_ID = "_ab_write"
GENERATION = "_ab_gen"
VARCHAR_PK_LENGTH = 512
MAX_TEXT_BYTES = 65_535
IDS_PER_FILTER = 500
QUERY_LIMIT = 16_384  # Milvus's maximum query result window
WRITE_RETRIES = 5
SUPPORTED_PK_TYPES = {DataType.INT64, DataType.VARCHAR}
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "host.docker.internal"}


@dataclass
class CollectionInfo:
    name: str
    pk_field: str
    pk_type: DataType
    auto_id: bool
    pk_max_length: int
    vector_field: str
    vector_type: DataType | None
    dimensions: int | None
    dynamic: bool
    fields: dict[str, DataType]
    field_params: dict[str, dict[str, Any]]
    metric: str | None
    properties: dict[str, str] = field(default_factory=dict)

    @property
    def metadata_columns(self) -> dict[str, DataType]:
        """Typed fields filled from the record field of the same name (see METADATA_COLUMNS)."""
        names = [n for n in self.properties.get(COLUMNS_PROPERTY, "").split(",") if n in METADATA_COLUMNS]
        return {n: self.fields[n] for n in names if self.fields.get(n) == METADATA_COLUMNS[n][0]}

    @property
    def reserved_names(self) -> set[str]:
        return set(self.fields) - set(self.metadata_columns)

    def column_value(self, name: str, value: Any) -> tuple[Any, bool]:
        """(value for the typed column, False) or (its sentinel, True) when `value` cannot be stored
        there; a missing value (None) takes the sentinel without complaint."""
        dtype, sentinel = METADATA_COLUMNS[name]
        if value is None:
            return sentinel, False
        if dtype == DataType.INT64:
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            elif isinstance(value, str) and value.strip().lstrip("-").isdigit():
                value = int(value.strip())
            if isinstance(value, int) and not isinstance(value, bool) and -(1 << 63) <= value < (1 << 63):
                return value, False
            return sentinel, True
        if not isinstance(value, str):
            return sentinel, True
        limit = int(self.field_params.get(name, {}).get("max_length", COLUMN_VARCHAR_LENGTH))
        if len(value.encode("utf-8", "replace")) > limit:
            return sentinel, True
        return value, False


_FILTER_ESCAPES = str.maketrans({'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def literal(value: Any) -> str:
    """A filter literal built from a typed value: strings JSON-quoted (escapes survive), numbers as is."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        # Only the escapes both parsers know (Milvus Lite's lexer refuses \\uXXXX, \\b and \\f, which
        # json.dumps writes for control characters); every other character stands for itself.
        return '"' + value.translate(_FILTER_ESCAPES) + '"'
    raise TypeError(f"unsupported filter value type {type(value).__name__}")


def in_filter(field_name: str, values: Iterable[Any]) -> str:
    return f"{field_name} in [{', '.join(literal(v) for v in values)}]"


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


class MilvusStore:
    def __init__(self, cfg: IndexingConfig, *, write_batch_rows: int = 1000, write_batch_bytes: int = 16 << 20) -> None:
        self.cfg = cfg
        self.collection = cfg.collection
        self.write_batch_rows = write_batch_rows
        self.write_batch_bytes = write_batch_bytes if not cfg.is_lite else min(write_batch_bytes, 8 << 20)
        self.client: MilvusClient | None = None
        self.info: CollectionInfo | None = None
        self.scalar_index_types: dict[bool, str] = {}  # numeric? -> index type the backend accepted

    # --- connection ---------------------------------------------------------------------------

    @property
    def lite_missing(self) -> bool:
        """A Milvus Lite path with nothing there yet (opening it would create an empty database)."""
        return self.cfg.is_lite and not os.path.exists(self.cfg.host)

    def connect(self, *, create: bool | None = None) -> MilvusClient:
        """`create` (Milvus Lite): may a missing file be created? Default: indexing.create_collection.
        Readers (check, the query CLI, the form) pass False: a typo in the path is an error, not a new
        empty database."""
        cfg = self.cfg
        if cfg.is_lite:
            folder = os.path.dirname(os.path.abspath(cfg.host))
            if not os.path.isdir(folder):
                raise ConfigError(f"Milvus Lite file {cfg.host!r}: folder {folder!r} does not exist.")
            if self.lite_missing and not (cfg.create_collection if create is None else create):
                raise ConfigError(f"Milvus Lite database {cfg.host!r} does not exist: check indexing.host (a sync "
                                  "with indexing.create_collection on creates it).")
            # Milvus Lite serves gRPC in-process and logs a traceback for each call it lacks (AllocTimestamp);
            # its server manager logs a traceback when the file is locked: both are classified here instead.
            logging.getLogger("grpc._server").setLevel(logging.CRITICAL)
            logging.getLogger("milvus_lite").setLevel(logging.CRITICAL)
            try:
                self.client = MilvusClient(uri=cfg.host, timeout=cfg.timeout_seconds)
            except Exception as exc:  # noqa: BLE001 - the boundary: classify whatever Lite raises
                holder = lite_lock_holder(cfg.host)
                if holder:
                    raise ConfigError(
                        f"Milvus Lite database {cfg.host!r} is in use by another process ({holder}): Milvus Lite "
                        "lets one process open a file at a time. Stop that process or wait for it to finish, then "
                        "retry; to search while a sync writes, use a Milvus server (see the README).",
                        internal=_first_line(exc)) from None
                raise ConfigError(f"Could not open Milvus Lite database {cfg.host!r}: {_first_line(exc)}") from None
            _lite_opened(cfg.host)
            self._lite_open = True
            return self.client
        parsed = urlparse(cfg.uri)
        if parsed.scheme not in ("http", "https", "grpc", "grpcs") or not parsed.hostname:
            raise ConfigError(f"indexing.host {cfg.host!r} is not a Milvus endpoint: use https://host:port, "
                              "http://host:19530, tcp://host:19530, or a path ending in .db for Milvus Lite.")
        port = parsed.port or (443 if parsed.scheme in ("https", "grpcs") else 19530)
        self._warn_plaintext(parsed.scheme, parsed.hostname)
        self._probe_tcp(parsed.hostname, port)
        kwargs: dict[str, Any] = {"uri": cfg.uri, "timeout": cfg.timeout_seconds}
        if isinstance(cfg.auth, TokenAuth):
            kwargs["token"] = cfg.auth.token
        elif isinstance(cfg.auth, UsernamePasswordAuth):
            kwargs["user"], kwargs["password"] = cfg.auth.username, cfg.auth.password
        if cfg.db:
            kwargs["db_name"] = cfg.db
        try:
            self.client = MilvusClient(**kwargs)
            self.client.list_collections(timeout=cfg.timeout_seconds)
        except Exception as exc:  # noqa: BLE001
            text = str(exc).lower()
            if "database" in text and ("not found" in text or "not exist" in text):
                raise ConfigError(f"Milvus database {cfg.db!r} does not exist at {cfg.uri}: create it or fix "
                                  "indexing.db.") from None
            tls_problem = self._tls_problem(parsed.hostname, port) if parsed.scheme in ("https", "grpcs") else None
            if tls_problem:
                raise ConfigError(tls_problem, internal=_first_line(exc)) from None
            raise ConfigError(
                f"Milvus at {cfg.uri} is reachable but refused the session: check indexing.auth (token or "
                "username/password; the server reports wrong credentials as a generic connection failure) and that "
                "the endpoint is a Milvus gRPC port.", internal=_first_line(exc)) from None
        return self.client

    def _warn_plaintext(self, scheme: str, host: str) -> None:
        has_secret = not isinstance(self.cfg.auth, NoAuth)
        if has_secret and scheme in ("http", "grpc") and host not in LOCAL_HOSTS and not host.startswith("127."):
            logger.warning(f"Credentials for Milvus at {host} are sent over plain-text {scheme}: use https:// for a "
                           "remote server.")

    def _tls_problem(self, host: str, port: int) -> str | None:
        """Why a TLS session with host:port fails, if it does. gRPC reports an unverifiable certificate as
        a generic connection failure (the reason goes to its own log only), so after a failed connect a
        handshake here names it. Verification is on, as in gRPC: chain and host name are checked."""
        roots = os.environ.get("GRPC_DEFAULT_SSL_ROOTS_FILE_PATH")
        try:
            context = ssl.create_default_context(cafile=roots if roots and os.path.isfile(roots) else None)
            with socket.create_connection((host, port), timeout=min(self.cfg.timeout_seconds, 10)) as sock:
                with context.wrap_socket(sock, server_hostname=host):
                    return None
        except ssl.SSLCertVerificationError as exc:
            return (f"The TLS certificate of Milvus at {host}:{port} could not be verified "
                    f"({exc.verify_message or exc.reason}): the connector only talks to endpoints whose certificate "
                    "a trusted CA signed for that host name; check indexing.host.")
        except (ssl.SSLError, OSError) as exc:
            reason = getattr(exc, "reason", None) or exc.strerror or type(exc).__name__
            return (f"No TLS session with Milvus at {host}:{port} ({reason}): check that the endpoint serves https, "
                    "or use http:// for a plain one.")

    def _probe_tcp(self, host: str, port: int) -> None:
        """pymilvus waits long and says little on an unreachable host; a socket says it in seconds."""
        try:
            with socket.create_connection((host, port), timeout=min(self.cfg.timeout_seconds, 10)):
                pass
        except OSError as exc:
            raise ConfigError(f"Milvus endpoint {host}:{port} is unreachable ({exc.strerror or type(exc).__name__}): "
                              "check indexing.host, the port, and firewalls.") from None

    # --- inspection ---------------------------------------------------------------------------

    def describe(self, repair: bool = False) -> CollectionInfo | None:
        """The collection's shape (None if missing), loaded for queries.

        `repair` (write only): a collection whose creation was interrupted (process killed between
        create_collection and create_index) has no vector index and cannot be loaded on a server;
        with indexing.create_collection on, its indexes are created now instead of failing forever.
        Killed before its properties were set, it would lack the metadata-column list (and every insert
        would then miss the typed columns): they are set now, as create_collection would have.
        """
        assert self.client is not None
        if not self.client.has_collection(self.collection):
            return None
        desc = self.client.describe_collection(self.collection)
        fields = {f["name"]: f["type"] for f in desc["fields"]}
        if not self.cfg.is_lite and self.cfg.vector_field in fields and not self._indexed(self.cfg.vector_field):
            if not self.cfg.create_collection:
                raise ConfigError(f"Collection '{self.collection}' has no index on its vector field "
                                  f"'{self.cfg.vector_field}', so Milvus cannot load it: create one (e.g. AUTOINDEX), "
                                  "or enable indexing.create_collection and the next sync creates it.")
            if repair:
                logger.warning(f"Collection '{self.collection}' has no vector index (an interrupted creation?): "
                               "creating its indexes now.")
                self._create_indexes(fields)
        if self._indexed(self.cfg.vector_field) or self.cfg.is_lite or self.cfg.vector_field not in fields:
            self.call(lambda: self.client.load_collection(self.collection), "loading the collection")  # type: ignore
        params = {f["name"]: dict(f.get("params") or {}) for f in desc["fields"]}
        pk = next(f for f in desc["fields"] if f.get("is_primary"))
        vector_field = self.cfg.vector_field
        dim = params.get(vector_field, {}).get("dim")
        info = CollectionInfo(
            name=self.collection, pk_field=pk["name"], pk_type=pk["type"], auto_id=bool(pk.get("auto_id")),
            pk_max_length=int(params[pk["name"]].get("max_length", VARCHAR_PK_LENGTH) or VARCHAR_PK_LENGTH),
            vector_field=vector_field, vector_type=fields.get(vector_field),
            dimensions=int(dim) if dim is not None else None, dynamic=bool(desc.get("enable_dynamic_field")),
            fields=fields, field_params=params, metric=self._metric(vector_field),
            properties={str(k): str(v) for k, v in (desc.get("properties") or {}).items()},
        )
        if (repair and self.cfg.create_collection and STREAM in fields and RECORD_ID in fields
                and KEYED_PROPERTY not in info.properties and MODEL_PROPERTY not in info.properties):
            # our own schema, never written to (the model is recorded before the first row): an interrupted creation
            done = {KEYED_PROPERTY: "1", COLUMNS_PROPERTY: ",".join(
                n for n, (dtype, _) in METADATA_COLUMNS.items() if fields.get(n) == dtype)}
            self.client.alter_collection_properties(self.collection, properties=done)
            info.properties.update(done)
            logger.warning(f"Collection '{self.collection}' was created by a sync that stopped before setting its "
                           "properties: set them now.")
        self.info = info
        return info

    def _metric(self, vector_field: str) -> str | None:
        """The vector index's metric; None only when the field has no index. A failure to read it is an
        error, not None: searches would then compare distances as L2 whatever the real metric."""
        assert self.client is not None
        try:
            for name in self.client.list_indexes(self.collection, field_name=vector_field):
                metric = self.client.describe_index(self.collection, name).get("metric_type")
                if metric:
                    return str(metric).upper()
        except MilvusException as exc:
            raise ConfigError(f"Could not read the metric of the vector index on '{vector_field}' of collection "
                              f"'{self.collection}' ({_first_line(exc)}): check the index (describe_index) and "
                              "the user's privileges.") from None
        return None

    def create_collection(self, dimensions: int) -> CollectionInfo:
        """The tutorial's shape with a record-defined VARCHAR key, so re-syncs are true upserts."""
        assert self.client is not None
        schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=True)
        schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=VARCHAR_PK_LENGTH)
        schema.add_field(self.cfg.vector_field, DataType.FLOAT_VECTOR, dim=dimensions)
        schema.add_field(self.cfg.text_field, DataType.VARCHAR, max_length=MAX_TEXT_BYTES)
        schema.add_field(STREAM, DataType.VARCHAR, max_length=256)
        schema.add_field(RECORD_ID, DataType.VARCHAR, max_length=2048)
        for name, (dtype, _) in METADATA_COLUMNS.items():
            schema.add_field(name, dtype, **({"max_length": COLUMN_VARCHAR_LENGTH} if dtype == DataType.VARCHAR else {}))
        # indexes before load: milvus 2.3 refuses index changes on a loaded collection
        self.client.create_collection(self.collection, schema=schema, consistency_level="Strong")
        self._create_indexes({STREAM: DataType.VARCHAR, RECORD_ID: DataType.VARCHAR,
                              **{name: dtype for name, (dtype, _) in METADATA_COLUMNS.items()}})
        self.client.load_collection(self.collection)
        self.client.alter_collection_properties(self.collection, properties={
            KEYED_PROPERTY: "1", COLUMNS_PROPERTY: ",".join(METADATA_COLUMNS)})
        logger.info(f"Created collection {self.collection!r} ({dimensions}-d, L2, VARCHAR primary key 'id').")
        info = self.describe()
        assert info is not None
        return info

    def _indexed(self, field_name: str) -> bool:
        assert self.client is not None
        return bool(self.call(lambda: self.client.list_indexes(self.collection, field_name=field_name),  # type: ignore
                              "listing indexes"))

    def _create_indexes(self, fields: dict[str, Any]) -> None:
        """The vector index (AUTOINDEX, L2) and scalar indexes on the bookkeeping fields, if missing."""
        assert self.client is not None
        if not self._indexed(self.cfg.vector_field):
            index = self.client.prepare_index_params()
            index.add_index(self.cfg.vector_field, index_type="AUTOINDEX", metric_type="L2")
            self.client.create_index(self.collection, index)
        for name in (STREAM, RECORD_ID, *METADATA_COLUMNS):
            if name in fields and not self._indexed(name):
                self._scalar_index(name, fields[name])

    def _scalar_index(self, field_name: str, dtype: Any = DataType.VARCHAR) -> None:
        """INVERTED where supported (Lite, newer servers); Trie (strings) or STL_SORT (numbers) on 2.3."""
        assert self.client is not None
        numeric = dtype == DataType.INT64
        known = self.scalar_index_types.get(numeric)
        for index_type in ([known] if known else ["INVERTED", "STL_SORT" if numeric else "Trie"]):
            try:
                params = self.client.prepare_index_params()
                params.add_index(field_name, index_type=index_type, index_name=f"{field_name}_idx")
                self.client.create_index(self.collection, params)
                self.scalar_index_types[numeric] = index_type
                return
            except MilvusException as exc:
                logger.info(f"scalar index {index_type} on {field_name} not available: {_first_line(exc)}")
        logger.warning(f"No scalar index could be created on {field_name}; filters on it will scan.")

    def set_keyed_rows(self, keyed: bool) -> None:
        assert self.client is not None and self.info is not None
        self.client.alter_collection_properties(self.collection, properties={KEYED_PROPERTY: "1" if keyed else "0"})
        self.info.properties[KEYED_PROPERTY] = "1" if keyed else "0"

    def set_model(self, model_id: str) -> None:
        assert self.client is not None
        self.client.alter_collection_properties(self.collection, properties={MODEL_PROPERTY: model_id})

    # --- keys ---------------------------------------------------------------------------------

    def primary_key(self, record_id: str | None, chunk_index: int) -> Any:
        """A deterministic key per (record, chunk) so a re-sync overwrites in place; random without a record id."""
        info = self.info
        assert info is not None
        if info.auto_id:
            return None
        basis = f"{record_id}#{chunk_index}" if record_id is not None else uuid.uuid4().hex
        if info.pk_type == DataType.INT64:
            return int.from_bytes(hashlib.blake2b(basis.encode(), digest_size=8).digest(), "big") & ((1 << 63) - 1)
        if len(basis.encode()) > info.pk_max_length:
            return hashlib.sha256(basis.encode()).hexdigest()[: info.pk_max_length]
        return basis

    # --- writes -------------------------------------------------------------------------------

    def write(self, rows: list[dict[str, Any]], sizes: list[int] | None = None) -> None:
        """Insert (auto-id) or upsert (record-defined key), in batches bounded by rows and bytes.

        `sizes`: the rows' sizes if the caller knows them (the writer sizes a record's metadata once
        for all its chunks instead of every value of every row)."""
        assert self.client is not None and self.info is not None
        op = self.client.insert if self.info.auto_id else self.client.upsert
        for batch in self._batches(rows, sizes):
            self.call(lambda b=batch: op(self.collection, b, timeout=self.cfg.timeout_seconds * 3),
                           f"writing {len(batch)} rows")

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
        assert self.client is not None
        self.call(lambda: self.client.delete(self.collection, filter=filter_expr,  # type: ignore[union-attr]
                                                  timeout=self.cfg.timeout_seconds * 3), "deleting rows")

    def delete_records(self, record_ids: list[str], keep_write_id: str | None = None) -> None:
        """Remove the rows of these records, except those written by `keep_write_id` (this batch).

        Rows written by other tools (e.g. the official connector) carry no write id: `not exists`
        catches them, since a comparison with a missing dynamic field is false in Milvus.
        """
        for ids in _chunks(sorted(set(record_ids)), IDS_PER_FILTER):
            expr = in_filter(RECORD_ID, ids)
            if keep_write_id is not None:
                expr += f" and ({WRITE_ID} != {literal(keep_write_id)} or not (exists {WRITE_ID}))"
            self.delete(expr)

    def delete_stream_rows_except(self, stream: str, tag: str) -> None:
        """Truncate at the end of a sync: every row of `stream` not written under `tag` (this job's
        GENERATION value), including rows with no tag at all (other tools, older versions)."""
        self.delete(f"{STREAM} == {literal(stream)} and ({GENERATION} != {literal(tag)} "
                    f"or not (exists {GENERATION}))")

    def delete_records_in_tag(self, record_ids: list[str], tag: str, keep_write_id: str) -> None:
        """Overwrite with a primary key: the record's rows an earlier attempt of this job (same tag)
        wrote, except this batch's; rows of earlier jobs stay readable until the end-of-sync delete."""
        for ids in _chunks(sorted(set(record_ids)), IDS_PER_FILTER):
            self.delete(f"{in_filter(RECORD_ID, ids)} and {GENERATION} == {literal(tag)} "
                        f"and {WRITE_ID} != {literal(keep_write_id)}")

    def query(self, expr: str, output_fields: list[str]) -> list[dict[str, Any]]:
        assert self.client is not None
        return self.call(lambda: self.client.query(  # type: ignore[union-attr]
            self.collection, filter=expr, output_fields=output_fields, limit=QUERY_LIMIT,
            consistency_level="Strong", timeout=self.cfg.timeout_seconds * 3), "querying rows")

    def existing_keys(self, keys: list[Any], guarantee_ts: int = 0) -> set[Any]:
        """Which of these primary keys are stored: point reads by key, cheap on every backend, unlike a
        filter query (Milvus Lite scans its whole memtable for one; the server scans growing segments).

        `guarantee_ts` (a `write_timestamp()`): see every write up to it, instead of a strong read,
        which on a busy 2.3 server waits 0.2-0.7 s for the newest timestamp to become readable.
        """
        assert self.client is not None and self.info is not None
        pk = self.info.pk_field
        consistency: dict[str, Any] = ({"consistency_level": "Customized", "guarantee_timestamp": guarantee_ts}
                                       if guarantee_ts else {"consistency_level": "Strong"})
        found: set[Any] = set()
        for part in _chunks(list(dict.fromkeys(keys)), IDS_PER_FILTER):
            # the same `pk in [...]` read MilvusClient.get sends, but with escaped literals: get quotes
            # VARCHAR keys as '...' without escaping, so a key with ' or \\ breaks the filter
            rows = self.call(lambda p=part: self.client.query(  # type: ignore[union-attr]
                self.collection, filter=in_filter(pk, p), output_fields=[pk], timeout=self.cfg.timeout_seconds * 3,
                **consistency), "looking up stored rows")
            found.update(row[pk] for row in rows)
        return found

    def write_timestamp(self) -> int:
        """The newest (hybrid) timestamp of this client's writes to the collection, as pymilvus tracks it
        for session consistency; 0 if unknown (readers then fall back to a strong read)."""
        try:
            from pymilvus.client import ts_utils

            handler = self.client._get_connection()  # type: ignore[union-attr]
            return int(ts_utils.get_collection_ts(self.collection, handler.server_address, self.cfg.db or "") or 0)
        except Exception:  # noqa: BLE001 - an optimisation only: never fail a sync over it
            return 0

    def stored_chunks(self, record_ids: list[str]) -> dict[tuple[str, str], list[float]]:
        """(record id, text hash) -> stored vector, for reusing embeddings of unchanged chunks."""
        out: dict[tuple[str, str], list[float]] = {}
        for ids in _chunks(sorted(set(record_ids)), IDS_PER_FILTER):
            for row in self.query(in_filter(RECORD_ID, ids), [RECORD_ID, TEXT_HASH, self.cfg.vector_field]):
                if row.get(TEXT_HASH):
                    out[(row[RECORD_ID], row[TEXT_HASH])] = [float(x) for x in row[self.cfg.vector_field]]
        return out

    def count(self, expr: str = "") -> int:
        assert self.client is not None
        rows = self.client.query(self.collection, filter=expr, output_fields=["count(*)"], consistency_level="Strong")
        return int(rows[0]["count(*)"])

    def call(self, call: Any, what: str) -> Any:
        """Milvus hiccups (restart, leader change) are retried a few times, then a transient_error."""
        delay = 1.0
        for attempt in range(WRITE_RETRIES + 1):
            try:
                return call()
            except MilvusException as exc:
                if attempt == WRITE_RETRIES or not _retryable(exc):
                    if _retryable(exc):
                        raise TransientError(f"Milvus kept failing while {what} ({_first_line(exc)}): "
                                             "check the server's health, then retry the sync.") from None
                    raise ConfigError(f"Milvus refused {what}: {_first_line(exc)}") from None
                logger.info(f"Milvus error while {what} ({_first_line(exc)}); retry {attempt + 1} in {delay:.0f}s")
                time.sleep(delay)
                delay = min(delay * 2, 15)
        raise AssertionError("unreachable")

    def search(self, vector: Any, *, filter_expr: str, limit: int, output_fields: list[str],
               consistency_level: str = "Strong") -> list[dict[str, Any]]:
        """Nearest rows to one vector among those matching `filter_expr`: [{distance, entity, id}]."""
        assert self.client is not None and self.info is not None
        return self.call(lambda: self.client.search(  # type: ignore[union-attr]
            self.collection, data=[vector], anns_field=self.info.vector_field, filter=filter_expr, limit=limit,
            output_fields=output_fields, consistency_level=consistency_level,
            timeout=self.cfg.timeout_seconds)[0], "searching")

    def has_rows(self, expr: str) -> bool:
        """Does any row match `expr`? (one row read, not a count)"""
        assert self.client is not None
        return bool(self.call(lambda: self.client.query(  # type: ignore[union-attr]
            self.collection, filter=expr, output_fields=[self.info.pk_field if self.info else "id"], limit=1,
            consistency_level="Bounded", timeout=self.cfg.timeout_seconds), "querying rows"))

    def close(self) -> None:
        if self.client is not None:
            try:
                self.client.close()
            except Exception:  # noqa: BLE001 - closing must never mask the real outcome
                pass
            self.client = None
        if getattr(self, "_lite_open", False):
            self._lite_open = False
            _lite_closed(self.cfg.host)


# Milvus Lite files opened by this process: path -> open stores. The last close stops the file's
# in-process server, which releases its lock (pymilvus keeps it until the process exits otherwise).
_LITE_OPEN: dict[str, int] = {}


def _lite_opened(path: str) -> None:
    key = os.path.abspath(path)
    _LITE_OPEN[key] = _LITE_OPEN.get(key, 0) + 1


def _lite_closed(path: str) -> None:
    key = os.path.abspath(path)
    _LITE_OPEN[key] = _LITE_OPEN.get(key, 1) - 1
    if _LITE_OPEN[key] <= 0:
        del _LITE_OPEN[key]
        try:
            from milvus_lite.server_manager import server_manager_instance

            server_manager_instance.release_server(path)
        except Exception:  # noqa: BLE001 - older milvus-lite: the lock is released at exit
            pass


def lite_lock_holder(path: str) -> str | None:
    """Who holds the lock of a Milvus Lite database (`pid N: command line`), if another process does."""
    lock = os.path.join(path, "LOCK") if os.path.isdir(path) else path
    try:
        inode = os.stat(lock).st_ino
    except OSError:
        return None
    try:
        import fcntl

        with open(lock, "rb") as handle:  # a free lock is taken and released at once
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
                return None
            except OSError:
                pass
    except (ImportError, OSError):
        return None
    try:
        with open("/proc/locks", encoding="ascii", errors="replace") as handle:
            for line in handle:
                parts = line.split()
                if len(parts) >= 6 and parts[1] == "FLOCK" and parts[5].rsplit(":", 1)[-1] == str(inode):
                    pid = parts[4]
                    try:
                        with open(f"/proc/{pid}/cmdline", "rb") as cmd:
                            command = " ".join(cmd.read().replace(b"\0", b" ").decode(errors="replace").split())
                    except OSError:
                        command = ""
                    if pid == str(os.getpid()):
                        return f"pid {pid}, this process, through another open connection"
                    return f"pid {pid}: {command[:160]}" if command else f"pid {pid}"
    except OSError:
        pass
    return "a process whose id is not visible here"


_RETRYABLE_WORDS = ("unavailable", "connect", "timeout", "timed out", "deadline", "rate limit", "ratelimit",
                    "not ready", "closed", "reset", "too many requests", "service", "temporarily", "try again",
                    "server is busy", "no available", "not loaded", "leader")


def _retryable(exc: MilvusException) -> bool:
    """Only failures a retry can cure (connection, overload, leader change); a refused row is not one."""
    text = str(exc).lower()
    return any(word in text for word in _RETRYABLE_WORDS)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]


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
