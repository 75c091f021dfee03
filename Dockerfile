# Airbyte's Python connector layout: code in /airbyte/integration_code, `main.py` as entrypoint,
# AIRBYTE_ENTRYPOINT for the platform, the base image's non-root user.
#
# BASE_IMAGE defaults to the pinned base of metadata.yaml's connectorBuildOptions.baseImage
# (unit_tests/test_metadata.py checks they agree). Without Docker Hub, scripts/docker_env.sh builds
# a stand-in of it and passes `--build-arg BASE_IMAGE=...` (README, "Docker without Docker Hub").
# Needs BuildKit (RUN --mount). No `# syntax=` line on purpose: it would pull the Dockerfile
# frontend from Docker Hub; the builder's built-in frontend is enough.
# Without a Docker engine, scripts/replay_dockerfile.sh replays the COPY and RUN steps in a venv.
ARG BASE_IMAGE=docker.io/airbyte/python-connector-base:4.0.2@sha256:9fdb1888c4264cf6fee473649ecb593f56f58e5d0096a87ee0b231777e2e3e73
FROM ${BASE_IMAGE}

WORKDIR /airbyte/integration_code

# Only what the package needs: no tests, dev tools, demo data, docs or secrets.
COPY pyproject.toml README.md ./
COPY destination_milvus_zendesk ./destination_milvus_zendesk
# Behind a TLS-intercepting proxy, pass its CA bundle as the build secret `proxy_ca`
# (`--secret id=proxy_ca,src=/etc/ssl/certs/ca-certificates.crt`): it is mounted over the image's
# bundle for this step only and is in no layer. Without it, the image's own bundle is used.
# The dependencies' own test suites (pandas, numpy, pyarrow...: about 65 MB) are not needed at run time.
RUN --mount=type=secret,id=proxy_ca,target=/etc/ssl/certs/ca-certificates.crt \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt pip install --no-cache-dir . \
    && rm -rf build destination_milvus_zendesk.egg-info \
        /usr/local/lib/python3*/*-packages/*/tests /usr/local/lib/python3*/*-packages/*/*/tests
COPY main.py ./

# The base image's unprivileged user (uid 1000). Milvus Lite needs a writable folder for its .db
# file: mount one (Airbyte OSS mounts /local for local destinations) and point indexing.host into it.
USER airbyte

ENV AIRBYTE_ENTRYPOINT="python /airbyte/integration_code/main.py"
ENTRYPOINT ["python", "/airbyte/integration_code/main.py"]

LABEL io.airbyte.name=airbyte/destination-milvus-zendesk
LABEL io.airbyte.version=0.1.0
