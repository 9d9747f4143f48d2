"""A custom resource that fails the deploy early when a SecureString the task needs is missing.

It runs before the ECS service is created or updated (the service depends on
it), and again whenever the task definition changes. Its function may call
``ssm:DescribeParameters`` (metadata only; the action has no resource-level
permissions) and nothing that reads or decrypts a value.
"""

from __future__ import annotations

from typing import cast

from aws_cdk import CfnElement, CustomResource, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import custom_resources as cr
from constructs import Construct

from flask_aws_telemetry_cdk.compliance import acknowledge
from flask_aws_telemetry_cdk.components.lambda_code import python_function, role_policy
from flask_aws_telemetry_cdk.components.log_groups import retained_log_group


class SecretsPreflight(Construct):
    """Checks that each named SecureString parameter exists before the service deploys."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        parameter_names: list[str],
        rerun_when: str,
        environment_name: str,
        service_name: str,
        log_retention_days: int,
        removal_policy: RemovalPolicy,
    ) -> None:
        """Check ``parameter_names``; run again whenever ``rerun_when`` (a token) changes.

        A missing parameter fails the deploy with ``make secrets ENV=<environment_name>`` as the fix.
        """
        super().__init__(scope, construct_id)
        self.function = python_function(
            self,
            "Handler",
            code="secrets_preflight",
            handler="handler.on_event",
            timeout=Duration.seconds(30),
            description=f"Secrets preflight for {service_name} in {environment_name}",
            log_retention_days=log_retention_days,
            removal_policy=removal_policy,
        )
        self.function.add_to_role_policy(iam.PolicyStatement(actions=["ssm:DescribeParameters"], resources=["*"]))
        acknowledge(
            role_policy(self.function),
            "AwsSolutions-IAM5[Resource::*]",
            "ssm:DescribeParameters has no resource-level permissions; it returns metadata only, never values, "
            "and the role has no ssm:GetParameter* or kms:Decrypt.",
        )
        self.provider = cr.Provider(
            self,
            "Provider",
            on_event_handler=self.function,
            log_group=retained_log_group(
                self, "ProviderLogGroup", retention_days=log_retention_days, removal_policy=removal_policy
            ),
        )
        acknowledge_provider_framework(self.provider, handler=self.function)
        self.resource = CustomResource(
            self,
            "Check",
            service_token=self.provider.service_token,
            resource_type="Custom::SecretsPreflight",
            properties={
                "ParameterNames": parameter_names,
                "FixCommand": f"make secrets ENV={environment_name}",
                "Environment": environment_name,
                "RerunWhen": rerun_when,
            },
        )


def acknowledge_provider_framework(provider: cr.Provider, *, handler: lambda_.IFunction) -> None:
    """cdk-nag findings on the CDK provider framework's own function, which may invoke only ``handler``."""
    framework = provider.node.find_child("framework-onEvent")
    acknowledge(
        framework.node.find_child("ServiceRole").node.default_child,
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
        "The CDK provider framework's own function uses the AWS-managed basic execution role; it only writes "
        "its logs to the log group given to the provider.",
    )
    stack = Stack.of(provider)
    # The CDK types every construct's default child loosely; a Function's is its CfnFunction.
    handler_logical_id = stack.resolve(stack.get_logical_id(cast(CfnElement, handler.node.default_child)))
    acknowledge(
        framework.node.find_child("ServiceRole").node.find_child("DefaultPolicy").node.default_child,
        f"AwsSolutions-IAM5[Resource::<{handler_logical_id}.Arn>:*]",
        "The provider framework may invoke every version of the preflight handler (ARN:*), and nothing else.",
    )
