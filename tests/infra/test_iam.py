"""Least privilege for the task role and the execution role."""

from __future__ import annotations

from cruddur.table import SERVICE_ACTIONS
from flask_aws_telemetry_cdk.components.task_definition import XRAY_DAEMON_ACTIONS, XRAY_OTLP_ACTIONS, xray_actions
from testsupport import templates


def _as_list(value):
    return value if isinstance(value, list) else [value]


def test_task_role_may_write_xray_use_the_table_and_no_logs(any_env):
    """X-Ray write and sampling actions, the service's DynamoDB actions on its table and that table's indexes only,
    and no CloudWatch Logs action: the awslogs driver ships the log lines."""
    statements = templates.policy_statements(any_env, "TaskRole")
    by_action = {tuple(sorted(_as_list(s["Action"]))): s["Resource"] for s in statements}
    assert by_action[tuple(sorted(xray_actions(any_env.config.telemetry.collector_xray)))] == "*"
    (table,) = any_env.resources("service", "AWS::DynamoDB::Table")
    table_arn = {"Fn::GetAtt": [table, "Arn"]}
    assert by_action[tuple(sorted(SERVICE_ACTIONS))] == [table_arn, {"Fn::Join": ["", [table_arn, "/index/*"]]}]
    assert not [a for s in statements for a in _as_list(s["Action"]) if a.startswith("logs:")]
    assert len(statements) == 2


def test_task_role_may_write_xray_the_table_and_only_the_watchtower_group(staging_tls):
    """With watchtower on: CreateLogStream/PutLogEvents on the watchtower group only, beside X-Ray and the table."""
    any_env = staging_tls
    statements = templates.policy_statements(any_env, "TaskRole")
    by_action = {tuple(sorted(_as_list(s["Action"]))): s["Resource"] for s in statements}
    assert by_action[tuple(sorted(XRAY_DAEMON_ACTIONS))] == "*"
    watchtower_group = next(lid for lid in any_env.resources("service", "AWS::Logs::LogGroup") if "Watchtower" in lid)
    assert by_action[("logs:CreateLogStream", "logs:PutLogEvents")] == {"Fn::GetAtt": [watchtower_group, "Arn"]}
    (table,) = any_env.resources("service", "AWS::DynamoDB::Table")
    table_arn = {"Fn::GetAtt": [table, "Arn"]}
    assert by_action[tuple(sorted(SERVICE_ACTIONS))] == [table_arn, {"Fn::Join": ["", [table_arn, "/index/*"]]}]
    assert len(statements) == 3


def test_execution_role_reads_exactly_the_three_parameters(any_env):
    """ssm:GetParameters only, on the collector config and the two secrets, by exact ARN."""
    statements = templates.policy_statements(any_env, "ExecutionRole")
    ssm = [s for s in statements if any(a.startswith("ssm:") for a in _as_list(s["Action"]))]
    assert len(ssm) == 1
    assert ssm[0]["Action"] == "ssm:GetParameters"
    resources = [r["Fn::Join"][1][-1] for r in ssm[0]["Resource"]]
    path = any_env.config.parameter_path
    assert sorted(resources) == sorted(
        f":parameter{path}/{name}" for name in ("HONEYCOMB_API_KEY", "ROLLBAR_ACCESS_TOKEN", "otel-collector-config")
    )


def test_wildcard_resources_only_where_aws_offers_nothing_narrower(any_env):
    """'*' appears only for actions without resource-level permissions (X-Ray, ECR auth, SSM metadata, metrics)."""
    allowed = (
        set(XRAY_DAEMON_ACTIONS)
        | set(XRAY_OTLP_ACTIONS)
        | {
            "ecr:GetAuthorizationToken",
            "ssm:DescribeParameters",
            "xray:BatchGetTraces",
            "cloudwatch:PutMetricData",
        }
    )
    for policy in any_env.all_resources("AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Resource"] == "*" or "*" in _as_list(statement["Resource"]):
                actions = set(_as_list(statement["Action"]))
                assert actions <= allowed, statement
                if "cloudwatch:PutMetricData" in actions:
                    assert list(statement["Condition"]["StringEquals"]) == ["cloudwatch:namespace"], statement
