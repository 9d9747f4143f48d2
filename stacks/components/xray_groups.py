"""X-Ray groups: the service's failing requests and its slow requests.

Each group gets a trace map of its own and publishes ApproximateTraceCount
to CloudWatch, which the dashboard shows.
"""

from __future__ import annotations

from aws_cdk import aws_xray as xray
from constructs import Construct

from stacks.config import EnvironmentConfig


def service_filter(config: EnvironmentConfig) -> str:
    """The filter-expression term that selects this service's traces."""
    return f'service("{config.service_name}")'


class XRayGroups(Construct):
    """Groups for faults and errors, and for requests slower than the configured threshold."""

    def __init__(self, scope: Construct, construct_id: str, *, config: EnvironmentConfig) -> None:
        """Create both groups, with X-Ray Insights where ``config.xray_insights`` is set."""
        super().__init__(scope, construct_id)
        insights = xray.CfnGroup.InsightsConfigurationProperty(
            insights_enabled=config.xray_insights, notifications_enabled=config.xray_insights
        )
        self.errors_group_name = f"{config.resource_prefix}-errors"
        self.slow_group_name = f"{config.resource_prefix}-slow"
        self.errors = xray.CfnGroup(
            self,
            "Errors",
            group_name=self.errors_group_name,
            filter_expression=f"{service_filter(config)} {{ fault OR error }}",
            insights_configuration=insights,
        )
        self.slow = xray.CfnGroup(
            self,
            "Slow",
            group_name=self.slow_group_name,
            filter_expression=f"{service_filter(config)} AND responsetime > {config.slow_request_threshold_seconds:g}",
            insights_configuration=insights,
        )

    @property
    def group_names(self) -> tuple[str, str]:
        """The names of the errors group and the slow group."""
        return (self.errors_group_name, self.slow_group_name)
