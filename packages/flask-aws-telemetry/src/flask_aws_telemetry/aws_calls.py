"""AWS SDK calls (DynamoDB): timed by botocore's own event hooks, made into spans and subsegments only when exported.

Usage (``Telemetry.install`` does this for the store's client)::

    calls = AwsCallTracing(tracer_provider=provider, xray_recorder=recorder)
    calls.trace_client(store.client)

What users see is what the libraries' botocore instrumentations record:

* OpenTelemetry: a CLIENT span per call (``DynamoDB.Query``), of the
  instrumentation scope ``opentelemetry.instrumentation.botocore.dynamodb``,
  with the attributes that instrumentation's own DynamoDB extension
  extracts (``rpc.*``, ``db.*``, ``aws.dynamodb.*``, ``aws.request_id``,
  ``http.status_code``, ``retry_attempts``, ``server.*``, ``cloud.region``;
  docs/telemetry-library.md lists them), and ``aws.region``: the one
  attribute X-Ray reads a call's region from (``cloud.region`` stays
  metadata there), so that the DynamoDB node of a trace that reached X-Ray
  as spans names its region as the SDK's subsegment does; status ERROR and
  the exception on a failure;
* X-Ray: an ``aws`` subsegment per call named after the service
  (``dynamodb``), with the ``aws`` fields the SDK's own ``aws_meta_processor``
  records (``operation``, ``region``, ``request_id``, ``table_name``, ...),
  the HTTP status, and the exception (error, throttle or fault).

What runs is not those instrumentations, which wrap every botocore call of
the process: an unsampled request's call paid for a non-recording span, a
call context and a header injection, and a sampled one about 1,200 µs of
which the span and subsegment were a small part (``make bench-cost``). Here
four handlers on the client's event system (``before-parameter-build``,
``after-call``, ``after-call-error``) note, only inside a request that is
sampled or watched for anomalies (``capture``), when the call started and
what it returned. The span and subsegment are then built with the real start
and end times, by the libraries' own attribute extractors: at once for a
sampled request (under the span and subsegment that are current), and at
the end of an unsampled request only if it is captured as an anomaly
(``capture.AnomalyCapture``). Every other call (seeding, background
threads, an unsampled request that ends well) pays for one context-variable
look-up per hook.

Difference from the instrumentations: the ``X-Amzn-Trace-Id`` header is not
added to the request sent to DynamoDB (DynamoDB does not continue traces;
the client span and subsegment are the whole record of the call).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from aws_xray_sdk.core import AWSXRayRecorder
from aws_xray_sdk.core.utils import stacktrace
from aws_xray_sdk.ext.boto_utils import aws_meta_processor
from botocore.exceptions import ClientError
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry._logs import NoOpLogger
from opentelemetry.instrumentation.botocore import _BOTOCORE_EXTENSIONS, _apply_response_attributes
from opentelemetry.instrumentation.botocore.extensions.registry import ExtensionRegistry
from opentelemetry.instrumentation.botocore.extensions.types import _AwsSdkCallContext, _BotocoreInstrumentorContext
from opentelemetry.instrumentation.botocore.utils import get_server_attributes
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.semconv._incubating.attributes.cloud_attributes import CLOUD_REGION
from opentelemetry.semconv._incubating.attributes.rpc_attributes import RPC_METHOD, RPC_SERVICE, RPC_SYSTEM
from opentelemetry.trace import Status, StatusCode

from . import xray
from .request_record import AwsCall, current_record

log = logging.getLogger("flask_aws_telemetry.aws_calls")

# Where a call's start is kept, in botocore's per-call context dict.
_STARTED = "flask_aws_telemetry_started_ns"
# Where X-Ray (the awsxray exporter's translator, and the OTLP endpoint as inferred from it) reads a call's region.
AWS_REGION = "aws.region"
# The instrumentation's own package name: its spans keep their instrumentation scope.
_INSTRUMENTATION = "opentelemetry.instrumentation.botocore"


class AwsCallTracing:
    """Hooks on botocore clients' event systems, and the spans and subsegments built from what they noted."""

    def __init__(self, *, tracer_provider: TracerProvider | None, xray_recorder: AWSXRayRecorder | None) -> None:
        """Build spans of ``tracer_provider`` and subsegments of ``xray_recorder`` (either may be None)."""
        self._registry = (
            ExtensionRegistry(_INSTRUMENTATION, _BOTOCORE_EXTENSIONS, tracer_provider) if tracer_provider else None
        )
        self._recorder = xray_recorder

    def trace_client(self, client: Any) -> None:
        """Note the calls ``client`` makes inside sampled or watched requests."""
        events = client.meta.events
        events.register("before-parameter-build", _note_start, unique_id="flask-aws-telemetry-aws-call-start")
        events.register("after-call", self._after_call(client), unique_id="flask-aws-telemetry-aws-call-end")
        events.register(
            "after-call-error", self._after_call_error(client), unique_id="flask-aws-telemetry-aws-call-error"
        )

    def _after_call(self, client: Any) -> Callable[..., None]:
        def after_call(
            *, parsed: dict[str, Any], model: Any, context: dict[str, Any], http_response: Any = None, **_: Any
        ) -> None:
            started = context.pop(_STARTED, None)
            if started is None:
                return
            call = AwsCall(client, model.name, context.get("flask_aws_telemetry_params") or {}, started)
            call.end_ns = time.time_ns()
            call.response = parsed
            if http_response is not None and http_response.status_code >= 300:
                error_code = context.get("error_code_override") or parsed.get("Error", {}).get("Code")
                call.error = client.exceptions.from_code(error_code)(parsed, model.name)
            self._finish(call)

        return after_call

    def _after_call_error(self, client: Any) -> Callable[..., None]:
        def after_call_error(*, exception: BaseException, context: dict[str, Any], **_: Any) -> None:
            started = context.pop(_STARTED, None)
            if started is None:
                return
            call = AwsCall(
                client,
                context.get("flask_aws_telemetry_operation") or "",
                context.get("flask_aws_telemetry_params") or {},
                started,
            )
            call.end_ns = time.time_ns()
            call.error = exception
            self._finish(call)

        return after_call_error

    def _finish(self, call: AwsCall) -> None:
        """A sampled request's call is exported now, under what is current; a watched one is kept for later."""
        record = current_record()
        if record is not None and not record.sampled:
            record.calls.append(call)
            return
        try:
            self.export(call)
        except Exception:
            log.exception("could not record the AWS call %s", call.operation)

    def export(self, call: AwsCall, *, parent: otel_context.Context | None = None) -> None:
        """The call's client span (under ``parent``, default the current span) and its subsegment (under the current
        entity).
        """
        if self._registry is not None and trace.get_current_span(parent).is_recording():
            self._span(call, parent)
        if self._recorder is not None and xray.current_segment() is not None:
            self._subsegment(call)

    def _span(self, call: AwsCall, parent: otel_context.Context | None) -> None:
        """What ``BotocoreInstrumentor._patched_api_call`` records, from the same extension, with the call's own
        times.
        """
        assert self._registry is not None
        call_context = _AwsSdkCallContext(call.client, (call.operation, call.params))
        extension = self._registry.get_extension(call_context)
        attributes: dict[str, Any] = {
            RPC_SYSTEM: "aws-api",
            RPC_SERVICE: call_context.service_id,
            RPC_METHOD: call_context.operation,
            CLOUD_REGION: call_context.region,
            AWS_REGION: call_context.region,
            **get_server_attributes(call_context.endpoint_url or ""),
        }
        extension.extract_attributes(attributes)
        span = self._registry.get_tracer(extension).start_span(
            call_context.span_name,
            context=parent,
            kind=call_context.span_kind,
            attributes=attributes,
            start_time=call.start_ns,
        )
        instrumentor_context = _BotocoreInstrumentorContext(logger=NoOpLogger(_INSTRUMENTATION))
        extension.before_service_call(span, instrumentor_context)
        _apply_response_attributes(span, call.response)
        if call.error is None:
            extension.on_success(span, call.response or {}, instrumentor_context)
        else:
            if isinstance(call.error, ClientError):
                extension.on_error(span, call.error, instrumentor_context)
            # As the SDK's span does when an exception leaves it.
            span.record_exception(call.error, timestamp=call.end_ns)
            span.set_status(Status(StatusCode.ERROR, f"{type(call.error).__name__}: {call.error}"))
        span.end(end_time=call.end_ns)

    def _subsegment(self, call: AwsCall) -> None:
        """What the SDK's ``record_subsegment`` with ``aws_meta_processor`` records, with the call's own times."""
        assert self._recorder is not None
        name = call.client.meta.service_model.metadata["endpointPrefix"]
        subsegment = self._recorder.begin_subsegment(name, "aws")
        if subsegment is None:
            return
        subsegment.start_time = call.start_ns / 1e9
        stack = stacktrace.get_stacktrace(limit=self._recorder.max_trace_back) if call.error is not None else None
        aws_meta_processor(
            wrapped=None,
            instance=call.client,
            args=(call.operation, call.params),
            kwargs={},
            return_value=None if call.error is not None else call.response,
            exception=call.error,
            subsegment=subsegment,
            stack=stack,
        )
        if call.error is not None and not isinstance(call.error, ClientError):
            subsegment.add_exception(call.error, stack)
        self._recorder.end_subsegment(call.end_ns / 1e9)


def _note_start(*, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
    """before-parameter-build: inside a sampled or watched request, the call's start and its parameters."""
    if current_record() is None and xray.current_segment() is None:
        return
    context[_STARTED] = time.time_ns()
    context["flask_aws_telemetry_operation"] = model.name
    context["flask_aws_telemetry_params"] = params
