"""The Airbyte destination: spec, check, write — and the boundary where errors become traces."""

from __future__ import annotations

import argparse
import io
import json
import logging
import re
from typing import Any, Iterable, Iterator, Mapping

import orjson
from airbyte_cdk.models import (AirbyteConnectionStatus, AirbyteMessage, AirbyteMessageSerializer,
                                ConfiguredAirbyteCatalog, ConfiguredAirbyteCatalogSerializer, ConnectorSpecification,
                                ConnectorSpecificationSerializer, Status, Type)

from .cdk_adapter import ProtocolDestination
from .config import ConnectorConfig, ignored_keys, parse_config, read_json_object, spec_payload
from .embedding.base import Embedder
from .embedding.factory import create_embedder
from .errors import ConfigError, ConnectorError, InputError
from .migration.shape import scanning_advice
from .milvus import MilvusStore, check_collection
from .schema import MODEL_PROPERTY, CollectionInfo
from .support.calibration import calibration_note
from .writer import InputLine, Writer

logger = logging.getLogger("airbyte")
CHECK_EMBEDDING_RETRIES = 1
CHECK_EMBEDDING_TIMEOUT_S = 15.0


def validate_collection(info: CollectionInfo, embedder: Embedder, cfg: ConnectorConfig) -> None:
    """Everything check verifies about the collection; write runs it too, before any data flows."""
    check_collection(info, dimensions=embedder.dimensions, model_id=embedder.model_id,
                     text_field=cfg.indexing.text_field, omit_raw_text=cfg.omit_raw_text)


def retrieval_note(info: CollectionInfo) -> str:
    """Which retrieval the support form gets on this collection, for check's message."""
    if info.bm25_field:
        return (f"Retrieval: hybrid (dense vectors + BM25 full text on '{info.bm25_field}', filled by Milvus from "
                "the text field).")
    return ("Retrieval: dense vectors only (the collection has no BM25 full-text field; a collection this connector "
            "creates on Milvus 2.5+, Zilliz Cloud or Milvus Lite has one: see docs/milvus-zendesk.md).")


class DestinationMilvusZendesk(ProtocolDestination):
    def preflight(self, parsed: argparse.Namespace, config: Mapping[str, Any]) -> None:
        """The catalog file and the config, checked before the CDK reads them: its own checks end in a
        FATAL traceback (a missing catalog) or a JSON-schema message that does not name the key's path."""
        if parsed.command == "write":
            catalog_file(parsed.catalog)
        parse_config(dict(config))

    def spec(self, logger: logging.Logger) -> ConnectorSpecification:
        return ConnectorSpecificationSerializer.load(spec_payload())

    # --- check ----------------------------------------------------------------------------------

    def check(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteConnectionStatus:
        store = None
        try:
            cfg = parse_config(dict(config))
            check_cfg = cfg.model_copy(update={
                "embedding_max_retries": min(cfg.embedding_max_retries, CHECK_EMBEDDING_RETRIES),
                "embedding_timeout_seconds": min(cfg.embedding_timeout_seconds, CHECK_EMBEDDING_TIMEOUT_S)})
            embedder = create_embedder(check_cfg)
            store = MilvusStore(cfg.indexing)
            note = ""
            if store.lite_missing and cfg.indexing.create_collection:
                # check never creates a database: a typo in the path must not leave an empty one behind
                embedder.check()
                return AirbyteConnectionStatus(status=Status.SUCCEEDED, message=(
                    f"The embedding model is ready. Milvus Lite database {cfg.indexing.host!r} does not exist yet: "
                    "the first sync creates it (check indexing.host if you expected an existing one)."
                    f"{ignored_note(cfg)}"))
            store.connect(create=False)
            info = store.describe()
            if info is None:
                if not cfg.indexing.create_collection:
                    db = cfg.indexing.db or "default"
                    raise ConfigError(f"Collection '{cfg.indexing.collection}' does not exist in database '{db}': "
                                      "create it (see the docs) or enable indexing.create_collection.")
                note = (f" Collection '{cfg.indexing.collection}' will be created on the first sync, with hybrid "
                        "retrieval (dense + BM25 full text) if this Milvus supports BM25 (2.5+, Zilliz Cloud, Lite).")
            else:
                store.load(info)
                validate_collection(info, embedder, cfg)
                note = f" {retrieval_note(info)} {calibration_note(info.properties, embedder.model_id, embedder.dimensions)}"
                note += f" {scanning_advice(store, info)}".rstrip()
            embedder.check()
            return AirbyteConnectionStatus(status=Status.SUCCEEDED, message=f"Milvus and the embedding model are "
                                           f"ready.{note}{ignored_note(cfg)}")
        except ConnectorError as exc:
            return AirbyteConnectionStatus(status=Status.FAILED, message=exc.message)
        finally:
            if store is not None:
                store.close()

    # --- write ----------------------------------------------------------------------------------

    def write(self, config: Mapping[str, Any], configured_catalog: ConfiguredAirbyteCatalog,
              input_messages: Iterable[AirbyteMessage | InputLine]) -> Iterable[AirbyteMessage]:
        """`input_messages`: what `parse_input` yields (messages with their line numbers), or plain messages."""
        store = None
        try:
            cfg = parse_config(dict(config))
            if ignored_keys(cfg):
                logger.warning(ignored_note(cfg).strip())
            embedder = create_embedder(cfg)
            store = MilvusStore(cfg.indexing, write_batch_rows=cfg.write_batch_rows,
                                write_batch_bytes=cfg.write_batch_bytes)
            store.connect()
            info = store.describe()
            if info is None:
                if not cfg.indexing.create_collection:
                    raise ConfigError(f"Collection '{cfg.indexing.collection}' does not exist: create it or enable "
                                      "indexing.create_collection.")
                info = store.create_collection(embedder.dimensions)
            else:
                info = store.repair(info)
                store.load(info)
            validate_collection(info, embedder, cfg)
            if not info.properties.get(MODEL_PROPERTY):
                store.set_model(embedder.model_id)
            writer = Writer(cfg, store, embedder, configured_catalog)
            yield from writer.run(input_messages)
        finally:
            if store is not None:
                store.close()

    # --- strict input -----------------------------------------------------------------------------

    def parse_input(self, input_stream: io.TextIOWrapper) -> Iterator[InputLine]:
        """Every line must be an Airbyte message: a bad one stops the sync with its line number.

        Each message comes with its line number (`InputLine`), which `write` hands to the writer as is:
        the writer reads ahead in a thread, so errors it finds later still name the right line.

        The CDK's default logs and skips lines it cannot parse; for a destination that would lose
        records without a trace. Bytes that are not UTF-8 are replaced (U+FFFD) and reported.
        """
        source = getattr(input_stream, "buffer", None) or input_stream
        if _is_terminal(source):
            logger.warning("write reads Airbyte messages from standard input, which is a terminal here: pipe them in "
                           "(`... write --config C --catalog K < messages.jsonl`), or end the input with Ctrl-D.")
        messages = 0
        for number, raw in enumerate(source, 1):
            line = _decoded(raw, number)
            if line.strip():
                messages += 1
                yield InputLine(number, _message(line, number))
        if not messages:
            logger.warning("The input was empty: no Airbyte message was read from standard input, so nothing was "
                           "written. The platform sends the source's records there; by hand, pipe a file in "
                           "(`< messages.jsonl`).")


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def ignored_note(cfg: ConnectorConfig) -> str:
    """A sentence naming the config keys no setting reads ('' when there are none)."""
    keys = ignored_keys(cfg)
    if not keys:
        return ""
    return (f" Ignored unknown configuration key{'s' if len(keys) > 1 else ''} "
            f"{', '.join(repr(k) for k in keys)} (no setting has that name).")


def _decoded(raw: bytes | str, number: int) -> str:
    if not isinstance(raw, bytes):
        return raw
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        logger.warning(f"Line {number}: bytes that are not UTF-8 were replaced by U+FFFD.")
        return raw.decode("utf-8", "replace")


def _message(line: str, number: int) -> AirbyteMessage:
    """One input line as an Airbyte message; anything else stops the sync naming the line."""
    try:
        payload = orjson.loads(line)
        if _LONG_DIGITS.search(line):  # orjson turns integers beyond 64 bits into (rounded) floats:
            payload = json.loads(line)  # ids 2**70 + 1 and 2**70 + 2 would become one record
    except orjson.JSONDecodeError as exc:
        payload = _lenient_json(line, exc, number)
    try:
        message = AirbyteMessageSerializer.load(payload)
    except Exception as exc:  # noqa: BLE001 - the serializer raises many types
        raise InputError(f"Line {number} of the input is not an Airbyte message "
                         f"({type(exc).__name__}: {_error_detail(exc)}).") from None
    if (message.type == Type.RECORD and message.record is None) or (
            message.type == Type.STATE and message.state is None):
        kind = message.type.value
        raise InputError(f"Line {number} of the input is not an Airbyte message ({kind} "
                         f"without its '{kind.lower()}' object).") from None
    return message


def _error_detail(exc: BaseException) -> str:
    """The serializer's message on one line, with the reason: its first line alone ("Schema validation
    failed:") does not say which field is missing; the next ones do ("emitted_at" is a required property)."""
    lines = [line.strip().lstrip("- ").strip() for line in str(exc).splitlines() if line.strip()]
    return " ".join(lines)[:300]


_LONG_DIGITS = re.compile(r"\d{20}")  # a 20-digit run: maybe an integer orjson cannot hold exactly


def _lenient_json(line: str, error: orjson.JSONDecodeError, line_number: int) -> Any:
    """What orjson refuses but Python sources emit (json.dumps): lone surrogate escapes ("\\ud800",
    e.g. a truncated emoji) and NaN/Infinity. They are legal records: the documents module replaces
    the surrogates (U+FFFD) and stores non-finite numbers as null, with a warning. Anything else that
    orjson refuses, or nesting too deep to handle, stops the sync naming the line."""
    try:
        return json.loads(line)
    except (ValueError, RecursionError):
        raise InputError(f"Line {line_number} of the input is not valid JSON ({error.msg}); "
                         "the sync stops here, everything before it is stored.") from None


def catalog_file(path: str) -> ConfiguredAirbyteCatalog:
    """The --catalog file as a configured catalog, or one config_error line naming the file and the problem."""
    raw = read_json_object(path, "catalog file")
    try:
        return ConfiguredAirbyteCatalogSerializer.load(raw)
    except Exception as exc:  # noqa: BLE001 - the serializer raises many types
        raise ConfigError(f"The catalog file {path!r} is not a configured Airbyte catalog ({type(exc).__name__}: "
                          f"{_error_detail(exc)}).") from None
