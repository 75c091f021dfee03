"""The process entry point (`main.py`, the `destination-milvus-zendesk` script, the Docker image).

`spec` is answered from the configuration model alone: it needs neither the CDK nor pymilvus, whose
imports take ~1.3 s and ~180 MiB (the platform runs `spec` often, each time in a new container).
Every other command goes through the CDK (`destination.py`).
"""

from __future__ import annotations

import sys


def run(args: list[str] | None = None) -> None:
    args = sys.argv[1:] if args is None else args
    if args == ["spec"]:
        import orjson

        from .config import spec_payload

        sys.stdout.write(orjson.dumps({"type": "SPEC", "spec": spec_payload()}).decode() + "\n")
        sys.stdout.flush()
        return
    from airbyte_cdk.logger import init_logger

    from .destination import DestinationMilvusZendesk

    init_logger("airbyte")
    # orjson accepts JSON nested up to 1024 levels; json.dumps (text of nested fields, metadata) needs
    # as many Python frames, more than the default limit of 1000 leaves: a legal record must not crash.
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 4000))
    # stdout is a pipe: block-buffered, a STATE could sit in the buffer (and die with a killed process)
    # long after its records were stored. One line per message, flushed as it is printed.
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(line_buffering=True)
    DestinationMilvusZendesk().run(args)
