"""The connector's configuration model (pydantic v2): what a config may hold and its defaults.

The shape is the official `destination-milvus` config (`processing`, `embedding`, `indexing`,
`omit_raw_text`) so a saved config moves over unchanged; our extensions all have defaults. The spec
shown to Airbyte is generated from these classes (`spec.py`); user-facing messages for a config that
does not validate are written by `validation.py`.
"""

from __future__ import annotations

import os
import re
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

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

    @field_validator("host")
    @classmethod
    def _server_url_or_lite_file(cls, host: str) -> str:
        """A URL means a server, a path ending in `.db` a Milvus Lite file, made absolute here so that
        every message names the file really used (a relative path follows the working directory).
        Anything else is refused with what it was taken for: `localhost:19530` is not a file name."""
        host = host.strip()
        if "://" in host:
            return host
        if host.endswith(".db"):
            return os.path.abspath(os.path.expanduser(host))
        raise ValueError(host_hint(host))

    @property
    def is_lite(self) -> bool:
        """A path (not a URL) means Milvus Lite."""
        return "://" not in self.host

    @property
    def uri(self) -> str:
        if self.is_lite:
            return self.host
        return "http://" + self.host[len("tcp://"):] if self.host.startswith("tcp://") else self.host


_HOST_PORT = re.compile(r"^\[?[A-Za-z0-9_.:-]+\]?(:\d+)?$")


def host_hint(host: str) -> str:
    """Why `host` is neither a server URL nor a Milvus Lite file, and what was probably meant."""
    if host and "/" not in host and _HOST_PORT.match(host) and not host.startswith("."):
        port = "" if re.search(r":\d+$", host) else ":19530"
        return (f"{host!r} has no scheme, so it is neither a server URL nor a Milvus Lite file: for a Milvus "
                f"server write 'http://{host}{port}' (https:// with TLS); a Milvus Lite file ends in .db")
    suggestion = (host.rstrip("/") or "./zendesk") + ".db"
    return (f"{host!r} is neither a server URL (http://host:19530) nor a Milvus Lite file: a Milvus Lite "
            f"database path must end in .db, e.g. {suggestion!r}")


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
    # keys of the raw config no setting reads (validation.ignored_keys), for a warning
    _ignored_keys: list[str] = PrivateAttr(default_factory=list)
    reuse_embeddings: bool = Field(
        default=True, title="Reuse stored vectors of unchanged text",
        description="On append_dedup, a chunk whose text is unchanged keeps its stored vector: no tokens spent.",
        json_schema_extra={"group": "advanced"},
    )
