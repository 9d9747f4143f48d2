"""The SLIs make honeycomb-slos creates, evaluated on the spans the service sends: good, bad, or not counted, rightly.

The service runs under gunicorn, as the task runs it, with OpenTelemetry on
and a DynamoDB that throttles every call: the home feed, a post and the
messages answer 503, an unknown path 404, a health check that arrives with a
sampled ``traceparent`` 200, and one more home feed that arrives with an
unsampled ``traceparent`` is exported as a captured anomaly. The spans
reaching the OTLP receiver become the events Honeycomb stores
(``honeycomb_event``, Honeycomb's published OTLP translation), and each SLI's
derived-column expression, exactly as the script sends it, is evaluated on
them by Honeycomb's documented semantics (``honeycomb_expressions``).
"""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from cruddur import contract
from scripts.honeycomb_slos import availability_expression, latency_expression
from tests.service.conftest import TEST_CREDENTIALS, healthy, telemetry_environ
from testsupport.gunicorn import start_gunicorn, stop
from testsupport.standins.aws import FailingDynamoDb
from testsupport.standins.honeycomb_api import honeycomb_event
from testsupport.standins.honeycomb_expressions import columns, evaluate, parse
from testsupport.standins.otlp import OtlpReceiver
from testsupport.standins.xray_daemon import XRayDaemon
from testsupport.waiting import closed_port, wait_until

SAMPLED = f"00-{'ef' * 16}-{'12' * 8}-01"
UNSAMPLED = f"00-{'ab' * 16}-{'cd' * 8}-00"
# (path, body, headers, the status the service answers)
REQUESTS = (
    ("/api/activities/home", None, {}, 503),
    ("/api/activities", b'{"message": "for the SLO"}', {}, 503),
    ("/api/messages/@bob", None, {}, 503),
    ("/api/no-such-route", None, {}, 404),
    ("/api/health-check", None, {"traceparent": SAMPLED}, 200),
    ("/api/activities/home", None, {"traceparent": UNSAMPLED}, 503),
)


def _status(port: int, path: str, body: bytes | None, headers: dict[str, str]) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data=body, headers={"Content-Type": "application/json", **headers}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture(scope="module")
def events() -> list[dict]:
    """The events Honeycomb would store of REQUESTS, served while DynamoDB throttles."""
    with OtlpReceiver() as collector, XRayDaemon() as daemon, FailingDynamoDb() as dynamodb:
        environ = telemetry_environ(collector, daemon, **TEST_CREDENTIALS, AWS_REGION="us-east-1")
        environ[contract.DYNAMODB_TABLE_NAME.name] = "cruddur-test"
        environ[contract.AWS_ENDPOINT_URL_DYNAMODB.name] = dynamodb.url
        port = closed_port()
        process = start_gunicorn(environ, port)
        try:
            assert wait_until(lambda: healthy(port), timeout=20), "gunicorn did not become healthy"
            for path, body, headers, status in REQUESTS:
                assert _status(port, path, body, headers) == status, path
            servers = len(REQUESTS)
            assert wait_until(lambda: sum(s.kind == 2 for s in collector.spans) >= servers, timeout=10)
        finally:
            _, err = stop(process)
        assert process.returncode == 0, err[-3000:]
        return [honeycomb_event(span) for span in collector.spans]


def _sli(expression: str, events: list[dict]) -> dict[tuple, object]:
    """The SLI of each event, keyed by its kind, name, status and whether it was captured."""
    tree = parse(expression)
    return {
        (e["span.kind"], e["name"], e.get("http.response.status_code"), e.get("anomaly.captured", False)): evaluate(
            tree, e
        )
        for e in events
    }


def test_availability_counts_each_traced_request_once_good_or_bad(events):
    """A 503 is bad, a 404 and a 200 good; the captured 503 and every span but a server span are not counted."""
    values = _sli(availability_expression(), events)
    servers = {key: value for key, value in values.items() if key[0] == "server" and not key[3]}
    assert servers == {
        ("server", "GET /api/activities/home", 503, False): False,
        ("server", "POST /api/activities", 503, False): False,
        ("server", "GET /api/messages/@<handle>", 503, False): False,
        ("server", "GET", 404, False): True,
        ("server", "GET /api/health-check", 200, False): True,
    }
    assert values[("server", "GET /api/activities/home", 503, True)] is None
    others = {key: value for key, value in values.items() if key[0] != "server"}
    assert others and set(others.values()) == {None}  # the DynamoDB calls and the service's own spans


def test_latency_is_good_within_the_threshold_and_bad_beyond_it(events):
    """The 1 ms answers (404, health check) are within 1 s; with a threshold of 0.1 ms every request is beyond it;
    the captured request and the spans that are not server spans are never counted.
    """
    within = _sli(latency_expression(1.0), events)
    assert within[("server", "GET", 404, False)] is True
    assert within[("server", "GET /api/health-check", 200, False)] is True
    beyond = _sli(latency_expression(0.0001), events)
    counted = {key: value for key, value in beyond.items() if value is not None}
    assert counted and set(counted.values()) == {False}
    assert {key for key in counted} == {key for key in beyond if key[0] == "server" and not key[3]}


def test_every_column_the_slis_read_is_on_the_spans_they_count(events):
    """span.kind, duration_ms and the status are on every server span; anomaly.captured on the captured one."""
    servers = [e for e in events if e["span.kind"] == "server"]
    captured = [e for e in servers if e.get("anomaly.captured") is True]
    assert len(servers) == len(REQUESTS) and len(captured) == 1
    for expression in (availability_expression(), latency_expression(1.0)):
        for column in columns(parse(expression)):
            holders = captured if column == "anomaly.captured" else servers
            assert all(column in event for event in holders), f"{column} is missing from a span it is read from"


@pytest.mark.parametrize(
    ("right", "wrong"),
    [
        ("$http.response.status_code", "$http.status_code"),
        ("$span.kind", "$kind"),
        ('"server"', '"SERVER"'),
        ("$anomaly.captured", "$anomaly_captured"),
    ],
)
def test_a_wrong_column_or_value_changes_what_is_counted(events, right, wrong):
    """The check bites: the older HTTP convention's status name, a kind in capitals or a misspelt attribute make
    availability count other requests, or none, as good.
    """
    expression = availability_expression()
    assert right in expression
    assert _sli(expression.replace(right, wrong), events) != _sli(expression, events)
