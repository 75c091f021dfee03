"""Milvus failures, classified at the boundary: retry (then a transient_error), config_error or
system_error, from error codes and exception types, never from message text. `call` is the one
wrapper every Milvus request of the package goes through, the collection's creation included."""

from __future__ import annotations

import enum
import logging
import os
import time
from typing import Any, Callable

import grpc
from pymilvus import MilvusException
from pymilvus.exceptions import (AutoIDException, ConnectError, DataNotMatchException, DataTypeNotMatchException,
                                 DataTypeNotSupportException, FieldsTypeException, FieldTypeException,
                                 MilvusUnavailableException, ParamError, PartitionKeyException, PrimaryKeyException,
                                 SchemaNotReadyException)
from pymilvus.grpc_gen import common_pb2

from ..errors import ConfigError, ServiceError, TransientError

logger = logging.getLogger("airbyte")

WRITE_RETRIES = 5


class Failure(enum.Enum):
    RETRY = "retry"  # unavailable, overloaded, rate limited, shards moving: a later attempt may succeed
    CONFIG = "config"  # refused: auth, missing collection/database/index/field, invalid parameters or rows
    SYSTEM = "system"  # a fault on the Milvus side (internal or unexpected error), or a state retries cannot cure


# Milvus error codes (server `merr`, as MilvusException.code; Milvus Lite uses the same for these).
_RETRY_CODES = {2, 4, 8, 11}  # service unavailable, request limit, rate limit, time tick delay (write backpressure)
_RETRY_RANGES = ((101, 104),  # collection not (fully) loaded: a restarted server is reloading it
                 (400, 699),  # replica / channel (shard leader) / segment not available
                 (900, 999))  # query node offline, not found, lacking
_CONFIG_CODES = {6,  # Milvus Lite: invalid argument (a value or row it cannot take)
                 9, 100, 102, 105}  # force deny, collection not found, collection limit, illegal schema
_CONFIG_RANGES = ((200, 299), (700, 899), (1100, 1199), (1400, 1499), (1600, 1799))
# partition; index, database; parameter invalid; privilege (authentication, permission); alias, field
# Legacy codes (`common_pb2.ErrorCode`, MilvusException.compatible_code), for servers that set only these.
_LEGACY = common_pb2.ErrorCode
_RETRY_LEGACY = {_LEGACY.ConnectFailed, _LEGACY.NotShardLeader, _LEGACY.NoReplicaAvailable, _LEGACY.SegmentNotFound,
                 _LEGACY.RateLimit, _LEGACY.TimeTickLongDelay, _LEGACY.NotReadyServe, _LEGACY.NotReadyCoordActivating,
                 _LEGACY.DataCoordNA, _LEGACY.DDRequestRace}
_CONFIG_LEGACY = {_LEGACY.PermissionDenied, _LEGACY.CollectionNotExists, _LEGACY.IllegalArgument,
                  _LEGACY.IllegalDimension, _LEGACY.IllegalIndexType, _LEGACY.IllegalCollectionName,
                  _LEGACY.IllegalRowRecord, _LEGACY.IllegalMetricType, _LEGACY.IndexNotExist, _LEGACY.ForceDeny,
                  _LEGACY.UpsertAutoIDTrue}
_GRPC = grpc.StatusCode
_RETRY_GRPC = {_GRPC.UNAVAILABLE, _GRPC.DEADLINE_EXCEEDED, _GRPC.RESOURCE_EXHAUSTED, _GRPC.ABORTED, _GRPC.CANCELLED}
_CONFIG_GRPC = {_GRPC.UNAUTHENTICATED, _GRPC.PERMISSION_DENIED, _GRPC.INVALID_ARGUMENT, _GRPC.NOT_FOUND,
                _GRPC.ALREADY_EXISTS, _GRPC.FAILED_PRECONDITION, _GRPC.OUT_OF_RANGE}
# pymilvus's own checks of what we send, before any RPC: a row or parameter the collection cannot take.
_CLIENT_INPUT = (ParamError, DataNotMatchException, DataTypeNotMatchException, DataTypeNotSupportException,
                 PrimaryKeyException, FieldTypeException, FieldsTypeException, AutoIDException, PartitionKeyException,
                 SchemaNotReadyException)


def _in(code: int, codes: set[int], ranges: tuple[tuple[int, int], ...]) -> bool:
    return code in codes or any(low <= code <= high for low, high in ranges)


def classify(exc: BaseException) -> Failure:
    """Retry, config or system, from error codes and exception types, never from message text."""
    if isinstance(exc, grpc.RpcError) and callable(getattr(exc, "code", None)):
        return _by_grpc(exc.code())
    if not isinstance(exc, MilvusException):
        return _by_cause(exc)
    if isinstance(exc.code, grpc.StatusCode):  # pymilvus's own retries ran out on a gRPC failure
        return _by_grpc(exc.code)
    if getattr(exc, "retriable", False) or isinstance(exc, (MilvusUnavailableException, ConnectError)):
        return Failure.RETRY
    if isinstance(exc, _CLIENT_INPUT):
        return Failure.CONFIG
    cause = exc.__cause__
    if cause is not None and not isinstance(cause, MilvusException):  # pymilvus wrapped a foreign error
        return _by_cause(cause)
    return _by_code(int(exc.code), int(exc.compatible_code or 0))


def _by_code(code: int, legacy: int) -> Failure:
    """A Milvus error code (2.3+), or the legacy ErrorCode older servers and Lite still send."""
    if _in(code, _RETRY_CODES, _RETRY_RANGES) or legacy in _RETRY_LEGACY:
        return Failure.RETRY
    if _in(code, _CONFIG_CODES, _CONFIG_RANGES) or legacy in _CONFIG_LEGACY:
        return Failure.CONFIG
    return Failure.SYSTEM


def _by_grpc(status: grpc.StatusCode) -> Failure:
    return Failure.RETRY if status in _RETRY_GRPC else Failure.CONFIG if status in _CONFIG_GRPC else Failure.SYSTEM


def _by_cause(cause: BaseException) -> Failure:
    """A non-Milvus error under a call: the connection (a socket, a gRPC channel closed while pymilvus
    reconnects after a server restart) is retryable; anything else is a fault."""
    if isinstance(cause, grpc.RpcError) and callable(getattr(cause, "code", None)):
        return _by_grpc(cause.code())
    if isinstance(cause, (OSError, TimeoutError, grpc.FutureTimeoutError)):
        return Failure.RETRY
    if isinstance(cause, ValueError) and _raised_in_grpc(cause):  # grpc: "Cannot invoke RPC on closed channel"
        return Failure.RETRY
    return Failure.SYSTEM


def _raised_in_grpc(exc: BaseException) -> bool:
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and f"{os.sep}grpc{os.sep}" in tb.tb_frame.f_code.co_filename


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]


def call(request: Callable[[], Any], what: str) -> Any:
    """Milvus hiccups (restart, leader change, rate limit) are retried a few times, then a
    transient_error; a refusal the user can fix is a config_error, a server fault a system_error.
    `what` completes "Milvus refused ..." (e.g. "creating the collection")."""
    delay = 1.0
    for attempt in range(WRITE_RETRIES + 1):
        try:
            return request()
        except (MilvusException, grpc.RpcError) as exc:
            kind = classify(exc)
            if kind is Failure.CONFIG:
                raise ConfigError(f"Milvus refused {what}: {first_line(exc)}") from None
            if kind is Failure.SYSTEM:
                raise ServiceError(f"Milvus failed while {what} ({first_line(exc)}): a fault on the Milvus "
                                   "side, see the server's logs.") from None
            if attempt == WRITE_RETRIES:
                raise TransientError(f"Milvus kept failing while {what} ({first_line(exc)}): "
                                     "check the server's health, then retry the sync.") from None
            logger.info(f"Milvus error while {what} ({first_line(exc)}); retry {attempt + 1} in {delay:.0f}s")
            time.sleep(delay)
            delay = min(delay * 2, 15)
    raise AssertionError("unreachable")
