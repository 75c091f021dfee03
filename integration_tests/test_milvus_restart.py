"""The Milvus server restarts in the middle of a sync.

The input is fed in three parts: the first is stored (its STATEs echoed), then the server is
stopped, the second part is fed while it is down (the connector must wait and retry, bounded), the
server is started again on the SAME data dir and port, and the rest is fed. The sync either
completes with exactly the expected rows, or fails with a clear transient/system TRACE error; in both
cases every record before the last echoed STATE is stored, and a resumed sync ends exact.

The restart goes through test_support.milvus_server: the session's own server (CI) via its
MilvusServer handle, or a server started with `python -m test_support.milvus_server start` (a developer
machine) via that CLI's state file. Other tests sharing the server see a brief outage.
"""

from __future__ import annotations

import os
import time

import pytest

from test_support.zendesk_sample import configured_catalog, generate_messages
from test_support import milvus_server as ms

from .helpers import Backend, make_config
from .reliability import (LiveRun, Oracle, assert_exact, encode, figure,
                          note, numbered_states, state_seq, stored_rows)

SECTION = "milvus_restart"


class Restarter:
    """Stop and start the session's Milvus server on the same data dir and port."""

    def __init__(self, server: ms.MilvusServer) -> None:
        self.server = server
        self.state_file = os.environ.get("DMZ_MILVUS_STATE", ms.DEFAULT_STATE_FILE)
        self.daemon: dict = {}
        if server.owned:
            self.mode = "owned"
        else:
            state = ms._read_json(self.state_file)
            pids = ms.pids_listening_on(server.port)
            if (state.get("daemon") and state.get("data_dir") and int(state.get("port", 0)) == server.port
                    and state.get("standalone_pid") in pids and not os.environ.get("DMZ_MILVUS_URI")):
                self.mode, self.daemon = "daemon", state
            else:
                pytest.skip("the Milvus server was not started by test_support.milvus_server: cannot restart it")
        self.down = False

    def stop(self) -> float:
        started = time.monotonic()
        self.down = True
        if self.mode == "owned":
            self.server.stop()  # the fixture's data dir is kept (not a temp dir of the manager's own)
        else:
            assert ms.main(["stop", "--grace", "3", "--pid-file", self.state_file]) == 0
        return time.monotonic() - started

    def start(self) -> float:
        started = time.monotonic()
        if self.mode == "owned":
            self.server.start()
        else:  # --fresh: never adopt a server someone else started on the port while ours was down
            rc = ms.main(["start", "--fresh", "--data", self.daemon["data_dir"], "--port", str(self.daemon["port"]),
                          "--pid-file", self.state_file])
            assert rc == 0, (f"could not restart the Milvus server on {self.daemon['data_dir']}: another process "
                             f"started a server on port {self.daemon['port']} while it was down (see above)")
        self.down = False
        assert self.server.is_ready(timeout=10)
        return time.monotonic() - started

    def restore(self) -> None:
        if self.down or not self.server.is_ready(timeout=5):
            self.start()


@pytest.mark.server
@pytest.mark.slow
def test_server_restart_mid_sync(milvus_server, server_token, collection_name, tmp_path):
    restarter = Restarter(milvus_server)
    backend = Backend("server", milvus_server.uri, {"mode": "token", "token": server_token}, server_token)
    config = make_config(backend, collection_name, create=True)
    messages = numbered_states(generate_messages(320, 16, seed=31, state_every=15))
    oracle = Oracle(config, messages)
    lines = encode(messages)
    first, second = len(lines) // 4, len(lines) // 2
    seq_index = {state_seq(m["state"]): i for i, m in enumerate(messages) if m["type"] == "STATE"}
    try:
        run = LiveRun(tmp_path, config, configured_catalog(), lines[:first], close_stdin=False)
        assert run.wait_states(2, timeout=180), run.errors or run.stderr[-2000:]
        down_s = restarter.stop()
        run.feed(lines[first:second], close=False)  # reaches the connector while the server is down
        up_s = restarter.start()
        run.feed(lines[second:])
        rc = run.wait(timeout=900)
        run.scan(SECTION)
    finally:
        restarter.restore()

    checkpoint = seq_index[state_seq(run.states[-1])]
    stored_ids = {r["_ab_record_id"] for r in stored_rows(backend, collection_name, ["_ab_record_id"])}
    missing = oracle.must_be_stored_at_checkpoint(checkpoint) - stored_ids
    assert not missing, f"STATE echoed for records that are not stored: {sorted(missing)[:5]}"
    retries = [line for line in run.logs("INFO") if "Milvus error while" in line]
    if rc == 0:
        outcome = "completed"
        assert len(run.states) == len(seq_index)
    else:
        outcome = "failed clearly"
        [error] = run.errors
        assert error["failure_type"] in ("transient_error", "system_error"), error
        assert "Milvus" in error["message"] and "Traceback" not in error["message"], error["message"]
        resumed = LiveRun(tmp_path, config, configured_catalog(), lines[checkpoint + 1:])
        assert resumed.wait(timeout=600) == 0, resumed.errors or resumed.stderr[-2000:]
        resumed.scan(SECTION)
    figures = assert_exact(stored_rows(backend, collection_name), oracle.expected())
    figure(SECTION, restarts_survived=1, sync_completed=int(rc == 0), records_lost=figures["records_lost"],
           records_duplicated=figures["records_duplicated"], milvus_retries_logged=len(retries))
    note(SECTION, f"{restarter.mode} server: stopped in {down_s:.1f}s, started again in {up_s:.1f}s; "
                  f"sync {outcome} ({len(retries)} Milvus retries logged), {figures['records_expected']} records exact")
