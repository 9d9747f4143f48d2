"""Small hand-built template fragments and the shipped prices, for the pricers' tests."""

from __future__ import annotations

import dataclasses
from typing import Any

from cost.inputs import Inputs
from cost.lines import Line
from cost.prices import load_prices
from cost.usage import Usage
from cruddur import contract
from flask_aws_telemetry_cdk.resource_roles import METADATA_KEY, TRACE_CANARY

PRICES = load_prices()  # the real price file: the figures below are worked from it (730 hours, 30.41667 days)
NO_TRAFFIC = Usage(**{field.name: 0 for field in dataclasses.fields(Usage)})  # zero of everything


def inputs_of(resources: dict[str, Any], *, on_schedule: bool = False, **usage: float) -> Inputs:
    """``resources`` as one template, priced with the shipped prices for ``usage`` (zero where not given)."""
    return Inputs.of(
        [{"Resources": resources}], dataclasses.replace(NO_TRAFFIC, **usage), PRICES, on_schedule=on_schedule
    )


def by_item(lines: list[Line]) -> dict[str, tuple[float, str]]:
    """Each line as item -> (quantity shown, USD a month)."""
    return {line.item: (line.quantity, str(line.monthly_usd)) for line in lines}


def container(
    name: str, *, cpu: int = 0, memory_mib: int = 0, log_group: str | None = None, **environment: Any
) -> dict[str, Any]:
    """A container definition; a sidecar's reservation in ``cpu`` and ``memory_mib``."""
    definition: dict[str, Any] = {"Name": name, "Essential": name == contract.APP_CONTAINER_NAME}
    if cpu:
        definition |= {"Cpu": cpu, "MemoryReservation": memory_mib}
    if log_group:
        definition["LogConfiguration"] = {"LogDriver": "awslogs", "Options": {"awslogs-group": {"Ref": log_group}}}
    if environment:
        definition["Environment"] = [{"Name": k, "Value": v} for k, v in environment.items()]
    return definition


def task_definition(cpu: int, memory_mib: int, *containers: dict[str, Any]) -> dict[str, Any]:
    """An AWS::ECS::TaskDefinition of ``containers``."""
    properties = {"Cpu": str(cpu), "Memory": str(memory_mib), "ContainerDefinitions": list(containers)}
    return {"Type": "AWS::ECS::TaskDefinition", "Properties": properties}


def ecs_service(task: str = "Task", *, tasks: int = 1, spot: bool = False, public_ip: bool = False) -> dict[str, Any]:
    """An AWS::ECS::Service running ``tasks`` of the task definition ``task``."""
    properties: dict[str, Any] = {
        "TaskDefinition": {"Ref": task},
        "DesiredCount": tasks,
        "NetworkConfiguration": {"AwsvpcConfiguration": {"AssignPublicIp": "ENABLED" if public_ip else "DISABLED"}},
    }
    if spot:
        properties["CapacityProviderStrategy"] = [{"CapacityProvider": "FARGATE_SPOT", "Weight": 1}]
    return {"Type": "AWS::ECS::Service", "Properties": properties}


def app_service(*, tasks: int = 1, public_ip: bool = False) -> dict[str, dict[str, Any]]:
    """A service of ``tasks`` tasks of 256 CPU units and 512 MiB running only the app."""
    return {
        "Task": task_definition(256, 512, container(contract.APP_CONTAINER_NAME)),
        "Service": ecs_service(tasks=tasks, public_ip=public_ip),
    }


def canary(rate: str = "rate(5 minutes)", *, marked: bool = True) -> dict[str, dict[str, Any]]:
    """A canary function (marked as the stack marks it, unless not ``marked``) and the rule that runs it."""
    function: dict[str, Any] = {"Type": "AWS::Lambda::Function", "Properties": {"MemorySize": 128}}
    if marked:
        function["Metadata"] = {METADATA_KEY: TRACE_CANARY}
    target = {"Arn": {"Fn::GetAtt": ["Canary", "Arn"]}, "Id": "Target0"}
    schedule = {"Type": "AWS::Events::Rule", "Properties": {"ScheduleExpression": rate, "Targets": [target]}}
    return {"Canary": function, "CanarySchedule": schedule}


def task_role_policy(*actions: str) -> dict[str, dict[str, Any]]:
    """An AWS::IAM::Policy of the task role allowing ``actions`` on every resource (X-Ray's have no other)."""
    statement = {"Action": list(actions), "Effect": "Allow", "Resource": "*"}
    document = {"Statement": [statement], "Version": "2012-10-17"}
    return {"TaskRolePolicy": {"Type": "AWS::IAM::Policy", "Properties": {"PolicyDocument": document}}}
