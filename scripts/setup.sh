#!/usr/bin/env bash
# Creates ./.venv with the connector and, with --test, everything the test suite needs
# (pytest, streamlit, the Milvus 2.3.5 server wheel, the Zendesk source's JSON schemas).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
  .venv/bin/pip install -q --upgrade pip
fi
if [ "${1:-}" = "--test" ]; then
  .venv/bin/pip install -q -e ".[test,app]" "milvus==2.3.5"
  # Only its JSON schemas are used (tests validate our fixtures against them); its own
  # dependencies pin another airbyte-cdk, so it is installed without them.
  .venv/bin/pip install -q --no-deps "airbyte-source-zendesk-support==4.9.1"
else
  .venv/bin/pip install -q -e ".[app]"
fi
