"""The bundled Zendesk sample synced with the local model into a new Milvus Lite file, by the
connector's own `main.py write`: the collection the query CLI's tests and its benchmark search."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "destination_milvus_zendesk" / "sample_data"


def sync_sample(folder: Path, timeout: float) -> tuple[Path, subprocess.CompletedProcess]:
    """(config path, the write's completed process) for `folder/zendesk.db`, collection `zendesk`."""
    config = {"processing": {"chunk_size": 1000, "text_fields": ["body", "title", "description", "subject"]},
              "embedding": {"mode": "local"},
              "indexing": {"host": str(folder / "zendesk.db"), "collection": "zendesk", "create_collection": True}}
    path = folder / "config.json"
    path.write_text(json.dumps(config))
    with (SAMPLE / "zendesk_sample.jsonl").open("rb") as stdin:
        proc = subprocess.run([sys.executable, str(REPO / "main.py"), "write", "--config", str(path), "--catalog",
                               str(SAMPLE / "catalog.json")], stdin=stdin, capture_output=True, timeout=timeout)
    return path, proc
