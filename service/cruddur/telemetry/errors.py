"""Rollbar: unhandled exceptions reported with the trace id, scrubbed, sent off the request thread."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import rollbar
from flask import Flask, got_request_exception, request
from opentelemetry import trace

from .. import contract
from ..settings import Settings
from .headers import xray_trace_id
from .logs import current_xray_trace_id

log = logging.getLogger("cruddur.telemetry.rollbar")

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


def install(app: Flask, settings: Settings) -> None:
    """Initialize Rollbar for ``app`` and report its unhandled exceptions."""
    # rollbar keeps module state and ignores a second init; a new app (or a
    # worker after fork) must be able to configure it afresh.
    rollbar._initialized = False  # noqa: SLF001
    rollbar.init(
        settings.rollbar_access_token,
        environment=settings.environment,
        scrub_fields=SCRUB_FIELDS,
        endpoint=settings.rollbar_endpoint,
        handler="thread",
        timeout=3,
        capture_ip="anonymize",
        allow_logging_basic_config=False,
        root=str(Path(__file__).resolve().parents[2]),
        locals={"enabled": False},
    )
    got_request_exception.connect(_report, app, weak=False)


def trace_ids() -> dict[str, Any]:
    """The current trace in both forms, for joining a Rollbar item with the traces and logs."""
    span_context = trace.get_current_span().get_span_context()
    if span_context.is_valid:
        return {
            "trace_id": f"{span_context.trace_id:032x}",
            "span_id": f"{span_context.span_id:016x}",
            "xray_trace_id": xray_trace_id(span_context.trace_id),
        }
    return {"trace_id": None, "span_id": None, "xray_trace_id": current_xray_trace_id.get()}


def _report(sender: Flask, exception: BaseException, **_: Any) -> None:
    try:
        ids = trace_ids()
        rollbar.report_exc_info(sys.exc_info(), request, extra_data=ids, payload_data={"custom": ids})
    except Exception:  # noqa: BLE001 - reporting must never replace the original error
        log.exception("could not report the exception to Rollbar")


def wait(timeout_seconds: float) -> None:
    """Wait for the items being sent (rollbar's thread handler); callers bound the total time."""
    del timeout_seconds  # rollbar.wait has no timeout; Telemetry.shutdown runs it under one
    rollbar.wait()
