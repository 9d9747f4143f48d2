"""The trace canary, against a loopback stand-in for the service and moto's X-Ray and CloudWatch."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.lambda_functions.conftest import load_handler

SERVICE = "cruddur-backend-flask"


class ServiceStandIn:
    """Answers GET like the service, and like the tracing pipeline puts a segment into X-Ray (or not)."""

    def __init__(self, *, deliver: bool = True, status: int = 200, delay: float = 0.0) -> None:
        self.deliver, self.status, self.delay = deliver, status, delay
        self.trace_headers: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                header = self.headers.get("X-Amzn-Trace-Id", "")
                owner.trace_headers.append(header)
                owner.traceparents.append(self.headers.get("traceparent", ""))
                if owner.delay:
                    time.sleep(owner.delay)
                if owner.deliver and owner.status < 500:
                    fields = dict(part.split("=", 1) for part in header.split(";"))
                    segment = {
                        "name": SERVICE,
                        "id": "0123456789abcdef",
                        "trace_id": fields["Root"],
                        "parent_id": fields["Parent"],
                        "start_time": time.time() - 0.01,
                        "end_time": time.time(),
                    }
                    boto3.client("xray").put_trace_segments(TraceSegmentDocuments=[json.dumps(segment)])
                body = b"[]"
                self.send_response(owner.status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.traceparents: list[str] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def canary(aws):
    """A fresh canary module inside moto."""
    return load_handler("trace_canary")


def _config(canary, url: str, wait: float = 2.0):
    return canary.CanaryConfig(
        service_url=url,
        service_name=SERVICE,
        environment="test",
        metric_namespace="cruddur/test",
        wait_seconds=wait,
        poll_seconds=0.2,
    )


def test_a_delivered_trace_is_confirmed_through_batch_get_traces(canary):
    """The request carries a sampled X-Ray header and the matching traceparent; the segment is found."""
    with ServiceStandIn() as service:
        outcome = canary.run_canary(_config(canary, service.url), boto3.client("xray"))
    assert outcome.delivered and outcome.reason is None
    assert outcome.latency_seconds is not None and outcome.latency_seconds < 2.0
    (header,) = service.trace_headers
    assert header == f"Root={outcome.trace_id};Parent={header.split('Parent=')[1].split(';')[0]};Sampled=1"
    (traceparent,) = service.traceparents
    otel_id = outcome.trace_id[2:10] + outcome.trace_id[11:]
    assert traceparent.startswith(f"00-{otel_id}-") and traceparent.endswith("-01")


def test_a_trace_that_never_arrives_is_a_failure_within_the_wait(canary):
    """No segment: the run gives up after the wait and says which trace was lost."""
    with ServiceStandIn(deliver=False) as service:
        started = time.monotonic()
        outcome = canary.run_canary(_config(canary, service.url, wait=1.0), boto3.client("xray"))
    assert not outcome.delivered
    assert time.monotonic() - started < 3.0
    assert f"trace {outcome.trace_id} not delivered within 1s" in outcome.reason


def test_a_5xx_from_the_service_is_a_failure_with_its_status(canary):
    """The service answering 503 is reported as such."""
    with ServiceStandIn(status=503) as service:
        outcome = canary.run_canary(_config(canary, service.url), boto3.client("xray"))
    assert not outcome.delivered and outcome.reason == "the service answered 503"


def test_an_unreachable_service_is_a_failure(canary):
    """Connection refused is reported, not raised."""
    from testsupport.waiting import closed_port

    outcome = canary.run_canary(_config(canary, f"http://127.0.0.1:{closed_port()}"), boto3.client("xray"))
    assert not outcome.delivered and outcome.reason.startswith("the service could not be reached")


def test_xray_throttling_is_retried_then_reported(canary):
    """A throttled X-Ray API is polled again within the wait, then reported with the reason."""

    class ThrottledXRay:
        calls = 0

        def batch_get_traces(self, **_):
            self.calls += 1
            raise ClientError({"Error": {"Code": "ThrottledException", "Message": "slow down"}}, "BatchGetTraces")

    xray = ThrottledXRay()
    with ServiceStandIn(deliver=False) as service:
        outcome = canary.run_canary(_config(canary, service.url, wait=1.0), xray)
    assert not outcome.delivered
    assert "throttled" in outcome.reason
    assert xray.calls >= 2


def test_the_handler_publishes_delivery_and_latency_with_the_environment(canary, monkeypatch):
    """End to end through handler(): both metrics land in CloudWatch with Environment=test."""
    with ServiceStandIn() as service:
        for name, value in {
            "SERVICE_URL": service.url,
            "SERVICE_NAME": SERVICE,
            "ENVIRONMENT": "test",
            "METRIC_NAMESPACE": "cruddur/test",
            "WAIT_SECONDS": "2",
            "POLL_SECONDS": "0.2",
        }.items():
            monkeypatch.setenv(name, value)
        result = canary.handler({}, None)
    assert result["delivered"] is True
    metrics = boto3.client("cloudwatch").list_metrics(Namespace="cruddur/test")["Metrics"]
    assert {m["MetricName"] for m in metrics} == {"TraceDelivered", "DeliveryLatency"}
    assert all(m["Dimensions"] == [{"Name": "Environment", "Value": "test"}] for m in metrics)


def test_a_failed_run_publishes_zero(canary, monkeypatch):
    """A lost trace publishes TraceDelivered = 0 and no latency."""
    with ServiceStandIn(deliver=False) as service:
        for name, value in {
            "SERVICE_URL": service.url,
            "SERVICE_NAME": SERVICE,
            "ENVIRONMENT": "test",
            "METRIC_NAMESPACE": "cruddur/test",
            "WAIT_SECONDS": "0.5",
            "POLL_SECONDS": "0.2",
        }.items():
            monkeypatch.setenv(name, value)
        result = canary.handler({}, None)
    assert result["delivered"] is False
    stats = boto3.client("cloudwatch").get_metric_statistics(
        Namespace="cruddur/test",
        MetricName="TraceDelivered",
        Dimensions=[{"Name": "Environment", "Value": "test"}],
        StartTime=time.time() - 600,
        EndTime=time.time() + 60,
        Period=60,
        Statistics=["Maximum"],
    )
    assert [p["Maximum"] for p in stats["Datapoints"]] == [0.0]
    assert [m["MetricName"] for m in boto3.client("cloudwatch").list_metrics(Namespace="cruddur/test")["Metrics"]] == [
        "TraceDelivered"
    ]


def test_missing_configuration_is_named(canary):
    """A canary deployed without its variables says which are missing."""
    with pytest.raises(ValueError, match="SERVICE_URL, SERVICE_NAME"):
        canary.CanaryConfig.from_environ({"ENVIRONMENT": "x", "METRIC_NAMESPACE": "y"})
