"""What runs and how often, read once from the templates for every pricer that counts it.

- the ECS services: their tasks, the share of the month a scale-to-zero
  schedule keeps them running, Spot or not, a public IP or not, and which of
  their containers is the app (``contract.APP_CONTAINER_NAME``) and which are
  sidecars;
- the trace canary (marked by the stack, ``flask_aws_telemetry_cdk.resource_roles.TRACE_CANARY``):
  how often the rule that targets it runs it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cost.templates import Resources, get_att_target, ref
from cruddur import contract
from flask_aws_telemetry_cdk.resource_roles import TRACE_CANARY

ECS_SERVICE = "AWS::ECS::Service"
EVENTS_RULE = "AWS::Events::Rule"
HOURS_PER_WEEK = 168
_CRON = re.compile(r"^cron\((\d+) (\d+) \? \* (\S+) \*\)$")
_RATE = re.compile(r"rate\((\d+) minutes?\)")
_DAYS_A_WEEK = {"*": 7, "MON-FRI": 5, "MON-SAT": 6}


def running_fraction(scheduled_actions: list[dict[str, Any]]) -> float | None:
    """Share of the week a schedule keeps tasks running; None when there is no zero-capacity schedule.

    Understands the form this project writes: a scale-to-zero action
    ``cron(M H ? * DAYS *)`` with capacity 0 and a scale-up action of the same
    form, DAYS being ``*`` or a range such as ``MON-FRI``.
    """
    down = next((a for a in scheduled_actions if a["ScalableTargetAction"].get("MaxCapacity") == 0), None)
    up = next((a for a in scheduled_actions if a["ScalableTargetAction"].get("MaxCapacity", 0) > 0), None)
    if down is None or up is None:
        return None
    down_match, up_match = _CRON.match(down["Schedule"]), _CRON.match(up["Schedule"])
    if not down_match or not up_match or down_match[3] != up_match[3]:
        raise ValueError(f"schedule not understood: {down['Schedule']} / {up['Schedule']}")
    hours_up = (int(down_match[2]) + int(down_match[1]) / 60) - (int(up_match[2]) + int(up_match[1]) / 60)
    days = _DAYS_A_WEEK.get(down_match[3])
    if days is None or not 0 < hours_up <= 24:
        raise ValueError(f"schedule not understood: {down['Schedule']} / {up['Schedule']}")
    return hours_up * days / HOURS_PER_WEEK


def rate_minutes(expression: str) -> int:
    """The minutes between runs of a ``rate(N minutes)`` schedule expression."""
    match = _RATE.match(expression)
    if not match:
        raise ValueError(f"schedule not understood: {expression}")
    return int(match[1])


def targets_of(rule: Mapping[str, Any]) -> list[str]:
    """The logical ids of the resources an EventBridge rule targets (by their ``Fn::GetAtt`` ARN)."""
    return [lid for target in rule["Properties"].get("Targets", []) if (lid := get_att_target(target.get("Arn")))]


def running_share(resources: Resources, *, on_schedule: bool) -> float:
    """Share of the month the tasks run: 1.0 always on, or what the scale-to-zero schedule leaves."""
    share = 1.0
    if on_schedule:
        for actions in resources.scheduled_actions():
            share = running_fraction(actions) or 1.0
    return share


@dataclass(frozen=True)
class TaskService:
    """One ECS service: its task definition and how many of its tasks run, for how much of the month."""

    logical_id: str
    task: Mapping[str, Any]  # the task definition's Properties
    desired_tasks: float
    running_share: float
    spot: bool
    public_ip: bool

    @classmethod
    def of(cls, logical_id: str, service: Mapping[str, Any], resources: Resources, share: float) -> TaskService:
        """The service ``logical_id`` of ``resources``, running ``share`` of the month."""
        properties = service["Properties"]
        strategy = properties.get("CapacityProviderStrategy", [])
        network = properties.get("NetworkConfiguration", {}).get("AwsvpcConfiguration", {})
        task_definition = ref(properties["TaskDefinition"])
        if task_definition is None:
            raise ValueError(f"{logical_id}: TaskDefinition is not a Ref to a task definition of the template")
        return cls(
            logical_id=logical_id,
            task=resources[task_definition]["Properties"],
            desired_tasks=float(properties.get("DesiredCount", 1)),
            running_share=share,
            spot=any(s.get("CapacityProvider") == "FARGATE_SPOT" for s in strategy),
            public_ip=network.get("AssignPublicIp") == "ENABLED",
        )

    @property
    def running_tasks(self) -> float:
        """Tasks running on average over the month."""
        return self.desired_tasks * self.running_share

    @property
    def containers(self) -> list[dict[str, Any]]:
        """The task's container definitions, in order."""
        return self.task["ContainerDefinitions"]

    def is_app(self, container: Mapping[str, Any]) -> bool:
        """Whether ``container`` is the service's own (the contract's app container)."""
        return container["Name"] == contract.APP_CONTAINER_NAME

    @property
    def sidecars(self) -> list[dict[str, Any]]:
        """Every container but the app."""
        return [c for c in self.containers if not self.is_app(c)]


def canary_runs(resources: Resources, hours: float) -> dict[str, float]:
    """Runs a month of each trace canary function (by logical id), from the rate of the rule that targets it."""
    runs = {}
    for logical_id, _ in resources.with_role(TRACE_CANARY):
        rule = next((r for r in resources.of_type(EVENTS_RULE).values() if logical_id in targets_of(r)), None)
        minutes = rate_minutes(rule["Properties"]["ScheduleExpression"]) if rule else 0
        runs[logical_id] = hours * 60 / minutes if minutes else 0.0
    return runs


@dataclass(frozen=True)
class Workload:
    """What runs in one environment, and how often."""

    services: tuple[TaskService, ...]
    canary_runs: Mapping[str, float]  # canary function logical id -> runs a month

    @classmethod
    def of(cls, resources: Resources, hours: float, *, on_schedule: bool) -> Workload:
        """The workload of ``resources`` over a month of ``hours``; ``on_schedule`` applies scale-to-zero."""
        share = running_share(resources, on_schedule=on_schedule)
        services = tuple(TaskService.of(lid, s, resources, share) for lid, s in resources.sorted_of_type(ECS_SERVICE))
        return cls(services=services, canary_runs=canary_runs(resources, hours))

    @property
    def running_tasks(self) -> float:
        """Tasks of every service running on average over the month."""
        return sum((s.running_tasks for s in self.services), 0.0)

    @property
    def public_ip_tasks(self) -> float:
        """Tasks running on average with a public IPv4 address of their own."""
        return sum((s.running_tasks for s in self.services if s.public_ip), 0.0)

    @property
    def total_canary_runs(self) -> float:
        """Runs a month of every canary together."""
        return sum((runs for _, runs in sorted(self.canary_runs.items())), 0.0)
