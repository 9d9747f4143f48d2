"""How many tasks run: CPU target tracking, requests per target behind a load balancer, and the night schedule."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from constructs import Construct

from flask_aws_telemetry_cdk.models.fargate import ScaleToZeroSchedule


@dataclass(frozen=True)
class RequestCountScaling:
    """Scale on ``target_group``'s requests per task per minute (``requests_per_target_per_minute``, default 1000)."""

    target_group: elbv2.ApplicationTargetGroup
    requests_per_target_per_minute: int = 1000


class ServiceAutoscaling(Construct):
    """Target tracking on ``service``'s CPU and, when given, on its requests; ``scaling`` is the scalable target.

    The scalable target and its policies are the service's children (CDK's
    ``auto_scale_task_count``), so their logical ids follow the service.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        service: ecs.BaseService,
        min_capacity: int = 1,
        max_capacity: int = 2,
        cpu_target_percent: int = 60,
        requests: RequestCountScaling | None = None,
        scale_to_zero: ScaleToZeroSchedule | None = None,
    ) -> None:
        """Keep ``min_capacity`` (default 1) to ``max_capacity`` (default 2) tasks.

        CPU is kept near ``cpu_target_percent`` (default 60).

        ``requests`` (default none) adds request-count tracking; ``scale_to_zero``
        (default none) stops every task outside its hours and restores the bounds after.
        """
        super().__init__(scope, construct_id)
        self.scaling = service.auto_scale_task_count(min_capacity=min_capacity, max_capacity=max_capacity)
        self.scaling.scale_on_cpu_utilization("CpuScaling", target_utilization_percent=cpu_target_percent)
        if requests is not None:
            self.scaling.scale_on_request_count(
                "RequestScaling",
                requests_per_target=requests.requests_per_target_per_minute,
                target_group=requests.target_group,
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
