"""X-Ray: traces recorded (what the deployed sampling rules let through, the captured anomalies, and the canary's) and scanned, beyond the free tier.

The deployed rules decide (the service samples live by them); templates
without rules trace nothing. Requests are assumed to arrive while the service
runs, with or without a schedule.

Anomaly capture adds the requests head sampling left out that fail or are
slow (the usage profile's ``error_rate`` and ``slow_rate``), up to the app
container's limit (``TELEMETRY_ANOMALY_CAPTURE_PER_SECOND`` per task, for
the tasks running). A captured trace is priced as any recorded trace: X-Ray
bills traces recorded, whole or partial.
"""

from __future__ import annotations

from cost.inputs import Inputs
from cost.lines import MILLION, Line, priced_per
from cost.prices import Prices
from service.cruddur import contract
from stacks.components.sampling_policy import SamplingPolicy

TYPES: frozenset[str] = frozenset()  # the sampling rules are free (cost.coverage); the traces they let through are priced
SAMPLING_RULE = "AWS::XRay::SamplingRule"
# Each canary run records two traces: its own (Lambda active tracing) and its request's (sent with Sampled=1).
TRACES_PER_CANARY_RUN = 2


def sampled_requests(inputs: Inputs) -> float:
    """Requests in the month the deployed rules sample (none without rules)."""
    rules = [r["Properties"]["SamplingRule"] for r in inputs.resources.of_type(SAMPLING_RULE).values()]
    if not rules:
        return 0.0
    return SamplingPolicy.from_cloudformation(rules).traced_requests(inputs.requests_per_month, inputs.seconds)


def capture_limit_per_second(inputs: Inputs) -> float:
    """Captured traces a second the running tasks may export together (0 where capture is off or not set)."""
    limit = 0.0
    for service in inputs.workload.services:
        for container in service.containers:
            if not service.is_app(container):
                continue
            environment = {v["Name"]: v["Value"] for v in container.get("Environment", [])}
            per_task = environment.get(contract.ANOMALY_CAPTURE_PER_SECOND.name)
            if per_task is not None and environment.get(contract.OTEL_ENABLED.name) == "true":
                limit += float(per_task) * service.running_tasks
    return limit


def captured_traces(inputs: Inputs) -> float:
    """Unsampled anomalies exported anyway: the profile's failing and slow requests the rules did not sample, within the limit."""
    requests = inputs.requests_per_month
    if requests <= 0:
        return 0.0
    unsampled_share = 1.0 - sampled_requests(inputs) / requests
    anomalies = requests * min(1.0, inputs.usage.error_rate + inputs.usage.slow_rate) * unsampled_share
    return min(anomalies, capture_limit_per_second(inputs) * inputs.seconds)


def recorded_traces(inputs: Inputs) -> float:
    """Traces recorded in the month: the requests the rules sample, the captured anomalies, and the canary's."""
    return sampled_requests(inputs) + captured_traces(inputs) + inputs.workload.total_canary_runs * TRACES_PER_CANARY_RUN


def beyond_free_tier(what: str, traces: float, prices: Prices, price: str, free: str) -> Line:
    """``traces`` of ``what`` less the month's ``free`` ones, at ``price`` a million."""
    free_traces = prices[free]
    billable = max(0.0, traces - free_traces)
    return priced_per(f"X-Ray traces {what} ({traces:,.0f}, {free_traces:,} free)", billable, "traces", prices[price], MILLION, digits=0)


def lines(inputs: Inputs) -> list[Line]:
    """Traces recorded and traces scanned."""
    p = inputs.prices
    recorded = recorded_traces(inputs)
    captured = captured_traces(inputs)
    scanned = recorded * inputs.usage.trace_scans_per_recorded
    what = f"recorded, {captured:,.0f} of them captured anomalies," if captured else "recorded"
    return [
        beyond_free_tier(what, recorded, p, "xray_traces_recorded_million", "xray_traces_recorded_free_per_month"),
        beyond_free_tier("scanned", scanned, p, "xray_traces_scanned_million", "xray_traces_scanned_free_per_month"),
    ]
