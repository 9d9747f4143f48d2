"""One request, one trace id: in the OTLP spans, the X-Ray segment, and the same sampling decision."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import pytest

from cruddur import contract, extensions
from flask_aws_telemetry.headers import otel_trace_id, xray_trace_id
from tests.service.conftest import flush, sampling_rules, telemetry_environ
from testsupport.waiting import wait_until

SERVICE = "cruddur-backend-flask"


def _server_span(receiver, path_suffix: str):
    return [s for s in receiver.spans if s.parent_span_id == "" or s.name.endswith(path_suffix)]


def test_spans_reach_the_receiver_with_the_service_resource(traced_app, otlp_receiver):
    """The server span and the service function's child span arrive over OTLP/HTTP at /v1/traces."""
    response = traced_app.test_client().get("/api/activities/home")
    assert response.status_code == 200
    flush(traced_app)
    assert wait_until(lambda: otlp_receiver.spans_named("home-activities"))
    assert set(otlp_receiver.paths) == {"/v1/traces"}
    (child,) = otlp_receiver.spans_named("home-activities")
    (server,) = [s for s in otlp_receiver.spans if s.span_id == child.parent_span_id]
    assert server.name == "GET /api/activities/home"
    assert server.trace_id == child.trace_id
    assert child.attributes["app.result_length"] == len(response.json)
    assert "app.now" in child.attributes
    assert server.resource["service.name"] == SERVICE
    assert server.resource["deployment.environment"] == "test"
    # The connection's peer beside the client address: X-Ray reads a client address without it as forwarded
    assert server.attributes["network.peer.address"] == server.attributes["client.address"] == "127.0.0.1"


def test_trace_ids_are_xray_compatible(traced_app, otlp_receiver):
    """AwsXRayIdGenerator: the first 32 bits of every trace id are a recent epoch second."""
    import time

    traced_app.test_client().get("/api/message_groups")
    flush(traced_app)
    assert wait_until(lambda: otlp_receiver.spans)
    epoch = int(otlp_receiver.spans[0].trace_id[:8], 16)
    assert abs(epoch - time.time()) < 600


def test_the_xray_segment_carries_the_same_trace_id(traced_app, otlp_receiver, xray_daemon):
    """The UDP segment's trace id is the OTLP trace id in X-Ray form; it is the server span's twin (same id, no
    parent: the request had no caller's trace).
    """
    traced_app.test_client().get("/api/activities/@worf")
    flush(traced_app)
    assert wait_until(lambda: otlp_receiver.spans_named("user-activities"))
    assert wait_until(lambda: xray_daemon.segments)
    (child,) = otlp_receiver.spans_named("user-activities")
    expected = xray_trace_id(int(child.trace_id, 16))
    (segment,) = xray_daemon.segments_of(expected)
    assert segment["name"] == SERVICE
    assert segment["trace_id"].startswith("1-") and len(segment["trace_id"]) == 35
    assert segment["id"] == child.parent_span_id  # the OpenTelemetry server span's id
    assert "parent_id" not in segment
    assert segment["http"]["response"]["status"] == 200
    subsegments = {s["name"]: s for s in segment.get("subsegments", [])}
    assert subsegments["user-activities"]["annotations"]["app_result_length"] == 1
    assert xray_daemon.bad_frames == 0


def test_health_checks_are_traced_by_neither(traced_app, otlp_receiver, xray_daemon):
    """Under the health rule (never sampled) a health check produces no span and no segment."""
    traced_app.test_client().get(contract.HEALTH_CHECK_PATH)
    traced_app.test_client().get("/api/message_groups")
    flush(traced_app)
    assert wait_until(lambda: otlp_receiver.spans_named("message-groups"))
    assert wait_until(lambda: xray_daemon.segments)
    assert {s.name for s in otlp_receiver.spans if s.parent_span_id == ""} == {"GET /api/message_groups"}
    assert [urlsplit(s["http"]["request"]["url"]).path for s in xray_daemon.segments] == ["/api/message_groups"]


def test_an_unsampled_request_is_recorded_by_neither(otlp_receiver, xray_daemon, make_app):
    """With a fixed rate and a reservoir of 0 both SDKs drop the request, and the response is unaffected."""
    app = make_app(telemetry_environ(otlp_receiver, xray_daemon, XRAY_SAMPLING_RULES=sampling_rules(0.0)))
    for _ in range(5):
        assert app.test_client().get("/api/activities/home").status_code == 200
    flush(app)
    assert not wait_until(lambda: otlp_receiver.spans or xray_daemon.segments, timeout=1.0)


def test_an_incoming_traceparent_is_continued(traced_app, otlp_receiver, xray_daemon):
    """A sampled W3C parent: the server span joins its trace, and so does the X-Ray segment."""
    trace_hex = "5f0a3b2c" + "1" * 24
    headers = {"traceparent": f"00-{trace_hex}-{'2' * 16}-01"}
    traced_app.test_client().get("/api/message_groups", headers=headers)
    flush(traced_app)
    assert wait_until(lambda: otlp_receiver.spans_named("message-groups"))
    assert {s.trace_id for s in otlp_receiver.spans} == {trace_hex}
    assert wait_until(lambda: xray_daemon.segments_of(xray_trace_id(int(trace_hex, 16))))
    # The segment's parent is the caller's span, as the server span's is
    (segment,) = xray_daemon.segments_of(xray_trace_id(int(trace_hex, 16)))
    assert segment["parent_id"] == "2" * 16


def test_an_incoming_xray_header_is_continued(traced_app, otlp_receiver, xray_daemon):
    """A sampled X-Ray parent (as an upstream X-Ray service sends it) is continued by both."""
    root = "1-5f0a3b2c-" + "a" * 24
    traced_app.test_client().get(
        "/api/message_groups", headers={"X-Amzn-Trace-Id": f"Root={root};Parent={'b' * 16};Sampled=1"}
    )
    flush(traced_app)
    assert wait_until(lambda: otlp_receiver.spans_named("message-groups"))
    assert {s.trace_id for s in otlp_receiver.spans} == {f"{otel_trace_id(root):032x}"}
    assert wait_until(lambda: xray_daemon.segments_of(root))
    # X-Ray links the segment to the upstream's subsegment that called it (its Parent), not to a span it never gets
    (segment,) = xray_daemon.segments_of(root)
    assert segment["parent_id"] == "b" * 16


def test_an_upstream_not_sampled_decision_is_honoured_by_both(traced_app, otlp_receiver, xray_daemon):
    """Sampled=0 from upstream: neither SDK records, even at ratio 1."""
    root = "1-5f0a3b2c-" + "c" * 24
    traced_app.test_client().get(
        "/api/message_groups", headers={"X-Amzn-Trace-Id": f"Root={root};Parent={'d' * 16};Sampled=0"}
    )
    flush(traced_app)
    assert not wait_until(lambda: otlp_receiver.spans or xray_daemon.segments, timeout=1.0)


@pytest.mark.parametrize(
    "headers",
    [
        {"traceparent": "00-not-a-trace-01"},
        {"traceparent": "00-" + "0" * 32 + "-" + "1" * 16 + "-01"},
        {"traceparent": "00-" + "a" * 32 + "-" + "b" * 16 + "-01" + "x" * 5000},
        {"X-Amzn-Trace-Id": "Root=garbage;Parent=zz;Sampled=7"},
        {"X-Amzn-Trace-Id": "Root=1-5f0a3b2c-" + "a" * 24 + ";" + "Junk=" + "y" * 4000},
        {"tracestate": "k=" + "v" * 5000, "baggage": "b=" + "v" * 9000},
    ],
)
def test_malformed_or_oversized_headers_start_a_fresh_trace(traced_app, otlp_receiver, xray_daemon, headers):
    """The request succeeds and is traced under a new, valid trace id by both SDKs."""
    response = traced_app.test_client().get("/api/message_groups", headers=headers)
    assert response.status_code == 200
    flush(traced_app)
    assert wait_until(lambda: otlp_receiver.spans_named("message-groups"))
    (child,) = otlp_receiver.spans_named("message-groups")
    assert child.trace_id not in ("a" * 32, "0" * 32)
    assert wait_until(lambda: xray_daemon.segments_of(xray_trace_id(int(child.trace_id, 16))))


def test_xray_alone_records_segments_without_opentelemetry(otlp_receiver, xray_daemon, make_app):
    """With only the X-Ray SDK on, segments still arrive (sampled by the SDK's own rules)."""
    environ = telemetry_environ(otlp_receiver, xray_daemon, TELEMETRY_OTEL_ENABLED="false")
    app = make_app(environ)
    root = "1-5f0a3b2c-" + "e" * 24
    app.test_client().get("/api/activities/home", headers={"X-Amzn-Trace-Id": f"Root={root};Sampled=1"})
    assert wait_until(lambda: xray_daemon.segments_of(root))
    assert not otlp_receiver.spans


def test_service_functions_work_outside_a_request(traced_app, caplog):
    """Called from a script or a shell (no request), a service function runs and logs no X-Ray error."""
    from cruddur.services.activities import home_activities

    with traced_app.app_context():
        assert home_activities(traced_app.extensions[extensions.STORE])
    assert "cannot find the current segment" not in caplog.text.lower()


def test_the_http_conventions_come_from_the_settings_not_the_process_environment(otlp_receiver, xray_daemon, make_app):
    """OTEL_SEMCONV_STABILITY_OPT_IN in the app's environ decides the server span's attributes; os.environ is left as
    it was.
    """
    before = os.environ.get(contract.OTEL_SEMCONV_STABILITY_OPT_IN.name)
    servers = lambda: [s for s in otlp_receiver.spans if s.parent_span_id == ""]  # noqa: E731
    stable_only = make_app(telemetry_environ(otlp_receiver, xray_daemon))
    stable_only.test_client().get("/api/message_groups")
    flush(stable_only)
    assert wait_until(lambda: len(servers()) == 1)
    duplicated = make_app(telemetry_environ(otlp_receiver, xray_daemon, OTEL_SEMCONV_STABILITY_OPT_IN="http/dup"))
    duplicated.test_client().get("/api/message_groups")
    flush(duplicated)
    assert wait_until(lambda: len(servers()) == 2)
    first, second = servers()
    assert first.attributes["http.request.method"] == "GET" and "http.method" not in first.attributes
    assert second.attributes["http.request.method"] == second.attributes["http.method"] == "GET"
    assert os.environ.get(contract.OTEL_SEMCONV_STABILITY_OPT_IN.name) == before
