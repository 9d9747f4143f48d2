"""The service's dashboard: requests, latency and errors at the entry point; tasks, traces and anomalies; the
objectives' budget remaining and burn rates.
"""

from __future__ import annotations

from typing import Protocol

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from flask_aws_telemetry_cdk.components.service_monitoring import ServiceTasksMonitoring
from flask_aws_telemetry_cdk.components.slo_monitoring import ServiceLevelObjectives
from flask_aws_telemetry_cdk.models.service_level_objectives import BURN_RATE_ALERTS


class EntryPointMetrics(Protocol):
    """What the dashboard shows of an entry point (``LoadBalancerMonitoring``, ``HttpApiMonitoring``)."""

    requests: cloudwatch.IMetric
    latency: dict[str, cloudwatch.IMetric]
    errors: list[cloudwatch.IMetric]


class ServiceDashboard(Construct):
    """A CloudWatch dashboard of four rows; the dashboard is this construct's ``Default`` child."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        dashboard_name: str,
        entry_point: EntryPointMetrics,
        objectives: ServiceLevelObjectives,
        tasks: ServiceTasksMonitoring,
        xray_group_names: tuple[str, ...],
        period: Duration,
    ) -> None:
        """Show ``entry_point``'s and ``tasks``' metrics, the traces of each X-Ray group, per ``period``, and each of
        ``objectives``' budget remaining over its window and burn rates over the alerts' windows.
        """
        super().__init__(scope, construct_id)
        xray_traces = [
            cloudwatch.Metric(
                namespace="AWS/X-Ray",
                metric_name="ApproximateTraceCount",
                dimensions_map={"GroupName": name},
                statistic="Sum",
                period=period,
                label=name,
            )
            for name in xray_group_names
        ]
        # Without Container Insights, the tasks that report CPU stand in for the running count.
        task_counts = tasks.task_counts or [tasks.cpu.with_(statistic="SampleCount", label="tasks reporting CPU")]
        self.dashboard = cloudwatch.Dashboard(
            self,
            "Default",
            dashboard_name=dashboard_name,
            widgets=[
                [
                    cloudwatch.GraphWidget(title="Requests", left=[entry_point.requests], width=8),
                    cloudwatch.GraphWidget(title="Latency (s)", left=list(entry_point.latency.values()), width=8),
                    cloudwatch.GraphWidget(title="Errors", left=entry_point.errors, right=[tasks.error_lines], width=8),
                ],
                [
                    cloudwatch.GraphWidget(title="CPU and memory (%)", left=[tasks.cpu, tasks.memory], width=8),
                    cloudwatch.GraphWidget(title="Tasks", left=task_counts, width=8),
                    cloudwatch.GraphWidget(title="X-Ray group traces", left=xray_traces, width=8),
                ],
                [
                    cloudwatch.GraphWidget(
                        title="Anomalies captured unsampled, and sampling boosts", left=tasks.anomaly_traces, width=8
                    )
                ],
                objective_widgets(objectives),
            ],
        )


def objective_widgets(objectives: ServiceLevelObjectives) -> list[cloudwatch.IWidget]:
    """Each objective's budget left over its window (one single-value widget), and its burn rates at the alerts."""
    budget = cloudwatch.SingleValueWidget(
        title="Error budget remaining (%)", metrics=list(objectives.budget_remaining.values()), width=8
    )
    burn_rates = [
        cloudwatch.GraphWidget(
            title=f"{name} burn rate",
            left=[
                windows[minutes]
                for minutes in dict.fromkeys(
                    m for alert in BURN_RATE_ALERTS for m in (alert.long_window_minutes, alert.short_window_minutes)
                )
            ],
            left_annotations=[
                cloudwatch.HorizontalAnnotation(value=alert.burn_rate, label=alert.name) for alert in BURN_RATE_ALERTS
            ],
            width=8,
        )
        for name, windows in objectives.burn_rates.items()
    ]
    return [budget, *burn_rates]
