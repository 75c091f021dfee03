"""The write pipeline: records -> documents -> chunks -> vectors -> Milvus rows, with state.

    main thread     reads messages, builds documents and chunks, cuts batches (and at every STATE);
                    on collections not keyed by record, holds batches and STATEs until one read of
                    their stored rows serves the whole group (lookup.py)
    prepare pool    per batch: reuse stored vectors of unchanged chunks, embed the rest
    embed pool      the embedding requests themselves, `embedding_concurrency` in flight
    writer thread   applies batches to Milvus strictly in input order, then releases the STATE
                    messages that followed them

Queues are bounded, so memory stays flat whatever the sync size. A STATE message leaves only
after every record before it is stored; on any failure, nothing after the failure is released.

Sync modes:
  append         insert
  append_dedup   write the record's new chunks (tagged with this batch's write id), then delete
                 its other rows (by key where they were listed first): readers never see the record
                 with no chunks, and a crash in between leaves extra rows that the retried batch removes
  truncating     (overwrite; "refresh and remove records" and "clear" of any mode) rows carry this
                 job's tag (generation and sync id); once the input ended successfully, the
                 stream's rows with another tag (earlier jobs) are deleted, so the old data
                 stays readable until then and the attempts of one job add up

Which streams truncate follows the platform's catalog (`plans.py`): overwrite always; any mode when
minimum_generation_id == generation_id > 0. Consecutive overwrites share a generation, so the tag
also carries sync_id (the job id, shared by a job's attempts). PyAirbyte fills in 1 for all three
fields on every write: that triple is read as "no generation information", like a catalog without
the fields: the sync mode decides, and the run's own random id is the tag.
"""

from __future__ import annotations

import queue
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Iterable, Iterator

from airbyte_cdk.models import AirbyteMessage, ConfiguredAirbyteCatalog, Level, Type

from ..config import ConnectorConfig
from ..documents import DocumentBuilder
from ..embedding.base import Embedder
from ..errors import ConfigError
from ..store import VectorStore
from .applied import AppliedBatches
from .apply import BatchWork, EndWork, OrderedApply, StateWork, StopWork, Work
from .intake import Batch, InputLine, RecordIntake, SeenRecords, numbered, read_ahead
from .lookup import Absence, HeldWork, read_group
from .plans import StreamPlan, StreamStatuses, plan_streams, settle_row_keys, stream_id
from .prepare import Prepared, Preparer, text_hash
from .report import Reporter, Stats, log

__all__ = ["Writer", "InputLine", "SeenRecords", "StreamPlan", "Stats", "Prepared", "text_hash", "stream_id"]

PREPARE_WORKERS = 3
WRITE_CONCURRENCY = 2  # batches written at once (sharing no record), Milvus server only
LOCAL_BATCH_CHUNKS = 512  # chunks per batch when embedding in-process (fake, local, from_field)


class Writer:
    """The orchestrator: plans, intake, preparation, ordered apply and reporting, wired by queues."""

    def __init__(self, config: ConnectorConfig, store: VectorStore, embedder: Embedder,
                 catalog: ConfiguredAirbyteCatalog) -> None:
        if store.info is None:
            raise ConfigError("The writer needs a described collection: call describe() or create_collection() first.")
        self.config = config
        self.store = store
        self.info = store.info
        self.embedder = embedder
        self.run_id = uuid.uuid4().hex[:12]
        self.plans = plan_streams(catalog, self.run_id)
        self.report = Reporter(config.processing.text_fields)
        self.stats: Stats = self.report.stats
        self.statuses = StreamStatuses()
        self.batch_chunk_limit = config.embedding_batch_size * max(1, config.embedding_concurrency)
        if not embedder.remote:  # nothing to keep in flight: small batches overlap the stages better
            self.batch_chunk_limit = min(self.batch_chunk_limit, LOCAL_BATCH_CHUNKS)
        self.batch_record_limit = config.write_batch_rows
        self._seq = 0
        self._held: HeldWork | None = None  # collections not keyed by record: batches awaiting their group's read

    def run(self, messages: Iterable[AirbyteMessage | InputLine]) -> Iterator[AirbyteMessage]:
        """Writes the records and yields the STATE messages (once their records are stored) and logs.

        Messages may come as `InputLine`s, carrying the input line each was read at (errors name it);
        plain messages are numbered by their position."""
        yield from self._run(numbered(messages))

    def _wire(self) -> None:
        """The parts of one run: which rows can be probed by key is settled first (a store step)."""
        keyed = settle_row_keys(self.store, self.plans)
        self.applied = AppliedBatches(self.store.write_timestamp if keyed else lambda: 0)
        self.preparer = Preparer(self.config, self.store, self.info, self.embedder, self.plans, self.report,
                                 self.applied, keyed, Absence(self.plans))
        self._held = None if keyed else HeldWork()
        builder = DocumentBuilder(self.config.processing, self.info.reserved_names, self.embedder.vector_field)
        self.intake = RecordIntake(self.plans, builder, self.embedder, self.config.processing.text_fields,
                                   4 * self.config.processing.chunk_size,  # ~4 characters per cl100k token
                                   self.report, SeenRecords())
        # Milvus Lite runs in this process: a second write in flight would only compete for the GIL
        self.apply = OrderedApply(self.store, self.report, self.applied,
                                  1 if self.config.indexing.is_lite else WRITE_CONCURRENCY)

    def _run(self, lines: Iterable[InputLine]) -> Iterator[AirbyteMessage]:
        self._wire()
        embed_workers = self.config.embedding_concurrency if self.embedder.remote else 1
        self.preparer.embed_pool = ThreadPoolExecutor(embed_workers, thread_name_prefix="embed")
        # several batches prepared at once also for in-process embedders: chunking (tiktoken) runs without
        # the GIL, and a batch's probe of stored rows waits for the server (a strong read, ~0.2 s on 2.3)
        self._prepare_pool = ThreadPoolExecutor(PREPARE_WORKERS, thread_name_prefix="prepare")
        writer_thread = threading.Thread(target=self.apply.loop, name="milvus-writer", daemon=True)
        writer_thread.start()
        started: list = []
        if any(plan.keyed_by_record for plan in self.plans.values()):
            started = self.preparer.absence.start(self.store, self._prepare_pool.submit, self._held is not None)
        try:
            yield from self._intake(lines)
        except BaseException:
            self._stop_writer(writer_thread)
            raise
        finally:
            while writer_thread.is_alive():
                writer_thread.join(timeout=0.5)
                yield from self.report.drain()
            yield from self.report.drain()
            self._prepare_pool.shutdown(wait=False, cancel_futures=True)
            self.preparer.embed_pool.shutdown(wait=False, cancel_futures=True)
            # the start-of-sync reads may still be running when the input fails at once: the caller
            # closes the store next, and Milvus Lite then logs a call after its shutdown to stderr
            wait(started)
        if self.apply.error is not None:
            raise self.apply.error
        yield from self.report.summary()

    def _intake(self, lines: Iterable[InputLine]) -> Iterator[AirbyteMessage]:
        """The main thread: messages into batches and states, in order, onto the writer's queue."""
        batch = self._new_batch()
        for line in read_ahead(lines):
            if line is None:  # the source is idle: release the states whose records are stored
                self._release_held()
                yield from self.report.drain()
                continue
            batch = self._take(batch, line)
            if self._held is not None and self._held.full:
                self._release_held()
            yield from self.report.drain()
        if batch.items:
            self._submit(batch)
        self._release_held()
        done, warnings = self.statuses.streams_to_truncate(self.plans)
        for warning in warnings:
            self.report.put(log(Level.WARN, warning))
        self._put(EndWork(done))

    def _take(self, batch: Batch, line: InputLine) -> Batch:
        """Handles one message; returns the batch to fill next."""
        message = line.message
        if message.type == Type.RECORD:
            self.intake.add(batch, line)
            if batch.chunks >= self.batch_chunk_limit or len(batch.items) >= self.batch_record_limit:
                self._submit(batch)
                return self._new_batch()
        elif message.type == Type.STATE:
            if batch.items:
                self._submit(batch)
                batch = self._new_batch()
            state = StateWork(self.intake.counts.attach(message))
            if self._held is not None and self._held.has_batches:
                self._held.hold(state)  # behind the held batches before it
            else:
                self._put(state)
        elif message.type == Type.TRACE:
            self.statuses.track(message)
        return batch

    def _new_batch(self) -> Batch:
        self._seq += 1
        return Batch(self._seq, f"{self.run_id}-{self._seq}")

    def _submit(self, batch: Batch) -> None:
        if self._held is None:
            self._put(BatchWork(batch, self._prepare_pool.submit(self.preparer.prepare, batch)))
            return
        self._held.hold(batch)  # sent with its group (`_intake`)

    def _release_held(self) -> None:
        """The held group: its read first (the pool runs tasks in order, so the prepares waiting for it
        never hold every worker before it started), then its batches and states, in input order."""
        if self._held is None or not self._held.items:
            return
        items = self._held.take()
        batches = [item for item in items if isinstance(item, Batch)]
        lookup = self._prepare_pool.submit(read_group, self.store, self.applied, self.plans, self.preparer.absence,
                                           batches)
        for item in items:
            self._put(BatchWork(item, self._prepare_pool.submit(self.preparer.prepare, item, lookup))
                      if isinstance(item, Batch) else item)

    def _put(self, item: Work) -> None:
        """Bounded put that notices a failed writer instead of blocking forever."""
        while True:
            if self.apply.error is not None:
                raise self.apply.error
            try:
                self.apply.work.put(item, timeout=0.2)
                return
            except queue.Full:
                self.report.maybe_progress()

    def _stop_writer(self, writer_thread: threading.Thread) -> None:
        """Let the writer finish what is queued (and release its states), then stop."""
        while writer_thread.is_alive():
            try:
                self.apply.work.put(StopWork(), timeout=0.2)
                return
            except queue.Full:
                continue
