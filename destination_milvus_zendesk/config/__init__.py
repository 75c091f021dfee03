"""The connector's configuration: the model (`model`), the spec generated from it (`spec`), the
validation that turns a raw config into the model or one actionable line (`validation`), and reading
the JSON files commands are given (`files`)."""

from .files import read_json_object
from .model import *  # noqa: F401,F403 - the model classes and constants are the package's API
from .model import ConnectorConfig, IndexingConfig, ProcessingConfig
from .spec import DOCS_URL, spec_payload, spec_schema
from .validation import ignored_keys, parse_config, unknown_keys

__all__ = ["ConnectorConfig", "DOCS_URL", "IndexingConfig", "ProcessingConfig", "ignored_keys", "parse_config",
           "read_json_object", "spec_payload", "spec_schema", "unknown_keys"]
