"""Reading the JSON files a command is given (`--config`, `--catalog`): a missing, unreadable or
malformed file is one line naming the file and the problem, for the connector and the query CLI alike."""

from __future__ import annotations

import json
from typing import Any

from ..errors import ConfigError


def read_json_object(path: str, what: str = "configuration file") -> dict[str, Any]:
    """The file's JSON object; anything else raises ConfigError with one actionable line."""
    try:
        with open(path, encoding="utf-8") as handle:
            raw = json.load(handle)
    except OSError as exc:
        raise ConfigError(f"Cannot read the {what} {path!r}: {exc.strerror or exc}.") from None
    except ValueError as exc:
        where = f"line {exc.lineno} column {exc.colno}: {exc.msg}" if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise ConfigError(f"The {what} {path!r} is not valid JSON ({where}): fix the file.") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"The {what} {path!r} must hold a JSON object, not a {type(raw).__name__}.")
    return raw
