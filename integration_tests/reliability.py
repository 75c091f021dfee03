"""Shared machinery of the reliability suite (crash/resume, restarts, provider faults, fuzz, security).

* `LiveRun`: the connector as a real subprocess whose stdin we feed and whose stdout we read line by
  line, so a test can `kill -9` it at a chosen point (after N STATE lines, after a delay) the way a
  node failure or an OOM kill would, and resume from the last STATE it echoed, as the platform does.
* `Oracle`: what the collection must hold after any prefix of the input, computed with the
  connector's own DocumentBuilder and Chunker on the latest version of every record.
* `stored_rows` / `assert_exact`: what the collection holds, compared with the oracle.
* `FIGURES`: counters the issue asks for (kill points survived, faults injected, fuzz cases tried,
  records lost, secrets leaked), printed at the end of the session and written to
  build/reliability/reliability.md and .json (git-ignored; see `write_report`, called from conftest's
  `pytest_terminal_summary`). Tests never rewrite tracked files: the committed docs/reliability.md
  and .json change only when asked, with `DMZ_RELIABILITY_REPORT_DIR=docs` on the pytest command.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Iterable


from destination_milvus_zendesk.chunking import Chunker
from destination_milvus_zendesk.config import parse_config
from destination_milvus_zendesk.documents import DocumentBuilder

from .helpers import REPO, SECRETS, Backend

PROTOCOL_TYPES = {"LOG", "SPEC", "CONNECTION_STATUS", "STATE", "TRACE", "CONTROL"}
RESERVED = {"id", "vector", "text", "_ab_stream", "_ab_record_id"}  # fields of a connector-created collection
# where the figures go: an ignored folder unless DMZ_RELIABILITY_REPORT_DIR (e.g. `docs`) says otherwise
REPORT_DIR = REPO / os.environ.get("DMZ_RELIABILITY_REPORT_DIR", "build/reliability")
REPORT = REPORT_DIR / "reliability.md"
REPORT_DATA = REPORT_DIR / "reliability.json"
PUBLISHED_DATA = REPO / "docs" / "reliability.json"  # the committed figures, the starting point of a merge

# --- figures -------------------------------------------------------------------------------------

FIGURES: dict[str, Counter] = defaultdict(Counter)  # this session: section -> figure -> value
NOTES: dict[str, list[str]] = defaultdict(list)
# the same, per test (`PYTEST_CURRENT_TEST`), so that running one test updates only its own share of the report
PER_TEST: dict[str, dict[str, Any]] = {}
_figures_lock = threading.Lock()


def _test_entry() -> dict[str, Any]:
    test = os.environ.get("PYTEST_CURRENT_TEST", "outside a test").rsplit(" (", 1)[0]
    return PER_TEST.setdefault(test, {"figures": defaultdict(Counter), "notes": []})


def figure(section: str, **amounts: int) -> None:
    with _figures_lock:
        FIGURES[section].update(amounts)
        _test_entry()["figures"][section].update(amounts)


def note(section: str, text: str) -> None:
    with _figures_lock:
        NOTES[section].append(text)
        _test_entry()["notes"].append(f"{section}: {text}")


def secrets_in(text: str, extra: Iterable[str] = ()) -> list[str]:
    return [s for s in [*SECRETS, *extra] if s and s in text]


def scan_secrets(section: str, *texts: str, extra: Iterable[str] = ()) -> None:
    """Count scanned outputs and leaks (must stay 0) for the report, and fail on a leak."""
    leaked = sorted({s[:6] for t in texts for s in secrets_in(t, extra)})
    figure("secrets", outputs_scanned=len(texts), secrets_leaked=len(leaked))
    assert not leaked, f"{section}: secret leaked (starts with {leaked})"


HEADLINE = [("kill points survived", "kill_points_survived"), ("server restarts survived", "restarts_survived"),
            ("provider faults injected", "faults_injected"), ("fuzz cases tried", "cases_tried"),
            ("records lost", "records_lost"), ("secrets leaked", "secrets_leaked")]


def headline(data: dict[str, dict[str, int]]) -> str:
    """The issue's figures, summed over sections: section -> figure -> value."""
    return "; ".join(f"{label}: {sum(int(f.get(key, 0)) for f in data.values())}" for label, key in HEADLINE)


def summary_lines() -> list[str]:
    lines = [headline({k: dict(v) for k, v in FIGURES.items()})]
    for section in sorted(FIGURES):
        values = ", ".join(f"{k}={v}" for k, v in sorted(FIGURES[section].items()))
        lines.append(f"{section}: {values}")
    return lines


def write_report() -> None:
    """Merge this session's per-test figures into REPORT_DATA (a test that ran replaces its own entry, the
    others keep theirs; the first time, the others come from the committed docs/reliability.json) and
    render the totals in REPORT."""
    if not PER_TEST:
        return
    source = REPORT_DATA if REPORT_DATA.exists() else PUBLISHED_DATA
    try:
        data = json.loads(source.read_text()) if source.exists() else {}
    except ValueError:
        data = {}
    data = {test: entry for test, entry in data.items() if "::" in test and isinstance(entry, dict)  # drop other
            and isinstance(entry.get("figures"), dict)  # formats (e.g. an older version's per-section entries)
            and all(isinstance(c, dict) for c in entry["figures"].values())}
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    for test, entry in PER_TEST.items():
        data[test] = {"figures": {sec: dict(sorted(c.items())) for sec, c in sorted(entry["figures"].items())},
                      "notes": entry["notes"][:20], "updated": stamp}
    REPORT_DATA.parent.mkdir(parents=True, exist_ok=True)
    REPORT_DATA.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    totals: dict[str, Counter] = defaultdict(Counter)
    for entry in data.values():
        for section, counts in entry["figures"].items():
            totals[section].update(counts)
    out = ["# Reliability and security figures", "",
           "Written by the reliability suite (`integration_tests/test_crash_resume.py`, `test_milvus_restart.py`, "
           "`test_embedding_faults.py`, `test_fuzz_input.py`, `test_security.py`; shared code in "
           "`integration_tests/reliability.py`) at the end of each pytest session: the totals over the latest "
           "run of every test (per-test figures in `reliability.json` next to this file). A test run writes them to "
           "the git-ignored `build/reliability/`; `DMZ_RELIABILITY_REPORT_DIR=docs` on the pytest command "
           "updates the committed copy.", "",
           f"**{headline({k: dict(v) for k, v in totals.items()})}**", "",
           "| section | figure | value |", "|---|---|---|"]
    for section in sorted(totals):
        for name, value in sorted(totals[section].items()):
            out.append(f"| {section} | {name} | {value} |")
    out += ["", "Notes (latest run of each test):", ""]
    for test in sorted(data):
        out += [f"- `{test}` ({data[test]['updated']}): {n}" for n in data[test]["notes"]]
    REPORT.write_text("\n".join(out) + "\n")


# --- messages ------------------------------------------------------------------------------------


def encode(messages: Iterable[Any]) -> list[bytes]:
    return [(m if isinstance(m, bytes) else (m if isinstance(m, str) else json.dumps(m)).encode()) + b"\n"
            for m in messages]


def numbered_states(messages: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Give every STATE a unique `seq` so an echoed state identifies its position in the input."""
    out, seq = [], 0
    for m in messages:
        if m.get("type") == "STATE":
            m = json.loads(json.dumps(m))
            seq += 1
            m["state"]["stream"]["stream_state"]["seq"] = seq
        out.append(m)
    return out


def state_seq(state: dict[str, Any]) -> int:
    return int(state["stream"]["stream_state"]["seq"])


# --- the connector as a killable process ----------------------------------------------------------


_LIVE: list["LiveRun"] = []


def kill_leftover_runs() -> None:
    """After each test (conftest.py): a failed test never leaves a connector process behind."""
    while _LIVE:
        run = _LIVE.pop()
        if run.proc.poll() is None:
            run.kill9()


class LiveRun:
    """`python main.py write` fed from a thread; stdout parsed as it arrives; killable with SIGKILL.

    The connector runs in its own session (process group) so `kill9` takes down everything it
    started, as a container kill would (Milvus Lite runs in-process, so that is just the one process).
    """

    def __init__(self, tmp_path: Path, config: dict, catalog: dict, lines: list[bytes] | None = None, *,
                 env: dict[str, str] | None = None, command: str = "write", close_stdin: bool = True) -> None:
        tag = uuid.uuid4().hex[:8]
        config_path = tmp_path / f"config-{tag}.json"
        config_path.write_text(json.dumps(config))
        args = [sys.executable, str(REPO / "main.py"), command, "--config", str(config_path)]
        if command == "write":
            catalog_path = tmp_path / f"catalog-{tag}.json"
            catalog_path.write_text(json.dumps(catalog))
            args += ["--catalog", str(catalog_path)]
        self.stderr_path = tmp_path / f"stderr-{tag}.txt"
        self._stderr = open(self.stderr_path, "wb")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
                                     cwd=tmp_path, env={**os.environ, **(env or {})}, start_new_session=True)
        _LIVE.append(self)
        self.messages: list[dict[str, Any]] = []
        self.raw: list[bytes] = []
        self.partial = b""
        self.killed = False
        self._cond = threading.Condition()
        self._feed_lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._feeder: threading.Thread | None = None
        if lines is not None:
            self.feed(lines, close=close_stdin)

    # input
    def feed(self, lines: list[bytes], close: bool = True) -> None:
        """Write lines in a background thread (the connector applies back-pressure), then maybe close."""
        previous = self._feeder

        def run() -> None:
            if previous is not None:
                previous.join()
            with self._feed_lock:
                try:
                    for line in lines:
                        self.proc.stdin.write(line)
                    self.proc.stdin.flush()
                    if close:
                        self.proc.stdin.close()
                except (BrokenPipeError, ValueError, OSError):
                    pass

        self._feeder = threading.Thread(target=run, daemon=True)
        self._feeder.start()

    # output
    def _read(self) -> None:
        for line in iter(self.proc.stdout.readline, b""):
            if not line.endswith(b"\n"):  # cut by a kill mid-write: the platform never saw it
                self.partial = line
                break
            self.raw.append(line)
            message = json.loads(line)  # a non-JSON stdout line is a protocol bug: the test fails
            assert message.get("type") in PROTOCOL_TYPES, line[:300]
            with self._cond:
                self.messages.append(message)
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    @property
    def states(self) -> list[dict[str, Any]]:
        with self._cond:
            return [m["state"] for m in self.messages if m["type"] == "STATE"]

    @property
    def errors(self) -> list[dict[str, Any]]:
        with self._cond:
            return [m["trace"]["error"] for m in self.messages
                    if m["type"] == "TRACE" and m["trace"].get("type") == "ERROR"]

    def logs(self, level: str | None = None) -> list[str]:
        with self._cond:
            return [m["log"]["message"] for m in self.messages
                    if m["type"] == "LOG" and (level is None or m["log"]["level"] == level)]

    def wait_for(self, predicate, timeout: float) -> bool:
        """Wait until predicate(self) holds or the process ended; True if it holds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                if predicate(self):
                    return True
                if self.proc.poll() is not None and not self._reader.is_alive():
                    return predicate(self)
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.1))

    def wait_states(self, n: int, timeout: float = 120) -> bool:
        return self.wait_for(lambda r: sum(1 for m in r.messages if m["type"] == "STATE") >= n, timeout)

    # ending
    def kill9(self) -> None:
        """SIGKILL the connector's whole process group (only processes this run started)."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.killed = True
        self.wait(timeout=30)

    def wait(self, timeout: float = 300) -> int:
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill9()
            raise AssertionError(f"connector did not finish within {timeout}s; stderr tail: {self.stderr[-2000:]}")
        self._reader.join(timeout=30)
        if self._feeder is not None:
            self._feeder.join(timeout=5)
        self._stderr.close()
        return rc

    @property
    def stdout(self) -> str:
        return b"".join(self.raw + [self.partial]).decode("utf-8", "replace")

    @property
    def stderr(self) -> str:
        if not self._stderr.closed:
            self._stderr.flush()
        return self.stderr_path.read_bytes().decode("utf-8", "replace")

    def scan(self, section: str, extra: Iterable[str] = ()) -> None:
        scan_secrets(section, self.stdout, self.stderr, extra=extra)


# --- the oracle ----------------------------------------------------------------------------------


class Oracle:
    """What the collection must hold after any prefix of the input, computed once per message with the
    connector's own DocumentBuilder and Chunker (so the oracle splits exactly as the connector must)."""

    def __init__(self, config: dict, messages: list[dict[str, Any]], primary_key: list[list[str]] | None = None):
        cfg = parse_config(config)
        builder = DocumentBuilder(cfg.processing, RESERVED)
        chunker = Chunker.from_config(cfg.processing)
        pk = primary_key or [["id"]]
        self.messages = messages
        # per message: None, or (record id, data, chunk set or None when the record must not be stored)
        self.entries: list[tuple[str, dict[str, Any], frozenset | None] | None] = []
        cache: dict[str, list[str]] = {}
        for m in messages:
            if m.get("type") != "RECORD":
                self.entries.append(None)
                continue
            rec = m["record"]
            stream = f"{rec['namespace']}_{rec['stream']}" if rec.get("namespace") else rec["stream"]
            doc = builder.build(stream, rec["data"], pk)
            chunks = None
            if not doc.deleted:
                if doc.text not in cache:
                    cache[doc.text] = chunker.split(doc.text)
                chunks = frozenset(enumerate(cache[doc.text])) or None
            self.entries.append((doc.record_id, rec["data"], chunks))

    def expected(self, end: int | None = None) -> dict[str, dict[str, Any]]:
        """record id -> {"data", "chunks"} after messages[:end]: final versions, deleted/text-less absent."""
        latest: dict[str, tuple[dict[str, Any], frozenset | None]] = {}
        for entry in self.entries[:end]:
            if entry is not None:
                latest[entry[0]] = (entry[1], entry[2])
        return {rid: {"data": data, "chunks": set(chunks)} for rid, (data, chunks) in latest.items() if chunks}

    def must_be_stored_at_checkpoint(self, checkpoint: int) -> set[str]:
        """Records that must have rows once the state at `checkpoint` (an index) was echoed: stored by
        the prefix, and not deleted or emptied by a later message a killed run may already have applied."""
        later_removed = {e[0] for e in self.entries[checkpoint + 1:] if e is not None and e[2] is None}
        return set(self.expected(checkpoint + 1)) - later_removed


def expected_chunks(config: dict, messages: list[dict[str, Any]],
                    primary_key: list[list[str]] | None = None) -> dict[str, dict[str, Any]]:
    return Oracle(config, messages, primary_key).expected()


def stored_rows(backend: Backend, collection: str, fields: list[str] | None = None,
                expr: str = "_ab_chunk >= 0") -> list[dict[str, Any]]:
    """Every row (no vectors unless asked); the suite keeps collections under one query window."""
    fields = fields or ["_ab_record_id", "_ab_chunk", "text", "updated_at"]
    with backend.connect() as client:
        client.load_collection(collection)
        found = client.query(collection, filter=expr, output_fields=fields, consistency_level="Strong", limit=16384)
    assert len(found) < 16384, "collection too large for one query window: shrink the test"
    return found


def assert_exact(found: list[dict[str, Any]], expected: dict[str, dict[str, Any]],
                 metadata_field: str | None = "updated_at") -> dict[str, int]:
    """The collection holds exactly the oracle's chunks: nothing lost, nothing duplicated, nothing stale."""
    by_record: dict[str, list[tuple[int, str]]] = defaultdict(list)
    stale_meta = 0
    for row in found:
        by_record[row["_ab_record_id"]].append((row["_ab_chunk"], row["text"]))
        want = expected.get(row["_ab_record_id"])
        if metadata_field and want is not None and row.get(metadata_field) != want["data"].get(metadata_field):
            stale_meta += 1
    lost = sorted(set(expected) - set(by_record))
    extra = sorted(set(by_record) - set(expected))
    duplicated = sorted(r for r, chunks in by_record.items() if len(chunks) != len(set(chunks)))
    wrong = sorted(r for r, chunks in by_record.items() if r in expected and set(chunks) != expected[r]["chunks"])
    figures = {"records_expected": len(expected), "rows": len(found), "records_lost": len(lost),
               "records_unexpected": len(extra), "records_duplicated": len(duplicated),
               "records_wrong_chunks": len(wrong), "rows_stale_metadata": stale_meta}
    assert not lost, f"{len(lost)} records lost, e.g. {lost[:5]}"
    assert not extra, f"{len(extra)} records that must not be stored, e.g. {extra[:5]}"
    assert not duplicated, f"duplicate chunks for {duplicated[:5]}"
    if wrong:
        r = wrong[0]
        have = sorted(c for c, _ in by_record[r])
        want = sorted(c for c, _ in expected[r]["chunks"])
        raise AssertionError(f"{len(wrong)} records with stale/wrong chunks, e.g. {r}: chunks {have} vs {want}")
    assert stale_meta == 0, f"{stale_meta} rows carry metadata of an older version"
    return figures
