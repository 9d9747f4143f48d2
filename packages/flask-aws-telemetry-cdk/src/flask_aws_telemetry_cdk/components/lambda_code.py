"""Python Lambda functions as this project builds them: code from lambda_functions/, own role, own log group."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from flask_aws_telemetry_cdk.components.log_groups import retained_log_group

LAMBDA_ROOT = Path(__file__).resolve().parents[1] / "lambda_functions"
# The newest Python runtime this aws-cdk-lib knows (cdk-nag AwsSolutions-L1).
RUNTIME = lambda_.Runtime.PYTHON_3_14


def function_code(name: str) -> lambda_.Code:
    """``lambda_functions/<name>/`` as an asset, without Docker bundling (the handlers need only boto3)."""
    return lambda_.Code.from_asset(str(LAMBDA_ROOT / name), exclude=["__pycache__", "*.pyc"])


def python_function(
    scope: Construct,
    construct_id: str,
    *,
    code: str,
    handler: str,
    timeout: Duration,
    description: str,
    log_retention_days: int,
    removal_policy: RemovalPolicy,
    **function_options: Any,
) -> lambda_.Function:
    """A function running ``lambda_functions/<code>/``: a role of its own (no managed policy), a retained log group.

    Add permissions with ``function.add_to_role_policy``.
    """
    log_group = retained_log_group(
        scope, f"{construct_id}LogGroup", retention_days=log_retention_days, removal_policy=removal_policy
    )
    role = iam.Role(scope, f"{construct_id}Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    log_group.grant_write(role)
    return lambda_.Function(
        scope,
        construct_id,
        runtime=RUNTIME,
        handler=handler,
        code=function_code(code),
        timeout=timeout,
        memory_size=128,
        role=role,
        log_group=log_group,
        description=description,
        **function_options,
    )


def role_policy(function: lambda_.Function) -> Any:
    """The CloudFormation policy resource of ``function``'s role (where cdk-nag findings are acknowledged)."""
    role = function.role
    if role is None:
        raise ValueError(f"{function.node.path} has no role: its cdk-nag findings have nowhere to be acknowledged")
    return role.node.find_child("DefaultPolicy").node.default_child
