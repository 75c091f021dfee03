"""What a person types into the form or the CLI, validated before anything reaches Milvus: an
organization id (an integer, never a string spliced into a filter) and ticket statuses."""

from __future__ import annotations

from typing import Any, Sequence

ZENDESK_STATUSES = ("new", "open", "pending", "hold", "solved", "closed")
# Zendesk's "unsolved" set: a case is a duplicate of any ticket still being worked on.
DEFAULT_STATUSES = ("new", "open", "pending", "hold")
TUTORIAL_STATUSES = ("new",)  # the tutorial's filter, `status == "new"`


class QueryInputError(ValueError):
    """A value a user typed cannot be used (bad organization id, unknown status, empty text)."""


def organization_id_value(value: Any) -> int:
    """Zendesk organization ids are integers; anything else is refused (no string reaches a filter)."""
    if isinstance(value, bool):
        raise QueryInputError("organization id must be an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise QueryInputError(f"organization id must be an integer, got {str(value)[:40]!r}")


def statuses_value(statuses: Sequence[str] | str) -> list[str]:
    """Statuses as a list or comma-separated ("new,open,pending"), validated, duplicates dropped."""
    items = [statuses] if isinstance(statuses, str) else list(statuses)
    chosen = list(dict.fromkeys(part.strip().lower() for item in items for part in str(item).split(",")
                                if part.strip()))
    unknown = [s for s in chosen if s not in ZENDESK_STATUSES]
    if unknown or not chosen:
        raise QueryInputError(f"ticket status must be among {', '.join(ZENDESK_STATUSES)} (comma-separated); "
                              f"got {', '.join(unknown) if unknown else 'none'}")
    return chosen


def text_value(text: Any) -> str:
    """The description of the problem, stripped; empty text is refused before anything is embedded."""
    if not isinstance(text, str) or not text.strip():
        raise QueryInputError("describe the problem first: the text is empty")
    return text.strip()
