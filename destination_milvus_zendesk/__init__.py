"""destination-milvus-zendesk: Zendesk tickets and articles into Milvus as vectors.

`DestinationMilvusZendesk` is exported here, the CDK's convention (its standard tests look up
`destination_<name>.Destination<Name>`). It is imported on first use, so importing a submodule
(`query`, `chunking`, ...) does not load the whole connector.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .destination import DestinationMilvusZendesk

__all__ = ["DestinationMilvusZendesk"]


def __getattr__(name: str) -> Any:
    if name == "DestinationMilvusZendesk":
        from .destination import DestinationMilvusZendesk

        return DestinationMilvusZendesk
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
