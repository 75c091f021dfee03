"""Stream plans: the configured catalog read once into what each stream's rows carry and whether
its earlier rows go at the end (the generation/truncation rules in the package docstring)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from airbyte_cdk.models import AirbyteMessage, AirbyteStreamStatus, ConfiguredAirbyteCatalog, DestinationSyncMode, TraceType

from ..errors import ConfigError
from ..store import VectorStore


@dataclass
class StreamPlan:
    name: str
    mode: DestinationSyncMode
    primary_key: list[list[str]] | None
    generation: str  # the tag this sync's rows carry in GENERATION: "g<generation>.s<sync id>" or the run id
    truncate: bool = False  # at the end, remove the stream's rows of other tags
    platform: bool = False  # generation fields from the platform: truncation waits for a COMPLETE status

    @property
    def keyed_by_record(self) -> bool:
        """Rows keyed by record id (append keeps every version under random keys)."""
        return self.mode != DestinationSyncMode.append


def stream_id(name: str, namespace: str | None) -> str:
    return f"{namespace}_{name}" if namespace else name


def plan_streams(catalog: ConfiguredAirbyteCatalog, run_id: str) -> dict[str, StreamPlan]:
    return {stream_id(cs.stream.name, cs.stream.namespace): _plan(cs, run_id) for cs in catalog.streams}


def _plan(cs: Any, run_id: str) -> StreamPlan:
    name = stream_id(cs.stream.name, cs.stream.namespace)
    pk = cs.primary_key or cs.stream.source_defined_primary_key or None
    if cs.destination_sync_mode == DestinationSyncMode.append_dedup and not pk:
        raise ConfigError(
            f"Stream '{name}' uses append_dedup but has no primary key: set one in the connection, or use append.")
    tag, truncate = _generation(cs, run_id)
    return StreamPlan(name, cs.destination_sync_mode, pk, tag, truncate, platform=tag != run_id)


def _generation(cs: Any, run_id: str) -> tuple[str, bool]:
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
        return run_id, overwrite
    return f"g{gen}.s{sync}", overwrite or (minimum is not None and minimum == gen and gen > 0)


def settle_row_keys(store: VectorStore, plans: dict[str, StreamPlan]) -> bool:
    """Whether this sync may probe stored rows by key; marks the collection unkeyed for good when an
    append stream with a primary key writes into it (its rows carry a record id under random keys)."""
    info = store.info
    if info is None or not info.keyed:
        return False
    if any(p.mode == DestinationSyncMode.append and p.primary_key for p in plans.values()):
        store.set_keyed_rows(False)
        return False
    return True


class StreamStatuses:
    """The last stream status per stream from the input, and which truncating streams ended well."""

    def __init__(self) -> None:
        self._last: dict[str, AirbyteStreamStatus] = {}

    def track(self, message: AirbyteMessage) -> None:
        trace = message.trace
        if trace is None or trace.type != TraceType.STREAM_STATUS or trace.stream_status is None:
            return
        desc = trace.stream_status.stream_descriptor
        self._last[stream_id(desc.name, desc.namespace)] = trace.stream_status.status

    def streams_to_truncate(self, plans: dict[str, StreamPlan]) -> tuple[list[StreamPlan], list[str]]:
        """(truncating streams whose input ended successfully, a warning per one that did not).

        The platform sends a destination that supports refreshes COMPLETE per stream once the source
        exited 0 (its StreamStatusCompletionTracker), and after a failed source only for the streams
        the source itself completed; either way our input then simply ends. So a stream with platform
        generation fields truncates only on COMPLETE: without it, the earlier job's rows stay (stale
        rows until the next successful sync, never a half-empty stream). Inputs without the fields
        (older platforms, PyAirbyte's 1/1/1, hand-run syncs) carry no statuses unless someone adds
        them: there a stream ends successfully at the end of the input, unless a status says otherwise.
        """
        done, warnings = [], []
        for plan in (p for p in plans.values() if p.truncate):
            status = self._last.get(plan.name)
            if status == AirbyteStreamStatus.COMPLETE or (status is None and not self._last and not plan.platform):
                done.append(plan)
                continue
            how = f"with status {status.value}" if status else "without a COMPLETE stream status"
            warnings.append(f"stream '{plan.name}' ended {how}: its rows of earlier syncs are kept; the next "
                            "successful sync removes them.")
        return done, warnings
