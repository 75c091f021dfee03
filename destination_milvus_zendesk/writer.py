"""The write pipeline: records -> documents -> chunks -> vectors -> Milvus rows, with state.

    main thread     reads messages, builds documents and chunks, cuts batches (and at every STATE)
    prepare pool    per batch: reuse stored vectors of unchanged chunks, embed the rest
    embed pool      the embedding requests themselves, `embedding_concurrency` in flight
    writer thread   applies batches to Milvus strictly in input order, then releases the STATE
                    messages that followed them

Queues are bounded, so memory stays flat whatever the sync size. A STATE message leaves only
after every record before it is stored; on any failure, nothing after the failure is released.

Sync modes:
  append         insert
  append_dedup   write the record's new chunks (tagged with this batch's write id), then delete
                 its other rows: readers never see the record with no chunks, and a crash in
                 between leaves extra rows that the retried batch removes
  overwrite      rows carry the sync's generation; rows of older generations are deleted once
                 the input ended successfully, so the old data stays readable until then
"""

from __future__ import annotations

import hashlib
import logging
import queue
import threading
import time
import uuid
from collections import Counter, OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

from airbyte_cdk.models import (AirbyteMessage, AirbyteStateStats, AirbyteStateType, ConfiguredAirbyteCatalog,
                                DestinationSyncMode, Level, Type)
from airbyte_cdk.models import AirbyteLogMessage

from .chunking import Chunker
from .config import ConnectorConfig
from .documents import Document, DocumentBuilder
from .embedding.base import Embedder
from .embedding.factory import FromFieldEmbedder
from .errors import ConfigError, InputError
from .milvus_store import (CHUNK, GENERATION, MAX_TEXT_BYTES, RECORD_ID, STREAM, TEXT_HASH, WRITE_ID, MilvusStore,
                           in_filter, literal)

logger = logging.getLogger("airbyte")
PROGRESS_INTERVAL_S = 10.0
MAX_WARNINGS_LOGGED = 20
PREPARE_WORKERS = 3
QUEUE_SLOTS = 4


@dataclass
class StreamPlan:
    name: str
    mode: DestinationSyncMode
    primary_key: list[list[str]] | None
    generation: str


@dataclass
class Batch:
    seq: int
    write_id: str
    items: list[tuple[Document, list[tuple[str, int]]]] = field(default_factory=list)
    chunks: int = 0

    def add(self, doc: Document, chunks: list[tuple[str, int]]) -> None:
        self.items.append((doc, chunks))
        self.chunks += len(chunks)


@dataclass
class Prepared:
    rows: list[dict[str, Any]]
    dedup_ids: dict[str, list[str]]  # generation filter ("" = any) -> record ids whose other rows go
    deleted_ids: list[str]


@dataclass
class Stats:
    records: int = 0
    chunks: int = 0
    rows_written: int = 0
    embedded: int = 0
    reused: int = 0
    embed_requests: int = 0
    deleted_records: int = 0
    warnings: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, **amounts: int) -> None:
        with self.lock:
            for name, amount in amounts.items():
                setattr(self, name, getattr(self, name) + amount)


def text_hash(model_id: str, text: str) -> str:
    """Identifies (model, chunk text): equal hash means the stored vector is exactly what we'd get."""
    return hashlib.blake2b(f"{model_id}\x00{text}".encode("utf-8", "replace"), digest_size=16).hexdigest()


class Writer:
    def __init__(self, config: ConnectorConfig, store: MilvusStore, embedder: Embedder,
                 catalog: ConfiguredAirbyteCatalog, *, line_number: Callable[[], int] = lambda: 0) -> None:
        assert store.info is not None
        self.config = config
        self.store = store
        self.info = store.info
        self.embedder = embedder
        self.line_number = line_number
        self.run_id = uuid.uuid4().hex[:12]
        self.plans = {self._stream_id(cs.stream.name, cs.stream.namespace): self._plan(cs)
                      for cs in catalog.streams}
        self.chunker = Chunker.from_config(config.processing)
        vector_source = embedder.field_name if isinstance(embedder, FromFieldEmbedder) else None
        self.builder = DocumentBuilder(config.processing, self.info.reserved_names, vector_source)
        self.stats = Stats()
        self.batch_chunk_limit = config.embedding_batch_size * max(1, config.embedding_concurrency)
        self.batch_record_limit = config.write_batch_rows
        self._seq = 0
        self._outputs: "queue.Queue[AirbyteMessage]" = queue.Queue()
        self._work: "queue.Queue[tuple[str, Any]]" = queue.Queue(maxsize=QUEUE_SLOTS)
        self._error: BaseException | None = None
        self._records_since_state: Counter = Counter()
        self._last_progress = time.monotonic()
        self._started = time.monotonic()

    # --- catalog ------------------------------------------------------------------------------

    @staticmethod
    def _stream_id(name: str, namespace: str | None) -> str:
        return f"{namespace}_{name}" if namespace else name

    def _plan(self, cs: Any) -> StreamPlan:
        name = self._stream_id(cs.stream.name, cs.stream.namespace)
        pk = cs.primary_key or cs.stream.source_defined_primary_key or None
        if cs.destination_sync_mode == DestinationSyncMode.append_dedup and not pk:
            raise ConfigError(
                f"Stream '{name}' uses append_dedup but has no primary key: set one in the connection, or use append.")
        generation = str(cs.generation_id) if getattr(cs, "generation_id", None) is not None else self.run_id
        return StreamPlan(name, cs.destination_sync_mode, pk, generation)

    # --- the main loop ------------------------------------------------------------------------

    def run(self, messages: Iterable[AirbyteMessage]) -> Iterator[AirbyteMessage]:
        embed_workers = self.config.embedding_concurrency if self.embedder.remote else 1
        self._embed_pool = ThreadPoolExecutor(embed_workers, thread_name_prefix="embed")
        self._prepare_pool = ThreadPoolExecutor(PREPARE_WORKERS if self.embedder.remote else 1,
                                                thread_name_prefix="prepare")
        writer_thread = threading.Thread(target=self._writer_loop, name="milvus-writer", daemon=True)
        writer_thread.start()
        self._prepare_overwrite_streams()
        batch = self._new_batch()
        try:
            for message in messages:
                if message.type == Type.RECORD:
                    self._add_record(batch, message)
                    if batch.chunks >= self.batch_chunk_limit or len(batch.items) >= self.batch_record_limit:
                        self._submit(batch)
                        batch = self._new_batch()
                elif message.type == Type.STATE:
                    if batch.items:
                        self._submit(batch)
                        batch = self._new_batch()
                    self._put(("state", self._with_stats(message)))
                yield from self._drain_outputs()
            if batch.items:
                self._submit(batch)
            self._put(("end", None))
        except BaseException:
            self._stop_writer(writer_thread)
            raise
        finally:
            while writer_thread.is_alive():
                writer_thread.join(timeout=0.5)
                yield from self._drain_outputs()
            yield from self._drain_outputs()
            self._prepare_pool.shutdown(wait=False, cancel_futures=True)
            self._embed_pool.shutdown(wait=False, cancel_futures=True)
        if self._error is not None:
            raise self._error
        yield self._log(Level.INFO, self._progress_line(final=True))
        for reason, count in sorted(self.stats.warnings.items()):
            yield self._log(Level.WARN, f"{count} x {reason}")

    def _new_batch(self) -> Batch:
        self._seq += 1
        return Batch(self._seq, f"{self.run_id}-{self._seq}")

    def _add_record(self, batch: Batch, message: AirbyteMessage) -> None:
        record = message.record
        assert record is not None
        stream = self._stream_id(record.stream, record.namespace)
        plan = self.plans.get(stream)
        if plan is None:
            raise InputError(f"Line {self.line_number()}: record for stream '{stream}', which is not in the configured "
                             f"catalog ({', '.join(sorted(self.plans)) or 'empty'}).")
        if not isinstance(record.data, dict):
            raise InputError(f"Line {self.line_number()}: record of stream '{stream}' has no JSON object as data.")
        self._records_since_state[stream] += 1
        self.stats.add(records=1)
        doc = self.builder.build(stream, record.data, plan.primary_key)
        for warning in doc.warnings:
            self._warn(f"stream '{stream}': {_kind(warning)}", f"line {self.line_number()}: {warning}")
        chunks: list[tuple[str, int]] = []
        if not doc.deleted:
            chunks = self.chunker.split_counted(doc.text)
            if not chunks:
                self._warn(f"stream '{stream}': record with no text in the text fields, not stored",
                           f"line {self.line_number()}: record {doc.record_id or '(no primary key)'} has no text in "
                           f"{self.config.processing.text_fields or 'any field'}")
            elif isinstance(self.embedder, FromFieldEmbedder) and (doc.vector is None or
                                                                    len(doc.vector) != self.embedder.dimensions):
                self._warn(f"stream '{stream}': record without a valid '{self.embedder.field_name}' vector, not stored",
                           f"line {self.line_number()}: record {doc.record_id} has no {self.embedder.dimensions}-d "
                           f"vector in '{self.embedder.field_name}'")
                chunks = []
        batch.add(doc, chunks)
        self.stats.add(chunks=len(chunks))

    def _with_stats(self, message: AirbyteMessage) -> AirbyteMessage:
        """Attach destinationStats.recordCount: records of that stream (or all) since its last state."""
        state = message.state
        assert state is not None
        if state.type == AirbyteStateType.STREAM and state.stream is not None:
            desc = state.stream.stream_descriptor
            count = self._records_since_state.pop(self._stream_id(desc.name, desc.namespace), 0)
        else:
            count = sum(self._records_since_state.values())
            self._records_since_state.clear()
        state.destinationStats = AirbyteStateStats(recordCount=float(count))
        return message

    # --- queues -------------------------------------------------------------------------------

    def _submit(self, batch: Batch) -> None:
        future = self._prepare_pool.submit(self._prepare, batch)
        self._put(("batch", (batch, future)))

    def _put(self, item: tuple[str, Any]) -> None:
        """Bounded put that notices a failed writer instead of blocking forever."""
        while True:
            if self._error is not None:
                raise self._error
            try:
                self._work.put(item, timeout=0.2)
                return
            except queue.Full:
                self._maybe_progress()

    def _stop_writer(self, writer_thread: threading.Thread) -> None:
        """Let the writer finish what is queued (and release its states), then stop."""
        while writer_thread.is_alive():
            try:
                self._work.put(("stop", None), timeout=0.2)
                return
            except queue.Full:
                continue

    def _drain_outputs(self) -> Iterator[AirbyteMessage]:
        self._maybe_progress()
        while True:
            try:
                yield self._outputs.get_nowait()
            except queue.Empty:
                return

    # --- prepare: reuse or embed --------------------------------------------------------------

    def _prepare(self, batch: Batch) -> Prepared:
        latest: "OrderedDict[Any, tuple[Document, list[tuple[str, int]]]]" = OrderedDict()
        for n, (doc, chunks) in enumerate(batch.items):
            plan = self.plans[doc.stream]
            key = doc.record_id if (doc.record_id is not None and plan.mode != DestinationSyncMode.append) else n
            latest.pop(key, None)  # keep only the last version of a record within the batch
            latest[key] = (doc, chunks)
        items = list(latest.values())
        reuse = self._stored_vectors(items)
        rows: list[dict[str, Any]] = []
        pending: list[tuple[int, str]] = []  # (row index, text) still to embed
        dedup_ids: dict[str, list[str]] = {}
        deleted_ids: list[str] = []
        model = self.embedder.model_id
        for doc, chunks in items:
            plan = self.plans[doc.stream]
            if doc.record_id is not None and doc.deleted:
                deleted_ids.append(doc.record_id)
                continue
            if doc.record_id is not None and plan.mode != DestinationSyncMode.append:
                scope = plan.generation if plan.mode == DestinationSyncMode.overwrite else ""
                dedup_ids.setdefault(scope, []).append(doc.record_id)
            for index, (text, _tokens) in enumerate(chunks):
                digest = text_hash(model, text)
                row = self._row(doc, plan, index, text, digest, batch.write_id)
                if doc.vector is not None:
                    row[self.info.vector_field] = doc.vector
                elif (doc.record_id, digest) in reuse:
                    row[self.info.vector_field] = reuse[(doc.record_id, digest)]
                    self.stats.add(reused=1)
                else:
                    pending.append((len(rows), text))
                rows.append(row)
        for (row_index, _), vector in zip(pending, self._embed_all([t for _, t in pending], items)):
            rows[row_index][self.info.vector_field] = vector
        return Prepared(rows, dedup_ids, deleted_ids)

    def _stored_vectors(self, items: list[tuple[Document, list[tuple[str, int]]]]) -> dict[tuple[str, str], list[float]]:
        if not self.config.reuse_embeddings or isinstance(self.embedder, FromFieldEmbedder):
            return {}
        ids = [doc.record_id for doc, chunks in items if doc.record_id is not None and chunks
               and self.plans[doc.stream].mode == DestinationSyncMode.append_dedup]
        return self.store.stored_chunks(ids) if ids else {}

    def _embed_all(self, texts: list[str], items: Any) -> list[list[float]]:
        """Requests bounded by input count and tokens, `embedding_concurrency` of them in flight."""
        if not texts:
            return []
        tokens = {}
        for _, chunks in items:
            tokens.update(dict(chunks))
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
        futures: list[Future] = [self._embed_pool.submit(self.embedder.embed, request) for request in requests]
        vectors: list[list[float]] = []
        for future in futures:
            vectors.extend(future.result())
        self.stats.add(embedded=len(texts), embed_requests=len(requests))
        return vectors

    def _row(self, doc: Document, plan: StreamPlan, index: int, text: str, digest: str, write_id: str) -> dict[str, Any]:
        info = self.info
        row: dict[str, Any] = dict(doc.metadata)
        row[STREAM] = doc.stream
        row[RECORD_ID] = doc.record_id if doc.record_id is not None else ""  # explicit field in created collections
        row[CHUNK] = index
        row[TEXT_HASH] = digest
        row[WRITE_ID] = write_id
        row[GENERATION] = plan.generation
        if not self.config.omit_raw_text:
            row[self.config.indexing.text_field] = _fit_text(text, self._text_limit())
        elif self.config.indexing.text_field in info.fields:
            row[self.config.indexing.text_field] = ""
        if not info.auto_id:  # append keeps every version: no record-derived key to collide on
            keyed = doc.record_id if plan.mode != DestinationSyncMode.append else None
            row[info.pk_field] = self.store.primary_key(keyed, index)
        return row

    def _text_limit(self) -> int:
        params = self.info.field_params.get(self.config.indexing.text_field, {})
        return int(params.get("max_length", MAX_TEXT_BYTES) or MAX_TEXT_BYTES)

    # --- the writer thread --------------------------------------------------------------------

    def _writer_loop(self) -> None:
        try:
            while True:
                kind, payload = self._work.get()
                if kind == "batch":
                    batch, future = payload
                    self._apply(batch, future.result())
                elif kind == "state":
                    self._outputs.put(payload)
                elif kind == "end":
                    self._finish_overwrite_streams()
                    return
                else:
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread, which raises it
            self._error = exc

    def _apply(self, batch: Batch, prepared: Prepared) -> None:
        if prepared.rows:
            self.store.write(prepared.rows)
            self.stats.add(rows_written=len(prepared.rows))
        for scope, ids in prepared.dedup_ids.items():
            if scope:
                self._delete_stale_in_generation(ids, scope, batch.write_id)
            else:
                self.store.delete_records(ids, keep_write_id=batch.write_id)
        if prepared.deleted_ids:
            self.store.delete_records(prepared.deleted_ids)
            self.stats.add(deleted_records=len(prepared.deleted_ids))

    def _delete_stale_in_generation(self, ids: list[str], generation: str, write_id: str) -> None:
        """Overwrite with a primary key: a retried attempt's record replaces its earlier copy."""
        for start in range(0, len(ids), 500):
            self.store.delete(f"{in_filter(RECORD_ID, ids[start:start + 500])} and {GENERATION} == {literal(generation)}"
                              f" and {WRITE_ID} != {literal(write_id)}")

    def _prepare_overwrite_streams(self) -> None:
        """Without a primary key, rows an earlier failed attempt of this generation left are cleared first."""
        for plan in self.plans.values():
            if plan.mode == DestinationSyncMode.overwrite and not plan.primary_key and plan.generation != self.run_id:
                self.store.delete(f"{STREAM} == {literal(plan.name)} and {GENERATION} == {literal(plan.generation)}")

    def _finish_overwrite_streams(self) -> None:
        for plan in self.plans.values():
            if plan.mode == DestinationSyncMode.overwrite:
                self.store.delete(f"{STREAM} == {literal(plan.name)} and ({GENERATION} != {literal(plan.generation)} "
                                  f"or not (exists {GENERATION}))")
                self._outputs.put(self._log(Level.INFO, f"overwrite: rows of earlier syncs of '{plan.name}' removed"))

    # --- logs ---------------------------------------------------------------------------------

    def _warn(self, reason: str, detail: str) -> None:
        with self.stats.lock:
            self.stats.warnings[reason] += 1
            first = sum(self.stats.warnings.values()) <= MAX_WARNINGS_LOGGED
        if first:
            self._outputs.put(self._log(Level.WARN, detail))

    def _maybe_progress(self) -> None:
        now = time.monotonic()
        if now - self._last_progress >= PROGRESS_INTERVAL_S:
            self._last_progress = now
            self._outputs.put(self._log(Level.INFO, self._progress_line()))

    def _progress_line(self, final: bool = False) -> str:
        s = self.stats
        elapsed = max(time.monotonic() - self._started, 1e-6)
        return (f"{'done' if final else 'progress'}: {s.records} records, {s.chunks} chunks, {s.rows_written} rows "
                f"written ({s.rows_written / elapsed:.0f} rows/s), {s.embedded} chunks embedded in "
                f"{s.embed_requests} requests, {s.reused} vectors reused, {s.deleted_records} records deleted, "
                f"{sum(s.warnings.values())} warnings, {elapsed:.1f}s")

    @staticmethod
    def _log(level: Level, text: str) -> AirbyteMessage:
        return AirbyteMessage(type=Type.LOG, log=AirbyteLogMessage(level=level, message=text))


def _fit_text(text: str, limit: int) -> str:
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[:limit].decode("utf-8", "ignore")


def _kind(warning: str) -> str:
    """Group warnings by kind for the end-of-sync summary ("metadata field 'x' truncated ...")."""
    return warning.split(" from ")[0].split(" (")[0]

