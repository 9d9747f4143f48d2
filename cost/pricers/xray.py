"""X-Ray: traces recorded (what the deployed sampling rules let through, and the canary's) and scanned, beyond the free tier.

The deployed rules decide (the service samples live by them); templates
without rules trace nothing. Requests are assumed to arrive while the service
runs, with or without a schedule.
"""

from __future__ import annotations

from cost.inputs import Inputs
from cost.lines import MILLION, Line, priced_per
from cost.prices import Prices
from stacks.components.sampling_policy import SamplingPolicy

TYPES: frozenset[str] = frozenset()  # the sampling rules are free (cost.coverage); the traces they let through are priced
SAMPLING_RULE = "AWS::XRay::SamplingRule"
# Each canary run records two traces: its own (Lambda active tracing) and its request's (sent with Sampled=1).
TRACES_PER_CANARY_RUN = 2


def recorded_traces(inputs: Inputs) -> float:
    """Traces recorded in the month: the requests the rules sample, and the canary's."""
    rules = [r["Properties"]["SamplingRule"] for r in inputs.resources.of_type(SAMPLING_RULE).values()]
    traced = SamplingPolicy.from_cloudformation(rules).traced_requests(inputs.requests_per_month, inputs.seconds)
    return (traced if rules else 0.0) + inputs.workload.total_canary_runs * TRACES_PER_CANARY_RUN


def beyond_free_tier(what: str, traces: float, prices: Prices, price: str, free: str) -> Line:
    """``traces`` of ``what`` less the month's ``free`` ones, at ``price`` a million."""
    free_traces = prices[free]
    billable = max(0.0, traces - free_traces)
    return priced_per(f"X-Ray traces {what} ({traces:,.0f}, {free_traces:,} free)", billable, "traces", prices[price], MILLION, digits=0)


def lines(inputs: Inputs) -> list[Line]:
    """Traces recorded and traces scanned."""
    p = inputs.prices
    recorded = recorded_traces(inputs)
    scanned = recorded * inputs.usage.trace_scans_per_recorded
    return [
        beyond_free_tier("recorded", recorded, p, "xray_traces_recorded_million", "xray_traces_recorded_free_per_month"),
        beyond_free_tier("scanned", scanned, p, "xray_traces_scanned_million", "xray_traces_scanned_free_per_month"),
    ]
