"""Record -> document: the text to embed, the metadata to store, the record's identity.

Field selection follows the official connector (dot paths, `*` wildcards, empty list = every
field) so configs move over unchanged. Metadata is made safe for Milvus here, once: legal names,
no collision with the collection's own fields, bounded sizes. Anything trimmed is reported back
as a warning so the writer can count it; nothing is dropped silently.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import math
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import orjson

from .config import ProcessingConfig
from .schema import BOOKKEEPING_PREFIX

CDC_DELETED_FIELD = "_ab_cdc_deleted_at"
INT64_MIN, INT64_MAX = -(2 ** 63), 2 ** 63 - 1  # integers Milvus JSON fields hold
MAX_RECORD_ID_BYTES = 2000  # connector-created collections store _ab_record_id as VARCHAR(2048)
MAX_NAME_LENGTH = 255  # Milvus field-name limit
MAX_VALUE_CHARS = 8_000  # one metadata string value; longer values are truncated (counted)
MAX_METADATA_BYTES = 48_000  # all dynamic fields of a row; Milvus refuses JSON rows over 64 KiB
_ILLEGAL_NAME_CHARS = re.compile(r"[^A-Za-z0-9_]")
_LOOKS_LIKE_HTML = re.compile(r"<\s*/?\s*[a-zA-Z][a-zA-Z0-9]*(\s[^<>]*)?/?\s*>")


class Notice(str):
    """A warning's text that knows its kind: the end-of-sync summary counts warnings by kind (the
    text without the per-record detail), so nothing has to parse its own messages."""

    kind: str

    def __new__(cls, kind: str, detail: str = "") -> "Notice":
        notice = super().__new__(cls, kind + detail)
        notice.kind = kind
        return notice


@dataclass
class Document:
    stream: str
    record_id: str | None
    text: str
    metadata: dict[str, Any]
    deleted: bool = False
    vector: list[float] | None = None
    warnings: list[Notice] = field(default_factory=list)


# --- HTML ----------------------------------------------------------------------------------------

_BLOCK_TAGS = {"p", "div", "section", "article", "header", "footer", "table", "tr", "blockquote", "pre",
               "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "dl", "figure", "hr"}
_SKIP_TAGS = {"script", "style", "head", "noscript", "template"}


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skip += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag in ("br", "td", "th", "dt", "dd"):
            self.parts.append("\n" if tag == "br" else " ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS or tag == "li":
            self.parts.append("\n\n" if tag in _BLOCK_TAGS else "")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Readable plain text: paragraphs kept as blank-line breaks, list items as '- ', entities decoded."""
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    text = "".join(parser.parts).replace("\xa0", " ")
    lines = [re.sub(r"[ \t\r\f\v]+", " ", line).strip() for line in text.split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def looks_like_html(value: str) -> bool:
    return "<" in value and bool(_LOOKS_LIKE_HTML.search(value))


# --- field paths -------------------------------------------------------------------------------


def select_path(data: Any, path: str) -> list[Any]:
    """Values at a dot path; `*` matches every key of an object or item of a list."""
    nodes = [data]
    for part in path.split("."):
        nxt: list[Any] = []
        for node in nodes:
            if part == "*":
                if isinstance(node, dict):
                    nxt.extend(node.values())
                elif isinstance(node, list):
                    nxt.extend(node)
            elif isinstance(node, dict) and part in node:
                nxt.append(node[part])
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                nxt.append(node[int(part)])
        nodes = nxt
    return nodes


def _text_of(value: Any, convert_html: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return html_to_text(value) if convert_html and looks_like_html(value) else value.strip()
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


# --- names and values --------------------------------------------------------------------------


@functools.lru_cache(maxsize=8192)  # field names repeat in every record
def legal_name(name: str) -> str:
    """A Milvus-legal field name: letters, digits, underscore; not starting with a digit."""
    clean = _ILLEGAL_NAME_CHARS.sub("_", name) or "_"
    if clean[0].isdigit():
        clean = "_" + clean
    return clean[:MAX_NAME_LENGTH]


def clean_string(value: str) -> str:
    """Replace lone surrogates (valid JSON, invalid UTF-8) and NUL so every service accepts the text."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        return value.encode("utf-8", "replace").decode("utf-8")


MAX_DEPTH = 8
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')  # unrolled: no alternation per character
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def _unchanged_by_bounding(value: dict | list) -> bool:
    """True when `_bounded` would return an equal container: checked mostly in C, since most Zendesk
    metadata (via, custom_fields, satisfaction_rating, ...) needs no change and the recursive walk
    was the most expensive step of building a document.

    orjson refuses lone surrogates, non-string keys and huge ints (-> slow path); NaN/inf become
    null, which the round trip comparison catches; the serialized size bounds every string in it.
    """
    data = _clean_json(value)
    return data is not None and len(data) <= MAX_VALUE_CHARS and _nesting(data) <= MAX_DEPTH


def _clean_json(value: Any) -> bytes | None:
    """Its JSON if `value` holds nothing `_bounded` changes except long strings and deep nesting (which
    the caller checks on the bytes): no NUL, lone surrogate, non-string key, non-finite float, or
    integer beyond 53 bits (orjson refuses those; NaN/inf become null, caught by the round trip)."""
    try:
        data = orjson.dumps(value, option=orjson.OPT_STRICT_INTEGER)
        if b"\\u0000" in data or orjson.loads(data) != value:
            return None
    except (TypeError, ValueError, RecursionError):
        return None
    return data


def _utf8_ok(value: str) -> bool:
    try:
        value.encode("utf-8")
        return True
    except UnicodeEncodeError:  # lone surrogates
        return False


def _nesting(data: bytes) -> int:
    """Bracket nesting depth of serialized JSON (brackets inside strings ignored)."""
    if data.count(b"[") + data.count(b"{") <= MAX_DEPTH:
        return MAX_DEPTH
    brackets = _JSON_STRING.sub(b"", data).translate(None, _NOT_BRACKETS)
    return max(itertools.accumulate(1 if byte in b"[{" else -1 for byte in brackets))


def _containers_clean(selected: dict[str, Any]) -> bool:
    """Most values need no bounding (Zendesk records rarely do): scalars are checked inline, and one
    C-level check of all containers together (mostly small: via, custom_fields, tags, ...) usually
    proves them unchanged; anything else goes through _bounded, value by value."""
    containers = [v for v in selected.values() if type(v) is dict or type(v) is list]
    data = _clean_json(containers) if containers else b"[]"
    return data is not None and len(data) <= MAX_VALUE_CHARS and _nesting(data) <= MAX_DEPTH + 1  # +1: the list


def _plain(value: Any, clean_containers: bool) -> bool:
    """Can `value` be stored as it is (no capping, replacing or converting)?"""
    kind = type(value)
    if kind is str:
        return len(value) <= MAX_VALUE_CHARS and "\x00" not in value and (value.isascii() or _utf8_ok(value))
    if kind is int:
        return INT64_MIN <= value <= INT64_MAX
    if kind is float:
        return math.isfinite(value)
    if kind is dict or kind is list:
        return clean_containers
    return value is None or kind is bool


def _bounded(value: Any, name: str, warnings: list[Notice], depth: int = 0) -> Any:
    """Strings capped, lone surrogates replaced, nesting capped (Milvus JSON depth) — with warnings."""
    if depth == 0 and isinstance(value, (dict, list)) and _unchanged_by_bounding(value):
        return value
    if isinstance(value, str):
        return _bounded_string(value, name, warnings)
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        warnings.append(Notice(f"metadata field '{name}' held a non-finite number; stored as null"))
        return None
    if isinstance(value, (dict, list)):
        return _bounded_container(value, name, warnings, depth)
    if type(value) is int and not INT64_MIN <= value <= INT64_MAX:  # pymilvus refuses the whole batch
        warnings.append(Notice(f"metadata field '{name}' held an integer beyond 64 bits; stored as a string"))
        return str(value)
    return value


def _bounded_string(value: str, name: str, warnings: list[Notice]) -> str:
    value = clean_string(value)
    if len(value) > MAX_VALUE_CHARS:
        warnings.append(Notice(f"metadata field '{name}' truncated",
                               f" from {len(value)} to {MAX_VALUE_CHARS} characters"))
        return value[:MAX_VALUE_CHARS]
    return value


def _bounded_container(value: dict | list, name: str, warnings: list[Notice], depth: int) -> Any:
    if depth >= 8:
        warnings.append(Notice(f"metadata field '{name}' nested deeper than 8 levels; stored as a JSON string"))
        return _bounded(json.dumps(value, ensure_ascii=False), name, warnings, depth)
    if isinstance(value, dict):
        return {clean_string(str(k)): _bounded(v, name, warnings, depth + 1) for k, v in value.items()}
    return [_bounded(v, name, warnings, depth + 1) for v in value]


# --- the processor -----------------------------------------------------------------------------


class DocumentBuilder:
    """Turns one record into one Document (chunking happens later, on `Document.text`)."""

    def __init__(self, processing: ProcessingConfig, reserved_names: set[str],
                 vector_source_field: str | None = None) -> None:
        """`reserved_names`: the collection's own fields (primary key, vector, text); a record field
        with such a name is stored with a leading underscore (Zendesk `id` -> `_id`)."""
        self.text_fields = list(processing.text_fields)
        self.metadata_fields = list(processing.metadata_fields)
        self.mappings = {m.from_field: m.to_field for m in processing.field_name_mappings}
        self.embed_field_names = processing.embed_field_names
        self.convert_html = processing.html_to_text
        self.reserved = set(reserved_names)
        self._targets: dict[str, str] = {}  # record field name -> stored name (field names repeat)
        self.vector_source_field = vector_source_field

    def build(self, stream: str, data: dict[str, Any], primary_key: list[list[str]] | None) -> Document:
        warnings: list[Notice] = []
        record_id = _storable_record_id(stream, data, primary_key, warnings) if primary_key else None
        deleted = bool(data.get(CDC_DELETED_FIELD))
        text = "" if deleted else clean_string(self._text(data))
        metadata = {} if deleted else self._metadata(data, warnings)
        vector = None
        if self.vector_source_field and not deleted:
            vector = _vector_field(data, self.vector_source_field)
        return Document(stream, record_id, text, metadata, deleted, vector, warnings)

    def _text(self, data: dict[str, Any]) -> str:
        paths = self.text_fields or [k for k in data if not k.startswith(BOOKKEEPING_PREFIX)]
        parts = []
        for path in paths:
            values = [_text_of(v, self.convert_html) for v in select_path(data, path)]
            value = "\n".join(v for v in values if v)
            if value:
                parts.append(f"{path}: {value}" if self.embed_field_names else value)
        return "\n".join(parts) if self.embed_field_names else "\n\n".join(parts)

    def _metadata(self, data: dict[str, Any], warnings: list[Notice]) -> dict[str, Any]:
        selected = self._selected(data)
        clean = _containers_clean(selected)
        out: dict[str, Any] = {}
        for name, value in selected.items():
            target = self._free_target(name, out)
            out[target] = value if _plain(value, clean) else _bounded(value, target, warnings)
        return _fit_budget(out, warnings)

    def _selected(self, data: dict[str, Any]) -> dict[str, Any]:
        """The record's metadata fields: the configured paths, or every field but the vector source."""
        if not self.metadata_fields:
            return {k: v for k, v in data.items() if k != self.vector_source_field}
        selected: dict[str, Any] = {}
        for path in self.metadata_fields:
            values = select_path(data, path)
            if values:
                selected[path] = values[0] if ("*" not in path and len(values) == 1) else values
        return selected

    def _free_target(self, name: str, out: dict[str, Any]) -> str:
        """The stored name of a record field, not yet taken by another field of this record."""
        target = self._targets.get(name)
        if target is None:
            target = self._targets[name] = self._target(name)
        while target in out:
            target = "_" + target
            while target in self.reserved or target.startswith(BOOKKEEPING_PREFIX):
                target = "_" + target
        return target

    def _target(self, name: str) -> str:
        """The stored name of a record field (before collisions with other fields of the record)."""
        target = legal_name(self.mappings.get(name, name))
        while target in self.reserved or target.startswith(BOOKKEEPING_PREFIX):
            target = "_" + target
        return target


def _fit_budget(metadata: dict[str, Any], warnings: list[Notice]) -> dict[str, Any]:
    """Drop the largest values until the row's dynamic JSON fits Milvus's limit."""
    try:  # fast path: json.dumps' ", " and ": " at most double orjson's compact size
        if 2 * len(orjson.dumps(metadata)) <= MAX_METADATA_BYTES:
            return metadata
    except (TypeError, ValueError):
        pass
    sizes = {k: len(json.dumps(v, ensure_ascii=False).encode()) for k, v in metadata.items()}
    total = sum(sizes.values()) + sum(len(k) + 4 for k in metadata)
    for name in sorted(sizes, key=sizes.get, reverse=True):
        if total <= MAX_METADATA_BYTES:
            break
        # the kind names no field: one summary line, not one per dropped field
        warnings.append(Notice(f"metadata field dropped, the row's metadata exceeded {MAX_METADATA_BYTES} bytes",
                               f" ('{name}', {sizes[name]} bytes)"))
        total -= sizes[name] + len(name) + 4
        del metadata[name]
    return metadata


def record_id_for(stream: str, data: dict[str, Any], primary_key: list[list[str]]) -> str:
    """`<stream>_<pk1>_<pk2>`: the official connector's format, so its rows dedup with ours. An integral
    float is written as the integer it equals: sources emit ids as floats (the Zendesk source's
    user_fields, topics and audit_logs streams send 7761239926287.0), and the same record must get one
    id whether it arrives as 7761239926287.0 or 7761239926287."""
    parts = []
    for path in primary_key:
        values = select_path(data, ".".join(path))
        value = values[0] if values else "__not_found__"
        parts.append(value if isinstance(value, str) else json.dumps(_integral(value), sort_keys=True))
    return f"{stream}_{'_'.join(parts)}"


def _integral(value: Any) -> Any:
    """Integral floats (also inside composite key values) as ints; everything else unchanged."""
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, list):
        return [_integral(v) for v in value]
    if isinstance(value, dict):
        return {k: _integral(v) for k, v in value.items()}
    return value


def _storable_record_id(stream: str, data: dict[str, Any], primary_key: list[list[str]], warnings: list[Notice]) -> str:
    """record_id_for, made storable: lone surrogates replaced, ids too long for `_ab_record_id` hashed;
    a missing or null key value is reported (such records share one id, so they replace each other)."""
    record_id = record_id_for(stream, data, primary_key)
    missing = [".".join(path) for path in primary_key if select_path(data, ".".join(path)) in ([], [None])]
    if missing:
        warnings.append(Notice(f"record without a value for primary key {', '.join(missing)}",
                               f" (stored as {record_id[:80]!r}; records without one replace each other)"))
    try:
        encoded = record_id.encode("utf-8")
    except UnicodeEncodeError:
        record_id = record_id.encode("utf-8", "replace").decode("utf-8")
        encoded = record_id.encode("utf-8")
    if len(encoded) > MAX_RECORD_ID_BYTES:
        hashed = f"{stream}_sha256_{hashlib.sha256(encoded).hexdigest()}"
        warnings.append(Notice(f"primary key value longer than {MAX_RECORD_ID_BYTES} bytes",
                               f" (stored as record id {hashed})"))
        record_id = hashed
    return record_id


def _vector_field(data: dict[str, Any], name: str) -> list[float] | None:
    value = data.get(name)
    if isinstance(value, list) and value and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        return [float(v) for v in value]
    return None

