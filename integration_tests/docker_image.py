"""The connector's Docker image, built once per test session on a local engine.

`scripts/docker_env.sh build` makes the base image available (the pinned airbyte/python-connector-base,
or its stand-in where Docker Hub is unreachable) and builds the image from the repository's Dockerfile
(docker layer cache: a rebuild without changes takes seconds). Tests call `require_image()`:

* no engine answers, or the machine cannot provide BuildKit or a base image (docker_env.sh exits 3):
  the test is skipped with that reason; the suite never fails merely because of the machine;
* the build itself fails (a broken Dockerfile, an install step that fails): the test fails.

Containers run as the platform runs them: `docker run --rm -i IMAGE <command>`, messages on stdin and
stdout, plus the network flag the test needs (`--network none`, or `host` for the local Milvus server).
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import pytest

from .helpers import SECRETS, Run

REPO = Path(__file__).resolve().parent.parent
IMAGE = os.environ.get("DMZ_TEST_IMAGE", "airbyte/destination-milvus-zendesk:dev")
ENV_SCRIPT = REPO / "scripts" / "docker_env.sh"
UNAVAILABLE = 3  # docker_env.sh's exit code when the machine cannot provide an engine, BuildKit or a base
PROTOCOL_TYPES = {"LOG", "SPEC", "CONNECTION_STATUS", "STATE", "TRACE", "CONTROL"}
# The platform's rootless workloads (airbyte-platform workload launcher security context), locally:
ROOTLESS = ["--user", "1000:1000", "--cap-drop", "ALL", "--security-opt", "no-new-privileges"]
PLATFORM_GID = 1000  # the pod's fsGroup: mounted volumes are group-owned by it and group-writable


@functools.cache
def engine_problem() -> str | None:
    """Why no image can be built or run here, or None when a Docker engine answers."""
    if shutil.which("docker") is None:
        return "docker CLI not found: run `bash scripts/docker_env.sh` (as root it installs and starts an engine)"
    try:
        answer = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"], capture_output=True,
                                text=True, timeout=20)
    except subprocess.TimeoutExpired:
        return "`docker info` timed out: no usable Docker engine"
    if answer.returncode != 0 or not answer.stdout.strip():
        return ("no Docker engine answers (`docker info` fails): run `bash scripts/docker_env.sh` (as root it "
                "installs and starts one); without an engine, test_docker_replay.py replays the Dockerfile")
    return None


@dataclass(frozen=True)
class Built:
    image: str | None
    skip_reason: str = ""
    failure: str = ""
    seconds: float = 0.0


@functools.cache
def build() -> Built:
    """Builds IMAGE once per process (the outcome, good or bad, is cached for the session)."""
    import time

    problem = engine_problem()
    if problem:
        return Built(None, skip_reason=problem)
    started = time.monotonic()
    try:
        proc = subprocess.run(["bash", str(ENV_SCRIPT), "build", IMAGE], capture_output=True, text=True,
                              timeout=2400, cwd=REPO)
    except subprocess.TimeoutExpired:
        return Built(None, failure=f"`bash scripts/docker_env.sh build {IMAGE}` took over 40 minutes")
    last = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
    if proc.returncode == UNAVAILABLE:
        return Built(None, skip_reason=f"no image can be built on this machine: {last}")
    if proc.returncode != 0:
        return Built(None, failure=f"building the image failed: `bash scripts/docker_env.sh build {IMAGE}`: "
                                   f"{proc.stderr[-4000:]}")
    return Built(IMAGE, seconds=time.monotonic() - started)


def require_image() -> str:
    built = build()
    if built.skip_reason:
        pytest.skip(built.skip_reason)
    if built.failure:
        pytest.fail(built.failure, pytrace=False)
    assert built.image
    return built.image


def has_default_network() -> bool:
    """Whether a plain `docker run` (no --network) works: engines started with --bridge=none (as
    scripts/docker_env.sh does where it must start one) have no default bridge network."""
    return subprocess.run(["docker", "network", "inspect", "bridge"], capture_output=True).returncode == 0


# --- running containers ------------------------------------------------------------------------------


def docker_run(image: str, args: Iterable[str], *, flags: Iterable[str] = (), stdin: bytes = b"",
               secrets: Iterable[str] = (), timeout: float = 900) -> Run:
    """`docker run --rm -i [flags] IMAGE args...`: every stdout line must be an Airbyte message and no
    secret may show up on stdout or stderr."""
    cmd = ["docker", "run", "--rm", "-i", *flags, image, *args]
    proc = subprocess.run(cmd, input=stdin, capture_output=True, timeout=timeout)
    stdout, stderr = proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace")
    messages = []
    for line in stdout.splitlines():
        try:
            message = json.loads(line)
        except ValueError:
            raise AssertionError(f"a non-protocol line on stdout of {' '.join(cmd)}: {line[:300]!r}\n"
                                 f"stderr: {stderr[-2000:]}") from None
        assert message.get("type") in PROTOCOL_TYPES, line[:300]
        messages.append(message)
    for secret in [*SECRETS, *secrets]:
        assert secret not in stdout and secret not in stderr, f"secret leaked by the container: {secret[:6]}..."
    return Run(proc.returncode, messages, stdout, stderr)


def platform_volume(path: Path) -> Path:
    """Makes `path` a folder the container user can write, the way the platform's pods get volumes
    (fsGroup 1000: group-owned by gid 1000, group-writable, setgid), including what is in it already."""
    for p in [path, *path.rglob("*")]:
        os.chown(p, -1, PLATFORM_GID)
        os.chmod(p, (p.stat().st_mode | 0o060 | (0o2010 if p.is_dir() else 0)) & 0o7777)
    return path


def mount_same_path(path: Path) -> list[str]:
    """`-v PATH:PATH`: configs written for the host (Lite file paths) mean the same inside the container."""
    return ["-v", f"{path}:{path}"]
