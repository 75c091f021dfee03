"""How far a copy got, kept with the new collection (a collection property, MIGRATION_PROPERTY), so
that a run killed at any point continues where it stopped and copies nothing twice.

Rows are read in key order. Before a page is written, the property records the page's last key and
which of its rows got a key of their own because an earlier row had their (record, chunk) key: a
run that resumes inside that page keys its rows exactly as the interrupted run did, although their
keys may already be in the target (written by that run). Rows up to `after` are all written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

COPYING, DONE = "copying", "done"


@dataclass(frozen=True)
class Progress:
    source: str  # the source collection's name (same Milvus, same database)
    state: str = COPYING
    after: Any = None  # source key: every row up to it is written (None: none yet)
    page_end: Any = None  # rows after `after` up to this key: their keys are decided (None: none)
    own_keys: tuple[Any, ...] = field(default_factory=tuple)  # of those, the rows given a key of their own
    rows: int = 0  # rows written up to `after`, or the verified total once DONE

    def to_json(self) -> str:
        return json.dumps({"source": self.source, "state": self.state, "after": self.after, "page_end": self.page_end,
                           "own_keys": list(self.own_keys), "rows": self.rows}, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | None) -> Progress | None:
        """The recorded progress; None when there is none or it cannot be read (not a migration)."""
        if not raw:
            return None
        try:
            data = json.loads(raw)
            progress = cls(str(data["source"]), str(data["state"]), data.get("after"), data.get("page_end"),
                           tuple(data.get("own_keys") or ()), int(data.get("rows") or 0))
        except (ValueError, TypeError, KeyError):
            return None
        return progress if progress.state in (COPYING, DONE) else None

    @property
    def done(self) -> bool:
        return self.state == DONE

    def decided(self, key: Any) -> bool | None:
        """For a row of the page an interrupted run was writing: did it get a key of its own? None: not decided."""
        if self.page_end is None or key > self.page_end or (self.after is not None and key <= self.after):
            return None
        return key in self.own_keys

    def begin_page(self, last_key: Any, collided: list[Any]) -> Progress:
        """What to record before a page is written: its keys up to `last_key` are decided."""
        end = last_key if self.page_end is None or last_key > self.page_end else self.page_end
        return replace(self, page_end=end, own_keys=tuple(dict.fromkeys([*self.own_keys, *collided])))

    def page_written(self, last_key: Any, rows: int) -> Progress:
        """After a page is written: rows up to `last_key` are all there."""
        pending = self.page_end is not None and self.page_end > last_key
        return replace(self, after=last_key, rows=self.rows + rows, page_end=self.page_end if pending else None,
                       own_keys=tuple(k for k in self.own_keys if k > last_key) if pending else ())

    def finished(self, rows: int) -> Progress:
        return replace(self, state=DONE, page_end=None, own_keys=(), rows=rows)
