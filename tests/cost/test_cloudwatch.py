"""CloudWatch: custom metrics (metric filters, two per canary), each metric an alarm watches, dashboards."""

from __future__ import annotations

from cost.pricers import cloudwatch
from tests.cost.fragments import by_item, canary, inputs_of

FILTER = {"Type": "AWS::Logs::MetricFilter", "Properties": {}}
SIMPLE_ALARM = {"Type": "AWS::CloudWatch::Alarm", "Properties": {"MetricName": "CPUUtilization"}}
MATH_ALARM = {
    "Type": "AWS::CloudWatch::Alarm",
    "Properties": {
        "Metrics": [{"Id": "a", "MetricStat": {}}, {"Id": "b", "MetricStat": {}}, {"Id": "e", "Expression": "a/b"}]
    },
}


def test_metrics_alarms_and_dashboards():
    """Two filters and the canary's two metrics; 1 + 2 alarmed metrics; one dashboard."""
    resources = {"F1": FILTER, "F2": FILTER, **canary(), "A1": SIMPLE_ALARM, "A2": MATH_ALARM,
                 "Board": {"Type": "AWS::CloudWatch::Dashboard", "Properties": {}}}  # fmt: skip
    assert by_item(cloudwatch.lines(inputs_of(resources))) == {
        "Custom metrics (log metric filters, canary)": (4, "1.20"),  # 4 * 0.30
        "Alarms (metrics alarmed on)": (3, "0.30"),  # 3 * 0.10
        "Dashboards": (1, "3.00"),
    }


def test_an_unmarked_function_publishes_no_canary_metrics():
    """Only the function the stack marked as the canary counts; nothing else, nothing priced."""
    assert cloudwatch.lines(inputs_of(canary(marked=False))) == []
