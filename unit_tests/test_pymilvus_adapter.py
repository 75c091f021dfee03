"""SessionTimestamps degrades loudly, not silently, when the pymilvus internals it reads are gone
(integration_tests/test_milvus_store.py checks it works against both real backends)."""

from __future__ import annotations

import logging

from destination_milvus_zendesk.milvus.connection import SessionTimestamps


def test_a_missing_internal_logs_one_warning_and_falls_back_to_strong_reads(monkeypatch, caplog):
    class ClientWithoutInternals:
        pass

    monkeypatch.setattr(SessionTimestamps, "_warned", False)
    with caplog.at_level(logging.WARNING, logger="airbyte"):
        assert SessionTimestamps.latest(ClientWithoutInternals(), "c", "") == 0
        assert SessionTimestamps.latest(ClientWithoutInternals(), "c", "") == 0
    warnings = [r.getMessage() for r in caplog.records if "session timestamps" in r.getMessage()]
    assert len(warnings) == 1 and "strong reads" in warnings[0]
