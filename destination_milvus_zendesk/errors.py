"""Error taxonomy: every failure that reaches the user is classified once, here.

Code below the connector boundary raises one of these; `destination.py` turns them into
Airbyte TRACE errors (`config_error` = the user must change something, `system_error` =
the platform or a service failed, `transient_error` = retrying the sync later should work).
Messages are one line, name what to fix, and never contain a secret.
"""

from __future__ import annotations

from typing import Any


class _FailureType:
    """The class's Airbyte FailureType, imported on first use: importing airbyte_cdk costs ~0.9 s,
    which the query CLI and the support form (they never emit Airbyte messages) should not pay."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        from airbyte_cdk.models import FailureType

        return FailureType(self.name)


class ConnectorError(Exception):
    """Base class: `message` is shown to the user as is."""

    failure_type = _FailureType("system_error")

    def __init__(self, message: str, *, internal: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.internal = internal or message


class ConfigError(ConnectorError):
    """The configuration, the collection or the input catalog must be changed by the user."""

    failure_type = _FailureType("config_error")


class InputError(ConnectorError):
    """The message stream itself is broken (bad JSON, unknown stream): a platform/source fault."""

    failure_type = _FailureType("system_error")


class TransientError(ConnectorError):
    """A service kept failing after bounded retries; a later attempt may succeed."""

    failure_type = _FailureType("transient_error")


class ServiceError(ConnectorError):
    """A service answered something impossible (wrong vector count, NaN, unknown schema)."""

    failure_type = _FailureType("system_error")
