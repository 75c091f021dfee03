"""The demo as a new user meets it: its help, the sync's warnings, and one line when something is in the way."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

REPO = Path(__file__).resolve().parents[1]
DEMO = [sys.executable, "-m", "destination_milvus_zendesk.demo"]


def demo(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([*DEMO, *args], cwd=REPO, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, subprocess.CompletedProcess]]:
    """The demo run once on its own Lite file (the example config with another path)."""
    folder = tmp_path_factory.mktemp("demo")
    config = json.loads((REPO / "examples" / "config.lite.json").read_text())
    config["indexing"]["host"] = str(folder / "zendesk.db")
    path = folder / "config.json"
    path.write_text(json.dumps(config))
    yield path, demo("--config", str(path))


def test_help_is_whole_and_describes_every_option() -> None:
    run = demo("--help", timeout=60)
    text = " ".join(run.stdout.split())
    assert run.returncode == 0
    assert ("sync the bundled Zendesk sample into Milvus Lite with the offline local model, then answer a few "
            "support-form cases. No API key, no network.") in text
    assert "--config CONFIG the connector's config JSON" in text


def test_the_sync_warnings_are_shown_not_just_counted(synced) -> None:
    _, run = synced
    assert run.returncode == 0, run.stderr[-2000:]
    assert "8 warnings" in run.stdout
    assert "warning: 7 x stream 'articles': metadata field 'body' truncated" in run.stdout
    assert "warning: 1 x stream 'tickets': metadata field 'description' truncated" in run.stdout


def test_a_lite_file_held_by_another_process_is_one_line(synced) -> None:
    path, _ = synced
    database = json.loads(path.read_text())["indexing"]["host"]
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time\nfrom pymilvus import MilvusClient\n"
                               f"client = MilvusClient({database!r})\nprint('held', flush=True)\ntime.sleep(120)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        run = demo("--config", str(path))
    finally:
        holder.kill()
        holder.wait()
    assert run.returncode == 2, run.stdout + run.stderr
    assert "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert run.stderr.startswith(f"demo: Milvus Lite database {database!r} is in use by another process (pid "
                                 f"{holder.pid}")
