"""Rollbar: unhandled exceptions reported with the trace id, scrubbed, sent off the request thread."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import rollbar
from flask import Flask, got_request_exception, request

from . import contract
from .logs import current_trace_ids
from .settings import TelemetrySettings

log = logging.getLogger("flask_aws_telemetry.rollbar")

# Keys scrubbed anywhere in the payload (headers, body, query, locals), on top of Rollbar's defaults.
SCRUB_FIELDS = [
    *rollbar.SETTINGS["scrub_fields"],
    "cookie",
    "Cookie",
    "set-cookie",
    "Set-Cookie",
    "x-api-key",
    "X-Api-Key",
    "api_key",
    "apikey",
    "token",
    "x-honeycomb-team",
    "X-Honeycomb-Team",
    contract.SECRET_HONEYCOMB_API_KEY,
    contract.SECRET_ROLLBAR_ACCESS_TOKEN,
]


def install(app: Flask, settings: TelemetrySettings) -> None:
    """Initialize Rollbar for ``app`` and report its unhandled exceptions."""
    # rollbar keeps module state and ignores a second init; a new app (or a
    # worker after fork) must be able to configure it afresh.
    token = settings.rollbar_access_token
    if not token:
        raise ValueError(f"{contract.ROLLBAR_ACCESS_TOKEN.name} is not set: Rollbar needs it to report errors")
    rollbar._initialized = False
    rollbar.init(
        token,
        environment=settings.environment,
        code_version=settings.service_version,  # None: the item carries no code_version
        scrub_fields=SCRUB_FIELDS,
        endpoint=settings.rollbar_endpoint,
        handler="thread",
        timeout=3,
        capture_ip="anonymize",
        allow_logging_basic_config=False,
        root=str(Path(__file__).resolve().parents[1]),  # the directory the app and its libraries are installed in
        locals={"enabled": False},
    )
    got_request_exception.connect(_report, app, weak=False)


def _report(sender: Flask, exception: BaseException, **_: Any) -> None:
    try:
        ids = current_trace_ids()
        rollbar.report_exc_info(sys.exc_info(), request, extra_data=ids, payload_data={"custom": ids})
    except Exception:
        log.exception("could not report the exception to Rollbar")


def wait() -> None:
    """Wait for the items being sent (rollbar's thread handler); it has no timeout of its own, so callers bound it."""
    rollbar.wait()
