"""Stored rows of collections not keyed by record (the tutorial's auto-id collection, hand-made
ones): no key tells a record's rows there, only a filter on `_ab_record_id`, which on such a
collection scans every row (a dynamic JSON field Milvus 2.3 cannot index), whatever the number of
ids it names. So the cost per record stays flat only if:

- one read lists the rows of many records: the main thread holds batches, and the STATE messages
  between them, until a group is full (or the input pauses, or ends), then one read serves the
  whole group; a STATE still goes to the writer thread behind the batches before it, so it is
  released only after they are stored;
- the rows that read listed are removed by primary key (no scan) once the new rows are written;
  rows written after the read (earlier batches of this sync applied since) are known by the keys
  the writes returned (`AppliedBatches`);
- records that cannot have a row are not looked up (`Absence`).
"""

from __future__ import annotations

import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Union

from airbyte_cdk.models import DestinationSyncMode

from ..store import StoredRow, VectorStore
from .applied import AppliedBatches
from .intake import Batch
from .plans import StreamPlan

if TYPE_CHECKING:
    from .apply import StateWork

GROUP_RECORDS = 2000  # records per read; batches held back meanwhile (their embedding waits for it)
# batches per group: keeps the batches applied between a group's read and its last batch within what
# AppliedBatches remembers (RECENT_BATCHES), so their written keys are known
GROUP_BATCHES = 16
# a group is sent once held this long, so a source trickling records never idle for IDLE_POLL_S does not
# delay its STATEs by a whole group
MAX_HOLD_S = 2.0


@dataclass
class StoredRows:
    """A group's read: each record's stored rows, when it was taken, and what it could not list."""
    rows: dict[str, list[StoredRow]] = field(default_factory=dict)
    incomplete: set[str] = field(default_factory=set)  # records with too many rows to list: removed by filter
    probed_after_seq: int = 0  # every batch up to this one was applied (and visible) when the rows were read

    def keys_to_remove(self, record_id: str, tag: str) -> list[Any]:
        """The record's listed rows that dedup removes: all of them, or (tag-scoped, overwrite) those
        of `tag` written by this connector (a row without a write id is kept, as the filter keeps it)."""
        return [row.key for row in self.rows.get(record_id, ())
                if not tag or (row.tag == tag and row.write_id is not None)]


class Absence:
    """Which records of a batch cannot have a stored row the batch would reuse or remove. Only two
    reasons are sound, both for a record in no earlier batch of this sync (`Batch.unseen`, certain):

    - the collection was empty when the sync began: nothing but this sync writes to it meanwhile;
    - its stream is an overwrite, which removes only rows of this job's tag, and no row carried that
      tag when the sync began (a first attempt): only this sync writes the tag.

    A record an earlier batch of this sync already looked up is not skipped: "seen" is a Bloom filter
    answer (it may be wrong, and a wrong skip would leave stale rows), the read costs the same with or
    without its id, and its stored vectors are still wanted for reuse.
    """

    def __init__(self, plans: dict[str, StreamPlan]) -> None:
        self.plans = plans
        self.empty_at_start: Future | None = None  # no row at all when the sync began
        self.fresh_tags: dict[str, Future] = {}  # overwrite stream -> no row of its tag when the sync began

    def start(self, store: VectorStore, submit: Any, tag_scoped: bool) -> list[Future]:
        """The start-of-sync reads, submitted to the prepare pool; `tag_scoped`: also the tag checks."""
        self.empty_at_start = submit(_is_empty, store)
        if tag_scoped:
            for plan in self.plans.values():
                if plan.mode == DestinationSyncMode.overwrite and plan.keyed_by_record:
                    self.fresh_tags[plan.name] = submit(_tag_unused, store, plan)
        return [self.empty_at_start, *self.fresh_tags.values()]

    def of(self, batch: Batch) -> set[str]:
        if not batch.unseen:
            return set()
        empty = self.empty_at_start is not None and self.empty_at_start.result()
        fresh = {stream for stream, unused in self.fresh_tags.items() if unused.result()}
        if not empty and not fresh:
            return set()
        return {item.doc.record_id for item in batch.items
                if item.doc.record_id in batch.unseen and (empty or item.doc.stream in fresh)}


def _is_empty(store: VectorStore) -> bool:
    try:
        return store.is_empty()
    except Exception:  # noqa: BLE001 - only an optimisation: look every record up
        return False


def _tag_unused(store: VectorStore, plan: StreamPlan) -> bool:
    try:
        return not store.has_tagged_rows(plan.name, plan.generation)
    except Exception:  # noqa: BLE001 - only an optimisation: look every record up
        return False


def records_to_look_up(batch: Batch, plans: dict[str, StreamPlan], absent: set[str]) -> set[str]:
    """Records whose stored rows the batch removes (dedup or deletion), unless they cannot have any."""
    return {item.doc.record_id for item in batch.items if item.doc.record_id is not None
            and item.doc.record_id not in absent and (item.doc.deleted or plans[item.doc.stream].keyed_by_record)}


def read_group(store: VectorStore, applied: AppliedBatches, plans: dict[str, StreamPlan], absence: Absence,
               batches: list[Batch]) -> StoredRows:
    """One group's read, in the prepare pool before any prepare of the group; no read when none of
    its records can have a stored row."""
    record_ids = set().union(*(records_to_look_up(batch, plans, absence.of(batch)) for batch in batches))
    if not record_ids:
        return StoredRows()
    seq = applied.latest_seq()  # taken before the read: every batch up to it is visible to it
    rows, incomplete = store.stored_rows(sorted(record_ids))
    stored = StoredRows(incomplete=incomplete, probed_after_seq=seq)
    for row in rows:
        stored.rows.setdefault(row.record_id, []).append(row)
    return stored


Held = Union[Batch, "StateWork"]


class HeldWork:
    """Batches and STATEs the main thread holds, in input order, until their group's read is sent."""

    def __init__(self) -> None:
        self.items: list[Held] = []
        self._records = 0
        self._batches = 0
        self._since = 0.0

    def hold(self, item: Held) -> None:
        if not self.items:
            self._since = time.monotonic()
        self.items.append(item)
        if isinstance(item, Batch):
            self._batches += 1
            self._records += len(item.items)

    @property
    def full(self) -> bool:
        return (self._records >= GROUP_RECORDS or self._batches >= GROUP_BATCHES
                or (bool(self.items) and time.monotonic() - self._since >= MAX_HOLD_S))

    @property
    def has_batches(self) -> bool:
        return self._batches > 0

    def take(self) -> list[Held]:
        items, self.items, self._records, self._batches = self.items, [], 0, 0
        return items
