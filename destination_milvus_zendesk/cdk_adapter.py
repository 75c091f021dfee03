"""Where the connector meets airbyte-cdk: the process boundary, and the CDK internals it relies on.

The boundary (`ProtocolDestination.run`, the CDK's public `Destination.run` replaced):
- before the CDK reads anything, `preflight` checks what the command was given (files, config), so a
  mistake there is one actionable line instead of the CDK's FATAL log with a Python traceback;
- each message leaves in ONE write, under the lock of the CDK's log buffer: `print()` writes the
  text and the newline separately, and a log line flushed by another thread in between put two
  messages on one line;
- a known failure (`ConnectorError`) ends the command with its one line: a failed CONNECTION_STATUS
  for `check`, else an ERROR log line and a TRACE error without a stack trace, exit code 1. Anything
  else is a bug and keeps the CDK's handler: FATAL log with the traceback, and a TRACE.

CDK internals (their canary tests are listed in docs/architecture.md, "Private names"):
- `Destination._parse_input_stream` (private): the hook `write`'s input goes through. The CDK's
  default skips lines it cannot parse; a destination that skips records loses them without a trace,
  so `ProtocolDestination` routes the hook to `parse_input`, which subclasses implement. The CDK
  hands what the hook returns to `write` untouched, so `parse_input` may yield messages wrapped
  with their line numbers.
- `airbyte_cdk.logger.PRINT_BUFFER` (module internal): the buffer the CDK's log handler writes
  through, under its lock.
"""

from __future__ import annotations

import argparse
import io
import logging
import sys
import time
from contextlib import AbstractContextManager
from typing import Any, Iterable, Mapping

import orjson
from airbyte_cdk.destinations import Destination
from airbyte_cdk.exception_handler import init_uncaught_exception_handler
from airbyte_cdk.logger import PRINT_BUFFER
from airbyte_cdk.models import (AirbyteConnectionStatus, AirbyteErrorTraceMessage, AirbyteLogMessage, AirbyteMessage,
                                AirbyteMessageSerializer, AirbyteTraceMessage, Level, Status, TraceType, Type)
from airbyte_cdk.utils.airbyte_secrets_utils import filter_secrets, get_secrets, update_secrets

from .errors import ConfigError, ConnectorError

logger = logging.getLogger("airbyte")


def stdout_lock() -> AbstractContextManager:
    """The lock the CDK's log handler holds while writing to stdout."""
    return PRINT_BUFFER.lock


def emit(message: AirbyteMessage) -> None:
    """One protocol message on stdout in one write, secrets masked as the CDK masks its own output."""
    line = filter_secrets(orjson.dumps(AirbyteMessageSerializer.dump(message)).decode()) + "\n"
    with stdout_lock():
        sys.stdout.write(line)


def failure_messages(exc: ConnectorError) -> list[AirbyteMessage]:
    """A known failure as the platform wants it: one ERROR log line and a TRACE error, no stack trace."""
    log = AirbyteMessage(type=Type.LOG, log=AirbyteLogMessage(level=Level.ERROR, message=exc.message))
    trace = AirbyteMessage(type=Type.TRACE, trace=AirbyteTraceMessage(
        type=TraceType.ERROR, emitted_at=time.time_ns() // 1_000_000,
        error=AirbyteErrorTraceMessage(message=exc.message, internal_message=exc.internal,
                                       failure_type=exc.failure_type)))
    return [log, trace]


class ProtocolDestination(Destination):
    """A CDK destination with this connector's process boundary (see the module docstring)."""

    def parse_input(self, input_stream: io.TextIOWrapper) -> Iterable[AirbyteMessage]:
        raise NotImplementedError

    def preflight(self, parsed: argparse.Namespace, config: Mapping[str, Any]) -> None:
        """Raise ConnectorError when the command's input cannot be used; the CDK has not looked at it yet."""

    def run(self, args: list[str]) -> None:
        init_uncaught_exception_handler(logger)  # real bugs: the CDK's FATAL log with traceback, and a TRACE
        parsed = self.parse_args(args)
        try:
            self._preflight(parsed)
            for message in self.run_cmd(parsed):
                emit(message)
        except ConnectorError as exc:
            if parsed.command == "check" and isinstance(exc, ConfigError):
                emit(AirbyteMessage(type=Type.CONNECTION_STATUS,
                                    connectionStatus=AirbyteConnectionStatus(status=Status.FAILED, message=exc.message)))
                return
            for message in failure_messages(exc):
                emit(message)
            sys.exit(1)

    def _preflight(self, parsed: argparse.Namespace) -> None:
        if parsed.command not in ("check", "write"):
            return
        from .config import read_json_object

        config = read_json_object(parsed.config)
        # registered before anything can print them, as the CDK's run_cmd does after its own read
        update_secrets(get_secrets(self.spec(logger).connectionSpecification, config))
        self.preflight(parsed, config)

    def _parse_input_stream(self, input_stream: io.TextIOWrapper) -> Iterable[AirbyteMessage]:  # CDK private hook
        return self.parse_input(input_stream)
