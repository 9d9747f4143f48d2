"""The sampling gate: one decision per request, made first, shared by OpenTelemetry and X-Ray; only sampled requests
pay.
"""

from __future__ import annotations

import json
import logging

import pytest
from opentelemetry import trace
from werkzeug.test import EnvironBuilder

from flask_aws_telemetry.gate import SamplingGate
from flask_aws_telemetry.headers import xray_trace_id
from flask_aws_telemetry.xray import local_sampling_rules
from tests.service.conftest import HEALTH_RULE, flush, sampling_rules, telemetry_environ
from testsupport.waiting import wait_until

RATIO = 0.5
REQUESTS = 60


def _server_spans(receiver):
    return [s for s in receiver.spans if s.parent_span_id == ""]


def _gate(app) -> SamplingGate:
    wsgi_app = app.wsgi_app
    while not isinstance(wsgi_app, SamplingGate):
        wsgi_app = wsgi_app.wsgi_app
    return wsgi_app


def test_server_spans_are_named_after_the_route(traced_app, otlp_receiver):
    """ "{method} {route}" with http.route for a matched route; the method alone for a path no route matches."""
    traced_app.test_client().get("/api/activities/@worf")
    traced_app.test_client().get("/no/such/path/4711")
    flush(traced_app)
    assert wait_until(lambda: len(_server_spans(otlp_receiver)) == 2)
    by_status = {s.attributes["http.response.status_code"]: s for s in _server_spans(otlp_receiver)}
    assert by_status[200].name == "GET /api/activities/@<handle>"
    assert by_status[200].attributes["http.route"] == "/api/activities/@<handle>"
    assert by_status[200].attributes["http.request.method"] == "GET"
    assert by_status[404].name == "GET"
    assert "http.route" not in by_status[404].attributes


def test_otel_and_xray_record_exactly_the_same_requests(otlp_receiver, xray_daemon, make_app):
    """At a fixed rate of 0.5 some requests are sampled and some are not, and X-Ray has a segment for exactly the
    sampled ones.
    """
    app = make_app(telemetry_environ(otlp_receiver, xray_daemon, XRAY_SAMPLING_RULES=sampling_rules(RATIO)))
    for _ in range(REQUESTS):
        assert app.test_client().get("/api/message_groups").status_code == 200
    flush(app)
    sampled = {s.trace_id for s in _server_spans(otlp_receiver)}
    assert 0 < len(sampled) < REQUESTS  # 2 ** -59 chance of a false failure
    assert wait_until(lambda: len(xray_daemon.segments) >= len(sampled))
    assert {s["trace_id"] for s in xray_daemon.segments} == {xray_trace_id(int(t, 16)) for t in sampled}
    # The rule's fixed rate is TraceIdRatioBased on the trace id the span carries: its low 64 bits under the bound.
    bound = round(RATIO * (1 << 64))
    assert all(int(t, 16) & ((1 << 64) - 1) < bound for t in sampled)


def test_an_unsampled_request_still_has_a_trace_id_for_its_logs(otlp_receiver, xray_daemon, make_app, capsys):
    """Nothing is recorded, but its log lines carry a valid trace id (for Rollbar and log search)."""
    app = make_app(telemetry_environ(otlp_receiver, xray_daemon, XRAY_SAMPLING_RULES=sampling_rules(0.0)))

    @app.get("/_log")
    def log_something():
        logging.getLogger("cruddur.test").warning("unsampled")
        return {}

    app.test_client().get("/_log")
    flush(app)
    (line,) = [json.loads(text) for text in capsys.readouterr().out.splitlines() if '"unsampled"' in text]
    assert line["trace_id"] and line["trace_id"] != "0" * 32
    assert line["xray_trace_id"] == xray_trace_id(int(line["trace_id"], 16))
    assert not otlp_receiver.spans and not xray_daemon.segments


def test_a_response_closed_unread_leaves_no_trace_context_behind(traced_app, otlp_receiver):
    """A server that closes a response without iterating it (client gone) must not leak the span into the next
    request.
    """
    environ = EnvironBuilder(path="/api/activities/home").get_environ()
    response = traced_app.wsgi_app(environ, lambda status, headers, *exc: None)
    response.close()
    assert not trace.get_current_span().get_span_context().is_valid
    traced_app.test_client().get("/api/message_groups")
    flush(traced_app)
    assert wait_until(lambda: otlp_receiver.spans_named("message-groups"))
    (child,) = otlp_receiver.spans_named("message-groups")
    (server,) = [s for s in otlp_receiver.spans if s.span_id == child.parent_span_id]
    assert server.parent_span_id == ""  # a root: not a child of the abandoned request


def test_a_failing_sampling_decision_serves_the_request_untraced(traced_app, otlp_receiver, caplog):
    """The gate never fails a request: the error is logged and the request runs without a span."""

    class BrokenSampler:
        def should_sample(self, *args, **kwargs):
            raise RuntimeError("sampler bug")

    _gate(traced_app)._rules = BrokenSampler()
    with caplog.at_level(logging.ERROR, logger="flask_aws_telemetry.gate"):
        response = traced_app.test_client().get("/api/activities/home")
    assert response.status_code == 200
    assert "could not make the sampling decision" in caplog.text
    flush(traced_app)
    assert not wait_until(lambda: otlp_receiver.spans, timeout=1.0)


@pytest.mark.parametrize(
    ("health_rate", "catch_all_rate", "recorded"),
    [(0.0, 1.0, "GET /api/activities/home"), (1.0, 0.0, "GET /api/health-check")],
    ids=["health-rule-never", "health-rule-always"],
)
def test_health_checks_are_asked_about_and_follow_their_rule(
    otlp_receiver, xray_daemon, make_app, health_rate, catch_all_rate, recorded
):
    """Health checks meet the rules like every request: their own rule applies, not the catch-all."""
    rules = sampling_rules(catch_all_rate, 0, {**HEALTH_RULE, "FixedRate": health_rate})
    app = make_app(telemetry_environ(otlp_receiver, xray_daemon, XRAY_SAMPLING_RULES=rules))
    for _ in range(5):
        assert app.test_client().get("/api/health-check").status_code == 200
    assert app.test_client().get("/api/activities/home").status_code == 200
    flush(app)
    assert wait_until(lambda: _server_spans(otlp_receiver))
    assert {s.name for s in _server_spans(otlp_receiver)} == {recorded}


def test_an_incoming_decision_is_honoured_by_both_tracers(otlp_receiver, xray_daemon, make_app):
    """A caller's sampled flag wins over the rules, either way, in OpenTelemetry and X-Ray alike (the trace canary
    relies on it).
    """
    never = make_app(telemetry_environ(otlp_receiver, xray_daemon, XRAY_SAMPLING_RULES=sampling_rules(0.0)))
    always = make_app(telemetry_environ(otlp_receiver, xray_daemon, XRAY_SAMPLING_RULES=sampling_rules(1.0)))
    wanted_xray, wanted_w3c, unwanted = (
        "6b0216b27664886c69f202c3920b51cc",
        "6b0216b27664886c69f202c3920b51cd",
        "6b0216b27664886c69f202c3920b51ce",
    )
    headers_xray = {"X-Amzn-Trace-Id": f"Root=1-{wanted_xray[:8]}-{wanted_xray[8:]};Parent=1a2b3c4d5e6f7a8b;Sampled=1"}
    assert never.test_client().get("/api/message_groups", headers=headers_xray).status_code == 200
    headers_w3c = {"traceparent": f"00-{wanted_w3c}-1a2b3c4d5e6f7a8b-01"}
    assert never.test_client().get("/api/message_groups", headers=headers_w3c).status_code == 200
    assert (
        always.test_client()
        .get("/api/message_groups", headers={"traceparent": f"00-{unwanted}-1a2b3c4d5e6f7a8b-00"})
        .status_code
        == 200
    )
    flush(never)
    flush(always)
    server_spans = lambda: [s for s in otlp_receiver.spans if s.name == "GET /api/message_groups"]  # noqa: E731
    assert wait_until(lambda: len(server_spans()) >= 2)
    assert {s.trace_id for s in server_spans()} == {wanted_xray, wanted_w3c}
    assert wait_until(lambda: len(xray_daemon.segments) >= 2)
    assert {s["trace_id"] for s in xray_daemon.segments} == {
        xray_trace_id(int(t, 16)) for t in (wanted_xray, wanted_w3c)
    }


def test_the_x_ray_sdk_alone_falls_back_to_the_same_rules_in_its_own_form():
    """With OpenTelemetry off the SDK's centralized sampler decides; its local fallback is the same rules, by
    priority.
    """
    rules = [
        {
            "RuleName": "default",
            "Priority": 9000,
            "ReservoirSize": 5,
            "FixedRate": 0.1,
            "Host": "*",
            "HTTPMethod": "*",
            "URLPath": "*",
        },
        {
            "RuleName": "after",
            "Priority": 9500,
            "ReservoirSize": 1,
            "FixedRate": 1.0,
            "Host": "*",
            "HTTPMethod": "*",
            "URLPath": "/never",
        },
        HEALTH_RULE,
    ]
    assert local_sampling_rules(rules) == {
        "version": 2,
        "rules": [
            {
                "description": "health",
                "host": "*",
                "http_method": "GET",
                "url_path": "/api/health-check",
                "fixed_target": 0,
                "rate": 0.0,
            }
        ],
        "default": {"fixed_target": 5, "rate": 0.1},
    }
