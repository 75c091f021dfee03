"""Where the form and the CLI find the collection and the embedding model: the connector's config
file, or the tutorial's environment variables."""

from __future__ import annotations

import os

from ..config import ConnectorConfig, parse_config, read_json_object
from ..errors import ConfigError


def config_from_env(collection: str | None = None) -> ConnectorConfig:
    """The tutorial's environment: MILVUS_URL, MILVUS_TOKEN, OPENAI_API_KEY."""
    url = os.environ.get("MILVUS_URL")
    key = os.environ.get("OPENAI_API_KEY")
    if not url or not key:
        raise ConfigError("set MILVUS_URL and OPENAI_API_KEY (and MILVUS_TOKEN if the server needs one), "
                          "or pass --config with the connector's config file")
    token = os.environ.get("MILVUS_TOKEN")
    auth = {"mode": "token", "token": token} if token else {"mode": "no_auth"}
    return parse_config({
        "embedding": {"mode": "openai", "openai_key": key,
                      "model": os.environ.get("OPENAI_EMBEDDING_MODEL", "text-embedding-ada-002")},
        "indexing": {"host": url, "collection": collection or os.environ.get("MILVUS_COLLECTION", "zendesk"),
                     "auth": auth},
    })


def load_config(path: str | None, collection: str | None = None) -> ConnectorConfig:
    if path:
        raw = read_json_object(path)
        if collection:
            raw.setdefault("indexing", {})["collection"] = collection
        return parse_config(raw)
    return config_from_env(collection)
