"""The collection the tutorial makes by hand, for tests and benchmarks: INT64 auto-id `id`,
FLOAT_VECTOR `vector`, dynamic fields, AUTOINDEX/L2 (or an INT64/VARCHAR key the caller sets)."""

from __future__ import annotations

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
