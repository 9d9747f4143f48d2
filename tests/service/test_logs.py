"""Log records carry the trace; watchtower ships them to the stack's log group; botocore never loops."""

from __future__ import annotations

import json
import logging
import threading

import boto3
import pytest
from flask import request
from moto import mock_aws

from cruddur import extensions
from flask_aws_telemetry.logs import BurstHandler
from tests.service.conftest import flush, telemetry_environ
from testsupport.waiting import wait_until

GROUP = "/test/cruddur/watchtower"


def _json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_stdout_lines_are_json_with_the_trace_of_the_request(traced_app, otlp_receiver, capsys):
    """A line logged inside a request has the trace id of the request's spans, in both forms."""

    @traced_app.get("/_log")
    def log_something():
        logging.getLogger("cruddur.test").warning("inside the request")
        return {}

    traced_app.test_client().get("/_log")
    flush(traced_app)
    assert wait_until(lambda: otlp_receiver.spans)
    (line,) = [doc for doc in _json_lines(capsys.readouterr().out) if doc["message"] == "inside the request"]
    server_span = otlp_receiver.spans[0]
    assert line["trace_id"] == server_span.trace_id
    assert line["span_id"] == server_span.span_id
    assert line["xray_trace_id"] == f"1-{server_span.trace_id[:8]}-{server_span.trace_id[8:]}"
    assert line["level"] == "WARNING" and line["service"] == "cruddur-backend-flask"


def test_lines_outside_a_request_have_no_trace(traced_app, capsys):
    """Outside a request the trace fields are null, never a stale id."""
    traced_app.test_client().get("/api/activities/home")
    logging.getLogger("cruddur.test").warning("after the request")
    (line,) = [doc for doc in _json_lines(capsys.readouterr().out) if doc["message"] == "after the request"]
    assert line["trace_id"] is None and line["xray_trace_id"] is None


def test_with_x_ray_alone_lines_carry_the_segments_trace_id(otlp_receiver, xray_daemon, make_app, capsys):
    """Without OpenTelemetry a line logged in a sampled request has the X-Ray segment's trace id; after the request,
    none.
    """
    app = make_app(telemetry_environ(otlp_receiver, xray_daemon, TELEMETRY_OTEL_ENABLED="false"))

    @app.get("/_log")
    def log_something():
        logging.getLogger("cruddur.test").warning("inside the request")
        return {}

    root = "1-5f0a3b2c-" + "f" * 24
    app.test_client().get("/_log", headers={"X-Amzn-Trace-Id": f"Root={root};Sampled=1"})
    logging.getLogger("cruddur.test").warning("after the request")
    lines = {doc["message"]: doc for doc in _json_lines(capsys.readouterr().out)}
    assert lines["inside the request"]["xray_trace_id"] == root
    assert lines["inside the request"]["trace_id"] is None  # no OpenTelemetry span
    assert lines["after the request"]["xray_trace_id"] is None


@pytest.fixture
def cloudwatch(fake_aws_credentials):
    """moto's CloudWatch Logs with the group the stack would have created."""
    with mock_aws():
        client = boto3.client("logs", region_name="us-east-1")
        client.create_log_group(logGroupName=GROUP)
        yield client


def _events(client) -> list[dict]:
    events = []
    for stream in client.describe_log_streams(logGroupName=GROUP)["logStreams"]:
        response = client.get_log_events(logGroupName=GROUP, logStreamName=stream["logStreamName"])
        events.extend(json.loads(e["message"]) for e in response["events"])
    return events


def _watchtower_app(make_app, otlp_receiver, xray_daemon, group: str):
    """An app with OpenTelemetry, X-Ray and watchtower (to ``group``) on."""
    environ = telemetry_environ(
        otlp_receiver,
        xray_daemon,
        TELEMETRY_WATCHTOWER_ENABLED="true",
        WATCHTOWER_LOG_GROUP=group,
        AWS_REGION="us-east-1",
    )
    return make_app(environ)


def test_watchtower_ships_records_with_trace_ids_to_the_existing_group(
    cloudwatch, otlp_receiver, xray_daemon, make_app
):
    """Records reach the group in one stream for this process, each with the request's trace id."""
    app = _watchtower_app(make_app, otlp_receiver, xray_daemon, GROUP)

    @app.get("/_log")
    def log_something():
        logging.getLogger("cruddur.test").warning("to cloudwatch")
        logging.getLogger("botocore.endpoint").warning("botocore talking")
        return {}

    app.test_client().get("/_log")
    flush(app)
    app.extensions[extensions.TELEMETRY].shutdown(5)  # flushes watchtower's queue
    events = _events(cloudwatch)
    mine = [e for e in events if e["message"] == "to cloudwatch"]
    assert len(mine) == 1
    assert mine[0]["trace_id"] == otlp_receiver.spans[0].trace_id
    assert not [e for e in events if e["logger"].startswith("botocore")]
    streams = cloudwatch.describe_log_streams(logGroupName=GROUP)["logStreams"]
    assert len(streams) == 1
    assert streams[0]["logStreamName"].startswith("cruddur-backend-flask/")
    # the stack owns the group: watchtower must not create one
    assert [g["logGroupName"] for g in cloudwatch.describe_log_groups()["logGroups"]] == [GROUP]


def test_watchtower_never_creates_a_missing_group(cloudwatch, otlp_receiver, xray_daemon, make_app):
    """Pointed at a group that does not exist, nothing is created and requests still succeed."""
    app = _watchtower_app(make_app, otlp_receiver, xray_daemon, "/does/not/exist")
    assert app.test_client().get("/api/activities/home").status_code == 200
    app.extensions[extensions.TELEMETRY].shutdown(5)
    assert [g["logGroupName"] for g in cloudwatch.describe_log_groups()["logGroups"]] == [GROUP]


class _Recording(logging.Handler):
    """A target that notes which thread handed it each record; can be told to fail."""

    def __init__(self) -> None:
        super().__init__()
        self.received: list[tuple[str, int]] = []
        self.closed = False
        self.fail = False

    def emit(self, record: logging.LogRecord) -> None:
        if self.fail:
            raise RuntimeError("target down")
        self.received.append((record.getMessage(), threading.get_ident()))

    def close(self) -> None:
        self.closed = True
        super().close()


def _record(message: str) -> logging.LogRecord:
    return logging.LogRecord("cruddur.test", logging.INFO, __file__, 1, message, None, None)


@pytest.fixture
def burst_handler():
    """BurstHandler(target, **options), closed after the test."""
    made: list[BurstHandler] = []

    def make(target: logging.Handler, **options) -> BurstHandler:
        made.append(BurstHandler(target, **options))
        return made[-1]

    yield make
    for handler in made:
        handler.close()


@pytest.mark.parametrize(
    ("capacity", "interval", "records"),
    [(1000, 0.05, 5), (10, 3600, 10)],
    ids=["within-the-interval", "at-capacity-long-before-the-one-hour-interval"],
)
def test_burst_handler_hands_records_over_from_its_own_thread(burst_handler, capacity, interval, records):
    """The logging thread only appends; the flusher delivers, in order, without being closed."""
    target = _Recording()
    burst = burst_handler(target, capacity=capacity, interval=interval)
    for n in range(records):
        burst.handle(_record(f"line {n}"))
    assert wait_until(lambda: len(target.received) == records, timeout=5)
    assert [message for message, _ in target.received] == [f"line {n}" for n in range(records)]
    assert {thread for _, thread in target.received} == {burst._flusher.ident}
    assert threading.get_ident() not in {thread for _, thread in target.received}


def test_burst_handler_close_delivers_what_is_held_and_closes_the_target():
    """Nothing held is lost on close; the target is closed; a second close is harmless."""
    target = _Recording()
    burst = BurstHandler(target, capacity=1000, interval=3600)
    for n in range(3):
        burst.handle(_record(f"line {n}"))
    assert target.received == []
    burst.close()
    burst.close()
    assert [message for message, _ in target.received] == ["line 0", "line 1", "line 2"]
    assert target.closed


def test_burst_handler_keeps_flushing_after_a_failing_target(burst_handler, caplog):
    """A target that raises is reported, and later records still reach it once it recovers."""
    target = _Recording()
    target.fail = True
    burst = burst_handler(target, capacity=1000, interval=0.05)
    with caplog.at_level(logging.ERROR, logger="flask_aws_telemetry.logs"):
        burst.handle(_record("lost"))
        assert wait_until(
            lambda: any("could not hand log records" in r.getMessage() for r in caplog.records), timeout=5
        )
    target.fail = False
    burst.handle(_record("delivered"))
    assert wait_until(lambda: [m for m, _ in target.received] == ["delivered"], timeout=5)


def test_records_logged_in_a_request_keep_its_trace_when_shipped_later(
    cloudwatch, otlp_receiver, xray_daemon, make_app
):
    """The flusher ships outside any request, yet each event has the trace id of the request that logged it."""
    app = _watchtower_app(make_app, otlp_receiver, xray_daemon, GROUP)

    @app.get("/_log")
    def log_something():
        logging.getLogger("cruddur.test").warning("request %s", request.args["n"])
        return {}

    client = app.test_client()
    for n in range(3):
        client.get(f"/_log?n={n}")
    flush(app)
    app.extensions[extensions.TELEMETRY].shutdown(5)
    trace_of = {s.attributes["url.query"]: s.trace_id for s in otlp_receiver.spans if "url.query" in s.attributes}
    events = {e["message"]: e for e in _events(cloudwatch) if e["message"].startswith("request ")}
    assert sorted(events) == ["request 0", "request 1", "request 2"]
    for n in range(3):
        assert events[f"request {n}"]["trace_id"] == trace_of[f"n={n}"]
    assert len(set(trace_of.values())) == 3


# -- the request line: one per request, what the saved Logs Insights queries read --------------------


def _request_lines(text: str) -> list[dict]:
    return [line for line in _json_lines(text) if line["logger"] == "cruddur.request"]


def test_each_request_ends_with_one_request_line_in_its_trace(traced_app, otlp_receiver, capsys):
    """Given a sampled request, one INFO line names its method, route, status and duration, with the server span's
    ids.
    """
    traced_app.test_client().get("/api/activities/@worf")
    flush(traced_app)
    assert wait_until(lambda: otlp_receiver.spans_named("GET /api/activities/@<handle>"))
    (line,) = _request_lines(capsys.readouterr().out)
    (server_span,) = otlp_receiver.spans_named("GET /api/activities/@<handle>")
    assert line["trace_id"] == server_span.trace_id and line["level"] == "INFO"
    assert (line["http_method"], line["http_route"], line["http_status"]) == ("GET", "/api/activities/@<handle>", 200)
    assert isinstance(line["duration_ms"], float) and 0 < line["duration_ms"] < 10_000
    assert line["message"] == f"GET /api/activities/@<handle> 200 {line['duration_ms']} ms"


def test_an_unsampled_request_has_its_line_with_its_trace_id(otlp_receiver, xray_daemon, make_app, capsys):
    """Given a request nobody records, its line still carries the trace id a caller's traceparent gave it."""
    app = make_app(telemetry_environ(otlp_receiver, xray_daemon))
    trace_id = "6b0193a45f0a3b2c1d2e3f4a5b6c7d8e"
    app.test_client().get("/api/activities/home", headers={"traceparent": f"00-{trace_id}-1a2b3c4d5e6f7a8b-00"})
    (line,) = _request_lines(capsys.readouterr().out)
    assert line["trace_id"] == trace_id and line["http_route"] == "/api/activities/home"


@pytest.mark.parametrize(
    ("path", "route", "status"),
    [("/api/no-such-thing/7", None, 404), ("/api/_boom", "/api/_boom", 500)],
    ids=["no route matched", "unhandled exception"],
)
def test_failed_requests_have_their_line(plain_app, capsys, path, route, status):
    """A 404 names no route (a scanner's paths never become routes); an unhandled exception is a 500 line."""

    @plain_app.get("/api/_boom")
    def boom():
        raise RuntimeError("boom")

    plain_app.test_client().get(path)
    (line,) = _request_lines(capsys.readouterr().out)
    assert (line["http_route"], line["http_status"]) == (route, status)


def test_health_checks_are_quiet(plain_app, capsys):
    """The load balancer's and ECS's health checks write no request line."""
    plain_app.test_client().get("/api/health-check")
    assert _request_lines(capsys.readouterr().out) == []


def test_with_x_ray_alone_the_request_line_has_the_segments_trace_id(otlp_receiver, xray_daemon, make_app, capsys):
    """The line is written while the X-Ray SDK's segment is still open."""
    app = make_app(telemetry_environ(otlp_receiver, xray_daemon, TELEMETRY_OTEL_ENABLED="false"))
    root = "1-5f0a3b2c-" + "e" * 24
    app.test_client().get("/api/activities/home", headers={"X-Amzn-Trace-Id": f"Root={root};Sampled=1"})
    (line,) = _request_lines(capsys.readouterr().out)
    assert line["xray_trace_id"] == root and line["http_status"] == 200
