"""X-Ray groups: the service's failing requests and its slow requests.

Each group gets a trace map of its own and publishes ApproximateTraceCount
to CloudWatch, which the dashboard shows.
"""

from __future__ import annotations

from aws_cdk import aws_xray as xray
from constructs import Construct


def service_filter(service_name: str) -> str:
    """The filter-expression term that selects the traces of ``service_name``."""
    return f'service("{service_name}")'


class XRayGroups(Construct):
    """Groups for faults and errors, and for requests slower than the configured threshold."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name_prefix: str,
        service_name: str,
        slow_request_seconds: float = 1.0,
        insights: bool = False,
    ) -> None:
        """Create ``<name_prefix>-errors`` and ``<name_prefix>-slow``.

        Slow: slower than ``slow_request_seconds`` (default 1.0).

        ``insights`` turns on X-Ray Insights and its notifications for both (default off: billed per trace).
        """
        super().__init__(scope, construct_id)
        insights_configuration = xray.CfnGroup.InsightsConfigurationProperty(
            insights_enabled=insights, notifications_enabled=insights
        )
        self.errors_group_name = f"{name_prefix}-errors"
        self.slow_group_name = f"{name_prefix}-slow"
        self.errors = xray.CfnGroup(
            self,
            "Errors",
            group_name=self.errors_group_name,
            filter_expression=f"{service_filter(service_name)} {{ fault OR error }}",
            insights_configuration=insights_configuration,
        )
        self.slow = xray.CfnGroup(
            self,
            "Slow",
            group_name=self.slow_group_name,
            filter_expression=f"{service_filter(service_name)} AND responsetime > {slow_request_seconds:g}",
            insights_configuration=insights_configuration,
        )

    @property
    def group_names(self) -> tuple[str, str]:
        """The names of the errors group and the slow group."""
        return (self.errors_group_name, self.slow_group_name)
