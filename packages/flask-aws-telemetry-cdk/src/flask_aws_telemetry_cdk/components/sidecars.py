"""The telemetry sidecars: the X-Ray daemon and the ADOT collector, and the options that choose them.

Both are non-essential: if either stops, ECS keeps the task (and the
service) running, and the app's exporters drop what they cannot send. The
task definition (``task_definition.py``) runs a sidecar when it is given
its options (``XRayDaemonOptions``, ``CollectorOptions``).
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, Stack
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_logs as logs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from flask_aws_telemetry import contract
from flask_aws_telemetry_cdk.components.collector_config import collector_command
from flask_aws_telemetry_cdk.components.hardening import hardened_linux_parameters
from flask_aws_telemetry_cdk.components.secrets import SsmParameterSecret
from flask_aws_telemetry_cdk.models.collector_xray import CollectorXRay
from flask_aws_telemetry_cdk.models.fargate import (
    COLLECTOR_CPU_UNITS,
    COLLECTOR_MEMORY_RESERVATION_MIB,
    XRAY_DAEMON_CPU_UNITS,
    XRAY_DAEMON_MEMORY_RESERVATION_MIB,
)


@dataclass(frozen=True)
class XRayDaemonOptions:
    """Run the X-Ray daemon, ``image`` (pinned by digest), logging to ``log_group``: the X-Ray SDK sends it segments."""

    image: ecs.ContainerImage
    log_group: logs.ILogGroup

    def add_to(self, scope: Construct, task_definition: ecs.TaskDefinition) -> XRayDaemonSidecar:
        """The daemon, as ``XRayDaemon`` in ``scope``, a container of ``task_definition``."""
        return XRayDaemonSidecar(scope, "XRayDaemon", task_definition=task_definition, options=self)


@dataclass(frozen=True)
class CollectorOptions:
    """Run the ADOT collector, ``image`` (pinned by digest), configured by ``config_parameter``.

    It logs to ``log_group``; ``honeycomb_api_key`` is injected for its
    Honeycomb exporter. ``xray`` (default ``CollectorXRay.NONE``: Honeycomb
    only) is what its configuration does for X-Ray; the task role's X-Ray
    actions follow it, and with ``CollectorXRay.SDK_SEGMENTS`` the collector
    holds the daemon's UDP port 2000.
    """

    image: ecs.ContainerImage
    log_group: logs.ILogGroup
    config_parameter: ssm.IParameter
    honeycomb_api_key: SsmParameterSecret
    xray: CollectorXRay = CollectorXRay.NONE

    def add_to(self, scope: Construct, task_definition: ecs.TaskDefinition) -> AdotCollectorSidecar:
        """The collector, as ``Collector`` in ``scope``, a container of ``task_definition``."""
        return AdotCollectorSidecar(scope, "Collector", task_definition=task_definition, options=self)


class TelemetrySidecar(Construct):
    """A non-essential container beside the app (``container``); the app starts after it has started."""

    container: ecs.ContainerDefinition


class XRayDaemonSidecar(TelemetrySidecar):
    """The X-Ray daemon listening on UDP 2000 inside the task's network namespace."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        task_definition: ecs.TaskDefinition,
        options: XRayDaemonOptions,
        cpu_units: int = XRAY_DAEMON_CPU_UNITS,
        memory_reservation_mib: int = XRAY_DAEMON_MEMORY_RESERVATION_MIB,
    ) -> None:
        """Add the daemon container (``options``: its image and log group) to ``task_definition``.

        It reserves ``cpu_units`` (default 32) and ``memory_reservation_mib`` (default 64).
        """
        super().__init__(scope, construct_id)
        self.container = ecs.ContainerDefinition(
            self,
            "Container",
            task_definition=task_definition,
            container_name=contract.XRAY_DAEMON_CONTAINER_NAME,
            image=options.image,
            essential=False,
            cpu=cpu_units,
            memory_reservation_mib=memory_reservation_mib,
            port_mappings=[
                ecs.PortMapping(container_port=contract.XRAY_DAEMON_PORT, protocol=ecs.Protocol.UDP),
            ],
            logging=ecs.LogDriver.aws_logs(stream_prefix="xray-daemon", log_group=options.log_group),
            readonly_root_filesystem=True,
            linux_parameters=hardened_linux_parameters(self),
        )


class AdotCollectorSidecar(TelemetrySidecar):
    """The ADOT collector: OTLP in on 4317/4318 (and the X-Ray SDK's segments on UDP 2000 in the daemon's place),
    Honeycomb and X-Ray out.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        task_definition: ecs.TaskDefinition,
        options: CollectorOptions,
        cpu_units: int = COLLECTOR_CPU_UNITS,
        memory_reservation_mib: int = COLLECTOR_MEMORY_RESERVATION_MIB,
    ) -> None:
        """Add the collector container (``options``: image, configuration, key, log group) to ``task_definition``.

        It reserves ``cpu_units`` (default 128) and ``memory_reservation_mib`` (default 256).
        """
        super().__init__(scope, construct_id)
        self.container = ecs.ContainerDefinition(
            self,
            "Container",
            task_definition=task_definition,
            container_name=contract.COLLECTOR_CONTAINER_NAME,
            image=options.image,
            # The awsxray exporter's annotation keys as the X-Ray SDK writes them (collector_config.py).
            command=collector_command(options.xray),
            essential=False,
            cpu=cpu_units,
            memory_reservation_mib=memory_reservation_mib,
            port_mappings=[
                ecs.PortMapping(container_port=contract.OTLP_GRPC_PORT, protocol=ecs.Protocol.TCP),
                ecs.PortMapping(container_port=contract.OTLP_HTTP_PORT, protocol=ecs.Protocol.TCP),
                # The daemon's port, as the daemon's container maps it: the awsxray receiver reads the SDK's
                # segments there (its sampling proxy shares the number on TCP, on loopback, like the daemon's).
                *(
                    [ecs.PortMapping(container_port=contract.XRAY_DAEMON_PORT, protocol=ecs.Protocol.UDP)]
                    if options.xray is CollectorXRay.SDK_SEGMENTS
                    else []
                ),
            ],
            environment={"AWS_REGION": Stack.of(self).region},
            secrets={
                # ADOT reads its whole configuration from this variable.
                "AOT_CONFIG_CONTENT": SsmParameterSecret(options.config_parameter),
                contract.SECRET_HONEYCOMB_API_KEY: options.honeycomb_api_key,
            },
            # The image ships /healthcheck, which queries the health_check extension.
            health_check=ecs.HealthCheck(
                command=["CMD", "/healthcheck"],
                interval=Duration.seconds(30),
                timeout=Duration.seconds(5),
                retries=3,
                start_period=Duration.seconds(15),
            ),
            logging=ecs.LogDriver.aws_logs(stream_prefix="otel-collector", log_group=options.log_group),
            readonly_root_filesystem=True,
            linux_parameters=hardened_linux_parameters(self),
        )
