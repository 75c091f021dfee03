"""The collection the tutorial makes by hand, for tests and benchmarks: INT64 auto-id `id`,
FLOAT_VECTOR `vector`, dynamic fields, AUTOINDEX/L2 (or an INT64/VARCHAR key the caller sets);
and rows shaped as the connector writes them there, to fill it fast without a sync."""

from __future__ import annotations

import hashlib

import numpy as np
from pymilvus import DataType, MilvusClient


def create_tutorial_collection(client: MilvusClient, name: str, dim: int = 1536, *, pk: str = "auto") -> None:
    schema = MilvusClient.create_schema(auto_id=(pk == "auto"), enable_dynamic_field=True)
    if pk == "varchar":
        schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=256)
    else:
        schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
    index = client.prepare_index_params()
    index.add_index("vector", index_type="AUTOINDEX", metric_type="L2")
    client.create_collection(name, schema=schema, index_params=index)


STATUSES = ("new", "open", "pending", "hold", "solved", "closed")


def tutorial_record_rows(record: int, dim: int, *, organizations: int = 50, chunks: int | None = None) -> list[dict]:
    """The rows the connector writes into the tutorial's collection for one ticket (every field but
    the vector is dynamic), with a fake unit vector; every tenth ticket has three chunks."""
    count = chunks if chunks is not None else 3 if record % 10 == 0 else 1
    base = {"_ab_stream": "tickets", "_ab_record_id": f"tickets_{record}", "_ab_write": "fill-1", "_ab_gen": "fill",
            "_id": record, "subject": f"Ticket {record}: invoice download fails",
            "description": f"Customer {record} cannot download invoice {record * 7}.", "status": STATUSES[record % 6],
            "organization_id": 1 + record % organizations, "updated_at": "2025-01-01T00:00:00Z",
            "url": f"https://acme.zendesk.com/api/v2/tickets/{record}.json", "tags": ["billing"]}
    rng = np.random.default_rng(record)
    rows = []
    for chunk in range(count):
        vector = rng.standard_normal(dim).astype(np.float32)
        rows.append({**base, "_ab_chunk": chunk, "_ab_hash": hashlib.blake2b(f"{record}#{chunk}".encode(),
                                                                            digest_size=16).hexdigest(),
                     "text": f"subject: Ticket {record}\ndescription: part {chunk} of ticket {record}",
                     "vector": (vector / np.linalg.norm(vector)).tolist()})
    return rows


def fill_tutorial_collection(client: MilvusClient, name: str, records: range, dim: int = 1536,
                             batch_rows: int = 1000) -> int:
    """Insert the tutorial rows of `records` directly (no connector, no embedding); returns the rows written."""
    written, batch = 0, []
    for record in records:
        batch.extend(tutorial_record_rows(record, dim))
        if len(batch) >= batch_rows:
            client.insert(name, batch)
            written, batch = written + len(batch), []
    if batch:
        client.insert(name, batch)
        written += len(batch)
    return written
