"""The Airbyte destination: spec, check, write — and the boundary where errors become traces."""

from __future__ import annotations

import io
import json
import logging
import re
import sys
from typing import Any, Iterable, Iterator, Mapping

import orjson
from airbyte_cdk.models import (AirbyteConnectionStatus, AirbyteMessage, AirbyteMessageSerializer,
                                ConfiguredAirbyteCatalog, ConnectorSpecification, ConnectorSpecificationSerializer,
                                Status, Type)
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from .cdk_adapter import StrictInputDestination, stdout_lock
from .config import ConnectorConfig, parse_config, spec_payload
from .embedding.base import Embedder
from .embedding.factory import create_embedder
from .errors import ConfigError, ConnectorError, InputError
from .milvus_store import MODEL_PROPERTY, CollectionInfo, MilvusStore, check_collection
from .support.calibration import calibration_note
from .writer import InputLine, Writer

logger = logging.getLogger("airbyte")
CHECK_EMBEDDING_RETRIES = 1
CHECK_EMBEDDING_TIMEOUT_S = 15.0


def traced(exc: ConnectorError) -> AirbyteTracedException:
    return AirbyteTracedException(message=exc.message, internal_message=exc.internal, failure_type=exc.failure_type)


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


class DestinationMilvusZendesk(StrictInputDestination):
    def run(self, args: list[str]) -> None:
        """The CDK's run, except that each message leaves in ONE write, under the lock of the CDK's log
        buffer: print() writes the text and the newline separately, and a log line flushed by another
        thread (the writer's retries, the input reader) in between put two messages on one line."""
        from airbyte_cdk.exception_handler import init_uncaught_exception_handler

        init_uncaught_exception_handler(logger)
        parsed = self.parse_args(args)
        problem = _config_file_problem(getattr(parsed, "config", None)) if parsed.command in ("check", "write") else None
        if problem is not None:
            # The CDK would die with FATAL and a traceback; a config mistake is one actionable line.
            if parsed.command == "check":
                messages: Iterable[AirbyteMessage] = [AirbyteMessage(type=Type.CONNECTION_STATUS,
                    connectionStatus=AirbyteConnectionStatus(status=Status.FAILED, message=problem))]
            else:
                traced(ConfigError(problem)).emit_message()
                sys.exit(1)
        else:
            messages = self.run_cmd(parsed)
        for message in messages:
            line = orjson.dumps(AirbyteMessageSerializer.dump(message)).decode() + "\n"
            with stdout_lock():
                sys.stdout.write(line)

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
                    "the first sync creates it (check indexing.host if you expected an existing one)."))
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
            embedder.check()
            return AirbyteConnectionStatus(status=Status.SUCCEEDED, message=f"Milvus and the embedding model are "
                                           f"ready.{note}")
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
        except ConnectorError as exc:
            raise traced(exc) from None
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
        for number, raw in enumerate(source, 1):
            line = _decoded(raw, number)
            if line.strip():
                yield InputLine(number, _message(line, number))


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
        raise traced(InputError(f"Line {number} of the input is not an Airbyte message "
                                f"({type(exc).__name__}: {_error_detail(exc)}).")) from None
    if (message.type == Type.RECORD and message.record is None) or (
            message.type == Type.STATE and message.state is None):
        kind = message.type.value
        raise traced(InputError(f"Line {number} of the input is not an Airbyte message ({kind} "
                                f"without its '{kind.lower()}' object).")) from None
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
        raise traced(InputError(f"Line {line_number} of the input is not valid JSON ({error.msg}); "
                                "the sync stops here, everything before it is stored.")) from None


def _config_file_problem(path: str | None) -> str | None:
    """Why the --config file cannot be used (missing, unreadable, not JSON, not an object), or None."""
    if not path:
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            raw = json.load(handle)
    except OSError as exc:
        return f"Cannot read the configuration file {path!r}: {exc.strerror or exc}."
    except ValueError as exc:
        where = f"line {exc.lineno} column {exc.colno}: {exc.msg}" if isinstance(exc, json.JSONDecodeError) else str(exc)
        return f"The configuration file {path!r} is not valid JSON ({where}): fix the file."
    if not isinstance(raw, dict):
        return f"The configuration file {path!r} must hold a JSON object, not a {type(raw).__name__}."
    return None
