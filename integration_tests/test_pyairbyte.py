"""PyAirbyte drives the connector: source-faker from PyPI -> our console script -> Milvus Lite.

PyAirbyte lives in `.venv-pyairbyte` (it would downgrade the connector's protobuf, rich and
pyarrow), made by `scripts/setup.sh --test`, which also pre-installs source-faker there the way
PyAirbyte does. The sync runs twice with PyAirbyte's default write strategy (merge, i.e.
append_dedup): the second one must leave exactly one row per record.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from .helpers import Backend, rows

REPO = Path(__file__).resolve().parent.parent
PYAIRBYTE_PYTHON = Path(os.environ.get("DMZ_PYAIRBYTE_PYTHON", REPO / ".venv-pyairbyte" / "bin" / "python"))
SETUP_HINT = "run `bash scripts/setup.sh --test` (it creates .venv-pyairbyte with PyAirbyte and source-faker)"


@pytest.mark.slow
def test_pyairbyte_source_faker_into_milvus_lite(tmp_path):
    assert PYAIRBYTE_PYTHON.exists(), f"{PYAIRBYTE_PYTHON} is missing: {SETUP_HINT}"
    console_script = Path(sys.executable).parent / "destination-milvus-zendesk"
    assert console_script.exists(), (f"{console_script} is missing: the console script comes with "
                                     "`pip install .` (or `pip install -e .`) into this venv")
    db = tmp_path / "faker.db"
    env = {**os.environ, "AIRBYTE_OFFLINE_MODE": "1", "DO_NOT_TRACK": "1",
           "AIRBYTE_LOGGING_ROOT": str(tmp_path / "logs"), "AIRBYTE_PROJECT_DIR": str(tmp_path),
           "PATH": f"{PYAIRBYTE_PYTHON.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    proc = subprocess.run([str(PYAIRBYTE_PYTHON), str(REPO / "integration_tests" / "pyairbyte_sync.py"),
                           "--db", str(db), "--destination", str(console_script), "--count", "50"],
                          capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)
    assert proc.returncode == 0, f"stdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-5000:]}"
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["written"] == [100, 100], report

    found = rows(Backend("lite", str(db), {"mode": "no_auth"}, None), "faker")
    assert Counter(r["_ab_stream"] for r in found) == {"users": 50, "products": 50}  # deduped, not 200
    for stream in ("users", "products"):
        assert sorted(r["_id"] for r in found if r["_ab_stream"] == stream) == list(range(1, 51))
    user = next(r for r in found if r["_ab_record_id"] == "users_1")
    assert user["text"].startswith("name: ") and "email: " in user["text"]
    assert isinstance(user["address"], dict) and user["address"].get("city")  # nested object kept as JSON
    product = next(r for r in found if r["_ab_record_id"] == "products_1")
    assert product["text"] == f"make: {product['make']}\nmodel: {product['model']}"
