"""The copy: the configured collection, page by page in key order, into a collection the connector
creates (typed, indexed columns; BM25 where the backend has it), with the stored vectors, so that
nothing is embedded (no embedder is even constructed). Killed at any point, the same command
continues; at the end the two collections must hold the same number of rows. The source is only
read: nothing here writes, alters or drops it.
"""

from __future__ import annotations

import re
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterator

from ..config import ConnectorConfig
from ..errors import ConfigError, ServiceError
from ..milvus import MilvusStore
from ..schema import KEYED_PROPERTY, MIGRATION_PROPERTY, MODEL_PROPERTY, RECORD_ID, STREAM, SUPPORT_RULE_PROPERTY
from .progress import Progress
from .rows import RowConverter, choose_keys

if TYPE_CHECKING:
    from ..schema import CollectionInfo

PAGE_ROWS = 1000
QUIET_WAIT_S = 20.0  # how long the source may keep changing before the copy gives up
RECENT_PAGES = 4  # pages whose keys are remembered instead of read back (see WrittenKeys)
CARRIED_PROPERTIES = (MODEL_PROPERTY, SUPPORT_RULE_PROPERTY)  # what the source's readers rely on
_COLLECTION_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,254}$")


@dataclass
class MigrationResult:
    source: str
    target: str
    rows: int  # rows in the target, verified equal to the source's
    copied: int  # rows written by this run
    seconds: float
    resumed: bool = False  # this run continued an interrupted one
    already_done: bool = False  # an earlier run had finished: nothing was copied
    retrieval: str = "dense"  # of the target: "hybrid" with BM25, else "dense"
    keyed: bool = True  # target rows are keyed by (record, chunk)
    own_keys: int = 0  # rows with a record id given a key of their own
    refused: dict[str, int] = field(default_factory=dict)  # filter-column values stored as the sentinel
    tokens: int = 0  # embedding tokens: none, vectors are copied

    @property
    def rows_per_s(self) -> float:
        return self.copied / self.seconds if self.seconds > 0 else 0.0


Progressed = Callable[[int, int], None]  # (rows copied, by this run and interrupted ones; rows in the source)


class WrittenKeys:
    """Which keys the target already holds, without waiting for the newest writes to become readable
    (a read at the newest write's timestamp waits for it: most of a page's time on a busy server).
    The keys of the last RECENT_PAGES pages are remembered; older ones are read back from Milvus at
    the timestamp of the last page that left the memory, readable by then."""

    def __init__(self, store: Any, *, empty: bool) -> None:
        self.store = store
        self.recent: deque[tuple[set[Any], int]] = deque()
        self.settled: int | None = None if empty else 0  # None: nothing beyond memory; 0: a strong read

    def taken(self, keys: list[Any]) -> set[Any]:
        found = {key for key in keys if any(key in page for page, _ in self.recent)}
        rest = [key for key in keys if key not in found]
        if rest and self.settled is not None:
            found |= self.store.existing_keys(rest, self.settled)
        return found

    def written(self, keys: list[Any]) -> None:
        self.recent.append((set(keys), self.store.write_timestamp()))
        if len(self.recent) > RECENT_PAGES:
            self.settled = self.recent.popleft()[1]  # 0 (timestamp unknown): strong reads from now on


class Migration:
    def __init__(self, config: ConnectorConfig, target: str, *, page_rows: int = PAGE_ROWS,
                 on_progress: Progressed | None = None, stores: tuple[Any, Any] | None = None) -> None:
        """`stores`: (source, target) stores to use instead of Milvus's (the unit tests' in-memory ones)."""
        if not _COLLECTION_NAME.match(target):
            raise ConfigError(f"--to {target!r} is not a Milvus collection name: letters, digits and underscores, "
                              "not starting with a digit, at most 255 characters.")
        if target == config.indexing.collection:
            raise ConfigError(f"--to names the configured collection '{target}' itself: name a new collection.")
        self.config = config
        self.page_rows = page_rows
        self.on_progress = on_progress or (lambda copied, total: None)
        self.source, self.target = stores or (
            MilvusStore(config.indexing),
            MilvusStore(config.indexing.model_copy(update={"collection": target, "create_collection": True}),
                        write_batch_rows=config.write_batch_rows, write_batch_bytes=config.write_batch_bytes))
        self.copied = 0
        self.own_keyed = 0  # rows with a record id given a key of their own by this run

    def run(self) -> MigrationResult:
        started = time.monotonic()
        try:
            result = self._run()
        finally:
            self.source.close()
            self.target.close()
        result.seconds = time.monotonic() - started  # closing counts: Milvus Lite writes its file then
        return result

    def _run(self) -> MigrationResult:
        """Open both collections, copy what is left, verify; the result's seconds are set by `run`."""
        source = self._open_source()
        target, progress, resumed = self._open_target(source)
        self.written = WrittenKeys(self.target, empty=not resumed)
        if progress.done:
            return self._result(self._verified(), target, resumed=True, already_done=True)
        self._carry_properties(source)
        total = self._readable_rows()
        converter = RowConverter(source, target, self.config.indexing.text_field)
        progress = self._copy(converter, progress, total)
        progress = self._finish(progress)
        return self._result(progress.rows, self.target.info or target, resumed=resumed, converter=converter)

    # --- the two collections ----------------------------------------------------------------------

    def _open_source(self) -> CollectionInfo:
        self.source.connect(create=False)
        info = self.source.describe()
        name = self.source.collection
        if info is None:
            raise ConfigError(f"Collection '{name}' does not exist in database '{self.config.indexing.db or 'default'}': "
                              "indexing.collection of the config names the collection to copy.")
        if info.vector_type is None or info.vector_type.name != "FLOAT_VECTOR":
            raise ConfigError(f"Collection '{name}' has no FLOAT_VECTOR field '{info.vector_field}' "
                              f"(fields: {', '.join(info.fields)}): set indexing.vector_field to its vector field.")
        if info.pk_type.name not in ("INT64", "VARCHAR"):
            raise ConfigError(f"Collection '{name}' has a {info.pk_type.name} primary key: only INT64 and VARCHAR "
                              "keys can be read in key order.")
        if info.metric not in (None, "L2"):
            raise ConfigError(f"Collection '{name}' is indexed with the {info.metric} metric, and the collections this "
                              "connector creates use L2: the support lookups' distances would change meaning.")
        self.source.load(info)
        return info

    def _open_target(self, source: CollectionInfo) -> tuple[CollectionInfo, Progress, bool]:
        """(the target, its progress, whether an earlier run started it); created when missing.
        An existing collection is used only if it is an unfinished (or finished) copy of this source."""
        self.target.connect(create=False)
        name, info = self.target.collection, self.target.describe()
        if info is None:
            info = self.target.create_collection(source.dimensions or 0)
            return info, self._started(source), False
        progress = Progress.from_json(info.properties.get(MIGRATION_PROPERTY))
        if progress is None and self._interrupted_creation(info):
            progress = self._started(source)
        if progress is None:
            raise ConfigError(f"Collection '{name}' already exists and is not a copy made by migrate: name a new "
                              "collection with --to (migrate never writes into an existing collection).")
        if progress.source != source.name:
            raise ConfigError(f"Collection '{name}' is a copy of collection '{progress.source}', not of "
                              f"'{source.name}': name a new collection with --to.")
        info = self.target.repair(info)
        self.target.load(info)
        return info, progress, True

    def _interrupted_creation(self, info: CollectionInfo) -> bool:
        """A run killed between creating the target and recording its progress left an empty collection
        of the connector's shape that no sync ever wrote to (a sync records its model first)."""
        return (not info.auto_id and STREAM in info.fields and RECORD_ID in info.fields
                and MODEL_PROPERTY not in info.properties and self.target.count() == 0)

    def _started(self, source: CollectionInfo) -> Progress:
        progress = Progress(source.name)
        self.target.set_property(MIGRATION_PROPERTY, progress.to_json())
        if source.properties.get(KEYED_PROPERTY) == "0":  # the source's rows already break the keyed rule
            self.target.set_keyed_rows(False)
        return progress

    def _carry_properties(self, source: CollectionInfo) -> None:
        """The embedding model and the support lookups' rule are the source's: they go with its vectors."""
        for name in CARRIED_PROPERTIES:
            value = source.properties.get(name)
            if value and self.target.info is not None and self.target.info.properties.get(name) != value:
                self.target.set_property(name, value)

    def _readable_rows(self) -> int:
        """The source's row count once every row is readable by the key-ordered reads (they see the
        collection at its default consistency, a few seconds behind on the tutorial's Bounded one)."""
        deadline = time.monotonic() + QUIET_WAIT_S
        while True:
            rows = self.source.count()
            if self.source.visible_count() == rows:
                return rows
            if time.monotonic() > deadline:
                raise ConfigError(f"Collection '{self.source.collection}' kept changing for {QUIET_WAIT_S:.0f} s (is "
                                  "a sync writing into it?): pause the syncs into it, then run migrate again.")
            time.sleep(1.0)

    # --- the copy -----------------------------------------------------------------------------------

    def _copy(self, converter: RowConverter, progress: Progress, total: int) -> Progress:
        before = progress.rows  # copied by interrupted runs
        self.on_progress(before, total)
        for page in self._pages(progress.after):
            progress = self._write_page(converter, page, progress)
            self.copied += len(page)
            self.on_progress(before + self.copied, total)
        return progress

    def _pages(self, after: Any) -> Iterator[list[dict[str, Any]]]:
        """The source's pages, each read while the one before it is written (two pages in memory)."""
        pages = self.source.pages_by_key(after, self.page_rows)
        with ThreadPoolExecutor(1, thread_name_prefix="migrate-read") as pool:
            ahead = pool.submit(next, pages, None)
            try:
                while (page := ahead.result()) is not None:
                    ahead = pool.submit(next, pages, None)
                    yield page
            finally:
                ahead.cancel() or ahead.exception()  # never two readers of the source at once
                pages.close()

    def _write_page(self, converter: RowConverter, page: list[dict[str, Any]], progress: Progress) -> Progress:
        """Keys decided and recorded first, then the rows: a run killed in between finds both."""
        pk = converter.source.pk_field
        taken: set[Any] = set()
        if not converter.source.keyed:  # a keyed source's keys are already unique per (record, chunk)
            wanted = [key for row in page if progress.decided(row[pk]) is None
                      and (key := converter.connector_key(row)) is not None]
            taken = self.written.taken(wanted) if wanted else set()
        keys, collided, unkeyed = choose_keys(converter, page, taken, progress.decided)
        self.own_keyed += unkeyed
        progress = progress.begin_page(page[-1][pk], collided)
        if unkeyed and self.target.info is not None and self.target.info.keyed:
            self.target.set_keyed_rows(False)
        self.target.set_property(MIGRATION_PROPERTY, progress.to_json())
        self.target.write([converter.target_row(row, key) for row, key in zip(page, keys)])
        self.written.written(keys)
        return progress.page_written(page[-1][pk], len(page))

    def _finish(self, progress: Progress) -> Progress:
        self.target.set_property(MIGRATION_PROPERTY, progress.to_json())
        progress = progress.finished(self._verified())
        self.target.set_property(MIGRATION_PROPERTY, progress.to_json())
        return progress

    def _verified(self) -> int:
        source_rows, target_rows = self.source.count(), self.target.count()
        if source_rows != target_rows:
            raise ServiceError(f"Collection '{self.target.collection}' has {target_rows:,} rows but "
                               f"'{self.source.collection}' has {source_rows:,}: the source changed while it was "
                               "copied, or rows were lost. Pause the syncs into it and run migrate again (it "
                               f"resumes), or drop '{self.target.collection}' and start over.")
        return target_rows

    def _result(self, rows: int, target: CollectionInfo, *, resumed: bool, already_done: bool = False,
                converter: RowConverter | None = None) -> MigrationResult:
        return MigrationResult(
            self.source.collection, self.target.collection, rows, self.copied, 0.0,
            resumed=resumed, already_done=already_done, retrieval=target.retrieval, keyed=target.keyed,
            own_keys=self.own_keyed, refused=dict(converter.refused) if converter else {})
