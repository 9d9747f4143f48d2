"""X-Ray: what the deployed sampling rules let through, the captured anomalies and the canary record, priced as traces,
or as spans under Transaction Search.

The deployed rules decide (the service samples live by them); templates
without rules trace nothing. Requests are assumed to arrive while the service
runs, with or without a schedule.

Without Transaction Search, X-Ray bills traces recorded and traces scanned,
beyond the account's free tier. With it (the account stack
``cruddur-transaction-search``), every span reaching X-Ray is ingested into
the CloudWatch Logs group ``aws/spans`` and billed per GB (the usage
profile's ``spans_per_trace`` and ``span_bytes``), and the account's
indexing percentage of them becomes trace summaries, the first 1 % free.
An environment is priced so when its collector sends OTLP to X-Ray (the
OpenTelemetry path to the OTLP endpoint, which needs Transaction Search: its
task role may call ``xray:PutSpans``), or when its usage profile says its
account has it on (``transaction_search: true``). Every other path sends
segments with ``PutTraceSegments`` (the daemon, or the collector's
``awsxray`` exporter in its place, from the X-Ray SDK's segments or from
OpenTelemetry's spans), priced as traces recorded and scanned.

Anomaly capture adds the requests head sampling left out that fail or are
slow (the usage profile's ``error_rate`` and ``slow_rate``), up to the app
container's limit (``TELEMETRY_ANOMALY_CAPTURE_PER_SECOND`` per task, for
the tasks running). A captured trace is priced as any recorded trace: X-Ray
bills traces recorded, whole or partial.
"""

from __future__ import annotations

from cost.inputs import Inputs
from cost.lines import MILLION, Line, priced, priced_per
from cost.prices import Prices
from cruddur import contract
from flask_aws_telemetry_cdk.config import FREE_INDEXING_PERCENTAGE, TransactionSearchConfig
from flask_aws_telemetry_cdk.models.collector_xray import XRAY_OTLP_ACTIONS, XRAY_SEGMENT_ACTIONS
from flask_aws_telemetry_cdk.models.sampling_policy import SamplingPolicy

TYPES: frozenset[str] = (
    frozenset()
)  # the sampling rules are free (cost.coverage); the traces they let through are priced
SAMPLING_RULE = "AWS::XRay::SamplingRule"
IAM_POLICY = "AWS::IAM::Policy"
# Each canary run records two traces: its own (Lambda active tracing) and its request's (sent with Sampled=1).
TRACES_PER_CANARY_RUN = 2
GB = 1e9
# The share of spans the account stack indexes (config/account.py), as make cost prices it.
INDEXING_PERCENTAGE = TransactionSearchConfig().indexing_percentage


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
    """Unsampled anomalies exported anyway: the profile's failing and slow requests the rules did not sample, within
    the limit.
    """
    requests = inputs.requests_per_month
    if requests <= 0:
        return 0.0
    unsampled_share = 1.0 - sampled_requests(inputs) / requests
    anomalies = requests * min(1.0, inputs.usage.error_rate + inputs.usage.slow_rate) * unsampled_share
    return min(anomalies, capture_limit_per_second(inputs) * inputs.seconds)


def recorded_traces(inputs: Inputs) -> float:
    """Traces recorded in the month: the requests the rules sample, the captured anomalies, and the canary's."""
    return (
        sampled_requests(inputs) + captured_traces(inputs) + inputs.workload.total_canary_runs * TRACES_PER_CANARY_RUN
    )


def sends_otlp_to_xray(inputs: Inputs) -> bool:
    """The OpenTelemetry path to X-Ray's OTLP endpoint: a role may call what only that endpoint takes (PutSpans).

    The role's actions say which path a template is on, whatever containers it
    runs: the daemon, or the collector in its place (the X-Ray SDK's segments,
    or OpenTelemetry's as segments), call PutTraceSegments, priced as traces.
    """
    otlp_only = set(XRAY_OTLP_ACTIONS) - set(XRAY_SEGMENT_ACTIONS)
    for policy in inputs.resources.of_type(IAM_POLICY).values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement.get("Action", [])
            if otlp_only & set([actions] if isinstance(actions, str) else actions):
                return True
    return False


def with_transaction_search(inputs: Inputs) -> bool:
    """Spans are billed as CloudWatch Logs spans: the environment's path needs Transaction Search, or its account has
    it on.
    """
    return sends_otlp_to_xray(inputs) or inputs.usage.transaction_search


def spans(inputs: Inputs) -> float:
    """Spans reaching X-Ray in the month: each recorded trace's ``spans_per_trace``."""
    return recorded_traces(inputs) * inputs.usage.spans_per_trace


def indexed_beyond_free(inputs: Inputs, percentage: float = INDEXING_PERCENTAGE) -> float:
    """Spans a month indexed above the free share, at ``percentage``."""
    return spans(inputs) * max(0.0, percentage - FREE_INDEXING_PERCENTAGE) / 100


def beyond_free_tier(what: str, traces: float, prices: Prices, price: str, free: str) -> Line:
    """``traces`` of ``what`` less the month's ``free`` ones, at ``price`` a million."""
    free_traces = prices[free]
    billable = max(0.0, traces - free_traces)
    return priced_per(
        f"X-Ray traces {what} ({traces:,.0f}, {free_traces:,} free)",
        billable,
        "traces",
        prices[price],
        MILLION,
        digits=0,
    )


def span_lines(inputs: Inputs, percentage: float = INDEXING_PERCENTAGE) -> list[Line]:
    """Spans ingested into ``aws/spans`` per GB, and the indexed share up to the free 1 % (beyond it:
    ``not_priced``).
    """
    p, usage = inputs.prices, inputs.usage
    count = spans(inputs)
    ingested = priced(
        f"X-Ray spans ingested into aws/spans ({count:,.0f} spans of {usage.span_bytes:,.0f} bytes)",
        count * usage.span_bytes / GB,
        "GB",
        p["xray_spans_ingested_gb"],
        digits=3,
    )
    free_share = min(percentage, FREE_INDEXING_PERCENTAGE)
    indexed = priced(
        f"X-Ray spans indexed as trace summaries ({free_share:g} % of them, free)",
        count * free_share / 100,
        "spans",
        0.0,
        digits=0,
    )
    return [ingested, indexed]


def not_priced(inputs: Inputs, percentage: float = INDEXING_PERCENTAGE) -> list[str]:
    """Indexed spans beyond the free share: their price is not in the price file (README, "What it costs")."""
    if not with_transaction_search(inputs) or percentage <= FREE_INDEXING_PERCENTAGE:
        return []
    return [
        f"X-Ray spans indexed beyond the free {FREE_INDEXING_PERCENTAGE:g} % "
        f"({indexed_beyond_free(inputs, percentage):,.0f} a month at {percentage:g} %)"
    ]


def lines(inputs: Inputs) -> list[Line]:
    """Traces recorded, or spans ingested and indexed under Transaction Search; and traces scanned."""
    p = inputs.prices
    recorded = recorded_traces(inputs)
    captured = captured_traces(inputs)
    scanned = recorded * inputs.usage.trace_scans_per_recorded
    what = f"recorded, {captured:,.0f} of them captured anomalies," if captured else "recorded"
    first = (
        span_lines(inputs)
        if with_transaction_search(inputs)
        else [
            beyond_free_tier(what, recorded, p, "xray_traces_recorded_million", "xray_traces_recorded_free_per_month")
        ]
    )
    return [
        *first,
        beyond_free_tier("scanned", scanned, p, "xray_traces_scanned_million", "xray_traces_scanned_free_per_month"),
    ]
