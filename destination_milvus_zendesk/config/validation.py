"""A raw config (a JSON object) into a `ConnectorConfig`, or one line that says what to fix.

Every message names the key as the user's config spells it (`indexing.host`, not pydantic's
`indexing.token.host`), lists the allowed values where there is a fixed set, and for a key the model
does not know suggests the one probably meant: a misspelled optional key (`chunk_sise`) would
otherwise be ignored silently and its default used. Unknown keys with no near match are kept as
warnings (a config saved by another version of the official connector may carry some).
"""

from __future__ import annotations

import difflib
import typing
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from ..errors import ConfigError
from .model import ConnectorConfig

SUGGESTION_CUTOFF = 0.7  # difflib ratio: "chunk_sise"/"chunk_size" 0.9, "hots"/"host" 0.75


@dataclass(frozen=True)
class UnknownKey:
    path: str  # as the config spells it: "processing.chunk_sise"
    suggestion: str | None  # the known key probably meant ("chunk_size"), or None

    def describe(self) -> str:
        return f"'{self.path}' (did you mean '{self.suggestion}'?)" if self.suggestion else f"'{self.path}'"


def parse_config(raw: dict[str, Any]) -> ConnectorConfig:
    """Validate a raw config; a failure is one config_error line naming the key and the fix.
    Unknown keys without a near match are left on the result (`ignored_keys`) for the caller to warn about."""
    unknown = unknown_keys(raw)
    try:
        config = ConnectorConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_first_error(raw, exc, unknown)) from None
    typos = [key for key in unknown if key.suggestion]
    if typos:
        raise ConfigError(f"Invalid configuration: unknown key{'s' if len(typos) > 1 else ''} "
                          f"{', '.join(key.describe() for key in typos)}: fix the spelling (a key that is not "
                          "read leaves its setting at the default).")
    config._ignored_keys = [key.path for key in unknown]
    return config


def ignored_keys(config: ConnectorConfig) -> list[str]:
    """Keys of the raw config that no setting reads (no near match to suggest), for a warning."""
    return list(config._ignored_keys)


def _first_error(raw: dict[str, Any], exc: ValidationError, unknown: list[UnknownKey]) -> str:
    first = exc.errors()[0]
    where = _config_path(raw, first["loc"])
    kind = first.get("type")
    if kind == "missing":
        parent, _, name = where.rpartition(".")
        misspelled = [key for key in unknown if key.suggestion == name and key.path.rpartition(".")[0] == parent]
        if misspelled:
            return (f"Invalid configuration at '{where}': missing, but the config has '{misspelled[0].path}': "
                    f"did you mean '{name}'?")
        target = f"the '{parent}' object" if parent else "the config"
        return f"Invalid configuration at '{where}': required: add '{name}' to {target}."
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return _mode_error(raw, where, first)
    message = str(first["msg"]).removeprefix("Value error, ")
    return f"Invalid configuration at '{where}': {message}."


def _mode_error(raw: dict[str, Any], where: str, error: dict[str, Any]) -> str:
    """A discriminated union (`embedding`, `indexing.auth`, `processing.text_splitter`) with a wrong or missing mode."""
    tags = _modes_at(where)
    allowed = ", ".join(tags)
    given = error.get("ctx", {}).get("tag")
    if given is None:
        return f"Invalid configuration at '{where}.mode': required: one of {allowed}."
    close = difflib.get_close_matches(str(given), tags, n=1, cutoff=0.6)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return f"Invalid configuration at '{where}.mode': '{given}' is not a mode; use one of {allowed}{hint}."


def _modes_at(where: str) -> list[str]:
    """The modes the union at this config path accepts (`embedding` -> openai, azure_openai, ...)."""
    annotation: Any = ConnectorConfig
    for part in where.split("."):
        models = _models_in(annotation)
        field = models[0].model_fields.get(part) if len(models) == 1 else None
        if field is None:
            return []
        annotation = field.annotation
    return [str(m.model_fields["mode"].default) for m in _models_in(annotation) if "mode" in m.model_fields]


def unknown_keys(raw: Any) -> list[UnknownKey]:
    """Every key of `raw` the model does not read, with the known key it is closest to (if close enough)."""
    found: list[UnknownKey] = []
    _walk(raw, ConnectorConfig, "", found)
    return found


def _walk(raw: Any, model: type[BaseModel], prefix: str, found: list[UnknownKey]) -> None:
    if not isinstance(raw, dict):
        return
    fields = model.model_fields
    for key, value in raw.items():
        path = f"{prefix}{key}"
        field = fields.get(key)
        if field is None:
            close = difflib.get_close_matches(str(key), list(fields), n=1, cutoff=SUGGESTION_CUTOFF)
            found.append(UnknownKey(path, close[0] if close else None))
            continue
        for item, sub_path in _items(value, path):
            inner = _model_for(field.annotation, item)
            if inner is not None:
                _walk(item, inner, f"{sub_path}.", found)


def _items(value: Any, path: str) -> list[tuple[Any, str]]:
    if isinstance(value, list):
        return [(item, f"{path}.{i}") for i, item in enumerate(value)]
    return [(value, path)]


def _model_for(annotation: Any, raw: Any) -> type[BaseModel] | None:
    """The model class an object in the config is validated with: for a union, the member whose `mode`
    the object names (None when it names none: the validation error says so)."""
    if not isinstance(raw, dict):
        return None
    members = [m for m in _models_in(annotation)]
    if len(members) == 1:
        return members[0]
    for member in members:
        mode = member.model_fields.get("mode")
        if mode is not None and mode.default == raw.get("mode"):
            return member
    return None


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in typing.get_args(annotation) for model in _models_in(arg)]


def _config_path(raw: Any, loc: tuple[Any, ...]) -> str:
    """The error's location as the user's config spells it: pydantic puts the discriminated union's tag in
    the path (`embedding.openai.openai_key`), a key that is not in the config (`embedding.openai_key`)."""
    parts: list[str] = []
    node = raw
    tag_skipped = False
    for part in loc:
        text = str(part)
        if text.startswith(("function-", "tagged-union")):
            continue
        if not tag_skipped and isinstance(node, dict) and part not in node and node.get("mode") == part:
            tag_skipped = True  # the union tag: this object's own `mode`, once
            continue
        tag_skipped = False
        parts.append(text)
        node = node.get(part) if isinstance(node, dict) else (
            node[part] if isinstance(node, list) and isinstance(part, int) and part < len(node) else None)
    return ".".join(parts)
