"""What every container of the task runs with: a read-only root, an init process, no capabilities.

Fargate grants a small default set of Linux capabilities; none of the
containers needs any of them (every port is above 1024, no process changes
user, owner or clock), so all are dropped. A process that must write gets
an empty task volume at the one path it writes (``writable_path``); the
rest of the file system is read-only, as the image built it.
"""

from __future__ import annotations

from aws_cdk import aws_ecs as ecs
from constructs import Construct


def hardened_linux_parameters(scope: Construct) -> ecs.LinuxParameters:
    """tini as PID 1 (signals forwarded, zombies reaped) and every capability dropped."""
    parameters = ecs.LinuxParameters(scope, "LinuxParameters", init_process_enabled=True)
    parameters.drop_capabilities(ecs.Capability.ALL)
    return parameters


def writable_path(container: ecs.ContainerDefinition, *, volume_name: str, container_path: str) -> None:
    """Give ``container`` an empty, task-scoped volume at ``container_path`` (Fargate ephemeral storage)."""
    container.task_definition.add_volume(name=volume_name)
    container.add_mount_points(
        ecs.MountPoint(container_path=container_path, source_volume=volume_name, read_only=False)
    )
