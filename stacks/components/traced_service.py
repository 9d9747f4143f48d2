"""The Flask service on ECS Fargate, with its sidecars, behind a load balancer or an HTTP API.

The app container's environment is ``AppEnvironment.variables``
(``models/app_environment.py``); the sidecars are ``sidecars.py``'s; the entry point
is a load balancer here or ``http_api_entry.py``'s HTTP API.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_ecs_patterns as ecs_patterns
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_servicediscovery as servicediscovery
from constructs import Construct

from cruddur import contract
from stacks.components.access_logs import AccessLogBucket
from models.app_environment import AppEnvironment
from models.fargate import EntryPoint, ScaleToZeroSchedule
from stacks.components.hardening import hardened_linux_parameters, writable_path
from stacks.components.http_api_entry import HttpApiEntry
from stacks.components.log_groups import ServiceLogGroups
from stacks.components.secrets import SsmParameterSecret, TelemetrySecrets
from stacks.components.service_domain import ServiceDomain
from stacks.components.sidecars import AdotCollectorSidecar, XRayDaemonSidecar
from stacks.components.table import ServiceTable

REPO_ROOT = Path(__file__).resolve().parents[2]

# The X-Ray API actions of each path; X-Ray offers no resource-level permissions for them.
# The daemon sends the SDK's segments and its telemetry records, and forwards the app's sampling calls.
XRAY_DAEMON_ACTIONS = (
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
)
# The collector's otlphttp exporter writes spans to X-Ray's OTLP endpoint (PutSpans, and
# PutSpansForIndexing for the spans Transaction Search indexes); its awsproxy forwards the sampling calls.
XRAY_OTLP_ACTIONS = (
    "xray:PutSpans",
    "xray:PutSpansForIndexing",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
)


def xray_actions(*, xray_sdk: bool) -> tuple[str, ...]:
    """The task role's X-Ray actions: the daemon's when the app uses the X-Ray SDK, else the collector's."""
    return XRAY_DAEMON_ACTIONS if xray_sdk else XRAY_OTLP_ACTIONS


def app_image(*, image_uri: str | None, image_directory: str) -> ecs.ContainerImage:
    """A prebuilt image by URI, or ``image_directory``'s Dockerfile as an asset (staged at synth, built at deploy)."""
    if image_uri is not None:
        return ecs.ContainerImage.from_registry(image_uri)
    return ecs.ContainerImage.from_asset(str(REPO_ROOT / image_directory), platform=ecr_assets.Platform.LINUX_AMD64)


class TracedFargateService(Construct):
    """Cluster, task definition (app + sidecars), the service behind its entry point, autoscaling.

    ``entry_point`` chooses the entry point: an Application Load Balancer
    (``fargate``, ``load_balancer``, ``target_group``; HTTPS with a domain,
    access logs on request) or an HTTP API (``http_api``). Either way
    ``service`` is the ECS service and ``url`` the address clients use. The
    X-Ray daemon runs when ``app_environment.xray_sdk`` (it sends it
    segments), the collector when ``app_environment.opentelemetry``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        task_subnets: ec2.SubnetSelection,
        assign_public_ip: bool,
        image: ecs.ContainerImage,
        app_environment: AppEnvironment,
        log_groups: ServiceLogGroups,
        secrets: TelemetrySecrets,
        table: ServiceTable,
        xray_daemon_image: str,
        collector_image: str,
        collector_config_parameter_name: str,
        cpu: int,
        memory_limit_mib: int,
        desired_count: int,
        min_capacity: int,
        max_capacity: int,
        cpu_target_percent: int,
        requests_per_target_per_minute: int,
        min_healthy_percent: int,
        container_insights: bool,
        entry_point: EntryPoint,
        access_log_expiration_days: int,
        removal_policy: RemovalPolicy,
        scale_to_zero: ScaleToZeroSchedule | None = None,
        fargate_spot: bool = False,
        cloud_map_namespace_name: str | None = None,
        domain_name: str | None = None,
        tls_certificate_arn: str | None = None,
        hosted_zone_id: str | None = None,
        hosted_zone_name: str | None = None,
        access_logs: bool = False,
    ) -> None:
        """Run ``image`` in ``vpc`` (``task_subnets``), reading and writing ``table``.

        Task size: ``cpu`` units and ``memory_limit_mib``. Scaling: from
        ``min_capacity`` to ``max_capacity`` tasks on CPU (``cpu_target_percent``)
        and, behind a load balancer, on requests per task per minute;
        ``scale_to_zero`` (default none) stops every task outside its hours.
        ``collector_config_parameter_name``: the SSM parameter that holds the
        collector's configuration (another stack creates it; referenced by name).
        With ``domain_name`` the entry point answers HTTPS: with
        ``tls_certificate_arn``, or a certificate issued in the hosted zone.
        ``cloud_map_namespace_name`` names the private namespace of the HTTP API
        entry point (required with it). ``access_logs`` (load balancer only) keeps
        them ``access_log_expiration_days``; ``removal_policy`` applies to them.
        """
        super().__init__(scope, construct_id)
        self.cluster = ecs.Cluster(
            self,
            "Cluster",
            vpc=vpc,
            container_insights_v2=ecs.ContainerInsights.ENABLED if container_insights else ecs.ContainerInsights.DISABLED,
            enable_fargate_capacity_providers=fargate_spot,
        )
        self.task_definition = ecs.FargateTaskDefinition(
            self,
            "TaskDefinition",
            cpu=cpu,
            memory_limit_mib=memory_limit_mib,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=ecs.CpuArchitecture.X86_64,
                operating_system_family=ecs.OperatingSystemFamily.LINUX,
            ),
        )
        app_secrets = {}
        if app_environment.rollbar:
            app_secrets[contract.SECRET_ROLLBAR_ACCESS_TOKEN] = secrets.rollbar_access_token
        self.app_container = self.task_definition.add_container(
            "App",
            container_name=contract.APP_CONTAINER_NAME,
            image=image,
            command=list(contract.APP_COMMAND),
            user=contract.APP_USER,
            essential=True,
            port_mappings=[ecs.PortMapping(container_port=contract.CONTAINER_PORT, protocol=ecs.Protocol.TCP)],
            environment=app_environment.variables(
                region=Stack.of(self).region,
                table_name=table.table.table_name,
                watchtower_log_group_name=log_groups.watchtower.log_group_name if log_groups.watchtower else None,
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
        if app_environment.xray_sdk:
            self.xray_daemon = XRayDaemonSidecar(
                self,
                "XRayDaemon",
                task_definition=self.task_definition,
                image=xray_daemon_image,
                log_group=log_groups.xray_daemon,
            )
            # START, not HEALTHY: a sidecar that is down must never keep the app from starting.
            self.app_container.add_container_dependencies(
                ecs.ContainerDependency(
                    container=self.xray_daemon.container, condition=ecs.ContainerDependencyCondition.START
                )
            )
        self.collector: AdotCollectorSidecar | None = None
        if app_environment.opentelemetry:
            # Referenced by its name, which both stacks derive from the environment:
            # no cross-stack export to block updates or destroy.
            collector_config_secret = SsmParameterSecret(self, collector_config_parameter_name)
            self.collector = AdotCollectorSidecar(
                self,
                "Collector",
                task_definition=self.task_definition,
                image=collector_image,
                log_group=log_groups.collector,
                honeycomb_api_key=secrets.honeycomb_api_key,
                config_parameter=collector_config_secret,
            )
            self.app_container.add_container_dependencies(
                ecs.ContainerDependency(container=self.collector.container, condition=ecs.ContainerDependencyCondition.START)
            )
        # The SecureString parameters the task injects: what the secrets preflight checks.
        self.secret_parameter_names: list[str] = []
        if self.collector is not None:
            self.secret_parameter_names.append(secrets.honeycomb_api_key.parameter_name)
        if app_environment.rollbar:
            self.secret_parameter_names.append(secrets.rollbar_access_token.parameter_name)

        task_role = self.task_definition.task_role
        if app_environment.xray_sdk or app_environment.opentelemetry:
            task_role.add_to_principal_policy(
                iam.PolicyStatement(actions=list(xray_actions(xray_sdk=app_environment.xray_sdk)), resources=["*"])
            )
        if app_environment.watchtower and log_groups.watchtower is not None:
            log_groups.watchtower.grant(task_role, "logs:CreateLogStream", "logs:PutLogEvents")
        table.grant_service(task_role)

        self.domain: ServiceDomain | None = None
        if domain_name is not None:
            self.domain = ServiceDomain(
                self,
                "Domain",
                domain_name=domain_name,
                certificate_arn=tls_certificate_arn,
                hosted_zone_id=hosted_zone_id,
                hosted_zone_name=hosted_zone_name,
            )
        deployment = {
            "cluster": self.cluster,
            "task_definition": self.task_definition,
            "desired_count": desired_count,
            "capacity_provider_strategies": (
                [ecs.CapacityProviderStrategy(capacity_provider="FARGATE_SPOT", weight=1)] if fargate_spot else None
            ),
            "circuit_breaker": ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
            "min_healthy_percent": min_healthy_percent,
            "max_healthy_percent": 200,
            "assign_public_ip": assign_public_ip,
        }
        self.fargate: ecs_patterns.ApplicationLoadBalancedFargateService | None = None
        self.load_balancer: elbv2.ApplicationLoadBalancer | None = None
        self.target_group: elbv2.ApplicationTargetGroup | None = None
        self.access_logs: AccessLogBucket | None = None
        self.http_api: HttpApiEntry | None = None
        if entry_point is EntryPoint.HTTP_API:
            if cloud_map_namespace_name is None:
                raise ValueError("the HTTP API entry point needs cloud_map_namespace_name (its tasks are found in Cloud Map)")
            self.service = self._service_for_http_api(
                deployment, task_subnets, namespace_name=cloud_map_namespace_name, service_name=app_environment.service_name
            )
            self.http_api = HttpApiEntry(
                self,
                "HttpApi",
                vpc=vpc,
                subnets=task_subnets,
                service=self.service,
                container_port=contract.CONTAINER_PORT,
                access_log_group=log_groups.entry_access,
                domain_name=domain_name,
                certificate=self.domain.certificate if self.domain else None,
                hosted_zone=self.domain.hosted_zone if self.domain else None,
            )
            self.url = self.http_api.url
        else:
            self._load_balanced(deployment, task_subnets)
            if access_logs:
                self.access_logs = AccessLogBucket(
                    self, "AccessLogs", expiration_days=access_log_expiration_days, removal_policy=removal_policy
                )
                self.access_logs.deliver_from(self.fargate.load_balancer)
        self._autoscaling(
            min_capacity=min_capacity,
            max_capacity=max_capacity,
            cpu_target_percent=cpu_target_percent,
            requests_per_target_per_minute=requests_per_target_per_minute,
            scale_to_zero=scale_to_zero,
        )

    def _service_for_http_api(
        self, deployment: dict[str, object], task_subnets: ec2.SubnetSelection, *, namespace_name: str, service_name: str
    ) -> ecs.FargateService:
        """The ECS service, registered in a private Cloud Map namespace for the HTTP API's VPC link."""
        namespace = servicediscovery.PrivateDnsNamespace(self, "Namespace", name=namespace_name, vpc=self.cluster.vpc)
        return ecs.FargateService(
            self,
            "Service",
            vpc_subnets=task_subnets,
            **deployment,
            cloud_map_options=ecs.CloudMapOptions(
                cloud_map_namespace=namespace,
                name=service_name,
                dns_record_type=servicediscovery.DnsRecordType.SRV,
                dns_ttl=Duration.seconds(10),
                container=self.app_container,
                container_port=contract.CONTAINER_PORT,
            ),
        )

    def _load_balanced(self, deployment: dict[str, object], task_subnets: ec2.SubnetSelection) -> None:
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
            task_subnets=task_subnets,
            health_check_grace_period=Duration.seconds(60),
            **deployment,
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
        if self.domain is not None:
            self.url = f"https://{self.domain.domain_name}"
        else:
            self.url = f"http://{self.fargate.load_balancer.load_balancer_dns_name}"

    def _autoscaling(
        self,
        *,
        min_capacity: int,
        max_capacity: int,
        cpu_target_percent: int,
        requests_per_target_per_minute: int,
        scale_to_zero: ScaleToZeroSchedule | None,
    ) -> None:
        """CPU target tracking, request count per target behind a load balancer, and the night schedule."""
        self.scaling = self.service.auto_scale_task_count(min_capacity=min_capacity, max_capacity=max_capacity)
        self.scaling.scale_on_cpu_utilization("CpuScaling", target_utilization_percent=cpu_target_percent)
        if self.target_group is not None:
            self.scaling.scale_on_request_count(
                "RequestScaling", requests_per_target=requests_per_target_per_minute, target_group=self.target_group
            )
        if scale_to_zero is not None:
            self.scaling.scale_on_schedule(
                "ScaleToZero",
                schedule=appscaling.Schedule.expression(scale_to_zero.scale_down_cron),
                min_capacity=0,
                max_capacity=0,
            )
            self.scaling.scale_on_schedule(
                "ScaleBackUp",
                schedule=appscaling.Schedule.expression(scale_to_zero.scale_up_cron),
                min_capacity=min_capacity,
                max_capacity=max_capacity,
            )
