"""The Flask service on ECS Fargate, with its sidecars, behind a load balancer or an HTTP API.

The app container's environment is built by ``app_environment`` from the
names in ``service/cruddur/contract.py``, the same module the service
parses them with.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration, Stack
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_ecs_patterns as ecs_patterns
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_servicediscovery as servicediscovery
from constructs import Construct

from service.cruddur import contract
from stacks.components.access_logs import AccessLogBucket
from stacks.components.collector_config import collector_config_parameter_name
from stacks.components.hardening import hardened_linux_parameters, writable_path
from stacks.components.http_api_entry import HttpApiEntry
from stacks.components.log_groups import ServiceLogGroups, removal_policy
from stacks.components.secrets import SsmParameterSecret, TelemetrySecrets
from stacks.components.service_domain import ServiceDomain
from stacks.components.sidecars import AdotCollectorSidecar, XRayDaemonSidecar
from stacks.components.table import ServiceTable
from stacks.components.xray_sampling import SamplingPolicy
from stacks.config import EntryPoint, EnvironmentConfig

REPO_ROOT = Path(__file__).resolve().parents[2]

# The X-Ray API actions of either path: the daemon, or the collector's
# awsxray exporter, sends segments and telemetry records; the daemon, or the
# collector's awsproxy, forwards the app's sampling calls. X-Ray offers no
# resource-level permissions for them.
XRAY_WRITE_ACTIONS = (
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
)


def _flag(value: bool) -> str:
    return "true" if value else "false"


def app_environment(
    config: EnvironmentConfig, *, watchtower_log_group_name: str | None, region: str, table_name: str
) -> dict[str, str]:
    """The app container's environment: the contract's variables, set for ``config``."""
    parts = config.telemetry
    environment = {
        contract.SERVICE_NAME.name: config.service_name,
        contract.DEPLOYMENT_ENVIRONMENT.name: config.name,
        contract.AWS_REGION.name: region,
        contract.LOG_LEVEL.name: config.log_level,
        contract.OTEL_ENABLED.name: _flag(parts.opentelemetry),
        contract.XRAY_ENABLED.name: _flag(parts.xray_sdk),
        contract.WATCHTOWER_ENABLED.name: _flag(parts.watchtower),
        contract.ROLLBAR_ENABLED.name: _flag(parts.rollbar),
    }
    if parts.opentelemetry or parts.xray_sdk:
        # The sampler asks the proxy (daemon or collector) for the account's rules; these decide until it answers.
        environment[contract.XRAY_SAMPLING_ENDPOINT.name] = contract.XRAY_SAMPLING_PROXY_URL
        environment[contract.XRAY_SAMPLING_RULES.name] = SamplingPolicy.of(config).fallback_rules_json()
    if parts.opentelemetry:
        environment[contract.OTEL_EXPORTER_OTLP_ENDPOINT.name] = f"http://localhost:{contract.OTLP_HTTP_PORT}"
        environment[contract.OTEL_SEMCONV_STABILITY_OPT_IN.name] = contract.OTEL_SEMCONV_STABILITY_OPT_IN.default
    if parts.xray_sdk:
        environment[contract.XRAY_DAEMON_ADDRESS.name] = f"127.0.0.1:{contract.XRAY_DAEMON_PORT}"
    if parts.watchtower and watchtower_log_group_name is not None:
        environment[contract.WATCHTOWER_LOG_GROUP.name] = watchtower_log_group_name
    # -- the data and the frontend
    environment[contract.DYNAMODB_TABLE_NAME.name] = table_name
    if config.frontend_origins:
        environment[contract.FRONTEND_URL.name] = ",".join(config.frontend_origins)
    return environment


def app_image(config: EnvironmentConfig) -> ecs.ContainerImage:
    """A prebuilt image by URI, or the service's Dockerfile as an asset (staged at synth, built at deploy)."""
    if config.image_uri is not None:
        return ecs.ContainerImage.from_registry(config.image_uri)
    return ecs.ContainerImage.from_asset(
        str(REPO_ROOT / config.image_directory), platform=ecr_assets.Platform.LINUX_AMD64
    )


class TracedFargateService(Construct):
    """Cluster, task definition (app + sidecars), the service behind its entry point, autoscaling.

    ``config.entry_point`` chooses the entry point: an Application Load
    Balancer (``fargate``, ``load_balancer``, ``target_group``; HTTPS with a
    domain, access logs on request) or an HTTP API (``http_api``). Either
    way ``service`` is the ECS service and ``url`` the address clients use.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        vpc: ec2.IVpc,
        task_subnets: ec2.SubnetSelection,
        assign_public_ip: bool,
        log_groups: ServiceLogGroups,
        secrets: TelemetrySecrets,
        table: ServiceTable,
    ) -> None:
        """Build the service for ``config`` in ``vpc``, reading and writing ``table``."""
        super().__init__(scope, construct_id)
        parts = config.telemetry
        self.cluster = ecs.Cluster(
            self,
            "Cluster",
            vpc=vpc,
            container_insights_v2=ecs.ContainerInsights.ENABLED if config.container_insights else ecs.ContainerInsights.DISABLED,
            enable_fargate_capacity_providers=config.fargate_spot,
        )
        self.task_definition = ecs.FargateTaskDefinition(
            self,
            "TaskDefinition",
            cpu=config.cpu,
            memory_limit_mib=config.memory_mib,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=ecs.CpuArchitecture.X86_64,
                operating_system_family=ecs.OperatingSystemFamily.LINUX,
            ),
        )
        app_secrets = {}
        if parts.rollbar:
            app_secrets[contract.SECRET_ROLLBAR_ACCESS_TOKEN] = secrets.rollbar_access_token
        self.app_container = self.task_definition.add_container(
            "App",
            container_name=contract.APP_CONTAINER_NAME,
            image=app_image(config),
            command=list(contract.APP_COMMAND),
            user=contract.APP_USER,
            essential=True,
            port_mappings=[ecs.PortMapping(container_port=contract.CONTAINER_PORT, protocol=ecs.Protocol.TCP)],
            environment=app_environment(
                config,
                watchtower_log_group_name=log_groups.watchtower.log_group_name if log_groups.watchtower else None,
                region=Stack.of(self).region,
                table_name=table.table.table_name,
            ),
            secrets=app_secrets,
            health_check=ecs.HealthCheck(
                command=["CMD", *contract.APP_HEALTHCHECK_COMMAND],
                interval=Duration.seconds(15),
                timeout=Duration.seconds(5),
                retries=3,
                start_period=Duration.seconds(20),
            ),
            stop_timeout=Duration.seconds(contract.STOP_TIMEOUT_SECONDS),
            logging=ecs.LogDriver.aws_logs(stream_prefix="app", log_group=log_groups.app),
            readonly_root_filesystem=True,
            linux_parameters=hardened_linux_parameters(self),
        )
        writable_path(self.app_container, volume_name="app-tmp", container_path=contract.APP_TEMP_DIR)

        self.xray_daemon: XRayDaemonSidecar | None = None
        if parts.needs_xray_daemon:
            self.xray_daemon = XRayDaemonSidecar(
                self, "XRayDaemon", config=config, task_definition=self.task_definition, log_group=log_groups.xray_daemon
            )
            # START, not HEALTHY: a sidecar that is down must never keep the app from starting.
            self.app_container.add_container_dependencies(
                ecs.ContainerDependency(
                    container=self.xray_daemon.container, condition=ecs.ContainerDependencyCondition.START
                )
            )
        self.collector: AdotCollectorSidecar | None = None
        if parts.needs_collector:
            # Referenced by its name, which both stacks derive from the config:
            # no cross-stack export to block updates or destroy.
            collector_config_secret = SsmParameterSecret(self, collector_config_parameter_name(config))
            self.collector = AdotCollectorSidecar(
                self,
                "Collector",
                config=config,
                task_definition=self.task_definition,
                log_group=log_groups.collector,
                honeycomb_api_key=secrets.honeycomb_api_key,
                config_parameter=collector_config_secret,
            )
            self.app_container.add_container_dependencies(
                ecs.ContainerDependency(container=self.collector.container, condition=ecs.ContainerDependencyCondition.START)
            )

        task_role = self.task_definition.task_role
        if parts.xray_sdk or parts.opentelemetry:
            task_role.add_to_principal_policy(iam.PolicyStatement(actions=list(XRAY_WRITE_ACTIONS), resources=["*"]))
        if parts.watchtower and log_groups.watchtower is not None:
            log_groups.watchtower.grant(task_role, "logs:CreateLogStream", "logs:PutLogEvents")
        table.grant_service(task_role)

        self.domain: ServiceDomain | None = None
        if config.domain_name is not None:
            self.domain = ServiceDomain(
                self,
                "Domain",
                domain_name=config.domain_name,
                certificate_arn=config.tls_certificate_arn,
                hosted_zone_id=config.hosted_zone_id,
                hosted_zone_name=config.hosted_zone_name,
            )
        capacity = None
        if config.fargate_spot:
            capacity = [ecs.CapacityProviderStrategy(capacity_provider="FARGATE_SPOT", weight=1)]
        self.fargate: ecs_patterns.ApplicationLoadBalancedFargateService | None = None
        self.load_balancer: elbv2.ApplicationLoadBalancer | None = None
        self.target_group: elbv2.ApplicationTargetGroup | None = None
        self.access_logs: AccessLogBucket | None = None
        self.http_api: HttpApiEntry | None = None
        if config.entry_point is EntryPoint.HTTP_API:
            self.service = self._service_for_http_api(config, task_subnets, assign_public_ip, capacity)
            self.http_api = HttpApiEntry(
                self,
                "HttpApi",
                vpc=vpc,
                subnets=task_subnets,
                service=self.service,
                container_port=contract.CONTAINER_PORT,
                access_log_group=log_groups.entry_access,
                domain_name=config.domain_name,
                certificate=self.domain.certificate if self.domain else None,
                hosted_zone=self.domain.hosted_zone if self.domain else None,
            )
            self.url = self.http_api.url
        else:
            self._load_balanced(config, task_subnets, assign_public_ip, capacity)
        self._autoscaling(config)

    def _deployment(
        self, config: EnvironmentConfig, capacity: list[ecs.CapacityProviderStrategy] | None
    ) -> dict[str, object]:
        """What every entry point's ECS service shares: task, count, capacity, rolling deploys with rollback."""
        return {
            "cluster": self.cluster,
            "task_definition": self.task_definition,
            "desired_count": config.desired_count,
            "capacity_provider_strategies": capacity,
            "circuit_breaker": ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
            "min_healthy_percent": config.deploy_min_healthy_percent,
            "max_healthy_percent": 200,
        }

    def _service_for_http_api(
        self,
        config: EnvironmentConfig,
        task_subnets: ec2.SubnetSelection,
        assign_public_ip: bool,
        capacity: list[ecs.CapacityProviderStrategy] | None,
    ) -> ecs.FargateService:
        """The ECS service, registered in a private Cloud Map namespace for the HTTP API's VPC link."""
        namespace = servicediscovery.PrivateDnsNamespace(
            self, "Namespace", name=f"{config.resource_prefix}.internal", vpc=self.cluster.vpc
        )
        return ecs.FargateService(
            self,
            "Service",
            assign_public_ip=assign_public_ip,
            vpc_subnets=task_subnets,
            **self._deployment(config, capacity),
            cloud_map_options=ecs.CloudMapOptions(
                cloud_map_namespace=namespace,
                name=config.service_name,
                dns_record_type=servicediscovery.DnsRecordType.SRV,
                dns_ttl=Duration.seconds(10),
                container=self.app_container,
                container_port=contract.CONTAINER_PORT,
            ),
        )

    def _load_balanced(
        self,
        config: EnvironmentConfig,
        task_subnets: ec2.SubnetSelection,
        assign_public_ip: bool,
        capacity: list[ecs.CapacityProviderStrategy] | None,
    ) -> None:
        """The ECS service behind a public ALB: HTTPS with a redirect from 80 when there is a domain."""
        https = {}
        if self.domain is not None:
            https = {
                "protocol": elbv2.ApplicationProtocol.HTTPS,
                "certificate": self.domain.certificate,
                "ssl_policy": elbv2.SslPolicy.RECOMMENDED_TLS,  # TLS 1.3 and 1.2 only
                "redirect_http": True,
                "domain_name": self.domain.domain_name if self.domain.hosted_zone else None,
                "domain_zone": self.domain.hosted_zone,
            }

        self.fargate = ecs_patterns.ApplicationLoadBalancedFargateService(
            self,
            "Service",
            public_load_balancer=True,
            open_listener=True,
            listener_port=443 if self.domain is not None else 80,
            assign_public_ip=assign_public_ip,
            task_subnets=task_subnets,
            health_check_grace_period=Duration.seconds(60),
            **self._deployment(config, capacity),
            **https,
        )
        self.service = self.fargate.service
        self.load_balancer = self.fargate.load_balancer
        self.target_group = self.fargate.target_group
        self.fargate.target_group.configure_health_check(
            path=contract.HEALTH_CHECK_PATH,
            healthy_http_codes="200",
            interval=Duration.seconds(15),
            timeout=Duration.seconds(5),
            healthy_threshold_count=2,
            unhealthy_threshold_count=3,
        )
        # Shorter than ECS's stop timeout, so draining finishes before SIGKILL.
        self.fargate.target_group.set_attribute("deregistration_delay.timeout_seconds", "20")
        self.fargate.load_balancer.set_attribute("routing.http.drop_invalid_header_fields.enabled", "true")
        if config.access_logs:
            self.access_logs = AccessLogBucket(
                self, "AccessLogs", expiration_days=config.log_retention_days, removal_policy=removal_policy(config)
            )
            self.access_logs.deliver_from(self.fargate.load_balancer)
        if self.domain is not None:
            self.url = f"https://{self.domain.domain_name}"
        else:
            self.url = f"http://{self.fargate.load_balancer.load_balancer_dns_name}"

    def _autoscaling(self, config: EnvironmentConfig) -> None:
        """CPU target tracking, request count per target behind a load balancer, and the night schedule."""
        self.scaling = self.service.auto_scale_task_count(min_capacity=config.min_capacity, max_capacity=config.max_capacity)
        self.scaling.scale_on_cpu_utilization("CpuScaling", target_utilization_percent=config.cpu_target_percent)
        if self.target_group is not None:
            self.scaling.scale_on_request_count(
                "RequestScaling",
                requests_per_target=config.requests_per_target_per_minute,
                target_group=self.target_group,
            )
        if config.scale_to_zero is not None:
            self.scaling.scale_on_schedule(
                "ScaleToZero",
                schedule=appscaling.Schedule.expression(config.scale_to_zero.scale_down_cron),
                min_capacity=0,
                max_capacity=0,
            )
            self.scaling.scale_on_schedule(
                "ScaleBackUp",
                schedule=appscaling.Schedule.expression(config.scale_to_zero.scale_up_cron),
                min_capacity=config.min_capacity,
                max_capacity=config.max_capacity,
            )
