"""gunicorn server hooks for an app that installs the telemetry; any app's ``gunicorn.conf.py`` imports them.

    from flask_aws_telemetry.gunicorn_hooks import on_starting, worker_exit

* ``on_starting`` validates the telemetry's settings once, in the master, so
  a bad variable stops the container at once (exit 3) with one sentence
  naming it, before any worker forks. An app with settings of its own that
  hold the telemetry's (Cruddur's ``Settings.from_environ``) validates all of
  them instead: ``on_starting = on_starting_with(Settings.from_environ)``.
* ``worker_exit`` drains the worker's spans, log records and Rollbar items
  within ``SHUTDOWN_DRAIN_SECONDS``; the app must have called
  ``Telemetry.install`` (which registers it in ``app.extensions``).

This module imports only the settings and the contract, so the master loads
neither Flask nor OpenTelemetry.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from typing import Any

from . import contract
from .extension_key import EXTENSION_KEY
from .settings import SettingsError, TelemetrySettings

# gunicorn exits with this status when the master's on_starting exits; the task stops with it.
CONFIGURATION_ERROR_EXIT_STATUS = 3


def on_starting_with(parse: Callable[[Mapping[str, str]], object]) -> Callable[[Any], None]:
    """An ``on_starting`` hook that parses the environment with ``parse`` and exits 3 on a ``SettingsError``."""

    def on_starting(server: Any) -> None:
        """Fail fast, in the master, on a bad environment variable."""
        try:
            parse(os.environ)
        except SettingsError as error:
            print(f"configuration error: {error}", file=sys.stderr, flush=True)
            sys.exit(CONFIGURATION_ERROR_EXIT_STATUS)

    return on_starting


# The telemetry's settings, checked in the master before any worker forks.
on_starting = on_starting_with(TelemetrySettings.from_environ)


def worker_exit(server: Any, worker: Any) -> None:
    """Drain this worker's telemetry before it exits."""
    app = getattr(worker, "wsgi", None)
    if app is None:
        return  # the app never loaded
    telemetry = getattr(app, "extensions", {}).get(EXTENSION_KEY)
    if telemetry is not None:
        telemetry.shutdown(contract.SHUTDOWN_DRAIN_SECONDS)
