"""The `spec` command's ConnectorSpecification, generated from the configuration model.

`entrypoint.py` prints it without loading the CDK or pymilvus (a cold `spec` stays a fraction of a
second); the CDK's `spec()` parses the same dict, so both paths say the same.
"""

from __future__ import annotations

import copy
from typing import Any

from .model import ConnectorConfig

def _without_null_option(node: dict[str, Any]) -> dict[str, Any]:
    """`anyOf: [X, null]` (pydantic's Optional) as X itself; several options left become `oneOf`."""
    if "anyOf" in node and any(isinstance(o, dict) and o.get("type") == "null" for o in node["anyOf"]):
        options = [o for o in node.pop("anyOf") if o.get("type") != "null"]
        if len(options) == 1:
            node = {**options[0], **node}
        else:
            node["oneOf"] = options
    return node


DOCS_URL = "https://github.com/destination-milvus-zendesk/destination-milvus-zendesk/blob/main/docs/milvus-zendesk.md"


def spec_payload() -> dict[str, Any]:
    """The ConnectorSpecification as protocol JSON."""
    return {
        "documentationUrl": DOCS_URL,
        "supportsIncremental": True,
        "supportsNormalization": False,
        "supportsDBT": False,
        "supported_destination_sync_modes": ["overwrite", "append", "append_dedup"],
        "connectionSpecification": spec_schema(),
    }


def spec_schema() -> dict[str, Any]:
    """JSON schema for the spec: references inlined, pydantic's discriminator objects removed."""
    schema = ConnectorConfig.model_json_schema()
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                target = copy.deepcopy(defs[node["$ref"].split("/")[-1]])
                extra = {k: v for k, v in node.items() if k != "$ref"}
                return inline({**target, **extra})
            return _without_null_option({k: inline(v) for k, v in node.items() if k != "discriminator"})
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    schema = inline(schema)
    schema["required"] = ["embedding", "indexing"]
    return schema
