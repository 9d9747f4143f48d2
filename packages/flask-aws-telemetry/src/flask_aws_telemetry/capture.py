"""Anomaly capture: an unsampled request that fails or is slow is exported anyway, with the trace id it already carries.

Usage (``request_path.build_wsgi_chain`` wires it into ``gate.SamplingGate``)::

    capture = AnomalyCapture(tracer_provider=provider, xray_recorder=recorder, aws_calls=calls,
                             slow_request_seconds=1.0, per_second=5.0)

What counts as an anomaly: a response status of 500 or more, an unhandled
exception (Flask answers 500; ``note_exception`` keeps it), or a request
that took longer than the environment's slow-request threshold (the one
``xray_groups.slow_request_seconds`` holds, ``TELEMETRY_SLOW_REQUEST_SECONDS``).

What a request pays for it: the gate keeps a ``RequestRecord`` per request
(its trace and span ids, start and end times, status, error and its AWS
calls as ``aws_calls.AwsCall``: a few references and integers, no span),
and checks it when the request ends. Only a request that ends as an anomaly,
head sampling said no, and the limit allows, is exported, then and there:

* OpenTelemetry: its server span, built by the WSGI instrumentation's own
  attribute functions (the attributes of a sampled request's server span,
  named after its route), with the gate's trace id and the span id its log
  lines carry, under the caller's span if one was sent, and one CLIENT span
  per AWS call under it, with the calls' real times;
* X-Ray SDK: its segment with the HTTP fields, the status, the exception and
  an ``aws`` subsegment per call.

Both are marked: attribute ``anomaly.captured`` = true and ``anomaly.reason``
(``server_error``, ``exception``, ``slow``) on the server span, annotations
``anomaly_captured`` and ``anomaly_reason`` on the segment, so that a query
(``annotation.anomaly_captured = true`` in X-Ray, ``anomaly.captured = true``
in Honeycomb) tells captured traces from sampled ones. What the request's
service functions (``telemetry.operation``) did is not in a captured trace:
only sampled requests record them. Each captured trace also writes one log
line (logger ``<TELEMETRY_LOGGER_PREFIX>.anomalies``, message ``anomaly trace
captured``), which the app's dashboard counts.

The limit: at most ``per_second`` captured traces a second per process (the
ADOT distro's rate limiter, a balance of one second), so an error storm
exports a steady trickle; what it drops is counted and logged at most once a
minute (``ratelimit.DropCounter``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from amazon.opentelemetry.distro.sampler._clock import _Clock
from amazon.opentelemetry.distro.sampler._rate_limiter import _RateLimiter
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.instrumentation.wsgi import (
    OpenTelemetryMiddleware,
    add_response_attributes,
    collect_request_attributes,
    get_default_span_name,
)
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.semconv.attributes.error_attributes import ERROR_TYPE
from opentelemetry.trace import Status, StatusCode

from . import contract, request_record, route_naming, xray
from .headers import xray_trace_id
from .provider import admitted
from .ratelimit import DropCounter
from .request_record import RequestRecord

if TYPE_CHECKING:
    from aws_xray_sdk.core import AWSXRayRecorder

    from .aws_calls import AwsCallTracing

log = logging.getLogger("flask_aws_telemetry.capture")
CAPTURED_MESSAGE = "anomaly trace captured"


def _no_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """The app of the middleware ``AnomalyCapture`` builds for its tracer and conventions only: never called."""
    raise NotImplementedError


class AnomalyCapture:
    """Watches every request the gate lets through; exports the unsampled ones that end as anomalies, within a limit."""

    def __init__(
        self,
        *,
        tracer_provider: TracerProvider,
        xray_recorder: AWSXRayRecorder | None,
        aws_calls: AwsCallTracing,
        slow_request_seconds: float,
        per_second: float,
        anomaly_logger: str = contract.anomaly_logger(contract.DEFAULT_LOGGER_PREFIX),
        on_anomaly: Callable[..., None] | None = None,
        clock: _Clock | None = None,
    ) -> None:
        """Export through ``tracer_provider`` (and ``xray_recorder``), at most ``per_second`` a second.

        ``on_anomaly(rule_name, sampled=...)`` is told of every anomaly of a
        trace a sampling rule decided, sampled or not (``XRayRulesSampler.count_anomaly``:
        the rule's boost statistics). Each captured trace writes one line to
        ``anomaly_logger``: never rate limited (every line counts), the limit
        bounds them.
        """
        # The WSGI instrumentation's tracer and conventions: a captured server span is one of its spans.
        instrumentation = OpenTelemetryMiddleware(
            _no_app, tracer_provider=tracer_provider, meter_provider=NoOpMeterProvider()
        )
        self._tracer = instrumentation.tracer
        self._conventions = instrumentation._sem_conv_opt_in_mode
        self._recorder = xray_recorder
        self._aws_calls = aws_calls
        self._slow_ns = int(slow_request_seconds * 1e9)
        self._limit = _RateLimiter(1, per_second, clock or _Clock()) if per_second > 0 else None
        self._on_anomaly = on_anomaly
        self._anomaly_log = logging.getLogger(anomaly_logger)
        self.dropped = DropCounter(log, f"anomaly capture limit ({per_second:g} traces a second per process) reached")
        self.captured = 0

    def watch(
        self,
        app: Callable[..., Iterable[bytes]],
        environ: dict[str, Any],
        start_response: Callable[..., Any],
        record: RequestRecord,
        parent_context: otel_context.Context | None,
    ) -> Iterable[bytes]:
        """Run ``app`` with ``record`` current; when it has answered, export the request if it is a captured anomaly."""

        def noting_start_response(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
            record.status = status
            record.request = environ.get("werkzeug.request")
            return start_response(status, headers, *exc_info)

        token = request_record.begin(record)
        try:
            return app(environ, noting_start_response)
        except BaseException as error:  # the app propagates (testing, or PROPAGATE_EXCEPTIONS)
            record.error = error
            raise
        finally:
            request_record.end(token)
            record.end_ns = time.time_ns()
            self.finish(record, environ, parent_context)

    def finish(
        self, record: RequestRecord, environ: dict[str, Any], parent_context: otel_context.Context | None
    ) -> None:
        """The request has ended: count an anomaly; export it if it is unsampled and the limit allows."""
        reason = record.anomaly(self._slow_ns)
        if reason is None:
            return
        try:
            if self._on_anomaly is not None and record.rule_name is not None:
                self._on_anomaly(record.rule_name, sampled=record.sampled)
            if record.sampled:
                return
            if self._limit is None or not self._limit.try_spend(1):
                self.dropped.drop()
                return
            self._export(record, reason, environ, parent_context)
            self.captured += 1
            self._anomaly_log.info(
                "%s: %s, %s %s",
                CAPTURED_MESSAGE,
                reason,
                environ.get("REQUEST_METHOD"),
                environ.get("PATH_INFO"),
                extra=_record_ids(record),
            )
        except Exception:
            log.exception("could not capture the anomaly of trace %s", xray_trace_id(record.trace_id))

    def _export(
        self, record: RequestRecord, reason: str, environ: dict[str, Any], parent_context: otel_context.Context | None
    ) -> None:
        attributes = collect_request_attributes(environ, self._conventions) | route_naming.peer_address(environ)
        with admitted(record.trace_id, record.span_id):
            span = self._tracer.start_span(
                get_default_span_name(environ),
                context=parent_context,
                kind=trace.SpanKind.SERVER,
                attributes=attributes,
                start_time=record.start_ns,
            )
        if record.status is not None:
            add_response_attributes(span, record.status, [], attributes, self._conventions)
        route_naming.name_after_route(span, {**environ, "werkzeug.request": record.request})
        span.set_attribute(contract.ANOMALY_CAPTURED_ATTRIBUTE, True)
        span.set_attribute(contract.ANOMALY_REASON_ATTRIBUTE, reason)
        if record.error is not None:
            span.set_attribute(ERROR_TYPE, type(record.error).__qualname__)
            span.record_exception(record.error, timestamp=record.end_ns)
            span.set_status(Status(StatusCode.ERROR, str(record.error)))
        in_span = trace.set_span_in_context(span)
        segment = self._begin_segment(record, reason, environ, span, xray)
        with xray.segment_in_progress(segment):
            for call in record.calls:
                self._aws_calls.export(call, parent=in_span)
            if segment is not None:
                assert self._recorder is not None
                self._recorder.end_segment(record.end_ns / 1e9)
        span.end(end_time=record.end_ns)

    def _begin_segment(self, record: RequestRecord, reason: str, environ: dict[str, Any], span: Any, xray: Any) -> Any:
        if self._recorder is None:
            return None
        from aws_xray_sdk.core.models import http
        from aws_xray_sdk.core.utils import stacktrace

        # The captured server span's twin, as a sampled request's segment is (xray.begin_twin_segment).
        segment = xray.begin_twin_segment(self._recorder, span.get_span_context(), getattr(span, "parent", None))
        segment.start_time = record.start_ns / 1e9
        xray.put_request_meta(segment, environ)
        status = 500 if record.status is None else int(record.status.split(" ", 1)[0])
        segment.put_http_meta(http.STATUS, status)
        if record.error is not None:
            segment.add_exception(record.error, stacktrace.get_stacktrace(limit=self._recorder.max_trace_back))
        segment.put_annotation(contract.xray_annotation_key(contract.ANOMALY_CAPTURED_ATTRIBUTE), True)
        segment.put_annotation(contract.xray_annotation_key(contract.ANOMALY_REASON_ATTRIBUTE), reason)
        return segment


def _record_ids(record: RequestRecord) -> dict[str, str]:
    """The captured trace's ids for its log line (written after the request's context is gone)."""
    return {
        "trace_id": f"{record.trace_id:032x}",
        "span_id": f"{record.span_id:016x}",
        "xray_trace_id": xray_trace_id(record.trace_id),
    }
