"""What the writer thread has applied, for preparation running ahead of it: the chunk counts and
written keys of the last batches (a probe cannot see batches still in flight) and a readable
timestamp to probe at."""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any, Callable

READABLE_AFTER_S = 0.3  # a write older than this is readable on the server without waiting
RECENT_BATCHES = 64  # applied batches remembered for records probed while they were in flight


class AppliedBatches:
    def __init__(self, write_timestamp: Callable[[], int]) -> None:
        """`write_timestamp`: the store's timestamp covering the writes so far (keyed collections)."""
        self._write_timestamp = write_timestamp
        # (when, seq, write timestamp) of the last batches fully applied (upserts and deletes), in order
        self._points: deque[tuple[float, int, int]] = deque(maxlen=RECENT_BATCHES // 2)
        # (seq, chunk counts, record id -> keys of the rows written)
        self._recent: deque[tuple[int, dict[str, int], dict[str, list[Any]]]] = deque(maxlen=RECENT_BATCHES)
        self._latest_seq = 0
        self._forgotten_seq = 0  # the newest batch that fell out of `_recent`
        self._lock = threading.Lock()

    def add(self, seq: int, chunk_counts: dict[str, int], written: dict[str, list[Any]] | None = None) -> None:
        """Batches up to `seq` are stored completely (upserts and deletes), in input order; `written`:
        the keys of the rows this one wrote, by record."""
        with self._lock:
            if len(self._recent) == self._recent.maxlen:
                self._forgotten_seq = self._recent[0][0]
            self._recent.append((seq, chunk_counts, written or {}))
            self._latest_seq = seq
            # a probe reading at this timestamp sees every batch up to this one complete
            self._points.append((time.monotonic(), seq, self._write_timestamp()))

    def readable_point(self) -> tuple[int, int]:
        """(seq, timestamp) of a batch applied long enough ago that the server can already read at its
        timestamp (a 2.3 server makes writes readable within a time tick, 0.2 s): a probe then does not
        wait; batches applied since are known from `_recent`. (0, 0) early on: a strong read."""
        horizon = time.monotonic() - READABLE_AFTER_S
        with self._lock:
            for applied_at, seq, ts in reversed(self._points):
                if applied_at <= horizon:
                    return seq, ts
        return 0, 0

    def records_to_clean(self, ids: list[str], chunk_counts: dict[str, int], shrunk_ids: set[str] | None,
                         probed_after_seq: int) -> list[str]:
        """Records of a batch that may have rows beyond the ones just upserted.

        The probe saw every batch applied up to `probed_after_seq`; batches applied after it (still
        in flight then) are known from memory: one of them leaves rows to remove if it wrote more
        chunks of the record than this batch does.
        """
        if shrunk_ids is None:
            return ids
        with self._lock:
            if self._forgotten_seq > probed_after_seq:
                return ids  # a batch applied after the probe is no longer remembered: clean every record
            # (a batch still in flight shares no record with this one: the writer keeps them apart)
            window = [counts for applied, counts, _ in self._recent if applied > probed_after_seq]
        return [r for r in ids if r in shrunk_ids or any(c.get(r, -1) > chunk_counts.get(r, 0) for c in window)]

    def latest_seq(self) -> int:
        """The last batch fully applied: a strong read started now sees it and every one before."""
        with self._lock:
            return self._latest_seq

    def keys_written_after(self, seq: int) -> dict[str, list[Any]] | None:
        """record id -> keys of the rows batches applied after `seq` wrote (a read that saw the
        store up to `seq` missed those); None when such a batch is no longer remembered."""
        with self._lock:
            if self._forgotten_seq > seq:
                return None
            out: dict[str, list[Any]] = {}
            for applied, _, written in self._recent:
                if applied > seq:
                    for record_id, keys in written.items():
                        out.setdefault(record_id, []).extend(keys)
            return out
