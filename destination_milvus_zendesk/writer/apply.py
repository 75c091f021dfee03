"""Ordered apply (the writer thread): batches written to the store strictly in input order, STATE
messages released once every batch before them is stored, truncation at the end."""

from __future__ import annotations

import queue
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Union

from airbyte_cdk.models import AirbyteMessage

from ..schema import RECORD_ID
from ..store import VectorStore
from .applied import AppliedBatches
from .intake import Batch
from .plans import StreamPlan
from .prepare import Prepared
from .report import Reporter

QUEUE_SLOTS = 4


@dataclass(frozen=True)
class BatchWork:
    batch: Batch
    prepared: "Future[Prepared]"


@dataclass(frozen=True)
class StateWork:
    message: AirbyteMessage  # released once every batch before it is stored


@dataclass(frozen=True)
class EndWork:
    truncate: list[StreamPlan]  # streams whose rows of other tags go, after the last batch


@dataclass(frozen=True)
class StopWork:
    """Finish what is queued (releasing its states), then stop: the main thread failed."""


Work = Union[BatchWork, StateWork, EndWork, StopWork]


@dataclass
class _InFlight:
    batch: Batch
    done: Future
    records: set[str]
    prepared: Prepared


class OrderedApply:
    def __init__(self, store: VectorStore, report: Reporter, applied: AppliedBatches, concurrency: int) -> None:
        self.store = store
        self.report = report
        self.applied = applied
        self.concurrency = concurrency
        self.work: "queue.Queue[Work]" = queue.Queue(maxsize=QUEUE_SLOTS)
        self.error: BaseException | None = None

    def loop(self) -> None:
        """Applies batches in input order. On a server, up to `concurrency` batches that share no
        record are written at once (the client encodes one request while the server stores the other);
        a batch touching a record of one in flight waits for it, and a STATE waits for all of them."""
        pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="milvus-write") if self.concurrency > 1 else None
        inflight: deque[_InFlight] = deque()
        try:
            while self._step(self.work.get(), pool, inflight):
                pass
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread, which raises it
            self.error = exc
        finally:
            if pool is not None:
                pool.shutdown(wait=True)

    def _step(self, item: Work, pool: ThreadPoolExecutor | None, inflight: deque[_InFlight]) -> bool:
        """Handles one work item; False once the loop is over."""
        if isinstance(item, BatchWork):
            self._batch(item.batch, item.prepared.result(), pool, inflight)
            return True
        while inflight:
            self._retire(inflight.popleft())
        if isinstance(item, StateWork):
            self.report.put(item.message)
            return True
        if isinstance(item, EndWork):
            self._truncate(item.truncate)
        return False

    def _batch(self, batch: Batch, prepared: Prepared, pool: ThreadPoolExecutor | None,
               inflight: deque[_InFlight]) -> None:
        if pool is None:
            self.applied.add(batch.seq, prepared.chunk_counts, self._apply(batch, prepared))
            return
        records = prepared.records
        while inflight and (len(inflight) >= self.concurrency or any(records & other.records for other in inflight)):
            self._retire(inflight.popleft())
        inflight.append(_InFlight(batch, pool.submit(self._apply, batch, prepared), records, prepared))

    def _retire(self, entry: _InFlight) -> None:
        self.applied.add(entry.batch.seq, entry.prepared.chunk_counts, entry.done.result())

    def _apply(self, batch: Batch, prepared: Prepared) -> dict[str, list[Any]]:
        """Writes the batch's rows, then removes the rows they replace; returns the keys written, by record."""
        written: dict[str, list[Any]] = {}
        if prepared.rows:
            keys = self.store.write(prepared.rows, sizes=prepared.sizes)
            self.report.stats.add(rows_written=len(prepared.rows))
            for row, key in zip(prepared.rows, keys):
                written.setdefault(row.get(RECORD_ID) or "", []).append(key)
        if prepared.stored is not None:
            self._remove_listed(batch, prepared, written)
        else:
            self._remove_past_chunks(batch, prepared, written)
        if prepared.deleted_ids:
            self.report.stats.add(deleted_records=len(prepared.deleted_ids))
        return written

    def _remove_past_chunks(self, batch: Batch, prepared: Prepared, written: dict[str, list[Any]]) -> None:
        """Keyed collections: the rows past a record's new chunks. Dedup removes the ones the probe
        listed (`Prepared.beyond`) and those batches applied since wrote, by key; a record whose rows
        went on past the keys read, or a batch no longer remembered, is removed by filter (as are
        tag-scoped overwrites and deletions)."""
        for tag, ids in prepared.dedup_ids.items():
            ids = self.applied.records_to_clean([r for r in ids if r not in prepared.absent_ids],
                                                prepared.chunk_counts, prepared.shrunk_ids, prepared.probed_after_seq)
            if ids and not tag and prepared.shrunk_ids is not None:
                ids = self._remove_by_key(ids, prepared, written)
            if not ids:
                continue
            if tag:
                self.store.delete_records_in_tag(ids, tag, batch.write_id)
            else:
                self.store.delete_records(ids, keep_write_id=batch.write_id)
        if prepared.deleted_ids:
            self.store.delete_records(prepared.deleted_ids)

    def _remove_by_key(self, ids: list[str], prepared: Prepared, written: dict[str, list[Any]]) -> list[str]:
        """Deletes by key what is known of these records' extra rows; returns the records left to a filter."""
        since = self.applied.keys_written_after(prepared.probed_after_seq)
        if since is None:
            return ids
        own = {key for keys in written.values() for key in keys}
        doomed = [key for record_id in ids if record_id not in prepared.unbounded
                  for key in [*prepared.beyond.get(record_id, ()), *since.get(record_id, ())] if key not in own]
        if doomed:
            self.store.delete_keys(list(dict.fromkeys(doomed)))
        return [record_id for record_id in ids if record_id in prepared.unbounded]

    def _remove_listed(self, batch: Batch, prepared: Prepared, written: dict[str, list[Any]]) -> None:
        """Collections not keyed by record: delete by key the rows the group's read listed, and those
        that batches applied since wrote (`lookup.py`). A record whose rows the read could not all
        list, or that an earlier batch may have written while it is no longer remembered, is removed
        by filter as before (rare: a group's batches are bounded to what is remembered)."""
        since = self.applied.keys_written_after(prepared.stored.probed_after_seq)
        own = {key for keys in written.values() for key in keys}  # an upsert may reuse a listed key
        doomed: list[Any] = []
        by_filter: dict[str | None, list[str]] = {}  # tag ("": any) -> records; None: deletions
        for tag, ids in [*prepared.dedup_ids.items(), (None, prepared.deleted_ids)]:
            keys, unlisted = self._listed(batch, prepared, since, tag or "", ids)
            doomed += [key for key in keys if key not in own]
            if unlisted:
                by_filter[tag] = unlisted
        for record_id in prepared.deleted_ids:  # as the filter delete: an append stream's rows written now too
            doomed += written.get(record_id, [])
        if doomed:
            self.store.delete_keys(list(dict.fromkeys(doomed)))
        for tag, ids in by_filter.items():
            self._remove_unlisted(tag, ids, batch.write_id)

    def _remove_unlisted(self, tag: str | None, ids: list[str], write_id: str) -> None:
        if tag is None:
            self.store.delete_records(ids)
        elif tag:
            self.store.delete_records_in_tag(ids, tag, write_id)
        else:
            self.store.delete_records(ids, keep_write_id=write_id)

    @staticmethod
    def _listed(batch: Batch, prepared: Prepared, since: dict[str, list[Any]] | None, tag: str,
                ids: list[str]) -> tuple[list[Any], list[str]]:
        """(keys of the records' rows to remove, records to remove by filter instead)."""
        keys: list[Any] = []
        unlisted: list[str] = []
        stored = prepared.stored
        for record_id in ids:
            if record_id in prepared.absent_ids:
                continue
            if record_id in stored.incomplete or (since is None and record_id not in batch.unseen):
                unlisted.append(record_id)
                continue
            keys += stored.keys_to_remove(record_id, tag) + (since or {}).get(record_id, [])
        return keys, unlisted

    def _truncate(self, plans: list[StreamPlan]) -> None:
        for plan in plans:
            self.store.delete_stream_rows_except(plan.name, plan.generation)
            self.report.info(f"truncate: rows of earlier syncs of '{plan.name}' removed (kept: tag {plan.generation})")
