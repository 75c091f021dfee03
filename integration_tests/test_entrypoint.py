"""`spec` is answered without the CDK or pymilvus, and says exactly what the CDK's path says."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

from airbyte_cdk.models import AirbyteMessage, AirbyteMessageSerializer, Type

from destination_milvus_zendesk.destination import DestinationMilvusZendesk

REPO = Path(__file__).resolve().parent.parent


def test_spec_fast_path_prints_what_the_cdk_would():
    out = subprocess.run([sys.executable, "main.py", "spec"], cwd=REPO, capture_output=True, text=True, check=True)
    lines = out.stdout.splitlines()
    assert len(lines) == 1 and out.stderr == ""
    cdk = AirbyteMessageSerializer.dump(AirbyteMessage(type=Type.SPEC,
                                                       spec=DestinationMilvusZendesk().spec(logging.getLogger())))
    assert json.loads(lines[0]) == json.loads(json.dumps(cdk))
    assert cdk["spec"]["supported_destination_sync_modes"] == ["overwrite", "append", "append_dedup"]


def test_spec_loads_neither_the_cdk_nor_pymilvus():
    probe = ("import sys; from destination_milvus_zendesk.entrypoint import run; run(['spec']); "
             "print(sorted(m for m in ('airbyte_cdk', 'pymilvus', 'openai', 'pandas') if m in sys.modules), "
             "file=sys.stderr)")
    out = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stderr.strip() == "[]"
    assert json.loads(out.stdout)["type"] == "SPEC"


def test_other_commands_still_go_through_the_cdk(tmp_path):
    out = subprocess.run([sys.executable, "main.py", "check", "--config", str(tmp_path / "missing.json")], cwd=REPO,
                         capture_output=True, text=True)
    messages = [json.loads(line) for line in out.stdout.splitlines()]
    status = [m for m in messages if m["type"] == "CONNECTION_STATUS"]
    assert status and status[0]["connectionStatus"]["status"] == "FAILED"
    assert "Cannot read the configuration file" in status[0]["connectionStatus"]["message"]
