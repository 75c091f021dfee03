"""Everything that talks to Milvus: connect, inspect, create, write, delete, read back vectors.

Only primitives both test backends support are used (milvus-server 2.3.5 and Milvus Lite):
insert, upsert with a record-defined key, delete by filter, query. Failures are classified here,
at the boundary, into one-line messages that say what to check, without secrets.
"""

from __future__ import annotations

import enum
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

import grpc
import numpy as np
import orjson
from pymilvus import (AnnSearchRequest, DataType, Function, FunctionType, MilvusClient, MilvusException, RRFRanker,
                      WeightedRanker)
from pymilvus import __version__ as pymilvus_version
from pymilvus.exceptions import (AutoIDException, ConnectError, DataNotMatchException, DataTypeNotMatchException,
                                 DataTypeNotSupportException, FieldsTypeException, FieldTypeException,
                                 MilvusUnavailableException, ParamError, PartitionKeyException, PrimaryKeyException,
                                 SchemaNotReadyException)
from pymilvus.grpc_gen import common_pb2

from .config import IndexingConfig, NoAuth, TokenAuth, UsernamePasswordAuth
from .errors import ConfigError, ServiceError, TransientError
from .schema import (CHUNK, COLUMNS_PROPERTY, GENERATION, KEYED_PROPERTY, MAX_TEXT_BYTES,  # noqa: F401 - re-exported
                     MODEL_PROPERTY, RECORD_ID, STREAM, TEXT_HASH, WRITE_ID, row_key)

logger = logging.getLogger("airbyte")

# Metadata the support form filters on (`status in [...] and organization_id == N`), stored as typed,
# indexed fields in collections this connector creates: a filter on a dynamic field parses every
# row's JSON (~0.2 s per search at 100k rows on milvus 2.3). Milvus 2.3 has no nullable fields and
# no defaults, so a row without the value (articles, tickets without organization) gets the sentinel,
# a value no record can have: Zendesk organization ids are positive, so NO_ORGANIZATION_ID never
# collides with a real organization (0 did, and a filter on organization 0 found every ticket without one).
# The property lists them; a record's field of that name fills the column instead of being renamed.
NO_ORGANIZATION_ID = -1
METADATA_COLUMNS: dict[str, tuple[DataType, Any]] = {"status": (DataType.VARCHAR, ""),
                                                     "organization_id": (DataType.INT64, NO_ORGANIZATION_ID)}
COLUMN_VARCHAR_LENGTH = 256
VARCHAR_PK_LENGTH = 512
IDS_PER_FILTER = 500
DATABASE_NOT_FOUND = 800  # Milvus error code
QUERY_LIMIT = 16_384  # Milvus's maximum query result window
WRITE_RETRIES = 5
SUPPORTED_PK_TYPES = {DataType.INT64, DataType.VARCHAR}
# Full-text (BM25) retrieval, on backends that have it (Milvus 2.5+, Zilliz Cloud, Milvus Lite): the text
# field is analyzed and a BM25 function fills this sparse field at insert time. Milvus fills it, so no
# writer may send it (CollectionInfo.writable_fields leaves it out). "_ab_" keeps it out of record names.
BM25_FIELD = "_ab_bm25"
BM25_FUNCTION = "dmz_bm25"
# the throwaway collection that tells whether the backend keeps a BM25 function (never loaded)
BM25_PROBE_PREFIX = "dmz_bm25_probe_"
# Milvus's default analyzer (standard tokenizer, lower case). Milvus Lite 3.2.2 refuses {"type": "english"}
# and accepts but ignores stemmer/stop filters (same tokens, verified), so thresholds measured on Lite
# hold only for this analyzer: the same everywhere.
BM25_ANALYZER = {"tokenizer": "standard", "filter": ["lowercase"]}
HYBRID, DENSE = "hybrid", "dense"
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
    vector_indexed: bool = False  # a server cannot load the collection without it
    function_outputs: frozenset[str] = frozenset()  # fields Milvus fills itself (never sent by a writer)
    bm25_field: str | None = None  # sparse field of an indexed BM25 function on the text field, if any

    @property
    def retrieval(self) -> str:
        """HYBRID when the collection can also be searched by full text (BM25), else DENSE."""
        return HYBRID if self.bm25_field else DENSE

    @property
    def writable_fields(self) -> set[str]:
        """Fields a row may carry: every schema field except the ones a function fills."""
        return set(self.fields) - set(self.function_outputs)

    @property
    def metadata_columns(self) -> dict[str, DataType]:
        """Typed fields filled from the record field of the same name (see METADATA_COLUMNS)."""
        names = [n for n in self.properties.get(COLUMNS_PROPERTY, "").split(",")
                 if n in METADATA_COLUMNS and n not in self.function_outputs]
        return {n: self.fields[n] for n in names if self.fields.get(n) == METADATA_COLUMNS[n][0]}

    @property
    def keyed(self) -> bool:
        """Rows with a record id are keyed by (record, chunk): stored rows can be probed by key."""
        return not self.auto_id and self.properties.get(KEYED_PROPERTY) == "1"

    @property
    def int_keys(self) -> bool:
        return self.pk_type == DataType.INT64

    def text_limit(self, text_field: str) -> int:
        """Bytes the text field holds (its max_length, else Milvus's VARCHAR maximum)."""
        return int(self.field_params.get(text_field, {}).get("max_length", MAX_TEXT_BYTES) or MAX_TEXT_BYTES)

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


def check_collection(info: CollectionInfo, *, dimensions: int, model_id: str, text_field: str,
                     omit_raw_text: bool) -> None:
    """The collection can take this connector's rows from this embedding model; ConfigError naming the fix if not."""
    name = info.name
    if info.pk_type not in SUPPORTED_PK_TYPES:
        raise ConfigError(f"Collection '{name}' has a {info.pk_type.name} primary key '{info.pk_field}': only INT64 "
                          "(auto-id or not) and VARCHAR primary keys are supported.")
    if info.vector_type is None:
        raise ConfigError(f"Collection '{name}' has no field '{info.vector_field}' (fields: {', '.join(info.fields)}): "
                          "set indexing.vector_field to its vector field.")
    if info.vector_type != DataType.FLOAT_VECTOR:
        raise ConfigError(f"Field '{info.vector_field}' of collection '{name}' is {info.vector_type.name}, "
                          "not FLOAT_VECTOR.")
    if info.dimensions != dimensions:
        raise ConfigError(f"Collection '{name}' stores {info.dimensions}-dimensional vectors in '{info.vector_field}' "
                          f"but the embedding model ({model_id}) produces {dimensions}: use a "
                          "collection of the same dimension or another model.")
    if not info.dynamic:
        raise ConfigError(f"Collection '{name}' has dynamic fields off: metadata and bookkeeping fields "
                          "(_ab_stream, _ab_record_id, ...) need enable_dynamic_field=True.")
    text_type = info.fields.get(text_field)
    if text_type is not None and text_type != DataType.VARCHAR and not omit_raw_text:
        raise ConfigError(f"Text field '{text_field}' of collection '{name}' is {text_type.name}, "
                          "not VARCHAR: set indexing.text_field to another name or enable omit_raw_text.")
    recorded = info.properties.get(MODEL_PROPERTY)
    if recorded and recorded != model_id:
        raise ConfigError(f"Collection '{name}' was written with embedding model {recorded}, but the config uses "
                          f"{model_id}: vectors of different models cannot be compared. Use the same model "
                          "or a new collection.")


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


def _quiet_client_loggers(lite: bool) -> None:
    """Silenced once a store connects (not on import), and only these, each for a reason:
    pymilvus logs every failed RPC at ERROR with a traceback on stderr, including the ones `call`
    retries or turns into a one-line error (the platform would show tracebacks for handled errors);
    Milvus Lite serves gRPC in-process, and grpc's server logs a traceback for each call Lite lacks
    (AllocTimestamp) although nothing failed. Both stay at CRITICAL for the process's lifetime."""
    logging.getLogger("pymilvus").setLevel(logging.CRITICAL)
    if lite:
        logging.getLogger("grpc._server").setLevel(logging.CRITICAL)
        # milvus-lite's server manager logs a traceback when the file is locked; connect() names the holder
        logging.getLogger("milvus_lite").setLevel(logging.CRITICAL)
        # faiss (loaded by Lite) reports at INFO which CPU builds it could not load ("Could not load library
        # with AVX512 support"), shown wherever pymilvus's import set the root logger to INFO; warnings stay
        logging.getLogger("faiss").setLevel(logging.WARNING)


class SessionTimestamps:
    """The one adapter over pymilvus internals: the timestamp of this client's last write to a
    collection, which pymilvus keeps for its Session consistency but exposes through no public API
    (MilvusClient's write results drop it). The writer probes stored rows at an older, already
    readable timestamp instead of a strong read (0.2-0.7 s per read on a busy 2.3 server).

    unit_tests/test_pymilvus_adapter.py fails if these internals change; in production a change
    logs one warning and readers fall back to strong reads (slower, still correct)."""

    _warned = False

    @classmethod
    def latest(cls, client: MilvusClient, collection: str, db: str) -> int:
        try:
            from pymilvus.client import ts_utils

            handler = client._get_connection()  # private: the handler's address keys pymilvus's timestamp cache
            return int(ts_utils.get_collection_ts(collection, handler.server_address, db) or 0)
        except (ImportError, AttributeError, TypeError) as exc:
            if not cls._warned:
                cls._warned = True
                logger.warning(f"pymilvus {pymilvus_version} no longer exposes its session timestamps "
                               f"({type(exc).__name__}: {exc}): stored rows are probed with strong reads.")
            return 0


def _lite_folder(path: str) -> None:
    """The folder of a Milvus Lite file must exist (Lite would fail with a less clear message)."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ConfigError(f"Milvus Lite file {path!r}: folder {folder!r} does not exist.")


def _open_lite(cfg: IndexingConfig) -> MilvusClient:
    _lite_folder(cfg.host)
    _quiet_client_loggers(lite=True)
    try:
        client = MilvusClient(uri=cfg.host, timeout=cfg.timeout_seconds)
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
    return client


def _client_kwargs(cfg: IndexingConfig) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"uri": cfg.uri, "timeout": cfg.timeout_seconds}
    if isinstance(cfg.auth, TokenAuth):
        kwargs["token"] = cfg.auth.token
    elif isinstance(cfg.auth, UsernamePasswordAuth):
        kwargs["user"], kwargs["password"] = cfg.auth.username, cfg.auth.password
    if cfg.db:
        kwargs["db_name"] = cfg.db
    return kwargs


def _session_refused(cfg: IndexingConfig, exc: Exception, scheme: str, host: str, port: int) -> ConfigError:
    """Why a reachable server refused the session: a missing database, TLS, or (likely) the credentials."""
    if isinstance(exc, MilvusException) and exc.code == DATABASE_NOT_FOUND:
        return ConfigError(f"Milvus database {cfg.db!r} does not exist at {cfg.uri}: create it or fix indexing.db.")
    tls_problem = _tls_problem(host, port, min(cfg.timeout_seconds, 10)) if scheme in ("https", "grpcs") else None
    if tls_problem:
        return ConfigError(tls_problem, internal=_first_line(exc))
    return ConfigError(
        f"Milvus at {cfg.uri} is reachable but refused the session: check indexing.auth (token or "
        "username/password; the server reports wrong credentials as a generic connection failure) and that "
        "the endpoint is a Milvus gRPC port.", internal=_first_line(exc))


def _tls_problem(host: str, port: int, timeout: float) -> str | None:
    """Why a TLS session with host:port fails, if it does. gRPC reports an unverifiable certificate as
    a generic connection failure (the reason goes to its own log only), so after a failed connect a
    handshake here names it. Verification is on, as in gRPC: chain and host name are checked."""
    roots = os.environ.get("GRPC_DEFAULT_SSL_ROOTS_FILE_PATH")
    try:
        context = ssl.create_default_context(cafile=roots if roots and os.path.isfile(roots) else None)
        with socket.create_connection((host, port), timeout=timeout) as sock:
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


def _probe_tcp(host: str, port: int, timeout: float) -> None:
    """pymilvus waits long and says little on an unreachable host; a socket says it in seconds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        raise ConfigError(f"Milvus endpoint {host}:{port} is unreachable ({exc.strerror or type(exc).__name__}): "
                          "check indexing.host, the port, and firewalls.") from None


def _collection_info(name: str, vector_field: str, desc: dict[str, Any]) -> CollectionInfo:
    """The shape `describe_collection` reports (metric and vector index are read separately)."""
    fields = {f["name"]: f["type"] for f in desc["fields"]}
    params = {f["name"]: dict(f.get("params") or {}) for f in desc["fields"]}
    pk = next(f for f in desc["fields"] if f.get("is_primary"))
    dim = params.get(vector_field, {}).get("dim")
    return CollectionInfo(
        name=name, pk_field=pk["name"], pk_type=pk["type"], auto_id=bool(pk.get("auto_id")),
        pk_max_length=int(params[pk["name"]].get("max_length", VARCHAR_PK_LENGTH) or VARCHAR_PK_LENGTH),
        vector_field=vector_field, vector_type=fields.get(vector_field),
        dimensions=int(dim) if dim is not None else None, dynamic=bool(desc.get("enable_dynamic_field")),
        fields=fields, field_params=params, metric=None,
        properties={str(k): str(v) for k, v in (desc.get("properties") or {}).items()},
        function_outputs=_function_outputs(desc),
    )


def _bm25_output(desc: dict[str, Any], info: CollectionInfo, text_field: str) -> str | None:
    """The sparse field a BM25 function fills from the text field, if any (searchable only if indexed).
    Read from the schema, so any collection with the feature qualifies, whoever created it."""
    for function in desc.get("functions") or []:
        outputs, inputs = function.get("output_field_names") or [], function.get("input_field_names") or []
        if (_function_type_name(function.get("type")) == "BM25" and inputs == [text_field]
                and len(outputs) == 1 and info.fields.get(outputs[0]) == DataType.SPARSE_FLOAT_VECTOR):
            return str(outputs[0])
    return None


def collection_schema(cfg: IndexingConfig, dimensions: int, full_text: bool) -> Any:
    """The tutorial's shape with a record-defined VARCHAR key, so re-syncs are true upserts;
    `full_text`: the text field analyzed and a BM25 function filling BM25_FIELD from it."""
    schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=True)
    schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=VARCHAR_PK_LENGTH)
    schema.add_field(cfg.vector_field, DataType.FLOAT_VECTOR, dim=dimensions)
    schema.add_field(cfg.text_field, DataType.VARCHAR, max_length=MAX_TEXT_BYTES,
                     **({"enable_analyzer": True, "analyzer_params": BM25_ANALYZER} if full_text else {}))
    schema.add_field(STREAM, DataType.VARCHAR, max_length=256)
    schema.add_field(RECORD_ID, DataType.VARCHAR, max_length=2048)
    for name, (dtype, _) in METADATA_COLUMNS.items():
        schema.add_field(name, dtype, **({"max_length": COLUMN_VARCHAR_LENGTH} if dtype == DataType.VARCHAR else {}))
    if full_text:
        schema.add_field(BM25_FIELD, DataType.SPARSE_FLOAT_VECTOR)
        schema.add_function(Function(name=BM25_FUNCTION, function_type=FunctionType.BM25,
                                     input_field_names=[cfg.text_field], output_field_names=[BM25_FIELD]))
    return schema


class MilvusRows:
    """The row side of the store, every filter expression the connector sends built here: writes in
    bounded requests, deletes by record, tag and write id, point reads by key, the searches (dense,
    BM25, hybrid), and the retry policy (`call`) all Milvus calls go through. `MilvusStore` adds the connection and the collection's
    schema; this part only needs a connected client and a described collection."""

    cfg: IndexingConfig
    collection: str
    client: MilvusClient | None
    info: CollectionInfo | None
    write_batch_rows: int
    write_batch_bytes: int

    def _connected(self) -> MilvusClient:
        """The client; using the store before connect() is a programming error (kept under python -O)."""
        if self.client is None:
            raise RuntimeError("MilvusStore used before connect()")
        return self.client

    def _described(self) -> CollectionInfo:
        if self.info is None:
            raise RuntimeError("MilvusStore used before describe() or create_collection()")
        return self.info

    # --- keys ---------------------------------------------------------------------------------

    def primary_key(self, record_id: str | None, chunk_index: int) -> Any:
        """A deterministic key per (record, chunk) so a re-sync overwrites in place; random without a record id."""
        info = self._described()
        if info.auto_id:
            return None
        return row_key(record_id, chunk_index, int_keys=info.pk_type == DataType.INT64, max_length=info.pk_max_length)

    # --- writes -------------------------------------------------------------------------------

    def write(self, rows: list[dict[str, Any]], sizes: list[int] | None = None) -> None:
        """Insert (auto-id) or upsert (record-defined key), in batches bounded by rows and bytes.

        `sizes`: the rows' sizes if the caller knows them (the writer sizes a record's metadata once
        for all its chunks instead of every value of every row)."""
        self._connected()
        self._described()
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
        self._connected()
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
        self._connected()
        return self.call(lambda: self.client.query(  # type: ignore[union-attr]
            self.collection, filter=expr, output_fields=output_fields, limit=QUERY_LIMIT,
            consistency_level="Strong", timeout=self.cfg.timeout_seconds * 3), "querying rows")

    def existing_keys(self, keys: list[Any], guarantee_ts: int = 0) -> set[Any]:
        """Which of these primary keys are stored: point reads by key, cheap on every backend, unlike a
        filter query (Milvus Lite scans its whole memtable for one; the server scans growing segments).

        `guarantee_ts` (a `write_timestamp()`): see every write up to it, instead of a strong read,
        which on a busy 2.3 server waits 0.2-0.7 s for the newest timestamp to become readable.
        """
        self._connected()
        self._described()
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
        if self.client is None:
            return 0
        return SessionTimestamps.latest(self.client, self.collection, self.cfg.db or "")

    def stored_chunks(self, record_ids: list[str]) -> dict[tuple[str, str], list[float]]:
        """(record id, text hash) -> stored vector, for reusing embeddings of unchanged chunks."""
        out: dict[tuple[str, str], list[float]] = {}
        for ids in _chunks(sorted(set(record_ids)), IDS_PER_FILTER):
            for row in self.query(in_filter(RECORD_ID, ids), [RECORD_ID, TEXT_HASH, self.cfg.vector_field]):
                if row.get(TEXT_HASH):
                    out[(row[RECORD_ID], row[TEXT_HASH])] = [float(x) for x in row[self.cfg.vector_field]]
        return out

    def count(self, expr: str = "") -> int:
        self._connected()
        rows = self.call(lambda: self.client.query(  # type: ignore[union-attr]
            self.collection, filter=expr, output_fields=["count(*)"], consistency_level="Strong",
            timeout=self.cfg.timeout_seconds * 3), "counting rows")
        return int(rows[0]["count(*)"])

    # --- reading a whole collection (migrate) ----------------------------------------------------

    def visible_count(self) -> int:
        """Rows as the collection's default consistency sees them, which is what `pages_by_key` reads:
        on a Bounded collection (the tutorial's) the last seconds' writes are not there yet; `count` is strong."""
        client = self._connected()
        rows = self.call(lambda: client.query(self.collection, filter="", output_fields=["count(*)"],
                                              timeout=self.cfg.timeout_seconds * 3), "counting rows")
        return int(rows[0]["count(*)"])

    def pages_by_key(self, after: Any = None, page_rows: int = 1000) -> Iterator[list[dict[str, Any]]]:
        """Every row with every field (vectors and dynamic fields included) in primary-key order,
        `page_rows` at a time, from the first key above `after` (None: from the start). pymilvus's
        query iterator asks Milvus for key-ordered pages (`pk > last`, each within the query window),
        so memory holds one page whatever the collection's size."""
        client, info = self._connected(), self._described()
        expr = "" if after is None else f"{info.pk_field} > {literal(after)}"
        iterator = self.call(lambda: client.query_iterator(
            self.collection, batch_size=min(page_rows, QUERY_LIMIT), filter=expr, output_fields=["*"],
            timeout=self.cfg.timeout_seconds * 3), "reading rows by key")
        try:
            while True:
                page = self.call(iterator.next, "reading rows by key")  # a failed next() keeps its cursor
                if not page:
                    return
                yield list(page)
        finally:
            iterator.close()

    def search(self, vector: Any, *, filter_expr: str, limit: int, output_fields: list[str],
               consistency_level: str = "Strong") -> list[dict[str, Any]]:
        """Nearest rows to one vector among those matching `filter_expr`: [{distance, entity, id}]."""
        client, info = self._connected(), self._described()
        return self.call(lambda: client.search(
            self.collection, data=[vector], anns_field=info.vector_field, filter=filter_expr, limit=limit,
            output_fields=output_fields, consistency_level=consistency_level,
            timeout=self.cfg.timeout_seconds)[0], "searching")

    def hybrid_search(self, vector: Any, text: str, *, filter_expr: str, limit: int, output_fields: list[str],
                      fusion: tuple[str, Any], consistency_level: str = "Strong") -> list[dict[str, Any]]:
        """Nearest rows by the vector and by BM25 on `text`, both among rows matching `filter_expr`,
        fused by Milvus: `fusion` ("weighted", (w_dense, w_bm25)) with normalized scores, or ("rrf", k).
        [{distance: fused score (higher is closer), entity, id}]."""
        client = self._connected()
        requests, ranker = _hybrid_request(self._described(), vector, text, filter_expr, limit, fusion)
        return self.call(lambda: client.hybrid_search(
            self.collection, requests, ranker, limit=limit, output_fields=output_fields,
            consistency_level=consistency_level, timeout=self.cfg.timeout_seconds)[0], "searching (hybrid)")

    def text_search(self, text: str, *, filter_expr: str, limit: int, output_fields: list[str],
                    consistency_level: str = "Strong") -> list[dict[str, Any]]:
        """Rows by BM25 on `text` alone (collections with a BM25 field), best first:
        [{distance: BM25 score (>= 0, higher is closer), entity, id}]. Milvus Lite 3.2 reports the score
        negated (ordered as a distance); a BM25 score is never negative, so its magnitude is the score."""
        client, info = self._connected(), self._described()
        if info.bm25_field is None:
            raise ConfigError(f"Collection '{self.collection}' has no BM25 full-text field: only dense search works.")
        rows = self.call(lambda: client.search(
            self.collection, data=[text], anns_field=info.bm25_field, search_params={"metric_type": "BM25"},
            filter=filter_expr, limit=limit, output_fields=output_fields, consistency_level=consistency_level,
            timeout=self.cfg.timeout_seconds)[0], "searching (BM25)")
        hits = [{**dict(row), "distance": abs(float(row["distance"]))} for row in rows]
        return sorted(hits, key=lambda row: -row["distance"])

    def call(self, call: Any, what: str) -> Any:
        """Milvus hiccups (restart, leader change, rate limit) are retried a few times, then a
        transient_error; a refusal the user can fix is a config_error, a server fault a system_error."""
        delay = 1.0
        for attempt in range(WRITE_RETRIES + 1):
            try:
                return call()
            except (MilvusException, grpc.RpcError) as exc:
                kind = classify(exc)
                if kind is Failure.CONFIG:
                    raise ConfigError(f"Milvus refused {what}: {_first_line(exc)}") from None
                if kind is Failure.SYSTEM:
                    raise ServiceError(f"Milvus failed while {what} ({_first_line(exc)}): a fault on the Milvus "
                                       "side, see the server's logs.") from None
                if attempt == WRITE_RETRIES:
                    raise TransientError(f"Milvus kept failing while {what} ({_first_line(exc)}): "
                                         "check the server's health, then retry the sync.") from None
                logger.info(f"Milvus error while {what} ({_first_line(exc)}); retry {attempt + 1} in {delay:.0f}s")
                time.sleep(delay)
                delay = min(delay * 2, 15)
        raise AssertionError("unreachable")



class MilvusStore(MilvusRows):
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
            if self.lite_missing and not (cfg.create_collection if create is None else create):
                _lite_folder(cfg.host)
                raise ConfigError(f"Milvus Lite database {cfg.host!r} does not exist: check indexing.host (a sync "
                                  "with indexing.create_collection on creates it).")
            self.client = _open_lite(cfg)
            self._lite_open = True
            return self.client
        parsed = urlparse(cfg.uri)
        if parsed.scheme not in ("http", "https", "grpc", "grpcs") or not parsed.hostname:
            raise ConfigError(f"indexing.host {cfg.host!r} is not a Milvus endpoint: use https://host:port, "
                              "http://host:19530, tcp://host:19530, or a path ending in .db for Milvus Lite.")
        port = parsed.port or (443 if parsed.scheme in ("https", "grpcs") else 19530)
        _quiet_client_loggers(lite=False)
        self._warn_plaintext(parsed.scheme, parsed.hostname)
        _probe_tcp(parsed.hostname, port, min(cfg.timeout_seconds, 10))
        try:
            self.client = MilvusClient(**_client_kwargs(cfg))
            self.client.list_collections(timeout=cfg.timeout_seconds)
        except Exception as exc:  # noqa: BLE001
            raise _session_refused(cfg, exc, parsed.scheme, parsed.hostname, port) from None
        return self.client

    def _warn_plaintext(self, scheme: str, host: str) -> None:
        has_secret = not isinstance(self.cfg.auth, NoAuth)
        if has_secret and scheme in ("http", "grpc") and host not in LOCAL_HOSTS and not host.startswith("127."):
            logger.warning(f"Credentials for Milvus at {host} are sent over plain-text {scheme}: use https:// for a "
                           "remote server.")

    # --- inspection ---------------------------------------------------------------------------

    def describe(self) -> CollectionInfo | None:
        """The collection's shape (None if missing). A pure read: nothing is created, altered or loaded."""
        self._connected()
        if not self.call(lambda: self.client.has_collection(self.collection), "looking up the collection"):  # type: ignore
            return None
        desc = self.call(lambda: self.client.describe_collection(self.collection),  # type: ignore[union-attr]
                         "describing the collection")
        info = _collection_info(self.collection, self.cfg.vector_field, desc)
        if info.vector_type is not None:
            info.metric = self._metric(info.vector_field)
            info.vector_indexed = self._indexed(info.vector_field)
        candidate = _bm25_output(desc, info, self.cfg.text_field)
        info.bm25_field = candidate if candidate and self._indexed(candidate) else None
        self.info = info
        return info

    def repair(self, info: CollectionInfo) -> CollectionInfo:
        """Finish a creation this connector started and a killed process interrupted (only with
        indexing.create_collection on): killed between create_collection and create_index, the collection
        has no vector index and cannot be loaded on a server; killed before its properties were set, it
        lacks the metadata-column list (every insert would then miss the typed columns). Returns the
        collection as it is afterwards."""
        self._connected()
        if not self.cfg.create_collection:
            return info
        if not self.cfg.is_lite and info.vector_type is not None and not info.vector_indexed:
            logger.warning(f"Collection '{self.collection}' has no vector index (an interrupted creation?): "
                           "creating its indexes now.")
            self._create_indexes(info.fields)
            info.vector_indexed = True
        if (STREAM in info.fields and RECORD_ID in info.fields
                and KEYED_PROPERTY not in info.properties and MODEL_PROPERTY not in info.properties):
            # our own schema, never written to (the model is recorded before the first row): an interrupted creation
            done = {KEYED_PROPERTY: "1", COLUMNS_PROPERTY: ",".join(
                n for n, (dtype, _) in METADATA_COLUMNS.items() if info.fields.get(n) == dtype)}
            self.call(lambda: self.client.alter_collection_properties(  # type: ignore[union-attr]
                self.collection, properties=done), "setting the collection's properties")
            info.properties.update(done)
            logger.warning(f"Collection '{self.collection}' was created by a sync that stopped before setting its "
                           "properties: set them now.")
        self.info = info
        return info

    def load(self, info: CollectionInfo) -> None:
        """Load the collection for queries. A server cannot load a collection without a vector index: that
        is a config error, unless indexing.create_collection lets `repair` create it (check then skips the
        load, the next sync repairs)."""
        self._connected()
        if not self.cfg.is_lite and info.vector_type is not None and not info.vector_indexed:
            if not self.cfg.create_collection:
                raise ConfigError(f"Collection '{self.collection}' has no index on its vector field "
                                  f"'{self.cfg.vector_field}', so Milvus cannot load it: create one (e.g. AUTOINDEX), "
                                  "or enable indexing.create_collection and the next sync creates it.")
            return
        self.call(lambda: self.client.load_collection(self.collection), "loading the collection")  # type: ignore

    def _metric(self, vector_field: str) -> str | None:
        """The vector index's metric; None only when there is no index. A failure to read it is raised
        (classified), not taken for "no metric": readers would then assume L2 and misjudge a COSINE
        collection's similarities."""
        client = self._connected()
        what = f"reading the metric of the vector index on '{vector_field}'"
        for name in self.call(lambda: client.list_indexes(self.collection, field_name=vector_field), what):
            metric = self.call(lambda n=name: client.describe_index(self.collection, n), what).get("metric_type")
            if metric:
                return str(metric).upper()
        return None

    def _create_with_full_text(self, dimensions: int) -> bool:
        """Create the collection with BM25 if the backend keeps the function; else create nothing.

        Capability is detected, not guessed from a version or host name, on a throwaway collection
        first: a backend without BM25 (milvus 2.3) refuses the schema or creates it without the function
        (2.3.5 does the latter). The real name is never created, dropped and created again: on 2.3.5 a
        load right after that can reach the dropped schema, whose sparse field aborts the server."""
        client = self._connected()
        probe = f"{BM25_PROBE_PREFIX}{uuid.uuid4().hex[:12]}"
        try:
            client.create_collection(probe, schema=collection_schema(self.cfg, dimensions, True))
            functions = client.describe_collection(probe).get("functions") or []
        except MilvusException as exc:
            logger.info(f"Milvus refused a full-text (BM25) schema ({_first_line(exc)}): dense retrieval only.")
            return False
        finally:
            self._drop_quietly(probe)
        if not any(f.get("name") == BM25_FUNCTION for f in functions):
            logger.info("This Milvus does not keep BM25 functions (Milvus 2.5+ or Milvus Lite have them): the "
                        "collection gets dense retrieval only.")
            return False
        client.create_collection(self.collection, schema=collection_schema(self.cfg, dimensions, True),
                                 consistency_level="Strong")
        return True

    def _drop_quietly(self, name: str) -> None:
        """Drop a throwaway collection if it exists; a failure only leaves an unused, never loaded one."""
        try:
            if self.client.has_collection(name):  # type: ignore[union-attr]
                self.client.drop_collection(name)  # type: ignore[union-attr]
        except MilvusException as exc:
            logger.warning(f"Could not drop the probe collection {name!r} ({_first_line(exc)}): drop it by hand.")

    def create_collection(self, dimensions: int) -> CollectionInfo:
        """The tutorial's shape with a record-defined VARCHAR key, plus full-text (BM25) retrieval
        where the backend supports it."""
        self._connected()
        full_text = self.cfg.full_text_search and self._create_with_full_text(dimensions)
        if not full_text:
            self.client.create_collection(self.collection, schema=collection_schema(self.cfg, dimensions, False),
                                          consistency_level="Strong")
        # indexes before load: milvus 2.3 refuses index changes on a loaded collection
        self._create_indexes({STREAM: DataType.VARCHAR, RECORD_ID: DataType.VARCHAR,
                              **{name: dtype for name, (dtype, _) in METADATA_COLUMNS.items()},
                              **({BM25_FIELD: DataType.SPARSE_FLOAT_VECTOR} if full_text else {})})
        self.client.load_collection(self.collection)
        self.client.alter_collection_properties(self.collection, properties={
            KEYED_PROPERTY: "1", COLUMNS_PROPERTY: ",".join(METADATA_COLUMNS)})
        logger.info(f"Created collection {self.collection!r} ({dimensions}-d, L2, VARCHAR primary key 'id', "
                    f"{'dense + BM25 full-text' if full_text else 'dense'} retrieval).")
        info = self.describe()
        if info is None:
            raise ServiceError(f"Milvus created collection '{self.collection}' but does not list it: check the "
                               "server's health, then retry the sync.")
        return info

    def _indexed(self, field_name: str) -> bool:
        self._connected()
        return bool(self.call(lambda: self.client.list_indexes(self.collection, field_name=field_name),  # type: ignore
                              "listing indexes"))

    def _create_indexes(self, fields: dict[str, Any]) -> None:
        """The vector index (AUTOINDEX, L2) and scalar indexes on the bookkeeping fields, if missing."""
        self._connected()
        if not self._indexed(self.cfg.vector_field):
            index = self.client.prepare_index_params()
            index.add_index(self.cfg.vector_field, index_type="AUTOINDEX", metric_type="L2")
            self.client.create_index(self.collection, index)
        for name in (STREAM, RECORD_ID, *METADATA_COLUMNS):
            if name in fields and not self._indexed(name):
                self._scalar_index(name, fields[name])
        if fields.get(BM25_FIELD) == DataType.SPARSE_FLOAT_VECTOR and not self._indexed(BM25_FIELD):
            index = self.client.prepare_index_params()
            index.add_index(BM25_FIELD, index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
            self.client.create_index(self.collection, index)

    def _scalar_index(self, field_name: str, dtype: Any = DataType.VARCHAR) -> None:
        """INVERTED where supported (Lite, newer servers); Trie (strings) or STL_SORT (numbers) on 2.3."""
        self._connected()
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
        self._connected()
        self._described()
        self.client.alter_collection_properties(self.collection, properties={KEYED_PROPERTY: "1" if keyed else "0"})
        self.info.properties[KEYED_PROPERTY] = "1" if keyed else "0"

    def set_model(self, model_id: str) -> None:
        self._connected()
        self.client.alter_collection_properties(self.collection, properties={MODEL_PROPERTY: model_id})

    def set_property(self, name: str, value: str) -> None:
        """A collection property every client of the collection reads (the support lookups' rule)."""
        client = self._connected()
        self.call(lambda: client.alter_collection_properties(self.collection, properties={name: value}),
                  "setting a collection property")
        if self.info is not None:
            self.info.properties[name] = value

    def has_rows(self, expr: str) -> bool:
        """Does any row match `expr`? (one row read, not a count)"""
        client = self._connected()
        return bool(self.call(lambda: client.query(
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
    if not _lock_taken(lock):
        return None
    try:
        with open("/proc/locks", encoding="ascii", errors="replace") as handle:
            for line in handle:
                parts = line.split()
                if len(parts) >= 6 and parts[1] == "FLOCK" and parts[5].rsplit(":", 1)[-1] == str(inode):
                    return _lock_process(parts[4])
    except OSError:
        pass
    return "a process whose id is not visible here"


def _lock_taken(lock: str) -> bool:
    """Is the file lock held? A free lock is taken and released at once; False if it cannot be tried."""
    try:
        import fcntl

        with open(lock, "rb") as handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
                return False
            except OSError:
                return True
    except (ImportError, OSError):
        return False


def _lock_process(pid: str) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmd:
            command = " ".join(cmd.read().replace(b"\0", b" ").decode(errors="replace").split())
    except OSError:
        command = ""
    if pid == str(os.getpid()):
        return f"pid {pid}, this process, through another open connection"
    return f"pid {pid}: {command[:160]}" if command else f"pid {pid}"


class Failure(enum.Enum):
    RETRY = "retry"  # unavailable, overloaded, rate limited, shards moving: a later attempt may succeed
    CONFIG = "config"  # refused: auth, missing collection/database/index/field, invalid parameters or rows
    SYSTEM = "system"  # a fault on the Milvus side (internal or unexpected error), or a state retries cannot cure


# Milvus error codes (server `merr`, as MilvusException.code; Milvus Lite uses the same for these).
_RETRY_CODES = {2, 4, 8, 11}  # service unavailable, request limit, rate limit, time tick delay (write backpressure)
_RETRY_RANGES = ((101, 104),  # collection not (fully) loaded: a restarted server is reloading it
                 (400, 699),  # replica / channel (shard leader) / segment not available
                 (900, 999))  # query node offline, not found, lacking
_CONFIG_CODES = {6,  # Milvus Lite: invalid argument (a value or row it cannot take)
                 9, 100, 102, 105}  # force deny, collection not found, collection limit, illegal schema
_CONFIG_RANGES = ((200, 299), (700, 899), (1100, 1199), (1400, 1499), (1600, 1799))
# partition; index, database; parameter invalid; privilege (authentication, permission); alias, field
# Legacy codes (`common_pb2.ErrorCode`, MilvusException.compatible_code), for servers that set only these.
_LEGACY = common_pb2.ErrorCode
_RETRY_LEGACY = {_LEGACY.ConnectFailed, _LEGACY.NotShardLeader, _LEGACY.NoReplicaAvailable, _LEGACY.SegmentNotFound,
                 _LEGACY.RateLimit, _LEGACY.TimeTickLongDelay, _LEGACY.NotReadyServe, _LEGACY.NotReadyCoordActivating,
                 _LEGACY.DataCoordNA, _LEGACY.DDRequestRace}
_CONFIG_LEGACY = {_LEGACY.PermissionDenied, _LEGACY.CollectionNotExists, _LEGACY.IllegalArgument,
                  _LEGACY.IllegalDimension, _LEGACY.IllegalIndexType, _LEGACY.IllegalCollectionName,
                  _LEGACY.IllegalRowRecord, _LEGACY.IllegalMetricType, _LEGACY.IndexNotExist, _LEGACY.ForceDeny,
                  _LEGACY.UpsertAutoIDTrue}
_GRPC = grpc.StatusCode
_RETRY_GRPC = {_GRPC.UNAVAILABLE, _GRPC.DEADLINE_EXCEEDED, _GRPC.RESOURCE_EXHAUSTED, _GRPC.ABORTED, _GRPC.CANCELLED}
_CONFIG_GRPC = {_GRPC.UNAUTHENTICATED, _GRPC.PERMISSION_DENIED, _GRPC.INVALID_ARGUMENT, _GRPC.NOT_FOUND,
                _GRPC.ALREADY_EXISTS, _GRPC.FAILED_PRECONDITION, _GRPC.OUT_OF_RANGE}
# pymilvus's own checks of what we send, before any RPC: a row or parameter the collection cannot take.
_CLIENT_INPUT = (ParamError, DataNotMatchException, DataTypeNotMatchException, DataTypeNotSupportException,
                 PrimaryKeyException, FieldTypeException, FieldsTypeException, AutoIDException, PartitionKeyException,
                 SchemaNotReadyException)


def _in(code: int, codes: set[int], ranges: tuple[tuple[int, int], ...]) -> bool:
    return code in codes or any(low <= code <= high for low, high in ranges)


def classify(exc: BaseException) -> Failure:
    """Retry, config or system, from error codes and exception types, never from message text."""
    if isinstance(exc, grpc.RpcError) and callable(getattr(exc, "code", None)):
        return _by_grpc(exc.code())
    if not isinstance(exc, MilvusException):
        return _by_cause(exc)
    if isinstance(exc.code, grpc.StatusCode):  # pymilvus's own retries ran out on a gRPC failure
        return _by_grpc(exc.code)
    if getattr(exc, "retriable", False) or isinstance(exc, (MilvusUnavailableException, ConnectError)):
        return Failure.RETRY
    if isinstance(exc, _CLIENT_INPUT):
        return Failure.CONFIG
    cause = exc.__cause__
    if cause is not None and not isinstance(cause, MilvusException):  # pymilvus wrapped a foreign error
        return _by_cause(cause)
    return _by_code(int(exc.code), int(exc.compatible_code or 0))


def _by_code(code: int, legacy: int) -> Failure:
    """A Milvus error code (2.3+), or the legacy ErrorCode older servers and Lite still send."""
    if _in(code, _RETRY_CODES, _RETRY_RANGES) or legacy in _RETRY_LEGACY:
        return Failure.RETRY
    if _in(code, _CONFIG_CODES, _CONFIG_RANGES) or legacy in _CONFIG_LEGACY:
        return Failure.CONFIG
    return Failure.SYSTEM


def _by_grpc(status: grpc.StatusCode) -> Failure:
    return Failure.RETRY if status in _RETRY_GRPC else Failure.CONFIG if status in _CONFIG_GRPC else Failure.SYSTEM


def _by_cause(cause: BaseException) -> Failure:
    """A non-Milvus error under a call: the connection (a socket, a gRPC channel closed while pymilvus
    reconnects after a server restart) is retryable; anything else is a fault."""
    if isinstance(cause, grpc.RpcError) and callable(getattr(cause, "code", None)):
        return _by_grpc(cause.code())
    if isinstance(cause, (OSError, TimeoutError, grpc.FutureTimeoutError)):
        return Failure.RETRY
    if isinstance(cause, ValueError) and _raised_in_grpc(cause):  # grpc: "Cannot invoke RPC on closed channel"
        return Failure.RETRY
    return Failure.SYSTEM


def _raised_in_grpc(exc: BaseException) -> bool:
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and f"{os.sep}grpc{os.sep}" in tb.tb_frame.f_code.co_filename


def _hybrid_request(info: CollectionInfo, vector: Any, text: str, filter_expr: str, limit: int,
                    fusion: tuple[str, Any]) -> tuple[list[AnnSearchRequest], Any]:
    """The two searches of a hybrid search (dense, BM25 on the raw text) and the ranker that fuses them."""
    if info.bm25_field is None:
        raise ConfigError(f"Collection '{info.name}' has no BM25 full-text field: only dense search works.")
    requests = [AnnSearchRequest([vector], info.vector_field, {"metric_type": info.metric or "L2"}, limit,
                                 expr=filter_expr),
                AnnSearchRequest([text], info.bm25_field, {"metric_type": "BM25"}, limit, expr=filter_expr)]
    kind, param = fusion
    return requests, RRFRanker(int(param)) if kind == "rrf" else WeightedRanker(*param, norm_score=True)


def _function_outputs(desc: dict[str, Any]) -> frozenset[str]:
    """Fields a schema function (BM25, ...) fills: Milvus refuses rows that carry them."""
    return frozenset(name for function in desc.get("functions") or [] for name in function.get("output_field_names", []))


def _function_type_name(value: Any) -> str:
    """FunctionType.BM25, or its name/number as some pymilvus versions report it."""
    if isinstance(value, FunctionType):
        return value.name
    if isinstance(value, int):
        return FunctionType(value).name if value in {t.value for t in FunctionType} else str(value)
    return str(value).rsplit(".", 1)[-1].upper()


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
