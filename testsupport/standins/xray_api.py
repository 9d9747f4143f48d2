"""X-Ray's API as AWS serves it, on loopback: where the real daemon and the real collector send what they hold.

The sidecars reach it through their endpoint overrides (the daemon's
``Endpoint``, the collector's ``endpoint``), signing every request as they
would for AWS. ``XRayApi`` answers:

* ``POST /TraceSegments`` (``PutTraceSegments``): the daemon's batches and
  the collector's ``awsxray`` exporter; each document is decoded and held to
  X-Ray's segment document schema (``segment_document``); one that breaks
  it comes back in ``UnprocessedTraceSegments``, as X-Ray answers;
* ``POST /GetSamplingRules`` and ``POST /SamplingTargets``: what the daemon's
  TCP 2000 proxy and the collector's ``awsproxy`` forward from the service;
  the rules and targets are ``XRaySamplingApi``'s (this class builds on it);
  each call and its answer are kept as they were on the wire
  (``sampling_exchanges``), to compare with what the app sent and got;
* ``POST /TelemetryRecords`` (``PutTelemetryRecords``): the daemon's own counters;
* ``POST /v1/traces``: X-Ray's OTLP endpoint (Transaction Search), as the
  collector's ``otlphttp`` exporter with ``sigv4auth`` sends to it; the body
  is decoded as OTLP protobuf (opentelemetry-proto) and each span checked for
  OTLP's ids (16-byte trace id, 8-byte span id) and a name.

Every request must carry a SigV4 signature for service ``xray`` in the task's
region from the test's credentials (``sigv4.SigV4Verifier``: botocore's
signer recomputes it); an unsigned or wrongly signed request is answered 403
``InvalidSignatureException``. Every API request is validated against
botocore's model of X-Ray (``AwsModel("xray")``); the OTLP path is not in
that model and is checked as OTLP. ``assert_clean()`` fails the test naming
each field and signature problem seen.
"""

from __future__ import annotations

import gzip
import json
import threading
from typing import Any

from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from testsupport.relay import Exchange
from testsupport.standins.aws_model import AwsModel
from testsupport.standins.otlp import ReceivedSpan, decoded_spans
from testsupport.standins.segment_document import segment_problems
from testsupport.standins.sigv4 import SigV4Verifier
from testsupport.standins.xray_sampling_api import XRaySamplingApi

OTLP_TRACES_PATH = "/v1/traces"
SAMPLING_OPERATIONS = ("GetSamplingRules", "GetSamplingTargets")


def _error(status: int, error_type: str, message: str) -> tuple[int, bytes]:
    return status, json.dumps({"__type": error_type, "message": message}).encode()


class XRayApi(XRaySamplingApi):
    """X-Ray's API for one region and one set of credentials; what it received, and what it refused, kept."""

    def __init__(
        self,
        rules: list[dict[str, Any]],
        *,
        region: str,
        access_key: str,
        secret_key: str,
        session_token: str | None = None,
        interval_seconds: int = 10,
    ) -> None:
        super().__init__(rules, interval_seconds=interval_seconds)
        self.model = AwsModel("xray")
        self.verifier = SigV4Verifier(access_key, secret_key, region, "xray", session_token)
        self.segments: list[dict[str, Any]] = []
        self.batch_sizes: list[int] = []
        self.otlp_spans: list[ReceivedSpan] = []
        # The sampling calls as they reached X-Ray, and X-Ray's answers, byte for byte.
        self.sampling_exchanges: list[Exchange] = []
        self.operations: list[str] = []
        self.problems: list[str] = []
        self._received = threading.Lock()

    def handle_wire(self, path: str, headers: dict[str, str], wire_body: bytes) -> tuple[int, bytes]:
        signature_problem = self.verifier.problem("POST", path, headers, wire_body)
        if signature_problem is not None:
            self._note(f"POST {path}: {signature_problem}")
            return _error(403, "InvalidSignatureException", signature_problem)
        body = gzip.decompress(wire_body) if headers.get("Content-Encoding") == "gzip" else wire_body
        if path.split("?")[0] == OTLP_TRACES_PATH:
            return self._otlp(headers, body)
        operation, params, refusal = self.model.check("POST", path, body, headers)
        if operation is None:
            self._note(f"POST {path}: no X-Ray operation has this path")
            return _error(404, "UnknownOperationException", f"no X-Ray operation at {path}")
        with self._received:
            self.operations.append(operation.name)
        if refusal is not None:
            return refusal
        assert params is not None
        if operation.name == "PutTraceSegments":
            return self._segments(params["TraceSegmentDocuments"])
        if operation.name in SAMPLING_OPERATIONS:
            status, answer, *_ = self.handle(path, headers, body)
            with self._received:
                self.sampling_exchanges.append(Exchange(path, wire_body, status, answer))
            return status, answer
        return 200, b"{}"  # PutTelemetryRecords: the daemon's counters, accepted

    def _segments(self, documents: list[str]) -> tuple[int, bytes]:
        with self._received:
            self.batch_sizes.append(len(documents))
        unprocessed = []
        for index, text in enumerate(documents):
            try:
                document = json.loads(text)
            except ValueError as error:
                problems = [f"not JSON ({error})"]
                document = None
            else:
                problems = segment_problems(document)
            segment_id = document.get("id") if isinstance(document, dict) else None
            if problems:
                self._note(*(f"PutTraceSegments TraceSegmentDocuments[{index}]: {p}" for p in problems))
                unprocessed.append(
                    {"Id": str(segment_id), "ErrorCode": "InvalidSegment", "Message": "; ".join(problems)}
                )
            else:
                with self._received:
                    self.segments.append(document)
        return 200, json.dumps({"UnprocessedTraceSegments": unprocessed}).encode()

    def _otlp(self, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        content_type = {k.lower(): v for k, v in headers.items()}.get("content-type", "")
        with self._received:
            self.operations.append("OTLP traces")
        if content_type != "application/x-protobuf":
            self._note(f"POST {OTLP_TRACES_PATH}: Content-Type = {content_type!r}; expected application/x-protobuf")
            return _error(415, "UnsupportedMediaType", "OTLP traces are sent as application/x-protobuf")
        request = ExportTraceServiceRequest()
        try:
            request.ParseFromString(body)
        except DecodeError as error:
            self._note(f"POST {OTLP_TRACES_PATH}: not an OTLP ExportTraceServiceRequest ({error})")
            return _error(400, "ValidationException", "the body is not an OTLP ExportTraceServiceRequest")
        spans = decoded_spans(request)
        problems = [
            f"POST {OTLP_TRACES_PATH}: span {span.name!r} {problem}"
            for span in spans
            for problem in (
                *(["trace_id is not 16 bytes"] if len(span.trace_id) != 32 else []),
                *(["span_id is not 8 bytes"] if len(span.span_id) != 16 else []),
                *(["has no name"] if not span.name else []),
            )
        ]
        if problems:
            self._note(*problems)
            return _error(400, "ValidationException", "; ".join(problems))
        with self._received:
            self.otlp_spans.extend(spans)
        return 200, b"{}"

    def _note(self, *problems: str) -> None:
        with self._received:
            self.problems.extend(problems)

    def received(self, operation: str) -> int:
        """How many requests of ``operation`` (``PutTraceSegments``, ``GetSamplingTargets``, ``OTLP traces``)
        arrived, valid or not.
        """
        with self._received:
            return self.operations.count(operation)

    def segments_of(self, trace_id: str) -> list[dict[str, Any]]:
        """The segments ``PutTraceSegments`` delivered of X-Ray trace ``trace_id`` (``1-...``)."""
        with self._received:
            return [s for s in self.segments if s.get("trace_id") == trace_id]

    def assert_clean(self) -> None:
        """Fail, naming each field, if any request broke X-Ray's model, its segment schema, OTLP or SigV4."""
        self.model.assert_clean()
        with self._received:
            problems = list(self.problems)
        assert not problems, "requests X-Ray would refuse:\n" + "\n".join(problems)
