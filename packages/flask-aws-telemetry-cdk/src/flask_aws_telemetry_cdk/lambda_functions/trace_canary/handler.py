"""Telemetry-pipeline canary: prove that a trace sent through the load balancer arrives in X-Ray.

Each run chooses a fresh trace context, sends one request to the service
with it (``X-Amzn-Trace-Id`` with ``Sampled=1`` and the matching
``traceparent``), then asks the X-Ray API (``BatchGetTraces``) for that trace
until a segment of the service appears or the wait runs out. It publishes
``TraceDelivered`` (1 or 0) and, when delivered, ``DeliveryLatency``
(seconds), with the environment as a dimension. A timeout, a 5xx from the
service or a throttled X-Ray API is a failure with a reason, never an
unhandled exception.

Environment:
    SERVICE_URL          base URL of the load balancer (http://...)
    SERVICE_NAME         the name the service reports to X-Ray
    ENVIRONMENT          dimension value (dev, staging, prod)
    METRIC_NAMESPACE     CloudWatch namespace of the two metrics
    REQUEST_PATH         path requested (default /api/activities/home)
    WAIT_SECONDS         how long to wait for the trace (default 60)
    POLL_SECONDS         pause between BatchGetTraces calls (default 5)
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

log = logging.getLogger()
log.setLevel(logging.INFO)

REQUEST_TIMEOUT_SECONDS = 10
THROTTLING_CODES = {"ThrottledException", "ThrottlingException", "TooManyRequestsException"}

_clients: dict[str, Any] = {}


def client(name: str) -> Any:
    """A boto3 client, created once per container."""
    if name not in _clients:
        _clients[name] = boto3.client(name)
    return _clients[name]


@dataclass(frozen=True)
class CanaryConfig:
    """What the canary checks, from its environment."""

    service_url: str
    service_name: str
    environment: str
    metric_namespace: str
    request_path: str = "/api/activities/home"
    wait_seconds: float = 60.0
    poll_seconds: float = 5.0

    @classmethod
    def from_environ(cls, environ: dict[str, str]) -> CanaryConfig:
        """Read the configuration; a missing variable is named."""
        missing = [n for n in ("SERVICE_URL", "SERVICE_NAME", "ENVIRONMENT", "METRIC_NAMESPACE") if not environ.get(n)]
        if missing:
            raise ValueError(f"trace canary: missing environment variable(s) {', '.join(missing)}")
        return cls(
            service_url=environ["SERVICE_URL"].rstrip("/"),
            service_name=environ["SERVICE_NAME"],
            environment=environ["ENVIRONMENT"],
            metric_namespace=environ["METRIC_NAMESPACE"],
            request_path=environ.get("REQUEST_PATH", "/api/activities/home"),
            wait_seconds=float(environ.get("WAIT_SECONDS", "60")),
            poll_seconds=float(environ.get("POLL_SECONDS", "5")),
        )


@dataclass(frozen=True)
class Outcome:
    """The result of one run."""

    trace_id: str
    delivered: bool
    latency_seconds: float | None = None
    reason: str | None = None


def new_trace_context(now: float) -> tuple[str, str, dict[str, str]]:
    """A sampled trace id (X-Ray form), a parent id, and the two headers carrying them."""
    trace_id = f"1-{int(now):08x}-{secrets.token_hex(12)}"
    parent_id = secrets.token_hex(8)
    otel_trace_id = trace_id[2:10] + trace_id[11:]
    headers = {
        "X-Amzn-Trace-Id": f"Root={trace_id};Parent={parent_id};Sampled=1",
        "traceparent": f"00-{otel_trace_id}-{parent_id}-01",
    }
    return trace_id, parent_id, headers


def _service_segment_arrived(traces: list[dict[str, Any]], service_name: str) -> bool:
    for trace in traces:
        for segment in trace.get("Segments", []):
            document = json.loads(segment.get("Document", "{}"))
            if document.get("name") == service_name:
                return True
    return False


def run_canary(
    config: CanaryConfig,
    xray: Any,
    *,
    clock: Callable[[], float] = time.monotonic,
    wall_clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    """Send one traced request and wait, bounded, for its segments."""
    trace_id, _, headers = new_trace_context(wall_clock())
    started = clock()
    request = urllib.request.Request(config.service_url + config.request_path, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_SECONDS) as response:
            response.read()
    except urllib.error.HTTPError as error:
        if error.code >= 500:
            return Outcome(trace_id, False, reason=f"the service answered {error.code}")
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        return Outcome(trace_id, False, reason=f"the service could not be reached: {error}")

    deadline = started + config.wait_seconds
    last_problem = "no segment yet"
    while True:
        try:
            traces = xray.batch_get_traces(TraceIds=[trace_id]).get("Traces", [])
            if _service_segment_arrived(traces, config.service_name):
                return Outcome(trace_id, True, latency_seconds=round(clock() - started, 3))
            last_problem = f"no segment of {config.service_name} yet"
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code not in THROTTLING_CODES:
                return Outcome(trace_id, False, reason=f"the X-Ray API failed: {code}")
            last_problem = "the X-Ray API throttled the canary"
        except BotoCoreError as error:
            last_problem = f"the X-Ray API could not be reached: {error}"
        if clock() + config.poll_seconds > deadline:
            return Outcome(
                trace_id,
                False,
                reason=f"{last_problem}: trace {trace_id} not delivered within {config.wait_seconds:g}s",
            )
        sleep(config.poll_seconds)


def publish(outcome: Outcome, config: CanaryConfig, cloudwatch: Any) -> None:
    """TraceDelivered always, DeliveryLatency when delivered; a failure to publish is logged, not raised."""
    dimensions = [{"Name": "Environment", "Value": config.environment}]
    data = [
        {
            "MetricName": "TraceDelivered",
            "Dimensions": dimensions,
            "Value": 1.0 if outcome.delivered else 0.0,
            "Unit": "Count",
        }
    ]
    if outcome.latency_seconds is not None:
        data.append(
            {
                "MetricName": "DeliveryLatency",
                "Dimensions": dimensions,
                "Value": outcome.latency_seconds,
                "Unit": "Seconds",
            }
        )
    try:
        cloudwatch.put_metric_data(Namespace=config.metric_namespace, MetricData=data)
    except (ClientError, BotoCoreError) as error:
        log.error("could not publish canary metrics: %s", error)


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """EventBridge entry point: run once, publish, return the outcome."""
    config = CanaryConfig.from_environ(dict(os.environ))
    outcome = run_canary(config, client("xray"))
    publish(outcome, config, client("cloudwatch"))
    if outcome.delivered:
        log.info("trace %s delivered in %.1fs", outcome.trace_id, outcome.latency_seconds)
    else:
        log.error("trace %s NOT delivered: %s", outcome.trace_id, outcome.reason)
    return asdict(outcome)
