"""The frontend's spans in: ``POST /v1/traces`` (OTLP/HTTP) from the frontend's origins, checked, sent to the collector.

Usage (``Telemetry.install`` does this when ``BROWSER_TRACES_ENABLED``)::

    ingest = BrowserTraceIngest(settings)
    app.wsgi_app = build_wsgi_chain(app.wsgi_app, browser_traces=ingest.layer, ...)

Why through the app: dev's HTTP API reaches a task through Cloud Map SRV
records, which name one port per task (the app's), so it cannot reach the
collector's OTLP/HTTP port; the load balancer could, through a second target
group, but then the two entry points would differ in what guards the path.
Here one route, on the app's port, serves both: both entry points already
send every path to it, and the collector's receiver stays on the task's
loopback.

What a batch must be, checked in this order, cheapest first; each refusal is
a 4xx with one sentence, counted (``refused``) and logged at a bounded rate
(the ``flask_aws_telemetry`` prefix of ``ratelimit``):

* from an origin in ``FRONTEND_URL`` (403 otherwise, preflights included;
  the CORS headers are flask-cors', for those origins only);
* within the rate limits (429, with ``Retry-After``): the task's per second,
  shared equally between its gunicorn workers, and one source address's per
  minute; the source is what the entry point wrote in
  ``BROWSER_TRACES_SOURCE_HEADER``: the last ``X-Forwarded-For`` address (the
  one the load balancer appended), or the HTTP API's ``X-Source-Ip``
  (``$context.identity.sourceIp``, overwritten), else the peer's address;
* ``application/json`` or ``application/x-protobuf``, not compressed (415);
* at most ``BROWSER_TRACES_MAX_BODY_BYTES`` (413);
* an OTLP ``ExportTraceServiceRequest`` with at least one span, every id of
  its size (400): protobuf decoded by opentelemetry-proto, JSON by protobuf's
  ``json_format`` after turning OTLP/JSON's hex ids into the bytes they are.
  Both decoders stop at 100 nested messages (protobuf's recursion limit,
  ``max_recursion_depth``); the JSON text must first be strict JSON nested
  at most ``MAX_JSON_NESTING`` deep (``json_body.parse_json_body``: without
  the bound a 2 KB body of ``[[[...]]]`` was a ``RecursionError`` and a 500).

A refusal's sentence quotes at most ``QUOTED_CHARACTERS`` of anything the
request sent, so its log line is bounded whatever the request holds.

A batch that passes is sent on, re-encoded as protobuf (only what was
checked), to the collector's OTLP/HTTP receiver on the task's loopback
(``OTEL_EXPORTER_OTLP_ENDPOINT`` + ``/v1/traces``) with a bounded timeout
(``FORWARD_TIMEOUT``); a collector that is down or slow is a 503 for the
browser within a second, never a stuck worker.

These requests are not traced: the layer sits in front of the sampling gate,
so an ingest request makes no server span, no X-Ray segment, and never takes
a place in the reservoir; the frontend's spans are the record of it.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import reprlib
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import urllib3
from flask import Flask, Response, request
from flask_cors import CORS
from google.protobuf import json_format
from google.protobuf.message import DecodeError
from limits import RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from . import contract
from .json_body import parse_json_body
from .settings import TelemetrySettings

log = logging.getLogger("flask_aws_telemetry.browser_traces")

JSON = "application/json"
PROTOBUF = "application/x-protobuf"
# The collector answers on loopback in milliseconds; beyond this it is down or stuck.
FORWARD_TIMEOUT = urllib3.Timeout(connect=0.25, read=1.0)
_ID_FIELDS = {"traceId": 16, "spanId": 8, "parentSpanId": 8}
# An OTLP/JSON batch nests about 12 levels, 3 more per attribute value nested in another; protobuf's own limit is
# 100 messages. The limit is far below Python's recursion limit.
MAX_JSON_NESTING = 64
QUOTED_CHARACTERS = 64
_QUOTED = reprlib.Repr()
_QUOTED.maxstring = QUOTED_CHARACTERS

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class RefusedBatch(HTTPException):
    """A span batch refused with a 4xx; ``reason`` is what ``refused`` counts."""

    def __init__(self, code: int, reason: str, description: str, headers: dict[str, str] | None = None) -> None:
        """``code`` and the sentence that explains it; ``reason`` one word for the count."""
        super().__init__(description)
        self.code = code
        self.reason = reason
        self.extra_headers = headers or {}


def decode_batch(body: bytes, content_type: str) -> ExportTraceServiceRequest:
    """The OTLP request in ``body`` (protobuf or OTLP/JSON); raises RefusedBatch(400) naming what is wrong."""
    batch = ExportTraceServiceRequest()
    try:
        if content_type == PROTOBUF:
            batch.ParseFromString(body)
        else:
            json_format.ParseDict(_hex_ids_as_base64(_json_object(body)), batch, ignore_unknown_fields=True)
    except _NotJson as error:
        raise RefusedBatch(400, "malformed", f"the body {error}") from None
    except (DecodeError, ValueError, json_format.ParseError, binascii.Error) as error:
        raise RefusedBatch(
            400, "malformed", f"the body is not an OTLP trace export request ({_shortened(str(error))})"
        ) from None
    spans = [span for rs in batch.resource_spans for ss in rs.scope_spans for span in ss.spans]
    if not spans:
        raise RefusedBatch(400, "malformed", "the body is an OTLP trace export request without spans")
    for span in spans:
        if len(span.trace_id) != 16 or len(span.span_id) != 8 or len(span.parent_span_id) not in (0, 8):
            raise RefusedBatch(400, "malformed", "a span's ids have the wrong size: trace ids are 16 bytes, span ids 8")
    return batch


class _NotJson(ValueError):
    """The body is not strict JSON or not an object; the text is a phrase that follows "the body"."""


def _json_object(body: bytes) -> dict[str, Any]:
    """The JSON object in ``body``, strict and nested at most MAX_JSON_NESTING deep."""
    try:
        document = parse_json_body(body, max_nesting=MAX_JSON_NESTING)
    except ValueError as error:
        raise _NotJson(str(error)) from None
    if not isinstance(document, dict):
        raise _NotJson("is JSON but not an object")
    return document


def _shortened(text: str) -> str:
    """``text`` cut to twice QUOTED_CHARACTERS: protobuf's errors repeat a prefix per nested field and quote values."""
    text = text.rstrip(".")
    limit = 2 * QUOTED_CHARACTERS
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _hex_ids_as_base64(document: dict[str, Any]) -> dict[str, Any]:
    """OTLP/JSON writes trace and span ids in hex; protobuf's JSON form of bytes is base64."""
    for resource_spans in _list(document, "resourceSpans"):
        for scope_spans in _list(resource_spans, "scopeSpans"):
            for span in _list(scope_spans, "spans"):
                for holder in (span, *_list(span, "links")):
                    for field in _ID_FIELDS:
                        value = holder.get(field) if isinstance(holder, dict) else None
                        if isinstance(value, str) and value:
                            holder[field] = base64.b64encode(bytes.fromhex(value)).decode()
    return document


def _list(holder: Any, key: str) -> list[Any]:
    value = holder.get(key) if isinstance(holder, dict) else None
    return value if isinstance(value, list) else []


class BrowserTraceIngest:
    """The ``/v1/traces`` route: its own small Flask app, in front of the telemetry's request path."""

    def __init__(self, settings: TelemetrySettings, *, http: urllib3.PoolManager | None = None) -> None:
        """Limits from ``settings.browser_traces``; forwards to ``settings.otlp_traces_url``."""
        limits = settings.browser_traces
        if limits is None:
            raise ValueError(f"{contract.BROWSER_TRACES_ENABLED.name} is off: there is no /v1/traces to serve")
        self.origins = frozenset(settings.frontend_origins)
        self.collector_url = settings.otlp_traces_url
        self.max_body_bytes = limits.max_body_bytes
        self._source_key = "HTTP_" + limits.source_header.upper().replace("-", "_")
        workers = settings.process.web_concurrency
        self._task_limit = RateLimitItemPerSecond(max(1, limits.task_per_second // workers))
        self._source_limit = RateLimitItemPerMinute(max(1, limits.source_per_minute // workers))
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._http = http or urllib3.PoolManager(maxsize=4, retries=False, timeout=FORWARD_TIMEOUT)
        self._lock = threading.Lock()
        self.refused: Counter[str] = Counter()
        self.accepted = 0
        self.app = self._build_app()

    def layer(self, wsgi_app: WSGIApp) -> WSGIApp:
        """``wsgi_app`` with ``/v1/traces`` taken out in front of it (a ``wsgi_types.Layer``)."""
        ingest = self.app.wsgi_app

        def route(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            if environ.get("PATH_INFO") == contract.BROWSER_TRACES_PATH:
                return ingest(environ, start_response)
            return wsgi_app(environ, start_response)

        return route

    def _build_app(self) -> Flask:
        app = Flask(__name__, static_folder=None)  # one route; Flask's /static/<path:filename> would serve nothing
        app.config.update(MAX_CONTENT_LENGTH=self.max_body_bytes)
        CORS(
            app,
            resources={contract.BROWSER_TRACES_PATH: {"origins": sorted(self.origins)}},
            methods=["POST", "OPTIONS"],
            allow_headers=["Content-Type"],
            max_age=600,
        )
        app.before_request(self._check_origin_and_rate)
        app.add_url_rule(contract.BROWSER_TRACES_PATH, "traces", self._receive, methods=["POST"])
        app.register_error_handler(HTTPException, self._refuse)
        return app

    def _check_origin_and_rate(self) -> None:
        origin = request.headers.get("Origin")
        if origin not in self.origins:
            raise RefusedBatch(
                403,
                "origin",
                f"origin {_QUOTED.repr(origin)} may not send spans here; the frontend's origins are in FRONTEND_URL",
            )
        if request.method != "POST":
            return
        if not self._limiter.hit(self._task_limit, "task"):
            raise RefusedBatch(429, "rate", "too many span batches for this task; retry later", {"Retry-After": "1"})
        if not self._limiter.hit(self._source_limit, "source", _source_address(request.environ, self._source_key)):
            raise RefusedBatch(
                429, "rate", "too many span batches from this address; retry later", {"Retry-After": "60"}
            )

    def _receive(self) -> Response:
        if request.mimetype not in (JSON, PROTOBUF):
            raise RefusedBatch(
                415,
                "content_type",
                f"content type {_QUOTED.repr(request.mimetype)} is not OTLP; send {JSON} or {PROTOBUF}",
            )
        if request.headers.get("Content-Encoding", "identity") != "identity":
            raise RefusedBatch(415, "content_type", "compressed span batches are not accepted; send them uncompressed")
        if request.content_length is not None and request.content_length > self.max_body_bytes:
            raise RequestEntityTooLarge()
        batch = decode_batch(request.get_data(cache=False), request.mimetype)
        self._forward(batch)
        with self._lock:
            self.accepted += 1
        if request.mimetype == PROTOBUF:
            return Response(ExportTraceServiceResponse().SerializeToString(), 200, content_type=PROTOBUF)
        return Response("{}", 200, content_type=JSON)

    def _forward(self, batch: ExportTraceServiceRequest) -> None:
        try:
            answer = self._http.request(
                "POST", self.collector_url, body=batch.SerializeToString(), headers={"Content-Type": PROTOBUF}
            )
        except urllib3.exceptions.HTTPError as error:
            log.warning("could not forward browser spans to the collector at %s: %s", self.collector_url, error)
            raise _Unavailable() from None
        if answer.status >= 300:
            log.warning("the collector at %s answered %d to browser spans", self.collector_url, answer.status)
            raise _Unavailable()

    def _refuse(self, error: HTTPException) -> Response:
        reason = getattr(error, "reason", None)
        if reason is None:
            reason = {413: "too_large", 405: "method"}.get(error.code or 0, "other")
        if error.code == 413:
            error.description = f"the span batch is larger than {self.max_body_bytes} bytes; send smaller batches"
        refused = (error.code or 500) < 500  # a 5xx is ours or the collector's, not the batch's
        with self._lock:
            if refused:
                self.refused[reason] += 1
            counts = ", ".join(f"{name} {count}" for name, count in sorted(self.refused.items()))
        if refused:
            log.warning(
                "refused a browser span batch (%d, %s); refused so far: %s", error.code, error.description, counts
            )
        elif error.code != 503:  # the collector's 503 was logged where it happened
            log.error("browser span batch failed", exc_info=getattr(error, "original_exception", None))
        body = json.dumps({"error": {"status": error.code, "message": error.description}})
        response = Response(body, error.code or 500, content_type=JSON)
        response.headers.update(getattr(error, "extra_headers", {}))
        return response


class _Unavailable(HTTPException):
    code = 503
    description = "the collector is not answering; the spans were dropped"


def _source_address(environ: dict[str, Any], key: str) -> str:
    """The address the entry point saw: the last entry of its header (the one it appended), else the peer's."""
    written = environ.get(key, "")
    last = written.rsplit(",", 1)[-1].strip()
    return last or environ.get("REMOTE_ADDR", "unknown")
