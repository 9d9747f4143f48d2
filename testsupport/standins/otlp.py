"""The collector's OTLP/HTTP receiver: spans POSTed to /v1/traces, decoded with opentelemetry-proto."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from testsupport.standins.loopback_http import LoopbackHttpServer


@dataclass
class ReceivedSpan:
    """One span as the receiver decoded it."""

    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    attributes: dict[str, Any]
    resource: dict[str, Any]
    kind: int = 0  # the OTLP Span.SpanKind number: 2 server, 3 client
    status_code: int = 0  # the OTLP Status.StatusCode number: 2 error
    scope: str = ""
    start_ns: int = 0
    end_ns: int = 0
    duration_ms: float = 0.0
    events: tuple[str, ...] = ()  # the names of its events ("exception", ...)


def _attribute_value(value: Any) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_attribute_value(item) for item in value.array_value.values]
    return getattr(value, kind) if kind else None


def decoded_spans(request: ExportTraceServiceRequest) -> list[ReceivedSpan]:
    """Every span of an OTLP export request, with its resource's attributes."""
    received = []
    for resource_spans in request.resource_spans:
        resource = {a.key: _attribute_value(a.value) for a in resource_spans.resource.attributes}
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                received.append(
                    ReceivedSpan(
                        trace_id=span.trace_id.hex(),
                        span_id=span.span_id.hex(),
                        parent_span_id=span.parent_span_id.hex(),
                        name=span.name,
                        attributes={a.key: _attribute_value(a.value) for a in span.attributes},
                        resource=resource,
                        kind=span.kind,
                        status_code=span.status.code,
                        scope=scope_spans.scope.name,
                        start_ns=span.start_time_unix_nano,
                        end_ns=span.end_time_unix_nano,
                        duration_ms=(span.end_time_unix_nano - span.start_time_unix_nano) / 1e6,
                        events=tuple(event.name for event in span.events),
                    )
                )
    return received


class OtlpReceiver(LoopbackHttpServer):
    """Collects the spans POSTed to /v1/traces, and each request's headers; with ``decode=False`` only accepts them
    (benchmarks).
    """

    def __init__(self, *, decode: bool = True) -> None:
        super().__init__()
        self.decode = decode
        self.spans: list[ReceivedSpan] = []
        self.paths: list[str] = []
        self.headers: list[dict[str, str]] = []
        self._lock = threading.Lock()

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        self.paths.append(path)
        with self._lock:
            self.headers.append(headers)
        if self.status != 200 or not self.decode:
            return self.status, b"{}"
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        received = decoded_spans(request)
        with self._lock:
            self.spans.extend(received)
        return 200, b"{}"

    def spans_named(self, name: str) -> list[ReceivedSpan]:
        """The spans received so far with this name."""
        with self._lock:
            return [s for s in self.spans if s.name == name]
