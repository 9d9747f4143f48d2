"""CloudWatch log groups: one per container and one for watchtower, all with retention."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs
from constructs import Construct

from flask_aws_telemetry_cdk.models.aws_limits import CLOUDWATCH_RETENTION_DAYS

# aws-cdk-lib lists RetentionDays in ascending order, the same order as
# CLOUDWATCH_RETENTION_DAYS, with INFINITE last (never used here).
_RETENTION = dict(
    zip(CLOUDWATCH_RETENTION_DAYS, [m for m in logs.RetentionDays if m is not logs.RetentionDays.INFINITE], strict=True)
)


def retained_log_group(
    scope: Construct, construct_id: str, *, retention_days: int, removal_policy: RemovalPolicy
) -> logs.LogGroup:
    """A log group keeping its lines ``retention_days`` (a CloudWatch Logs value), kept or removed by
    ``removal_policy``.

    Names are left to CloudFormation: a retained prod group then never
    blocks the next deploy of the same stack with "already exists".
    """
    return logs.LogGroup(scope, construct_id, retention=_RETENTION[retention_days], removal_policy=removal_policy)


class ServiceLogGroups(Construct):
    """The service's log groups: app, X-Ray daemon, collector; watchtower and the HTTP API's access log when used.

    ``app`` receives the app container's stdout and stderr (every app log line,
    gunicorn's own messages, start-up errors) through the awslogs driver, once.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        retention_days: int,
        removal_policy: RemovalPolicy,
        watchtower: bool = False,
        http_api_access: bool = False,
    ) -> None:
        """Create the groups; ``watchtower`` and ``http_api_access`` add those two (default: neither)."""
        super().__init__(scope, construct_id)

        def group(group_id: str) -> logs.LogGroup:
            return retained_log_group(self, group_id, retention_days=retention_days, removal_policy=removal_policy)

        self.app = group("App")
        self.xray_daemon = group("XRayDaemon")
        self.collector = group("Collector")
        self.watchtower: logs.LogGroup | None = group("Watchtower") if watchtower else None
        self.entry_access: logs.LogGroup | None = group("HttpApiAccess") if http_api_access else None
