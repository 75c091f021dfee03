"""SessionTimestamps degrades loudly, not silently, when the pymilvus internals it reads are gone
(integration_tests/test_milvus_store.py checks it works against both real backends)."""

from __future__ import annotations

import logging

from destination_milvus_zendesk.milvus_store import SessionTimestamps


def test_a_missing_internal_logs_one_warning_and_falls_back_to_strong_reads(monkeypatch, caplog):
    class ClientWithoutInternals:
        pass

    monkeypatch.setattr(SessionTimestamps, "_warned", False)
    with caplog.at_level(logging.WARNING, logger="airbyte"):
        assert SessionTimestamps.latest(ClientWithoutInternals(), "c", "") == 0
        assert SessionTimestamps.latest(ClientWithoutInternals(), "c", "") == 0
    warnings = [r.getMessage() for r in caplog.records if "session timestamps" in r.getMessage()]
    assert len(warnings) == 1 and "strong reads" in warnings[0]


def test_client_loggers_are_silenced_by_connecting_not_by_importing(tmp_path):
    import subprocess
    import sys

    code = ("import logging\n"
            "from destination_milvus_zendesk.config import IndexingConfig\n"
            "from destination_milvus_zendesk.milvus_store import MilvusStore\n"
            "levels = lambda: (logging.getLogger('pymilvus').level, logging.getLogger('grpc._server').level)\n"
            "print(*levels())\n"
            f"store = MilvusStore(IndexingConfig(host={str(tmp_path / 'x.db')!r}, collection='c'))\n"
            "store.connect(create=True); store.close()\n"
            "print(*levels())\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    before, after = out.stdout.split("\n")[-3:-1]
    assert logging.CRITICAL not in map(int, before.split())
    assert after.split() == [str(logging.CRITICAL)] * 2
