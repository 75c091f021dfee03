"""The command lines of the repository's tools print what their functions return (each tool's
logic is unit-tested in process; here only the process boundary: arguments, stdout, signals)."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
from pathlib import Path

import openai

from test_support import zendesk_sample as zs

REPO = Path(__file__).resolve().parents[1]


def test_gen_config_docs_prints_the_table():
    script = REPO / "scripts" / "gen_config_docs.py"
    spec = importlib.util.spec_from_file_location("gen_config_docs", script)
    gen_config_docs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen_config_docs)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True, cwd=REPO).stdout
    assert out.strip() == gen_config_docs.table()


def test_the_sample_generator_prints_its_messages():
    args = ["--tickets", "40", "--articles", "6", "--seed", "3", "--mode", "update-metadata", "--state-every", "15"]
    out = subprocess.run([sys.executable, "-m", "test_support.zendesk_sample", *args],
                         cwd=REPO, capture_output=True, check=True).stdout.decode("utf-8")
    expected = [zs.dumps(m) for m in zs.generate_messages(n_tickets=40, n_articles=6, seed=3, mode="update-metadata",
                                                          state_every=15)]
    assert out.splitlines() == expected


def test_the_fake_openai_server_prints_its_port_and_stops_on_sigterm():
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen(
        [sys.executable, "-m", "test_support.fake_openai", "--port", "0", "--latency", "0.01", "--api-key", "sk-cli"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("listening on http://127.0.0.1:") and line.endswith("/v1")
        base_url = line.split("listening on ", 1)[1]
        client = openai.OpenAI(api_key="sk-cli", base_url=base_url, max_retries=0)
        assert len(client.embeddings.create(model="text-embedding-3-small", input="cli").data[0].embedding) == 1536
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert '"successful_requests": 1' in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
