"""The service stack: log groups, secrets and the app's table, the traced Fargate service behind its entry point, its
monitoring.

It only wires: each construct owns its resources (``components/``),
and the environment's configuration is read here and nowhere below.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from aws_cdk import Annotations, CfnElement, CfnOutput, IgnoreMode, RemovalPolicy, Stack, Stage
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_servicediscovery as servicediscovery
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from flask_aws_telemetry import contract
from flask_aws_telemetry_cdk.compliance import acknowledge
from flask_aws_telemetry_cdk.components.access_logs import AccessLogBucket
from flask_aws_telemetry_cdk.components.autoscaling import RequestCountScaling, ServiceAutoscaling
from flask_aws_telemetry_cdk.components.collector_config import collector_config_parameter_name
from flask_aws_telemetry_cdk.components.dashboard import ServiceDashboard
from flask_aws_telemetry_cdk.components.http_api_entry import CloudMapService, HttpApiEntry
from flask_aws_telemetry_cdk.components.http_api_monitoring import HttpApiMonitoring
from flask_aws_telemetry_cdk.components.load_balanced_service import LoadBalancedService
from flask_aws_telemetry_cdk.components.load_balancer_monitoring import LoadBalancerMonitoring
from flask_aws_telemetry_cdk.components.log_groups import ServiceLogGroups
from flask_aws_telemetry_cdk.components.log_queries import LogInsightsQueries
from flask_aws_telemetry_cdk.components.monitoring import MonitoringFacade
from flask_aws_telemetry_cdk.components.network import Network
from flask_aws_telemetry_cdk.components.secrets import TelemetrySecrets
from flask_aws_telemetry_cdk.components.secrets_preflight import SecretsPreflight
from flask_aws_telemetry_cdk.components.service_domain import ServiceDomain
from flask_aws_telemetry_cdk.components.service_monitoring import ServiceTasksMonitoring
from flask_aws_telemetry_cdk.components.sidecars import CollectorOptions, XRayDaemonOptions
from flask_aws_telemetry_cdk.components.slo_monitoring import ServiceLevelObjectives
from flask_aws_telemetry_cdk.components.table import ServiceTable
from flask_aws_telemetry_cdk.components.task_definition import TracedTaskDefinition
from flask_aws_telemetry_cdk.components.trace_canary import TraceCanary
from flask_aws_telemetry_cdk.config import EnvironmentConfig
from flask_aws_telemetry_cdk.config.sections import CanaryConfig, EdgeConfig, ImagesConfig, TableConfig
from flask_aws_telemetry_cdk.config.xray_support import (
    END_OF_SUPPORT_WARNING_ID,
    SYNTH_DATE_CONTEXT_KEY,
    end_of_support_warning,
    synth_date,
)
from flask_aws_telemetry_cdk.models.app_environment import AppEnvironment, ProcessSettings
from flask_aws_telemetry_cdk.models.fargate import EntryPoint


def app_image(images: ImagesConfig, *, assembly_directory: Path) -> ecs.ContainerImage:
    """A prebuilt image by URI, or ``app_directory``'s Dockerfile as an asset (staged at synth, built at deploy).

    A Dockerfile with its own ignore file beside it (``<Dockerfile>.dockerignore``, which Docker reads for that
    Dockerfile) has its lines passed as the asset's exclude, so the CDK stages what Docker would send. The cloud
    assembly (``assembly_directory``, cdk.out) is never staged, even when it lies inside the app's directory, as it
    does when the app and its CDK app share a folder.
    """
    if images.app_uri is not None:
        return ecs.ContainerImage.from_registry(images.app_uri)
    directory = Path(images.app_directory)
    exclude = dockerignore_patterns(directory / f"{images.app_dockerfile or 'Dockerfile'}.dockerignore")
    assembly = assembly_directory.resolve()
    if assembly.is_relative_to(directory.resolve()):
        exclude = [*(exclude or []), f"/{assembly.relative_to(directory.resolve()).as_posix()}"]
    return ecs.ContainerImage.from_asset(
        str(directory),
        file=images.app_dockerfile,
        platform=ecr_assets.Platform.LINUX_AMD64,
        exclude=exclude,
        ignore_mode=IgnoreMode.DOCKER if exclude is not None else None,
    )


def dockerignore_patterns(path: Path) -> list[str] | None:
    """The patterns of the ignore file at ``path`` (blank lines and ``#`` comments left out); None when it is absent."""
    if not path.is_file():
        return None
    lines = (line.strip() for line in path.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def service_domain(scope: Construct, edge: EdgeConfig) -> ServiceDomain | None:
    """The entry point's HTTPS name: its certificate imported by ARN, or issued and validated in its hosted zone."""
    if edge.domain_name is None:
        return None
    domain = Construct(scope, "Domain")
    zone = None
    if edge.hosted_zone_id is not None and edge.hosted_zone_name is not None:
        # By id and name: no look-up, so synth needs no AWS account.
        zone = route53.HostedZone.from_hosted_zone_attributes(
            domain, "HostedZone", hosted_zone_id=edge.hosted_zone_id, zone_name=edge.hosted_zone_name
        )
    if edge.tls_certificate_arn is not None:
        certificate = acm.Certificate.from_certificate_arn(domain, "Certificate", edge.tls_certificate_arn)
        return ServiceDomain(domain_name=edge.domain_name, certificate=certificate, hosted_zone=zone)
    if zone is None:
        raise ValueError(f"'{edge.domain_name}': give a certificate ARN, or the hosted zone to issue one in")
    return ServiceDomain.issued_in(domain, "Certificate", domain_name=edge.domain_name, hosted_zone=zone)


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
        self.config = config
        removal_policy = config.removal_policy.cdk()
        self.log_groups = ServiceLogGroups(
            self,
            "LogGroups",
            retention_days=config.logs.retention_days,
            removal_policy=removal_policy,
            watchtower=config.telemetry.watchtower,
            http_api_access=config.edge.entry_point is EntryPoint.HTTP_API,
        )
        self.log_queries = LogInsightsQueries(
            self, "LogQueries", log_group=self.log_groups.app, name_prefix=config.resource_prefix
        )
        # Named by the same rule make secrets writes them with (EnvironmentConfig.secret_parameter_name).
        self.secrets = TelemetrySecrets(
            self,
            "Secrets",
            honeycomb_api_key_parameter=config.secret_parameter_name(contract.SECRET_HONEYCOMB_API_KEY),
            rollbar_access_token_parameter=(
                config.secret_parameter_name(contract.SECRET_ROLLBAR_ACCESS_TOKEN) if config.telemetry.rollbar else None
            ),
        )
        # The app's table, when it has one: no table, no DynamoDB permission.
        self.table = self._table(config.table, removal_policy) if config.table is not None else None
        # The service's constructs share one scope, whose id their logical ids have always begun with.
        traced = Construct(self, "TracedService")
        self.cluster = self._cluster(traced, network)
        self.task = self._task_definition(traced)
        if self.table is not None:
            self.table.grant_service(self.task.task_role)
        self.entry_point = (
            self._behind_http_api(traced, network)
            if config.edge.entry_point is EntryPoint.HTTP_API
            else self._behind_load_balancer(traced, network)
        )
        self.service = self.entry_point.service
        self.autoscaling = self._autoscaling(traced)
        self.preflight = self._secrets_preflight() if config.secrets_preflight else None
        self.monitoring = self._monitoring(xray_group_names)
        self.canary = self._canary(config.canary) if config.canary is not None else None
        self._outputs()
        self._note_what_the_account_needs()
        self._warn_of_choices()
        self._acknowledge_findings()

    def _table(self, table: TableConfig, removal_policy: RemovalPolicy) -> ServiceTable:
        """The app's table of ``table``'s design."""
        return ServiceTable(
            self,
            "Table",
            partition_key=table.partition_key,
            sort_key=table.sort_key,
            indexes=table.indexes,
            time_to_live_attribute=table.time_to_live_attribute,
            actions=table.actions,
            point_in_time_recovery=table.point_in_time_recovery,
            removal_policy=removal_policy,
        )

    def _cluster(self, scope: Construct, network: Network) -> ecs.Cluster:
        """The tasks' cluster in ``network``: Container Insights and Fargate Spot as ``config.task`` says."""
        task = self.config.task
        return ecs.Cluster(
            scope,
            "Cluster",
            vpc=network.vpc,
            container_insights_v2=ecs.ContainerInsights.ENABLED
            if task.container_insights
            else ecs.ContainerInsights.DISABLED,
            enable_fargate_capacity_providers=task.fargate_spot,
        )

    def _autoscaling(self, scope: Construct) -> ServiceAutoscaling:
        """``config.scaling``'s bounds and targets; on requests too behind a load balancer."""
        scaling, entry_point = self.config.scaling, self.entry_point
        return ServiceAutoscaling(
            scope,
            "Autoscaling",
            service=self.service,
            min_capacity=scaling.min_capacity,
            max_capacity=scaling.max_capacity,
            cpu_target_percent=scaling.cpu_target_percent,
            requests=(
                RequestCountScaling(entry_point.target_group, scaling.requests_per_target_per_minute)
                if isinstance(entry_point, LoadBalancedService)
                else None
            ),
            scale_to_zero=scaling.scale_to_zero,
        )

    def _secrets_preflight(self) -> SecretsPreflight:
        """The deploy-time check that the task's secrets exist; the service waits for it."""
        config = self.config
        preflight = SecretsPreflight(
            self,
            "SecretsPreflight",
            parameter_names=self.task.secret_parameter_names,
            rerun_when=self.task.task_definition.task_definition_arn,
            environment_name=config.name,
            service_name=config.service_name,
            log_retention_days=config.logs.retention_days,
            removal_policy=config.removal_policy.cdk(),
        )
        # The service is created or updated only after the preflight has passed.
        self.service.node.add_dependency(preflight.resource)
        return preflight

    def _canary(self, canary: CanaryConfig) -> TraceCanary:
        """A request every ``canary.rate_minutes`` whose trace must reach X-Ray, alarming on the service's topic."""
        config = self.config
        return TraceCanary(
            self,
            "TraceCanary",
            service_url=self.entry_point.url,
            service_name=config.service_name,
            environment_name=config.name,
            metric_namespace=config.metric_namespace,
            alarm_topic=self.monitoring.topic,
            alarm_name=f"{config.resource_prefix}-TraceNotDelivered",
            rate_minutes=canary.rate_minutes,
            wait_seconds=canary.wait_seconds,
            failed_periods=canary.failed_periods,
            log_retention_days=config.logs.retention_days,
            removal_policy=config.removal_policy.cdk(),
        )

    def _outputs(self) -> None:
        """The address, the log groups, the alarm topic and the table, for people and scripts."""
        CfnOutput(self, "ServiceUrl", value=self.entry_point.url)
        CfnOutput(self, "AppLogGroup", value=self.log_groups.app.log_group_name)
        if self.log_groups.watchtower is not None:
            CfnOutput(self, "WatchtowerLogGroup", value=self.log_groups.watchtower.log_group_name)
        CfnOutput(self, "AlarmTopic", value=self.monitoring.topic.topic_arn)
        if self.table is not None:
            CfnOutput(self, "TableName", value=self.table.table.table_name)

    def _task_definition(self, scope: Construct) -> TracedTaskDefinition:
        """The app of ``config.app`` and ``config.images``, with the telemetry parts ``config.telemetry`` turns on."""
        config, telemetry, log_groups = self.config, self.config.telemetry, self.log_groups
        images, edge = config.images, config.edge
        return TracedTaskDefinition(
            scope,
            "TaskDefinition",
            image=app_image(images, assembly_directory=self._assembly_directory()),
            app=config.app.container(
                table_variables=(
                    {config.table.name_variable: self.table.table.table_name}
                    if self.table is not None and config.table is not None
                    else None
                )
            ),
            telemetry=AppEnvironment(
                service_name=config.service_name,
                environment_name=config.name,
                service_version=config.revision,
                log_level=config.logs.level,
                opentelemetry=telemetry.opentelemetry,
                xray_sdk=telemetry.xray_sdk,
                watchtower=telemetry.watchtower,
                rollbar=telemetry.rollbar,
                sampling_rules_json=config.sampling_policy.fallback_rules_json(),
                slow_request_seconds=config.xray_groups.slow_request_seconds,
                anomaly_capture_per_second=telemetry.anomaly_capture_per_second,
                process=ProcessSettings(
                    port=config.app.port,
                    web_concurrency=config.app.web_concurrency,
                    health_check_path=config.app.health_check_path,
                    writable_path=config.app.writable_path,
                ),
                logger_prefix=telemetry.logger_prefix,
                frontend_origins=edge.frontend_origins,
                browser_traces=config.browser_traces.limits(
                    source_header=(
                        contract.HTTP_API_SOURCE_IP_HEADER
                        if edge.entry_point is EntryPoint.HTTP_API
                        else contract.LOAD_BALANCER_SOURCE_IP_HEADER
                    )
                ),
            ),
            app_log_group=log_groups.app,
            cpu=config.task.cpu,
            memory_limit_mib=config.task.memory_mib,
            xray_daemon=(
                XRayDaemonOptions(
                    image=ecs.ContainerImage.from_registry(images.xray_daemon), log_group=log_groups.xray_daemon
                )
                if telemetry.needs_xray_daemon
                else None
            ),
            collector=(
                CollectorOptions(
                    image=ecs.ContainerImage.from_registry(images.collector),
                    log_group=log_groups.collector,
                    # Referenced by its name, which both stacks derive from the environment:
                    # no cross-stack export to block updates or destroy.
                    config_parameter=ssm.StringParameter.from_string_parameter_name(
                        scope, "CollectorConfig", collector_config_parameter_name(config.parameter_path)
                    ),
                    honeycomb_api_key=self.secrets.honeycomb_api_key,
                    xray=telemetry.collector_xray,
                )
                if telemetry.needs_collector
                else None
            ),
            rollbar_access_token=self.secrets.rollbar_access_token,
            watchtower_log_group=log_groups.watchtower,
        )

    def _assembly_directory(self) -> Path:
        """Where this stack's cloud assembly is written (cdk.out, unless the CLI or the app says otherwise)."""
        stage = Stage.of(self)
        return Path(stage.outdir) if stage is not None else Path("cdk.out")

    def _behind_load_balancer(self, scope: Construct, network: Network) -> LoadBalancedService:
        """The service behind a public load balancer, with access logs where ``edge.access_logs``."""
        config = self.config
        return LoadBalancedService(
            scope,
            "Service",
            cluster=self.cluster,
            task_definition=self.task.task_definition,
            task_subnets=network.task_subnets,
            health_check_path=config.app.health_check_path,
            assign_public_ip=network.tasks_in_public_subnets,
            desired_count=config.scaling.desired_count,
            min_healthy_percent=config.scaling.deploy_min_healthy_percent,
            fargate_spot=config.task.fargate_spot,
            domain=service_domain(scope, config.edge),
            access_logs=(
                AccessLogBucket(
                    scope,
                    "AccessLogs",
                    expiration_days=config.logs.retention_days,
                    removal_policy=config.removal_policy.cdk(),
                )
                if config.edge.access_logs
                else None
            ),
        )

    def _behind_http_api(self, scope: Construct, network: Network) -> HttpApiEntry:
        """The service registered in a private Cloud Map namespace, behind an HTTP API's VPC link."""
        config = self.config
        service = CloudMapService(
            scope,
            "Service",
            cluster=self.cluster,
            task_definition=self.task,
            task_subnets=network.task_subnets,
            namespace=servicediscovery.PrivateDnsNamespace(
                scope, "Namespace", name=f"{config.resource_prefix}.internal", vpc=network.vpc
            ),
            cloud_map_name=config.service_name,
            assign_public_ip=network.tasks_in_public_subnets,
            desired_count=config.scaling.desired_count,
            min_healthy_percent=config.scaling.deploy_min_healthy_percent,
            fargate_spot=config.task.fargate_spot,
        )
        access_log_group = self.log_groups.entry_access
        if access_log_group is None:
            raise ValueError("the HTTP API needs its access log group (ServiceLogGroups http_api_access=True)")
        return HttpApiEntry(
            scope,
            "HttpApi",
            vpc=network.vpc,
            subnets=network.task_subnets,
            service=service,
            access_log_group=access_log_group,
            domain=service_domain(scope, config.edge),
        )

    def _monitoring(self, xray_group_names: tuple[str, ...]) -> MonitoringFacade:
        """Alarms on the tasks and on the entry point, by the environment's thresholds, and the dashboard."""
        config = self.config
        monitoring = MonitoringFacade(
            self,
            "Monitoring",
            name_prefix=config.resource_prefix,
            thresholds=config.alarms.thresholds,
            alarm_email=config.alarms.email,
        )
        tasks = ServiceTasksMonitoring(
            monitoring,
            service=self.service,
            app_log_group=self.log_groups.app,
            metric_namespace=config.metric_namespace,
            anomaly_logger=config.telemetry.anomaly_logger,
            container_insights=config.task.container_insights,
        )
        entry_point = self.entry_point
        entry_point_monitoring = (
            LoadBalancerMonitoring(
                monitoring, load_balancer=entry_point.load_balancer, target_group=entry_point.target_group
            )
            if isinstance(entry_point, LoadBalancedService)
            else HttpApiMonitoring(monitoring, http_api=entry_point.http_api)
        )
        objectives = ServiceLevelObjectives(
            monitoring,
            signals=entry_point_monitoring.signals,
            availability=config.slos.availability,
            latency=config.slos.latency,
            latency_threshold_seconds=config.slos.latency_threshold_seconds,
        )
        ServiceDashboard(
            monitoring,
            "Dashboard",
            dashboard_name=config.resource_prefix,
            entry_point=entry_point_monitoring,
            objectives=objectives,
            tasks=tasks,
            xray_group_names=xray_group_names,
            period=monitoring.period,
        )
        return monitoring

    def _note_what_the_account_needs(self) -> None:
        """Say at synth what the account needs once for the objectives (the SLO resource's service-linked role)."""
        Annotations.of(self).add_info(
            f"environment '{self.config.name}' creates CloudWatch SLOs: the first one in the account creates the "
            "service-linked role AWSServiceRoleForCloudWatchApplicationSignals, so the deploying role needs "
            "iam:CreateServiceLinkedRole once (CDK's default execution role has it), or run "
            "'aws application-signals start-discovery' once per account and region before the first deploy"
        )

    def _warn_of_choices(self) -> None:
        """Warnings at synth for choices that cost something: plain HTTP, adaptive sampling without OpenTelemetry,
        the X-Ray SDK or daemon after their support ended.
        """
        config, edge, telemetry = self.config, self.config.edge, self.config.telemetry
        unsupported = end_of_support_warning(
            config.name, telemetry, synth_date(self.node.try_get_context(SYNTH_DATE_CONTEXT_KEY))
        )
        if unsupported is not None:
            Annotations.of(self).add_warning_v2(END_OF_SUPPORT_WARNING_ID, unsupported)
        if edge.warn_without_tls and not edge.tls:
            Annotations.of(self).add_warning_v2(
                "flask-aws-telemetry:no-tls",
                f"environment '{config.name}' serves plain HTTP: set domain_name with hosted_zone_id and "
                "hosted_zone_name (a certificate is issued and validated in that zone), or domain_name with "
                "tls_certificate_arn, in the environment's config",
            )
        if not telemetry.opentelemetry and (
            telemetry.anomaly_capture_per_second > 0 or any(rule.boost is not None for rule in config.sampling.rules)
        ):
            # Capture and boost statistics live behind OpenTelemetry's sampling gate; the X-Ray SDK alone
            # samples with its own sampler (and both end with the SDK's support, 25 February 2027).
            Annotations.of(self).add_warning_v2(
                "flask-aws-telemetry:no-adaptive-sampling",
                f"environment '{config.name}' runs the X-Ray SDK without OpenTelemetry: unsampled errors and slow "
                "requests are not captured and no sampling rule is boosted (telemetry.anomaly_capture_per_second and "
                "each rule's boost do nothing); set telemetry.opentelemetry = True in the environment's config "
                "to have them",
            )

    def _acknowledge_findings(self) -> None:
        """cdk-nag findings that are deliberate, each with its reason, on the one resource concerned."""
        config, entry_point = self.config, self.entry_point
        table, design = self.table, config.table
        if table is not None and design is not None and not design.point_in_time_recovery:
            acknowledge(table.table.node.default_child, "AwsSolutions-DDB3", str(design.recovery_off_reason))
        if isinstance(entry_point, LoadBalancedService):
            load_balancer = entry_point.load_balancer
            if entry_point.access_logs is None:
                acknowledge(
                    load_balancer.node.default_child,
                    "AwsSolutions-ELB2",
                    "Every request is traced (X-Ray, Honeycomb) and logged by the service; access logs are on where "
                    "requests the load balancer rejects matter (edge.access_logs in the environment's config).",
                )
            acknowledge(
                load_balancer.connections.security_groups[0].node.default_child,
                "AwsSolutions-EC23",
                "The load balancer is the public entry point of a web API and must accept any source on its "
                "listener ports; the tasks accept traffic only from this load balancer.",
            )
        else:
            acknowledge(
                entry_point.http_api.node.find_child("DefaultRoute").node.default_child,
                "AwsSolutions-APIG4",
                "The API is public, as a web API behind a load balancer is; the app authorizes requests in its own "
                "layer and has no identity provider to authorize against.",
            )
        if not config.task.container_insights:
            acknowledge(
                self.cluster.node.default_child,
                "AwsSolutions-ECS4",
                f"Container Insights is off in {config.name} to stay inside its budget (5.70 USD a month for one "
                "task); the service's CPU and memory metrics, alarms, traces and logs remain.",
            )
        task_definition = self.task.task_definition
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
        if table is not None and table.indexes:
            table_logical_id = Stack.of(self).get_logical_id(cast(CfnElement, table.table.node.default_child))
            index_names = ", ".join(index.name for index in table.indexes)
            acknowledge(
                task_definition.task_role.node.find_child("DefaultPolicy").node.default_child,
                f"AwsSolutions-IAM5[Resource::<{table_logical_id}.Arn>/index/*]",
                f"The service queries the table's own global secondary indexes ({index_names}); the "
                "wildcard is limited to the indexes of this one table.",
            )
