"""The HTTP API: the requests the objectives count, and its response times for the dashboard."""

from __future__ import annotations

from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudwatch as cloudwatch

from flask_aws_telemetry_cdk.components.load_balancer_monitoring import LATENCY_STATISTICS
from flask_aws_telemetry_cdk.components.monitoring import MonitoringFacade
from flask_aws_telemetry_cdk.components.slo_monitoring import RequestSignals


class HttpApiMonitoring:
    """``signals`` for the objectives; ``requests``, ``latency`` (seconds), ``errors`` for the dashboard.

    The HTTP API's 5xx responses and its response time alarm through the
    objectives' burn rates (``slo_monitoring.py``).
    """

    def __init__(self, facade: MonitoringFacade, *, http_api: apigwv2.IHttpApi) -> None:
        """Watch ``http_api``."""
        period = facade.period
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
        # Latency is what a client waits, from the request to the response, in milliseconds.
        self.signals = RequestSignals(
            requests=http_api.metric_count(),
            server_errors=(http_api.metric_server_error(),),
            response_time=http_api.metric_latency(),
            response_time_units_per_second=1000,
        )
