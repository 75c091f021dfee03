"""A PyAirbyte sync: source-faker (from PyPI) -> destination-milvus-zendesk -> Milvus Lite.

Runs with the PyAirbyte venv's interpreter (`.venv-pyairbyte/bin/python`, made by
`scripts/setup.sh --test`), not with the connector's: PyAirbyte pins older protobuf, rich and
pyarrow than the connector uses, so the two live in separate venvs and talk over the Airbyte
protocol, as on the platform. `integration_tests/test_pyairbyte.py` runs it and reads the rows back.

    python integration_tests/pyairbyte_sync.py --install-only          # pre-install source-faker
    python integration_tests/pyairbyte_sync.py --db /tmp/x.db --destination <console script>

Prints one JSON line with what PyAirbyte reported. Needs AIRBYTE_OFFLINE_MODE=1 here (no
connector registry to ask: the source comes from an explicit pip_url) and the venv's bin on PATH
(PyAirbyte installs connectors with `uv`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

SOURCE_FAKER = "airbyte-source-faker==7.2.1"
REPO = Path(__file__).resolve().parent.parent
DEFAULT_INSTALL_ROOT = REPO / ".venv-pyairbyte" / "connectors"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--install-only", action="store_true", help="install source-faker and stop")
    parser.add_argument("--install-root", type=Path, default=DEFAULT_INSTALL_ROOT)
    parser.add_argument("--db", type=Path, help="Milvus Lite file to write to")
    parser.add_argument("--collection", default="faker")
    parser.add_argument("--destination", help="path of the destination-milvus-zendesk console script")
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--syncs", type=int, default=2, help="run the same sync this many times")
    parser.add_argument("--strategy", default="auto", choices=["auto", "append", "merge", "replace"],
                        help="PyAirbyte write strategy of every sync")
    parser.add_argument("--counts", help="comma-separated source-faker counts, one sync each (overrides --syncs)")
    args = parser.parse_args()

    import airbyte as ab
    from airbyte.strategies import WriteStrategy

    args.install_root.mkdir(parents=True, exist_ok=True)
    source = ab.get_source(
        "source-faker",
        config={"count": args.count, "seed": 7, "parallelism": 1},
        pip_url=SOURCE_FAKER,
        install_root=args.install_root,
        install_if_missing=True,
    )
    if args.install_only:
        print(json.dumps({"installed": str(args.install_root / ".venv-source-faker")}))
        return 0

    source.select_streams(["users", "products"])
    destination = ab.get_destination(
        "destination-milvus-zendesk",
        config={
            "processing": {"chunk_size": 500, "text_fields": ["name", "email", "occupation", "make", "model"]},
            "embedding": {"mode": "fake"},
            "indexing": {"host": str(args.db), "collection": args.collection, "create_collection": True},
        },
        local_executable=args.destination,
    )
    destination.check()  # raises if the connector reports FAILED
    written = []
    counts = [int(c) for c in args.counts.split(",")] if args.counts else [args.count] * args.syncs
    for count in counts:  # default: twice, the second sync must dedup, not duplicate (write strategy AUTO = merge)
        source.set_config({"count": count, "seed": 7, "parallelism": 1})
        result = destination.write(source, cache=False, write_strategy=WriteStrategy(args.strategy))
        written.append(result.processed_records)
    print(json.dumps({"written": written, "pyairbyte": ab.__version__ if hasattr(ab, "__version__") else None}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
