"""Row layout the stores share: bookkeeping field names, collection properties, row keys, and
`CollectionInfo`, the writer's view of a collection in backend-neutral kinds.

No backend import here: the writer, the in-memory store and the unit tests use it without pymilvus;
milvus/collection.py maps pymilvus's DataType to `Kind` and back.
"""

from __future__ import annotations

import enum
import hashlib
import uuid
from dataclasses import dataclass, field
from typing import Any

MODEL_PROPERTY = "dmz.embedding_model"  # collection property recording the embedding model
# "1": every row that carries a record id is keyed by (record, chunk), so a record's stored rows can be
# probed by primary key. Set on collections this connector creates; "0" once an append stream with a
# primary key (random keys) writes into it. Absent (hand-made collections): the writer never relies on it.
KEYED_PROPERTY = "dmz.keyed_rows"
COLUMNS_PROPERTY = "dmz.metadata_columns"  # the typed filter columns (METADATA_COLUMNS)
BOOKKEEPING_PREFIX = "_ab_"  # every bookkeeping field's; a record field stored under such a name is renamed
# the support lookups' rule for the collection's embedding model, as JSON (support/calibration.py)
SUPPORT_RULE_PROPERTY = "dmz.support_rule"
# on a collection `migrate` fills: its source and how far the copy got, as JSON (migration/progress.py)
MIGRATION_PROPERTY = "dmz.migration"
STREAM = "_ab_stream"
RECORD_ID = "_ab_record_id"
CHUNK = "_ab_chunk"
TEXT_HASH = "_ab_hash"
WRITE_ID = "_ab_write"
GENERATION = "_ab_gen"
MAX_TEXT_BYTES = 65_535
# Full-text (BM25) retrieval, on backends that have it (Milvus 2.5+, Zilliz Cloud, Milvus Lite): the text
# field is analyzed and a BM25 function fills this sparse field at insert time. Milvus fills it, so no
# writer may send it (CollectionInfo.writable_fields leaves it out). "_ab_" keeps it out of record names.
BM25_FIELD = "_ab_bm25"
HYBRID, DENSE = "hybrid", "dense"  # how a collection can be searched (CollectionInfo.retrieval)


class Kind(enum.Enum):
    """A field's type as the connector needs to know it, named as Milvus names its data types (so
    messages read the same); OTHER for any type the connector never stores or searches."""

    BOOL = "BOOL"
    INT8 = "INT8"
    INT16 = "INT16"
    INT32 = "INT32"
    INT64 = "INT64"
    FLOAT = "FLOAT"
    DOUBLE = "DOUBLE"
    VARCHAR = "VARCHAR"
    JSON = "JSON"
    ARRAY = "ARRAY"
    FLOAT_VECTOR = "FLOAT_VECTOR"
    BINARY_VECTOR = "BINARY_VECTOR"
    FLOAT16_VECTOR = "FLOAT16_VECTOR"
    BFLOAT16_VECTOR = "BFLOAT16_VECTOR"
    INT8_VECTOR = "INT8_VECTOR"
    SPARSE_FLOAT_VECTOR = "SPARSE_FLOAT_VECTOR"
    OTHER = "OTHER"


# Metadata the support form filters on (`status in [...] and organization_id == N`), stored as typed,
# indexed fields in collections this connector creates: a filter on a dynamic field parses every
# row's JSON (~0.2 s per search at 100k rows on milvus 2.3). Milvus 2.3 has no nullable fields and
# no defaults, so a row without the value (articles, tickets without organization) gets the sentinel,
# a value no record can have: Zendesk organization ids are positive, so NO_ORGANIZATION_ID never
# collides with a real organization (0 did, and a filter on organization 0 found every ticket without one).
# The property lists them; a record's field of that name fills the column instead of being renamed.
NO_ORGANIZATION_ID = -1
METADATA_COLUMNS: dict[str, tuple[Kind, Any]] = {"status": (Kind.VARCHAR, ""),
                                                 "organization_id": (Kind.INT64, NO_ORGANIZATION_ID)}
# Created collections are partitioned by organization (Milvus hashes the key into a fixed set of
# partitions): a filter naming one organization searches only its partition, so a lookup does not grow
# with the other organizations' tickets. Rows without an organization (articles) share one partition.
PARTITION_KEY = "organization_id"
# Milvus 2.4+ and Lite's default, set everywhere (a 2.3 server would make 64): each partition holds its
# own segments, and every sync touches most partitions, so more partitions mean more small segments.
PARTITIONS = 16
COLUMN_VARCHAR_LENGTH = 256


@dataclass
class CollectionInfo:
    """The writer's (and the lookups') view of a collection: its key, vector and typed fields, its
    properties, and what follows from them. Built by the Milvus store from `describe_collection`, by
    hand in the unit tests."""

    name: str
    pk_field: str
    pk_type: Kind
    auto_id: bool
    pk_max_length: int
    vector_field: str
    vector_type: Kind | None
    dimensions: int | None
    dynamic: bool
    fields: dict[str, Kind]
    field_params: dict[str, dict[str, Any]]
    metric: str | None
    properties: dict[str, str] = field(default_factory=dict)
    vector_indexed: bool = False  # a server cannot load the collection without it
    function_outputs: frozenset[str] = frozenset()  # fields Milvus fills itself (never sent by a writer)
    bm25_field: str | None = None  # sparse field of an indexed BM25 function on the text field, if any
    partition_key: str | None = None  # the field Milvus partitions rows by, if any

    @property
    def retrieval(self) -> str:
        """HYBRID when the collection can also be searched by full text (BM25), else DENSE."""
        return HYBRID if self.bm25_field else DENSE

    @property
    def writable_fields(self) -> set[str]:
        """Fields a row may carry: every schema field except the ones a function fills."""
        return set(self.fields) - set(self.function_outputs)

    @property
    def metadata_columns(self) -> dict[str, Kind]:
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
        return self.pk_type == Kind.INT64

    def text_limit(self, text_field: str) -> int:
        """Bytes the text field holds (its max_length, else Milvus's VARCHAR maximum)."""
        return int(self.field_params.get(text_field, {}).get("max_length", MAX_TEXT_BYTES) or MAX_TEXT_BYTES)

    @property
    def reserved_names(self) -> set[str]:
        return set(self.fields) - set(self.metadata_columns)

    def column_value(self, name: str, value: Any) -> tuple[Any, bool]:
        """(value for the typed column, False) or (its sentinel, True) when `value` cannot be stored
        there; a missing value (None) takes the sentinel without complaint."""
        kind, sentinel = METADATA_COLUMNS[name]
        if value is None:
            return sentinel, False
        if kind == Kind.INT64:
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



def row_key(record_id: str | None, chunk_index: int, *, int_keys: bool, max_length: int) -> int | str:
    """A deterministic key per (record, chunk) so a re-sync overwrites in place; random without a record id."""
    basis = f"{record_id}#{chunk_index}" if record_id is not None else uuid.uuid4().hex
    if int_keys:
        return int.from_bytes(hashlib.blake2b(basis.encode(), digest_size=8).digest(), "big") & ((1 << 63) - 1)
    if len(basis.encode()) > max_length:
        return hashlib.sha256(basis.encode()).hexdigest()[:max_length]
    return basis
