#!/usr/bin/env bash
# The main job on the embedded default: install, sync the bundled Zendesk sample into Milvus Lite
# with the offline local embedding model, run support-form lookups. No API key needed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m destination_milvus_zendesk.demo "$@"
