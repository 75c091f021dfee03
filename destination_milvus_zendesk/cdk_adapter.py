"""The one place that relies on airbyte-cdk internals, which its public API does not cover.

- `Destination._parse_input_stream` (private): the hook `write`'s input goes through. The CDK's
  default skips lines it cannot parse; a destination that skips records loses them without a trace,
  so `StrictInputDestination` routes the hook to `parse_input`, which subclasses implement. The CDK
  hands what the hook returns to `write` untouched, so `parse_input` may yield messages wrapped
  with their line numbers.
- `airbyte_cdk.logger.PRINT_BUFFER` (module internal): the buffer the CDK's log handler writes
  through, under its lock. A message written to stdout under the same lock cannot interleave with
  a log line another thread flushes.

unit_tests/test_cdk_adapter.py fails if either internal changes shape.
"""

from __future__ import annotations

import io
from contextlib import AbstractContextManager
from typing import Iterable

from airbyte_cdk.destinations import Destination
from airbyte_cdk.logger import PRINT_BUFFER
from airbyte_cdk.models import AirbyteMessage


def stdout_lock() -> AbstractContextManager:
    """The lock the CDK's log handler holds while writing to stdout."""
    return PRINT_BUFFER.lock


class StrictInputDestination(Destination):
    """A CDK destination whose `write` input is parsed by `parse_input` instead of the CDK's lenient parser."""

    def parse_input(self, input_stream: io.TextIOWrapper) -> Iterable[AirbyteMessage]:
        raise NotImplementedError

    def _parse_input_stream(self, input_stream: io.TextIOWrapper) -> Iterable[AirbyteMessage]:  # CDK private hook
        return self.parse_input(input_stream)
