"""The aws-xray-sdk: a recorder per app, the Flask middleware, and one trace id shared with OpenTelemetry.

When OpenTelemetry is on it decides first (parent-based ratio), and
``share_trace_with_xray`` hands that decision to the X-Ray middleware by
writing the span's trace id, span id and sampled flag into the request's
``X-Amzn-Trace-Id`` before the middleware reads it. The X-Ray segment then
has the same trace id as the spans, is a child of the server span, and is
sampled exactly when they are. When OpenTelemetry is off, the X-Ray SDK
decides with the centralized sampling rules, falling back to local rules
that never sample health checks.
"""

from __future__ import annotations

import logging
import os

from aws_xray_sdk.core import AWSXRayRecorder
from aws_xray_sdk.ext.flask.middleware import XRayMiddleware
from flask import Flask, g, request
from opentelemetry import trace

from .. import contract
from ..settings import Settings
from .headers import xray_trace_id
from .logs import current_xray_trace_id

log = logging.getLogger("cruddur.telemetry.xray")

# Used only when the daemon cannot serve the centralized rules.
LOCAL_SAMPLING_RULES = {
    "version": 2,
    "rules": [
        {
            "description": "Never sample load-balancer health checks.",
            "host": "*",
            "http_method": "GET",
            "url_path": contract.HEALTH_CHECK_PATH,
            "fixed_target": 0,
            "rate": 0.0,
        }
    ],
    "default": {"fixed_target": 1, "rate": 0.05},
}


def build_recorder(settings: Settings) -> AWSXRayRecorder:
    """A recorder reporting ``settings.service_name`` to the daemon, logging (not raising) outside requests."""
    recorder = AWSXRayRecorder()
    recorder.configure(
        service=settings.service_name,
        daemon_address=settings.xray_daemon_address,
        context_missing="LOG_ERROR",
        plugins=("ECSPlugin",) if os.environ.get("ECS_CONTAINER_METADATA_URI_V4") else None,
        sampling=True,
        sampling_rules=LOCAL_SAMPLING_RULES,
        stream_sql=False,
    )
    return recorder


def share_trace_with_xray() -> None:
    """before_request: make the X-Ray middleware use OpenTelemetry's trace id, parent and decision.

    A request OpenTelemetry did not sample is skipped by the middleware
    altogether: it would only build a segment that is never sent.
    """
    try:
        span_context = trace.get_current_span().get_span_context()
        if not (span_context.is_valid and span_context.trace_flags.sampled):
            g.cruddur_xray_skip = True
            return
        request.environ["HTTP_X_AMZN_TRACE_ID"] = (
            f"Root={xray_trace_id(span_context.trace_id)};Parent={span_context.span_id:016x};Sampled=1"
        )
    except Exception:  # noqa: BLE001 - telemetry must never fail a request
        g.cruddur_xray_skip = True
        log.exception("could not share the trace context with X-Ray")


class SampledOnlyXRayMiddleware(XRayMiddleware):
    """The aws-xray-sdk Flask middleware, doing nothing for requests marked as not sampled."""

    def _before_request(self):
        if g.get("cruddur_xray_skip"):
            return None
        return super()._before_request()

    def _after_request(self, response):
        if g.get("cruddur_xray_skip"):
            return response
        return super()._after_request(response)

    def _teardown_request(self, exception):
        if g.get("cruddur_xray_skip"):
            return None
        return super()._teardown_request(exception)


def remember_segment(recorder: AWSXRayRecorder) -> None:
    """before_request, after the middleware's: keep the request's segment for subsegments and logs."""
    if g.get("cruddur_xray_skip"):
        return
    try:
        segment = recorder.current_segment()
        g.cruddur_xray_segment = segment
        if segment is not None and getattr(segment, "sampled", False):
            current_xray_trace_id.set(segment.trace_id)
        else:
            current_xray_trace_id.set(None)
    except Exception:  # noqa: BLE001
        log.exception("could not read the X-Ray segment")


def forget_segment(_error: BaseException | None = None) -> None:
    """teardown_request: the request's trace id must not outlive it on this thread."""
    current_xray_trace_id.set(None)


def install(app: Flask, recorder: AWSXRayRecorder, *, follow_opentelemetry: bool) -> None:
    """Attach the X-Ray middleware to ``app``; with ``follow_opentelemetry``, share its trace first."""
    if follow_opentelemetry:
        app.before_request(share_trace_with_xray)
        SampledOnlyXRayMiddleware(app, recorder)
    else:
        XRayMiddleware(app, recorder)
    app.before_request(lambda: remember_segment(recorder))
    app.teardown_request(forget_segment)
