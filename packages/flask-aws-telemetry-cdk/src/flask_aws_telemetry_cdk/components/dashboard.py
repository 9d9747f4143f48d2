"""The service's dashboard: requests, latency and errors at the entry point; tasks, traces and anomalies."""

from __future__ import annotations

from typing import Protocol

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from flask_aws_telemetry_cdk.components.service_monitoring import ServiceTasksMonitoring


class EntryPointMetrics(Protocol):
    """What the dashboard shows of an entry point (``LoadBalancerMonitoring``, ``HttpApiMonitoring``)."""

    requests: cloudwatch.IMetric
    latency: dict[str, cloudwatch.IMetric]
    errors: list[cloudwatch.IMetric]


class ServiceDashboard(Construct):
    """A CloudWatch dashboard of three rows; the dashboard is this construct's ``Default`` child."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        dashboard_name: str,
        entry_point: EntryPointMetrics,
        tasks: ServiceTasksMonitoring,
        xray_group_names: tuple[str, ...],
        period: Duration,
    ) -> None:
        """Show ``entry_point``'s and ``tasks``' metrics, and the traces of each X-Ray group, per ``period``."""
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
            ],
        )
