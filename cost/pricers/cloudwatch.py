"""CloudWatch metrics, alarms, dashboards and SLOs: custom metrics (log metric filters, the canary's), alarmed
metrics, composite alarms, dashboards, and each SLO's signals (two per SLI period, one minute here).
"""

from __future__ import annotations

from typing import Any

from cost.inputs import Inputs
from cost.lines import Line, priced, priced_per
from flask_aws_telemetry_cdk.components.slo_monitoring import SLI_PERIOD_SECONDS
from flask_aws_telemetry_cdk.components.trace_canary import (
    DELIVERY_LATENCY_METRIC,
    TRACE_DELIVERED_METRIC,
)

METRIC_FILTER = "AWS::Logs::MetricFilter"
ALARM = "AWS::CloudWatch::Alarm"
DASHBOARD = "AWS::CloudWatch::Dashboard"
COMPOSITE_ALARM = "AWS::CloudWatch::CompositeAlarm"
SLO = "AWS::ApplicationSignals::ServiceLevelObjective"
TYPES = frozenset({METRIC_FILTER, ALARM, DASHBOARD, COMPOSITE_ALARM, SLO})
# Application Signals bills an SLO two signals per period of its SLI (components/slo_monitoring.py: one minute).
SLO_SIGNALS_PER_PERIOD = 2
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
    composites = len(resources.of_type(COMPOSITE_ALARM))
    if composites:
        out.append(priced("Composite alarms (burn-rate alerts)", composites, "alarms", p["composite_alarm_month"]))
    slos = resources.of_type(SLO)
    if slos:
        signals = sum(SLO_SIGNALS_PER_PERIOD * inputs.hours * 3600 / SLI_PERIOD_SECONDS for _ in slos)
        out.append(
            priced_per(
                f"Application Signals ({len(slos)} SLOs)", signals, "signals", p["application_signals_million"], 1e6
            )
        )
    dashboards = len(resources.of_type(DASHBOARD))
    if dashboards:
        out.append(priced("Dashboards", dashboards, "dashboards", p["dashboard_month"]))
    return out
