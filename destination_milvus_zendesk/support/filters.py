"""Every Milvus filter the support lookups use, built here from validated, typed values and escaped
literals: no organization id, status, stream name or record id reaches Milvus as raw text."""

from __future__ import annotations

from typing import Sequence

from ..milvus.filters import in_filter, literal
from ..schema import NO_ORGANIZATION_ID, PARTITION_KEY, STREAM


def stream(name: str) -> str:
    return f"{STREAM} == {literal(name)}"


def organization_tickets(tickets_stream: str, organization_id: int) -> str:
    """Every ticket of the organization, whatever its status (does the organization exist here?)."""
    return f"{stream(tickets_stream)} and organization_id == {literal(organization_id)}"


def open_tickets(tickets_stream: str, organization_id: int, statuses: Sequence[str]) -> str:
    """The organization's tickets in the statuses that count as open."""
    return f"{stream(tickets_stream)} and {in_filter('status', statuses)} and organization_id == {literal(organization_id)}"


def articles(articles_stream: str, partitioned: bool) -> str:
    """The articles; `partitioned` (a collection partitioned by organization whose articles have none):
    naming their partition lets Milvus search it alone instead of every organization's."""
    if not partitioned:
        return stream(articles_stream)
    return f"{stream(articles_stream)} and {PARTITION_KEY} == {literal(NO_ORGANIZATION_ID)}"


def articles_with_organization(articles_stream: str) -> str:
    """Articles that carry an organization: if any, they are not all in one partition."""
    return f"{stream(articles_stream)} and {PARTITION_KEY} != {literal(NO_ORGANIZATION_ID)}"
