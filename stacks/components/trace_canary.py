"""A scheduled canary that proves traces still travel from the load balancer to X-Ray.

Its alarm fires when delivery fails for ``canary_failed_periods`` runs in a
row, and also when the canary itself stops reporting (missing data counts
as a failure: a canary that is silent proves nothing).
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from constructs import Construct

from stacks import resource_roles
from stacks.compliance import acknowledge
from stacks.components.lambda_code import python_function, role_policy
from stacks.config import EnvironmentConfig

TRACE_DELIVERED_METRIC = "TraceDelivered"
DELIVERY_LATENCY_METRIC = "DeliveryLatency"


def canary_namespace(config: EnvironmentConfig) -> str:
    """The CloudWatch namespace of the service's own metrics."""
    return f"{config.service_name}/{config.name}"


class TraceCanary(Construct):
    """An EventBridge schedule, the canary function with X-Ray active tracing, and its alarm."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        service_url: str,
        alarm_topic: sns.ITopic,
    ) -> None:
        """Check ``service_url`` every ``config.canary_rate_minutes`` minutes."""
        super().__init__(scope, construct_id)
        if config.canary_rate_minutes is None:
            raise ValueError(f"environment '{config.name}': the canary is off (canary_rate_minutes is None)")
        namespace = canary_namespace(config)
        self.function = python_function(
            self,
            "Function",
            config=config,
            code="trace_canary",
            handler="handler.handler",
            timeout=Duration.seconds(config.canary_wait_seconds + 30),
            description=f"Trace delivery canary for {config.service_name} in {config.name}",
            tracing=lambda_.Tracing.ACTIVE,
            environment={
                "SERVICE_URL": service_url,
                "SERVICE_NAME": config.service_name,
                "ENVIRONMENT": config.name,
                "METRIC_NAMESPACE": namespace,
                "WAIT_SECONDS": str(config.canary_wait_seconds),
            },
        )
        resource_roles.mark(self.function.node.default_child, resource_roles.TRACE_CANARY)
        self.function.add_to_role_policy(iam.PolicyStatement(actions=["xray:BatchGetTraces"], resources=["*"]))
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": namespace}},
            )
        )
        acknowledge(
            role_policy(self.function),
            "AwsSolutions-IAM5[Resource::*]",
            "xray:BatchGetTraces and X-Ray active tracing have no resource-level permissions; "
            "cloudwatch:PutMetricData is limited to the service's namespace by condition.",
        )
        self.schedule = events.Rule(
            self,
            "Schedule",
            schedule=events.Schedule.rate(Duration.minutes(config.canary_rate_minutes)),
            targets=[targets.LambdaFunction(self.function, retry_attempts=0)],
            description=f"Run the trace canary every {config.canary_rate_minutes} minutes",
        )
        self.delivered = cloudwatch.Metric(
            namespace=namespace,
            metric_name=TRACE_DELIVERED_METRIC,
            dimensions_map={"Environment": config.name},
            statistic="Minimum",
            period=Duration.minutes(config.canary_rate_minutes),
        )
        self.alarm = cloudwatch.Alarm(
            self,
            "NotDeliveredAlarm",
            alarm_name=f"{config.resource_prefix}-TraceNotDelivered",
            alarm_description="The trace canary's request did not reach X-Ray (or the canary stopped reporting).",
            metric=self.delivered,
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            evaluation_periods=config.canary_failed_periods,
            treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
        )
        action = cloudwatch_actions.SnsAction(alarm_topic)
        self.alarm.add_alarm_action(action)
        self.alarm.add_ok_action(action)
