"""metadata.yaml: Airbyte's connector metadata conventions, and consistency with the package,
the spec, the Dockerfile and acceptance-test-config.yml.

No PyPI package publishes the metadata schema's models (airbyte-ci's `metadata_service` is not on
PyPI, and the installed airbyte-cdk 7.39 only has the lenient `MetadataFile` its image build
reads). So the constraints of Airbyte's published schema, `ConnectorMetadataDefinitionV0.yaml`
(airbyte-ci/connectors/metadata_service/lib/metadata_service/models/src/ in airbytehq/airbyte):
required fields, enums, formats, no unknown keys - are restated below as pydantic models, and the
file is also loaded with the CDK's `MetadataFile`, which the CDK's image build uses.
"""

from __future__ import annotations

import re
import tomllib
import uuid
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Any, Literal

import pytest
import yaml
from pydantic import AnyUrl, BaseModel, ConfigDict, Field, ValidationError

ROOT = Path(__file__).resolve().parents[1]
METADATA = ROOT / "metadata.yaml"


# --- the documented schema (ConnectorMetadataDefinitionV0) ----------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConnectorSubtype(str, Enum):
    api = "api"
    database = "database"
    datalake = "datalake"
    file = "file"
    custom = "custom"
    message_queue = "message_queue"
    unknown = "unknown"
    vectorstore = "vectorstore"


class BuildOptions(_Strict):
    baseImage: str | None = None


class SuiteOption(_Strict):
    suite: Literal["unitTests", "integrationTests", "acceptanceTests", "liveTests"]
    testSecrets: list[dict[str, Any]] | None = None
    testConnections: list[dict[str, Any]] | None = None


class ExternalDoc(_Strict):
    title: str
    url: AnyUrl
    type: Literal["api_deprecations", "api_reference", "api_release_history", "authentication_guide",
                  "data_model_reference", "developer_community", "migration_guide", "openapi_spec", "other",
                  "permissions_scopes", "rate_limits", "sql_reference", "status_page"] | None = None
    requiresLogin: bool | None = False


class RegistryOverride(_Strict):
    enabled: bool
    name: str | None = None
    dockerRepository: str | None = None
    dockerImageTag: str | None = None
    supportsDbt: bool | None = None
    supportsNormalization: bool | None = None
    license: str | None = None
    documentationUrl: AnyUrl | None = None
    connectorSubtype: str | None = None
    allowedHosts: dict[str, Any] | None = None
    normalizationConfig: dict[str, Any] | None = None
    suggestedStreams: dict[str, Any] | None = None
    resourceRequirements: dict[str, Any] | None = None


class RegistryOverrides(_Strict):
    oss: RegistryOverride | None = None
    cloud: RegistryOverride | None = None


class AllowedHosts(BaseModel):
    hosts: list[str] | None = None


class Resources(_Strict):
    cpu_request: str | None = None
    cpu_limit: str | None = None
    memory_request: str | None = None
    memory_limit: str | None = None


class JobResources(_Strict):
    jobType: Literal["get_spec", "check_connection", "discover_schema", "sync", "reset_connection",
                     "connection_updater", "replicate"]
    resourceRequirements: Resources


class ResourceRequirements(_Strict):
    default: Resources | None = None
    jobSpecific: list[JobResources] | None = None


class AirbyteInternal(BaseModel):
    sl: Literal[0, 100, 200, 300] | None = None
    ql: Literal[0, 100, 200, 300, 400, 500, 600] | None = None
    isEnterprise: bool | None = False
    requireVersionIncrementsInPullRequests: bool | None = True


class BreakingChange(_Strict):
    upgradeDeadline: date
    message: str
    deadlineAction: Literal["auto_upgrade", "disable"] | None = None
    migrationDocumentationUrl: AnyUrl | None = None
    scopedImpact: list[dict[str, Any]] | None = Field(default=None, min_length=1)


class Releases(_Strict):
    rolloutConfiguration: dict[str, Any] | None = None
    breakingChanges: dict[str, BreakingChange] | None = None
    migrationDocumentationUrl: AnyUrl | None = None


class Data(_Strict):
    name: str
    icon: str | None = None
    definitionId: uuid.UUID
    connectorBuildOptions: BuildOptions | None = None
    connectorTestSuitesOptions: list[SuiteOption] | None = None
    connectorType: Literal["destination", "source"]
    dockerRepository: str
    dockerImageTag: str
    supportsDbt: bool | None = None
    supportsNormalization: bool | None = None
    license: str
    documentationUrl: AnyUrl
    externalDocumentationUrls: list[ExternalDoc] | None = None
    githubIssueLabel: str
    maxSecondsBetweenMessages: int | None = None
    releaseDate: date | None = None
    protocolVersion: str | None = None
    erdUrl: str | None = None
    connectorSubtype: ConnectorSubtype
    releaseStage: Literal["alpha", "beta", "generally_available", "custom"]
    supportLevel: Literal["community", "certified", "archived"] | None = None
    tags: list[str] | None = []
    registryOverrides: RegistryOverrides | None = None
    allowedHosts: AllowedHosts | None = None
    releases: Releases | None = None
    normalizationConfig: dict[str, Any] | None = None
    suggestedStreams: dict[str, Any] | None = None
    resourceRequirements: ResourceRequirements | None = None
    ab_internal: AirbyteInternal | None = None
    remoteRegistries: dict[str, Any] | None = None
    supportsRefreshes: bool | None = False
    generated: dict[str, Any] | None = None
    supportsFileTransfer: bool | None = False
    supportsDataActivation: bool | None = False
    connectorIPCOptions: dict[str, Any] | None = None


class MetadataDefinitionV0(_Strict):
    metadataSpecVersion: str
    data: Data


# --- fixtures -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    return yaml.safe_load(METADATA.read_text())


@pytest.fixture(scope="module")
def metadata(raw) -> Data:
    return MetadataDefinitionV0.model_validate(raw).data


@pytest.fixture(scope="module")
def pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


@pytest.fixture(scope="module")
def spec():
    import logging

    from destination_milvus_zendesk.destination import DestinationMilvusZendesk

    return DestinationMilvusZendesk().spec(logging.getLogger("test"))


# --- the schema -----------------------------------------------------------------------------------


def test_metadata_matches_the_documented_schema(raw):
    MetadataDefinitionV0.model_validate(raw)
    assert raw["metadataSpecVersion"] == "1.0"


@pytest.mark.parametrize("break_it, where", [
    (lambda d: d["data"].pop("githubIssueLabel"), "githubIssueLabel"),
    (lambda d: d["data"].update(connectorSubtype="vector_store"), "connectorSubtype"),
    (lambda d: d["data"].update(releaseStage="ga"), "releaseStage"),
    (lambda d: d["data"].update(definitionId="not-a-uuid"), "definitionId"),
    (lambda d: d["data"].update(dockerImagetag="0.1.0"), "dockerImagetag"),  # a typo is an unknown key
    (lambda d: d["data"]["ab_internal"].update(sl=150), "sl"),
    (lambda d: d.update(extra=True), "extra"),
])
def test_the_schema_check_is_not_vacuous(raw, break_it, where):
    import copy

    broken = copy.deepcopy(raw)
    break_it(broken)
    with pytest.raises(ValidationError, match=where):
        MetadataDefinitionV0.model_validate(broken)


def test_the_cdk_reads_it():
    from airbyte_cdk.models.connector_metadata import ConnectorLanguage, MetadataFile

    parsed = MetadataFile.from_file(METADATA)
    assert parsed.data.language == ConnectorLanguage.PYTHON
    assert parsed.data.connectorBuildOptions.baseImage.startswith("docker.io/airbyte/python-connector-base:")


# --- conventions and consistency ------------------------------------------------------------------


def test_identity_matches_the_package(metadata, pyproject):
    assert metadata.connectorType == "destination" and pyproject["name"].startswith("destination-")
    assert metadata.connectorSubtype == ConnectorSubtype.vectorstore
    assert metadata.dockerImageTag == pyproject["version"]
    assert metadata.dockerRepository == f"airbyte/{pyproject['name']}"
    assert metadata.githubIssueLabel == pyproject["name"]
    assert metadata.license == pyproject["license"] == "MIT"
    assert metadata.releaseStage == "alpha" and metadata.supportLevel == "community"
    assert {"language:python", "cdk:python"} <= set(metadata.tags)
    assert metadata.definitionId.version == 4
    assert metadata.name


def test_the_license_is_an_spdx_string_so_installs_print_no_deprecation():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["license"] == "MIT"
    assert "setuptools>=77" in pyproject["build-system"]["requires"]


def test_documentation_url_is_the_spec_one_and_points_at_the_docs(metadata, spec):
    assert str(metadata.documentationUrl) == spec.documentationUrl
    assert spec.documentationUrl.endswith("/docs/milvus-zendesk.md")
    assert (ROOT / "docs" / "milvus-zendesk.md").is_file()


def test_base_image_is_pinned_and_the_dockerfile_uses_it(metadata):
    base = metadata.connectorBuildOptions.baseImage
    assert re.fullmatch(r"docker\.io/airbyte/python-connector-base:\d+\.\d+\.\d+@sha256:[0-9a-f]{64}", base), base
    dockerfile = (ROOT / "Dockerfile").read_text()
    # `ARG BASE_IMAGE=<pinned base>` then `FROM ${BASE_IMAGE}`: the default is the pinned base (a
    # stand-in is passed with --build-arg only where Docker Hub is unreachable, scripts/docker_env.sh)
    [from_line] = [line for line in dockerfile.splitlines() if line.startswith("FROM ")]
    assert from_line.split()[1] == "${BASE_IMAGE}"
    [arg_line] = [line for line in dockerfile.splitlines() if line.startswith("ARG BASE_IMAGE=")]
    assert arg_line.split("=", 1)[1] == base
    labels = dict(re.findall(r"^LABEL (\S+)=(\S+)$", dockerfile, flags=re.M))
    assert labels == {"io.airbyte.name": metadata.dockerRepository, "io.airbyte.version": metadata.dockerImageTag}


def test_allowed_hosts_name_real_config_fields(metadata, spec):
    """`${a.b}` placeholders are config paths the platform resolves: each must exist in the spec."""
    props = spec.connectionSpecification["properties"]
    placeholders = [h[2:-1] for h in metadata.allowedHosts.hosts if h.startswith("${")]
    assert placeholders, "the Milvus endpoint must be allowed"
    assert "indexing.host" in placeholders
    for path in placeholders:
        group, field = path.split(".")
        node = props[group]
        options = node.get("oneOf") or [node]
        assert any(field in option.get("properties", {}) for option in options), path
    assert "api.openai.com" in metadata.allowedHosts.hosts


def test_acceptance_config_names_the_image(metadata):
    config = yaml.safe_load((ROOT / "acceptance-test-config.yml").read_text())
    assert config["connector_image"] == f"{metadata.dockerRepository}:dev"


def test_resource_requirements_are_quantities(metadata):
    for job in metadata.resourceRequirements.jobSpecific:
        for value in job.resourceRequirements.model_dump(exclude_none=True).values():
            assert re.fullmatch(r"\d+(\.\d+)?(Mi|Gi|m)?", value), value


def test_refreshes_are_declared_and_the_suite_that_backs_them_exists(metadata):
    """`supportsRefreshes` makes the platform offer refreshes and send COMPLETE stream statuses; it is
    declared because integration_tests/test_refresh.py checks the behaviour the platform then expects."""
    assert metadata.supportsRefreshes is True
    assert (ROOT / "integration_tests" / "test_refresh.py").is_file()
