#!/usr/bin/env bash
# Creates ./.venv with the connector and, with --test, everything the test suite needs
# (pytest, streamlit, the Milvus 2.3.5 server wheel, the Zendesk source's JSON schemas, and
# PyAirbyte with source-faker in .venv-pyairbyte). Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
  .venv/bin/pip install -q --upgrade pip
fi
# pip install -e rebuilds the package every time (~10 s): skipped while pyproject.toml is the one it
# was installed from and the package imports.
install_once() {  # $1: stamp name, then pip's arguments
  local stamp=".venv/.dmz-installed-$1" want
  shift
  want="$(sha256sum pyproject.toml | cut -d' ' -f1) $*"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && .venv/bin/python -c 'import destination_milvus_zendesk' 2>/dev/null; then
    echo "setup: .venv is up to date with pyproject.toml (pip install skipped; delete $stamp to force it)"
    return 0
  fi
  .venv/bin/pip install -q "$@"
  echo "$want" > "$stamp"
}
if [ "${1:-}" = "--test" ]; then
  install_once test -e ".[test,app]" "milvus==2.3.5"
  # Only its JSON schemas are used (tests validate our fixtures against them); its own
  # dependencies pin another airbyte-cdk, so it is installed without them.
  .venv/bin/pip install -q --no-deps "airbyte-source-zendesk-support==4.9.1"
  # PyAirbyte (integration_tests/test_pyairbyte.py) gets its own venv: its pins would downgrade
  # the connector's protobuf, rich and pyarrow. Installed with uv (a PyAirbyte dependency anyway;
  # ~11 s here against ~100 s with pip); skipped when the pinned version is already there.
  if [ ! -x .venv-pyairbyte/bin/python ]; then
    "$PYTHON" -m venv .venv-pyairbyte
  fi
  if ! .venv-pyairbyte/bin/python -c \
      'import importlib.metadata as m, sys; sys.exit(m.version("airbyte") != "0.71.3")' 2>/dev/null; then
    .venv-pyairbyte/bin/pip install -q uv
    .venv-pyairbyte/bin/uv pip install -q --python .venv-pyairbyte/bin/python "airbyte==0.71.3"
  fi
  # PyAirbyte installs source-faker (PyPI) into .venv-pyairbyte/connectors itself; doing it here
  # keeps the test to the sync. Skipped when the pinned version is there.
  FAKER_PY=.venv-pyairbyte/connectors/.venv-source-faker/bin/python
  if ! "$FAKER_PY" -c 'import importlib.metadata as m, sys
sys.exit(m.version("airbyte-source-faker") != "7.2.1")' 2>/dev/null; then
    PATH="$PWD/.venv-pyairbyte/bin:$PATH" AIRBYTE_OFFLINE_MODE=1 DO_NOT_TRACK=1 \
      .venv-pyairbyte/bin/python integration_tests/pyairbyte_sync.py --install-only >/dev/null 2>&1 || {
        echo "setup: installing source-faker through PyAirbyte failed; rerun to see why:" >&2
        echo "  PATH=\"$PWD/.venv-pyairbyte/bin:\$PATH\" AIRBYTE_OFFLINE_MODE=1" \
             ".venv-pyairbyte/bin/python integration_tests/pyairbyte_sync.py --install-only" >&2
        exit 1
      }
  fi
else
  install_once app -e ".[app]"
fi
