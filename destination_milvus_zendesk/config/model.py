"""Connector configuration (pydantic v2) and the spec generated from it.

The shape is the official `destination-milvus` config (`processing`, `embedding`, `indexing`,
`omit_raw_text`) so a saved config moves over unchanged; our extensions all have defaults.
"""

from __future__ import annotations

import copy
import os
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import ConfigError

ADA_002 = "text-embedding-ada-002"
OPENAI_MODEL_DIMENSIONS = {ADA_002: 1536, "text-embedding-3-small": 1536, "text-embedding-3-large": 3072}
LOCAL_MODEL = "wordllama-l2-supercat-256"
LOCAL_MODEL_DIMENSIONS = 256
FAKE_DIMENSIONS = 1536
DEFAULT_TEXT_FIELDS = ["body", "title", "description", "subject"]


def _option(title: str, description: str) -> ConfigDict:
    """A oneOf option as the Airbyte UI wants it: titled, described, discriminated by `mode`."""
    return ConfigDict(title=title, json_schema_extra={"description": description, "required": ["mode"]})


# --- processing -------------------------------------------------------------------------------


class SeparatorSplitter(BaseModel):
    model_config = _option("By Separator", "Split by the separators in order (paragraphs, lines, words).")
    mode: Literal["separator"] = "separator"
    separators: list[str] = Field(
        default=['"\\n\\n"', '"\\n"', '" "', '""'],
        title="Separators",
        description='JSON-quoted separator strings tried in order, e.g. "\\n\\n" then "\\n".',
    )
    keep_separator: bool = Field(
        default=False, title="Keep separator",
        description="Keep the separator where text is cut between two chunks (at the end of the first); off, as in "
                    "the official connector, it is dropped there. Inside a chunk the text is always kept as is.",
    )


class MarkdownSplitter(BaseModel):
    model_config = _option("By Markdown header", "Split at Markdown headers down to the given level.")
    mode: Literal["markdown"] = "markdown"
    split_level: int = Field(default=1, ge=1, le=6, title="Split level")


# The languages of the official connector's spec (langchain's `Language` values it accepts).
CodeLanguage = Literal["cpp", "go", "java", "js", "php", "proto", "python", "rst", "ruby", "rust", "scala", "swift",
                       "markdown", "latex", "html", "sol"]


class CodeSplitter(BaseModel):
    model_config = _option("By Programming Language", "Split code at language-specific places.")
    mode: Literal["code"] = "code"
    language: CodeLanguage = Field(
        title="Language",
        description="Programming language of the text fields: chunks start at its definitions (class, function, ...) "
                    "before falling back to blank lines, lines and words.",
    )


TextSplitter = Annotated[Union[SeparatorSplitter, MarkdownSplitter, CodeSplitter], Field(discriminator="mode")]


class FieldNameMapping(BaseModel):
    from_field: str = Field(title="From field name")
    to_field: str = Field(title="To field name")


class ProcessingConfig(BaseModel):
    model_config = ConfigDict(title="ProcessingConfigModel", json_schema_extra={"group": "processing"})

    chunk_size: int = Field(
        default=1000, ge=1, le=8191, title="Chunk size",
        description="Maximum size of a chunk in tokens (cl100k_base). Longer text is split into several chunks.",
    )
    chunk_overlap: int = Field(
        default=0, ge=0, title="Chunk overlap",
        description="Tokens repeated at the start of the next chunk, to keep context across a split.",
    )
    text_fields: list[str] = Field(
        default_factory=list, title="Text fields to embed",
        description="Fields embedded as text; dot paths (`via.channel`) and `*` wildcards (`comments.*.body`) allowed. "
        "Empty means every field. For Zendesk use body, title, description, subject.",
        examples=[DEFAULT_TEXT_FIELDS],
        json_schema_extra={"always_show": True},
    )
    metadata_fields: list[str] = Field(
        default_factory=list, title="Fields to store as metadata",
        description="Fields stored next to the vector (same path syntax). Empty means every field, text fields included.",
        examples=[["status", "organization_id", "html_url"]],
        json_schema_extra={"always_show": True},
    )
    text_splitter: TextSplitter | None = Field(default=None, title="Text splitter", json_schema_extra={"type": "object"})
    field_name_mappings: list[FieldNameMapping] = Field(default_factory=list, title="Field name mappings")
    embed_field_names: bool = Field(
        default=True, title="Prefix text with field names",
        description="Embed `subject: ...` lines as the official connector does. Turn off to embed the bare values "
        "(fewer tokens, closer to what users type into a search box).",
    )
    html_to_text: bool = Field(
        default=True, title="Convert HTML to text",
        description="Text values that are HTML (Help Center article bodies) are embedded as readable plain text.",
    )

    @field_validator("chunk_overlap")
    @classmethod
    def _overlap_below_size(cls, value: int, info: Any) -> int:
        size = info.data.get("chunk_size", 1000)
        if value >= size:
            raise ValueError(f"chunk_overlap ({value}) must be smaller than chunk_size ({size})")
        return value


# --- embedding --------------------------------------------------------------------------------


class OpenAIEmbedding(BaseModel):
    model_config = _option("OpenAI", "Embed with the OpenAI API. Without a model, text-embedding-ada-002 (1536-d) "
                           "keeps collections written by the official connector in one vector space.")
    mode: Literal["openai"] = "openai"
    openai_key: str = Field(title="OpenAI API key", json_schema_extra={"airbyte_secret": True})
    model: str = Field(default=ADA_002, title="Model", examples=list(OPENAI_MODEL_DIMENSIONS))
    dimensions: int | None = Field(
        default=None, ge=1, title="Dimensions",
        description="Shorten text-embedding-3 vectors to this many dimensions (must match the collection).",
    )

    @property
    def base_url(self) -> str | None:
        return os.environ.get("OPENAI_BASE_URL") or None


class AzureOpenAIEmbedding(BaseModel):
    model_config = _option("Azure OpenAI", "Embed with an Azure OpenAI deployment of text-embedding-ada-002 (1536-d).")
    mode: Literal["azure_openai"] = "azure_openai"
    openai_key: str = Field(title="Azure OpenAI API key", json_schema_extra={"airbyte_secret": True})
    api_base: str = Field(title="Resource base URL", examples=["https://your-resource-name.openai.azure.com"])
    deployment: str = Field(title="Deployment", examples=["your-resource-name"])
    api_version: str = Field(default="2024-02-01", title="API version")
    dimensions: int = Field(default=1536, ge=1, title="Embedding dimensions")


class OpenAICompatibleEmbedding(BaseModel):
    model_config = _option("OpenAI-compatible", "Embed with any service that speaks the OpenAI embeddings API.")
    mode: Literal["openai_compatible"] = "openai_compatible"
    api_key: str = Field(default="", title="API key", json_schema_extra={"airbyte_secret": True})
    base_url: str = Field(title="Base URL", examples=["https://your-service-name.com/v1"])
    model_name: str = Field(default=ADA_002, title="Model name")
    dimensions: int = Field(ge=1, title="Embedding dimensions", examples=[1536, 384])


class CohereEmbedding(BaseModel):
    model_config = _option("Cohere", "Accepted for config compatibility; check refuses it (not supported yet).")
    mode: Literal["cohere"] = "cohere"
    cohere_key: str = Field(title="Cohere API key", json_schema_extra={"airbyte_secret": True})


class FakeEmbedding(BaseModel):
    model_config = _option("Fake", "Deterministic 1536-d hashed bag-of-words vectors: for testing the pipeline at no cost.")
    mode: Literal["fake"] = "fake"


class FromFieldEmbedding(BaseModel):
    model_config = _option("From Field", "Use a vector already present in each record.")
    mode: Literal["from_field"] = "from_field"
    field_name: str = Field(title="Field name", examples=["embedding"])
    dimensions: int = Field(ge=1, title="Embedding dimensions", examples=[1536, 384])


class LocalEmbedding(BaseModel):
    model_config = _option("Local (offline)", "A small static embedding model shipped inside a Python package "
                           "(wordllama, 256-d): no network, no API key, CPU only.")
    mode: Literal["local"] = "local"
    model: Literal["wordllama-l2-supercat-256"] = Field(default=LOCAL_MODEL, title="Model")


EmbeddingConfig = Annotated[
    Union[OpenAIEmbedding, AzureOpenAIEmbedding, OpenAICompatibleEmbedding, CohereEmbedding,
          FakeEmbedding, FromFieldEmbedding, LocalEmbedding],
    Field(discriminator="mode"),
]


# --- indexing ---------------------------------------------------------------------------------


class TokenAuth(BaseModel):
    model_config = _option("API Token", "Authenticate with a token (Zilliz Cloud API key, or `user:password`).")
    mode: Literal["token"] = "token"
    token: str = Field(title="API Token", json_schema_extra={"airbyte_secret": True})


class UsernamePasswordAuth(BaseModel):
    model_config = _option("Username/Password", "Authenticate with a Milvus user and password.")
    mode: Literal["username_password"] = "username_password"
    username: str = Field(title="Username")
    password: str = Field(title="Password", json_schema_extra={"airbyte_secret": True})


class NoAuth(BaseModel):
    model_config = _option("No auth", "No authentication (local servers and Milvus Lite files).")
    mode: Literal["no_auth"] = "no_auth"


AuthConfig = Annotated[Union[TokenAuth, UsernamePasswordAuth, NoAuth], Field(discriminator="mode")]


class IndexingConfig(BaseModel):
    model_config = ConfigDict(title="Indexing", json_schema_extra={"group": "indexing"})

    host: str = Field(
        title="Public Endpoint",
        description="Milvus endpoint (`https://...`, `http://host:19530`, `tcp://host:19530`) or a local file path "
        "ending in `.db`, which means an embedded Milvus Lite database.",
        examples=["https://abcd.api.gcp-us-west1.zillizcloud.com", "tcp://host.docker.internal:19530", "./zendesk.db"],
    )
    db: str = Field(default="", title="Database name", description="Empty means the default database.")
    collection: str = Field(title="Collection Name", description="The collection to load into.")
    auth: AuthConfig = Field(default_factory=NoAuth, title="Authentication", json_schema_extra={"type": "object"})
    vector_field: str = Field(default="vector", title="Vector Field")
    text_field: str = Field(default="text", title="Text Field")
    create_collection: bool = Field(
        default=False, title="Create the collection if missing",
        description="Create it with primary key `id` (VARCHAR, record-defined), `vector`, `text`, dynamic fields, "
        "an L2 index and scalar indexes on the bookkeeping fields. Off: check fails if it is missing.",
    )
    full_text_search: bool = Field(
        default=True, title="Full-text (BM25) search in created collections",
        description="A collection the connector creates also gets BM25 full-text search where the backend has it "
        "(Milvus Lite, Milvus 2.5+, Zilliz Cloud), and the support form then searches by meaning and by exact "
        "words. It costs memory (about 750 MB more per 100k rows on Milvus Lite) and insert time (~+30%). Off: "
        "dense vectors only. Existing collections are never changed.",
    )
    timeout_seconds: float = Field(default=20.0, gt=0, title="Request timeout (s)")

    @property
    def is_lite(self) -> bool:
        """A path (not a URL) means Milvus Lite."""
        return "://" not in self.host

    @property
    def uri(self) -> str:
        if self.is_lite:
            return self.host
        return "http://" + self.host[len("tcp://"):] if self.host.startswith("tcp://") else self.host


# --- the whole config -------------------------------------------------------------------------


class ConnectorConfig(BaseModel):
    model_config = ConfigDict(
        title="Destination Milvus Zendesk",
        json_schema_extra={"groups": [
            {"id": "processing", "title": "Processing"},
            {"id": "embedding", "title": "Embedding"},
            {"id": "indexing", "title": "Indexing"},
            {"id": "advanced", "title": "Advanced"},
        ]},
    )

    processing: ProcessingConfig = Field(default_factory=ProcessingConfig)
    embedding: EmbeddingConfig = Field(title="Embedding", json_schema_extra={"group": "embedding", "type": "object"})
    indexing: IndexingConfig
    omit_raw_text: bool = Field(
        default=False, title="Do not store raw text", json_schema_extra={"group": "advanced"},
        description="Store only vectors and metadata, not the embedded chunk text.",
    )
    embedding_batch_size: int = Field(
        default=128, ge=1, le=2048, title="Inputs per embedding request", json_schema_extra={"group": "advanced"},
    )
    embedding_batch_tokens: int = Field(
        default=100_000, ge=1000, le=300_000, title="Tokens per embedding request",
        description="OpenAI refuses requests over 300k tokens.", json_schema_extra={"group": "advanced"},
    )
    embedding_concurrency: int = Field(
        default=8, ge=1, le=64, title="Embedding requests in flight", json_schema_extra={"group": "advanced"},
    )
    embedding_max_retries: int = Field(
        default=8, ge=0, le=30, title="Retries per embedding request",
        description="429, 5xx and timeouts are retried with backoff honouring Retry-After.",
        json_schema_extra={"group": "advanced"},
    )
    embedding_timeout_seconds: float = Field(default=60.0, gt=0, title="Embedding request timeout (s)",
                                             json_schema_extra={"group": "advanced"})
    write_batch_rows: int = Field(default=1000, ge=1, le=50_000, title="Rows per Milvus write",
                                  json_schema_extra={"group": "advanced"})
    write_batch_bytes: int = Field(
        default=16 * 1024 * 1024, ge=64 * 1024, le=60 * 1024 * 1024, title="Bytes per Milvus write",
        description="Milvus refuses gRPC messages over 64 MB (Milvus Lite: less).", json_schema_extra={"group": "advanced"},
    )
    reuse_embeddings: bool = Field(
        default=True, title="Reuse stored vectors of unchanged text",
        description="On append_dedup, a chunk whose text is unchanged keeps its stored vector: no tokens spent.",
        json_schema_extra={"group": "advanced"},
    )


def parse_config(raw: dict[str, Any]) -> ConnectorConfig:
    """Validate a raw config; failures become one config_error line naming the field."""
    try:
        return ConnectorConfig.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = _config_path(raw, first["loc"])
        fix = ""
        if first.get("type") == "missing":
            parent, _, name = where.rpartition(".")
            target = f"the '{parent}' object" if parent else "the config"
            fix = f": add '{name}' to {target}"
        raise ConfigError(f"Invalid configuration at '{where}': {first['msg']}{fix}.") from None


def _config_path(raw: Any, loc: tuple[Any, ...]) -> str:
    """The error's location as the user's config spells it: pydantic puts the discriminated union's tag in
    the path (`embedding.openai.openai_key`), a key that is not in the config (`embedding.openai_key`)."""
    parts: list[str] = []
    node = raw
    tag_skipped = False
    for part in loc:
        text = str(part)
        if text.startswith(("function-", "tagged-union")):
            continue
        if not tag_skipped and isinstance(node, dict) and part not in node and node.get("mode") == part:
            tag_skipped = True  # the union tag: this object's own `mode`, once
            continue
        tag_skipped = False
        parts.append(text)
        node = node.get(part) if isinstance(node, dict) else (
            node[part] if isinstance(node, list) and isinstance(part, int) and part < len(node) else None)
    return ".".join(parts)


def _without_null_option(node: dict[str, Any]) -> dict[str, Any]:
    """`anyOf: [X, null]` (pydantic's Optional) as X itself; several options left become `oneOf`."""
    if "anyOf" in node and any(isinstance(o, dict) and o.get("type") == "null" for o in node["anyOf"]):
        options = [o for o in node.pop("anyOf") if o.get("type") != "null"]
        if len(options) == 1:
            node = {**options[0], **node}
        else:
            node["oneOf"] = options
    return node


DOCS_URL = "https://github.com/destination-milvus-zendesk/destination-milvus-zendesk/blob/main/docs/milvus-zendesk.md"


def spec_payload() -> dict[str, Any]:
    """The `spec` command's ConnectorSpecification as protocol JSON. `entrypoint.py` prints it without
    loading the CDK or pymilvus (a cold `spec`: 0.16 s instead of 1.70 s, bench/run.py --only cpu);
    the CDK's `spec()` parses the same dict, so both paths say the same (unit_tests/test_entrypoint.py)."""
    return {
        "documentationUrl": DOCS_URL,
        "supportsIncremental": True,
        "supportsNormalization": False,
        "supportsDBT": False,
        "supported_destination_sync_modes": ["overwrite", "append", "append_dedup"],
        "connectionSpecification": spec_schema(),
    }


def spec_schema() -> dict[str, Any]:
    """JSON schema for the spec: references inlined, pydantic's discriminator objects removed."""
    schema = ConnectorConfig.model_json_schema()
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                target = copy.deepcopy(defs[node["$ref"].split("/")[-1]])
                extra = {k: v for k, v in node.items() if k != "$ref"}
                return inline({**target, **extra})
            return _without_null_option({k: inline(v) for k, v in node.items() if k != "discriminator"})
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    schema = inline(schema)
    schema["required"] = ["embedding", "indexing"]
    return schema
