"""What only a fresh interpreter can show: nothing depends on the str-hash salt, and the Milvus
client's loggers are quietened by connecting, not as a side effect of importing the store."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

from destination_milvus_zendesk.embedding.hashing import feature_hash_embeddings

REPO = Path(__file__).resolve().parents[1]
TEXTS = ["My printer is broken and shows error E42", "Ünïcödé тикет 日本語 text with émojis 🙂"]


def test_hashed_vectors_do_not_depend_on_the_hash_salt():
    code = ("import json,sys\n"
            "from destination_milvus_zendesk.embedding.hashing import feature_hash_embeddings\n"
            "print(json.dumps(feature_hash_embeddings(json.loads(sys.argv[1]), 96)))\n")
    expected = feature_hash_embeddings(TEXTS, 96)
    for seed in ("0", "12345"):  # a different str-hash salt must not matter
        env = dict(os.environ, PYTHONHASHSEED=seed, PYTHONPATH=str(REPO))
        out = subprocess.run([sys.executable, "-c", code, json.dumps(TEXTS)], env=env, cwd=REPO,
                             capture_output=True, text=True, timeout=60, check=True).stdout
        assert json.loads(out) == expected


def test_client_loggers_are_silenced_by_connecting_not_by_importing(tmp_path):
    code = ("import logging\n"
            "from destination_milvus_zendesk.config import IndexingConfig\n"
            "from destination_milvus_zendesk.milvus import MilvusStore\n"
            "levels = lambda: (logging.getLogger('pymilvus').level, logging.getLogger('grpc._server').level)\n"
            "print(*levels())\n"
            f"store = MilvusStore(IndexingConfig(host={str(tmp_path / 'x.db')!r}, collection='c'))\n"
            "store.connect(create=True); store.close()\n"
            "print(*levels())\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    before, after = out.stdout.split("\n")[-3:-1]
    assert logging.CRITICAL not in map(int, before.split())
    assert after.split() == [str(logging.CRITICAL)] * 2
