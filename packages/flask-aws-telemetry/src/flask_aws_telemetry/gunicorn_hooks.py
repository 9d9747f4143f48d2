"""gunicorn server hooks for an app that installs the telemetry.

``flask_aws_telemetry.gunicorn_config`` sets them; an app's own
``gunicorn.conf.py`` that star-imports that module has them too::

    from flask_aws_telemetry.gunicorn_config import *

* ``on_starting`` runs once, in the master, before any worker forks: it
  validates the telemetry's settings, then checks that the process fits the
  task's hardening (not root in an ECS task, ``APP_WRITABLE_PATH`` a writable
  directory). Either failure stops gunicorn at once (exit 3) with one
  sentence on stderr naming what to change. An app with settings of its own
  that hold the telemetry's validates all of them instead:
  ``on_starting = on_starting_with(Settings.from_environ)``.
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
from typing import Any, NoReturn

from . import contract, hardening
from .extension_key import EXTENSION_KEY
from .settings import SettingsError, TelemetrySettings

__all__ = ["CONFIGURATION_ERROR_EXIT_STATUS", "on_starting", "on_starting_with", "worker_exit"]

# gunicorn exits with this status when the master's on_starting exits; the task stops with it.
CONFIGURATION_ERROR_EXIT_STATUS = 3


def stop(sentence: str) -> NoReturn:
    """Stop the master with ``sentence`` as the one line on stderr (the container's log says why it stopped)."""
    print(f"configuration error: {sentence}", file=sys.stderr, flush=True)
    sys.exit(CONFIGURATION_ERROR_EXIT_STATUS)


def on_starting_with(parse: Callable[[Mapping[str, str]], object]) -> Callable[[Any], None]:
    """An ``on_starting`` hook that parses the environment with ``parse``, then runs the hardening checks."""

    def on_starting(server: Any) -> None:
        """Fail fast, in the master, on a bad environment variable or an image that does not fit the task."""
        try:
            parse(os.environ)
            settings = TelemetrySettings.from_environ(os.environ)
        except SettingsError as error:
            stop(str(error))
        problem = hardening.problem(settings)
        if problem is not None:
            stop(problem)

    return on_starting


# The telemetry's settings and the hardening, checked in the master before any worker forks.
on_starting = on_starting_with(TelemetrySettings.from_environ)


def worker_exit(server: Any, worker: Any) -> None:
    """Drain this worker's telemetry before it exits."""
    app = getattr(worker, "wsgi", None)
    if app is None:
        return  # the app never loaded
    telemetry = getattr(app, "extensions", {}).get(EXTENSION_KEY)
    if telemetry is not None:
        telemetry.shutdown(contract.SHUTDOWN_DRAIN_SECONDS)
