"""Which collections make every sync and lookup scan all their rows, and the advice to copy them.

Milvus filters a dynamic field by parsing every row's JSON (Milvus 2.3 cannot index JSON keys, and
the connector creates no JSON index): a sync finds a record's stored rows by `_ab_record_id`, and a
lookup filters tickets by organization and status. On the tutorial's hand-made collection all of
them are dynamic and rows have no key to probe, so both grow with the collection; a collection the
connector creates has them as typed, indexed columns. `check` and the query CLI say so once when
such a collection is large, with what one filter costs there, measured on the spot.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

from ..milvus.filters import literal
from ..schema import RECORD_ID

if TYPE_CHECKING:
    from ..milvus import MilvusStore
    from ..schema import CollectionInfo

ADVICE_ROWS = 50_000  # below this, a scan costs little next to the rest of a sync or lookup
ADVICE_ROWS_ENV = "DMZ_SCAN_ADVICE_ROWS"  # another threshold (tests, or to silence the advice)
PROBE_RECORD_ID = "dmz-scan-probe"  # no row has it: the filter reads every row to find none
PROBE_ORGANIZATION_ID = -2  # likewise (Zendesk ids are positive; -1 is the "no organization" sentinel)
MIGRATE_COMMAND = "python -m destination_milvus_zendesk.migrate"


def dynamic_filter_fields(info: CollectionInfo) -> list[str]:
    """What syncs and lookups filter on that this collection keeps in dynamic fields (empty: none)."""
    fields = []
    if RECORD_ID not in info.fields:
        fields.append("record ids")
    if not info.metadata_columns:
        fields.extend(["organization ids", "statuses"])
    return fields


def scans_every_row(info: CollectionInfo) -> bool:
    return bool(dynamic_filter_fields(info))


def advice_threshold() -> int:
    try:
        return max(0, int(os.environ.get(ADVICE_ROWS_ENV, ADVICE_ROWS)))
    except ValueError:
        return ADVICE_ROWS


def scanning_advice(store: MilvusStore, info: CollectionInfo, config_file: str = "<the connector's config file>") -> str:
    """One sentence for a large collection of the scanning shape ('' for any other): its size, what a
    filter on a dynamic field costs there now, and the command that copies it."""
    if not scans_every_row(info):
        return ""
    rows = store.visible_count()
    if rows < advice_threshold():
        return ""
    field = RECORD_ID if RECORD_ID not in info.fields else "organization_id"
    started = time.perf_counter()
    store.has_rows(f"{field} == {literal(PROBE_RECORD_ID if field == RECORD_ID else PROBE_ORGANIZATION_ID)}")
    took_ms = (time.perf_counter() - started) * 1000
    names = dynamic_filter_fields(info)
    what = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    return (f"Collection '{info.name}' ({rows:,} rows) stores {what} in dynamic fields, so every sync and lookup scans all of "
            f"its rows (one such filter took {took_ms:,.0f} ms here, growing with the collection); "
            f"`{MIGRATE_COMMAND} --config {config_file} --to {info.name}_v2` copies it into a collection with "
            "indexed columns (0 embedding tokens; the original is kept).")
