"""One seam per external system: only milvus_store imports pymilvus (and grpc under it), only
embedding/ imports openai."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "destination_milvus_zendesk"
OWNERS = {"pymilvus": {"milvus_store.py"}, "grpc": {"milvus_store.py"}, "openai": {"embedding/openai_api.py"}}


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("library", sorted(OWNERS))
def test_only_its_seam_imports_the_library(library):
    importers = {p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py") if library in _imports(p)}
    assert importers == OWNERS[library]


def test_the_writer_knows_embedders_only_through_their_seam():
    """The writer asks `Embedder` what it needs (where vectors come from, whether stored ones are
    reusable) instead of testing which implementation it was given."""
    seen = {}
    for path in (PACKAGE / "writer").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 2 and (node.module or "").startswith("embedding"):
                seen.setdefault(node.module, set()).add(path.name)
    assert set(seen) == {"embedding.base"}, seen


def test_the_collection_checks_live_in_the_store():
    from destination_milvus_zendesk.errors import ConfigError
    from destination_milvus_zendesk.milvus_store import CollectionInfo, DataType, check_collection

    info = CollectionInfo(name="c", pk_field="id", pk_type=DataType.INT64, auto_id=True, pk_max_length=0,
                          vector_field="vector", vector_type=DataType.FLOAT_VECTOR, dimensions=1536, dynamic=True,
                          fields={"id": DataType.INT64, "vector": DataType.FLOAT_VECTOR}, field_params={},
                          metric="L2", properties={"dmz.embedding_model": "fake:1536"})
    check_collection(info, dimensions=1536, model_id="fake:1536", text_field="text", omit_raw_text=False)
    with pytest.raises(ConfigError, match="stores 1536-dimensional vectors in 'vector' but the embedding model"):
        check_collection(info, dimensions=256, model_id="fake:1536", text_field="text", omit_raw_text=False)
    with pytest.raises(ConfigError, match="was written with embedding model fake:1536"):
        check_collection(info, dimensions=1536, model_id="local:x:1536", text_field="text", omit_raw_text=False)


def test_no_runtime_assert_in_the_package():
    """`python -O` strips asserts: runtime checks must be explicit errors (writer.py: issue 10's rewrite)."""
    offenders = [f"{p.relative_to(PACKAGE).as_posix()}:{node.lineno}" for p in PACKAGE.rglob("*.py")
                 if p.name != "writer.py"
                 for node in ast.walk(ast.parse(p.read_text("utf-8"))) if isinstance(node, ast.Assert)]
    assert offenders == []


def test_a_store_used_before_connect_fails_with_an_explicit_error(tmp_path):
    from destination_milvus_zendesk.config import IndexingConfig
    from destination_milvus_zendesk.milvus_store import MilvusStore

    store = MilvusStore(IndexingConfig(host=str(tmp_path / "x.db"), collection="c"))
    for use in (store.describe, lambda: store.delete("id > 0"), lambda: store.count(), lambda: store.set_model("m")):
        with pytest.raises(RuntimeError, match="before connect"):
            use()
