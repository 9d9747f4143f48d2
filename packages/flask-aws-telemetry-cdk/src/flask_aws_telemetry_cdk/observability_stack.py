"""The observability stack: X-Ray sampling rules and groups, and the collector configuration."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from flask_aws_telemetry_cdk.components.collector_config import CollectorConfiguration
from flask_aws_telemetry_cdk.components.xray_groups import XRayGroups
from flask_aws_telemetry_cdk.components.xray_sampling import XRaySamplingRules
from flask_aws_telemetry_cdk.config import EnvironmentConfig


class ObservabilityStack(Stack):
    """What tracing needs that does not run inside the task."""

    def __init__(self, scope: Construct, construct_id: str, *, config: EnvironmentConfig, **kwargs: Any) -> None:
        """Create the sampling rules, the groups and the collector configuration parameter."""
        super().__init__(scope, construct_id, **kwargs)
        self.sampling_rules = XRaySamplingRules(self, "SamplingRules", policy=config.sampling_policy)
        self.groups = XRayGroups(
            self,
            "Groups",
            name_prefix=config.resource_prefix,
            service_name=config.service_name,
            slow_request_seconds=config.xray_groups.slow_request_seconds,
            insights=config.xray_groups.insights,
        )
        self.collector_configuration = CollectorConfiguration(
            self,
            "CollectorConfiguration",
            parameter_path=config.parameter_path,
            honeycomb_endpoint=config.telemetry.honeycomb_endpoint,
            xray=config.telemetry.xray_path.collector_xray,
            indexed_attributes=config.collector_indexed_attributes,
            description=f"ADOT collector configuration for {config.service_name} in {config.name}",
        )
        CfnOutput(self, "CollectorConfigParameter", value=self.collector_configuration.parameter.parameter_name)
