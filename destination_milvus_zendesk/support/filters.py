"""Every Milvus filter the support lookups use, built here from validated, typed values and escaped
literals: no organization id, status, stream name or record id reaches Milvus as raw text."""

from __future__ import annotations

from typing import Sequence

from ..milvus.filters import in_filter, literal
from ..schema import STREAM


def stream(name: str) -> str:
    return f"{STREAM} == {literal(name)}"


def organization_tickets(tickets_stream: str, organization_id: int) -> str:
    """Every ticket of the organization, whatever its status (does the organization exist here?)."""
    return f"{stream(tickets_stream)} and organization_id == {literal(organization_id)}"


def open_tickets(tickets_stream: str, organization_id: int, statuses: Sequence[str]) -> str:
    """The organization's tickets in the statuses that count as open."""
    return f"{stream(tickets_stream)} and {in_filter('status', statuses)} and organization_id == {literal(organization_id)}"
