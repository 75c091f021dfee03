"""Reporting: typed counters shared by the threads, warnings grouped by kind, progress lines, and
the log messages every thread hands to the main thread (the only one that yields output)."""

from __future__ import annotations

import queue
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterator

from airbyte_cdk.models import AirbyteLogMessage, AirbyteMessage, Level, Type

PROGRESS_INTERVAL_S = 10.0
MAX_WARNINGS_LOGGED = 20


@dataclass
class Stats:
    records: int = 0
    chunks: int = 0
    rows_written: int = 0
    embedded: int = 0
    reused: int = 0
    embed_requests: int = 0
    deleted_records: int = 0
    warnings: Counter = field(default_factory=Counter)  # kind -> count
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, *, records: int = 0, chunks: int = 0, rows_written: int = 0, embedded: int = 0, reused: int = 0,
            embed_requests: int = 0, deleted_records: int = 0) -> None:
        with self.lock:
            self.records += records
            self.chunks += chunks
            self.rows_written += rows_written
            self.embedded += embedded
            self.reused += reused
            self.embed_requests += embed_requests
            self.deleted_records += deleted_records


@dataclass
class StreamTally:
    """Per stream: records, records without text, and a few field names (for the end-of-sync summary)."""
    records: Counter = field(default_factory=Counter)
    no_text: Counter = field(default_factory=Counter)
    fields: dict[str, list[str]] = field(default_factory=dict)


def log(level: Level, text: str) -> AirbyteMessage:
    return AirbyteMessage(type=Type.LOG, log=AirbyteLogMessage(level=level, message=text))


class Reporter:
    """Collects output from any thread; the main thread drains it between messages."""

    def __init__(self, text_fields: list[str]) -> None:
        self.stats = Stats()
        self.tally = StreamTally()
        self._text_fields = text_fields
        self._outputs: "queue.Queue[AirbyteMessage]" = queue.Queue()
        self._last_progress = time.monotonic()
        self._started = time.monotonic()

    def put(self, message: AirbyteMessage) -> None:
        self._outputs.put(message)

    def info(self, text: str) -> None:
        self._outputs.put(log(Level.INFO, text))

    def warn(self, kind: str, detail: str) -> None:
        """Counted under `kind` for the summary; the first MAX_WARNINGS_LOGGED are logged with their detail."""
        with self.stats.lock:
            self.stats.warnings[kind] += 1
            first = sum(self.stats.warnings.values()) <= MAX_WARNINGS_LOGGED
        if first:
            self._outputs.put(log(Level.WARN, detail))

    def drain(self) -> Iterator[AirbyteMessage]:
        self.maybe_progress()
        while True:
            try:
                yield self._outputs.get_nowait()
            except queue.Empty:
                return

    def maybe_progress(self) -> None:
        now = time.monotonic()
        if now - self._last_progress >= PROGRESS_INTERVAL_S:
            self._last_progress = now
            self.info(self.progress_line())

    def progress_line(self, final: bool = False) -> str:
        s = self.stats
        elapsed = max(time.monotonic() - self._started, 1e-6)
        return (f"{'done' if final else 'progress'}: {s.records} records, {s.chunks} chunks, {s.rows_written} rows "
                f"written ({s.rows_written / elapsed:.0f} rows/s), {s.embedded} chunks embedded in "
                f"{s.embed_requests} requests, {s.reused} vectors reused, {s.deleted_records} records deleted, "
                f"{sum(s.warnings.values())} warnings, {elapsed:.1f}s")

    def summary(self) -> Iterator[AirbyteMessage]:
        yield log(Level.INFO, self.progress_line(final=True))
        for kind, count in sorted(self.stats.warnings.items()):
            yield log(Level.WARN, f"{count} x {kind}")
        yield from self._text_field_summary()

    def _text_field_summary(self) -> Iterator[AirbyteMessage]:
        """One warning per stream none of whose records had text in the text fields: nothing of it is
        searchable, which a sync that ends with "0 rows written" and exit 0 does not say."""
        fields = ", ".join(self._text_fields) or "any field"
        tally = self.tally
        for stream, records in sorted(tally.records.items()):
            if records and tally.no_text[stream] == records:
                seen = ", ".join(tally.fields.get(stream, [])) or "none"
                yield log(Level.WARN, f"stream '{stream}': none of its {records} records has text in the text "
                          f"fields ({fields}), so nothing of it was stored. Its records have the fields {seen}: "
                          "set processing.text_fields to the ones to embed.")
