"""Intake: the input read ahead by a thread (each message with its line number), records turned into
documents and cut into batches, and the per-state record counts (destinationStats)."""

from __future__ import annotations

import enum
import hashlib
import queue
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Iterator

from airbyte_cdk.models import AirbyteMessage, AirbyteStateStats, AirbyteStateType

from ..documents import Document, DocumentBuilder
from ..embedding.base import Embedder
from ..errors import InputError
from .plans import StreamPlan, stream_id
from .report import Reporter

READ_AHEAD = 8  # input messages read ahead of the main thread (a message can be megabytes)
IDLE_POLL_S = 0.5  # with no input for this long, states whose records are stored are released


@dataclass(frozen=True)
class InputLine:
    """A message with the input line it came from (the reader thread runs ahead of the main thread)."""
    number: int
    message: AirbyteMessage


def numbered(messages: Iterable[AirbyteMessage | InputLine]) -> Iterator[InputLine]:
    """Messages that do not carry a line (a caller passing parsed messages) are numbered by position."""
    for n, item in enumerate(messages, 1):
        yield item if isinstance(item, InputLine) else InputLine(n, item)


class Rows(enum.Enum):
    """What a document contributes: rows to store, or none (no text, no usable vector, a deletion)."""
    STORE = "store"
    NONE = "none"


@dataclass
class Item:
    doc: Document
    rows: Rows


@dataclass
class Batch:
    """Documents in input order; the prepare pool chunks those with `Rows.STORE`."""
    seq: int
    write_id: str
    items: list[Item] = field(default_factory=list)
    chunks: int = 0  # estimated from the text length; the exact split happens in preparation
    unseen: set[str] = field(default_factory=set)  # record ids in no earlier batch of this sync

    def add(self, doc: Document, rows: Rows, estimated_chunks: int) -> None:
        self.items.append(Item(doc, rows))
        self.chunks += estimated_chunks


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


def read_ahead(lines: Iterable[InputLine]) -> Iterator[InputLine | None]:
    """The input, read by a thread; None whenever no message arrived for IDLE_POLL_S.

    Without this, a STATE whose records are stored would wait for the next input line (a source
    sleeping on a rate limit can pause for minutes) and be lost if the sync died meanwhile.
    """
    inbox: "queue.Queue[InputLine | _End]" = queue.Queue(maxsize=READ_AHEAD)
    stop = threading.Event()

    def offer(item: InputLine | _End) -> bool:
        while not stop.is_set():
            try:
                inbox.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def pump() -> None:
        try:
            for line in lines:
                if not offer(line):
                    return
            offer(_End(None))
        except BaseException as exc:  # noqa: BLE001 - raised again by the main thread
            offer(_End(exc))

    threading.Thread(target=pump, name="input-reader", daemon=True).start()
    try:
        yield from _received(inbox)
    finally:
        stop.set()


@dataclass(frozen=True)
class _End:
    error: BaseException | None


def _received(inbox: "queue.Queue[InputLine | _End]") -> Iterator[InputLine | None]:
    while True:
        try:
            item = inbox.get(timeout=IDLE_POLL_S)
        except queue.Empty:
            yield None
            continue
        if isinstance(item, _End):
            if item.error is not None:
                raise item.error
            return
        yield item


class StateCounts:
    """Records per stream since its last STATE, attached to the STATE as destinationStats.recordCount."""

    def __init__(self) -> None:
        self._since: Counter = Counter()

    def record(self, stream: str) -> None:
        self._since[stream] += 1

    def attach(self, message: AirbyteMessage) -> AirbyteMessage:
        state = message.state
        if state is None:
            raise InputError("STATE message without its 'state' object.")
        if state.type == AirbyteStateType.STREAM and state.stream is not None:
            desc = state.stream.stream_descriptor
            count = self._since.pop(stream_id(desc.name, desc.namespace), 0)
        else:
            count = sum(self._since.values())
            self._since.clear()
        state.destinationStats = AirbyteStateStats(recordCount=float(count))
        return message


class RecordIntake:
    """RECORD messages -> documents in the current batch, with their warnings and per-stream tallies."""

    def __init__(self, plans: dict[str, StreamPlan], builder: DocumentBuilder, embedder: Embedder,
                 text_fields: list[str], chars_per_chunk: int, report: Reporter, seen: SeenRecords | None) -> None:
        self.plans = plans
        self.builder = builder
        self.embedder = embedder
        self.text_fields = text_fields
        self.chars_per_chunk = chars_per_chunk
        self.report = report
        self.seen = seen
        self.counts = StateCounts()

    def add(self, batch: Batch, line: InputLine) -> None:
        record = line.message.record
        if record is None:
            raise InputError(f"Line {line.number}: RECORD message without its 'record' object.")
        stream = stream_id(record.stream, record.namespace)
        plan = self.plans.get(stream)
        if plan is None:
            raise InputError(f"Line {line.number}: record for stream '{stream}', which is not in the configured "
                             f"catalog ({', '.join(sorted(self.plans)) or 'empty'}).")
        if not isinstance(record.data, dict):
            raise InputError(f"Line {line.number}: record of stream '{stream}' has no JSON object as data.")
        self.counts.record(stream)
        self.report.stats.add(records=1)
        doc = self.builder.build(stream, record.data, plan.primary_key)
        for notice in doc.warnings:
            self.report.warn(f"stream '{stream}': {notice.kind}", f"line {line.number}: {notice}")
        # Chunking (token counting: the costliest step per record) runs in the prepare pool, where
        # tiktoken works without the GIL, in parallel with this thread reading the next records.
        rows = Rows.NONE if doc.deleted else self._rows_of(doc, list(record.data), line.number)
        batch.add(doc, rows, 1 + len(doc.text) // self.chars_per_chunk if rows is Rows.STORE else 0)
        if self.seen is not None and doc.record_id is not None and doc.record_id not in batch.unseen:
            if not self.seen.add(doc.record_id):
                batch.unseen.add(doc.record_id)

    def _rows_of(self, doc: Document, field_names: list[str], line: int) -> Rows:
        stream, tally = doc.stream, self.report.tally
        tally.records[stream] += 1
        if not doc.text:  # the chunker returns no chunk exactly for empty text
            tally.no_text[stream] += 1
            tally.fields.setdefault(stream, field_names[:12])
            self.report.warn(f"stream '{stream}': record with no text in the text fields, not stored",
                             f"line {line}: record {doc.record_id or '(no primary key)'} has no text in "
                             f"{self.text_fields or 'any field'}")
            return Rows.NONE
        embedder = self.embedder
        if embedder.vector_field and (doc.vector is None or len(doc.vector) != embedder.dimensions):
            self.report.warn(f"stream '{stream}': record without a valid '{embedder.vector_field}' vector, not stored",
                             f"line {line}: record {doc.record_id} has no {embedder.dimensions}-d "
                             f"vector in '{embedder.vector_field}'")
            return Rows.NONE
        return Rows.STORE
