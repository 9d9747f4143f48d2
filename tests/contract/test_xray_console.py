"""testsupport.xray_console: one view of a trace from segment documents or OTLP spans, and the groups' filters."""

from __future__ import annotations

import pytest

from testsupport import templates
from testsupport.standins.otlp import ReceivedSpan
from testsupport.xray_console import (
    CLIENT_NODE,
    filter_matches,
    groups_of,
    traces_of_documents,
    traces_of_spans,
)

TRACE = "1-6b01aaaa-0123456789abcdef01234567"
SERVICE = "cruddur-backend-flask"


def _segment(status: int = 200, *, seconds: float = 0.2, name: str = SERVICE) -> dict:
    """A segment as the X-Ray SDK sends it to the daemon: the operation's subsegment and its DynamoDB call nested."""
    return {
        "trace_id": TRACE,
        "id": "a" * 16,
        "parent_id": "1" * 16,
        "name": name,
        "start_time": 100.0,
        "end_time": 100.0 + seconds,
        "fault": status >= 500,
        "http": {"request": {"method": "GET", "url": "http://h/api"}, "response": {"status": status}},
        "subsegments": [
            {
                "id": "b" * 16,
                "name": "home-activities",
                "namespace": "local",
                "start_time": 100.01,
                "end_time": 100.1,
                "annotations": {"app_result_length": 3},
                "subsegments": [
                    {
                        "id": "c" * 16,
                        "name": "dynamodb",
                        "namespace": "aws",
                        "start_time": 100.02,
                        "end_time": 100.05,
                        "aws": {"operation": "Query", "table_name": "t", "region": "us-east-1"},
                    }
                ],
            }
        ],
    }


def _one_document_per_entity(segment: dict) -> list[dict]:
    """The same trace as the awsxray exporter sends it: each subsegment a document of its own, naming its parent."""
    documents, pending = [], [(segment, None)]
    while pending:
        entity, parent = pending.pop()
        document = {k: v for k, v in entity.items() if k != "subsegments"} | {"trace_id": TRACE}
        if parent is not None:
            document |= {"type": "subsegment", "parent_id": parent}
        documents.append(document)
        pending += [(child, entity["id"]) for child in entity.get("subsegments", [])]
    return documents


def _span(name: str, kind: int, span_id: str, parent: str, attributes: dict, status_code: int = 0) -> ReceivedSpan:
    return ReceivedSpan(
        trace_id=TRACE[2:10] + TRACE[11:],
        span_id=span_id,
        parent_span_id=parent,
        name=name,
        attributes=attributes,
        resource={"service.name": SERVICE},
        kind=kind,
        status_code=status_code,
        start_ns=100_000_000_000,
        end_ns=100_200_000_000,
    )


def _spans(status: int = 200) -> list[ReceivedSpan]:
    """A request's spans as the service sends them over OTLP: server, operation, DynamoDB client."""
    return [
        _span(
            "GET /api/activities/home",
            2,
            "a" * 16,
            "1" * 16,
            {
                "http.request.method": "GET",
                "url.scheme": "http",
                "server.address": "api.example.com",
                "url.path": "/api/activities/home",
                "http.response.status_code": status,
            },
            status_code=2 if status >= 500 else 0,
        ),
        _span("home-activities", 1, "b" * 16, "a" * 16, {"app.result_length": 3}),
        _span(
            "DynamoDB.Query",
            3,
            "c" * 16,
            "b" * 16,
            {
                "rpc.system": "aws-api",
                "rpc.service": "DynamoDB",
                "rpc.method": "Query",
                "cloud.region": "us-east-1",
                "aws.dynamodb.table_names": ["t"],
            },
        ),
    ]


@pytest.mark.parametrize("documents", [[_segment()], _one_document_per_entity(_segment())], ids=["nested", "apart"])
def test_a_trace_is_the_same_whether_its_subsegments_come_nested_or_one_document_each(documents):
    """The daemon's one document and the exporter's three give the same tree, call and trace map."""
    (trace,) = traces_of_documents(documents).values()
    assert trace.tree_problems() == []
    assert [e.name for e in trace.roots] == [SERVICE]
    (call,) = trace.aws_calls("DynamoDB")
    assert dict(call.aws) == {"operation": "Query", "table_name": "t", "region": "us-east-1"}
    assert trace.trace_map() == {(CLIENT_NODE, SERVICE), (SERVICE, "dynamodb")}
    assert trace.annotations == {"app_result_length": 3}


def test_a_subsegment_whose_parent_never_arrived_is_a_second_root():
    """The parent ids do not make one tree when a subsegment's parent is missing."""
    documents = [d for d in _one_document_per_entity(_segment()) if d["name"] != "home-activities"]
    (trace,) = traces_of_documents(documents).values()
    assert len(trace.roots) == 2 and "2 roots" in trace.tree_problems()[0]


def test_x_ray_names_the_server_span_after_the_service_and_the_aws_call_after_its_service():
    """An OTLP trace: the segment is named by service.name, with the HTTP block; the call is DynamoDB, namespace aws."""
    (trace,) = traces_of_spans(_spans()).values()
    assert trace.trace_id == TRACE and trace.tree_problems() == []
    segment = trace.service_segment(SERVICE)
    assert segment.parent_id == "1" * 16 and not segment.subsegment
    assert dict(segment.request) == {"method": "GET", "url": "http://api.example.com/api/activities/home"}
    assert segment.response["status"] == 200
    (call,) = trace.aws_calls("dynamodb")
    assert (call.name, call.namespace) == ("DynamoDB", "aws")
    # Only aws.region fills the region; the instrumentation's cloud.region stays metadata
    assert dict(call.aws) == {"operation": "Query", "table_name": "t"}
    assert call.metadata["default"]["cloud.region"] == "us-east-1"


def test_span_attributes_are_metadata_unless_aws_xray_annotations_lists_them():
    """As AWS documents for OpenTelemetry: metadata by default; annotations for the keys of aws.xray.annotations."""
    spans = _spans()
    (trace,) = traces_of_spans(spans).values()
    assert trace.annotations == {}
    spans[1].attributes["aws.xray.annotations"] = ["app.result_length"]
    (trace,) = traces_of_spans(spans).values()
    assert trace.annotations == {"app.result_length": 3}


@pytest.mark.parametrize(("status", "fault", "error"), [(200, False, False), (404, False, True), (500, True, False)])
def test_a_5xx_is_a_fault_and_a_4xx_an_error_on_both_kinds_of_input(status, fault, error):
    """The segment's fault and error follow the HTTP status, from a document or from a span."""
    (from_span,) = traces_of_spans(_spans(status)).values()
    assert (from_span.fault, from_span.error) == (fault, error)
    document = _segment(status) | {"error": 400 <= status < 500}
    (from_document,) = traces_of_documents([document]).values()
    assert (from_document.fault, from_document.error) == (fault, error)


@pytest.fixture(scope="module")
def dev_groups(dev) -> dict[str, str]:
    """dev's X-Ray groups as its template deploys them."""
    return templates.xray_groups(dev)


def test_the_errors_group_takes_the_services_faults_and_errors_only(dev_groups):
    """A 5xx or 4xx of the service is in the errors group; a 200, and another service's fault, are in no group."""
    (errors,) = [name for name in dev_groups if name.endswith("-errors")]
    assert groups_of(next(iter(traces_of_documents([_segment(500)]).values())), dev_groups) == {errors}
    assert groups_of(next(iter(traces_of_spans(_spans(404)).values())), dev_groups) == {errors}
    assert groups_of(next(iter(traces_of_documents([_segment(200)]).values())), dev_groups) == set()
    other = next(iter(traces_of_documents([_segment(500, name="someone-else")]).values()))
    assert groups_of(other, dev_groups) == set()


def test_the_slow_group_takes_the_services_requests_slower_than_its_threshold(dev_groups):
    """Slower than the threshold (1 s in dev): the slow group; a fault that slow is in both."""
    (slow,) = [name for name in dev_groups if name.endswith("-slow")]
    (errors,) = [name for name in dev_groups if name.endswith("-errors")]
    assert groups_of(next(iter(traces_of_documents([_segment(200, seconds=1.5)]).values())), dev_groups) == {slow}
    both = next(iter(traces_of_documents([_segment(503, seconds=1.5)]).values()))
    assert groups_of(both, dev_groups) == {slow, errors}


@pytest.mark.parametrize(
    ("expression", "selected"),
    [
        ("annotation.app_result_length = 3", True),
        ("annotation.app_result_length > 3", False),
        ('service("cruddur-backend-flask") AND NOT fault', True),
        ("fault OR (error AND responsetime > 0.1)", False),
        ("duration >= 0.2 AND ok", True),
    ],
)
def test_the_terms_beyond_the_groups_read_annotations_times_and_flags(expression, selected):
    """annotation.<key>, NOT, parentheses, duration and ok mean what X-Ray's filter expressions say."""
    (trace,) = traces_of_documents([_segment()]).values()
    assert filter_matches(expression, trace) is selected


def test_a_term_the_evaluator_does_not_know_is_an_error_not_a_miss():
    """A term outside the evaluator's few is refused, naming it, rather than silently selecting nothing."""
    (trace,) = traces_of_documents([_segment()]).values()
    with pytest.raises(ValueError, match="'http.url'"):
        filter_matches('http.url CONTAINS "api"', trace)


def test_the_daemons_tap_keeps_each_frame_and_sends_it_on_unchanged():
    """XRayDaemon(forward_to=...) sees what the SDK sent, and the program behind it gets the same bytes."""
    import json
    import socket

    from testsupport.standins.xray_daemon import XRayDaemon
    from testsupport.waiting import wait_until

    frame = b'{"format": "json", "version": 1}\n' + json.dumps(_segment()).encode()
    with XRayDaemon() as reader, XRayDaemon(forward_to=reader.address) as tap:
        host, port = tap.address.split(":")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            sender.sendto(frame, (host, int(port)))
        assert wait_until(lambda: len(reader.segments) == 1, timeout=5)
    assert tap.segments == reader.segments == [_segment()]
