"""X-Ray: what the deployed rules record (reservoir, then fixed rate) and the canary's traces, beyond the free tier."""

from __future__ import annotations

from cost.pricers import xray
from tests.cost.fragments import by_item, canary, inputs_of


def rule(reservoir: int, rate: float) -> dict:
    """A catch-all sampling rule."""
    properties = {"RuleName": "all", "Priority": 9000, "ReservoirSize": reservoir, "FixedRate": rate, "HTTPMethod": "*", "URLPath": "*", "Host": "*"}
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
