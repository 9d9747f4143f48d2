"""A scheduled canary that proves traces still travel from the load balancer to X-Ray.

Its alarm fires when delivery fails for ``failed_periods`` runs in a
row, and also when the canary itself stops reporting (missing data counts
as a failure: a canary that is silent proves nothing).
"""

from __future__ import annotations

from typing import cast

from aws_cdk import CfnResource, Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from constructs import Construct

from flask_aws_telemetry_cdk import resource_roles
from flask_aws_telemetry_cdk.compliance import acknowledge
from flask_aws_telemetry_cdk.components.lambda_code import python_function, role_policy

TRACE_DELIVERED_METRIC = "TraceDelivered"
DELIVERY_LATENCY_METRIC = "DeliveryLatency"


class TraceCanary(Construct):
    """An EventBridge schedule, the canary function with X-Ray active tracing, and its alarm."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        service_url: str,
        service_name: str,
        environment_name: str,
        metric_namespace: str,
        alarm_topic: sns.ITopic,
        alarm_name: str,
        rate_minutes: int,
        log_retention_days: int,
        removal_policy: RemovalPolicy,
        wait_seconds: int = 60,
        failed_periods: int = 3,
    ) -> None:
        """Request ``service_url`` every ``rate_minutes``; await its trace in X-Ray ``wait_seconds`` (default 60).

        ``alarm_name`` fires on ``alarm_topic`` after ``failed_periods`` (default 3) runs in a row without the trace.
        """
        super().__init__(scope, construct_id)
        self.function = python_function(
            self,
            "Function",
            code="trace_canary",
            handler="handler.handler",
            timeout=Duration.seconds(wait_seconds + 30),
            description=f"Trace delivery canary for {service_name} in {environment_name}",
            tracing=lambda_.Tracing.ACTIVE,
            environment={
                "SERVICE_URL": service_url,
                "SERVICE_NAME": service_name,
                "ENVIRONMENT": environment_name,
                "METRIC_NAMESPACE": metric_namespace,
                "WAIT_SECONDS": str(wait_seconds),
            },
            log_retention_days=log_retention_days,
            removal_policy=removal_policy,
        )
        # The CDK types every construct's default child loosely; a Function's is its CfnFunction.
        resource_roles.mark(cast(CfnResource, self.function.node.default_child), resource_roles.TRACE_CANARY)
        grant_canary(self.function, metric_namespace=metric_namespace)
        self.schedule = events.Rule(
            self,
            "Schedule",
            schedule=events.Schedule.rate(Duration.minutes(rate_minutes)),
            targets=[targets.LambdaFunction(self.function, retry_attempts=0)],
            description=f"Run the trace canary every {rate_minutes} minutes",
        )
        self.delivered = cloudwatch.Metric(
            namespace=metric_namespace,
            metric_name=TRACE_DELIVERED_METRIC,
            dimensions_map={"Environment": environment_name},
            statistic="Minimum",
            period=Duration.minutes(rate_minutes),
        )
        self.alarm = not_delivered_alarm(
            self, metric=self.delivered, alarm_name=alarm_name, failed_periods=failed_periods, alarm_topic=alarm_topic
        )


def grant_canary(function: lambda_.Function, *, metric_namespace: str) -> None:
    """Let the canary read traces and write its metric, in ``metric_namespace`` only."""
    function.add_to_role_policy(iam.PolicyStatement(actions=["xray:BatchGetTraces"], resources=["*"]))
    function.add_to_role_policy(
        iam.PolicyStatement(
            actions=["cloudwatch:PutMetricData"],
            resources=["*"],
            conditions={"StringEquals": {"cloudwatch:namespace": metric_namespace}},
        )
    )
    acknowledge(
        role_policy(function),
        "AwsSolutions-IAM5[Resource::*]",
        "xray:BatchGetTraces and X-Ray active tracing have no resource-level permissions; "
        "cloudwatch:PutMetricData is limited to the service's namespace by condition.",
    )


def not_delivered_alarm(
    scope: Construct, *, metric: cloudwatch.IMetric, alarm_name: str, failed_periods: int, alarm_topic: sns.ITopic
) -> cloudwatch.Alarm:
    """``alarm_name``: ``metric`` below 1 (or missing) for ``failed_periods`` runs; it tells ``alarm_topic``."""
    alarm = cloudwatch.Alarm(
        scope,
        "NotDeliveredAlarm",
        alarm_name=alarm_name,
        alarm_description="The trace canary's request did not reach X-Ray (or the canary stopped reporting).",
        metric=metric,
        threshold=1,
        comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluation_periods=failed_periods,
        treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
    )
    action = cloudwatch_actions.SnsAction(alarm_topic)
    alarm.add_alarm_action(action)
    alarm.add_ok_action(action)
    return alarm
