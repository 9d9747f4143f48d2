"""The load balancer and its target group: unhealthy targets, and the requests the objectives count."""

from __future__ import annotations

from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_elasticloadbalancingv2 as elbv2

from flask_aws_telemetry_cdk.components.monitoring import MonitoringFacade
from flask_aws_telemetry_cdk.components.slo_monitoring import RequestSignals

LATENCY_STATISTICS = ("p50", "p90", "p99")


class LoadBalancerMonitoring:
    """Alarm UnhealthyHosts; ``signals`` for the objectives; ``requests``, ``latency``, ``errors`` for the dashboard.

    The 5xx responses (the load balancer's own and the targets') and the
    response time alarm through the objectives' burn rates
    (``slo_monitoring.py``); a target failing its health check is not a
    request and alarms here.
    """

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
        response_time = target_group.metrics.target_response_time(period=period)
        self.latency: dict[str, cloudwatch.IMetric] = {
            stat: response_time.with_(statistic=stat) for stat in LATENCY_STATISTICS
        }
        # TargetResponseTime is in seconds, one value per request the targets answered.
        self.signals = RequestSignals(
            requests=load_balancer.metrics.request_count(),
            server_errors=(
                load_balancer.metrics.http_code_elb(elbv2.HttpCodeElb.ELB_5XX_COUNT),
                target_group.metrics.http_code_target(elbv2.HttpCodeTarget.TARGET_5XX_COUNT),
            ),
            response_time=response_time,
            response_time_units_per_second=1,
        )
        unhealthy = target_group.metrics.unhealthy_host_count(period=period, statistic="Maximum")
        facade.alarm("UnhealthyHosts", unhealthy, thresholds.unhealthy_hosts, "Targets fail the health check.")
