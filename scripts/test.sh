#!/usr/bin/env bash
# The test command: installs what the tests need, then runs every suite (unit, Milvus Lite,
# the real Milvus server with authentication, which the suite starts and stops itself).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
