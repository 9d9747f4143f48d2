"""The frontend's span batches (``POST /v1/traces``) where an environment turns them on (``browser_traces``).

What they add: a request each at the entry point (the HTTP API's price per
request; the load balancer's capacity units for their connections and
bytes), the HTTP API's access log line for each, and the refusal log lines
at their bound (five a minute per gunicorn worker). The app's CPU is the
task's, already priced; the collector sends them to Honeycomb (not an AWS
bill) and, on the OpenTelemetry-only path, to X-Ray inside traces the
frontend's sampling ratio already counts among the requests' (``xray``).
How many batches and how large: ``cost/usage.yaml``.
"""

from __future__ import annotations

from cost.inputs import Inputs
from cost.lines import MILLION, Line, priced, priced_per
from cost.pricers.http_api import HTTP_API
from cost.pricers.load_balancer import GB_PER_HOUR_PER_LCU, LOAD_BALANCER, NEW_CONNECTIONS_PER_SECOND_PER_LCU
from flask_aws_telemetry import contract

TYPES: frozenset[str] = frozenset()  # no resource of their own
# The telemetry log rate limit (flask_aws_telemetry.ratelimit): five lines a minute per worker, ~250 bytes each.
REFUSAL_LINES_PER_WORKER_MINUTE = 5
REFUSAL_LINE_BYTES = 250


def _app_variables(inputs: Inputs) -> list[dict[str, str]]:
    """The environment variables of each app container the environment runs."""
    return [
        {e["Name"]: e["Value"] for e in container.get("Environment", [])}
        for service in inputs.workload.services
        for container in service.containers
        if service.is_app(container)
    ]


def enabled(inputs: Inputs) -> bool:
    """Whether an app container of the environment takes the frontend's spans."""
    return any(variables.get(contract.BROWSER_TRACES_ENABLED.name) == "true" for variables in _app_variables(inputs))


def workers(inputs: Inputs) -> int:
    """gunicorn's worker processes per task, as the task sets them (WEB_CONCURRENCY), or the library's default."""
    counts = [
        int(v.get(contract.WEB_CONCURRENCY.name) or contract.WEB_CONCURRENCY.default or 1)
        for v in _app_variables(inputs)
    ]
    return max(counts, default=1)


def lines(inputs: Inputs) -> list[Line]:
    """Where the frontend's spans are on: their entry-point requests, bytes and log lines."""
    if not enabled(inputs):
        return []
    p, usage, hours = inputs.prices, inputs.usage, inputs.hours
    batches = inputs.requests_per_month * usage.browser_span_batches_per_request
    out = []
    for logical_id, _ in inputs.resources.sorted_of_type(HTTP_API):
        out.append(
            priced_per(
                f"HTTP API requests: browser span batches ({logical_id})",
                batches,
                "requests",
                p["api_gateway_http_million"],
                MILLION,
                digits=0,
            )
        )
        access_gb = batches * usage.api_access_log_bytes_per_request / 1e9
        out.append(
            priced(
                "Logs ingested: HTTP API access lines of browser span batches",
                access_gb,
                "GB",
                p["logs_ingestion_gb"],
                digits=3,
            )
        )
    for logical_id, _ in inputs.resources.sorted_of_type(LOAD_BALANCER):
        per_second = batches / inputs.seconds
        gb_per_hour = batches * usage.browser_span_batch_bytes / hours / 1e9
        lcu = max(per_second / NEW_CONNECTIONS_PER_SECOND_PER_LCU, gb_per_hour / GB_PER_HOUR_PER_LCU)
        out.append(
            priced(
                f"Load balancer capacity units: browser span batches ({logical_id})",
                lcu * hours,
                "LCU-hours",
                p["alb_lcu_hour"],
                digits=2,
            )
        )
    refusal_gb = (
        inputs.workload.running_tasks
        * workers(inputs)
        * REFUSAL_LINES_PER_WORKER_MINUTE
        * hours
        * 60
        * REFUSAL_LINE_BYTES
        / 1e9
    )
    out.append(
        priced(
            "Logs ingested: refused browser span batches (at most)", refusal_gb, "GB", p["logs_ingestion_gb"], digits=3
        )
    )
    return out
