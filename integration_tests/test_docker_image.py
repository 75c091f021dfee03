"""The Docker image, built from the repository's Dockerfile once per session and run exactly as the
platform runs connectors: `docker run --rm -i IMAGE spec|check|write`, messages on stdin/stdout.

* `spec`: exactly one valid SPEC;
* `check`, each its own container: Milvus Lite in a mounted writable folder with the offline local
  model and no network at all; the real Milvus server (auth on) and the OpenAI-compatible stub over
  the host network; every invalid config of acceptance-test-config.yml ends FAILED with its one-line
  message;
* `write` of the bundled sample, then a second sync with changed and deleted records: rows exact
  (compared with an oracle built from the connector's own chunker), 0 chunks re-embedded, every STATE
  echoed in order; the second sync runs as the platform's rootless workloads do
  (`--user 1000:1000 --cap-drop ALL --security-opt no-new-privileges`, a fsGroup-style volume);
* the image's user is uid/gid 1000, not root; with the platform's restrictions the process has no
  capability, no_new_privs set and a seccomp filter; the secrets of the mounted configs are in no image layer, not in
  `docker history` and not in any container's output (every run here is scanned).

Without a Docker engine (or where no base image can be had) every test here is skipped with the reason;
see integration_tests/docker_image.py and scripts/docker_env.sh.
"""

from __future__ import annotations

import json
import re
import subprocess
import tarfile
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml
from pymilvus import MilvusClient

from .acceptance_configs import GENERATED, INVALID_CONFIG_MESSAGES
from .docker_image import ROOTLESS, Run, docker_run, mount_same_path, platform_volume, require_image
from .helpers import SECRETS, TEST_OPENAI_KEY, Backend
from .reliability import Oracle, assert_exact, stored_rows

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "destination_milvus_zendesk" / "sample_data"
TEXT_FIELDS = ["body", "title", "description", "subject"]

pytestmark = pytest.mark.image_tests


@pytest.fixture(scope="module")
def image() -> str:
    return require_image()


@pytest.fixture
def data_dir(tmp_path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return platform_volume(path)


def lite_config(db: Path) -> dict[str, Any]:
    return {"processing": {"chunk_size": 1000, "text_fields": TEXT_FIELDS}, "embedding": {"mode": "local"},
            "indexing": {"host": str(db), "collection": "zendesk", "create_collection": True}}


def write_json(path: Path, value: Any) -> Path:
    path.write_text(json.dumps(value))
    return path


def one_line(run: Run) -> str:
    message = run.status.get("message") or ""
    assert "\n" not in message.strip(), f"a multi-line message: {message!r}"
    return message


# --- spec and the image itself ---------------------------------------------------------------------


def test_spec(image):
    run = docker_run(image, ["spec"], flags=["--network", "none"])
    assert run.returncode == 0, run.stderr[-3000:]
    [spec] = run.of_type("SPEC")
    props = spec["spec"]["connectionSpecification"]["properties"]
    assert {"processing", "embedding", "indexing"} <= set(props)
    from airbyte_cdk.models import AirbyteMessageSerializer

    for message in run.messages:  # each line is a valid protocol message, not just JSON
        AirbyteMessageSerializer.load(message)


def test_the_image_runs_as_a_non_root_user_without_privileges(image):
    """The image's own user is uid/gid 1000 (what the platform's rootless pods run as), and under the
    platform's restrictions the process has no capability, cannot gain privileges, and is seccomp-filtered
    (the engine's default profile, Kubernetes' RuntimeDefault)."""
    user = subprocess.run(["docker", "image", "inspect", "-f", "{{.Config.User}}", image], capture_output=True,
                          text=True, check=True).stdout.strip()
    assert user and user.split(":")[0] not in ("root", "0"), f"image user {user!r}"
    seccomp = "seccomp" in subprocess.run(["docker", "info", "--format", "{{json .SecurityOptions}}"],
                                          capture_output=True, text=True).stdout
    probe = subprocess.run(["docker", "run", "--rm", "--network", "none", *ROOTLESS[2:], "--entrypoint", "sh", image,
                            "-c", "id; grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status"],
                           capture_output=True, text=True, timeout=600)
    assert probe.returncode == 0, probe.stderr
    assert re.match(r"uid=1000\(airbyte\) gid=1000\(airbyte\)", probe.stdout), probe.stdout
    status = dict(re.findall(r"^(\w+):\s+(\S+)$", probe.stdout, flags=re.M))
    assert int(status["CapEff"], 16) == 0, status
    assert status["NoNewPrivs"] == "1", status
    if seccomp:
        assert status["Seccomp"] == "2", status  # 2: a seccomp filter is applied


# --- check ---------------------------------------------------------------------------------------------


def test_check_milvus_lite_offline(image, tmp_path, data_dir):
    """Milvus Lite in a mounted writable folder, the local model, `--network none`."""
    config = write_json(tmp_path / "config.json", lite_config(data_dir / "zendesk.db"))
    platform_volume(tmp_path)  # the mount: pytest makes it 0700 for root
    run = docker_run(image, ["check", "--config", str(config)], flags=["--network", "none", *mount_same_path(tmp_path)])
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.status["status"] == "SUCCEEDED", run.status


def test_check_milvus_server_with_auth_over_host_network(image, tmp_path, milvus_server, server_token, openai_stub):
    """The real server with authentication and the OpenAI-compatible stub, reached over the host network;
    the config's token and API key must not show up anywhere (docker_run scans)."""
    name = "dock_" + uuid.uuid4().hex[:10]
    config = {"processing": {"chunk_size": 1000, "text_fields": TEXT_FIELDS},
              "embedding": {"mode": "openai_compatible", "api_key": TEST_OPENAI_KEY, "base_url": openai_stub.base_url,
                            "model_name": "text-embedding-ada-002", "dimensions": 1536},
              "indexing": {"host": milvus_server.uri, "collection": name, "create_collection": True,
                           "auth": {"mode": "token", "token": server_token}, "timeout_seconds": 10}}
    path = write_json(tmp_path / "config.json", config)
    try:
        run = docker_run(image, ["check", "--config", "/secrets/config.json"],
                         flags=["--network", "host", "-v", f"{path}:/secrets/config.json:ro"], secrets=[server_token])
    finally:
        client = MilvusClient(uri=milvus_server.uri, token=milvus_server.token)
        client.drop_collection(name)
        client.close()
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.status["status"] == "SUCCEEDED", run.status
    assert openai_stub.stats()["requests"] >= 1  # the embedding credentials were really tried


def _invalid_configs() -> list[str]:
    config = yaml.safe_load((REPO / "acceptance-test-config.yml").read_text())
    return [t["config_path"] for t in config["acceptance_tests"]["connection"]["tests"] if t["status"] == "failed"]


def test_every_invalid_acceptance_config_fails_with_its_message(image, request, tmp_path):
    """Each invalid config of acceptance-test-config.yml in its own container (run side by side):
    FAILED, exit code 0, and the one-line message naming what to fix."""
    jobs = {}
    for config_path in _invalid_configs():
        stem = Path(config_path).stem
        if config_path.startswith("secrets/"):
            folder = tmp_path / stem
            folder.mkdir()
            config = GENERATED[stem](request, folder)
            platform_volume(folder)
            path = write_json(folder / "config.json", config)
            jobs[stem] = ["--network", "host", *mount_same_path(folder)], ["check", "--config", str(path)]
        else:  # committed, self-contained
            jobs[stem] = (["--network", "host", "-v", f"{REPO / config_path}:/secrets/config.json:ro"],
                          ["check", "--config", "/secrets/config.json"])
    assert set(jobs) == set(INVALID_CONFIG_MESSAGES), "acceptance-test-config.yml and the expected messages differ"
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        futures = {stem: pool.submit(docker_run, image, args, flags=flags) for stem, (flags, args) in jobs.items()}
        runs = {stem: future.result() for stem, future in futures.items()}
    for stem, run in runs.items():
        assert run.returncode == 0, f"{stem}: exit {run.returncode}: {run.stderr[-2000:]}"
        assert run.status["status"] == "FAILED", (stem, run.status)
        assert INVALID_CONFIG_MESSAGES[stem] in one_line(run), (stem, run.status["message"])


# --- write, twice ------------------------------------------------------------------------------------


def _sample() -> list[dict[str, Any]]:
    return [json.loads(line) for line in (SAMPLE / "zendesk_sample.jsonl").read_text().splitlines() if line.strip()]


def _second_sync(first: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Metadata-only changes to five tickets and CDC deletes of two tickets and one article, a STATE
    after each group: nothing to embed, three records to remove."""
    tickets = [m["record"] for m in first if m["type"] == "RECORD" and m["record"]["stream"] == "tickets"]
    articles = [m["record"] for m in first if m["type"] == "RECORD" and m["record"]["stream"] == "articles"]
    out: list[dict[str, Any]] = []
    for rec in tickets[:5]:
        data = {**rec["data"], "status": "solved", "updated_at": "2026-11-28T12:00:00Z", "tags": ["resynced"]}
        out.append({"type": "RECORD", "record": {**rec, "data": data, "emitted_at": rec["emitted_at"] + 1}})
    out.append({"type": "STATE", "state": {"type": "STREAM", "stream": {
        "stream_descriptor": {"name": "tickets"}, "stream_state": {"updated_at": "2026-11-28T12:00:00Z"}}}})
    for rec in [*tickets[5:7], articles[0]]:
        data = {**rec["data"], "updated_at": "2026-11-28T12:05:00Z", "_ab_cdc_deleted_at": "2026-11-28T12:05:00Z"}
        out.append({"type": "RECORD", "record": {**rec, "data": data, "emitted_at": rec["emitted_at"] + 2}})
    out.append({"type": "STATE", "state": {"type": "STREAM", "stream": {
        "stream_descriptor": {"name": "articles"}, "stream_state": {"updated_at": "2026-11-28T12:05:00Z"}}}})
    return out


def _done_line(run: Run) -> dict[str, int]:
    [line] = [m for m in run.logs() if m.startswith("done:")]
    figures = {}
    for key, pattern in {"records": r"(\d+) records,", "embedded": r"(\d+) chunks embedded",
                         "reused": r"(\d+) vectors reused", "deleted": r"(\d+) records deleted"}.items():
        figures[key] = int(re.search(pattern, line).group(1))
    return figures


def _assert_states_echoed(sent: list[dict[str, Any]], run: Run) -> None:
    sent_states = [m["state"] for m in sent if m["type"] == "STATE"]
    echoed = [m["state"] for m in run.of_type("STATE")]
    assert len(echoed) == len(sent_states), f"{len(echoed)} of {len(sent_states)} STATE messages echoed"
    for want, got in zip(sent_states, echoed):
        assert got["stream"]["stream_descriptor"] == want["stream"]["stream_descriptor"]
        assert got["stream"]["stream_state"] == want["stream"]["stream_state"]
        assert "recordCount" in got.get("destinationStats", {}), got


def test_write_then_resync_with_changes_and_deletes_rootless(image, tmp_path, data_dir):
    data = data_dir
    config = lite_config(data / "zendesk.db")
    config_path = write_json(tmp_path / "config.json", config)
    platform_volume(tmp_path)  # the mount: pytest makes it 0700 for root
    catalog_path = SAMPLE / "catalog.json"
    flags = ["--network", "none", *mount_same_path(tmp_path), "-v", f"{catalog_path}:/catalog/catalog.json:ro"]
    args = ["write", "--config", str(config_path), "--catalog", "/catalog/catalog.json"]

    first = _sample()
    run1 = docker_run(image, args, flags=flags, stdin="".join(json.dumps(m) + "\n" for m in first).encode())
    assert run1.returncode == 0, run1.stderr[-3000:]
    _assert_states_echoed(first, run1)
    backend = Backend("lite", str(data / "zendesk.db"), {"mode": "no_auth"}, None)
    oracle1 = Oracle(config, first)
    assert_exact(stored_rows(backend, "zendesk"), oracle1.expected())
    done1 = _done_line(run1)
    assert done1["records"] == sum(m["type"] == "RECORD" for m in first) and done1["embedded"] > 0, done1

    second = _second_sync(first)
    run2 = docker_run(image, args, flags=[*ROOTLESS, *flags],
                      stdin="".join(json.dumps(m) + "\n" for m in second).encode())
    assert run2.returncode == 0, run2.stderr[-3000:]
    _assert_states_echoed(second, run2)
    oracle2 = Oracle(config, first + second)
    assert_exact(stored_rows(backend, "zendesk"), oracle2.expected())
    done2 = _done_line(run2)
    assert done2["embedded"] == 0, f"the second sync re-embedded {done2['embedded']} chunks: {done2}"
    assert done2["deleted"] == 3 and done2["reused"] > 0, done2
    assert len(oracle2.expected()) == len(oracle1.expected()) - 3


# --- secrets --------------------------------------------------------------------------------------


def _layers_of(image: str) -> list[str]:
    out = subprocess.run(["docker", "image", "inspect", "-f", "{{json .RootFS.Layers}}", image], capture_output=True,
                         text=True, check=True).stdout
    return json.loads(out)


def test_secrets_are_in_no_layer_and_not_in_history(image, tmp_path):
    """The repository's git-ignored secrets/ configs (written by the standard suite; they hold the test
    server's password and the stub's API key) and the build's proxy-CA secret must not reach the image."""
    (REPO / "secrets").mkdir(exist_ok=True)
    canary = REPO / "secrets" / "docker_canary.json"  # a secret in the build context, in case none is there
    canary.write_text(json.dumps({"api_key": TEST_OPENAI_KEY, "password": SECRETS[1]}))
    try:
        rebuilt = subprocess.run(["bash", "scripts/docker_env.sh", "build", image], capture_output=True, text=True,
                                 cwd=REPO, timeout=1800)
    finally:
        canary.unlink()
    assert rebuilt.returncode == 0, rebuilt.stderr[-3000:]
    history = subprocess.run(["docker", "history", "--no-trunc", "--format", "{{.CreatedBy}}", image],
                             capture_output=True, text=True, check=True).stdout
    for secret in SECRETS:
        assert secret not in history
    assert "proxy_ca" in history  # the secret mount is named in the step ...
    assert "BEGIN CERTIFICATE" not in history  # ... its content is not

    base = rebuilt.stdout.strip().splitlines()[-1].removeprefix("BASE_IMAGE=")
    ours = _layers_of(image)[len(_layers_of(base)):]  # the layers the Dockerfile added
    assert ours, "no layers of our own?"
    archive = tmp_path / "image.tar"
    subprocess.run(["docker", "save", "-o", str(archive), image], check=True, timeout=900)
    scanned = _scan_layers(archive, len(ours))
    assert scanned["files"] > 1000, scanned
    assert not scanned["leaks"], f"secrets in image layers: {scanned['leaks'][:5]}"
    assert not scanned["forbidden"], f"files that must not be in the image: {scanned['forbidden'][:5]}"


def _scan_layers(archive: Path, count: int) -> dict[str, Any]:
    """Reads the last `count` layers of a `docker save` archive: secrets in any file, or files that
    must not be there (secret mounts, the CA bundle, the build context's local state)."""
    needles = [s.encode() for s in SECRETS]
    forbidden = re.compile(r"(^|/)(run/secrets/|secrets/|\.venv/|demo-data/|\.git/)|ca-certificates\.crt$")
    leaks, bad, files = [], [], 0
    with tarfile.open(archive) as outer:
        manifest = json.load(outer.extractfile("manifest.json"))
        for layer in manifest[0]["Layers"][-count:]:
            with tarfile.open(fileobj=outer.extractfile(layer)) as inner:
                for member in inner:
                    if forbidden.search(member.name):
                        bad.append(member.name)
                    if not member.isfile():
                        continue
                    files += 1
                    blob = inner.extractfile(member).read()
                    leaks += [f"{member.name}: {n[:6].decode()}..." for n in needles if n in blob]
    return {"files": files, "leaks": leaks, "forbidden": bad}
