"""Cruddur's typed settings, parsed once from the environment variables of the contract.

    settings = Settings.from_environ(os.environ)
    settings.telemetry            # the telemetry's (flask_aws_telemetry.settings.TelemetrySettings)
    settings.dynamodb_table_name  # the app's own

Every name comes from ``cruddur.contract``. A bad value raises
``SettingsError`` with a sentence naming the variable, the value and what is
allowed, so a misconfigured task fails at start-up instead of at the first
request.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from flask_aws_telemetry import BrowserTraceLimits, EnvironReader, SettingsError, TelemetrySettings

from . import contract

__all__ = ["BrowserTraceLimits", "Settings", "SettingsError", "TelemetrySettings"]

_TABLE_NAME = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
_HANDLE = re.compile(r"^[a-z0-9_]{1,32}$")


@dataclass(frozen=True)
class Settings:
    """Everything the service reads from its environment: the telemetry's settings and the app's own."""

    telemetry: TelemetrySettings
    dynamodb_table_name: str = ""
    dynamodb_endpoint_url: str | None = None
    demo_user_handle: str = "andrewbrown"

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Settings:
        """Parse ``environ``; raises SettingsError naming the first bad variable."""
        telemetry = TelemetrySettings.from_environ(environ)
        reader = _Reader(environ)
        return cls(
            telemetry=telemetry,
            dynamodb_table_name=reader.table_name(contract.DYNAMODB_TABLE_NAME),
            dynamodb_endpoint_url=reader.optional_url(contract.AWS_ENDPOINT_URL_DYNAMODB),
            demo_user_handle=reader.handle(contract.DEMO_USER_HANDLE),
        )


class _Reader(EnvironReader):
    """The telemetry's reader, with the checks of Cruddur's own values."""

    def table_name(self, var: contract.EnvVar) -> str:
        """A DynamoDB table name; required."""
        value = self.required(var)
        if not _TABLE_NAME.match(value):
            raise self.fail(var, value, "use a DynamoDB table name: 3-255 letters, digits, '_', '-' or '.'")
        return value

    def handle(self, var: contract.EnvVar) -> str:
        """A user handle as the course spells them."""
        value = self.text(var)
        if not _HANDLE.match(value):
            raise self.fail(var, value, "use 1-32 lowercase letters, digits or '_'")
        return value
