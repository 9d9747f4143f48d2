"""The stack family of one app environment: ``FlaskAppStacks``, the package's entry point."""

from __future__ import annotations

from aws_cdk import Environment, Tags
from constructs import Construct

from flask_aws_telemetry_cdk.compliance import apply_compliance_checks
from flask_aws_telemetry_cdk.config import EnvironmentConfig
from flask_aws_telemetry_cdk.network_stack import NetworkStack
from flask_aws_telemetry_cdk.observability_stack import ObservabilityStack
from flask_aws_telemetry_cdk.service_stack import ServiceStack


class FlaskAppStacks:
    """The network, observability and service stacks of one environment of one app, named from its identity.

    ``FlaskAppStacks(app, config)`` adds ``<short_name>-<name>-network``,
    ``-observability`` and ``-service`` to ``scope`` (an ``App`` or a
    ``Stage``), tags them with the app's short name and the environment's,
    and applies cdk-nag's AwsSolutions checks to the app once, however many
    environments it holds. ``network``, ``observability`` and ``service`` are
    the stacks; ``all()`` lists them in deployment order.
    """

    def __init__(self, scope: Construct, config: EnvironmentConfig) -> None:
        """Add the stacks of ``config`` to ``scope``."""
        env = None
        if config.account is not None or config.region is not None:
            env = Environment(account=config.account, region=config.region)
        self.config = config
        prefix = config.resource_prefix
        description = f"{config.service_name} ({config.name})"
        self.network = NetworkStack(
            scope, f"{prefix}-network", config=config, env=env, description=f"{description}: VPC"
        )
        self.observability = ObservabilityStack(
            scope,
            f"{prefix}-observability",
            config=config,
            env=env,
            description=f"{description}: X-Ray sampling rules and groups, collector configuration",
        )
        self.service = ServiceStack(
            scope,
            f"{prefix}-service",
            config=config,
            network=self.network.network,
            xray_group_names=self.observability.groups.group_names,
            env=env,
            description=f"{description}: ECS Fargate service, sidecars, log groups, alarms, dashboard",
        )
        # The service reads the collector configuration by name at task start.
        self.service.node.add_dependency(self.observability)
        for stack in self.all():
            Tags.of(stack).add("project", config.short_name)
            Tags.of(stack).add("environment", config.name)
        apply_compliance_checks(scope.node.root)

    def all(self) -> tuple[NetworkStack, ObservabilityStack, ServiceStack]:
        """The stacks in deployment order."""
        return (self.network, self.observability, self.service)
