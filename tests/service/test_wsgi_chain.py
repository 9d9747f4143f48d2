"""The request path in its order: header guard, then the sampling gate, then (sampled only) the server span and the
X-Ray segment.
"""

from __future__ import annotations

import json
import logging

from opentelemetry import trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from flask_aws_telemetry import xray
from tests.service.conftest import flush, sampling_rules, telemetry_environ
from testsupport.waiting import wait_until

TRACE_ID = "ab" * 16
# Well formed for a later version of W3C trace context (which allows more fields), so the
# propagator continues it; the guard accepts only the fields of version 00 and drops it.
FUTURE_TRACEPARENT = f"01-{TRACE_ID}-{'cd' * 8}-01-future"


def _log_route(app):
    """A route that logs one line and reports what telemetry it ran under."""

    @app.get("/_probe")
    def probe():
        logging.getLogger("cruddur.test").warning("probe")
        return {
            "recording": trace.get_current_span().is_recording(),
            "xray_segment": xray.current_segment() is not None,
        }

    return app


def _probe_line(capsys) -> dict:
    (line,) = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"probe"' in line]
    return line


def test_a_header_the_guard_rejects_never_reaches_a_propagator(otlp_receiver, xray_daemon, make_app, capsys):
    """A sampled traceparent the propagator would continue, but the guard drops, cannot force a trace past rules that
    sample nothing.
    """
    # Given a header the W3C propagator alone would continue, sampled
    extracted = trace.get_current_span(TraceContextTextMapPropagator().extract({"traceparent": FUTURE_TRACEPARENT}))
    assert extracted.get_span_context().trace_flags.sampled
    app = _log_route(make_app(telemetry_environ(otlp_receiver, xray_daemon, XRAY_SAMPLING_RULES=sampling_rules(0.0))))
    # When a request carries it
    response = app.test_client().get("/_probe", headers={"traceparent": FUTURE_TRACEPARENT})
    # Then it runs in a fresh trace the rules left unsampled
    assert response.json == {"recording": False, "xray_segment": False}
    line = _probe_line(capsys)
    assert line["trace_id"] not in (None, TRACE_ID)
    flush(app)
    assert not wait_until(lambda: otlp_receiver.spans or xray_daemon.segments, timeout=1.0)


def test_only_sampled_requests_pass_the_server_span_and_the_x_ray_segment(otlp_receiver, xray_daemon, make_app):
    """Past the gate a sampled request gets a recording span, a segment and its X-Ray response header; an unsampled
    one none of them.
    """
    never = _log_route(make_app(telemetry_environ(otlp_receiver, xray_daemon, XRAY_SAMPLING_RULES=sampling_rules(0.0))))
    always = _log_route(
        make_app(telemetry_environ(otlp_receiver, xray_daemon, XRAY_SAMPLING_RULES=sampling_rules(1.0)))
    )
    unsampled = never.test_client().get("/_probe")
    sampled = always.test_client().get("/_probe")
    assert unsampled.json == {"recording": False, "xray_segment": False}
    assert "X-Amzn-Trace-Id" not in unsampled.headers
    assert sampled.json == {"recording": True, "xray_segment": True}
    assert sampled.headers["X-Amzn-Trace-Id"].startswith("Root=1-")
    flush(always)
    assert wait_until(lambda: len(xray_daemon.segments) == 1)


def test_an_unhandled_exception_is_recorded_on_the_x_ray_segment(traced_app, xray_daemon):
    """The app's unhandled exception reaches the segment of its request (Flask's got_request_exception), as the SDK's
    middleware records it.
    """

    @traced_app.get("/_bug")
    def bug():
        raise ZeroDivisionError("a real bug")

    assert traced_app.test_client().get("/_bug").status_code == 500
    assert wait_until(lambda: xray_daemon.segments)
    (segment,) = xray_daemon.segments
    assert segment["http"]["response"]["status"] == 500
    assert segment["fault"] is True
    assert segment["cause"]["exceptions"][0]["type"] == "ZeroDivisionError"
