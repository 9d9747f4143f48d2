"""The request's whole path: every WSGI layer and Flask hook the telemetry puts around the app, in order, in one place.

Usage (``Telemetry.install`` does this, once per app)::

    install(app, settings, WsgiParts(tracer_provider=..., sampler=..., capture=...), quiet_paths=("/health",))

With OpenTelemetry on, a request meets, in this order, the WSGI layers::

    BrowserTraceIngest         with BROWSER_TRACES_ENABLED: POST /v1/traces, the frontend's spans, never traced
    TraceHeaderGuard           drops malformed trace headers before anything parses them
    SamplingGate               (gate.py) the one sampling decision; every request is watched by AnomalyCapture
                               (capture.py), an unsampled one goes straight to Flask and is exported
                               only if it ends as an anomaly
      OpenTelemetryMiddleware  sampled only: the server span (``server_span``)
      RouteNamedSpan           (route_naming.py) names it "{method} {route}", sets http.route
      SampledRequestSegments   with X-Ray on: the X-Ray segment, the server span's twin (same id and parent)
    Flask's own wsgi_app, whose hooks run, in this order:
      before_request           the request line's clock (logs.py)
      X-Ray's before_request   with X-Ray alone: the SDK's XRayMiddleware begins the segment (xray.py)
      the view
      got_request_exception    an unhandled exception: noted for anomaly capture (request_record.py),
                               added to the X-Ray segment (xray.py), reported to Rollbar (rollbar_reporter.py)
      after_request            (Flask runs these last-connected first) X-Ray alone: the segment ends;
                               then the request line (logs.py)
      teardown_request         X-Ray alone: the request's segment is forgotten (xray.py)

With OpenTelemetry off only the header guard wraps Flask: the X-Ray SDK
alone records through Flask's request hooks (``xray.install_middleware``),
not through WSGI. No layer reads the process environment.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from aws_xray_sdk.core import AWSXRayRecorder
from flask import Flask, got_request_exception
from opentelemetry.instrumentation.wsgi import OpenTelemetryMiddleware
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import Span

from . import logs, request_record, rollbar_reporter, xray
from .capture import AnomalyCapture
from .gate import SamplingGate
from .headers import TraceHeaderGuard
from .route_naming import RouteNamedSpan, peer_address
from .sampling import XRayRulesSampler
from .settings import TelemetrySettings
from .wsgi_types import Layer, WSGIApp


@dataclass(frozen=True)
class WsgiParts:
    """What the WSGI layers need; with ``tracer_provider``, ``sampler`` and ``capture``, the OpenTelemetry path."""

    tracer_provider: TracerProvider | None = None
    sampler: XRayRulesSampler | None = None
    xray_recorder: AWSXRayRecorder | None = None
    capture: AnomalyCapture | None = None
    browser_traces: Layer | None = None


def install(
    app: Flask,
    settings: TelemetrySettings,
    parts: WsgiParts,
    *,
    quiet_paths: Iterable[str] = (),
) -> None:
    """Put the WSGI layers around ``app.wsgi_app``, then connect the Flask hooks, in the module docstring's order."""
    # Flask's documented way to wrap the app; the typeshed-style method type does not admit a plain callable.
    app.wsgi_app = build_wsgi_chain(  # type: ignore[method-assign,assignment]
        app.wsgi_app,
        tracer_provider=parts.tracer_provider,
        sampler=parts.sampler,
        xray_recorder=parts.xray_recorder,
        capture=parts.capture,
        browser_traces=parts.browser_traces,
    )
    # Flask's hooks and signals, in the order they are connected.
    logs.install_request_lines(app, logger_name=settings.request_logger, quiet_paths=frozenset(quiet_paths))
    if parts.capture is not None:
        got_request_exception.connect(request_record.note_exception, app, weak=False)
    if parts.xray_recorder is not None:
        if settings.otel_enabled:
            xray.record_unhandled_exceptions(app, parts.xray_recorder)
        else:
            xray.install_middleware(app, parts.xray_recorder)
    if settings.rollbar_enabled:
        rollbar_reporter.install(app, settings)


def build_wsgi_chain(
    flask_app: WSGIApp,
    *,
    tracer_provider: TracerProvider | None = None,
    sampler: XRayRulesSampler | None = None,
    xray_recorder: AWSXRayRecorder | None = None,
    capture: AnomalyCapture | None = None,
    browser_traces: Layer | None = None,
) -> WSGIApp:
    """``flask_app`` behind the telemetry's middleware; the layers below are listed outermost first.

    ``tracer_provider``, ``sampler`` and ``capture`` turn on the OpenTelemetry
    path; ``xray_recorder`` adds the X-Ray segment to its sampled requests;
    ``browser_traces`` (``BrowserTraceIngest.layer``) takes ``/v1/traces`` out before anything traces it.
    """
    if tracer_provider is None or sampler is None or capture is None:
        return nest(flask_app, TraceHeaderGuard)
    sampled_path = nest(
        flask_app,
        server_span(tracer_provider),
        RouteNamedSpan,
        functools.partial(xray.SampledRequestSegments, recorder=xray_recorder) if xray_recorder is not None else None,
    )
    return nest(
        flask_app,
        browser_traces,  # in front of the gate: an ingest request is never sampled, traced or counted in the reservoir
        TraceHeaderGuard,  # no propagator ever sees a malformed header
        functools.partial(SamplingGate, traced=sampled_path, provider=tracer_provider, rules=sampler, capture=capture),
    )


def _record_peer_address(span: Span, environ: dict[str, Any]) -> None:
    if span.is_recording():
        span.set_attributes(peer_address(environ))


def server_span(provider: TracerProvider) -> Layer:
    """OpenTelemetry's WSGI middleware as a layer: a server span of ``provider`` per request (metrics off), with the
    connection's peer address.
    """
    return functools.partial(
        OpenTelemetryMiddleware,
        tracer_provider=provider,
        meter_provider=NoOpMeterProvider(),
        request_hook=_record_peer_address,
    )


def nest(wsgi_app: WSGIApp, *layers: Layer | None) -> WSGIApp:
    """``wsgi_app`` wrapped in ``layers``, the first the outermost; a None layer is left out."""
    for layer in reversed(layers):
        if layer is not None:
            wsgi_app = layer(wsgi_app)
    return wsgi_app
