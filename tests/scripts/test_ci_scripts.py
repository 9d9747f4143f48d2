"""The scripts the workflows call: nag annotations and the destroy inventory."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from scripts import nag_annotations, stack_inventory


def test_violations_become_one_annotation_per_construct():
    """Each violating construct gets an ::error line naming the rule and the path."""
    report = {
        "pluginReports": [
            {
                "pluginName": "AwsSolutions",
                "violations": [
                    {
                        "ruleName": "AwsSolutions-SNS3",
                        "description": "The SNS Topic does not require SSL.\nSecond line",
                        "severity": "error",
                        "violatingConstructs": [
                            {"constructPath": "stack/Topic/Resource"},
                            {"constructPath": "stack/Other"},
                        ],
                    }
                ],
            }
        ]
    }
    lines = nag_annotations.annotations(report)
    assert lines == [
        "::error title=AwsSolutions-SNS3 (AwsSolutions)::"
        "stack/Topic/Resource: The SNS Topic does not require SSL.%0ASecond line",
        "::error title=AwsSolutions-SNS3 (AwsSolutions)::"
        "stack/Other: The SNS Topic does not require SSL.%0ASecond line",
    ]


def test_a_clean_report_prints_nothing(tmp_path, capsys):
    """No finding, no annotation."""
    (tmp_path / "validation-report.json").write_text(json.dumps({"pluginReports": []}))
    assert nag_annotations.main([str(tmp_path)]) == 0
    assert capsys.readouterr().out == ""


TEMPLATE = {
    "Resources": {
        "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "/kept/app", "RetentionInDays": 7}},
        "Topic": {"Type": "AWS::SNS::Topic"},
    }
}


@pytest.fixture
def aws(fake_aws_credentials):
    """moto with fake credentials."""
    with mock_aws():
        yield boto3.client("cloudformation", region_name="us-east-1"), boto3.client("logs", region_name="us-east-1")


def test_inventory_and_report_of_a_destroy(aws):
    """Before lists the stack's resources; after destroy the report names the removed stack and counts."""
    cloudformation, logs = aws
    cloudformation.create_stack(StackName="cruddur-dev-service", TemplateBody=json.dumps(TEMPLATE))
    before = stack_inventory.inventory("dev", cloudformation, logs)
    assert set(before["stacks"]) == {"cruddur-dev-service"}
    assert before["existing_log_groups"] == ["/kept/app"]
    cloudformation.delete_stack(StackName="cruddur-dev-service")
    after = stack_inventory.inventory("dev", cloudformation, logs)
    assert after["stacks"] == {}
    text = stack_inventory.report(before, after, logs)
    assert "removed **cruddur-dev-service**: 1 AWS::Logs::LogGroup, 1 AWS::SNS::Topic" in text
    assert "Log groups kept" not in text  # moto deleted it, as dev's removal policy does


def test_report_names_retained_log_groups(aws):
    """A log group that outlives its stack (prod) is reported as kept."""
    cloudformation, logs = aws
    logs.create_log_group(logGroupName="/prod/app")
    before = {
        "environment": "prod",
        "stacks": {
            "cruddur-prod-service": [{"type": "AWS::Logs::LogGroup", "logical_id": "L", "physical_id": "/prod/app"}]
        },
        "existing_log_groups": ["/prod/app"],
    }
    after = {"environment": "prod", "stacks": {}, "existing_log_groups": []}
    assert "Log groups kept (RemovalPolicy.RETAIN): `/prod/app`" in stack_inventory.report(before, after, logs)
