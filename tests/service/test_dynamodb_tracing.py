"""DynamoDB calls are traced inside recorded requests only: a subsegment (and client span) each; nothing otherwise."""

from __future__ import annotations

import cProfile
import logging
import pstats
from urllib.parse import urlsplit

from cruddur import extensions
from cruddur.records import User
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
from testsupport.standins.aws import FailingDynamoDb
from testsupport.standins.xray_daemon import all_subsegments
from testsupport.waiting import wait_until

INSTRUMENTATION = ("opentelemetry/instrumentation/botocore", "aws_xray_sdk/ext/botocore", "aws_xray_sdk/ext/boto_utils")
# Where spans, subsegments and segments are built from what the hooks noted.
BUILDERS = {
    ("aws_calls.py", "export"),
    ("aws_calls.py", "_span"),
    ("aws_calls.py", "_subsegment"),
    ("capture.py", "_export"),
}


def test_a_sampled_request_has_a_dynamodb_subsegment_per_call(traced_app, otlp_receiver, xray_daemon):
    """The segment holds aws subsegments named dynamodb, with the operation and table, under the service function's."""
    traced_app.test_client().get("/api/activities/@worf")
    flush(traced_app)
    assert wait_until(lambda: otlp_receiver.spans_named("user-activities"))
    (child,) = otlp_receiver.spans_named("user-activities")
    assert wait_until(lambda: xray_daemon.segments_of(xray_trace_id(int(child.trace_id, 16))))
    (segment,) = xray_daemon.segments_of(xray_trace_id(int(child.trace_id, 16)))
    (function,) = [s for s in segment["subsegments"] if s["name"] == "user-activities"]
    calls = [s for s in all_subsegments(function) if s["name"] == "dynamodb"]
    table_name = traced_app.extensions[extensions.STORE].table_name
    assert [(s["namespace"], s["aws"]["operation"], s["aws"]["table_name"]) for s in calls] == [
        ("aws", "GetItem", table_name),
        ("aws", "Query", table_name),
    ]
    assert [set(s["aws"]) for s in calls] == [
        DYNAMODB_SUBSEGMENT_FIELDS,
        DYNAMODB_SUBSEGMENT_FIELDS | QUERY_SUBSEGMENT_FIELDS,
    ]
    assert all(s["http"]["response"]["status"] == 200 and s["start_time"] < s["end_time"] for s in calls)


def test_a_sampled_requests_dynamodb_spans_carry_what_the_botocore_instrumentation_records(traced_app, otlp_receiver):
    """One CLIENT span per call under the service function's span, of the botocore instrumentation's scope, with its
    attributes.
    """
    traced_app.test_client().get("/api/activities/@worf")
    flush(traced_app)
    assert wait_until(
        lambda: otlp_receiver.spans_named("DynamoDB.Query") and otlp_receiver.spans_named("user-activities")
    )
    (function,) = otlp_receiver.spans_named("user-activities")
    (get_item,) = otlp_receiver.spans_named("DynamoDB.GetItem")
    (query,) = otlp_receiver.spans_named("DynamoDB.Query")
    table_name = traced_app.extensions[extensions.STORE].table_name
    assert set(get_item.attributes) == DYNAMODB_SPAN_ATTRIBUTES
    assert set(query.attributes) == DYNAMODB_SPAN_ATTRIBUTES | QUERY_SPAN_ATTRIBUTES
    for span in (get_item, query):
        assert span.parent_span_id == function.span_id and span.kind == 3  # CLIENT
        assert span.scope == "opentelemetry.instrumentation.botocore.dynamodb"
        assert span.attributes["aws.dynamodb.table_names"] == [table_name]
        assert span.attributes["rpc.service"] == "DynamoDB" and span.attributes["db.system"] == "dynamodb"
        assert function.start_ns <= span.start_ns < span.end_ns <= function.end_ns
    assert query.attributes["aws.dynamodb.index_name"] == "by_handle" and get_item.end_ns <= query.start_ns


def test_unsampled_requests_never_enter_the_instrumentation(otlp_receiver, xray_daemon, make_app, caplog):
    """With a fixed rate and a reservoir of 0 the requests' DynamoDB calls run no instrumentation code, build nothing
    and log nothing.
    """
    app = make_app(telemetry_environ(otlp_receiver, xray_daemon, XRAY_SAMPLING_RULES=sampling_rules(0.0)))
    client = app.test_client()
    profile = cProfile.Profile()
    with caplog.at_level(logging.INFO):
        profile.enable()
        for _ in range(5):
            assert client.get("/api/activities/home").status_code == 200
            assert client.post("/api/activities", json={"message": "unsampled"}).status_code == 200
        profile.disable()
    stats = pstats.Stats(profile).stats
    entered = [f for (f, _, _) in stats if any(part in f for part in INSTRUMENTATION)]
    built = [(f, name) for (f, _, name) in stats if (f.rsplit("/", 1)[-1], name) in BUILDERS]
    assert entered == [] and built == []
    assert not [r for r in caplog.records if r.name.startswith("aws_xray_sdk") and r.levelno >= logging.WARNING]
    flush(app)
    assert not wait_until(lambda: otlp_receiver.spans or xray_daemon.segments, timeout=1.0)


def test_calls_outside_requests_are_not_traced(traced_app, otlp_receiver, xray_daemon, caplog):
    """A call with no request around it (seeding, a background thread) starts no trace and logs no missing segment."""
    with caplog.at_level(logging.INFO):
        assert traced_app.extensions[extensions.STORE].user("worf") == User(handle="worf", display_name="Worf")
    flush(traced_app)
    assert not wait_until(lambda: otlp_receiver.spans or xray_daemon.segments, timeout=1.0)
    assert not [r for r in caplog.records if r.name.startswith("aws_xray_sdk") and r.levelno >= logging.WARNING]


def test_a_failing_call_is_marked_on_the_subsegment_and_the_segment(otlp_receiver, xray_daemon, make_app):
    """A throttled DynamoDB: the answer is 503, the dynamodb subsegments carry the error, the segment is a fault."""
    with FailingDynamoDb() as dynamodb:
        app = make_app(telemetry_environ(otlp_receiver, xray_daemon, AWS_ENDPOINT_URL_DYNAMODB=dynamodb.url))
        assert app.test_client().get("/api/activities/home").status_code == 503
        flush(app)
        assert wait_until(lambda: xray_daemon.segments)
    (segment,) = xray_daemon.segments
    assert segment["fault"] is True and segment["http"]["response"]["status"] == 503
    calls = [s for s in all_subsegments(segment) if s["name"] == "dynamodb"]
    assert calls and all(s.get("error") or s.get("throttle") or s.get("fault") for s in calls)
    assert {s["aws"]["operation"] for s in calls} == {"Query"}
    assert urlsplit(segment["http"]["request"]["url"]).path == "/api/activities/home"
