"""The aws-xray-sdk: a recorder per app, one segment per traced request, one trace id shared with OpenTelemetry.

With OpenTelemetry on, it has already decided (``gate.SamplingGate``), and
``SampledRequestSegments`` sits on the gate's sampled path only: it records
the X-Ray segment of exactly the requests OpenTelemetry sampled, with the
same trace id (in X-Ray form), and the HTTP fields the SDK's Flask
middleware records. The segment is the server span's twin: its id is the
span's id and its parent the span's parent (the caller's span, when the
request continued a trace; none otherwise), so X-Ray sees the same tree on
every path, whether the segment comes from the SDK or from the span (the
collector's ``awsxray`` exporter, X-Ray's OTLP endpoint), and an id read in
Honeycomb finds the segment in X-Ray. The middleware itself is
not used in that mode: it would parse a trace header back, ask for a
sampling decision already made, and run three Flask hooks for every request,
recorded or not. Here an unsampled request never reaches X-Ray code.

With OpenTelemetry off, the SDK's ``XRayMiddleware`` decides with its own
centralized sampler (the account's rules through the daemon), falling back
to the environment's rules (``XRAY_SAMPLING_RULES``) in the SDK's
local-rules form.

Either way this module owns the current request's sampled segment
(``current_segment``, ``current_trace_id``): subsegments, the DynamoDB gate
(``aws_calls``) and log lines (``logs``) read it through those functions.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from wsgiref.util import request_uri

from aws_xray_sdk.core import AWSXRayRecorder, xray_recorder
from aws_xray_sdk.core.models import http
from aws_xray_sdk.core.models.trace_header import TraceHeader
from aws_xray_sdk.core.sampling.local.sampler import LocalSampler
from aws_xray_sdk.core.sampling.sampler import DefaultSampler
from aws_xray_sdk.core.utils import stacktrace
from aws_xray_sdk.ext.flask.middleware import XRayMiddleware
from flask import Flask, got_request_exception
from opentelemetry import trace

from . import contract
from .headers import xray_trace_id
from .settings import TelemetrySettings

if TYPE_CHECKING:
    from .wsgi_types import WSGIApp

log = logging.getLogger("flask_aws_telemetry.xray")

# The sampled segment of the request being handled on this thread, for subsegments and log lines.
_current_segment: contextvars.ContextVar[Any] = contextvars.ContextVar("flask_aws_telemetry_xray_segment", default=None)


def local_sampling_rules(rules: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """X-Ray SamplingRule objects in the X-Ray SDK's local-rules form (version 2).

    The first catch-all rule by priority (or X-Ray's own Default rule)
    becomes the default; rules after it could never match and are left out.
    """
    ordered = sorted(rules, key=lambda rule: rule["Priority"])
    wildcards = ("Host", "HTTPMethod", "URLPath", "ServiceName", "ServiceType")
    catch_all = next(
        (r for r in ordered if all(r.get(key, "*") == "*" for key in wildcards)), contract.XRAY_DEFAULT_SAMPLING_RULE
    )
    before = ordered[: ordered.index(catch_all)] if catch_all in ordered else ordered
    return {
        "version": 2,
        "rules": [
            {
                "description": rule["RuleName"],
                "host": rule.get("Host", "*"),
                "http_method": rule.get("HTTPMethod", "*"),
                "url_path": rule.get("URLPath", "*"),
                "fixed_target": rule["ReservoirSize"],
                "rate": rule["FixedRate"],
            }
            for rule in before
        ],
        "default": {"fixed_target": catch_all["ReservoirSize"], "rate": catch_all["FixedRate"]},
    }


def build_recorder(settings: TelemetrySettings, *, follow_opentelemetry: bool) -> AWSXRayRecorder:
    """A recorder reporting ``settings.service_name`` to the daemon, logging (not raising) outside requests.

    Following OpenTelemetry, the SDK never samples, so it gets a local
    sampler: its rule pollers never start, and configuring it creates no
    further X-Ray API client (each costs a botocore session at start-up).
    """
    local_rules = local_sampling_rules(settings.sampling_rules)
    # The SDK's global recorder: the Flask middleware of the X-Ray-only path records into it.
    recorder = xray_recorder
    recorder.configure(
        service=settings.service_name,
        daemon_address=settings.xray_daemon_address,
        context_missing="LOG_ERROR",
        plugins=("ECSPlugin",) if settings.on_ecs else None,
        sampling=True,
        sampler=LocalSampler(local_rules) if follow_opentelemetry else DefaultSampler(),
        sampling_rules=None if follow_opentelemetry else local_rules,
        stream_sql=False,
    )
    return recorder


def current_segment() -> Any:
    """The sampled X-Ray segment of the current request, or None."""
    return _current_segment.get()


def current_trace_id() -> str | None:
    """The X-Ray trace id (``1-...``) of the current request's sampled segment, or None."""
    segment = _current_segment.get()
    return segment.trace_id if segment is not None else None


class SampledRequestSegments:
    """WSGI middleware for requests OpenTelemetry sampled: an X-Ray segment, child of the current server span."""

    def __init__(self, wsgi_app: WSGIApp, recorder: AWSXRayRecorder) -> None:
        """Wrap ``wsgi_app``; ``record_unhandled_exceptions`` adds the app's unhandled exceptions to the segment."""
        self.wsgi_app = wsgi_app
        self.recorder = recorder

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """Begin the segment, let the app build the response, end the segment and send it to the daemon."""
        segment = self._begin(environ)
        if segment is None:
            return self.wsgi_app(environ, start_response)

        def recording_start_response(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
            self._record_response(segment, status, headers)
            return start_response(status, headers, *exc_info)

        token = _current_segment.set(segment)
        try:
            return self.wsgi_app(environ, recording_start_response)
        except BaseException as error:  # the app propagates (testing, or PROPAGATE_EXCEPTIONS)
            _record_exception(self.recorder, None, error)
            raise
        finally:
            _current_segment.reset(token)
            self._end()

    def _begin(self, environ: dict[str, Any]) -> Any:
        span = trace.get_current_span()
        span_context = span.get_span_context()
        if not span_context.trace_flags.sampled:
            return None
        try:
            segment = begin_twin_segment(self.recorder, span_context, getattr(span, "parent", None))
            put_request_meta(segment, environ)
            return segment
        except Exception:
            log.exception("could not begin the X-Ray segment")
            return None

    def _record_response(self, segment: Any, status: str, headers: list[tuple[str, str]]) -> None:
        """Status and length, and the X-Amzn-Trace-Id response header, as the SDK's middleware records them."""
        try:
            segment.put_http_meta(http.STATUS, int(status.split(" ", 1)[0]))
            length = next((value for name, value in headers if name.lower() == "content-length"), None)
            if length is not None:
                segment.put_http_meta(http.CONTENT_LENGTH, int(length))
            headers.append((http.XRAY_HEADER, TraceHeader(root=segment.trace_id).to_header_str()))
        except Exception:
            log.exception("could not record the response on the X-Ray segment")

    def _end(self) -> None:
        try:
            self.recorder.end_segment()
        except Exception:
            log.exception("could not end the X-Ray segment")


def begin_twin_segment(recorder: AWSXRayRecorder, server: trace.SpanContext, caller: trace.SpanContext | None) -> Any:
    """Begin the segment of the server span ``server``: its trace id, its span id, and ``caller``'s id as parent."""
    segment = recorder.begin_segment(
        name=recorder.service,
        traceid=xray_trace_id(server.trace_id),
        parent_id=f"{caller.span_id:016x}" if caller is not None and caller.is_valid else None,
        sampling=1,
    )
    segment.id = f"{server.span_id:016x}"
    return segment


def put_request_meta(segment: Any, environ: dict[str, Any]) -> None:
    """The request's HTTP fields on ``segment``, as the SDK's Flask middleware records them."""
    segment.put_http_meta(http.URL, request_uri(environ, include_query=False))
    segment.put_http_meta(http.METHOD, environ.get("REQUEST_METHOD"))
    segment.put_http_meta(http.USER_AGENT, environ.get("HTTP_USER_AGENT"))
    forwarded_for = environ.get("HTTP_X_FORWARDED_FOR")
    if forwarded_for:
        segment.put_http_meta(http.CLIENT_IP, forwarded_for)
        segment.put_http_meta(http.X_FORWARDED_FOR, True)
    else:
        segment.put_http_meta(http.CLIENT_IP, environ.get("REMOTE_ADDR"))


@contextlib.contextmanager
def segment_in_progress(segment: Any) -> Iterator[None]:
    """``segment`` is the current request's sampled segment inside the block (for subsegments built there)."""
    token = _current_segment.set(segment)
    try:
        yield
    finally:
        _current_segment.reset(token)


def record_unhandled_exceptions(app: Flask, recorder: AWSXRayRecorder) -> None:
    """With OpenTelemetry: ``app``'s unhandled exceptions go on the segment ``SampledRequestSegments`` began."""
    got_request_exception.connect(functools.partial(_record_exception, recorder), app, weak=False)


def _record_exception(recorder: AWSXRayRecorder, _sender: Any, exception: BaseException, **_: Any) -> None:
    """Status 500 and the exception on the current request's sampled segment, if it has one."""
    segment = _current_segment.get()
    if segment is None:
        return
    try:
        segment.put_http_meta(http.STATUS, 500)
        segment.add_exception(exception, stacktrace.get_stacktrace(limit=recorder.max_trace_back))
    except Exception:
        log.exception("could not record the exception on the X-Ray segment")


def _remember_segment(recorder: AWSXRayRecorder) -> None:
    """before_request, after XRayMiddleware's: keep a sampled segment for subsegments and log lines."""
    try:
        segment = recorder.current_segment()
        sampled = segment is not None and getattr(segment, "sampled", False)
        _current_segment.set(segment if sampled else None)
    except Exception:
        log.exception("could not read the X-Ray segment")


def _forget_segment(_error: BaseException | None = None) -> None:
    """teardown_request: the request's segment must not outlive it on this thread."""
    _current_segment.set(None)


def install_middleware(app: Flask, recorder: AWSXRayRecorder) -> None:
    """Without OpenTelemetry: the SDK's Flask middleware (request hooks, not WSGI), deciding with X-Ray's rules."""
    XRayMiddleware(app, recorder)
    app.before_request(lambda: _remember_segment(recorder))
    app.teardown_request(_forget_segment)
