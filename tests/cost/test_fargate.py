"""Fargate: vCPU and memory per container, the app at what the sidecars leave, Spot at Spot prices."""

from __future__ import annotations

from cost.pricers import fargate
from cruddur import contract
from tests.cost.fragments import (
    by_item,
    container,
    ecs_service,
    inputs_of,
    task_definition,
)

SIDECARS = (
    container(contract.XRAY_DAEMON_CONTAINER_NAME, cpu=32, memory_mib=64),
    container(contract.COLLECTOR_CONTAINER_NAME, cpu=128, memory_mib=256),
)


def test_the_app_is_priced_at_what_the_sidecars_leave():
    """512 CPU units / 1 GiB, one task all month (730 h): the app gets 352 units and 704 MiB."""
    task = task_definition(512, 1024, container(contract.APP_CONTAINER_NAME), *SIDECARS)
    lines = by_item(fargate.lines(inputs_of({"Task": task, "Service": ecs_service()})))
    assert lines == {
        "Fargate vCPU: app (352 CPU units)": (250.9, "10.16"),  # 352/1024 * 730 = 250.9375 vCPU-h * 0.04048
        "Fargate memory: app (704 MiB)": (501.9, "2.23"),  # 704/1024 * 730 = 501.875 GB-h * 0.004445
        "Fargate vCPU: xray-daemon (32 CPU units)": (22.8, "0.92"),  # 22.8125 vCPU-h * 0.04048
        "Fargate memory: xray-daemon (64 MiB)": (45.6, "0.20"),  # 45.625 GB-h * 0.004445
        "Fargate vCPU: otel-collector (128 CPU units)": (91.2, "3.69"),  # 91.25 vCPU-h * 0.04048
        "Fargate memory: otel-collector (256 MiB)": (182.5, "0.81"),  # 182.5 GB-h * 0.004445
    }


def test_the_app_is_the_contract_s_container_wherever_it_is_listed():
    """Listed after a sidecar, the app still gets the remainder and the sidecar its reservation."""
    task = task_definition(512, 1024, SIDECARS[0], container(contract.APP_CONTAINER_NAME))
    items = list(by_item(fargate.lines(inputs_of({"Task": task, "Service": ecs_service()}))))
    assert items[0] == "Fargate vCPU: xray-daemon (32 CPU units)"
    assert "Fargate vCPU: app (480 CPU units)" in items


def test_spot_tasks_are_priced_at_spot_prices_for_every_task():
    """Two Spot tasks of 256 units / 512 MiB: 1,460 task-hours."""
    task = task_definition(256, 512, container(contract.APP_CONTAINER_NAME))
    lines = by_item(fargate.lines(inputs_of({"Task": task, "Service": ecs_service(tasks=2, spot=True)})))
    assert lines == {
        "Fargate Spot vCPU: app (256 CPU units)": (365.0, "4.54"),  # 0.25 * 1,460 vCPU-h * 0.01244
        "Fargate Spot memory: app (512 MiB)": (730.0, "1.00"),  # 0.5 * 1,460 GB-h * 0.00137
    }
