"""The service stack: log groups, the traced Fargate service and its monitoring."""

from __future__ import annotations

from typing import Any

from aws_cdk import Annotations, CfnOutput, Stack
from constructs import Construct

from cruddur import contract
from models.app_environment import AppEnvironment
from stacks.components.collector_config import collector_config_parameter_name
from stacks.components.log_groups import ServiceLogGroups
from stacks.components.log_queries import LogInsightsQueries
from stacks.components.monitoring import ServiceMonitoring
from stacks.components.network import Network
from stacks.components.secrets import TelemetrySecrets
from stacks.components.secrets_preflight import SecretsPreflight
from stacks.components.table import ServiceTable
from stacks.components.trace_canary import TraceCanary
from models.fargate import EntryPoint
from stacks.components.traced_service import TracedFargateService, app_image
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
        removal_policy = config.removal_policy.cdk()
        retention = {"log_retention_days": config.logs.retention_days, "removal_policy": removal_policy}
        telemetry, task, scaling, edge = config.telemetry, config.task, config.scaling, config.edge
        self.log_groups = ServiceLogGroups(
            self,
            "LogGroups",
            retention_days=config.logs.retention_days,
            removal_policy=removal_policy,
            watchtower=telemetry.watchtower,
            http_api_access=edge.entry_point is EntryPoint.HTTP_API,
        )
        self.log_queries = LogInsightsQueries(
            self, "LogQueries", log_group=self.log_groups.app, name_prefix=config.resource_prefix
        )
        # Named by the same rule make secrets writes them with (EnvironmentConfig.secret_parameter_name).
        self.secrets = TelemetrySecrets(
            self,
            "Secrets",
            honeycomb_api_key_parameter=config.secret_parameter_name(contract.SECRET_HONEYCOMB_API_KEY),
            rollbar_access_token_parameter=config.secret_parameter_name(contract.SECRET_ROLLBAR_ACCESS_TOKEN),
        )
        self.table = ServiceTable(
            self, "Table", point_in_time_recovery=config.data.point_in_time_recovery, removal_policy=removal_policy
        )
        self.service = TracedFargateService(
            self,
            "TracedService",
            vpc=network.vpc,
            task_subnets=network.task_subnets,
            assign_public_ip=network.tasks_in_public_subnets,
            image=app_image(image_uri=config.images.app_uri, image_directory=config.images.app_directory),
            app_environment=AppEnvironment(
                service_name=config.service_name,
                environment_name=config.name,
                log_level=config.logs.level,
                opentelemetry=telemetry.opentelemetry,
                xray_sdk=telemetry.xray_sdk,
                watchtower=telemetry.watchtower,
                rollbar=telemetry.rollbar,
                sampling_rules_json=config.sampling_policy.fallback_rules_json(),
                slow_request_seconds=config.xray_groups.slow_request_seconds,
                anomaly_capture_per_second=telemetry.anomaly_capture_per_second,
                frontend_origins=edge.frontend_origins,
                browser_traces=config.browser_traces.limits(
                    source_header=(
                        contract.HTTP_API_SOURCE_IP_HEADER
                        if edge.entry_point is EntryPoint.HTTP_API
                        else contract.LOAD_BALANCER_SOURCE_IP_HEADER
                    )
                ),
            ),
            log_groups=self.log_groups,
            secrets=self.secrets,
            table=self.table,
            xray_daemon_image=config.images.xray_daemon,
            collector_image=config.images.collector,
            collector_config_parameter_name=collector_config_parameter_name(config.parameter_path),
            cpu=task.cpu,
            memory_limit_mib=task.memory_mib,
            fargate_spot=task.fargate_spot,
            container_insights=config.alarms.container_insights,
            desired_count=scaling.desired_count,
            min_healthy_percent=scaling.deploy_min_healthy_percent,
            min_capacity=scaling.min_capacity,
            max_capacity=scaling.max_capacity,
            cpu_target_percent=scaling.cpu_target_percent,
            requests_per_target_per_minute=scaling.requests_per_target_per_minute,
            scale_to_zero=scaling.scale_to_zero,
            entry_point=edge.entry_point,
            cloud_map_namespace_name=f"{config.resource_prefix}.internal",
            domain_name=edge.domain_name,
            tls_certificate_arn=edge.tls_certificate_arn,
            hosted_zone_id=edge.hosted_zone_id,
            hosted_zone_name=edge.hosted_zone_name,
            access_logs=edge.access_logs,
            access_log_expiration_days=config.logs.retention_days,
            removal_policy=removal_policy,
        )
        self.preflight: SecretsPreflight | None = None
        if config.secrets_preflight:
            self.preflight = SecretsPreflight(
                self,
                "SecretsPreflight",
                parameter_names=self.service.secret_parameter_names,
                rerun_when=self.service.task_definition.task_definition_arn,
                environment_name=config.name,
                service_name=config.service_name,
                **retention,
            )
            # The service is created or updated only after the preflight has passed.
            self.service.service.node.add_dependency(self.preflight.resource)
        alarms = config.alarms
        self.monitoring = ServiceMonitoring(
            self,
            "Monitoring",
            service=self.service,
            log_groups=self.log_groups,
            xray_group_names=xray_group_names,
            name_prefix=config.resource_prefix,
            metric_namespace=config.metric_namespace,
            period_minutes=alarms.period_minutes,
            evaluation_periods=alarms.evaluation_periods,
            edge_5xx_count=alarms.edge_5xx_count,
            target_5xx_count=alarms.target_5xx_count,
            unhealthy_hosts=alarms.unhealthy_hosts,
            p99_latency_seconds=alarms.p99_latency_seconds,
            cpu_percent=alarms.cpu_percent,
            memory_percent=alarms.memory_percent,
            error_log_lines=alarms.error_log_lines,
            container_insights=alarms.container_insights,
            alarm_email=alarms.email,
        )
        service_url = self.service.url
        if edge.warn_without_tls and not edge.tls:
            Annotations.of(self).add_warning_v2(
                "cruddur:no-tls",
                f"environment '{config.name}' serves plain HTTP: set domain_name with hosted_zone_id and "
                "hosted_zone_name (a certificate is issued and validated in that zone), or domain_name with "
                "tls_certificate_arn, in stacks/environments.py",
            )
        if not telemetry.opentelemetry and (
            telemetry.anomaly_capture_per_second > 0 or any(rule.boost is not None for rule in config.sampling.rules)
        ):
            # Capture and boost statistics live behind OpenTelemetry's sampling gate; the X-Ray SDK alone
            # samples with its own sampler (and both end with the SDK's support, 25 February 2027).
            Annotations.of(self).add_warning_v2(
                "cruddur:no-adaptive-sampling",
                f"environment '{config.name}' runs the X-Ray SDK without OpenTelemetry: unsampled errors and slow "
                "requests are not captured and no sampling rule is boosted (telemetry.anomaly_capture_per_second and "
                "each rule's boost do nothing); set telemetry.opentelemetry = True in stacks/environments.py to have them",
            )
        self.canary: TraceCanary | None = None
        if config.canary is not None:
            self.canary = TraceCanary(
                self,
                "TraceCanary",
                service_url=service_url,
                service_name=config.service_name,
                environment_name=config.name,
                metric_namespace=config.metric_namespace,
                alarm_topic=self.monitoring.topic,
                alarm_name=f"{config.resource_prefix}-TraceNotDelivered",
                rate_minutes=config.canary.rate_minutes,
                wait_seconds=config.canary.wait_seconds,
                failed_periods=config.canary.failed_periods,
                **retention,
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
        if not config.data.point_in_time_recovery:
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
        if not config.alarms.container_insights:
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
            "X-Ray's PutTraceSegments, PutTelemetryRecords, PutSpans, PutSpansForIndexing and sampling actions "
            "do not support resource-level permissions.",
        )
        table_logical_id = Stack.of(self).get_logical_id(self.table.table.node.default_child)
        acknowledge(
            task_definition.task_role.node.find_child("DefaultPolicy").node.default_child,
            f"AwsSolutions-IAM5[Resource::<{table_logical_id}.Arn>/index/*]",
            "The service queries the table's own global secondary indexes (feed, by_handle, groups); the "
            "wildcard is limited to the indexes of this one table.",
        )
