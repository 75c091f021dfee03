"""Every filter expression the store sends, built from typed values and escaped literals: no record
id, tag, write id or stream name reaches Milvus as raw text (support/filters.py builds the lookups'
filters from the same two primitives)."""

from __future__ import annotations

from typing import Any, Iterable, Iterator

from ..schema import GENERATION, RECORD_ID, STREAM, WRITE_ID

IDS_PER_FILTER = 500  # values per `in [...]` list: bounded request and parse sizes

_FILTER_ESCAPES = str.maketrans({'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def literal(value: Any) -> str:
    """A filter literal built from a typed value: strings JSON-quoted (escapes survive), numbers as is."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        # Only the escapes both parsers know (Milvus Lite's lexer refuses \\uXXXX, \\b and \\f, which
        # json.dumps writes for control characters); every other character stands for itself.
        return '"' + value.translate(_FILTER_ESCAPES) + '"'
    raise TypeError(f"unsupported filter value type {type(value).__name__}")


def in_filter(field_name: str, values: Iterable[Any]) -> str:
    return f"{field_name} in [{', '.join(literal(v) for v in values)}]"


def batches(items: list[Any], size: int = IDS_PER_FILTER) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def records(record_ids: list[str]) -> str:
    return in_filter(RECORD_ID, record_ids)


def records_except_write(record_ids: list[str], keep_write_id: str | None) -> str:
    """These records' rows, except those written by `keep_write_id`. Rows written by other tools
    carry no write id: `not exists` catches them, since a comparison with a missing dynamic field is
    false in Milvus."""
    expr = records(record_ids)
    if keep_write_id is not None:
        expr += f" and ({WRITE_ID} != {literal(keep_write_id)} or not (exists {WRITE_ID}))"
    return expr


def records_in_tag_except_write(record_ids: list[str], tag: str, keep_write_id: str) -> str:
    """These records' rows written under `tag` by another write than `keep_write_id` (a row without a
    write id stays: the comparison with the missing field is false)."""
    return f"{records(record_ids)} and {GENERATION} == {literal(tag)} and {WRITE_ID} != {literal(keep_write_id)}"


def stream_rows_except_tag(stream: str, tag: str) -> str:
    """Every row of `stream` not written under `tag`, rows with no tag at all included."""
    return f"{STREAM} == {literal(stream)} and ({GENERATION} != {literal(tag)} or not (exists {GENERATION}))"


def stream_rows_with_tag(stream: str, tag: str) -> str:
    return f"{STREAM} == {literal(stream)} and {GENERATION} == {literal(tag)}"
