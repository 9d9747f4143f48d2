"""The sampling gate: the one sampling decision of a request, made first, before any tracing work.

Where the decision is made
--------------------------
``SamplingGate`` (outermost WSGI middleware after the header guard) makes
the one sampling decision of a request, first: it extracts the incoming
trace context, draws the trace id and asks X-Ray's sampling rules
(``sampling.XRayRulesSampler``, parent-based: an incoming ``traceparent`` or
``X-Amzn-Trace-Id`` that carries a decision keeps it) with the request's
path, method and host. Health checks are asked too, so that their rule
applies. Only a sampled request goes on to its ``traced`` path: OpenTelemetry's WSGI
middleware (``OpenTelemetryMiddleware``, ``server_span``) for a server span,
and on to the X-Ray segment; an unsampled one runs the bare app
under a non-recording span that still carries its trace id (for logs,
Rollbar and outgoing ``traceparent`` headers with the sampled flag off),
watched by ``capture.AnomalyCapture``: if it ends as an anomaly, its server
span is exported after all, with that trace id and span id (``admitted``).

The tracer provider never asks the rules again (``provider.GateAdmission``).

Why not ``FlaskInstrumentor``: it does its work for every request, recorded
or not (the request attributes twice, the full URL for the excluded-URL
list). With it and the X-Ray SDK's Flask middleware a request nobody
records cost 769 more Python calls than with telemetry off; behind the gate
it costs about a hundred (``make bench-cost``).
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from opentelemetry import context, trace
from opentelemetry.instrumentation.wsgi import wsgi_getter
from opentelemetry.propagate import extract
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.semconv.attributes.http_attributes import HTTP_REQUEST_METHOD
from opentelemetry.semconv.attributes.server_attributes import SERVER_ADDRESS
from opentelemetry.semconv.attributes.url_attributes import URL_PATH

from .capture import AnomalyCapture
from .provider import admit_trace
from .request_record import RequestRecord
from .sampling import XRayRulesSampler
from .wsgi_types import WSGIApp

log = logging.getLogger("flask_aws_telemetry.gate")


class SamplingGate:
    """WSGI middleware deciding once per request whether it is traced; only traced requests pay for a span.

    Every request, sampled or not, runs under ``capture``'s watch: an
    unsampled one that ends as an anomaly is exported after all.
    """

    def __init__(
        self,
        untraced: WSGIApp,
        *,
        traced: WSGIApp,
        provider: TracerProvider,
        rules: XRayRulesSampler,
        capture: AnomalyCapture,
    ) -> None:
        """Ask ``rules`` about each request; send sampled ones to ``traced``, the others to ``untraced``.

        ``traced`` starts the server span (``server_span``) with the trace id
        the gate admitted, so it needs the ids of ``provider`` (a ``GateIdGenerator``).
        """
        self.untraced = untraced
        self.traced = traced
        self._rules = rules
        self._ids = provider.id_generator
        self._capture = capture

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """Trace the request if it is sampled; otherwise run it under a non-recording span, watched for anomalies."""
        try:
            parent_context = extract(environ, getter=wsgi_getter)
            parent = trace.get_current_span(parent_context).get_span_context()
            if parent.is_valid:
                # A caller's decision stands; no rule decided it (nor counts its anomalies).
                trace_id, sampled, rule_name = parent.trace_id, parent.trace_flags.sampled, None
            else:
                trace_id = self._ids.generate_trace_id()
                decision = self._rules.decide(trace_id, _rule_attributes(environ))
                sampled, rule_name = decision.sampled, decision.rule_name
        except Exception:
            log.exception("could not make the sampling decision; the request is not traced")
            return self.untraced(environ, start_response)
        if sampled:
            # OpenTelemetry's WSGI middleware leaves its context attached until the
            # response has been iterated; a server that closes a response without
            # iterating it (a client gone before the body) would leave it attached
            # to this thread for good. Run it, and its response, in a copy instead.
            request_context = contextvars.copy_context()
            admitted = None if parent.is_valid else trace_id
            record = RequestRecord(trace_id, 0, sampled=True, rule_name=rule_name)
            response = request_context.run(self._start_traced, environ, start_response, admitted, record)
            return _ResponseInContext(request_context, response)
        span_id = self._ids.generate_span_id()
        unsampled = trace.NonRecordingSpan(
            trace.SpanContext(
                trace_id,
                span_id,
                is_remote=False,
                trace_flags=trace.TraceFlags(trace.TraceFlags.DEFAULT),
                trace_state=parent.trace_state if parent.is_valid else None,
            )
        )
        token = context.attach(trace.set_span_in_context(unsampled, parent_context))
        try:
            record = RequestRecord(trace_id, span_id, sampled=False, rule_name=rule_name)
            return self._capture.watch(self.untraced, environ, start_response, record, parent_context)
        finally:
            context.detach(token)

    def _start_traced(
        self, environ: dict[str, Any], start_response: Callable[..., Any], admitted: int | None, record: RequestRecord
    ) -> Iterable[bytes]:
        admit_trace(admitted)
        return self._capture.watch(self.traced, environ, start_response, record, None)


def _rule_attributes(environ: dict[str, Any]) -> dict[str, str]:
    """What X-Ray's rules match a request on: its path, its method and its host (the Host header, without a port)."""
    host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME") or ""
    if host.rsplit(":", 1)[-1].isdigit() and not host.endswith("]"):
        host = host.rsplit(":", 1)[0]
    return {
        URL_PATH: environ.get("PATH_INFO") or "/",
        HTTP_REQUEST_METHOD: environ.get("REQUEST_METHOD") or "GET",
        SERVER_ADDRESS: host,
    }


class _ResponseInContext:
    """A response iterated and closed in the context its server span was started in."""

    def __init__(self, request_context: contextvars.Context, response: Iterable[bytes]) -> None:
        self._context = request_context
        self._response = response
        self._iterator: Iterator[bytes] | None = None

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        if self._iterator is None:
            self._iterator = self._context.run(iter, self._response)
        return self._context.run(next, self._iterator)

    def close(self) -> None:
        close = getattr(self._response, "close", None)
        if close is not None:
            self._context.run(close)
