"""One seam per external system: only the milvus/ package imports pymilvus (and grpc under it), only
embedding/ imports openai; the writer depends on the seams (`VectorStore`, `Embedder`), not on what
implements them or on the commands above it; no runtime `assert` anywhere in the package."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "destination_milvus_zendesk"
# library -> the one module, or the one package (a path ending in "/"), that may import it
OWNERS = {"pymilvus": "milvus/", "grpc": "milvus/", "openai": "embedding/openai_api.py"}


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
    owner = OWNERS[library]
    importers = {p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py") if library in _imports(p)}
    assert importers, f"nothing imports {library}: the scan is broken or OWNERS is stale"
    assert {name for name in importers if name != owner and not (owner.endswith("/") and name.startswith(owner))} == set()


def _package_imports(path: Path) -> set[str]:
    """The package modules `path` imports when it runs (dotted, relative to the package; imports under
    `if TYPE_CHECKING:` are annotations only and left out)."""
    here = path.relative_to(PACKAGE).parent.parts
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            return
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[:len(here) - node.level + 1]
                found.add(".".join([*base, *(node.module.split(".") if node.module else [])]))
            elif node.module and node.module.startswith(PACKAGE.name + "."):
                found.add(node.module.split(".", 1)[1])
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text("utf-8")))
    return found


def _writer_imports() -> dict[str, set[str]]:
    """package module -> the writer/ files importing it."""
    seen: dict[str, set[str]] = {}
    for path in (PACKAGE / "writer").glob("*.py"):
        for module in _package_imports(path):
            seen.setdefault(module, set()).add(path.name)
    return seen


def test_the_import_scan_sees_relative_imports_and_skips_annotations():
    imports = _package_imports(PACKAGE / "writer" / "prepare.py")
    assert {"writer.intake", "embedding.base", "store"} <= imports  # `.intake`, `..embedding.base`, `..store`
    assert not any(module.startswith("milvus") for module in imports)  # CollectionInfo: TYPE_CHECKING only


def test_the_writer_knows_embedders_only_through_their_seam():
    """The writer asks `Embedder` what it needs (where vectors come from, whether stored ones are
    reusable) instead of testing which implementation it was given."""
    seen = {module: files for module, files in _writer_imports().items() if module.startswith("embedding")}
    assert set(seen) == {"embedding.base"}, seen


def test_the_writer_depends_on_no_backend_and_no_command():
    """The writer runs on any `VectorStore` (the unit tests: MemoryStore) and knows nothing of the
    commands or apps above it."""
    above = {"milvus", "memory_store", "destination", "cdk_adapter", "entrypoint", "query", "support_form",
             "demo"}
    seen = {module: files for module, files in _writer_imports().items() if module.split(".")[0] in above}
    assert seen == {}


def test_the_collection_checks_live_in_the_store():
    from destination_milvus_zendesk.errors import ConfigError
    from destination_milvus_zendesk.milvus import check_collection
    from destination_milvus_zendesk.schema import CollectionInfo, Kind

    info = CollectionInfo(name="c", pk_field="id", pk_type=Kind.INT64, auto_id=True, pk_max_length=0,
                          vector_field="vector", vector_type=Kind.FLOAT_VECTOR, dimensions=1536, dynamic=True,
                          fields={"id": Kind.INT64, "vector": Kind.FLOAT_VECTOR}, field_params={},
                          metric="L2", properties={"dmz.embedding_model": "fake:1536"})
    check_collection(info, dimensions=1536, model_id="fake:1536", text_field="text", omit_raw_text=False)
    with pytest.raises(ConfigError, match="stores 1536-dimensional vectors in 'vector' but the embedding model"):
        check_collection(info, dimensions=256, model_id="fake:1536", text_field="text", omit_raw_text=False)
    with pytest.raises(ConfigError, match="was written with embedding model fake:1536"):
        check_collection(info, dimensions=1536, model_id="local:x:1536", text_field="text", omit_raw_text=False)


def _asserts(source: str) -> list[int]:
    return [node.lineno for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Assert)]


def test_no_runtime_assert_in_the_package():
    """`python -O` strips asserts: runtime checks must be explicit errors. Every module counts,
    the writer/ and embedding/ packages included."""
    files = {p.relative_to(PACKAGE).as_posix(): p for p in PACKAGE.rglob("*.py")}
    assert {"writer/apply.py", "embedding/base.py", "destination.py"} <= set(files)
    assert _asserts("def f(x):\n    assert x, 'checked'\n") == [2]  # the scan does see one
    offenders = [f"{name}:{line}" for name, path in sorted(files.items()) for line in _asserts(path.read_text("utf-8"))]
    assert offenders == []


def test_a_store_used_before_connect_fails_with_an_explicit_error(tmp_path):
    from destination_milvus_zendesk.config import IndexingConfig
    from destination_milvus_zendesk.milvus import MilvusStore

    store = MilvusStore(IndexingConfig(host=str(tmp_path / "x.db"), collection="c"))
    for use in (store.describe, lambda: store.delete("id > 0"), lambda: store.count(), lambda: store.set_model("m")):
        with pytest.raises(RuntimeError, match="before connect"):
            use()
