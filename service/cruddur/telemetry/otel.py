"""OpenTelemetry: tracer provider, OTLP/HTTP export to the collector sidecar, Flask and requests."""

from __future__ import annotations

import os

from flask import Flask
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.flask import FlaskInstrumentor
from opentelemetry.instrumentation.requests import RequestsInstrumentor
from opentelemetry.propagate import set_global_textmap
from opentelemetry.propagators.aws import AwsXRayPropagator
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.sdk.extension.aws.resource.ecs import AwsEcsResourceDetector
from opentelemetry.sdk.extension.aws.trace import AwsXRayIdGenerator
from opentelemetry.sdk.resources import Resource, get_aggregated_resources
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from ..settings import Settings

# Short enough that a collector that is down or slow costs the exporter
# thread little, and shutdown drains well inside the ECS stop timeout.
EXPORT_TIMEOUT_SECONDS = 3
MAX_QUEUE_SIZE = 2048
SCHEDULE_DELAY_MILLIS = 1000
MAX_EXPORT_BATCH_SIZE = 512


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
        id_generator=AwsXRayIdGenerator(),
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


def instrument(app: Flask, provider: TracerProvider, settings: Settings) -> None:
    """Trace ``app``'s requests (health checks excluded) and outgoing ``requests`` calls."""
    install_propagators()
    FlaskInstrumentor().instrument_app(app, tracer_provider=provider, excluded_urls=settings.excluded_urls)
    requests_instrumentor = RequestsInstrumentor()
    if not requests_instrumentor.is_instrumented_by_opentelemetry:
        requests_instrumentor.instrument(tracer_provider=provider)


def uninstrument(app: Flask) -> None:
    """Remove the Flask instrumentation from ``app`` (tests)."""
    FlaskInstrumentor.uninstrument_app(app)
