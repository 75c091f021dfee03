"""The collection's shape and lifecycle: describe (a pure read), check, repair an interrupted
creation, load, create (with a BM25 function where the backend keeps one), indexes and properties.
Every request goes through the classified `call`, creation included."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from pymilvus import DataType, Function, FunctionType, MilvusClient

from ..config import IndexingConfig
from ..errors import ConfigError, ServiceError, TransientError
from ..schema import (BM25_FIELD, COLUMN_VARCHAR_LENGTH, COLUMNS_PROPERTY, KEYED_PROPERTY, MAX_TEXT_BYTES,
                      METADATA_COLUMNS, MODEL_PROPERTY, PARTITION_KEY, PARTITIONS, RECORD_ID, STREAM, CollectionInfo,
                      Kind)
from .connection import MilvusConnection
from .errors import call

logger = logging.getLogger("airbyte")

VARCHAR_PK_LENGTH = 512
SUPPORTED_PK_TYPES = {Kind.INT64, Kind.VARCHAR}
BM25_FUNCTION = "dmz_bm25"
# the throwaway collection that tells whether the backend keeps a BM25 function (never loaded)
BM25_PROBE_PREFIX = "dmz_bm25_probe_"
# Milvus's default analyzer (standard tokenizer, lower case). Milvus Lite 3.2.2 refuses {"type": "english"}
# and accepts but ignores stemmer/stop filters (same tokens, verified), so thresholds measured on Lite
# hold only for this analyzer: the same everywhere.
BM25_ANALYZER = {"tokenizer": "standard", "filter": ["lowercase"]}


def kind_of(data_type: Any) -> Kind:
    """The neutral kind of a pymilvus DataType (same names; OTHER for types the connector never needs)."""
    return Kind.__members__.get(getattr(data_type, "name", ""), Kind.OTHER)


def data_type(kind: Kind) -> DataType:
    return DataType[kind.name]


def check_collection(info: CollectionInfo, *, dimensions: int, model_id: str, text_field: str,
                     omit_raw_text: bool) -> None:
    """The collection can take this connector's rows from this embedding model; ConfigError naming the fix if not."""
    name = info.name
    if info.pk_type not in SUPPORTED_PK_TYPES:
        raise ConfigError(f"Collection '{name}' has a {info.pk_type.name} primary key '{info.pk_field}': only INT64 "
                          "(auto-id or not) and VARCHAR primary keys are supported.")
    if info.vector_type is None:
        raise ConfigError(f"Collection '{name}' has no field '{info.vector_field}' (fields: {', '.join(info.fields)}): "
                          "set indexing.vector_field to its vector field.")
    if info.vector_type != Kind.FLOAT_VECTOR:
        raise ConfigError(f"Field '{info.vector_field}' of collection '{name}' is {info.vector_type.name}, "
                          "not FLOAT_VECTOR.")
    if info.dimensions != dimensions:
        raise ConfigError(f"Collection '{name}' stores {info.dimensions}-dimensional vectors in '{info.vector_field}' "
                          f"but the embedding model ({model_id}) produces {dimensions}: use a "
                          "collection of the same dimension or another model.")
    if not info.dynamic:
        raise ConfigError(f"Collection '{name}' has dynamic fields off: metadata and bookkeeping fields "
                          "(_ab_stream, _ab_record_id, ...) need enable_dynamic_field=True.")
    text_type = info.fields.get(text_field)
    if text_type is not None and text_type != Kind.VARCHAR and not omit_raw_text:
        raise ConfigError(f"Text field '{text_field}' of collection '{name}' is {text_type.name}, "
                          "not VARCHAR: set indexing.text_field to another name or enable omit_raw_text.")
    recorded = info.properties.get(MODEL_PROPERTY)
    if recorded and recorded != model_id:
        raise ConfigError(f"Collection '{name}' was written with embedding model {recorded}, but the config uses "
                          f"{model_id}: vectors of different models cannot be compared. Use the same model "
                          "or a new collection.")


def collection_schema(cfg: IndexingConfig, dimensions: int, full_text: bool, partitioned: bool = True) -> Any:
    """The tutorial's shape with a record-defined VARCHAR key, so re-syncs are true upserts, typed
    filter columns, the organization as partition key (`partitioned` False: the benchmark's control);
    `full_text`: the text field analyzed and a BM25 function filling BM25_FIELD from it."""
    schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=True)
    schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=VARCHAR_PK_LENGTH)
    schema.add_field(cfg.vector_field, DataType.FLOAT_VECTOR, dim=dimensions)
    schema.add_field(cfg.text_field, DataType.VARCHAR, max_length=MAX_TEXT_BYTES,
                     **({"enable_analyzer": True, "analyzer_params": BM25_ANALYZER} if full_text else {}))
    schema.add_field(STREAM, DataType.VARCHAR, max_length=256)
    schema.add_field(RECORD_ID, DataType.VARCHAR, max_length=2048)
    for name, (kind, _) in METADATA_COLUMNS.items():
        schema.add_field(name, data_type(kind), **({"max_length": COLUMN_VARCHAR_LENGTH} if kind == Kind.VARCHAR else {}),
                         **({"is_partition_key": True} if partitioned and name == PARTITION_KEY else {}))
    if full_text:
        schema.add_field(BM25_FIELD, DataType.SPARSE_FLOAT_VECTOR)
        schema.add_function(Function(name=BM25_FUNCTION, function_type=FunctionType.BM25,
                                     input_field_names=[cfg.text_field], output_field_names=[BM25_FIELD]))
    return schema


class CollectionManager:
    """One collection's shape (`info`, once described or created) and everything that changes it."""

    def __init__(self, connection: MilvusConnection) -> None:
        self.connection = connection
        self.cfg = connection.cfg
        self.name = connection.cfg.collection
        self.info: CollectionInfo | None = None
        self.scalar_index_types: dict[bool, str] = {}  # numeric? -> index type the backend accepted

    @property
    def client(self) -> MilvusClient:
        return self.connection.connected()

    def described(self) -> CollectionInfo:
        if self.info is None:
            raise RuntimeError("MilvusStore used before describe() or create_collection()")
        return self.info

    # --- inspection ---------------------------------------------------------------------------

    def describe(self) -> CollectionInfo | None:
        """The collection's shape (None if missing). A pure read: nothing is created, altered or loaded."""
        client = self.client
        if not call(lambda: client.has_collection(self.name), "looking up the collection"):
            return None
        desc = call(lambda: client.describe_collection(self.name), "describing the collection")
        info = _collection_info(self.name, self.cfg.vector_field, desc)
        if info.vector_type is not None:
            info.metric = self.metric(info.vector_field)
            info.vector_indexed = self.indexed(info.vector_field)
        candidate = _bm25_output(desc, info, self.cfg.text_field)
        info.bm25_field = candidate if candidate and self.indexed(candidate) else None
        self.info = info
        return info

    def metric(self, vector_field: str) -> str | None:
        """The vector index's metric; None only when there is no index. A failure to read it is raised
        (classified), not taken for "no metric": readers would then assume L2 and misjudge a COSINE
        collection's similarities."""
        client = self.client
        what = f"reading the metric of the vector index on '{vector_field}'"
        for name in call(lambda: client.list_indexes(self.name, field_name=vector_field), what):
            metric = call(lambda n=name: client.describe_index(self.name, n), what).get("metric_type")
            if metric:
                return str(metric).upper()
        return None

    def indexed(self, field_name: str) -> bool:
        client = self.client
        return bool(call(lambda: client.list_indexes(self.name, field_name=field_name), "listing indexes"))

    # --- repair and load ----------------------------------------------------------------------

    def repair(self, info: CollectionInfo) -> CollectionInfo:
        """Finish a creation this connector started and a killed process interrupted (only with
        indexing.create_collection on): killed between create_collection and create_index, the collection
        has no vector index and cannot be loaded on a server; killed before its properties were set, it
        lacks the metadata-column list (every insert would then miss the typed columns). Returns the
        collection as it is afterwards."""
        self.connection.connected()
        if not self.cfg.create_collection:
            return info
        if not self.cfg.is_lite and info.vector_type is not None and not info.vector_indexed:
            logger.warning(f"Collection '{self.name}' has no vector index (an interrupted creation?): "
                           "creating its indexes now.")
            self.create_indexes(info.fields)
            info.vector_indexed = True
        if (STREAM in info.fields and RECORD_ID in info.fields
                and KEYED_PROPERTY not in info.properties and MODEL_PROPERTY not in info.properties):
            # our own schema, never written to (the model is recorded before the first row): an interrupted creation
            self._set_properties({KEYED_PROPERTY: "1", COLUMNS_PROPERTY: ",".join(
                n for n, (kind, _) in METADATA_COLUMNS.items() if info.fields.get(n) == kind)}, info)
            logger.warning(f"Collection '{self.name}' was created by a sync that stopped before setting its "
                           "properties: set them now.")
        self.info = info
        return info

    def load(self, info: CollectionInfo) -> None:
        """Load the collection for queries. A server cannot load a collection without a vector index: that
        is a config error, unless indexing.create_collection lets `repair` create it (check then skips the
        load, the next sync repairs)."""
        client = self.client
        if not self.cfg.is_lite and info.vector_type is not None and not info.vector_indexed:
            if not self.cfg.create_collection:
                raise ConfigError(f"Collection '{self.name}' has no index on its vector field "
                                  f"'{self.cfg.vector_field}', so Milvus cannot load it: create one (e.g. AUTOINDEX), "
                                  "or enable indexing.create_collection and the next sync creates it.")
            return
        call(lambda: client.load_collection(self.name), "loading the collection")

    # --- creation -----------------------------------------------------------------------------

    def create(self, dimensions: int, partitioned: bool = True) -> CollectionInfo:
        """The tutorial's shape with a record-defined VARCHAR key, plus full-text (BM25) retrieval and
        the organization as partition key where the backend keeps BM25 functions (Milvus 2.5+, Lite,
        Zilliz Cloud). Older servers (2.3.5 verified) put upserted rows in another partition than the
        key's (milvus-io/milvus#30607, fixed in 2.3.10/2.4): a lookup naming the organization would miss
        them, so they get no partition key. `partitioned` False: never (the benchmark's control)."""
        client = self.client
        current = self._full_text_kept(dimensions)
        full_text = self.cfg.full_text_search and current
        partitioned = partitioned and current
        schema = collection_schema(self.cfg, dimensions, full_text, partitioned)
        partitions = {"num_partitions": PARTITIONS} if partitioned else {}  # refused without a partition key
        call(lambda: client.create_collection(self.name, schema=schema, consistency_level="Strong", **partitions),
             f"creating the collection '{self.name}'")
        # indexes before load: milvus 2.3 refuses index changes on a loaded collection
        self.create_indexes({STREAM: Kind.VARCHAR, RECORD_ID: Kind.VARCHAR,
                             **{name: kind for name, (kind, _) in METADATA_COLUMNS.items()},
                             **({BM25_FIELD: Kind.SPARSE_FLOAT_VECTOR} if full_text else {})})
        call(lambda: client.load_collection(self.name), "loading the collection")
        self._set_properties({KEYED_PROPERTY: "1", COLUMNS_PROPERTY: ",".join(METADATA_COLUMNS)})
        logger.info(f"Created collection {self.name!r} ({dimensions}-d, L2, VARCHAR primary key 'id', "
                    f"{f'partitioned by {PARTITION_KEY}, ' if partitioned else ''}"
                    f"{'dense + BM25 full-text' if full_text else 'dense'} retrieval).")
        info = self.describe()
        if info is None:
            raise ServiceError(f"Milvus created collection '{self.name}' but does not list it: check the "
                               "server's health, then retry the sync.")
        return info

    def _full_text_kept(self, dimensions: int) -> bool:
        """Does the backend keep a BM25 function? Detected, not guessed from a version or host name, on a
        throwaway collection: a backend without BM25 (milvus 2.3) refuses the schema or creates it without
        the function (2.3.5 does the latter). The real name is never created, dropped and created again:
        on 2.3.5 a load right after that can reach the dropped schema, whose sparse field aborts the server."""
        client = self.client
        probe = f"{BM25_PROBE_PREFIX}{uuid.uuid4().hex[:12]}"
        schema = collection_schema(self.cfg, dimensions, True, partitioned=False)
        try:
            call(lambda: client.create_collection(probe, schema=schema), "creating a full-text (BM25) probe collection")
            functions = call(lambda: client.describe_collection(probe), "describing the full-text probe collection"
                             ).get("functions") or []
        except (ConfigError, ServiceError) as exc:
            logger.info(f"Milvus refused a full-text (BM25) schema ({exc}): dense retrieval only, no partition key.")
            return False
        finally:
            self._drop_quietly(probe)
        if not any(f.get("name") == BM25_FUNCTION for f in functions):
            logger.info("This Milvus does not keep BM25 functions (Milvus 2.5+ or Milvus Lite have them): the "
                        "collection gets dense retrieval only, and no partition key (upserts on such servers may "
                        "put rows in the wrong partition).")
            return False
        return True

    def _drop_quietly(self, name: str) -> None:
        """Drop a throwaway collection if it exists; a failure only leaves an unused, never loaded one."""
        client = self.client
        try:
            if call(lambda: client.has_collection(name), "looking up a probe collection"):
                call(lambda: client.drop_collection(name), "dropping a probe collection")
        except (ConfigError, ServiceError, TransientError) as exc:
            logger.warning(f"Could not drop the probe collection {name!r} ({exc}): drop it by hand.")

    def create_indexes(self, fields: dict[str, Kind]) -> None:
        """The vector index (AUTOINDEX, L2) and scalar indexes on the bookkeeping fields, if missing."""
        if not self.indexed(self.cfg.vector_field):
            self._create_index(self.cfg.vector_field, index_type="AUTOINDEX", metric_type="L2")
        for name in (STREAM, RECORD_ID, *METADATA_COLUMNS):
            if name in fields and not self.indexed(name):
                self._scalar_index(name, fields[name])
        if fields.get(BM25_FIELD) == Kind.SPARSE_FLOAT_VECTOR and not self.indexed(BM25_FIELD):
            self._create_index(BM25_FIELD, index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")

    def _create_index(self, field_name: str, **index: Any) -> None:
        client = self.client
        params = client.prepare_index_params()
        params.add_index(field_name, **index)
        call(lambda: client.create_index(self.name, params), f"creating an index on '{field_name}'")

    def _scalar_index(self, field_name: str, kind: Kind = Kind.VARCHAR) -> None:
        """INVERTED where supported (Lite, newer servers); Trie (strings) or STL_SORT (numbers) on 2.3."""
        numeric = kind == Kind.INT64
        known = self.scalar_index_types.get(numeric)
        for index_type in ([known] if known else ["INVERTED", "STL_SORT" if numeric else "Trie"]):
            try:
                self._create_index(field_name, index_type=index_type, index_name=f"{field_name}_idx")
                self.scalar_index_types[numeric] = index_type
                return
            except (ConfigError, ServiceError) as exc:
                logger.info(f"scalar index {index_type} on {field_name} not available: {exc}")
        logger.warning(f"No scalar index could be created on {field_name}; filters on it will scan.")

    # --- properties ---------------------------------------------------------------------------

    def _set_properties(self, properties: dict[str, str], info: CollectionInfo | None = None) -> None:
        client = self.client
        call(lambda: client.alter_collection_properties(self.name, properties=properties),
             "setting the collection's properties")
        target = info if info is not None else self.info
        if target is not None:
            target.properties.update(properties)

    def set_keyed_rows(self, keyed: bool) -> None:
        self.described()
        self._set_properties({KEYED_PROPERTY: "1" if keyed else "0"})

    def set_model(self, model_id: str) -> None:
        self._set_properties({MODEL_PROPERTY: model_id})

    def set_property(self, name: str, value: str) -> None:
        """A collection property every client of the collection reads (the support lookups' rule)."""
        self._set_properties({name: value})


def _collection_info(name: str, vector_field: str, desc: dict[str, Any]) -> CollectionInfo:
    """The shape `describe_collection` reports (metric and vector index are read separately)."""
    fields = {f["name"]: kind_of(f["type"]) for f in desc["fields"]}
    params = {f["name"]: dict(f.get("params") or {}) for f in desc["fields"]}
    pk = next(f for f in desc["fields"] if f.get("is_primary"))
    dim = params.get(vector_field, {}).get("dim")
    return CollectionInfo(
        name=name, pk_field=pk["name"], pk_type=kind_of(pk["type"]), auto_id=bool(pk.get("auto_id")),
        pk_max_length=int(params[pk["name"]].get("max_length", VARCHAR_PK_LENGTH) or VARCHAR_PK_LENGTH),
        vector_field=vector_field, vector_type=fields.get(vector_field),
        dimensions=int(dim) if dim is not None else None, dynamic=bool(desc.get("enable_dynamic_field")),
        fields=fields, field_params=params, metric=None,
        properties={str(k): str(v) for k, v in (desc.get("properties") or {}).items()},
        function_outputs=_function_outputs(desc),
        partition_key=next((str(f["name"]) for f in desc["fields"] if f.get("is_partition_key")), None),
    )


def _bm25_output(desc: dict[str, Any], info: CollectionInfo, text_field: str) -> str | None:
    """The sparse field a BM25 function fills from the text field, if any (searchable only if indexed).
    Read from the schema, so any collection with the feature qualifies, whoever created it."""
    for function in desc.get("functions") or []:
        outputs, inputs = function.get("output_field_names") or [], function.get("input_field_names") or []
        if (_function_type_name(function.get("type")) == "BM25" and inputs == [text_field]
                and len(outputs) == 1 and info.fields.get(outputs[0]) == Kind.SPARSE_FLOAT_VECTOR):
            return str(outputs[0])
    return None


def _function_outputs(desc: dict[str, Any]) -> frozenset[str]:
    """Fields a schema function (BM25, ...) fills: Milvus refuses rows that carry them."""
    return frozenset(name for function in desc.get("functions") or [] for name in function.get("output_field_names", []))


def _function_type_name(value: Any) -> str:
    """FunctionType.BM25, or its name/number as some pymilvus versions report it."""
    if isinstance(value, FunctionType):
        return value.name
    if isinstance(value, int):
        return FunctionType(value).name if value in {t.value for t in FunctionType} else str(value)
    return str(value).rsplit(".", 1)[-1].upper()
