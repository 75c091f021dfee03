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


LOOPBACK = {"127.0.0.1", "localhost", "::1"}
ALLOW_NETWORK = "SUPPORT_FORM_ALLOW_NETWORK"


def network_exposure(address: str | None, allowed: bool) -> str | None:
    """Why the form would serve ticket data to other machines with no login of its own, or None. Streamlit
    listens on every interface unless `server.address` says otherwise; the repository's .streamlit/
    config.toml sets 127.0.0.1, but it only applies when `streamlit run` starts from the repository."""
    if allowed or (address or "").strip() in LOOPBACK:
        return None
    where = f"on {address}" if address and address.strip() else "on every network interface"
    return (f"The support form is listening {where}: it shows ticket data and has no login, so it does not "
            "answer. Run it with --server.address 127.0.0.1 (or from the repository, whose .streamlit/config.toml "
            f"sets it), or put it behind an authenticating reverse proxy and set {ALLOW_NETWORK}=1 "
            "(docs/milvus-zendesk.md, 'Serving the support form to others').")

