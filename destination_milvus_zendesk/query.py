"""The lookup CLI's documented entry point: `python -m destination_milvus_zendesk.query --help`.
The code lives in the `support` package (support/cli.py)."""

from __future__ import annotations

import sys

from .support.cli import main

if __name__ == "__main__":
    sys.exit(main())
