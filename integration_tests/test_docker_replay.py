"""The Dockerfile without a Docker engine: scripts/replay_dockerfile.sh replays its COPY/RUN steps in
a fresh venv and runs `spec` and `check` through its ENTRYPOINT. The replay must pass on the real
Dockerfile and must fail when an install step or an Airbyte image convention breaks."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "replay_dockerfile.sh"


def replay(*args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, timeout=timeout, cwd=REPO)


@pytest.mark.slow
def test_the_dockerfile_installs_and_runs():
    result = replay()
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-5000:]
    assert "OK `spec`: SPEC" in result.stdout
    assert "OK `check`: CONNECTION_STATUS" in result.stdout
    assert re.search(r"^replay: RUN .*\bpip install\b", result.stdout, flags=re.M)  # the install step really ran
    assert "FROM docker.io/airbyte/python-connector-base:4.0.2@sha256:" in result.stdout  # the ARG's default


def _mutated(tmp_path: Path, old: str, new: str) -> str:
    text = (REPO / "Dockerfile").read_text()
    assert re.search(old, text, flags=re.M), f"the Dockerfile no longer has {old!r}: update this test"
    path = tmp_path / "Dockerfile"
    path.write_text(re.sub(old, new, text, count=1, flags=re.M))
    return str(path)


BROKEN = {
    "install step fails": (r"pip install --no-cache-dir \.(?= )", "pip install --no-cache-dir ./no-such-dir",
                           "RUN failed with exit code"),
    "copied file missing": (r"^COPY main.py \./", "COPY main_missing.py ./", "does not exist in the context"),
    "base image not pinned": (r"@sha256:[0-9a-f]{64}", "", "is not pinned by digest"),
    "runs as root": (r"^USER airbyte", "USER root", "non-root USER"),
    "entrypoint mismatch": (r'^ENV AIRBYTE_ENTRYPOINT="python ', 'ENV AIRBYTE_ENTRYPOINT="python3 ', "differs from ENTRYPOINT"),
    "step not replayable": (r"^COPY main.py \./", "RUN apt-get update\nCOPY main.py ./", "cannot be replayed outside Docker"),
    "multi-stage": (r"^WORKDIR", "FROM scratch AS other\nWORKDIR", "exactly one FROM"),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_dockerfile_fails_the_replay(case, tmp_path):
    old, new, message = BROKEN[case]
    result = replay("--dockerfile", _mutated(tmp_path, old, new), "--no-check", timeout=300)
    assert result.returncode != 0, result.stdout[-3000:]
    assert message in result.stderr, result.stderr[-3000:]
