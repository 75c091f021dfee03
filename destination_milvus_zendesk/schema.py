"""Row layout the stores share: bookkeeping field names, collection properties and row keys.

No backend import here: the writer and the in-memory store use it without pymilvus; milvus_store
re-exports the names for callers that already import them from there.
"""

from __future__ import annotations

import hashlib
import uuid

MODEL_PROPERTY = "dmz.embedding_model"  # collection property recording the embedding model
# "1": every row that carries a record id is keyed by (record, chunk), so a record's stored rows can be
# probed by primary key. Set on collections this connector creates; "0" once an append stream with a
# primary key (random keys) writes into it. Absent (hand-made collections): the writer never relies on it.
KEYED_PROPERTY = "dmz.keyed_rows"
COLUMNS_PROPERTY = "dmz.metadata_columns"  # the typed filter columns (milvus_store.METADATA_COLUMNS)
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


def row_key(record_id: str | None, chunk_index: int, *, int_keys: bool, max_length: int) -> int | str:
    """A deterministic key per (record, chunk) so a re-sync overwrites in place; random without a record id."""
    basis = f"{record_id}#{chunk_index}" if record_id is not None else uuid.uuid4().hex
    if int_keys:
        return int.from_bytes(hashlib.blake2b(basis.encode(), digest_size=8).digest(), "big") & ((1 << 63) - 1)
    if len(basis.encode()) > max_length:
        return hashlib.sha256(basis.encode()).hexdigest()[:max_length]
    return basis
