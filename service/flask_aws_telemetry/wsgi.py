"""The request path: every WSGI layer the telemetry puts around the app, built in one function, outermost first.

Usage::

    app.wsgi_app = build_wsgi_chain(app.wsgi_app, tracer_provider=..., sampler=..., xray_recorder=...)

``Telemetry.install`` does this, once per app. With OpenTelemetry on, a
request meets, in this order::

    BrowserTraceIngest         with BROWSER_TRACES_ENABLED: POST /v1/traces, the frontend's spans, never traced
    TraceHeaderGuard           drops malformed trace headers before anything parses them
    SamplingGate               the one sampling decision; every request is watched by AnomalyCapture
                               (capture.py), an unsampled one goes straight to Flask and is exported
                               only if it ends as an anomaly
      OpenTelemetryMiddleware  sampled only: the server span
      RouteNamedSpan           names it "{method} {route}", sets http.route
      SampledRequestSegments   with X-Ray on: the X-Ray segment, a child of the server span
    Flask's own wsgi_app

With OpenTelemetry off only the header guard wraps Flask: the X-Ray SDK
alone records through Flask's request hooks (``xray.install_middleware``),
not through WSGI. No layer reads the process environment.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

from aws_xray_sdk.core import AWSXRayRecorder
from opentelemetry.sdk.trace import TracerProvider

from . import otel, xray
from .capture import AnomalyCapture
from .headers import TraceHeaderGuard
from .sampling import XRayRulesSampler

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
# A WSGI middleware as a function of the app it wraps.
Layer = Callable[[WSGIApp], WSGIApp]


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
        otel.server_span(tracer_provider),
        otel.RouteNamedSpan,
        functools.partial(xray.SampledRequestSegments, recorder=xray_recorder) if xray_recorder is not None else None,
    )
    return nest(
        flask_app,
        browser_traces,  # in front of the gate: an ingest request is never sampled, traced or counted in the reservoir
        TraceHeaderGuard,  # no propagator ever sees a malformed header
        functools.partial(otel.SamplingGate, traced=sampled_path, provider=tracer_provider, rules=sampler, capture=capture),
    )


def nest(wsgi_app: WSGIApp, *layers: Layer | None) -> WSGIApp:
    """``wsgi_app`` wrapped in ``layers``, the first the outermost; a None layer is left out."""
    for layer in reversed(layers):
        if layer is not None:
            wsgi_app = layer(wsgi_app)
    return wsgi_app
