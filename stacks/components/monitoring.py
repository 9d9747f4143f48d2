"""Alarms and the dashboard for one environment's service.

Handed the service object, it returns alarms that notify one SNS topic and a
dashboard; alarm names share one prefix, and every threshold is a prop of
its own (the stack passes the environment's ``alarms`` section).
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from cruddur import contract
from stacks.components.log_groups import ServiceLogGroups
from stacks.components.traced_service import TracedFargateService

ERROR_LOG_METRIC_NAME = "ErrorLogLines"
CAPTURED_ANOMALIES_METRIC_NAME = "CapturedAnomalyTraces"
SAMPLING_BOOSTS_METRIC_NAME = "SamplingBoosts"


class ServiceMonitoring(Construct):
    """An SNS topic, the service's alarms, metric filters on the app's log lines and a dashboard."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        service: TracedFargateService,
        log_groups: ServiceLogGroups,
        xray_group_names: tuple[str, ...],
        name_prefix: str,
        metric_namespace: str,
        period_minutes: int,
        evaluation_periods: int,
        edge_5xx_count: int,
        target_5xx_count: int,
        unhealthy_hosts: int,
        p99_latency_seconds: float,
        cpu_percent: float,
        memory_percent: float,
        error_log_lines: int,
        container_insights: bool,
        alarm_email: str | None = None,
    ) -> None:
        """Watch ``service``: alarms named ``<name_prefix>-<Alarm>``, the dashboard ``<name_prefix>``.

        Counts are per ``period_minutes``; an alarm fires after
        ``evaluation_periods`` periods at or above its threshold. ERROR lines
        of ``log_groups.app`` are counted in ``metric_namespace``; task counts
        are watched only with ``container_insights``; ``alarm_email`` (default
        none) is subscribed to the topic.
        """
        super().__init__(scope, construct_id)
        self._name_prefix = name_prefix
        self._evaluation_periods = evaluation_periods
        period = Duration.minutes(period_minutes)

        self.topic = sns.Topic(self, "AlarmTopic", display_name=f"{name_prefix} alarms", enforce_ssl=True)
        if alarm_email is not None:
            self.topic.add_subscription(subscriptions.EmailSubscription(alarm_email))

        ecs_service = service.service
        # The app container's stdout and stderr: the one group every app log line reaches.
        def log_line_count(construct_id: str, metric_name: str, pattern: logs.IFilterPattern) -> logs.MetricFilter:
            return logs.MetricFilter(
                self,
                construct_id,
                log_group=log_groups.app,
                metric_namespace=metric_namespace,
                metric_name=metric_name,
                filter_pattern=pattern,
                metric_value="1",
            )

        self.error_log_metric_filter = log_line_count(
            "ErrorLogLinesFilter", ERROR_LOG_METRIC_NAME, logs.FilterPattern.string_value("$.level", "=", "ERROR")
        )
        error_lines = self.error_log_metric_filter.metric(statistic="Sum", period=period)
        # One line per unsampled anomaly exported anyway (the service's anomaly capture), and per sampling boost.
        self.captured_anomalies_metric_filter = log_line_count(
            "CapturedAnomaliesFilter",
            CAPTURED_ANOMALIES_METRIC_NAME,
            logs.FilterPattern.string_value("$.logger", "=", contract.ANOMALY_LOGGER),
        )
        self.sampling_boosts_metric_filter = log_line_count(
            "SamplingBoostsFilter",
            SAMPLING_BOOSTS_METRIC_NAME,
            logs.FilterPattern.string_value("$.message", "=", f"{contract.SAMPLING_BOOST_MESSAGE_PREFIX}*"),
        )
        anomaly_traces = [
            self.captured_anomalies_metric_filter.metric(statistic="Sum", period=period, label="captured anomaly traces"),
            self.sampling_boosts_metric_filter.metric(statistic="Sum", period=period, label="sampling boosts"),
        ]
        cpu = ecs_service.metric_cpu_utilization(period=period)
        memory = ecs_service.metric_memory_utilization(period=period)

        self.alarms: dict[str, cloudwatch.Alarm] = {}
        # Each alarm watches a metric the environment has: load balancer metrics only behind a
        # load balancer, the HTTP API's only behind it, task counts only with Container Insights.
        if service.load_balancer is not None and service.target_group is not None:
            load_balancer, target_group = service.load_balancer, service.target_group
            requests = load_balancer.metrics.request_count(period=period, statistic="Sum")
            edge_5xx = load_balancer.metrics.http_code_elb(elbv2.HttpCodeElb.ELB_5XX_COUNT, period=period, statistic="Sum")
            target_5xx = target_group.metrics.http_code_target(
                elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=period, statistic="Sum"
            )
            target_4xx = target_group.metrics.http_code_target(
                elbv2.HttpCodeTarget.TARGET_4XX_COUNT, period=period, statistic="Sum"
            )
            errors = [edge_5xx, target_5xx, target_4xx]
            latency = {
                stat: target_group.metrics.target_response_time(period=period, statistic=stat)
                for stat in ("p50", "p90", "p99")
            }
            unhealthy = target_group.metrics.unhealthy_host_count(period=period, statistic="Maximum")
            self._alarm("Alb5xx", edge_5xx, edge_5xx_count, "The load balancer returned 5xx responses.")
            self._alarm("Target5xx", target_5xx, target_5xx_count, "The service returned 5xx responses.")
            self._alarm("UnhealthyHosts", unhealthy, unhealthy_hosts, "Targets fail the health check.")
        elif service.http_api is not None:
            api = service.http_api.http_api
            requests = api.metric_count(period=period, statistic="Sum")
            edge_5xx = api.metric_server_error(period=period, statistic="Sum")
            errors = [edge_5xx, api.metric_client_error(period=period, statistic="Sum")]
            # Seconds, as the load balancer's TargetResponseTime (the HTTP API reports milliseconds).
            latency = {
                stat: cloudwatch.MathExpression(
                    expression=f"latency_{stat} / 1000",
                    using_metrics={f"latency_{stat}": api.metric_integration_latency(period=period, statistic=stat)},
                    label=f"integration latency {stat}",
                    period=period,
                )
                for stat in ("p50", "p90", "p99")
            }
            self._alarm("Api5xx", edge_5xx, edge_5xx_count, "The HTTP API returned 5xx responses.")
        else:
            raise ValueError("the service has neither a load balancer nor an HTTP API to watch")
        self._alarm(
            "P99Latency",
            latency["p99"],
            p99_latency_seconds,
            "p99 response time of the service (seconds) is above the threshold.",
        )
        self._alarm("Cpu", cpu, cpu_percent, "Service CPU utilization (%) is high.")
        self._alarm("Memory", memory, memory_percent, "Service memory utilization (%) is high.")
        task_counts: list[cloudwatch.IMetric] = []
        if container_insights:

            def task_count(metric_name: str, statistic: str) -> cloudwatch.Metric:
                return cloudwatch.Metric(
                    namespace="ECS/ContainerInsights",
                    metric_name=metric_name,
                    dimensions_map={"ClusterName": service.cluster.cluster_name, "ServiceName": ecs_service.service_name},
                    statistic=statistic,
                    period=period,
                )

            running = task_count("RunningTaskCount", "Minimum")
            desired = task_count("DesiredTaskCount", "Maximum")
            task_counts = [running, desired]
            tasks_missing = cloudwatch.MathExpression(
                expression="desired - running",
                using_metrics={"desired": desired, "running": running},
                label="Tasks below desired",
                period=period,
            )
            self._alarm("TasksBelowDesired", tasks_missing, 1, "Fewer tasks are running than desired.")
        self._alarm("ErrorLogLines", error_lines, error_log_lines, "The service logged ERROR lines.")

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
        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=name_prefix,
            widgets=[
                [
                    cloudwatch.GraphWidget(title="Requests", left=[requests], width=8),
                    cloudwatch.GraphWidget(title="Latency (s)", left=list(latency.values()), width=8),
                    cloudwatch.GraphWidget(title="Errors", left=errors, right=[error_lines], width=8),
                ],
                [
                    cloudwatch.GraphWidget(title="CPU and memory (%)", left=[cpu, memory], width=8),
                    cloudwatch.GraphWidget(title="Tasks", left=task_counts or [cpu.with_(statistic="SampleCount", label="tasks reporting CPU")], width=8),
                    cloudwatch.GraphWidget(title="X-Ray group traces", left=xray_traces, width=8),
                ],
                [cloudwatch.GraphWidget(title="Anomalies captured unsampled, and sampling boosts", left=anomaly_traces, width=8)],
            ],
        )

    def _alarm(self, construct_id: str, metric: cloudwatch.IMetric, threshold: float, description: str) -> None:
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            alarm_name=f"{self._name_prefix}-{construct_id}",
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            evaluation_periods=self._evaluation_periods,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        action = cloudwatch_actions.SnsAction(self.topic)
        alarm.add_alarm_action(action)
        alarm.add_ok_action(action)
        self.alarms[construct_id] = alarm
