"""airbyte-cdk's standard destination tests (`DestinationTestSuiteBase`), run in-process.

The suite collects one scenario per config listed in `acceptance-test-config.yml` (repo root):
`test_config_matches_spec` validates each config against our spec, `test_check` runs `check` and
asserts the declared `status` plus that no `airbyte_secret` value shows up in the output.

Configs under `secrets/` are written by `_scenario_config` below just before each test, since they
need what exists only at test time (server URI and token, the OpenAI stub's port, a Milvus Lite
file, collections of a given shape). The suite's Docker image tests need a Docker engine: they run
when one answers and are skipped with that reason otherwise (this machine has the docker CLI but
no daemon).
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml
from airbyte_cdk.test.standard_tests import DestinationTestSuiteBase
from airbyte_cdk.test.standard_tests._job_runner import run_test_job
from airbyte_cdk.test.standard_tests._spec_lint import assert_spec_is_valid, get_single_spec
# The suite parametrizes its tests with `scenario` through this hook; importing it here scopes it
# to this module (a `pytest_plugins` entry would need a root conftest.py).
from airbyte_cdk.test.standard_tests.pytest_hooks import pytest_generate_tests  # noqa: F401
from pymilvus import MilvusClient

from destination_milvus_zendesk.destination import DestinationMilvusZendesk

from .conftest import TEST_OPENAI_KEY, create_tutorial_collection

REPO = Path(__file__).resolve().parent.parent
CONNECTOR_NAME = "destination-milvus-zendesk"
TEXT_FIELDS = ["body", "title", "description", "subject"]


# --- the generated configs ---------------------------------------------------------------------


def _processing() -> dict[str, Any]:
    return {"chunk_size": 1000, "text_fields": TEXT_FIELDS}


def _server_collection(request: pytest.FixtureRequest, dim: int) -> tuple[Any, str]:
    """A tutorial-shaped collection on the test server, dropped after the test."""
    server = request.getfixturevalue("milvus_server")
    name = "std_" + uuid.uuid4().hex[:10]
    client = MilvusClient(uri=server.uri, token=server.token)
    create_tutorial_collection(client, name, dim=dim)
    client.close()

    def drop() -> None:
        c = MilvusClient(uri=server.uri, token=server.token)
        try:
            c.drop_collection(name)
        finally:
            c.close()

    request.addfinalizer(drop)
    return server, name


def config_lite(request: pytest.FixtureRequest, tmp: Path) -> dict[str, Any]:
    """The offline setup: Milvus Lite file, local embedding model, collection created on first sync."""
    return {"processing": _processing(), "embedding": {"mode": "local"},
            "indexing": {"host": str(tmp / "zendesk.db"), "collection": "zendesk", "create_collection": True}}


def config_server(request: pytest.FixtureRequest, tmp: Path) -> dict[str, Any]:
    """Real server with auth, the tutorial's hand-made collection, OpenAI-compatible embeddings."""
    server, name = _server_collection(request, 1536)
    token = request.getfixturevalue("server_token")
    stub = request.getfixturevalue("openai_stub")
    return {"processing": _processing(),
            "embedding": {"mode": "openai_compatible", "api_key": TEST_OPENAI_KEY, "base_url": stub.base_url,
                          "model_name": "text-embedding-ada-002", "dimensions": 1536},
            "indexing": {"host": server.uri, "collection": name, "auth": {"mode": "token", "token": token},
                         "timeout_seconds": 10}}


def invalid_config_missing_collection(request: pytest.FixtureRequest, tmp: Path) -> dict[str, Any]:
    server = request.getfixturevalue("milvus_server")
    token = request.getfixturevalue("server_token")
    return {"processing": _processing(), "embedding": {"mode": "fake"},
            "indexing": {"host": server.uri, "collection": "missing_" + uuid.uuid4().hex[:10],
                         "auth": {"mode": "token", "token": token}, "timeout_seconds": 10}}


def invalid_config_wrong_dimension(request: pytest.FixtureRequest, tmp: Path) -> dict[str, Any]:
    """A 768-d tutorial collection in a Lite file, while the fake embedder produces 1536-d vectors."""
    path = tmp / "wrong_dim.db"
    client = MilvusClient(uri=str(path))
    create_tutorial_collection(client, "zendesk", dim=768)
    client.close()
    from milvus_lite.server_manager import server_manager_instance

    server_manager_instance.release_server(str(path))  # the connector opens the file next
    return {"processing": _processing(), "embedding": {"mode": "fake"},
            "indexing": {"host": str(path), "collection": "zendesk"}}


def invalid_config_bad_token(request: pytest.FixtureRequest, tmp: Path) -> dict[str, Any]:
    server = request.getfixturevalue("milvus_server")
    return {"processing": _processing(), "embedding": {"mode": "fake"},
            "indexing": {"host": server.uri, "collection": "zendesk",
                         "auth": {"mode": "token", "token": "root:Wrong-Password-5e1d"}, "timeout_seconds": 10}}


GENERATED: dict[str, Callable[[pytest.FixtureRequest, Path], dict[str, Any]]] = {
    f.__name__: f for f in (config_lite, config_server, invalid_config_missing_collection,
                            invalid_config_wrong_dimension, invalid_config_bad_token)
}


@pytest.fixture
def connector_image_override() -> str | None:
    """The suite's `--connector-image` option, as an environment variable here."""
    import os

    return os.environ.get("DMZ_CONNECTOR_IMAGE") or None


@pytest.fixture
def connector_base_image_override() -> str | None:
    return None


@functools.cache
def _docker_engine_problem() -> str | None:
    """Why the image tests cannot run here, or None when a Docker engine answers."""
    if shutil.which("docker") is None:
        return "docker CLI not found"
    try:
        answer = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"], capture_output=True,
                                text=True, timeout=20)
    except subprocess.TimeoutExpired:
        return "`docker info` timed out: no usable Docker engine"
    if answer.returncode != 0 or not answer.stdout.strip():
        return ("no Docker engine answers (`docker info` fails): the image tests need one to build and run the "
                "image; scripts/replay_dockerfile.sh replays the Dockerfile's install steps instead")
    return None


def _require_docker_engine() -> None:
    problem = _docker_engine_problem()
    if problem:
        pytest.skip(problem)


# --- the suite ---------------------------------------------------------------------------------


class TestDestinationMilvusZendesk(DestinationTestSuiteBase):
    connector = DestinationMilvusZendesk
    # the suite derives the name from the folder, which is a clone's name here, not the connector's
    connector_name = CONNECTOR_NAME

    @pytest.fixture(autouse=True)
    def _scenario_config(self, request: pytest.FixtureRequest, tmp_path: Path) -> None:
        callspec = getattr(request.node, "callspec", None)
        scenario = callspec.params.get("scenario") if callspec else None
        if scenario is None or scenario.config_path is None or scenario.config_path.parts[0] != "secrets":
            return
        if request.node.get_closest_marker("image_tests"):
            _require_docker_engine()  # skip before creating collections for a test that cannot run
        build = GENERATED[scenario.config_path.stem]
        target = REPO / scenario.config_path
        target.parent.mkdir(exist_ok=True)
        config = build(request, tmp_path)
        target.write_text(json.dumps(config, indent=2))
        if config["indexing"]["host"].endswith(".db"):
            # the suite runs `check` in-process: stop the Milvus Lite server it started for the file
            from milvus_lite.server_manager import server_manager_instance

            request.addfinalizer(lambda: server_manager_instance.release_server(config["indexing"]["host"]))

    # --- our additions, credential-free ----------------------------------------------------------

    def test_spec_lint(self) -> None:
        """What the suite's image spec test asserts, on the in-process spec (secrets marked, etc.)."""
        result = run_test_job(self.create_connector(None), "spec", connector_root=self.get_connector_root_dir())
        assert_spec_is_valid(get_single_spec(result, connector_name=CONNECTOR_NAME), connector_name=CONNECTOR_NAME)

    def test_every_generated_config_is_listed(self) -> None:
        config = yaml.safe_load((REPO / "acceptance-test-config.yml").read_text())
        listed = {Path(t["config_path"]) for section in config["acceptance_tests"].values() for t in section["tests"]}
        assert {p.stem for p in listed if p.parts[0] == "secrets"} == set(GENERATED)
        for path in listed:
            if path.parts[0] != "secrets":
                assert (REPO / path).is_file(), f"committed config {path} is missing"
        ids = [s.id for s in self.get_scenarios()]
        assert len(ids) == len(set(ids)) == 6, ids
        statuses = {s.id: s.status for s in self.get_scenarios()}
        assert statuses == {"config_lite": "succeed", "config_server": "succeed",
                            "invalid_config_missing_collection": "failed", "invalid_config_wrong_dimension": "failed",
                            "invalid_config_bad_token": "failed", "invalid_config_unreachable_host": "failed"}

    def test_invalid_configs_fail_for_their_reason(self, scenario) -> None:
        """The suite only asserts FAILED; each invalid config must fail for the reason it stands for."""
        expected = {
            "invalid_config_missing_collection": "does not exist in database 'default'",
            "invalid_config_wrong_dimension": "stores 768-dimensional vectors",
            "invalid_config_bad_token": "refused the session: check indexing.auth",
            "invalid_config_unreachable_host": "Milvus endpoint 127.0.0.1:1 is unreachable",
        }
        if scenario.id not in expected:
            pytest.skip("a valid config")
        result = run_test_job(self.create_connector(scenario), "check", test_scenario=scenario,
                              connector_root=self.get_connector_root_dir())
        [status] = [m.connectionStatus for m in result.connection_status_messages]
        assert expected[scenario.id] in status.message, status.message

    # --- image tests: only with a Docker engine ----------------------------------------------------

    @pytest.mark.image_tests
    def test_docker_image_build_and_spec(self, connector_image_override, connector_base_image_override) -> None:
        _require_docker_engine()
        super().test_docker_image_build_and_spec(connector_image_override, connector_base_image_override)

    @pytest.mark.image_tests
    def test_docker_image_spec_backward_compatibility(self, connector_image_override,
                                                      connector_base_image_override) -> None:
        _require_docker_engine()
        super().test_docker_image_spec_backward_compatibility(connector_image_override, connector_base_image_override)

    @pytest.mark.image_tests
    def test_docker_image_build_and_check(self, scenario, connector_image_override,
                                          connector_base_image_override) -> None:
        _require_docker_engine()
        super().test_docker_image_build_and_check(scenario, connector_image_override, connector_base_image_override)

    @pytest.mark.image_tests
    def test_docker_image_build_and_config_matches_spec(self, scenario, connector_image_override,
                                                        connector_base_image_override) -> None:
        _require_docker_engine()
        super().test_docker_image_build_and_config_matches_spec(scenario, connector_image_override,
                                                                connector_base_image_override)

    def test_docker_image_build_and_discover(self) -> None:
        pytest.skip("a destination has no discover")

    def test_docker_image_build_and_read(self) -> None:
        pytest.skip("a destination has no read")
