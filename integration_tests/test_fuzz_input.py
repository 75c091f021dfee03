"""Fuzzed input (seeded, > 1,000 cases), against the documented contract of `_parse_input_stream`
and the writer:

* a line that is not JSON, or not an Airbyte message, stops the sync with a TRACE error naming the
  line; records before it are stored and their states echoed;
* a record for a stream not in the catalog stops the sync naming the stream and the line;
* a record without text is a counted warning (its old rows removed, in append_dedup);
* metadata too large is truncated/dropped with a counted warning; non-UTF-8 bytes are replaced
  with a warning naming the line;
* every other record (odd Unicode, lone surrogates, NaN, wrong value types, 1000-deep nesting,
  10 MB strings, field names Milvus cannot store, ids of every JSON type, ...) is stored exactly once.

Legal cases are batched, hundreds per connector run, on both backends; the lines that stop a sync
run one per in-process `write` on Milvus Lite (same code path, no process start-up), and one of each
kind through the real subprocess.
"""

from __future__ import annotations

import io
import json
import re
from collections import Counter

import pytest
from airbyte_cdk.models import ConfiguredAirbyteCatalogSerializer, FailureType, Type

from destination_milvus_zendesk.destination import DestinationMilvusZendesk
from destination_milvus_zendesk.errors import ConnectorError

from .fuzz_cases import Case, Generator, record
from .helpers import Backend, make_config
from .reliability import (LiveRun, Oracle, assert_exact, figure, note,
                          stored_rows)

SEED = 20240611
SECTION = "fuzz"
STATE_EVERY = 25


def catalog() -> dict:
    return {"streams": [{"stream": {"name": name, "json_schema": {"type": "object"},
                                    "supported_sync_modes": ["incremental"]},
                         "sync_mode": "incremental", "destination_sync_mode": "append_dedup",
                         "primary_key": [["id"]]} for name in ("tickets", "articles")]}


def state(n: int) -> dict:
    return {"type": "STATE", "state": {"type": "STREAM", "stream": {"stream_descriptor": {"name": "tickets"},
                                                                    "stream_state": {"n": n}}}}


def summary(run: LiveRun) -> Counter:
    """The end-of-sync warning summary: reason -> count."""
    counts: Counter = Counter()
    for line in run.logs("WARN"):
        match = re.fullmatch(r"(\d+) x (.+)", line, re.S)
        if match:
            counts[match.group(2)] += int(match.group(1))
    return counts


def counted(counts: Counter, words: str) -> int:
    return sum(n for reason, n in counts.items() if words in reason)


def with_priors(cases: list[Case]) -> tuple[list[bytes], list[dict], dict[int, Case], dict[int, int]]:
    """Input lines and decoded messages: for every text-less case an earlier version with text (its
    rows must disappear), then the cases with a STATE every STATE_EVERY; line number -> case, and
    id(case) -> index of its message."""
    lines: list[bytes] = []
    messages: list[dict] = []
    for case in cases:
        if case.expect == "no_text":
            prior = json.loads(json.dumps(case.message))
            prior["record"]["data"]["subject" if case.stream == "tickets" else "title"] = "an earlier version"
            lines.append(json.dumps(prior).encode())
            messages.append(prior)
    lines.append(json.dumps(state(0)).encode())
    messages.append(state(0))
    at_line: dict[int, Case] = {}
    index: dict[int, int] = {}
    for k, case in enumerate(cases, start=1):
        lines.append(case.line)
        messages.append(case.message)
        at_line[len(lines)] = case
        index[id(case)] = len(messages) - 1
        if k % STATE_EVERY == 0 or k == len(cases):
            lines.append(json.dumps(state(k)).encode())
            messages.append(state(k))
    return [line + b"\n" for line in lines], messages, at_line, index


@pytest.mark.slow
def test_hostile_but_legal_records_are_each_stored_exactly_once(backend, collection_name, tmp_path):
    gen = Generator(SEED + (1 if backend.name == "server" else 2))
    cases = gen.soft(440)
    cases.insert(len(cases) // 3, gen.huge_string(in_text=True))  # 10 MB of text: thousands of chunks
    cases.insert(2 * len(cases) // 3, gen.huge_string(in_text=False))  # 10 MB of metadata: truncated
    config = make_config(backend, collection_name, create=True)
    lines, messages, at_line, index = with_priors(cases)
    run = LiveRun(tmp_path, config, catalog(), lines)
    rc = run.wait(timeout=600)
    run.scan(SECTION)
    assert rc == 0, run.errors or run.stderr[-3000:]
    assert len(run.states) == sum(1 for m in messages if m and m.get("type") == "STATE")

    oracle = Oracle(config, messages)
    expected = oracle.expected()
    stored_cases = [c for c in cases if c.expect == "stored"]
    found = stored_rows(backend, collection_name)
    figures = assert_exact(found, expected, metadata_field=None)  # each legal record exactly once, old rows gone
    stored_ids = {r["_ab_record_id"] for r in found}
    no_text_ids = {oracle.entries[index[id(c)]][0] for c in cases if c.expect == "no_text"}
    assert not stored_ids & no_text_ids, "a text-less record kept its earlier rows"

    counts = summary(run)
    categories = Counter(c.category for c in cases)
    assert counted(counts, "record with no text") == categories["nulls where text is expected"]
    for category, words in [("deep nesting", "nested deeper than 8 levels"), ("NaN and Infinity", "non-finite"),
                            ("metadata too large", "metadata field dropped"), ("10 MB strings", "truncated"),
                            ("missing or null primary key", "record without a value for primary key")]:
        assert counted(counts, words) >= categories[category], (category, counts)
    warned_lines = {int(m.group(1)) for line in run.logs("WARN")
                    for m in [re.match(r"Line (\d+): bytes that are not UTF-8", line)] if m}
    utf8_lines = {n for n, c in at_line.items() if c.category == "non-UTF-8 bytes"}
    assert utf8_lines <= warned_lines, "a non-UTF-8 line was replaced without a warning naming it"
    for line in run.logs("WARN"):  # the detailed warnings name the line of a case that expects them
        match = re.match(r"line (\d+): ", line)
        if match and int(match.group(1)) in at_line:
            assert at_line[int(match.group(1))].expect in ("stored", "no_text")

    assert {oracle.entries[index[id(c)]][0] for c in stored_cases} <= stored_ids
    figure(SECTION, cases_tried=len(cases), records_expected=len(expected), records_stored=len(stored_ids),
           text_less_records_warned=categories["nulls where text is expected"], records_lost=figures["records_lost"],
           records_duplicated=figures["records_duplicated"], warnings_counted=sum(counts.values()))
    for category, n in categories.items():
        figure(f"{SECTION} cases", **{category.replace(" ", "_"): n})
    note(SECTION, f"{backend.name}, seed {gen.seed}: {len(cases)} legal cases in one run (two of 10 MB), "
                  f"{len(found)} rows, {sum(counts.values())} warnings counted")


def fatal_input(n: int, case: Case) -> tuple[bytes, int]:
    before = record("tickets", {"id": 900_000 + n, "subject": f"before {n}", "description": "stored"})
    after = record("tickets", {"id": 950_000 + n, "subject": f"after {n}", "description": "never stored"})
    lines = [json.dumps(before).encode(), json.dumps(state(n)).encode(), case.line, json.dumps(after).encode(),
             json.dumps(state(n + 1)).encode()]
    return b"".join(line + b"\n" for line in lines), 3


def check_fatal(case: Case, message: str, failure_type, line: int) -> None:
    assert re.match(rf"Line {line}\b", message), (case.category, case.line[:120], message)
    assert any(words in message for words in case.error), (case.category, case.line[:120], message)
    if case.stream is not None and "catalog" in case.error[0]:
        assert f"'{case.stream}'" in message, (case.stream, message)
    assert failure_type == FailureType.system_error, failure_type
    assert "Traceback" not in message


def test_lines_that_stop_the_sync_name_the_line_in_process(tmp_path):
    """220 fatal lines, one `write` each (in-process, Milvus Lite): the record before the bad line is
    stored and its STATE echoed, nothing after it is."""
    gen = Generator(SEED + 3)
    cases = [gen.fatal() for _ in range(220)]
    backend = Backend("lite", str(tmp_path / "fatal.db"), {"mode": "no_auth"}, None)
    config = make_config(backend, "fuzz_fatal", create=True)
    configured = ConfiguredAirbyteCatalogSerializer.load(catalog())
    destination = DestinationMilvusZendesk()
    kinds: Counter = Counter()
    for n, case in enumerate(cases):
        data, bad_line = fatal_input(n, case)
        out = []
        with pytest.raises(ConnectorError) as failure:
            for message in destination.write(config, configured, destination._parse_input_stream(
                    io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))):
                out.append(message)
        check_fatal(case, failure.value.message, failure.value.failure_type, bad_line)
        states = [m.state for m in out if m.type == Type.STATE]
        assert len(states) == 1 and states[0].stream.stream_state.n == n, (case.line[:100], states)
        kinds[case.category] += 1
    found = {r["_ab_record_id"] for r in stored_rows(backend, "fuzz_fatal", ["_ab_record_id"])}
    assert found == {f"tickets_{900_000 + n}" for n in range(len(cases))}
    figure(SECTION, cases_tried=len(cases), fatal_lines_named=len(cases))
    for category, n in kinds.items():
        figure(f"{SECTION} cases", **{category.replace(" ", "_"): n})


@pytest.mark.server
def test_each_kind_of_fatal_line_through_the_real_process(milvus_server, server_token, collection_name, tmp_path):
    """One of each kind through `python main.py write`: a TRACE error (no stack trace in the message),
    exit code 1, the state before the line echoed, nothing after it stored."""
    backend = Backend("server", milvus_server.uri, {"mode": "token", "token": server_token}, server_token)
    config = make_config(backend, collection_name, create=True)
    gen = Generator(SEED + 4)
    wanted = ["invalid JSON", "not an Airbyte message", "record for an unknown stream", "data that is not an object"]
    samples: dict[str, list[Case]] = {}
    while any(k not in samples for k in wanted):
        case = gen.fatal()
        samples.setdefault(case.category, []).append(case)
    picked = [samples[k][0] for k in wanted]
    picked.append(Case("invalid JSON", b"\xff\xfe{not json", "fatal", error=("not valid JSON",)))
    for n, case in enumerate(picked):
        data, bad_line = fatal_input(n, case)
        run = LiveRun(tmp_path, config, catalog(), [data])
        rc = run.wait()
        run.scan(SECTION)
        assert rc == 1, (case.line[:100], run.stdout[-1000:])
        [error] = run.errors
        check_fatal(case, error["message"], FailureType(error["failure_type"]), bad_line)
        assert [s["stream"]["stream_state"]["n"] for s in run.states] == [n]
    with backend.connect() as client:
        found = {r["_ab_record_id"] for r in client.query(collection_name, filter="_ab_chunk >= 0",
                                                          output_fields=["_ab_record_id"], limit=1000)}
    assert found == {f"tickets_{900_000 + n}" for n in range(len(picked))}
    figure(SECTION, cases_tried=len(picked), fatal_lines_named=len(picked))
