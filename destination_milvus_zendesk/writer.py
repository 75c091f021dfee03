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
  truncating     (overwrite; "refresh and remove records" and "clear" of any mode) rows carry this
                 job's tag (generation and sync id); once the input ended successfully, the
                 stream's rows with another tag (earlier jobs) are deleted, so the old data
                 stays readable until then and the attempts of one job add up

Which streams truncate follows the platform's catalog (`_plan`): overwrite always; any mode when
minimum_generation_id == generation_id > 0. Consecutive overwrites share a generation, so the tag
also carries sync_id (the job id, shared by a job's attempts). PyAirbyte fills in 1 for all three
fields on every write: that triple is read as "no generation information", like a catalog without
the fields: the sync mode decides, and the run's own random id is the tag.
"""

from __future__ import annotations

import gc
import hashlib
import inspect
import json
import logging
import queue
import threading
import time
import uuid
from collections import Counter, OrderedDict, deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

import orjson
from airbyte_cdk.models import (AirbyteMessage, AirbyteStateStats, AirbyteStateType, AirbyteStreamStatus,
                                ConfiguredAirbyteCatalog, DestinationSyncMode, Level, TraceType, Type)
from airbyte_cdk.models import AirbyteLogMessage

from .chunking import Chunker
from .config import ConnectorConfig
from .documents import Document, DocumentBuilder
from .embedding.base import Embedder
from .embedding.factory import FromFieldEmbedder
from .errors import ConfigError, InputError
from .milvus_store import (CHUNK, GENERATION, KEYED_PROPERTY, MAX_TEXT_BYTES, RECORD_ID, STREAM, TEXT_HASH, WRITE_ID,
                           MilvusStore)

logger = logging.getLogger("airbyte")
PROGRESS_INTERVAL_S = 10.0
MAX_WARNINGS_LOGGED = 20
PREPARE_WORKERS = 3
QUEUE_SLOTS = 4
READ_AHEAD = 8  # input messages read ahead of the main thread (a message can be megabytes)
IDLE_POLL_S = 0.5  # with no input for this long, states whose records are stored are released
READABLE_AFTER_S = 0.3  # a write older than this is readable on the server without waiting
RECENT_BATCHES = 64  # applied batches remembered for records probed while they were in flight
GC_GEN0_THRESHOLD = 50_000
ROW_OVERHEAD_BYTES = 512  # bookkeeping fields, keys, framing of a row in a write request
WRITE_CONCURRENCY = 2  # batches written at once (sharing no record), Milvus server only
LOCAL_BATCH_CHUNKS = 512  # chunks per batch when embedding in-process (fake, local, from_field)


@dataclass
class StreamPlan:
    name: str
    mode: DestinationSyncMode
    primary_key: list[list[str]] | None
    generation: str  # the tag this sync's rows carry in GENERATION: "g<generation>.s<sync id>" or the run id
    truncate: bool = False  # at the end, remove the stream's rows of other tags
    platform: bool = False  # generation fields from the platform: truncation waits for a COMPLETE status


@dataclass
class Batch:
    """Documents in input order; each is chunked by the prepare pool (`chunk` False: store no rows)."""
    seq: int
    write_id: str
    items: list[tuple[Document, bool]] = field(default_factory=list)
    chunks: int = 0  # estimated from the text length; the exact split happens in `_prepare`
    unseen: set[str] = field(default_factory=set)  # record ids in no earlier batch of this sync

    def add(self, doc: Document, chunk: bool, estimated_chunks: int) -> None:
        self.items.append((doc, chunk))
        self.chunks += estimated_chunks


@dataclass
class Prepared:
    rows: list[dict[str, Any]]
    dedup_ids: dict[str, list[str]]  # generation filter ("" = any) -> record ids whose other rows go
    deleted_ids: list[str]
    chunk_counts: dict[str, int] = field(default_factory=dict)  # record id -> chunks written now
    # keyed collections: records whose row number chunk_counts[id] was stored when probed (None: not
    # probed, treat every record as having rows to remove), and the last batch applied before the probe
    shrunk_ids: set[str] | None = None
    probed_after_seq: int = 0
    sizes: list[int] = field(default_factory=list)  # approximate bytes of each row, for write requests


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


class SeenRecords:
    """Record ids of this sync in a fixed-size Bloom filter (1 MiB, whatever the sync's size):
    "not seen" is certain; "seen" may be wrong (~1e-4 at 100k records), which only costs a probe."""

    BITS = 1 << 23
    HASHES = 3

    def __init__(self) -> None:
        self._bits = bytearray(self.BITS // 8)

    def add(self, key: str) -> bool:
        """Adds `key`; True if it may have been added before."""
        digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=4 * self.HASHES).digest()
        seen = True
        for i in range(self.HASHES):
            n = int.from_bytes(digest[4 * i:4 * i + 4], "little") % self.BITS
            if not self._bits[n >> 3] & (1 << (n & 7)):
                seen = False
                self._bits[n >> 3] |= 1 << (n & 7)
        return seen


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
        self._line = 0  # input line of the message being handled (the reader thread runs ahead)
        self.run_id = uuid.uuid4().hex[:12]
        self.plans = {self._stream_id(cs.stream.name, cs.stream.namespace): self._plan(cs)
                      for cs in catalog.streams}
        self.chunker = Chunker.from_config(config.processing)
        vector_source = embedder.field_name if isinstance(embedder, FromFieldEmbedder) else None
        self.builder = DocumentBuilder(config.processing, self.info.reserved_names, vector_source)
        self.stats = Stats()
        # per stream: records, records without text, and a few field names (for the end-of-sync summary)
        self._stream_records: Counter = Counter()
        self._stream_no_text: Counter = Counter()
        self._stream_fields: dict[str, list[str]] = {}
        self.batch_chunk_limit = config.embedding_batch_size * max(1, config.embedding_concurrency)
        if not embedder.remote:  # nothing to keep in flight: small batches overlap the stages better
            self.batch_chunk_limit = min(self.batch_chunk_limit, LOCAL_BATCH_CHUNKS)
        self.batch_record_limit = config.write_batch_rows
        self._chars_per_chunk = 4 * config.processing.chunk_size  # ~4 characters per cl100k token
        # Every stored row of a record is keyed by (record, chunk): its rows can be probed by key.
        # (when, seq, write timestamp) of the last batches fully applied (upserts and deletes), in order
        self._applied_points: deque[tuple[float, int, int]] = deque(maxlen=RECENT_BATCHES // 2)
        self._recent: deque[tuple[int, dict[str, int]]] = deque(maxlen=RECENT_BATCHES)  # (seq, chunk counts)
        self._forgotten_seq = 0  # the newest batch that fell out of `_recent`
        self._recent_lock = threading.Lock()
        self._sized_writes = "sizes" in inspect.signature(store.write).parameters
        self._seen: SeenRecords | None = None  # keyed collections: which records earlier batches had
        self._empty_at_start: Future | None = None  # keyed collections: no row at all when the sync began
        # Milvus Lite runs in this process: a second write in flight would only compete for the GIL
        self._write_concurrency = 1 if config.indexing.is_lite else WRITE_CONCURRENCY
        self._keyed_rows = (not self.info.auto_id and self.info.properties.get(KEYED_PROPERTY) == "1"
                            and hasattr(store, "existing_keys"))
        self._seq = 0
        self._outputs: "queue.Queue[AirbyteMessage]" = queue.Queue()
        self._work: "queue.Queue[tuple[str, Any]]" = queue.Queue(maxsize=QUEUE_SLOTS)
        self._error: BaseException | None = None
        self._records_since_state: Counter = Counter()
        self._statuses: dict[str, AirbyteStreamStatus] = {}  # last stream status per stream, from the input
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
        tag, truncate = self._generation(cs)
        return StreamPlan(name, cs.destination_sync_mode, pk, tag, truncate, platform=tag != self.run_id)

    def _generation(self, cs: Any) -> tuple[str, bool]:
        """(row tag, truncate?) from the platform's fields (its CatalogGenerationSetter):

        generation_id changes only on a refresh or clear; minimum_generation_id equals it to truncate
        (every full-refresh overwrite, "refresh and remove records", clear) and is 0 to keep; at
        generation 0 both are 0 and the mode decides. sync_id is the job id, shared by its attempts,
        so "g<generation>.s<sync id>" tells an earlier job's rows (removed) from an earlier attempt's
        (kept). Without the fields, or with PyAirbyte's constant 1/1/1 (every write would look like
        one job's attempts, and append would look like a truncation), the run's id is the tag and
        only overwrite truncates: each such run is its own job, as before.
        """
        overwrite = cs.destination_sync_mode == DestinationSyncMode.overwrite
        gen, minimum, sync = (getattr(cs, f, None) for f in ("generation_id", "minimum_generation_id", "sync_id"))
        if gen is None or sync is None or (gen, minimum, sync) == (1, 1, 1):
            return self.run_id, overwrite
        return f"g{gen}.s{sync}", overwrite or (minimum is not None and minimum == gen and gen > 0)

    # --- the main loop ------------------------------------------------------------------------

    def run(self, messages: Iterable[AirbyteMessage]) -> Iterator[AirbyteMessage]:
        # Every record allocates hundreds of containers that live until their batch is written; at the
        # default thresholds the cyclic GC then rescans the queued batches over and over (~10% of CPU).
        thresholds = gc.get_threshold()
        gc.set_threshold(max(thresholds[0], GC_GEN0_THRESHOLD), *thresholds[1:])
        try:
            yield from self._run(messages)
        finally:
            gc.set_threshold(*thresholds)

    def _run(self, messages: Iterable[AirbyteMessage]) -> Iterator[AirbyteMessage]:
        embed_workers = self.config.embedding_concurrency if self.embedder.remote else 1
        self._embed_pool = ThreadPoolExecutor(embed_workers, thread_name_prefix="embed")
        # several batches prepared at once also for in-process embedders: chunking (tiktoken) runs without
        # the GIL, and a batch's probe of stored rows waits for the server (a strong read, ~0.2 s on 2.3)
        self._prepare_pool = ThreadPoolExecutor(PREPARE_WORKERS, thread_name_prefix="prepare")
        writer_thread = threading.Thread(target=self._writer_loop, name="milvus-writer", daemon=True)
        writer_thread.start()
        if self._keyed_rows and any(p.mode == DestinationSyncMode.append and p.primary_key for p in self.plans.values()):
            self.store.set_keyed_rows(False)  # append rows carry a record id under random keys
            self._keyed_rows = False
        if self._keyed_rows:
            self._seen = SeenRecords()
            self._empty_at_start = self._prepare_pool.submit(self._collection_is_empty)
        batch = self._new_batch()
        try:
            for message in self._read_ahead(messages):
                if message is None:  # the source is idle: release the states whose records are stored
                    yield from self._drain_outputs()
                    continue
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
                elif message.type == Type.TRACE:
                    self._track_status(message)
                yield from self._drain_outputs()
            if batch.items:
                self._submit(batch)
            self._put(("end", self._streams_to_truncate()))
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
        yield from self._text_field_summary()

    def _text_field_summary(self) -> Iterator[AirbyteMessage]:
        """One warning per stream none of whose records had text in the text fields: nothing of it is
        searchable, which a sync that ends with "0 rows written" and exit 0 does not say."""
        fields = ", ".join(self.config.processing.text_fields) or "any field"
        for stream, records in sorted(self._stream_records.items()):
            if records and self._stream_no_text[stream] == records:
                seen = ", ".join(self._stream_fields.get(stream, [])) or "none"
                yield self._log(Level.WARN, f"stream '{stream}': none of its {records} records has text in the text "
                                f"fields ({fields}), so nothing of it was stored. Its records have the fields {seen}: "
                                "set processing.text_fields to the ones to embed.")

    def _read_ahead(self, messages: Iterable[AirbyteMessage]) -> Iterator[AirbyteMessage | None]:
        """The input, read by a thread; None whenever no message arrived for IDLE_POLL_S.

        Without this, a STATE whose records are stored would wait for the next input line (a source
        sleeping on a rate limit can pause for minutes) and be lost if the sync died meanwhile. The
        reader runs ahead of the main thread, so each message carries the line number it was read at.
        """
        inbox: "queue.Queue[tuple[str, Any, int]]" = queue.Queue(maxsize=READ_AHEAD)
        stop = threading.Event()

        def offer(item: tuple[str, Any, int]) -> bool:
            while not stop.is_set():
                try:
                    inbox.put(item, timeout=0.2)
                    return True
                except queue.Full:
                    continue
            return False

        def pump() -> None:
            try:
                for message in messages:
                    if not offer(("message", message, self.line_number())):
                        return
                offer(("end", None, self.line_number()))
            except BaseException as exc:  # noqa: BLE001 - raised again by the main thread
                offer(("error", exc, self.line_number()))

        threading.Thread(target=pump, name="input-reader", daemon=True).start()
        try:
            while True:
                try:
                    kind, payload, line = inbox.get(timeout=IDLE_POLL_S)
                except queue.Empty:
                    yield None
                    continue
                self._line = line
                if kind == "end":
                    return
                if kind == "error":
                    raise payload
                yield payload
        finally:
            stop.set()

    def _new_batch(self) -> Batch:
        self._seq += 1
        return Batch(self._seq, f"{self.run_id}-{self._seq}")

    def _add_record(self, batch: Batch, message: AirbyteMessage) -> None:
        record = message.record
        assert record is not None
        stream = self._stream_id(record.stream, record.namespace)
        plan = self.plans.get(stream)
        if plan is None:
            raise InputError(f"Line {self._line}: record for stream '{stream}', which is not in the configured "
                             f"catalog ({', '.join(sorted(self.plans)) or 'empty'}).")
        if not isinstance(record.data, dict):
            raise InputError(f"Line {self._line}: record of stream '{stream}' has no JSON object as data.")
        self._records_since_state[stream] += 1
        self.stats.add(records=1)
        doc = self.builder.build(stream, record.data, plan.primary_key)
        for warning in doc.warnings:
            self._warn(f"stream '{stream}': {_kind(warning)}", f"line {self._line}: {warning}")
        # Chunking (token counting: the costliest step per record) runs in the prepare pool, where
        # tiktoken works without the GIL, in parallel with this thread reading the next records.
        chunk = False
        if not doc.deleted:
            self._stream_records[stream] += 1
            if not doc.text:  # the chunker returns no chunk exactly for empty text
                self._stream_no_text[stream] += 1
                if stream not in self._stream_fields:
                    self._stream_fields[stream] = list(record.data)[:12]
                self._warn(f"stream '{stream}': record with no text in the text fields, not stored",
                           f"line {self._line}: record {doc.record_id or '(no primary key)'} has no text in "
                           f"{self.config.processing.text_fields or 'any field'}")
            elif isinstance(self.embedder, FromFieldEmbedder) and (doc.vector is None or
                                                                    len(doc.vector) != self.embedder.dimensions):
                self._warn(f"stream '{stream}': record without a valid '{self.embedder.field_name}' vector, not stored",
                           f"line {self._line}: record {doc.record_id} has no {self.embedder.dimensions}-d "
                           f"vector in '{self.embedder.field_name}'")
            else:
                chunk = True
        batch.add(doc, chunk, 1 + len(doc.text) // self._chars_per_chunk if chunk else 0)
        if self._seen is not None and doc.record_id is not None and doc.record_id not in batch.unseen:
            if not self._seen.add(doc.record_id):
                batch.unseen.add(doc.record_id)

    def _track_status(self, message: AirbyteMessage) -> None:
        trace = message.trace
        if trace is None or trace.type != TraceType.STREAM_STATUS or trace.stream_status is None:
            return
        desc = trace.stream_status.stream_descriptor
        self._statuses[self._stream_id(desc.name, desc.namespace)] = trace.stream_status.status

    def _streams_to_truncate(self) -> list[StreamPlan]:
        """Truncating streams whose input ended successfully.

        The platform sends a destination that supports refreshes COMPLETE per stream once the source
        exited 0 (its StreamStatusCompletionTracker), and after a failed source only for the streams
        the source itself completed; either way our input then simply ends. So a stream with platform
        generation fields truncates only on COMPLETE: without it, the earlier job's rows stay (stale
        rows until the next successful sync, never a half-empty stream). Inputs without the fields
        (older platforms, PyAirbyte's 1/1/1, hand-run syncs) carry no statuses unless someone adds
        them: there a stream ends successfully at the end of the input, unless a status says otherwise.
        """
        done = []
        for plan in (p for p in self.plans.values() if p.truncate):
            status = self._statuses.get(plan.name)
            if status == AirbyteStreamStatus.COMPLETE or (status is None and not self._statuses and not plan.platform):
                done.append(plan)
                continue
            how = f"with status {status.value}" if status else "without a COMPLETE stream status"
            self._outputs.put(self._log(Level.WARN, f"stream '{plan.name}' ended {how}: its rows of earlier "
                                                    "syncs are kept; the next successful sync removes them."))
        return done

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
        latest: "OrderedDict[Any, tuple[Document, bool]]" = OrderedDict()
        for n, (doc, chunk) in enumerate(batch.items):
            plan = self.plans[doc.stream]
            key = doc.record_id if (doc.record_id is not None and plan.mode != DestinationSyncMode.append) else n
            latest.pop(key, None)  # keep only the last version of a record within the batch
            latest[key] = (doc, chunk)
        items = [(doc, self.chunker.split_counted(doc.text) if chunk else []) for doc, chunk in latest.values()]
        self.stats.add(chunks=sum(len(chunks) for _, chunks in items))
        probed_after_seq, visible_ts = self._readable_point()  # batches up to it are visible to the probe
        first_stored, shrunk_ids = self._probe_stored_rows(items, visible_ts, batch.unseen)
        reuse = self._stored_vectors(items, first_stored)
        rows: list[dict[str, Any]] = []
        pending: list[tuple[int, str]] = []  # (row index, text) still to embed
        dedup_ids: dict[str, list[str]] = {}
        deleted_ids: list[str] = []
        chunk_counts: dict[str, int] = {}
        sizes: list[int] = []
        vector_bytes = 4 * (self.info.dimensions or self.embedder.dimensions)
        model = self.embedder.model_id
        for doc, chunks in items:
            plan = self.plans[doc.stream]
            if doc.record_id is not None and doc.deleted:
                deleted_ids.append(doc.record_id)
                continue
            if doc.record_id is not None and plan.mode != DestinationSyncMode.append:
                scope = plan.generation if plan.mode == DestinationSyncMode.overwrite else ""
                dedup_ids.setdefault(scope, []).append(doc.record_id)
                chunk_counts[doc.record_id] = len(chunks)
            columns = self._column_values(doc) if chunks else {}
            meta_bytes = _json_size(doc.metadata) + ROW_OVERHEAD_BYTES if chunks else 0
            for index, (text, _tokens) in enumerate(chunks):
                digest = text_hash(model, text)
                row = self._row(doc, plan, index, text, digest, batch.write_id)
                row.update(columns)
                sizes.append(meta_bytes + len(text.encode("utf-8", "replace")) + vector_bytes)
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
        return Prepared(rows, dedup_ids, deleted_ids, chunk_counts, shrunk_ids, probed_after_seq, sizes)

    def _probe_stored_rows(self, items: list[tuple[Document, list[tuple[str, int]]]], visible_ts: int,
                           unseen: set[str]) -> tuple[set[str] | None, set[str] | None]:
        """On keyed collections, one read by primary key per batch answers, per record with n chunks now:
        is chunk 0 stored (anything to reuse?) and is chunk n stored (rows to remove after the upsert?).

        A record's rows are chunks 0..m-1 (written in order, removed together), so chunk n exists
        exactly when the stored version had more chunks than the new one. A first sync, or a record
        that did not shrink, then costs no filter query and no delete. Returns (None, None) when the
        collection is not keyed: every record is then looked up and cleaned by filter.
        """
        if not self._keyed_rows:
            return None, None
        # Into a collection empty when the sync started, a record in no earlier batch has no row: a first
        # sync probes nothing at all.
        absent = unseen if self._empty_at_start is not None and self._empty_at_start.result() else set()
        keys: dict[Any, tuple[str, bool]] = {}
        for doc, chunks in items:
            if (doc.record_id is None or doc.deleted or doc.record_id in absent
                    or self.plans[doc.stream].mode == DestinationSyncMode.append):
                continue
            keys[self.store.primary_key(doc.record_id, 0)] = (doc.record_id, False)
            keys[self.store.primary_key(doc.record_id, len(chunks))] = (doc.record_id, True)  # may equal chunk 0
        first_stored: set[str] = set()
        shrunk: set[str] = set()
        for key in (self.store.existing_keys(list(keys), visible_ts) if keys else ()):
            record_id, beyond = keys[key]
            (shrunk if beyond else first_stored).add(record_id)
        return first_stored, shrunk

    def _stored_vectors(self, items: list[tuple[Document, list[tuple[str, int]]]],
                        first_stored: set[str] | None) -> dict[tuple[str, str], list[float]]:
        if not self.config.reuse_embeddings or isinstance(self.embedder, FromFieldEmbedder):
            return {}
        ids = [doc.record_id for doc, chunks in items if doc.record_id is not None and chunks
               and self.plans[doc.stream].mode == DestinationSyncMode.append_dedup
               and (first_stored is None or doc.record_id in first_stored)]
        return self.store.stored_chunks(ids) if ids else {}

    def _collection_is_empty(self) -> bool:
        try:
            return self.store.count() == 0
        except Exception:  # noqa: BLE001 - only an optimisation: probe every record
            return False

    def _records_to_clean(self, ids: list[str], prepared: Prepared, seq: int) -> list[str]:
        """Records of this batch that may have rows beyond the ones just upserted.

        The probe saw every batch applied up to `probed_after_seq`; batches applied after it (still
        in flight then) are known from memory: one of them leaves rows to remove if it wrote more
        chunks of the record than this batch does.
        """
        if prepared.shrunk_ids is None:
            return ids
        with self._recent_lock:
            if self._forgotten_seq > prepared.probed_after_seq:
                return ids  # a batch applied after the probe is no longer remembered: clean every record
            # (a batch still in flight shares no record with this one: the writer keeps them apart)
            window = [counts for applied, counts in self._recent if applied > prepared.probed_after_seq]
        counts = prepared.chunk_counts
        return [r for r in ids if r in prepared.shrunk_ids or any(c.get(r, -1) > counts.get(r, 0) for c in window)]

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
        vectors: list[list[float]] = []
        if not self.embedder.remote:  # in-process model: nothing to overlap, no thread hand-off
            for request in requests:
                vectors.extend(self.embedder.embed(request))
        else:
            futures: list[Future] = [self._embed_pool.submit(self.embedder.embed, request) for request in requests]
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

    def _column_values(self, doc: Document) -> dict[str, Any]:
        """The typed filter columns of connector-created collections (status, organization_id)."""
        values = {}
        for name in self.info.metadata_columns:
            values[name], refused = self.info.column_value(name, doc.metadata.get(name))
            if refused:
                self._warn(f"stream '{doc.stream}': metadata field '{name}' of an unexpected type, stored as "
                           f"{values[name]!r}",
                           f"record {doc.record_id}: '{name}' = {str(doc.metadata.get(name))[:80]!r} does not fit the "
                           f"collection's {self.info.fields[name].name} field '{name}'; stored as {values[name]!r}")
        return values

    def _text_limit(self) -> int:
        params = self.info.field_params.get(self.config.indexing.text_field, {})
        return int(params.get("max_length", MAX_TEXT_BYTES) or MAX_TEXT_BYTES)

    # --- the writer thread --------------------------------------------------------------------

    def _writer_loop(self) -> None:
        """Applies batches in input order. On a server, up to `_write_concurrency` batches that share no
        record are written at once (the client encodes one request while the server stores the other);
        a batch touching a record of one in flight waits for it, and a STATE waits for all of them."""
        pool = (ThreadPoolExecutor(self._write_concurrency, thread_name_prefix="milvus-write")
                if self._write_concurrency > 1 else None)
        inflight: deque[tuple[Batch, Future, set[str], Prepared]] = deque()
        try:
            while True:
                kind, payload = self._work.get()
                if kind == "batch":
                    batch, future = payload
                    prepared = future.result()
                    if pool is None:
                        self._apply(batch, prepared)
                        self._applied(batch, prepared)
                        continue
                    records = set(prepared.chunk_counts).union(prepared.deleted_ids)
                    while inflight and (len(inflight) >= self._write_concurrency
                                        or any(records & other for _, _, other, _ in inflight)):
                        self._retire(inflight.popleft())
                    inflight.append((batch, pool.submit(self._apply, batch, prepared), records, prepared))
                    continue
                while inflight:
                    self._retire(inflight.popleft())
                if kind == "state":
                    self._outputs.put(payload)
                elif kind == "end":
                    self._finish_truncating_streams(payload)
                    return
                else:
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread, which raises it
            self._error = exc
        finally:
            if pool is not None:
                pool.shutdown(wait=True)

    def _retire(self, entry: tuple[Batch, Future, set[str], Prepared]) -> None:
        batch, future, _, prepared = entry
        future.result()
        self._applied(batch, prepared)

    def _applied(self, batch: Batch, prepared: Prepared) -> None:
        """Batches up to this one are stored completely (upserts and deletes), in input order."""
        with self._recent_lock:
            if len(self._recent) == self._recent.maxlen:
                self._forgotten_seq = self._recent[0][0]
            self._recent.append((batch.seq, prepared.chunk_counts))
            # a probe reading at this timestamp sees every batch up to this one complete
            self._applied_points.append((time.monotonic(), batch.seq,
                                         self.store.write_timestamp() if self._keyed_rows else 0))

    def _readable_point(self) -> tuple[int, int]:
        """(seq, timestamp) of a batch applied long enough ago that the server can already read at its
        timestamp (a 2.3 server makes writes readable within a time tick, 0.2 s): a probe then does not
        wait; batches applied since are known from `_recent`. (0, 0) early on: a strong read."""
        horizon = time.monotonic() - READABLE_AFTER_S
        with self._recent_lock:
            for applied_at, seq, ts in reversed(self._applied_points):
                if applied_at <= horizon:
                    return seq, ts
        return 0, 0

    def _apply(self, batch: Batch, prepared: Prepared) -> None:
        if prepared.rows:
            if self._sized_writes:
                self.store.write(prepared.rows, sizes=prepared.sizes)
            else:
                self.store.write(prepared.rows)
            self.stats.add(rows_written=len(prepared.rows))
        for scope, ids in prepared.dedup_ids.items():
            ids = self._records_to_clean(ids, prepared, batch.seq)
            if not ids:
                continue
            if scope:
                self.store.delete_records_in_tag(ids, scope, batch.write_id)
            else:
                self.store.delete_records(ids, keep_write_id=batch.write_id)
        if prepared.deleted_ids:
            self.store.delete_records(prepared.deleted_ids)
            self.stats.add(deleted_records=len(prepared.deleted_ids))

    def _finish_truncating_streams(self, plans: list[StreamPlan]) -> None:
        for plan in plans:
            self.store.delete_stream_rows_except(plan.name, plan.generation)
            self._outputs.put(self._log(Level.INFO, f"truncate: rows of earlier syncs of '{plan.name}' removed "
                                                    f"(kept: tag {plan.generation})"))

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


def _kind(warning: str) -> str:
    """Group warnings by kind for the end-of-sync summary ("metadata field 'x' truncated ...")."""
    return warning.split(" from ")[0].split(" (")[0]

