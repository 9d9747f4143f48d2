"""The task definition of a traced app: its container, the sidecars it is given, its secrets, the IAM it grants.

The app container runs any app (``AppContainer``: command, port, user,
health check, its own environment, from the environment's ``app`` section);
the telemetry's variables are ``AppEnvironment.variables``
(``models/app_environment.py``). A sidecar runs when its options are given
(``XRayDaemonOptions``, ``CollectorOptions``, in ``sidecars.py``); the X-Ray
actions granted follow the sidecar that talks to X-Ray and how (``CollectorOptions.xray``).
"""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from flask_aws_telemetry import contract
from flask_aws_telemetry_cdk.components.hardening import hardened_linux_parameters, writable_path
from flask_aws_telemetry_cdk.components.secrets import SsmParameterSecret
from flask_aws_telemetry_cdk.components.sidecars import CollectorOptions, XRayDaemonOptions
from flask_aws_telemetry_cdk.models.app_container import AppContainer
from flask_aws_telemetry_cdk.models.app_environment import AppEnvironment
from flask_aws_telemetry_cdk.models.collector_xray import XRAY_OTLP_ACTIONS as XRAY_OTLP_ACTIONS
from flask_aws_telemetry_cdk.models.collector_xray import XRAY_SEGMENT_ACTIONS as XRAY_SEGMENT_ACTIONS
from flask_aws_telemetry_cdk.models.collector_xray import CollectorXRay

# The name the daemon's actions had before the collector could take its place (the actions: models/collector_xray.py).
XRAY_DAEMON_ACTIONS = XRAY_SEGMENT_ACTIONS


def xray_actions(collector_xray: CollectorXRay) -> tuple[str, ...]:
    """The task role's X-Ray actions when the collector does ``collector_xray`` (its ``task_role_actions``)."""
    return collector_xray.task_role_actions


def check_telemetry_parts(
    telemetry: AppEnvironment,
    xray_daemon: XRayDaemonOptions | None,
    collector: CollectorOptions | None,
    rollbar_access_token: object | None,
    watchtower_log_group: object | None,
) -> None:
    """Raise ValueError unless each part is given exactly when ``telemetry`` tells the app of it.

    The X-Ray SDK sends to one listener on UDP 2000: the daemon, or the
    collector in its place (``CollectorXRay.SDK_SEGMENTS``), never both; a
    collector is given when OpenTelemetry sends it spans or when it takes the
    daemon's place.
    """
    collector_xray = collector.xray if collector is not None else CollectorXRay.NONE
    receives_segments = collector_xray is CollectorXRay.SDK_SEGMENTS
    if xray_daemon is not None and receives_segments:
        raise ValueError(
            "xray_daemon is given and collector.xray is CollectorXRay.SDK_SEGMENTS: both would listen on UDP "
            f"{contract.XRAY_DAEMON_PORT}; give the daemon or the collector in its place, not both"
        )
    if receives_segments and not telemetry.xray_sdk:
        raise ValueError(
            "collector.xray is CollectorXRay.SDK_SEGMENTS but telemetry.xray_sdk is False: nothing would send it "
            "segments; give telemetry.xray_sdk = True or another CollectorXRay"
        )
    if collector_xray in (CollectorXRay.OTLP, CollectorXRay.OTEL_SEGMENTS) and not telemetry.opentelemetry:
        raise ValueError(
            f"collector.xray is CollectorXRay.{collector_xray.name} but telemetry.opentelemetry is False: no span "
            "would reach it; give telemetry.opentelemetry = True"
        )
    parts = {
        ("telemetry.xray_sdk", "xray_daemon"): (telemetry.xray_sdk and not receives_segments, xray_daemon),
        ("telemetry.opentelemetry", "collector"): (telemetry.opentelemetry or receives_segments, collector),
        ("telemetry.rollbar", "rollbar_access_token"): (telemetry.rollbar, rollbar_access_token),
        ("telemetry.watchtower", "watchtower_log_group"): (telemetry.watchtower, watchtower_log_group),
    }
    for (flag, prop), (on, part) in parts.items():
        if on != (part is not None):
            given = "None" if part is None else "given"
            raise ValueError(f"{flag} is {on} but {prop} is {given}: give both or neither")


# The app container's name in every task definition (the sidecars' are the library contract's).
APP_CONTAINER_NAME = "app"

# Linux on x86_64: Fargate Spot has no ARM64.
RUNTIME_PLATFORM = ecs.RuntimePlatform(
    cpu_architecture=ecs.CpuArchitecture.X86_64, operating_system_family=ecs.OperatingSystemFamily.LINUX
)


class TracedTaskDefinition(Construct):
    """A Fargate task definition running ``app`` with its telemetry: ``task_definition``, ``app_container``, sidecars.

    The task definition is this construct's ``Default`` child, so its
    resources keep the logical ids of a task definition in this construct's place.
    ``secret_parameter_names`` are the SecureString parameters the task injects.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        image: ecs.ContainerImage,
        app: AppContainer,
        telemetry: AppEnvironment,
        app_log_group: logs.ILogGroup,
        cpu: int = 512,
        memory_limit_mib: int = 1024,
        xray_daemon: XRayDaemonOptions | None = None,
        collector: CollectorOptions | None = None,
        rollbar_access_token: SsmParameterSecret | None = None,
        watchtower_log_group: logs.ILogGroup | None = None,
    ) -> None:
        """Run ``image`` as ``app`` with ``telemetry``'s variables.

        The task has ``cpu`` (default 512) CPU units and ``memory_limit_mib``
        (default 1024). Each sidecar, Rollbar's token and watchtower's group
        are given exactly when ``telemetry`` tells the app to use them (checked).
        """
        super().__init__(scope, construct_id)
        check_telemetry_parts(telemetry, xray_daemon, collector, rollbar_access_token, watchtower_log_group)
        self.app = app
        task_definition = ecs.FargateTaskDefinition(
            self, "Default", cpu=cpu, memory_limit_mib=memory_limit_mib, runtime_platform=RUNTIME_PLATFORM
        )
        self.task_definition, self.task_role = task_definition, task_definition.task_role
        watchtower_name = watchtower_log_group.log_group_name if watchtower_log_group else None
        telemetry_variables = telemetry.variables(
            region=Stack.of(self).region, watchtower_log_group_name=watchtower_name
        )
        self.app_container = app_container(
            self,
            task_definition,
            image=image,
            app=app,
            environment={**telemetry_variables, **app.environment},
            secrets={contract.SECRET_ROLLBAR_ACCESS_TOKEN: rollbar_access_token} if rollbar_access_token else {},
            log_group=app_log_group,
        )
        self.xray_daemon = xray_daemon.add_to(self, task_definition) if xray_daemon else None
        self.collector = collector.add_to(self, task_definition) if collector else None
        for sidecar in filter(None, (self.xray_daemon, self.collector)):
            # START, not HEALTHY: a sidecar that is down must never keep the app from starting.
            self.app_container.add_container_dependencies(
                ecs.ContainerDependency(container=sidecar.container, condition=ecs.ContainerDependencyCondition.START)
            )
        secrets = (collector.honeycomb_api_key if collector else None, rollbar_access_token)
        self.secret_parameter_names = [secret.parameter_name for secret in secrets if secret is not None]
        if xray_daemon or (collector and collector.xray is not CollectorXRay.NONE):
            actions = xray_actions(collector.xray if collector else CollectorXRay.NONE)
            self.task_role.add_to_principal_policy(iam.PolicyStatement(actions=list(actions), resources=["*"]))
        if watchtower_log_group is not None:
            watchtower_log_group.grant(self.task_role, "logs:CreateLogStream", "logs:PutLogEvents")


def app_container(
    scope: Construct,
    task_definition: ecs.TaskDefinition,
    *,
    image: ecs.ContainerImage,
    app: AppContainer,
    environment: dict[str, str],
    secrets: dict[str, ecs.Secret],
    log_group: logs.ILogGroup,
) -> ecs.ContainerDefinition:
    """The essential app container: read-only root but ``app.writable_path``, hardened, logging to ``log_group``."""
    container = task_definition.add_container(
        "App",
        container_name=APP_CONTAINER_NAME,
        image=image,
        command=list(app.command),
        user=app.user,
        essential=True,
        port_mappings=[ecs.PortMapping(container_port=app.port, protocol=ecs.Protocol.TCP)],
        environment=environment,
        secrets=secrets,
        health_check=ecs.HealthCheck(
            command=["CMD", *app.health_check_command],
            interval=Duration.seconds(15),
            timeout=Duration.seconds(5),
            retries=3,
            start_period=Duration.seconds(20),
        ),
        stop_timeout=Duration.seconds(app.stop_timeout_seconds),
        logging=ecs.LogDriver.aws_logs(stream_prefix="app", log_group=log_group),
        readonly_root_filesystem=True,
        linux_parameters=hardened_linux_parameters(scope),
    )
    writable_path(container, volume_name="app-tmp", container_path=app.writable_path)
    return container
