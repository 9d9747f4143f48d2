"""X-Ray: what the deployed rules record (reservoir, then fixed rate) and the canary's traces, as traces or as spans
under Transaction Search.
"""

from __future__ import annotations

import pytest

from cost.pricers import xray
from cruddur import contract
from flask_aws_telemetry_cdk.models.collector_xray import CollectorXRay
from tests.cost.fragments import (
    by_item,
    canary,
    container,
    ecs_service,
    inputs_of,
    task_definition,
    task_role_policy,
)


def rule(reservoir: int, rate: float) -> dict:
    """A catch-all sampling rule."""
    properties = {
        "RuleName": "all",
        "Priority": 9000,
        "ReservoirSize": reservoir,
        "FixedRate": rate,
        "HTTPMethod": "*",
        "URLPath": "*",
        "Host": "*",
    }
    return {"Rule": {"Type": "AWS::XRay::SamplingRule", "Properties": {"SamplingRule": properties}}}


def test_the_fixed_rate_records_its_share():
    """10 % of 2,628,000 requests; scanned once each, within the free million."""
    lines = by_item(xray.lines(inputs_of(rule(0, 0.1), requests_per_day=86400, trace_scans_per_recorded=1.0)))
    assert lines == {
        "X-Ray traces recorded (262,800, 100,000 free)": (162800, "0.81"),  # 162,800 * 5.00 / 1e6
        "X-Ray traces scanned (262,800, 1,000,000 free)": (0, "0.00"),
    }


def test_the_reservoir_records_first_then_the_rate():
    """Two a second: the reservoir takes one a second (2,628,000), 5 % of the rest (131,400)."""
    lines = by_item(xray.lines(inputs_of(rule(1, 0.05), requests_per_day=172800)))
    assert lines["X-Ray traces recorded (2,759,400, 100,000 free)"] == (2659400, "13.30")  # 2,659,400 * 5.00 / 1e6


def test_without_rules_only_the_canary_records():
    """No rule, no request traced; the canary's 8,760 runs record two traces each."""
    inputs = inputs_of(canary(), requests_per_day=86400)
    assert xray.recorded_traces(inputs) == 17520
    assert xray.recorded_traces(inputs_of({}, requests_per_day=86400)) == 0


# -- under Transaction Search: spans per GB into aws/spans, the indexed share --------------------


def task_with(*names: str, xray: CollectorXRay) -> dict:
    """A service whose task runs the app and the sidecars ``names``, its role allowed ``xray``'s X-Ray actions."""
    containers = [container(contract.APP_CONTAINER_NAME), *(container(name, cpu=32, memory_mib=64) for name in names)]
    return {
        "Task": task_definition(512, 1024, *containers),
        "Service": ecs_service(),
        **task_role_policy(*xray.task_role_actions),
    }


OPENTELEMETRY_ONLY = task_with(contract.COLLECTOR_CONTAINER_NAME, xray=CollectorXRay.OTLP)
SDK_AND_DAEMON = task_with(
    contract.XRAY_DAEMON_CONTAINER_NAME, contract.COLLECTOR_CONTAINER_NAME, xray=CollectorXRay.NONE
)
# The collector in the daemon's place, and OpenTelemetry's spans as segments: no daemon, PutTraceSegments.
SDK_AND_COLLECTOR = task_with(contract.COLLECTOR_CONTAINER_NAME, xray=CollectorXRay.SDK_SEGMENTS)
OPENTELEMETRY_SEGMENTS = task_with(contract.COLLECTOR_CONTAINER_NAME, xray=CollectorXRay.OTEL_SEGMENTS)
# 10 % of 86,400 requests a day: 262,800 traces a month; 3 spans each, 1,500 bytes a span.
SPANS = {"requests_per_day": 86400, "spans_per_trace": 3, "span_bytes": 1500}


def test_the_opentelemetry_only_path_is_priced_as_spans_ingested():
    """Collector without daemon: 788,400 spans of 1,500 bytes (1.183 GB) at 0.35 a GB; 1 % indexed free; no trace
    recorded.
    """
    inputs = inputs_of({**rule(0, 0.1), **OPENTELEMETRY_ONLY}, **SPANS)
    assert xray.with_transaction_search(inputs)
    assert by_item(xray.lines(inputs)) == {
        "X-Ray spans ingested into aws/spans (788,400 spans of 1,500 bytes)": (1.183, "0.41"),  # 1.1826 GB * 0.35
        "X-Ray spans indexed as trace summaries (1 % of them, free)": (7884, "0.00"),
        "X-Ray traces scanned (0, 1,000,000 free)": (0, "0.00"),
    }
    assert xray.not_priced(inputs) == []


def test_the_daemon_path_is_priced_as_traces_unless_the_account_has_transaction_search():
    """With the daemon the segments are traces recorded; with transaction_search on, the same segments are spans."""
    without = by_item(xray.lines(inputs_of({**rule(0, 0.1), **SDK_AND_DAEMON}, **SPANS)))
    assert without["X-Ray traces recorded (262,800, 100,000 free)"] == (162800, "0.81")
    assert not [item for item in without if item.startswith("X-Ray spans")]
    with_search = by_item(xray.lines(inputs_of({**rule(0, 0.1), **SDK_AND_DAEMON}, transaction_search=True, **SPANS)))
    assert with_search["X-Ray spans ingested into aws/spans (788,400 spans of 1,500 bytes)"] == (1.183, "0.41")
    assert not [item for item in with_search if item.startswith("X-Ray traces recorded")]


@pytest.mark.parametrize(
    "task", [SDK_AND_COLLECTOR, OPENTELEMETRY_SEGMENTS], ids=["sdk-and-collector", "otel-segments"]
)
def test_the_paths_to_put_trace_segments_without_a_daemon_are_priced_as_traces(task):
    """A collector and no daemon is not Transaction Search: its awsxray exporter calls PutTraceSegments, so the same
    262,800 traces are recorded as on the daemon's path, no span is ingested, and the account setting still applies.
    """
    lines = by_item(xray.lines(inputs_of({**rule(0, 0.1), **task}, **SPANS)))
    assert lines["X-Ray traces recorded (262,800, 100,000 free)"] == (162800, "0.81")
    assert not [item for item in lines if item.startswith("X-Ray spans")]
    assert not xray.with_transaction_search(inputs_of({**rule(0, 0.1), **task}, **SPANS))
    assert xray.with_transaction_search(inputs_of({**rule(0, 0.1), **task}, transaction_search=True, **SPANS))


def test_span_bytes_and_counts_scale_the_ingested_gigabytes():
    """Twice the bytes, twice the GB: 2.365 GB at 0.35 is 0.83."""
    inputs = inputs_of({**rule(0, 0.1), **OPENTELEMETRY_ONLY}, **{**SPANS, "span_bytes": 3000})
    (ingested,) = [line for line in xray.lines(inputs) if line.item.startswith("X-Ray spans ingested")]
    assert (ingested.quantity, ingested.unit, ingested.unit_price, str(ingested.monthly_usd)) == (
        2.365,
        "GB",
        0.35,
        "0.83",
    )


def test_indexing_beyond_the_free_share_is_listed_as_not_priced():
    """At 5 %, 1 % stays a free line and the other 4 % (31,536 spans) is named, not guessed."""
    inputs = inputs_of({**rule(0, 0.1), **OPENTELEMETRY_ONLY}, **SPANS)
    indexed = by_item(xray.span_lines(inputs, percentage=5))
    assert indexed["X-Ray spans indexed as trace summaries (1 % of them, free)"] == (7884, "0.00")
    assert xray.not_priced(inputs, percentage=5) == ["X-Ray spans indexed beyond the free 1 % (31,536 a month at 5 %)"]
    assert xray.not_priced(inputs_of({**rule(0, 0.1), **SDK_AND_DAEMON}, **SPANS), percentage=5) == []


def test_make_cost_prices_the_account_stacks_indexing_percentage():
    """The share priced is the account setting's default (config/account.py), the free 1 %."""
    assert xray.INDEXING_PERCENTAGE == 1.0


def captured_app(per_task: str, tasks: int = 1) -> dict:
    """A service of ``tasks`` tasks whose app captures at most ``per_task`` anomalies a second."""
    app = container(
        contract.APP_CONTAINER_NAME,
        **{contract.OTEL_ENABLED.name: "true", contract.ANOMALY_CAPTURE_PER_SECOND.name: per_task},
    )
    return {"Task": task_definition(256, 512, app), "Service": ecs_service(tasks=tasks)}


def test_the_unsampled_errors_and_slow_requests_are_captured_and_priced():
    """10 % sampled; 1 % errors and 2 % slow of the other 90 %: 70,956 captured, on top of 262,800 sampled."""
    inputs = inputs_of({**rule(0, 0.1), **captured_app("10")}, requests_per_day=86400, error_rate=0.01, slow_rate=0.02)
    assert round(xray.captured_traces(inputs)) == 70956  # 2,628,000 * 0.9 * 0.03
    lines = by_item(xray.lines(inputs))
    assert lines["X-Ray traces recorded, 70,956 of them captured anomalies, (333,756, 100,000 free)"] == (
        233756,
        "1.17",
    )


def test_the_capture_limit_bounds_an_error_storm_and_zero_turns_it_off():
    """Every request failing, nothing sampled: at most the limit a second per task (2 tasks at 0.5); none at 0."""
    storm = {"requests_per_day": 864000, "error_rate": 1.0}
    inputs = inputs_of({**rule(0, 0.0), **captured_app("0.5", tasks=2)}, **storm)
    assert xray.captured_traces(inputs) == inputs.seconds  # 1 a second in all, for the month's seconds
    assert xray.captured_traces(inputs_of({**rule(0, 0.0), **captured_app("0")}, **storm)) == 0
