"""The saved Honeycomb queries find the backend's spans: every filter and column they hold on them is what it sends.

The service runs under gunicorn, as the task runs it, with OpenTelemetry on
and a DynamoDB that throttles every call, so that one run has server spans,
DynamoDB client spans and errors (503s) in traces the service starts. The
spans reaching the OTLP receiver become the events Honeycomb would store
(``honeycomb_event``, Honeycomb's published OTLP translation); each query's
filters about the backend's spans must select some of them, and each column
it reads from them must be there. The browser-to-backend query's own
filters (``url.full``, ``GET``) are about the browser's fetch spans:
the browser test holds those. Successful requests' spans are checked where
the task definition runs (``tests/contract/test_task_definition_runs.py``).
"""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from cruddur import contract
from scripts.honeycomb_queries import load_queries
from tests.service.conftest import TEST_CREDENTIALS, healthy, telemetry_environ
from testsupport.gunicorn import start_gunicorn, stop
from testsupport.standins.aws import FailingDynamoDb
from testsupport.standins.honeycomb_api import honeycomb_event, matches, what_the_spans_lack
from testsupport.standins.otlp import OtlpReceiver
from testsupport.standins.xray_daemon import XRayDaemon
from testsupport.waiting import closed_port, wait_until

SERVICE = "cruddur-backend-flask"
# Which of each query's spans are the backend's: those it queries ("") or those its child. fields describe.
BACKEND_SPANS = {
    "Latency by route": "",
    "Errors": "",
    "Slowest traces with their DynamoDB time": "",
    "Browser-to-backend network time": "child.",
}


@pytest.fixture(scope="module")
def backend_events() -> list[dict]:
    """The events Honeycomb would store of the home feed and a post, served while DynamoDB throttles."""
    with OtlpReceiver() as collector, XRayDaemon() as daemon, FailingDynamoDb() as dynamodb:
        environ = telemetry_environ(collector, daemon, **TEST_CREDENTIALS, AWS_REGION="us-east-1")
        environ[contract.DYNAMODB_TABLE_NAME.name] = "cruddur-test"
        environ[contract.AWS_ENDPOINT_URL_DYNAMODB.name] = dynamodb.url
        port = closed_port()
        process = start_gunicorn(environ, port)
        try:
            assert wait_until(lambda: healthy(port), timeout=20), "gunicorn did not become healthy"
            for path, body in (("/api/activities/home", None), ("/api/activities", b'{"message": "for honeycomb"}')):
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}{path}", data=body, headers={"Content-Type": "application/json"}
                )
                with pytest.raises(urllib.error.HTTPError) as answer:
                    urllib.request.urlopen(request, timeout=10)
                assert answer.value.code == 503
        finally:
            _, err = stop(process)
        assert process.returncode == 0, err[-3000:]
        return [honeycomb_event(span) for span in collector.spans]


def _query(name: str):
    (query,) = [q for q in load_queries(SERVICE) if q.name == name]
    return query


@pytest.mark.parametrize("question", list(BACKEND_SPANS))
def test_each_query_selects_backend_spans_that_have_its_columns(backend_events, question):
    """The query's filters on the backend's spans select some; each column it reads from them is on one of those."""
    assert what_the_spans_lack(_query(question).spec, backend_events, prefix=BACKEND_SPANS[question]) == []


def test_errors_counts_the_failed_requests_and_calls(backend_events):
    """Both 503s are errors the Errors query counts with their status, and so are the DynamoDB calls that failed."""
    selected = [event for event in backend_events if matches(event, _query("Errors").spec["filters"])]
    servers = sorted((e["name"], e["http.response.status_code"]) for e in selected if e["span.kind"] == "server")
    assert servers == [("GET /api/activities/home", 503), ("POST /api/activities", 503)]
    assert {e["name"] for e in selected if e["span.kind"] == "client"} >= {"DynamoDB.Query"}


def test_the_check_notices_a_column_the_service_does_not_send(backend_events):
    """A query grouping by a column no span has, or filtering on a value none has, is reported."""
    spec = _query("Latency by route").spec
    assert what_the_spans_lack({**spec, "breakdowns": ["http.path"]}, backend_events) == [
        "http.path is on none of the 2 spans selected"
    ]
    wrong_kind = {**spec, "filters": [{"column": "span.kind", "op": "=", "value": "SERVER"}]}
    assert what_the_spans_lack(wrong_kind, backend_events)[0].startswith("no span passes the filters")
