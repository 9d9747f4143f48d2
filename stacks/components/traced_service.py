"""The Flask service on ECS Fargate behind an Application Load Balancer, with its sidecars.

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
from aws_cdk import aws_iam as iam
from constructs import Construct

from service.cruddur import contract
from stacks.components.log_groups import ServiceLogGroups
from stacks.components.collector_config import collector_config_parameter_name
from stacks.components.secrets import SsmParameterSecret, TelemetrySecrets
from stacks.components.sidecars import AdotCollectorSidecar, XRayDaemonSidecar
from stacks.components.table import ServiceTable
from stacks.config import EnvironmentConfig

REPO_ROOT = Path(__file__).resolve().parents[2]

# The X-Ray API actions the SDK, the daemon and the collector call; X-Ray
# offers no resource-level permissions for them.
XRAY_WRITE_ACTIONS = (
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    "xray:GetSamplingStatisticSummaries",
)


def _flag(value: bool) -> str:
    return "true" if value else "false"


def app_environment(
    config: EnvironmentConfig, *, watchtower_log_group_name: str, region: str, table_name: str
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
    if parts.opentelemetry:
        environment[contract.OTEL_EXPORTER_OTLP_ENDPOINT.name] = f"http://localhost:{contract.OTLP_HTTP_PORT}"
        environment[contract.OTEL_TRACES_SAMPLER_ARG.name] = f"{config.otel_sampling_ratio:g}"
        environment[contract.OTEL_EXCLUDED_URLS.name] = contract.HEALTH_CHECK_PATH.lstrip("/")
        environment[contract.OTEL_SEMCONV_STABILITY_OPT_IN.name] = contract.OTEL_SEMCONV_STABILITY_OPT_IN.default
    if parts.xray_sdk:
        environment[contract.XRAY_DAEMON_ADDRESS.name] = f"127.0.0.1:{contract.XRAY_DAEMON_PORT}"
    if parts.watchtower:
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
    """Cluster, task definition (app + sidecars), load-balanced service and autoscaling."""

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
        self.cluster = ecs.Cluster(self, "Cluster", vpc=vpc, container_insights_v2=ecs.ContainerInsights.ENABLED)
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
                watchtower_log_group_name=log_groups.watchtower.log_group_name,
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
        )

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
        if parts.watchtower:
            log_groups.watchtower.grant(task_role, "logs:CreateLogStream", "logs:PutLogEvents")
        table.grant_service(task_role)

        self.fargate = ecs_patterns.ApplicationLoadBalancedFargateService(
            self,
            "Service",
            cluster=self.cluster,
            task_definition=self.task_definition,
            desired_count=config.desired_count,
            public_load_balancer=True,
            open_listener=True,
            listener_port=80,
            assign_public_ip=assign_public_ip,
            task_subnets=task_subnets,
            circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
            min_healthy_percent=config.deploy_min_healthy_percent,
            max_healthy_percent=200,
            health_check_grace_period=Duration.seconds(60),
        )
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

        self.scaling = self.fargate.service.auto_scale_task_count(
            min_capacity=config.min_capacity, max_capacity=config.max_capacity
        )
        self.scaling.scale_on_cpu_utilization("CpuScaling", target_utilization_percent=config.cpu_target_percent)
        self.scaling.scale_on_request_count(
            "RequestScaling",
            requests_per_target=config.requests_per_target_per_minute,
            target_group=self.fargate.target_group,
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
