# syntax=docker/dockerfile:1
# Airbyte's Python connector layout: code in /airbyte/integration_code, `main.py` as entrypoint,
# AIRBYTE_ENTRYPOINT for the platform, a non-root user. The base image is pinned by digest and
# is the same as metadata.yaml's connectorBuildOptions.baseImage (unit_tests/test_metadata.py
# checks they agree). No Docker engine in CI: scripts/replay_dockerfile.sh replays the COPY and
# RUN steps below in a fresh venv and runs `spec`/`check` through the ENTRYPOINT.
FROM docker.io/airbyte/python-connector-base:4.0.2@sha256:9fdb1888c4264cf6fee473649ecb593f56f58e5d0096a87ee0b231777e2e3e73

WORKDIR /airbyte/integration_code

# Only what the package needs: no tests, dev tools, demo data, docs or secrets.
COPY pyproject.toml README.md ./
COPY destination_milvus_zendesk ./destination_milvus_zendesk
RUN pip install --no-cache-dir . && rm -rf build destination_milvus_zendesk.egg-info
COPY main.py ./

# The base image's unprivileged user. Milvus Lite needs a writable folder for its .db file:
# mount one (Airbyte OSS mounts /local for local destinations) and point indexing.host into it.
USER airbyte

ENV AIRBYTE_ENTRYPOINT="python /airbyte/integration_code/main.py"
ENTRYPOINT ["python", "/airbyte/integration_code/main.py"]

LABEL io.airbyte.name=airbyte/destination-milvus-zendesk
LABEL io.airbyte.version=0.1.0
