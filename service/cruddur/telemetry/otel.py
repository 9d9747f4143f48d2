"""OpenTelemetry: tracer provider, OTLP/HTTP export to the collector sidecar, requests traced behind a sampling gate.

Where unsampled requests stop paying
------------------------------------
``FlaskInstrumentor`` does its work for every request, recorded or not: it
collects the request attributes twice and builds the full URL to test the
excluded-URL list. With it and the X-Ray SDK's Flask middleware, a request
nobody records cost 769 more Python calls (~290 µs on the benchmark machine)
than with telemetry off, although 95 % of prod's requests are never
recorded; behind the gate it costs 96 (``make bench-cost``). Here the sampling decision is made once, first:
``SamplingGate`` (outermost WSGI middleware after the header guard) extracts
the incoming trace context, draws the trace id and asks the provider's own
sampler. Only a sampled request goes through OpenTelemetry's WSGI middleware
(``OpenTelemetryMiddleware``) to get a server span; an unsampled one runs the
bare app under a non-recording span that still carries its trace id (for
logs, Rollbar and outgoing ``traceparent`` headers with the sampled flag
off). Excluded URLs (health checks) get neither.

The server span gets the same decision the gate made: ``GateIdGenerator``
hands the root span the trace id the gate drew, and the ratio sampler
decides on the trace id alone, so the tracer's own call to the sampler
agrees. A remote parent decides in both places through ``ParentBased``.
"""

from __future__ import annotations

import contextvars
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from flask import Flask
from opentelemetry import context, trace
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.requests import RequestsInstrumentor
from opentelemetry.instrumentation.wsgi import OpenTelemetryMiddleware, wsgi_getter
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.propagate import extract, set_global_textmap
from opentelemetry.propagators.aws import AwsXRayPropagator
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.sdk.extension.aws.resource.ecs import AwsEcsResourceDetector
from opentelemetry.sdk.extension.aws.trace import AwsXRayIdGenerator
from opentelemetry.sdk.resources import Resource, get_aggregated_resources
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.sdk.trace.sampling import Decision, ParentBased, TraceIdRatioBased
from opentelemetry.semconv.attributes.http_attributes import HTTP_ROUTE
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.http import parse_excluded_urls

from .. import contract
from ..settings import Settings

log = logging.getLogger("cruddur.telemetry.otel")

# Short enough that a collector that is down or slow costs the exporter
# thread little, and shutdown drains well inside the ECS stop timeout.
EXPORT_TIMEOUT_SECONDS = 3
MAX_QUEUE_SIZE = 2048
SCHEDULE_DELAY_MILLIS = 1000
MAX_EXPORT_BATCH_SIZE = 512

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# The trace id the gate sampled on, for the server span it is about to start.
_reserved_trace_id: contextvars.ContextVar[int | None] = contextvars.ContextVar("cruddur_reserved_trace_id", default=None)


class GateIdGenerator(AwsXRayIdGenerator):
    """X-Ray-compatible ids; the first root trace id inside the gate is the one the gate sampled on."""

    def generate_trace_id(self) -> int:
        """The reserved trace id, once, else a new X-Ray-compatible one."""
        reserved = _reserved_trace_id.get()
        if reserved is not None:
            _reserved_trace_id.set(None)
            return reserved
        return super().generate_trace_id()


def build_resource(settings: Settings) -> Resource:
    """service.name and deployment.environment, plus the ECS task attributes when running on ECS."""
    resource = Resource.create(
        {"service.name": settings.service_name, "deployment.environment": settings.environment}
    )
    if os.environ.get("ECS_CONTAINER_METADATA_URI_V4"):
        resource = get_aggregated_resources([AwsEcsResourceDetector()], initial_resource=resource, timeout=5)
    return resource


def build_exporter(settings: Settings) -> SpanExporter:
    """Console output for ``make local``, otherwise OTLP/HTTP to the collector."""
    if settings.console_export:
        return ConsoleSpanExporter()
    return OTLPSpanExporter(endpoint=settings.otlp_traces_url, timeout=EXPORT_TIMEOUT_SECONDS)


def build_tracer_provider(settings: Settings, exporter: SpanExporter | None = None) -> TracerProvider:
    """A provider with X-Ray-compatible ids, parent-based ratio sampling and batched export."""
    provider = TracerProvider(
        resource=build_resource(settings),
        id_generator=GateIdGenerator(),
        sampler=ParentBased(TraceIdRatioBased(settings.sampling_ratio)),
    )
    provider.add_span_processor(
        BatchSpanProcessor(
            exporter or build_exporter(settings),
            max_queue_size=MAX_QUEUE_SIZE,
            schedule_delay_millis=SCHEDULE_DELAY_MILLIS,
            max_export_batch_size=MAX_EXPORT_BATCH_SIZE,
            export_timeout_millis=EXPORT_TIMEOUT_SECONDS * 1000,
        )
    )
    return provider


def install_propagators() -> None:
    """W3C trace context and baggage, and the X-Ray header, both extracted and injected."""
    set_global_textmap(
        CompositePropagator([TraceContextTextMapPropagator(), W3CBaggagePropagator(), AwsXRayPropagator()])
    )


class SamplingGate:
    """WSGI middleware deciding once per request whether it is traced; only traced requests pay for a span."""

    def __init__(
        self,
        wsgi_app: WSGIApp,
        provider: TracerProvider,
        excluded_urls: str,
        *,
        sampled_path: Callable[[WSGIApp], WSGIApp] | None = None,
    ) -> None:
        """Send sampled requests through OpenTelemetry's WSGI middleware (and ``sampled_path``) to ``wsgi_app``.

        ``sampled_path`` wraps ``wsgi_app`` with what only sampled requests
        need (the X-Ray segment); it runs inside the server span.
        """
        self.untraced = wsgi_app
        inner = sampled_path(wsgi_app) if sampled_path is not None else wsgi_app
        self.traced = OpenTelemetryMiddleware(
            _RouteNamedSpan(inner), tracer_provider=provider, meter_provider=NoOpMeterProvider()
        )
        self._sampler = provider.sampler
        self._ids = provider.id_generator
        self._excluded = parse_excluded_urls(excluded_urls) if excluded_urls else None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """Trace the request if it is sampled; otherwise run it under a non-recording span."""
        if self._excluded is not None and self._excluded.url_disabled(environ.get("PATH_INFO", "")):
            return self.untraced(environ, start_response)
        try:
            parent_context = extract(environ, getter=wsgi_getter)
            parent = trace.get_current_span(parent_context).get_span_context()
            trace_id = parent.trace_id if parent.is_valid else self._ids.generate_trace_id()
            decision = self._sampler.should_sample(parent_context, trace_id, "request", trace.SpanKind.SERVER).decision
        except Exception:  # noqa: BLE001 - telemetry must never fail a request
            log.exception("could not make the sampling decision; the request is not traced")
            return self.untraced(environ, start_response)
        if decision is not Decision.DROP:
            # OpenTelemetry's WSGI middleware leaves its context attached until the
            # response has been iterated; a server that closes a response without
            # iterating it (a client gone before the body) would leave it attached
            # to this thread for good. Run it, and its response, in a copy instead.
            request_context = contextvars.copy_context()
            reserved = None if parent.is_valid else trace_id
            response = request_context.run(self._start_traced, environ, start_response, reserved)
            return _ResponseInContext(request_context, response)
        unsampled = trace.NonRecordingSpan(
            trace.SpanContext(
                trace_id,
                self._ids.generate_span_id(),
                is_remote=False,
                trace_flags=trace.TraceFlags(trace.TraceFlags.DEFAULT),
                trace_state=parent.trace_state if parent.is_valid else None,
            )
        )
        token = context.attach(trace.set_span_in_context(unsampled, parent_context))
        try:
            return self.untraced(environ, start_response)
        finally:
            context.detach(token)

    def _start_traced(self, environ: dict[str, Any], start_response: Callable[..., Any], reserved: int | None) -> Iterable[bytes]:
        _reserved_trace_id.set(reserved)
        return self.traced(environ, start_response)


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


class _RouteNamedSpan:
    """Inside the server span: name it after the request's route and set http.route.

    The HTTP conventions name a server span "{method} {route}", and only
    "{method}" when no route matched, so that a scanner probing random paths
    cannot create a span name per path. Flask has matched the route by the
    time it starts the response, and werkzeug keeps the request object in the
    environ (``werkzeug.request``) until the request ends.
    """

    def __init__(self, wsgi_app: WSGIApp) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        span = trace.get_current_span()

        def naming_start_response(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
            _name_after_route(span, environ)
            return start_response(status, headers, *exc_info)

        return self.wsgi_app(environ, naming_start_response)


def _name_after_route(span: trace.Span, environ: dict[str, Any]) -> None:
    try:
        method = environ.get("REQUEST_METHOD") or "HTTP"
        rule = getattr(environ.get("werkzeug.request"), "url_rule", None)
        if rule is None:
            span.update_name(method)
        else:
            span.update_name(f"{method} {rule.rule}")
            span.set_attribute(HTTP_ROUTE, rule.rule)
    except Exception:  # noqa: BLE001 - telemetry must never fail a request
        log.exception("could not name the server span")


def instrument(
    app: Flask,
    provider: TracerProvider,
    settings: Settings,
    *,
    sampled_path: Callable[[WSGIApp], WSGIApp] | None = None,
) -> None:
    """Trace ``app``'s sampled requests (health checks excluded) and outgoing ``requests`` calls."""
    install_propagators()
    # The instrumentation reads its conventions from the process environment, once.
    os.environ[contract.OTEL_SEMCONV_STABILITY_OPT_IN.name] = settings.semconv_opt_in
    app.wsgi_app = SamplingGate(  # type: ignore[method-assign]
        app.wsgi_app, provider, settings.excluded_urls, sampled_path=sampled_path
    )
    requests_instrumentor = RequestsInstrumentor()
    if not requests_instrumentor.is_instrumented_by_opentelemetry:
        requests_instrumentor.instrument(tracer_provider=provider)
