"""Fargate (on demand or Spot): each service's task vCPU and memory, one pair of lines a container.

The sidecars are priced at their own reservations (``Cpu``,
``MemoryReservation``); the app container (``contract.APP_CONTAINER_NAME``)
at what the task has left.
"""

from __future__ import annotations

from cost.inputs import Inputs
from cost.lines import Line, priced
from cost.workload import ECS_SERVICE, TaskService

TYPES = frozenset({ECS_SERVICE})
MIB_PER_GB = 1024
CPU_UNITS_PER_VCPU = 1024


def container_shares(service: TaskService) -> list[tuple[str, int, int]]:
    """(container name, CPU units, MiB) of each container of ``service``'s task, in order."""
    sidecars = service.sidecars
    app_cpu = int(service.task["Cpu"]) - sum(c.get("Cpu", 0) for c in sidecars)
    app_memory = int(service.task["Memory"]) - sum(c.get("MemoryReservation", 0) for c in sidecars)
    return [
        (c["Name"], app_cpu, app_memory)
        if service.is_app(c)
        else (c["Name"], c.get("Cpu", 0), c.get("MemoryReservation", 0))
        for c in service.containers
    ]


def lines(inputs: Inputs) -> list[Line]:
    """vCPU-hours and GB-hours of every container of every service."""
    p = inputs.prices
    out = []
    for service in inputs.workload.services:
        task_hours = service.desired_tasks * inputs.hours * service.running_share
        vcpu_price = p["fargate_spot_vcpu_hour"] if service.spot else p["fargate_vcpu_hour"]
        gb_price = p["fargate_spot_gb_hour"] if service.spot else p["fargate_gb_hour"]
        fargate = "Fargate Spot" if service.spot else "Fargate"
        for name, cpu_units, memory_mib in container_shares(service):
            vcpu_hours = cpu_units / CPU_UNITS_PER_VCPU * task_hours
            gb_hours = memory_mib / MIB_PER_GB * task_hours
            out.append(
                priced(
                    f"{fargate} vCPU: {name} ({cpu_units} CPU units)", vcpu_hours, "vCPU-hours", vcpu_price, digits=1
                )
            )
            out.append(priced(f"{fargate} memory: {name} ({memory_mib} MiB)", gb_hours, "GB-hours", gb_price, digits=1))
    return out
