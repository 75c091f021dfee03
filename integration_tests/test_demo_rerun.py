"""A second `scripts/demo.sh` is fast and idempotent; installs print no license deprecation
(the pyproject license itself: unit_tests/test_metadata.py)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from destination_milvus_zendesk import demo

REPO = Path(__file__).resolve().parents[1]


def test_setup_second_run_skips_the_reinstall() -> None:
    for _ in range(2):
        run = subprocess.run(["bash", "scripts/setup.sh", "--test"], cwd=REPO, capture_output=True, text=True,
                             timeout=900)
        assert run.returncode == 0, run.stderr[-2000:]
    assert "pip install skipped" in run.stdout, run.stdout + run.stderr[-2000:]
    assert "project.license" not in run.stderr


def test_demo_second_run_does_not_embed_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture) -> None:
    config = json.loads((REPO / "examples" / "config.lite.json").read_text())
    config["indexing"]["host"] = str(tmp_path / "demo-data" / "zendesk.db")
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    syncs: list[Path] = []
    real_sync = demo.sync
    monkeypatch.setattr(demo, "sync", lambda config_path: (syncs.append(config_path), real_sync(config_path)))
    assert demo.main(["--config", str(path)]) == 0
    first = capsys.readouterr().out
    assert demo.main(["--config", str(path)]) == 0
    second = capsys.readouterr().out
    assert len(syncs) == 1, "the second run must not sync (and embed) the sample again"
    assert "Already synced" in second
    assert "Calibrated embedding model local:" in first and "Already calibrated: the rule calibrated" in second
    # the lookups are the same both times: idempotent
    strip = lambda out: [line for line in out.split("== 3.")[1].splitlines() if " ms)" not in line]  # noqa: E731
    assert strip(first) == strip(second)
    assert demo.main(["--config", str(path), "--fresh"]) == 0 and len(syncs) == 2
