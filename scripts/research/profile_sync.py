"""Where an incremental sync's time goes on a kept bench_scale_* collection: every classified Milvus
call of milvus/rows.py timed by what it does, with the connector's CPU and the server process's.

    python -m bench.scale --sizes 100000 --keep          # leaves the collections and prints its work dir
    python scripts/research/profile_sync.py tutorial|created SEED WORK_DIR

One sync of 500 changed tickets (a short new text) and 500 new ones, a STATE every 100 records, as
bench/scale.py sends, run in this process with fake embeddings. Calls run on several threads: the
totals per kind overlap and do not add up to the wall time.
"""

from __future__ import annotations

import collections
import copy
import datetime as dt
import io
import json
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench import scale  # noqa: E402
from bench.run import FakeOpenAI  # noqa: E402
from bench.worker import process_cpu_s  # noqa: E402
from destination_milvus_zendesk.destination import DestinationMilvusZendesk  # noqa: E402
from destination_milvus_zendesk.milvus import errors as milvus_errors  # noqa: E402
from destination_milvus_zendesk.milvus import rows as milvus_rows  # noqa: E402
from test_support.milvus_server import pids_listening_on  # noqa: E402
from test_support.zendesk_sample import dumps, generate_messages  # noqa: E402

CHANGED_FROM = 40_000  # changed tickets are drawn from the first records (present from 50k rows up)


def sync_lines(seed: int) -> list[str]:
    tickets = [m["record"]["data"] for m in generate_messages(scale.TEMPLATE_TICKETS, scale.TEMPLATE_ARTICLES,
                                                              n_orgs=scale.ORGS, state_every=100)
               if m["type"] == "RECORD" and m["record"]["stream"] == "tickets"]
    rng = random.Random(seed)
    changed = rng.sample(range(CHANGED_FROM), scale.CHANGED)
    first_new = 5_000_000 + seed * 1000
    new = list(range(first_new, first_new + scale.NEW))
    cursor = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    state = dumps({"type": "STATE", "state": {"type": "STREAM", "stream": {
        "stream_descriptor": {"name": "tickets"}, "stream_state": {"updated_at": cursor}}}})
    lines = []
    for n, index in enumerate(changed + new, 1):
        data = copy.deepcopy(tickets[scale.template_of(index)])
        data.update(id=scale.ticket_id(index), organization_id=scale.org_of(index), updated_at=cursor)
        if n <= len(changed):
            data["description"] = f"[profile {seed}] {str(data.get('description') or '')[:200]}"
        lines.append(dumps({"type": "RECORD", "record": {"stream": "tickets", "data": data, "emitted_at": n}}))
        if n % 100 == 0:
            lines.append(state)
    return lines


def server_cpu_s() -> float:
    """The local Milvus server's CPU seconds (the process listening on 19530, as bench.scale finds it)."""
    pids = pids_listening_on(19530)
    return (process_cpu_s(pids[0]) or 0.0) if pids else 0.0


def main(shape: str, seed: int, work: str) -> None:
    fake = FakeOpenAI()
    cfg = json.loads(Path(work, f"config-bench_scale_{shape}.json").read_text())
    cfg["embedding"]["base_url"] = fake.base_url
    cfg_path = Path(work, f"profile-{shape}.json")
    cfg_path.write_text(json.dumps(cfg))
    times: dict[str, list[float]] = collections.defaultdict(list)
    real_call = milvus_errors.call

    def timed(fn, what, *args, **kwargs):
        t = time.perf_counter()
        try:
            return real_call(fn, what, *args, **kwargs)
        finally:
            times[" ".join(w for w in what.split() if not w.isdigit())].append(time.perf_counter() - t)

    milvus_rows.call = timed
    sys.stdin = io.TextIOWrapper(io.BytesIO(("\n".join(sync_lines(seed)) + "\n").encode()), encoding="utf-8")
    out, stdout = io.StringIO(), sys.stdout
    server0, t0, cpu0 = server_cpu_s(), time.perf_counter(), time.process_time()
    sys.stdout = out
    try:
        catalog = Path(work, "catalog.json")
        DestinationMilvusZendesk().run(["write", "--config", str(cfg_path), "--catalog", str(catalog)])
    finally:
        sys.stdout = stdout
        fake.close()
    print(f"{shape}: wall {time.perf_counter() - t0:.2f} s, connector CPU {time.process_time() - cpu0:.2f} s, "
          f"server CPU {server_cpu_s() - server0:.2f} s, load {os.getloadavg()[0]:.2f}")
    for what, samples in sorted(times.items(), key=lambda kv: -sum(kv[1])):
        print(f"  {what:32s} {len(samples):3d} calls, {sum(samples):6.2f} s, longest {max(samples) * 1000:6.1f} ms")
    print("\n".join(line for line in out.getvalue().splitlines() if '"done: ' in line or '"ERROR"' in line))


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in scale.SHAPES:
        sys.exit(__doc__)
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
