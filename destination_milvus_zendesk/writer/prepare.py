"""Preparation (prepare pool): a batch's documents chunked, their stored rows probed, vectors of
unchanged chunks reused, the rest embedded (embed pool), and the rows built and sized."""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from airbyte_cdk.models import DestinationSyncMode

from ..chunking import Chunker
from ..config import ConnectorConfig
from ..documents import Document
from ..embedding.base import Embedder
from ..schema import CHUNK, GENERATION, RECORD_ID, STREAM, TEXT_HASH, WRITE_ID
from ..store import StoredRow, VectorStore
from .applied import AppliedBatches
from .intake import Batch, Rows
from .lookup import Absence, StoredRows
from .plans import StreamPlan
from .report import Reporter

if TYPE_CHECKING:
    from ..schema import CollectionInfo

ROW_OVERHEAD_BYTES = 512  # bookkeeping fields, keys, framing of a row in a write request
# keys read past a shrunk record's new last chunk: its extra rows go by key when they end within
# them (a record rarely shrinks by more), by a filter delete when they do not
SHRUNK_KEYS_READ = 32

Chunks = list[tuple[str, int]]  # (text, tokens) of a document's chunks


@dataclass
class Prepared:
    rows: list[dict[str, Any]]
    dedup_ids: dict[str, list[str]]  # generation tag ("" = any) -> record ids whose other rows go
    deleted_ids: list[str]
    chunk_counts: dict[str, int] = field(default_factory=dict)  # record id -> chunks written now
    # keyed collections: records whose row number chunk_counts[id] was stored when probed (None: not
    # probed, treat every record as having rows to remove), and the last batch applied before the probe
    shrunk_ids: set[str] | None = None
    probed_after_seq: int = 0
    # keyed collections: the keys of shrunk records' stored rows past their new chunks, and the
    # records whose rows may go on past the keys read (removed by filter)
    beyond: dict[str, list[Any]] = field(default_factory=dict)
    unbounded: set[str] = field(default_factory=set)
    sizes: list[int] = field(default_factory=list)  # approximate bytes of each row, for write requests
    # records with no stored row before this batch (lookup.Absence): nothing to look up, nothing to clean
    absent_ids: set[str] = field(default_factory=set)
    # collections not keyed by record: the stored rows of the batch's records, read for its group
    stored: StoredRows | None = None

    @property
    def records(self) -> set[str]:
        return set(self.chunk_counts).union(self.deleted_ids)


@dataclass
class _Probe:
    """What a keyed batch's read by key found (`Preparer._probe_stored_rows`)."""
    shrunk: set[str] | None  # records whose chunk n is stored; None: not probed (collection not keyed)
    reuse: dict[tuple[str, str], list[float]] = field(default_factory=dict)  # (record, text hash) -> vector
    beyond: dict[str, list[Any]] = field(default_factory=dict)
    unbounded: set[str] = field(default_factory=set)


@dataclass
class _Pending:
    """Rows being built: chunk texts still to embed are remembered by row index."""
    rows: list[dict[str, Any]] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    to_embed: list[tuple[int, str]] = field(default_factory=list)


def text_hash(model_id: str, text: str) -> str:
    """Identifies (model, chunk text): equal hash means the stored vector is exactly what we'd get."""
    return hashlib.blake2b(f"{model_id}\x00{text}".encode("utf-8", "replace"), digest_size=16).hexdigest()


class Preparer:
    def __init__(self, config: ConnectorConfig, store: VectorStore, info: CollectionInfo, embedder: Embedder,
                 plans: dict[str, StreamPlan], report: Reporter, applied: AppliedBatches, keyed: bool,
                 absence: Absence) -> None:
        self.config = config
        self.store = store
        self.info = info
        self.embedder = embedder
        self.plans = plans
        self.report = report
        self.applied = applied
        self.keyed = keyed
        self.chunker = Chunker.from_config(config.processing)
        self.absence = absence
        # may stored vectors of unchanged chunks be reused at all (the config allows it, and the
        # embedder's vectors are the ones stored)?
        self.reusing = config.reuse_embeddings and embedder.reuses_stored_vectors
        self.embed_pool: ThreadPoolExecutor | None = None

    def prepare(self, batch: Batch, lookup: "Future[StoredRows] | None" = None) -> Prepared:
        """`lookup`: the read of the stored rows of the batch's group (collections not keyed by record)."""
        items = self._latest(batch)
        self.report.stats.add(chunks=sum(len(chunks) for _, chunks in items))
        probed_after_seq, visible_ts = self.applied.readable_point()  # batches up to it are visible to the probe
        absent = self.absence.of(batch)  # a first sync looks nothing up and cleans nothing
        if lookup is not None:
            stored = lookup.result()
            prepared = Prepared([], {}, [], absent_ids=absent, stored=stored)
            reuse = self._listed_vectors(items, stored, absent)
        else:
            probe = self._probe_stored_rows(items, visible_ts, absent)
            reuse = probe.reuse
            prepared = Prepared([], {}, [], shrunk_ids=probe.shrunk, probed_after_seq=probed_after_seq,
                                absent_ids=absent, beyond=probe.beyond, unbounded=probe.unbounded)
        pending = _Pending(prepared.rows, prepared.sizes)
        for doc, chunks in items:
            if doc.record_id is not None and doc.deleted:
                prepared.deleted_ids.append(doc.record_id)
                continue
            plan = self.plans[doc.stream]
            if doc.record_id is not None and plan.keyed_by_record:
                scope = plan.generation if plan.mode == DestinationSyncMode.overwrite else ""
                prepared.dedup_ids.setdefault(scope, []).append(doc.record_id)
                prepared.chunk_counts[doc.record_id] = len(chunks)
            self._add_rows(pending, doc, plan, chunks, reuse, batch.write_id)
        texts = [text for _, text in pending.to_embed]
        for (row_index, _), vector in zip(pending.to_embed, self._embed_all(texts, items)):
            prepared.rows[row_index][self.info.vector_field] = vector
        return prepared

    def _latest(self, batch: Batch) -> list[tuple[Document, Chunks]]:
        """The last version of each record in the batch, chunked."""
        latest: "OrderedDict[Any, tuple[Document, Rows]]" = OrderedDict()
        for n, item in enumerate(batch.items):
            doc = item.doc
            key = doc.record_id if (doc.record_id is not None and self.plans[doc.stream].keyed_by_record) else n
            latest.pop(key, None)
            latest[key] = (doc, item.rows)
        return [(doc, self.chunker.split_counted(doc.text) if rows is Rows.STORE else [])
                for doc, rows in latest.values()]

    def _add_rows(self, pending: _Pending, doc: Document, plan: StreamPlan, chunks: Chunks,
                  reuse: dict[tuple[str, str], list[float]], write_id: str) -> None:
        if not chunks:
            return
        vector_bytes = 4 * (self.info.dimensions or self.embedder.dimensions)
        columns = self._column_values(doc)
        meta_bytes = _json_size(doc.metadata) + ROW_OVERHEAD_BYTES
        for index, (text, _tokens) in enumerate(chunks):
            digest = text_hash(self.embedder.model_id, text)
            row = self._row(doc, plan, index, text, digest, write_id)
            row.update(columns)
            pending.sizes.append(meta_bytes + len(text.encode("utf-8", "replace")) + vector_bytes)
            if doc.vector is not None:
                row[self.info.vector_field] = doc.vector
            elif (doc.record_id, digest) in reuse:
                row[self.info.vector_field] = reuse[(doc.record_id, digest)]
                self.report.stats.add(reused=1)
            else:
                pending.to_embed.append((len(pending.rows), text))
            pending.rows.append(row)

    def _probe_stored_rows(self, items: list[tuple[Document, Chunks]], visible_ts: int, absent: set[str]) -> _Probe:
        """On keyed collections, one read by primary key per batch answers, per record with n chunks now:
        which of chunks 0..n-1 are stored, with their text hashes and vectors (reused where a new
        chunk's text is unchanged; only chunk 0 when nothing would be reused), and is chunk n stored
        (rows to remove after the upsert)?

        A record's rows are chunks 0..m-1 (written in order, removed together), so chunk n exists
        exactly when the stored version had more chunks than the new one. Those records get a second
        read of the keys after n, so their extra rows go by key. A first sync, or a record that did
        not shrink, then costs no filter query and no delete. Not keyed: every record is looked up
        and cleaned by filter (`shrunk` None).
        """
        if not self.keyed:
            return _Probe(shrunk=None)
        keys, reusable = self._probe_keys(items, absent)
        probe = _Probe(shrunk=set())
        if not keys:
            return probe
        for key, (digest, vector) in self.store.chunks_by_key(list(keys), visible_ts, bool(reusable)).items():
            record_id, _index, is_chunk_n = keys[key]
            if is_chunk_n:
                probe.shrunk.add(record_id)
                probe.beyond[record_id] = [key]
            if record_id in reusable and vector is not None and digest:
                probe.reuse[(record_id, digest)] = vector
        self._read_past_shrunk(probe, {record_id: index for record_id, index, is_n in keys.values() if is_n},
                               visible_ts)
        return probe

    def _probe_keys(self, items: list[tuple[Document, Chunks]],
                    absent: set[str]) -> tuple[dict[Any, tuple[str, int, bool]], set[str]]:
        """(key -> (record, chunk index, is chunk n), the records whose stored vectors may be reused)."""
        keys: dict[Any, tuple[str, int, bool]] = {}
        reusable: set[str] = set()
        for doc, chunks in items:
            if (doc.record_id is None or doc.deleted or doc.record_id in absent
                    or not self.plans[doc.stream].keyed_by_record):
                continue
            if self.reusing and self._reusable(doc, chunks, absent):
                reusable.add(doc.record_id)
            for index in range(len(chunks) if doc.record_id in reusable else 1):
                keys[self.store.primary_key(doc.record_id, index)] = (doc.record_id, index, False)
            keys[self.store.primary_key(doc.record_id, len(chunks))] = (doc.record_id, len(chunks), True)  # may be chunk 0
        return keys, reusable

    def _read_past_shrunk(self, probe: _Probe, new_counts: dict[str, int], visible_ts: int) -> None:
        """The keys of shrunk records' rows after chunk n, up to SHRUNK_KEYS_READ of them."""
        after: dict[Any, tuple[str, int]] = {}
        for record_id in probe.shrunk:
            for index in range(new_counts[record_id] + 1, new_counts[record_id] + SHRUNK_KEYS_READ):
                after[self.store.primary_key(record_id, index)] = (record_id, index)
        if not after:
            return
        found = self.store.existing_keys(list(after), visible_ts)
        for key, (record_id, index) in after.items():
            if key not in found:
                continue
            probe.beyond[record_id].append(key)
            if index == new_counts[record_id] + SHRUNK_KEYS_READ - 1:
                probe.unbounded.add(record_id)

    def _reusable(self, doc: Document, chunks: Chunks, absent: set[str]) -> bool:
        """May the record's new chunks take stored vectors (append_dedup: the stored rows are its own)?"""
        return (doc.record_id is not None and bool(chunks) and doc.record_id not in absent
                and self.plans[doc.stream].mode == DestinationSyncMode.append_dedup)

    def _listed_vectors(self, items: list[tuple[Document, Chunks]], stored: StoredRows,
                        absent: set[str]) -> dict[tuple[str, str], list[float]]:
        """The stored vectors of unchanged chunks, read by key: the group's read listed the rows and
        their text hashes; only rows whose hash matches a new chunk of the record are read."""
        if not self.reusing:
            return {}
        wanted: dict[tuple[str, str], Any] = {}
        for doc, chunks in items:
            if self._reusable(doc, chunks, absent):
                wanted.update(self._matching_rows(doc.record_id, chunks, stored.rows.get(doc.record_id, [])))
        vectors = self.store.vectors_by_key(list(wanted.values())) if wanted else {}
        return {pair: vectors[key] for pair, key in wanted.items() if key in vectors}

    def _matching_rows(self, record_id: str, chunks: Chunks, listed: list[StoredRow]) -> dict[tuple[str, str], Any]:
        """(record, text hash) -> key of a listed row holding the text of one of the new chunks."""
        digests = {text_hash(self.embedder.model_id, text) for text, _ in chunks} if listed else set()
        return {(record_id, row.text_hash): row.key for row in listed if row.text_hash in digests}

    def _embed_all(self, texts: list[str], items: list[tuple[Document, Chunks]]) -> list[list[float]]:
        """Requests bounded by input count and tokens, `embedding_concurrency` of them in flight."""
        if not texts:
            return []
        tokens: dict[str, int] = {}
        for _, chunks in items:
            tokens.update(dict(chunks))
        requests = self._requests(texts, tokens)
        vectors: list[list[float]] = []
        if not self.embedder.remote or self.embed_pool is None:  # in-process model: no thread hand-off
            for request in requests:
                vectors.extend(self.embedder.embed(request))
        else:
            futures = [self.embed_pool.submit(self.embedder.embed, request) for request in requests]
            for future in futures:
                vectors.extend(future.result())
        self.report.stats.add(embedded=len(texts), embed_requests=len(requests))
        return vectors

    def _requests(self, texts: list[str], tokens: dict[str, int]) -> list[list[str]]:
        max_inputs = min(self.config.embedding_batch_size, self.embedder.max_inputs)
        budget = self.config.embedding_batch_tokens
        requests: list[list[str]] = []
        current: list[str] = []
        used = 0
        for text in texts:
            cost = tokens.get(text, len(text))
            if current and (len(current) >= max_inputs or used + cost > budget):
                requests.append(current)
                current, used = [], 0
            current.append(text)
            used += cost
        requests.append(current)
        return requests

    def _row(self, doc: Document, plan: StreamPlan, index: int, text: str, digest: str, write_id: str) -> dict[str, Any]:
        info = self.info
        row: dict[str, Any] = dict(doc.metadata)
        row[STREAM] = doc.stream
        row[RECORD_ID] = doc.record_id if doc.record_id is not None else ""  # explicit field in created collections
        row[CHUNK] = index
        row[TEXT_HASH] = digest
        row[WRITE_ID] = write_id
        row[GENERATION] = plan.generation
        text_field = self.config.indexing.text_field
        if not self.config.omit_raw_text:
            row[text_field] = _fit_text(text, info.text_limit(text_field))
        elif text_field in info.fields:
            row[text_field] = ""
        if not info.auto_id:  # append keeps every version: no record-derived key to collide on
            keyed = doc.record_id if plan.keyed_by_record else None
            row[info.pk_field] = self.store.primary_key(keyed, index)
        return row

    def _column_values(self, doc: Document) -> dict[str, Any]:
        """The typed filter columns of connector-created collections (status, organization_id)."""
        values = {}
        for name in self.info.metadata_columns:
            values[name], refused = self.info.column_value(name, doc.metadata.get(name))
            if refused:
                self.report.warn(
                    f"stream '{doc.stream}': metadata field '{name}' of an unexpected type, stored as {values[name]!r}",
                    f"record {doc.record_id}: '{name}' = {str(doc.metadata.get(name))[:80]!r} does not fit the "
                    f"collection's {self.info.fields[name].name} field '{name}'; stored as {values[name]!r}")
        return values


def _json_size(value: Any) -> int:
    try:
        return len(orjson.dumps(value, default=str))
    except (TypeError, ValueError):
        return len(json.dumps(value, ensure_ascii=False, default=str).encode("utf-8", "replace"))


def _fit_text(text: str, limit: int) -> str:
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[:limit].decode("utf-8", "ignore")
