"""The service stack: log groups, the traced Fargate service and its monitoring."""

from __future__ import annotations

from typing import Any

from aws_cdk import Annotations, CfnOutput, Stack
from constructs import Construct

from stacks.components.log_groups import ServiceLogGroups, removal_policy
from stacks.components.monitoring import ServiceMonitoring
from stacks.components.network import Network
from stacks.components.secrets import TelemetrySecrets
from stacks.components.secrets_preflight import SecretsPreflight
from stacks.components.table import ServiceTable
from stacks.components.trace_canary import TraceCanary
from stacks.components.traced_service import TracedFargateService
from stacks.compliance import acknowledge
from stacks.config import EnvironmentConfig


class ServiceStack(Stack):
    """Runs the service and watches it."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        network: Network,
        xray_group_names: tuple[str, ...],
        **kwargs: Any,
    ) -> None:
        """Compose the service's constructs for ``config``."""
        super().__init__(scope, construct_id, **kwargs)
        self.log_groups = ServiceLogGroups(self, "LogGroups", config=config)
        self.secrets = TelemetrySecrets(self, "Secrets", config=config)
        self.table = ServiceTable(
            self,
            "Table",
            point_in_time_recovery=config.table_point_in_time_recovery,
            removal_policy=removal_policy(config),
        )
        self.service = TracedFargateService(
            self,
            "TracedService",
            config=config,
            vpc=network.vpc,
            task_subnets=network.task_subnets,
            assign_public_ip=network.tasks_in_public_subnets,
            log_groups=self.log_groups,
            secrets=self.secrets,
            table=self.table,
        )
        self.preflight: SecretsPreflight | None = None
        if config.secrets_preflight:
            self.preflight = SecretsPreflight(
                self,
                "SecretsPreflight",
                config=config,
                parameter_names=self.secrets.referenced_parameter_names(config),
                rerun_when=self.service.task_definition.task_definition_arn,
            )
            # The service is created or updated only after the preflight has passed.
            self.service.service.node.add_dependency(self.preflight.resource)
        self.monitoring = ServiceMonitoring(
            self,
            "Monitoring",
            config=config,
            service=self.service,
            log_groups=self.log_groups,
            xray_group_names=xray_group_names,
        )
        service_url = self.service.url
        if config.warn_without_tls and not config.tls:
            Annotations.of(self).add_warning_v2(
                "cruddur:no-tls",
                f"environment '{config.name}' serves plain HTTP: set domain_name with hosted_zone_id and "
                "hosted_zone_name (a certificate is issued and validated in that zone), or domain_name with "
                "tls_certificate_arn, in stacks/environments.py",
            )
        self.canary: TraceCanary | None = None
        if config.canary_rate_minutes is not None:
            self.canary = TraceCanary(
                self, "TraceCanary", config=config, service_url=service_url, alarm_topic=self.monitoring.topic
            )
        CfnOutput(self, "ServiceUrl", value=service_url)
        CfnOutput(self, "AppLogGroup", value=self.log_groups.app.log_group_name)
        if self.log_groups.watchtower is not None:
            CfnOutput(self, "WatchtowerLogGroup", value=self.log_groups.watchtower.log_group_name)
        CfnOutput(self, "AlarmTopic", value=self.monitoring.topic.topic_arn)
        CfnOutput(self, "TableName", value=self.table.table.table_name)
        self._acknowledge_findings(config)

    def _acknowledge_findings(self, config: EnvironmentConfig) -> None:
        """cdk-nag findings that are deliberate, each with its reason, on the one resource concerned."""
        if not config.table_point_in_time_recovery:
            acknowledge(
                self.table.table.node.default_child,
                "AwsSolutions-DDB3",
                "This environment holds only demo data that the service seeds again into an empty table; "
                "point-in-time recovery is on where data must survive (staging, prod).",
            )
        load_balancer = self.service.load_balancer
        if load_balancer is not None:
            if self.service.access_logs is None:
                acknowledge(
                    load_balancer.node.default_child,
                    "AwsSolutions-ELB2",
                    "Every request is traced (X-Ray, Honeycomb) and logged by the service; access logs are on where "
                    "requests the load balancer rejects matter (prod, access_logs in stacks/environments.py).",
                )
            acknowledge(
                load_balancer.connections.security_groups[0].node.default_child,
                "AwsSolutions-EC23",
                "The load balancer is the public entry point of a web API and must accept any source on its "
                "listener ports; the tasks accept traffic only from this load balancer.",
            )
        if not config.container_insights:
            acknowledge(
                self.service.cluster.node.default_child,
                "AwsSolutions-ECS4",
                f"Container Insights is off in {config.name} to stay inside its budget (5.70 USD a month for one "
                "task); the service's CPU and memory metrics, alarms, traces and logs remain.",
            )
        if self.service.http_api is not None:
            acknowledge(
                self.service.http_api.http_api.node.find_child("DefaultRoute").node.default_child,
                "AwsSolutions-APIG4",
                "The API is public, as the load balancer of staging and prod is; the service authorizes by handle "
                "in its own layer (Cruddur's course design) and has no identity provider to authorize against.",
            )
        task_definition = self.service.task_definition
        acknowledge(
            task_definition.node.default_child,
            "AwsSolutions-ECS2",
            "The environment holds only non-secret settings from the service contract; the secrets come "
            "from SSM SecureString parameters through the container's secrets.",
        )
        acknowledge(
            task_definition.obtain_execution_role().node.find_child("DefaultPolicy").node.default_child,
            "AwsSolutions-IAM5[Resource::*]",
            "ecr:GetAuthorizationToken, which pulling the image needs, does not support resource-level permissions.",
        )
        acknowledge(
            task_definition.task_role.node.find_child("DefaultPolicy").node.default_child,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray's PutTraceSegments, PutTelemetryRecords and sampling actions do not support resource-level "
            "permissions.",
        )
        table_logical_id = Stack.of(self).get_logical_id(self.table.table.node.default_child)
        acknowledge(
            task_definition.task_role.node.find_child("DefaultPolicy").node.default_child,
            f"AwsSolutions-IAM5[Resource::<{table_logical_id}.Arn>/index/*]",
            "The service queries the table's own global secondary indexes (feed, by_handle, groups); the "
            "wildcard is limited to the indexes of this one table.",
        )
