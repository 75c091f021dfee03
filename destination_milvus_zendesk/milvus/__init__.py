"""Everything that talks to Milvus (milvus-server and Milvus Lite), the only package that imports
pymilvus and grpc. `MilvusStore` (store.py) is what the rest of the connector uses; the modules
behind it each have one reason to change:

- connection.py: opening the client (server probes, TLS, the Lite file and its lock);
- collection.py: the collection's shape (describe, check, repair, load, create, indexes, properties);
- rows.py: writes, deletes, reads and searches;
- errors.py: classifying failures and the retrying `call` every request goes through;
- filters.py: every filter expression, built from typed values and escaped literals.

Only primitives both test backends support are used (insert, upsert with a record-defined key,
delete by filter, query). Failures are one-line messages that say what to check, without secrets.
"""

from ..schema import CollectionInfo
from .collection import check_collection
from .connection import lite_lock_holder
from .store import MilvusStore

__all__ = ["CollectionInfo", "MilvusStore", "check_collection", "lite_lock_holder"]
