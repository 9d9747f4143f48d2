"""CloudWatch log groups: one per container and one for watchtower, all with retention."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.config import CLOUDWATCH_RETENTION_DAYS, EntryPoint, EnvironmentConfig, RemovalPolicyName

# aws-cdk-lib lists RetentionDays in ascending order, the same order as
# CLOUDWATCH_RETENTION_DAYS, with INFINITE last (never used here).
_RETENTION = dict(zip(CLOUDWATCH_RETENTION_DAYS, [m for m in logs.RetentionDays if m is not logs.RetentionDays.INFINITE]))


def removal_policy(config: EnvironmentConfig) -> RemovalPolicy:
    """The CDK removal policy for this environment's stateful resources."""
    if config.removal_policy is RemovalPolicyName.RETAIN:
        return RemovalPolicy.RETAIN
    return RemovalPolicy.DESTROY


def retained_log_group(scope: Construct, construct_id: str, *, config: EnvironmentConfig) -> logs.LogGroup:
    """A log group with the environment's retention and removal policy.

    Names are left to CloudFormation: a retained prod group then never
    blocks the next deploy of the same stack with "already exists".
    """
    return logs.LogGroup(
        scope,
        construct_id,
        retention=_RETENTION[config.log_retention_days],
        removal_policy=removal_policy(config),
    )


class ServiceLogGroups(Construct):
    """The service's log groups: app, X-Ray daemon, collector; watchtower and the HTTP API's access log when used.

    ``app`` receives the app container's stdout and stderr (every app log line,
    gunicorn's own messages, start-up errors) through the awslogs driver, once.
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: EnvironmentConfig) -> None:
        """Create the groups with ``config``'s retention and removal policy."""
        super().__init__(scope, construct_id)
        self.app = retained_log_group(self, "App", config=config)
        self.xray_daemon = retained_log_group(self, "XRayDaemon", config=config)
        self.collector = retained_log_group(self, "Collector", config=config)
        self.watchtower: logs.LogGroup | None = None
        if config.telemetry.watchtower:
            self.watchtower = retained_log_group(self, "Watchtower", config=config)
        self.entry_access: logs.LogGroup | None = None
        if config.entry_point is EntryPoint.HTTP_API:
            self.entry_access = retained_log_group(self, "HttpApiAccess", config=config)
