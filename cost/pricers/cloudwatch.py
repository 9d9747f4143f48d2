"""CloudWatch metrics, alarms and dashboards: custom metrics (log metric filters, the canary's), alarmed metrics,
dashboards.
"""

from __future__ import annotations

from typing import Any

from cost.inputs import Inputs
from cost.lines import Line, priced
from flask_aws_telemetry_cdk.components.trace_canary import (
    DELIVERY_LATENCY_METRIC,
    TRACE_DELIVERED_METRIC,
)

METRIC_FILTER = "AWS::Logs::MetricFilter"
ALARM = "AWS::CloudWatch::Alarm"
DASHBOARD = "AWS::CloudWatch::Dashboard"
TYPES = frozenset({METRIC_FILTER, ALARM, DASHBOARD})
# Each canary publishes these, with one dimension: one custom metric each.
CANARY_METRICS = (TRACE_DELIVERED_METRIC, DELIVERY_LATENCY_METRIC)


def alarmed_metrics(alarm: dict[str, Any]) -> int:
    """Metrics ``alarm`` watches: one, or each MetricStat of a metric-math alarm."""
    properties = alarm["Properties"]
    return sum(1 for m in properties["Metrics"] if "MetricStat" in m) if "Metrics" in properties else 1


def lines(inputs: Inputs) -> list[Line]:
    """Custom metrics, alarm metrics and dashboards, where there are any."""
    p, resources = inputs.prices, inputs.resources
    out = []
    custom = len(resources.of_type(METRIC_FILTER)) + len(CANARY_METRICS) * len(inputs.workload.canary_runs)
    if custom:
        out.append(priced("Custom metrics (log metric filters, canary)", custom, "metrics", p["custom_metric_month"]))
    alarm_metrics = sum(alarmed_metrics(alarm) for alarm in resources.of_type(ALARM).values())
    if alarm_metrics:
        out.append(priced("Alarms (metrics alarmed on)", alarm_metrics, "alarm metrics", p["alarm_metric_month"]))
    dashboards = len(resources.of_type(DASHBOARD))
    if dashboards:
        out.append(priced("Dashboards", dashboards, "dashboards", p["dashboard_month"]))
    return out
