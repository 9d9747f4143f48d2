"""Build every stack of one environment; app.py and the tests both call this."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import App, Environment, Tags

from flask_aws_telemetry_cdk.config import EnvironmentConfig
from flask_aws_telemetry_cdk.network_stack import NetworkStack
from flask_aws_telemetry_cdk.observability_stack import ObservabilityStack
from flask_aws_telemetry_cdk.service_stack import ServiceStack


@dataclass(frozen=True)
class EnvironmentStacks:
    """The stacks of one environment."""

    network: NetworkStack
    observability: ObservabilityStack
    service: ServiceStack

    def all(self) -> tuple[NetworkStack, ObservabilityStack, ServiceStack]:
        """The stacks in deployment order."""
        return (self.network, self.observability, self.service)


def create_environment_stacks(app: App, config: EnvironmentConfig) -> EnvironmentStacks:
    """Add the network, observability and service stacks of ``config`` to ``app``."""
    env = None
    if config.account is not None or config.region is not None:
        env = Environment(account=config.account, region=config.region)
    prefix = config.resource_prefix
    description = f"{config.service_name} ({config.name})"
    network = NetworkStack(app, f"{prefix}-network", config=config, env=env, description=f"{description}: VPC")
    observability = ObservabilityStack(
        app,
        f"{prefix}-observability",
        config=config,
        env=env,
        description=f"{description}: X-Ray sampling rules and groups, collector configuration",
    )
    service = ServiceStack(
        app,
        f"{prefix}-service",
        config=config,
        network=network.network,
        xray_group_names=observability.groups.group_names,
        env=env,
        description=f"{description}: ECS Fargate service, sidecars, log groups, alarms, dashboard",
    )
    # The service reads the collector configuration by name at task start.
    service.node.add_dependency(observability)
    for stack in (network, observability, service):
        Tags.of(stack).add("project", config.short_name)
        Tags.of(stack).add("environment", config.name)
    return EnvironmentStacks(network=network, observability=observability, service=service)
