"""The load balancer and its target group: 5xx at either, unhealthy targets, response time."""

from __future__ import annotations

from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_elasticloadbalancingv2 as elbv2

from flask_aws_telemetry_cdk.components.monitoring import MonitoringFacade

LATENCY_STATISTICS = ("p50", "p90", "p99")


class LoadBalancerMonitoring:
    """Alarms Alb5xx, Target5xx, UnhealthyHosts, P99Latency; ``requests``, ``latency``, ``errors`` for the dashboard."""

    def __init__(
        self,
        facade: MonitoringFacade,
        *,
        load_balancer: elbv2.IApplicationLoadBalancer,
        target_group: elbv2.IApplicationTargetGroup,
    ) -> None:
        """Watch ``load_balancer`` and the service's ``target_group``."""
        period, thresholds = facade.period, facade.thresholds
        self.requests: cloudwatch.IMetric = load_balancer.metrics.request_count(period=period, statistic="Sum")
        edge_5xx = load_balancer.metrics.http_code_elb(elbv2.HttpCodeElb.ELB_5XX_COUNT, period=period, statistic="Sum")
        target_5xx = target_group.metrics.http_code_target(
            elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=period, statistic="Sum"
        )
        target_4xx = target_group.metrics.http_code_target(
            elbv2.HttpCodeTarget.TARGET_4XX_COUNT, period=period, statistic="Sum"
        )
        self.errors: list[cloudwatch.IMetric] = [edge_5xx, target_5xx, target_4xx]
        self.latency: dict[str, cloudwatch.IMetric] = {
            stat: target_group.metrics.target_response_time(period=period, statistic=stat)
            for stat in LATENCY_STATISTICS
        }
        unhealthy = target_group.metrics.unhealthy_host_count(period=period, statistic="Maximum")
        facade.alarm("Alb5xx", edge_5xx, thresholds.edge_5xx_count, "The load balancer returned 5xx responses.")
        facade.alarm("Target5xx", target_5xx, thresholds.target_5xx_count, "The service returned 5xx responses.")
        facade.alarm("UnhealthyHosts", unhealthy, thresholds.unhealthy_hosts, "Targets fail the health check.")
        facade.alarm(
            "P99Latency",
            self.latency["p99"],
            thresholds.p99_latency_seconds,
            "p99 response time of the service (seconds) is above the threshold.",
        )
