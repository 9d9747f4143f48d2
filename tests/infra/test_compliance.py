"""cdk-nag AwsSolutions: no unacknowledged finding; every acknowledgement is narrow and has a reason."""

from __future__ import annotations

import json

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_sns as sns

from flask_aws_telemetry_cdk.compliance import acknowledge, apply_compliance_checks

# Each deliberate finding, and the one resource type it may sit on.
COMMON_ACKNOWLEDGEMENTS = {
    ("AwsSolutions-ECS2", "AWS::ECS::TaskDefinition"),
    ("AwsSolutions-IAM5[Resource::*]", "AWS::IAM::Policy"),
    (
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
        "AWS::IAM::Role",
    ),
}
LOAD_BALANCER_ENTRY = {("AwsSolutions-EC23", "AWS::EC2::SecurityGroup")}
WITHOUT_ACCESS_LOGS = {("AwsSolutions-ELB2", "AWS::ElasticLoadBalancingV2::LoadBalancer")}
WITH_ACCESS_LOGS = {("AwsSolutions-S1", "AWS::S3::Bucket")}
HTTP_API_ENTRY = {("AwsSolutions-APIG4", "AWS::ApiGatewayV2::Route")}
WITHOUT_CONTAINER_INSIGHTS = {("AwsSolutions-ECS4", "AWS::ECS::Cluster")}
EXPECTED_ACKNOWLEDGEMENTS = {
    "dev": COMMON_ACKNOWLEDGEMENTS | HTTP_API_ENTRY | WITHOUT_CONTAINER_INSIGHTS,
    "staging": COMMON_ACKNOWLEDGEMENTS | LOAD_BALANCER_ENTRY | WITHOUT_ACCESS_LOGS,
    "prod": COMMON_ACKNOWLEDGEMENTS | LOAD_BALANCER_ENTRY | WITH_ACCESS_LOGS,
}
EXPECTED_FRAMEWORK_INVOKE = "AwsSolutions-IAM5[Resource::<SecretsPreflightHandler"
# The task role queries the table's indexes: "<table>.Arn>/index/*", that one table's only.
EXPECTED_TABLE_INDEXES = ("AwsSolutions-IAM5[Resource::<Table", ".Arn>/index/*]")


def test_every_environment_passes_with_only_the_expected_acknowledgements(any_env):
    """Synthesis succeeded (the fixture), and the acknowledged findings are exactly the known ones."""
    found = set()
    count = 0
    for template in any_env.templates.values():
        for resource in template["Resources"].values():
            for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", []):
                if not rule["id"].startswith("AwsSolutions-"):
                    continue  # aws-cdk-lib's own acknowledgements for its built-in template validator
                assert len(rule["reason"]) > 40, rule
                if rule["id"].startswith(EXPECTED_FRAMEWORK_INVOKE):
                    continue  # the provider framework may invoke the preflight handler's versions
                if rule["id"].startswith(EXPECTED_TABLE_INDEXES[0]) and rule["id"].endswith(EXPECTED_TABLE_INDEXES[1]):
                    found.add(("table indexes", resource["Type"]))
                    continue
                found.add((rule["id"], resource["Type"]))
                count += 1
    # dev has no point-in-time recovery, by design (its demo data is seeded again)
    without_recovery = (
        set()
        if any_env.config.table is None or any_env.config.table.point_in_time_recovery
        else {("AwsSolutions-DDB3", "AWS::DynamoDB::Table")}
    )
    assert (
        found
        == EXPECTED_ACKNOWLEDGEMENTS[any_env.config.name] | {("table indexes", "AWS::IAM::Policy")} | without_recovery
    )
    # IAM5[Resource::*]: task role, execution role, preflight role, and the canary's role where it runs; DDB3 in dev
    assert count == 7 + (1 if any_env.config.canary is not None else 0) + len(without_recovery)


REASON = "a test acknowledgement with a long enough reason"


def _app_with_topic(tmp_path, acknowledged: bool) -> App:
    app = App(outdir=str(tmp_path))
    stack = Stack(app, "NagProbe")
    topic = sns.Topic(stack, "Topic")  # no enforce_ssl: AwsSolutions-SNS3
    if acknowledged:
        acknowledge(topic.node.default_child, "AwsSolutions-SNS3", REASON)
    apply_compliance_checks(app)
    return app


def _violations(tmp_path) -> list[tuple[str, str]]:
    """(rule, construct path) of every violation in the assembly's validation report."""
    report = json.loads((tmp_path / "validation-report.json").read_text())
    return [
        (violation["ruleName"], construct["constructPath"])
        for plugin in report["pluginReports"]
        for violation in plugin["violations"]
        for construct in violation["violatingConstructs"]
    ]


def test_an_unacknowledged_finding_fails_synthesis(tmp_path):
    """Given a topic that allows plain HTTP and no acknowledgement, synthesis fails and the report names the rule and
    the topic.
    """
    with pytest.raises(Exception, match="ValidationFailed(.|\n)*AwsSolutions-SNS3"):
        _app_with_topic(tmp_path, acknowledged=False).synth()
    assert _violations(tmp_path) == [("AwsSolutions-SNS3", "NagProbe/Topic/Resource")]


def test_an_acknowledged_finding_passes(tmp_path):
    """The same topic with an acknowledgement synthesizes: no violation, and the template records the rule with its
    reason.
    """
    template = _app_with_topic(tmp_path, acknowledged=True).synth().get_stack_by_name("NagProbe").template
    assert _violations(tmp_path) == []
    (topic,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::SNS::Topic"]
    assert topic["Metadata"]["cdk_nag"]["rules_to_suppress"] == [{"id": "AwsSolutions-SNS3", "reason": REASON}]
