"""OpenTelemetry's tracer provider: X-Ray-compatible ids, the root sampler that follows the gate, OTLP/HTTP export.

Usage (``Telemetry.install`` does this)::

    provider = build_tracer_provider(settings)
    sampler = build_rules_sampler(settings, provider.resource)

Settings: ``OTEL_EXPORTER_OTLP_ENDPOINT`` (the collector),
``TELEMETRY_CONSOLE_EXPORT`` (``make local``), the sampling variables of
``sampling`` and ``ECS_CONTAINER_METADATA_URI_V4`` (set by the ECS agent: it
adds the ECS resource attributes); all of them come parsed, in
``TelemetrySettings``. Nothing here reads the process environment.

The tracer provider never asks the sampling rules itself: the gate
(``gate.SamplingGate``) has, once per request. Its root sampler admits
exactly the trace the gate admitted (``GateAdmission``: the id generator
hands the server span the gate's trace id, the root sampler samples that
id), and drops every other root span, so calls made by background threads
(the sampling poller, watchtower's sender) never start traces of their own.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

from opentelemetry import context, trace
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.propagate import set_global_textmap
from opentelemetry.propagators.aws import AwsXRayPropagator
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.sdk.extension.aws.resource.ecs import AwsEcsResourceDetector
from opentelemetry.sdk.extension.aws.trace import AwsXRayIdGenerator
from opentelemetry.sdk.resources import Resource, get_aggregated_resources
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.sdk.trace.sampling import Decision, ParentBased, Sampler, SamplingResult
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from .sampling import XRayRulesSampler
from .settings import TelemetrySettings

# Short enough that a collector that is down or slow costs the exporter
# thread little, and shutdown drains well inside the ECS stop timeout.
EXPORT_TIMEOUT_SECONDS = 3
MAX_QUEUE_SIZE = 2048
SCHEDULE_DELAY_MILLIS = 1000
MAX_EXPORT_BATCH_SIZE = 512

# The trace id the gate admitted, for the server span it is about to start.
_admitted_trace_id: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "flask_aws_telemetry_admitted_trace_id", default=None
)
# The span id a captured server span must have: the one its request's log lines carry.
_admitted_span_id: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "flask_aws_telemetry_admitted_span_id", default=None
)


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
    """Inside the block, the next span of the gate's provider starts trace ``trace_id`` (or continues it) as span
    ``span_id``, sampled.

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
    """service.name, deployment.environment and service.version (when set), plus the ECS task attributes on ECS."""
    attributes = {"service.name": settings.service_name, "deployment.environment": settings.environment}
    if settings.service_version:
        attributes["service.version"] = settings.service_version
    resource = Resource.create(attributes)
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


def admit_trace(trace_id: int | None) -> None:
    """The next root span of the gate's provider in this context starts trace ``trace_id`` (None: no trace is
    admitted).
    """
    _admitted_trace_id.set(trace_id)
