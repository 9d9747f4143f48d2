"""The service's tasks and its app's log lines: CPU, memory, running tasks, ERROR lines, captured anomalies."""

from __future__ import annotations

from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_logs as logs

from flask_aws_telemetry import contract
from flask_aws_telemetry_cdk.components.monitoring import MonitoringFacade

ERROR_LOG_METRIC_NAME = "ErrorLogLines"
CAPTURED_ANOMALIES_METRIC_NAME = "CapturedAnomalyTraces"
SAMPLING_BOOSTS_METRIC_NAME = "SamplingBoosts"


class ServiceTasksMonitoring:
    """Alarms on the tasks' CPU and memory, tasks below desired, ERROR lines; log-line counts for the dashboard."""

    def __init__(
        self,
        facade: MonitoringFacade,
        *,
        service: ecs.BaseService,
        app_log_group: logs.ILogGroup,
        metric_namespace: str,
        anomaly_logger: str,
        container_insights: bool = True,
    ) -> None:
        """Count ``app_log_group``'s lines in ``metric_namespace``; task counts only with ``container_insights``.

        ``anomaly_logger`` is the library's logger of captured anomalies (``<TELEMETRY_LOGGER_PREFIX>.anomalies``).
        """
        period, thresholds = facade.period, facade.thresholds

        def log_line_count(construct_id: str, metric_name: str, pattern: logs.IFilterPattern) -> logs.MetricFilter:
            return logs.MetricFilter(
                facade,
                construct_id,
                log_group=app_log_group,
                metric_namespace=metric_namespace,
                metric_name=metric_name,
                filter_pattern=pattern,
                metric_value="1",
            )

        # The app container's stdout and stderr: the one group every app log line reaches.
        self.error_log_metric_filter = log_line_count(
            "ErrorLogLinesFilter", ERROR_LOG_METRIC_NAME, logs.FilterPattern.string_value("$.level", "=", "ERROR")
        )
        self.error_lines = self.error_log_metric_filter.metric(statistic="Sum", period=period)
        # One line per unsampled anomaly exported anyway (the service's anomaly capture), and per sampling boost.
        captured = log_line_count(
            "CapturedAnomaliesFilter",
            CAPTURED_ANOMALIES_METRIC_NAME,
            logs.FilterPattern.string_value("$.logger", "=", anomaly_logger),
        )
        boosts = log_line_count(
            "SamplingBoostsFilter",
            SAMPLING_BOOSTS_METRIC_NAME,
            logs.FilterPattern.string_value("$.message", "=", f"{contract.SAMPLING_BOOST_MESSAGE_PREFIX}*"),
        )
        self.anomaly_traces = [
            captured.metric(statistic="Sum", period=period, label="captured anomaly traces"),
            boosts.metric(statistic="Sum", period=period, label="sampling boosts"),
        ]
        self.cpu = service.metric_cpu_utilization(period=period)
        self.memory = service.metric_memory_utilization(period=period)
        facade.alarm("Cpu", self.cpu, thresholds.cpu_percent, "Service CPU utilization (%) is high.")
        facade.alarm("Memory", self.memory, thresholds.memory_percent, "Service memory utilization (%) is high.")
        # Container Insights' task counts, when the cluster has them.
        self.task_counts = tasks_below_desired(facade, service) if container_insights else []
        facade.alarm("ErrorLogLines", self.error_lines, thresholds.error_log_lines, "The service logged ERROR lines.")


def tasks_below_desired(facade: MonitoringFacade, service: ecs.BaseService) -> list[cloudwatch.IMetric]:
    """The TasksBelowDesired alarm on Container Insights' counts of ``service``; the running and desired counts."""

    def task_count(metric_name: str, statistic: str) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace="ECS/ContainerInsights",
            metric_name=metric_name,
            dimensions_map={"ClusterName": service.cluster.cluster_name, "ServiceName": service.service_name},
            statistic=statistic,
            period=facade.period,
        )

    running, desired = task_count("RunningTaskCount", "Minimum"), task_count("DesiredTaskCount", "Maximum")
    tasks_missing = cloudwatch.MathExpression(
        expression="desired - running",
        using_metrics={"desired": desired, "running": running},
        label="Tasks below desired",
        period=facade.period,
    )
    facade.alarm("TasksBelowDesired", tasks_missing, 1, "Fewer tasks are running than desired.")
    return [running, desired]
