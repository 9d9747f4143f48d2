"""The network stack: the VPC, kept apart so the service can be replaced without it."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from constructs import Construct

from flask_aws_telemetry_cdk.components.network import Network
from flask_aws_telemetry_cdk.config import EnvironmentConfig


class NetworkStack(Stack):
    """Owns the environment's VPC."""

    def __init__(self, scope: Construct, construct_id: str, *, config: EnvironmentConfig, **kwargs: Any) -> None:
        """Create the VPC of ``config.network``."""
        super().__init__(scope, construct_id, **kwargs)
        self.network = Network(
            self,
            "Network",
            max_azs=config.network.max_azs,
            nat_gateways=config.network.nat_gateways,
            existing_vpc_id=config.network.existing_vpc_id,
            gateway_endpoints=config.network.gateway_endpoints,
            flow_log_retention_days=config.logs.retention_days,
            removal_policy=config.removal_policy.cdk(),
        )
