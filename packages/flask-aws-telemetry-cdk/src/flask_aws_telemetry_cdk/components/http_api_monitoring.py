"""The HTTP API: its own 5xx responses and the integration's response time."""

from __future__ import annotations

from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudwatch as cloudwatch

from flask_aws_telemetry_cdk.components.load_balancer_monitoring import LATENCY_STATISTICS
from flask_aws_telemetry_cdk.components.monitoring import MonitoringFacade


class HttpApiMonitoring:
    """Alarms Api5xx and P99Latency; ``requests``, ``latency`` (seconds), ``errors`` for the dashboard."""

    def __init__(self, facade: MonitoringFacade, *, http_api: apigwv2.IHttpApi) -> None:
        """Watch ``http_api``."""
        period, thresholds = facade.period, facade.thresholds
        self.requests: cloudwatch.IMetric = http_api.metric_count(period=period, statistic="Sum")
        edge_5xx = http_api.metric_server_error(period=period, statistic="Sum")
        self.errors: list[cloudwatch.IMetric] = [edge_5xx, http_api.metric_client_error(period=period, statistic="Sum")]
        # Seconds, as the load balancer's TargetResponseTime (the HTTP API reports milliseconds).
        self.latency: dict[str, cloudwatch.IMetric] = {
            stat: cloudwatch.MathExpression(
                expression=f"latency_{stat} / 1000",
                using_metrics={f"latency_{stat}": http_api.metric_integration_latency(period=period, statistic=stat)},
                label=f"integration latency {stat}",
                period=period,
            )
            for stat in LATENCY_STATISTICS
        }
        facade.alarm("Api5xx", edge_5xx, thresholds.edge_5xx_count, "The HTTP API returned 5xx responses.")
        facade.alarm(
            "P99Latency",
            self.latency["p99"],
            thresholds.p99_latency_seconds,
            "p99 response time of the service (seconds) is above the threshold.",
        )
