"""airbyte-cdk's standard destination tests (`DestinationTestSuiteBase`), run in-process.

The suite collects one scenario per config listed in `acceptance-test-config.yml` (repo root):
`test_config_matches_spec` validates each config against our spec, `test_check` runs `check` and
asserts the declared `status` plus that no `airbyte_secret` value shows up in the output.

Configs under `secrets/` are written by `_scenario_config` below just before each test (built by
acceptance_configs.py), since they need what exists only at test time (server URI and token, the
OpenAI stub's port, a Milvus Lite file, collections of a given shape).

The suite's Docker image tests run on the image built from this repository's Dockerfile
(`connector_image_override`, integration_tests/docker_image.py) and are skipped with the reason when no
engine answers. The suite's own build path is never taken (it needs the Airbyte monorepo and fetches
Airbyte's Dockerfile template from the internet); its spec backward-compatibility test needs a version
published in Airbyte's registry; its in-image check mounts only the config file, so only the
self-contained scenario runs there (test_docker_image.py runs them all with the mounts they need). On an
engine without a default network (scripts/docker_env.sh's) its `docker run`s get `--network none`.
"""

from __future__ import annotations

import json
import os
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

from destination_milvus_zendesk.destination import DestinationMilvusZendesk

from .acceptance_configs import GENERATED, INVALID_CONFIG_MESSAGES
from .docker_image import has_default_network, require_image
from .helpers import REPO

CONNECTOR_NAME = "destination-milvus-zendesk"


@pytest.fixture
def connector_image_override() -> str:
    """The image under test: DMZ_CONNECTOR_IMAGE (the suite's `--connector-image`), else the image built
    from this repository's Dockerfile (integration_tests/docker_image.py; skipped without an engine).

    Never None: with None the suite builds an image itself, from Airbyte's Dockerfile template that it
    fetches from the internet, inside the Airbyte monorepo ("Could not find the Airbyte repository root
    directory" here) - structural needs a standalone repository cannot meet; that template is not our
    Dockerfile anyway."""
    return os.environ.get("DMZ_CONNECTOR_IMAGE") or require_image()


@pytest.fixture
def connector_base_image_override() -> str | None:
    return None


# `docker run ... spec` outcomes per command line: an image's spec does not change within a session (the
# suite caches it per image too), so the per-scenario config-vs-spec tests share one container
_SPEC_RUNS: dict[tuple[str, ...], Any] = {}


def _as_this_engine_allows(run: Callable[..., Any]) -> Callable[..., Any]:
    """The suite's `docker run --rm IMAGE ...` commands, unchanged except on an engine without a default
    network (scripts/docker_env.sh starts dockerd with --bridge=none where it must start one): there
    they get `--network none`. Nothing the suite runs here needs a network."""
    no_default_network = not has_default_network()

    def wrapped(cmd: list[str], **kwargs: Any) -> Any:
        if no_default_network and cmd[:2] == ["docker", "run"] and "--network" not in cmd:
            cmd = [*cmd[:2], "--network", "none", *cmd[2:]]
        if cmd[-1] != "spec":
            return run(cmd, **kwargs)
        key = tuple(cmd)
        if key not in _SPEC_RUNS:
            _SPEC_RUNS[key] = run(cmd, **kwargs)
        return _SPEC_RUNS[key]

    return wrapped


def _image_check_skip_reason(scenario: Any) -> str | None:
    """Why the suite's in-image `check` cannot test this scenario, or None when it can."""
    if scenario.config_path is not None and scenario.config_path.stem == "invalid_config_unreachable_host":
        return None  # self-contained: an endpoint nothing listens on, from any container too
    return ("structural: the suite's in-image check mounts only the config file and uses the default network, "
            "so this scenario's Milvus Lite file or test server on the host's loopback is out of the "
            "container's reach; integration_tests/test_docker_image.py runs every acceptance config in its "
            "own container with the mounts and network it needs")


# --- the suite ---------------------------------------------------------------------------------


class TestDestinationMilvusZendesk(DestinationTestSuiteBase):
    # no `connector = ...`: the suite discovers it by its convention, destination_milvus_zendesk.DestinationMilvusZendesk
    # the suite derives the name from the folder, which is a clone's name here, not the connector's
    connector_name = CONNECTOR_NAME

    @pytest.fixture(autouse=True)
    def _scenario_config(self, request: pytest.FixtureRequest, tmp_path: Path) -> None:
        callspec = getattr(request.node, "callspec", None)
        scenario = callspec.params.get("scenario") if callspec else None
        if scenario is None or scenario.config_path is None or scenario.config_path.parts[0] != "secrets":
            return
        if request.node.get_closest_marker("image_tests"):
            # skip before creating collections for a test that cannot run
            if request.node.originalname == "test_docker_image_build_and_check":
                reason = _image_check_skip_reason(scenario)
                if reason:
                    pytest.skip(reason)
            require_image()
        build = GENERATED[scenario.config_path.stem]
        target = REPO / scenario.config_path
        target.parent.mkdir(exist_ok=True)
        config = build(request, tmp_path)
        target.write_text(json.dumps(config, indent=2))
        if config["indexing"]["host"].endswith(".db"):
            # the suite runs `check` in-process: stop the Milvus Lite server it started for the file
            from milvus_lite.server_manager import server_manager_instance

            request.addfinalizer(lambda: server_manager_instance.release_server(config["indexing"]["host"]))

    @pytest.fixture
    def _docker_here(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from airbyte_cdk.test.standard_tests import docker_base

        monkeypatch.setattr(docker_base, "run_docker_airbyte_command",
                            _as_this_engine_allows(docker_base.run_docker_airbyte_command))

    # --- our additions, credential-free ----------------------------------------------------------

    def test_the_suite_discovers_the_connector_by_convention(self) -> None:
        import destination_milvus_zendesk

        assert self.connector is DestinationMilvusZendesk
        assert destination_milvus_zendesk.DestinationMilvusZendesk is DestinationMilvusZendesk

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
        expected = INVALID_CONFIG_MESSAGES
        if scenario.id not in expected:
            pytest.skip("a valid config")
        result = run_test_job(self.create_connector(scenario), "check", test_scenario=scenario,
                              connector_root=self.get_connector_root_dir())
        [status] = [m.connectionStatus for m in result.connection_status_messages]
        assert expected[scenario.id] in status.message, status.message

    # --- the suite's image tests, on the image built from our Dockerfile ------------------------------

    @pytest.mark.image_tests
    def test_docker_image_build_and_spec(self, connector_image_override, connector_base_image_override,
                                         _docker_here) -> None:
        super().test_docker_image_build_and_spec(connector_image_override, connector_base_image_override)

    @pytest.mark.image_tests
    def test_docker_image_spec_backward_compatibility(self) -> None:
        pytest.skip("structural: compares with the spec of the version published in Airbyte's connector registry "
                    "(connectors.airbyte.com, on the internet); this connector is not published there")

    @pytest.mark.image_tests
    def test_docker_image_build_and_check(self, scenario, connector_image_override, connector_base_image_override,
                                          _docker_here) -> None:
        reason = _image_check_skip_reason(scenario)
        if reason:
            pytest.skip(reason)
        super().test_docker_image_build_and_check(scenario, connector_image_override, connector_base_image_override)

    @pytest.mark.image_tests
    def test_docker_image_build_and_config_matches_spec(self, scenario, connector_image_override,
                                                        connector_base_image_override, _docker_here) -> None:
        super().test_docker_image_build_and_config_matches_spec(scenario, connector_image_override,
                                                                connector_base_image_override)

    def test_docker_image_build_and_discover(self) -> None:
        pytest.skip("a destination has no discover")

    def test_docker_image_build_and_read(self) -> None:
        pytest.skip("a destination has no read")
