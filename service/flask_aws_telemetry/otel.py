"""OpenTelemetry: tracer provider, OTLP/HTTP export to the collector sidecar, requests traced behind a sampling gate.

Usage (``Telemetry.install`` does this)::

    provider = build_tracer_provider(settings)
    sampler = build_rules_sampler(settings, provider.resource)
    instrument_process(provider, http_conventions=settings.semconv_opt_in)
    # then the gate and the server span are layers of wsgi.build_wsgi_chain

Settings: ``OTEL_EXPORTER_OTLP_ENDPOINT`` (the collector),
``OTEL_SEMCONV_STABILITY_OPT_IN`` (the server spans' HTTP attribute
conventions, ``http`` or ``http/dup``), ``TELEMETRY_CONSOLE_EXPORT``
(``make local``), and the sampling variables of ``sampling``; all of them
come parsed, in ``TelemetrySettings`` (``ECS_CONTAINER_METADATA_URI_V4``, set by
the ECS agent, too: it adds the ECS resource attributes). Nothing here reads
the process environment.

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

The tracer provider never asks the rules again: the reservoir counts each
request once. Its root sampler admits exactly the trace the gate admitted
(``GateAdmission``: the id generator hands the server span the gate's trace
id, the root sampler samples that id), and drops every other root span, so
calls made by background threads (the sampling poller, watchtower's
sender) never start traces of their own.

Why not ``FlaskInstrumentor``: it does its work for every request, recorded
or not (the request attributes twice, the full URL for the excluded-URL
list). With it and the X-Ray SDK's Flask middleware a request nobody
records cost 769 more Python calls than with telemetry off; behind the gate
it costs about a hundred (``make bench-cost``).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import logging
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from opentelemetry import context, trace
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation._semconv import (
    _OpenTelemetrySemanticConventionStability,
    _OpenTelemetryStabilitySignalType,
    _StabilityMode,
)
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
from opentelemetry.sdk.trace.sampling import Decision, ParentBased, Sampler, SamplingResult
from opentelemetry.semconv.attributes.http_attributes import HTTP_REQUEST_METHOD, HTTP_ROUTE
from opentelemetry.semconv.attributes.server_attributes import SERVER_ADDRESS
from opentelemetry.semconv.attributes.url_attributes import URL_PATH
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from .settings import TelemetrySettings
from .capture import AnomalyCapture, RequestRecord
from .sampling import XRayRulesSampler

if TYPE_CHECKING:
    from .wsgi import Layer, WSGIApp

log = logging.getLogger("flask_aws_telemetry.otel")

# Short enough that a collector that is down or slow costs the exporter
# thread little, and shutdown drains well inside the ECS stop timeout.
EXPORT_TIMEOUT_SECONDS = 3
MAX_QUEUE_SIZE = 2048
SCHEDULE_DELAY_MILLIS = 1000
MAX_EXPORT_BATCH_SIZE = 512

# The trace id the gate admitted, for the server span it is about to start.
_admitted_trace_id: contextvars.ContextVar[int | None] = contextvars.ContextVar("cruddur_admitted_trace_id", default=None)
# The span id a captured server span must have: the one its request's log lines carry.
_admitted_span_id: contextvars.ContextVar[int | None] = contextvars.ContextVar("cruddur_admitted_span_id", default=None)


class GateIdGenerator(AwsXRayIdGenerator):
    """X-Ray-compatible ids; a root span inside the gate gets the trace id (and span id) the gate admitted."""

    def generate_trace_id(self) -> int:
        """The admitted trace id, else a new X-Ray-compatible one."""
        admitted = _admitted_trace_id.get()
        return admitted if admitted is not None else super().generate_trace_id()

    def generate_span_id(self) -> int:
        """The admitted span id, once, else a new one."""
        admitted = _admitted_span_id.get()
        if admitted is None:
            return super().generate_span_id()
        _admitted_span_id.set(None)
        return admitted


@contextlib.contextmanager
def admitted(trace_id: int, span_id: int) -> Iterator[None]:
    """Inside the block, the next span of the gate's provider starts trace ``trace_id`` (or continues it) as span ``span_id``, sampled.

    For a trace head sampling did not sample: ``capture`` exports an
    anomaly's server span with the ids its request already carried.
    """
    trace_token = _admitted_trace_id.set(trace_id)
    span_token = _admitted_span_id.set(span_id)
    try:
        yield
    finally:
        _admitted_span_id.reset(span_token)
        _admitted_trace_id.reset(trace_token)


class GateAdmission(Sampler):
    """Root sampler of the provider: sample the trace the gate admitted, once; drop every other root span."""

    def should_sample(
        self,
        parent_context: context.Context | None,
        trace_id: int,
        name: str,
        kind: trace.SpanKind | None = None,
        attributes: Any = None,
        links: Any = None,
        trace_state: Any = None,
    ) -> SamplingResult:
        """RECORD_AND_SAMPLE for the admitted trace id (then forget it), DROP otherwise."""
        if trace_id == _admitted_trace_id.get():
            _admitted_trace_id.set(None)
            return SamplingResult(Decision.RECORD_AND_SAMPLE, attributes)
        return SamplingResult(Decision.DROP)

    def get_description(self) -> str:
        """The sampler's name."""
        return "GateAdmission"


def build_resource(settings: TelemetrySettings) -> Resource:
    """service.name and deployment.environment, plus the ECS task attributes when running on ECS."""
    resource = Resource.create(
        {"service.name": settings.service_name, "deployment.environment": settings.environment}
    )
    if settings.on_ecs:
        resource = get_aggregated_resources([AwsEcsResourceDetector()], initial_resource=resource, timeout=5)
    return resource


def build_exporter(settings: TelemetrySettings) -> SpanExporter:
    """Console output for ``make local``, otherwise OTLP/HTTP to the collector."""
    if settings.console_export:
        return ConsoleSpanExporter()
    return OTLPSpanExporter(endpoint=settings.otlp_traces_url, timeout=EXPORT_TIMEOUT_SECONDS)


def build_rules_sampler(settings: TelemetrySettings, resource: Resource) -> XRayRulesSampler:
    """X-Ray's rules from the sampling proxy, the environment's own until then."""
    return XRayRulesSampler(resource, endpoint=settings.sampling_endpoint, fallback_rules=settings.sampling_rules)


def build_tracer_provider(settings: TelemetrySettings, exporter: SpanExporter | None = None) -> TracerProvider:
    """A provider with X-Ray-compatible ids, sampling what the gate admits, and batched export."""
    provider = TracerProvider(
        resource=build_resource(settings),
        id_generator=GateIdGenerator(),
        # A caller's unsampled decision does not stop the capture of our own anomaly (``admitted``).
        sampler=ParentBased(GateAdmission(), remote_parent_not_sampled=GateAdmission()),
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
    """WSGI middleware deciding once per request whether it is traced; only traced requests pay for a span.

    Every request, sampled or not, runs under ``capture``'s watch: an
    unsampled one that ends as an anomaly is exported after all.
    """

    def __init__(
        self, untraced: WSGIApp, *, traced: WSGIApp, provider: TracerProvider, rules: XRayRulesSampler, capture: AnomalyCapture
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
        except Exception:  # noqa: BLE001 - telemetry must never fail a request
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
        _admitted_trace_id.set(admitted)
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


def server_span(provider: TracerProvider) -> Layer:
    """OpenTelemetry's WSGI middleware as a layer: a server span of ``provider`` per request (metrics off)."""
    return functools.partial(OpenTelemetryMiddleware, tracer_provider=provider, meter_provider=NoOpMeterProvider())


class RouteNamedSpan:
    """Inside the server span: name it after the request's route and set http.route.

    The HTTP conventions name a server span "{method} {route}", and only
    "{method}" when no route matched, so that a scanner probing random paths
    cannot create a span name per path. Flask has matched the route by the
    time it starts the response, and werkzeug keeps the request object in the
    environ (``werkzeug.request``) until the request ends.
    """

    def __init__(self, wsgi_app: WSGIApp) -> None:
        """Wrap ``wsgi_app``."""
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """Name the current span when the app starts its response."""
        span = trace.get_current_span()

        def naming_start_response(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
            name_after_route(span, environ)
            return start_response(status, headers, *exc_info)

        return self.wsgi_app(environ, naming_start_response)


def name_after_route(span: trace.Span, environ: dict[str, Any]) -> None:
    """Name ``span`` "{method} {route}" and set http.route, or "{method}" when no route matched."""
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


def instrument_process(provider: TracerProvider, *, http_conventions: str) -> None:
    """What OpenTelemetry sets for the whole process: HTTP conventions, propagators, outgoing ``requests`` calls.

    Runs before any server span middleware is built: each instrumentation
    reads its HTTP conventions when it is built.
    """
    use_http_conventions(http_conventions)
    install_propagators()
    requests_instrumentor = RequestsInstrumentor()
    if not requests_instrumentor.is_instrumented_by_opentelemetry:
        requests_instrumentor.instrument(tracer_provider=provider)


def use_http_conventions(opt_in: str) -> None:
    """HTTP spans built from now on follow ``opt_in`` (``OTEL_SEMCONV_STABILITY_OPT_IN``'s ``http`` or ``http/dup``).

    The instrumentations keep their conventions in one table per process,
    filled from the environment variable the first time one is built; the
    setting is handed to that table, as parsed, instead of being written
    back into the process environment. Only the HTTP row is set: the other
    signals keep what the environment says.
    """
    stability = _OpenTelemetrySemanticConventionStability
    stability._initialize()  # noqa: SLF001 - reads the environment once, if no instrumentation has yet
    stability._OTEL_SEMCONV_STABILITY_SIGNAL_MAPPING[_OpenTelemetryStabilitySignalType.HTTP] = _StabilityMode(opt_in)  # noqa: SLF001
