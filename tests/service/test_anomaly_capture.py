"""Anomaly capture: with head sampling at 0, every error and slow request still has its trace, in both tracers,
within a limit.
"""

from __future__ import annotations

import json
import statistics
import time

import pytest

from cruddur import contract, extensions
from flask_aws_telemetry.headers import xray_trace_id
from tests.service.conftest import (
    DYNAMODB_SPAN_ATTRIBUTES,
    DYNAMODB_SUBSEGMENT_FIELDS,
    QUERY_SPAN_ATTRIBUTES,
    QUERY_SUBSEGMENT_FIELDS,
    flush,
    sampling_rules,
    telemetry_environ,
)
from testsupport.standins.aws import SlowDynamoDb
from testsupport.standins.xray_daemon import all_subsegments
from testsupport.waiting import wait_until

TOKEN = "rollbar-test-token-0123456789"
# Head sampling at 0: a fixed rate of 0 and no reservoir.
NOTHING_SAMPLED = sampling_rules(0.0, 0)
SERVER, CLIENT, ERROR = 2, 3, 2  # OTLP's SpanKind and StatusCode numbers
# A new process's capture limit starts with an empty balance that fills within a second.
LIMIT_BALANCE_SECONDS = 1.1


def _with_failing_route(app):
    """``/_fail`` raises, as a real bug does."""

    @app.get("/_fail")
    def fail():
        raise ZeroDivisionError("a bug, on demand")

    return app


@pytest.fixture
def unsampled_app(otlp_receiver, xray_daemon, rollbar_api, make_app):
    """OpenTelemetry, X-Ray and Rollbar on, nothing sampled by the rules, with a route that fails on demand."""
    environ = telemetry_environ(
        otlp_receiver,
        xray_daemon,
        XRAY_SAMPLING_RULES=NOTHING_SAMPLED,
        TELEMETRY_ROLLBAR_ENABLED="true",
        ROLLBAR_ACCESS_TOKEN=TOKEN,
        ROLLBAR_ENDPOINT=rollbar_api.endpoint,
    )
    return _with_failing_route(make_app(environ))


def _json_lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def _server_spans(receiver) -> list:
    return [s for s in receiver.spans if s.kind == SERVER]


def test_every_error_has_its_trace_in_both_tracers_with_the_ids_of_its_rollbar_item_and_log_line(
    unsampled_app, otlp_receiver, xray_daemon, rollbar_api, capsys
):
    """N errors give N traces in X-Ray and in the OTLP stand-in, on the ids Rollbar and the ERROR line carry; the
    successes give none.
    """
    errors = 4
    time.sleep(LIMIT_BALANCE_SECONDS)
    client = unsampled_app.test_client()
    for _ in range(errors):
        assert client.get("/api/activities/home").status_code == 200
        assert client.get("/_fail").status_code == 500
    flush(unsampled_app)
    assert wait_until(lambda: len(rollbar_api.items) == errors and len(xray_daemon.segments) == errors)
    assert wait_until(lambda: len(_server_spans(otlp_receiver)) == errors)

    rollbar_ids = {item["data"]["custom"]["trace_id"] for item in rollbar_api.items}
    lines = _json_lines(capsys.readouterr().out)
    error_lines = [line for line in lines if line["message"] == "unhandled exception"]
    # One line per captured trace, on the logger the dashboard's metric filter counts, with the trace's ids.
    captured_lines = [line for line in lines if line["logger"] == contract.ANOMALY_LOGGER]
    assert {line["trace_id"] for line in captured_lines} == rollbar_ids and len(captured_lines) == errors
    spans = _server_spans(otlp_receiver)
    assert {s.trace_id for s in spans} == rollbar_ids == {line["trace_id"] for line in error_lines}
    assert {s["trace_id"] for s in xray_daemon.segments} == {xray_trace_id(int(t, 16)) for t in rollbar_ids}
    # The captured server span is the span the request's log line named.
    assert {(s.trace_id, s.span_id) for s in spans} == {(line["trace_id"], line["span_id"]) for line in error_lines}
    for span in spans:
        assert span.attributes["anomaly.captured"] is True
        assert span.attributes["anomaly.reason"] == "exception"
        assert span.attributes["http.response.status_code"] == 500
        assert span.attributes["http.route"] == "/_fail" and span.name == "GET /_fail"
        assert span.attributes["error.type"] == "ZeroDivisionError"
        assert span.status_code == ERROR and span.scope == "opentelemetry.instrumentation.wsgi"
    for segment in xray_daemon.segments:
        assert segment["annotations"] == {"anomaly_captured": True, "anomaly_reason": "exception"}
        assert segment["fault"] is True and segment["http"]["response"]["status"] == 500
        assert segment["cause"]["exceptions"][0]["type"] == "ZeroDivisionError"
        assert segment["end_time"] > segment["start_time"]
    # The successful requests in the same run were not exported: every span received is a captured error's.
    assert {s.trace_id for s in otlp_receiver.spans} == rollbar_ids
    assert unsampled_app.extensions[extensions.TELEMETRY].capture.captured == errors


def test_a_5xx_is_captured_with_its_dynamodb_calls_as_users_see_them_when_sampled(
    otlp_receiver, xray_daemon, make_app, dynamodb_server
):
    """DynamoDB failing: the 503 is exported with its failing Query as a client span (ERROR) and an aws subsegment
    (fault).
    """
    from testsupport.standins.aws import FailingDynamoDb

    with FailingDynamoDb() as dynamodb:
        app = make_app(
            telemetry_environ(
                otlp_receiver, xray_daemon, XRAY_SAMPLING_RULES=NOTHING_SAMPLED, AWS_ENDPOINT_URL_DYNAMODB=dynamodb.url
            )
        )
        time.sleep(LIMIT_BALANCE_SECONDS)
        assert app.test_client().get("/api/activities/home").status_code == 503
        flush(app)
        assert wait_until(lambda: xray_daemon.segments and otlp_receiver.spans_named("DynamoDB.Query"))
    (server,) = _server_spans(otlp_receiver)
    assert server.attributes["anomaly.reason"] == "server_error"
    calls = otlp_receiver.spans_named("DynamoDB.Query")
    assert calls and all(c.parent_span_id == server.span_id and c.trace_id == server.trace_id for c in calls)
    assert all(c.kind == CLIENT and c.status_code == ERROR for c in calls)
    assert all(c.scope == "opentelemetry.instrumentation.botocore.dynamodb" for c in calls)
    assert all(server.start_ns <= c.start_ns < c.end_ns <= server.end_ns for c in calls)
    (segment,) = xray_daemon.segments
    assert segment["fault"] is True and segment["annotations"]["anomaly_reason"] == "server_error"
    subsegments = [s for s in all_subsegments(segment) if s["name"] == "dynamodb"]
    assert subsegments and all(
        s["aws"]["operation"] == "Query" and (s.get("error") or s.get("fault")) for s in subsegments
    )


def test_a_slow_request_is_captured_with_the_real_times_and_a_fast_one_is_not(
    otlp_receiver, xray_daemon, make_app, dynamodb_server
):
    """A delay in DynamoDB makes a 200 slower than the threshold: exported with its calls' spans and subsegments as
    users see them.
    """
    with SlowDynamoDb(dynamodb_server.url) as dynamodb:
        app = make_app(
            telemetry_environ(
                otlp_receiver,
                xray_daemon,
                XRAY_SAMPLING_RULES=NOTHING_SAMPLED,
                AWS_ENDPOINT_URL_DYNAMODB=dynamodb.url,
                TELEMETRY_SLOW_REQUEST_SECONDS="0.3",
            )
        )
        time.sleep(LIMIT_BALANCE_SECONDS)
        client = app.test_client()
        assert client.get("/api/activities/@worf").status_code == 200
        dynamodb.delay_seconds = 0.2  # two calls: GetItem and Query
        assert client.get("/api/activities/@worf").status_code == 200
        flush(app)
        assert wait_until(lambda: xray_daemon.segments and len(otlp_receiver.spans) >= 3)
    (server,) = _server_spans(otlp_receiver)
    assert server.attributes["anomaly.reason"] == "slow" and server.attributes["http.response.status_code"] == 200
    assert server.end_ns - server.start_ns >= 0.4e9
    by_name = {s.name: s for s in otlp_receiver.spans if s.kind == CLIENT}
    assert set(by_name) == {"DynamoDB.GetItem", "DynamoDB.Query"}
    assert set(by_name["DynamoDB.GetItem"].attributes) == DYNAMODB_SPAN_ATTRIBUTES
    assert set(by_name["DynamoDB.Query"].attributes) == DYNAMODB_SPAN_ATTRIBUTES | QUERY_SPAN_ATTRIBUTES
    assert all(s.end_ns - s.start_ns >= 0.2e9 for s in by_name.values())
    (segment,) = xray_daemon.segments
    assert segment["trace_id"] == xray_trace_id(int(server.trace_id, 16)) and "fault" not in segment
    # The captured segment is the captured server span's twin: its id, and its (absent) parent
    assert segment["id"] == server.span_id and "parent_id" not in segment and not server.parent_span_id
    assert server.attributes["network.peer.address"] == server.attributes["client.address"]
    calls = {s["aws"]["operation"]: s for s in all_subsegments(segment) if s["name"] == "dynamodb"}
    assert set(calls["GetItem"]["aws"]) == DYNAMODB_SUBSEGMENT_FIELDS
    assert set(calls["Query"]["aws"]) == DYNAMODB_SUBSEGMENT_FIELDS | QUERY_SUBSEGMENT_FIELDS
    assert all(s["namespace"] == "aws" and s["http"]["response"]["status"] == 200 for s in calls.values())
    assert all(s["end_time"] - s["start_time"] >= 0.2 for s in calls.values())


def test_the_limit_holds_under_an_error_storm_and_successful_requests_are_not_slowed(
    otlp_receiver, xray_daemon, make_app, capsys
):
    """4 a second per task (2 per worker process): a storm exports what the limit allows, counts and logs the rest,
    once.
    """
    app = _with_failing_route(
        make_app(
            telemetry_environ(
                otlp_receiver,
                xray_daemon,
                XRAY_SAMPLING_RULES=NOTHING_SAMPLED,
                TELEMETRY_ANOMALY_CAPTURE_PER_SECOND="4",
            )
        )
    )
    client = app.test_client()
    before = []
    for _ in range(10):
        started = time.monotonic()
        assert client.get("/api/health-check").status_code == 200
        before.append(time.monotonic() - started)
    time.sleep(LIMIT_BALANCE_SECONDS)
    storm, during = 40, []
    started_storm = time.monotonic()
    for _ in range(storm):
        assert client.get("/_fail").status_code == 500
        started = time.monotonic()
        assert client.get("/api/health-check").status_code == 200
        during.append(time.monotonic() - started)
    elapsed = time.monotonic() - started_storm
    capture = app.extensions[extensions.TELEMETRY].capture
    # A balance of one second (2 traces) plus 2 a second of the storm's duration.
    allowed = 2 + int(2 * elapsed) + 1
    assert 1 <= capture.captured <= allowed
    assert capture.dropped.total == storm - capture.captured
    flush(app)
    assert wait_until(lambda: len(xray_daemon.segments) == capture.captured)
    assert len(_server_spans(otlp_receiver)) == capture.captured
    limit_lines = [line for line in _json_lines(capsys.readouterr().out) if "anomaly capture limit" in line["message"]]
    assert len(limit_lines) == 1 and limit_lines[0]["level"] == "WARNING"
    assert statistics.median(during) <= 3 * statistics.median(before) + 0.05


def test_a_callers_unsampled_decision_does_not_stop_capture_and_its_sampled_decision_stands(
    otlp_receiver, xray_daemon, make_app
):
    """traceparent flags 00 and an error: captured in the caller's trace; flags 01: sampled as before, not marked as
    captured.
    """
    app = _with_failing_route(
        make_app(telemetry_environ(otlp_receiver, xray_daemon, XRAY_SAMPLING_RULES=NOTHING_SAMPLED))
    )
    time.sleep(LIMIT_BALANCE_SECONDS)
    caller_trace, caller_span = "5759e988bd862e3fe1be46a994272793", "53995c3f42cd8ad8"
    client = app.test_client()
    assert client.get("/_fail", headers={"traceparent": f"00-{caller_trace}-{caller_span}-00"}).status_code == 500
    sampled_trace = "6759e988bd862e3fe1be46a994272793"
    assert (
        client.get("/api/activities/home", headers={"traceparent": f"00-{sampled_trace}-{caller_span}-01"}).status_code
        == 200
    )
    assert (
        client.get("/api/activities/home", headers={"traceparent": f"00-{caller_trace}-{caller_span}-00"}).status_code
        == 200
    )
    flush(app)
    assert wait_until(lambda: len(_server_spans(otlp_receiver)) == 2)
    spans = {s.trace_id: s for s in _server_spans(otlp_receiver)}
    assert spans[caller_trace].parent_span_id == caller_span
    assert spans[caller_trace].attributes["anomaly.captured"] is True
    assert "anomaly.captured" not in spans[sampled_trace].attributes


def test_a_limit_of_zero_turns_capture_off(otlp_receiver, xray_daemon, make_app):
    """TELEMETRY_ANOMALY_CAPTURE_PER_SECOND=0: errors are counted as dropped, nothing is exported."""
    app = _with_failing_route(
        make_app(
            telemetry_environ(
                otlp_receiver,
                xray_daemon,
                XRAY_SAMPLING_RULES=NOTHING_SAMPLED,
                TELEMETRY_ANOMALY_CAPTURE_PER_SECOND="0",
            )
        )
    )
    time.sleep(LIMIT_BALANCE_SECONDS)
    for _ in range(3):
        assert app.test_client().get("/_fail").status_code == 500
    flush(app)
    assert not wait_until(lambda: otlp_receiver.spans or xray_daemon.segments, timeout=1.0)
    assert app.extensions[extensions.TELEMETRY].capture.dropped.total == 3


def test_an_anomaly_of_a_rule_with_a_boost_boosts_the_fallback_rules(otlp_receiver, xray_daemon, make_app, capsys):
    """The gate reports each anomaly to the rule that decided (count_anomaly): the fallback's boost starts."""
    boosted = json.loads(NOTHING_SAMPLED)
    boosted[-1]["SamplingRateBoost"] = {"MaxRate": 1.0, "CooldownWindowMinutes": 1}
    app = _with_failing_route(
        make_app(telemetry_environ(otlp_receiver, xray_daemon, XRAY_SAMPLING_RULES=json.dumps(boosted)))
    )
    client = app.test_client()
    assert client.get("/_fail").status_code == 500
    assert client.get("/api/activities/home").status_code == 200  # sampled at the boosted rate
    flush(app)
    assert wait_until(lambda: any("anomaly.captured" not in s.attributes for s in _server_spans(otlp_receiver)))
    # The line the dashboard's boost metric filter counts.
    boosts = [line for line in _json_lines(capsys.readouterr().out) if line["logger"] == "flask_aws_telemetry.sampling"]
    assert [line for line in boosts if line["message"].startswith(contract.SAMPLING_BOOST_MESSAGE_PREFIX)]


def test_under_the_library_s_own_prefix_no_counted_line_is_rate_limited(otlp_receiver, xray_daemon, make_app, capsys):
    """With TELEMETRY_LOGGER_PREFIX at its default, <prefix>.anomalies and <prefix>.request share the prefix of the
    library's rate-limited loggers (5 a minute); every captured anomaly and every request still writes its line.
    """
    # Given an app whose counted loggers are flask_aws_telemetry.anomalies and flask_aws_telemetry.request
    environ = telemetry_environ(
        otlp_receiver,
        xray_daemon,
        XRAY_SAMPLING_RULES=NOTHING_SAMPLED,
        TELEMETRY_ANOMALY_CAPTURE_PER_SECOND="100",
        TELEMETRY_LOGGER_PREFIX="flask_aws_telemetry",
    )
    app = _with_failing_route(make_app(environ))
    time.sleep(LIMIT_BALANCE_SECONDS)
    # When more requests fail than the rate limit lets through in a minute
    errors = 8
    client = app.test_client()
    for _ in range(errors):
        assert client.get("/_fail").status_code == 500
    # Then each wrote its anomaly line and its request line
    lines = _json_lines(capsys.readouterr().out)
    assert app.extensions[extensions.TELEMETRY].capture.captured == errors
    assert len([line for line in lines if line["logger"] == "flask_aws_telemetry.anomalies"]) == errors
    assert len([line for line in lines if line["logger"] == "flask_aws_telemetry.request"]) == errors
    assert not [line for line in lines if "suppressed" in line["message"]]


def test_each_worker_takes_a_web_concurrency_share_of_the_task_s_capture_limit(
    otlp_receiver, xray_daemon, make_app, capsys
):
    """8 a second per task with WEB_CONCURRENCY=4: each worker process captures 2 a second."""
    environ = telemetry_environ(
        otlp_receiver,
        xray_daemon,
        XRAY_SAMPLING_RULES=NOTHING_SAMPLED,
        TELEMETRY_ANOMALY_CAPTURE_PER_SECOND="8",
        WEB_CONCURRENCY="4",
    )
    app = _with_failing_route(make_app(environ))
    client = app.test_client()
    for _ in range(10):  # more than a worker's balance: the limit is reached and says its share
        assert client.get("/_fail").status_code == 500
    messages = [line["message"] for line in _json_lines(capsys.readouterr().out)]
    assert [m for m in messages if m.startswith("anomaly capture limit (2 traces a second per process) reached")]
