"""Log records carry the trace; watchtower ships them to the stack's log group; botocore never loops."""

from __future__ import annotations

import json
import logging

import boto3
import pytest
from moto import mock_aws

from tests.service.conftest import flush, telemetry_environ
from tests.standins import wait_until

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
    (line,) = [l for l in _json_lines(capsys.readouterr().out) if l["message"] == "inside the request"]
    server_span = otlp_receiver.spans[0]
    assert line["trace_id"] == server_span.trace_id
    assert line["span_id"] == server_span.span_id
    assert line["xray_trace_id"] == f"1-{server_span.trace_id[:8]}-{server_span.trace_id[8:]}"
    assert line["level"] == "WARNING" and line["service"] == "cruddur-backend-flask"


def test_lines_outside_a_request_have_no_trace(traced_app, capsys):
    """Outside a request the trace fields are null, never a stale id."""
    traced_app.test_client().get("/api/activities/home")
    logging.getLogger("cruddur.test").warning("after the request")
    (line,) = [l for l in _json_lines(capsys.readouterr().out) if l["message"] == "after the request"]
    assert line["trace_id"] is None and line["xray_trace_id"] is None


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


def test_watchtower_ships_records_with_trace_ids_to_the_existing_group(cloudwatch, otlp_receiver, xray_daemon, make_app):
    """Records reach the group in one stream for this process, each with the request's trace id."""
    environ = telemetry_environ(
        otlp_receiver,
        xray_daemon,
        TELEMETRY_WATCHTOWER_ENABLED="true",
        WATCHTOWER_LOG_GROUP=GROUP,
        AWS_REGION="us-east-1",
    )
    app = make_app(environ)

    @app.get("/_log")
    def log_something():
        logging.getLogger("cruddur.test").warning("to cloudwatch")
        logging.getLogger("botocore.endpoint").warning("botocore talking")
        return {}

    app.test_client().get("/_log")
    flush(app)
    app.extensions["cruddur.telemetry"].shutdown(5)  # flushes watchtower's queue
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
    environ = telemetry_environ(
        otlp_receiver,
        xray_daemon,
        TELEMETRY_WATCHTOWER_ENABLED="true",
        WATCHTOWER_LOG_GROUP="/does/not/exist",
        AWS_REGION="us-east-1",
    )
    app = make_app(environ)
    assert app.test_client().get("/api/activities/home").status_code == 200
    app.extensions["cruddur.telemetry"].shutdown(5)
    assert [g["logGroupName"] for g in cloudwatch.describe_log_groups()["logGroups"]] == [GROUP]
