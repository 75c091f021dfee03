"""What the package's own command-line tools (the query CLI, migrate) share about their arguments."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

USAGE_EXIT = 2  # argparse's own status for a usage error


def print_error(message: str, kind: str, as_json: bool) -> None:
    """A failure as the tools print it: `{"error", "kind"}` on stdout under --json (where the caller
    reads), else one line on stderr (stdout stays the answers)."""
    if as_json:
        print(json.dumps({"error": message, "kind": kind}))
    else:
        print(f"error: {message}", file=sys.stderr)


class JsonUsageParser(argparse.ArgumentParser):
    """argparse, except that with --json a usage error is a JSON object on stdout too: a script
    reading the JSON gets an answer it can parse whatever went wrong."""

    json_errors = False

    def error(self, message: str) -> Any:  # type: ignore[override]
        if self.json_errors:
            print(json.dumps({"error": f"{message} (see --help)", "kind": "usage"}))
            sys.exit(USAGE_EXIT)
        super().error(message)
