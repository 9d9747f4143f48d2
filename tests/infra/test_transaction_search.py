"""The account's Transaction Search stack: what X-Ray may write, what it indexes, and that it passes every gate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aws_cdk import App
from cfnlint.api import lint_all

from flask_aws_telemetry_cdk.assembly import project_context
from flask_aws_telemetry_cdk.compliance import apply_compliance_checks
from flask_aws_telemetry_cdk.config import ConfigError, FieldError, TransactionSearchConfig
from flask_aws_telemetry_cdk.transaction_search_stack import TransactionSearchStack
from tests.infra.test_checkov import _failed_checks

PSEUDO = {"AWS::Partition": "aws", "AWS::Region": "eu-west-1", "AWS::AccountId": "123456789012"}


def _synthesize(outdir: Path, settings: TransactionSearchConfig) -> dict:
    app = App(outdir=str(outdir), context=project_context())
    stack = TransactionSearchStack(
        app, "cruddur-transaction-search", settings=settings, policy_name="cruddur-transaction-search"
    )
    apply_compliance_checks(app)  # an unacknowledged cdk-nag finding fails here
    assembly = app.synth()
    return json.loads(Path(assembly.get_stack_by_name(stack.stack_name).template_full_path).read_text())


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory) -> tuple[Path, dict]:
    """The stack at the default share, synthesized with the compliance checks."""
    outdir = tmp_path_factory.mktemp("transaction-search")
    return outdir, _synthesize(outdir, TransactionSearchConfig())


def _one(template: dict, resource_type: str) -> tuple[str, dict]:
    (found,) = [(lid, r) for lid, r in template["Resources"].items() if r["Type"] == resource_type]
    return found


def _rendered(value) -> str:
    """A string, or an Fn::Join of strings and pseudo-parameter Refs, as CloudFormation would render it in PSEUDO's
    account.
    """
    if isinstance(value, str):
        return value
    separator, parts = value["Fn::Join"]
    return separator.join(part if isinstance(part, str) else PSEUDO[part["Ref"]] for part in parts)


def test_x_ray_may_put_log_events_into_its_span_log_groups_only(synthesized):
    """One statement: xray.amazonaws.com, logs:PutLogEvents, aws/spans and the Application Signals group, this
    account's X-Ray.
    """
    _, template = synthesized
    _, policy = _one(template, "AWS::Logs::ResourcePolicy")
    assert policy["Properties"]["PolicyName"] == "cruddur-transaction-search"
    document = json.loads(_rendered(policy["Properties"]["PolicyDocument"]))
    (statement,) = document["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "xray.amazonaws.com"}
    assert statement["Action"] == "logs:PutLogEvents"
    assert statement["Resource"] == [
        "arn:aws:logs:eu-west-1:123456789012:log-group:aws/spans:*",
        "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/application-signals/data:*",
    ]
    assert statement["Condition"] == {
        "ArnLike": {"aws:SourceArn": "arn:aws:xray:eu-west-1:123456789012:*"},
        "StringEquals": {"aws:SourceAccount": "123456789012"},
    }


def test_transaction_search_is_turned_on_after_the_policy_at_the_free_share(synthesized):
    """AWS::XRay::TransactionSearchConfig indexes 1 % by default and waits for the resource policy."""
    _, template = synthesized
    policy_id, _ = _one(template, "AWS::Logs::ResourcePolicy")
    _, config = _one(template, "AWS::XRay::TransactionSearchConfig")
    assert config["Properties"] == {"IndexingPercentage": 1}
    assert config["DependsOn"] == [policy_id]
    assert template["Outputs"]["IndexingPercentage"]["Value"] == "1"
    assert {r["Type"] for r in template["Resources"].values()} == {
        "AWS::Logs::ResourcePolicy",
        "AWS::XRay::TransactionSearchConfig",
    }


def test_the_configured_share_is_the_one_deployed(tmp_path):
    """Given indexing_percentage=25, the template indexes 25 %."""
    template = _synthesize(tmp_path, TransactionSearchConfig(indexing_percentage=25))
    _, config = _one(template, "AWS::XRay::TransactionSearchConfig")
    assert config["Properties"] == {"IndexingPercentage": 25}


# Regions whose CloudFormation has no AWS::XRay::TransactionSearchConfig, as cfn-lint's schemas say (E3006):
# the stack cannot be deployed there; everywhere else it lints clean.
REGIONS_WITHOUT_TRANSACTION_SEARCH = {"ap-east-2", "ap-southeast-6", "cn-north-1", "cn-northwest-1", "mx-central-1"}


def test_cfn_lint_finds_no_error(synthesized):
    """E-rules fail, as for every environment's templates, in every region that has the resource type."""
    _, template = synthesized
    errors = [m for m in lint_all(json.dumps(template)) if m.rule.id.startswith("E")]
    missing = "Resource type 'AWS::XRay::TransactionSearchConfig' does not exist in "
    absent_in = {
        m.message.removeprefix(missing).strip("'")
        for m in errors
        if m.rule.id == "E3006" and m.message.startswith(missing)
    }
    assert absent_in <= REGIONS_WITHOUT_TRANSACTION_SEARCH
    other = [f"{m.rule.id} {m.message}" for m in errors if not (m.rule.id == "E3006" and m.message.startswith(missing))]
    assert other == []


def test_cdk_nag_ran_and_found_nothing(synthesized):
    """AwsSolutionsChecks validated the stack at synth (an unacknowledged finding would have failed it) and reported
    none.
    """
    outdir, _ = synthesized
    report = json.loads((outdir / "validation-report.json").read_text())
    assert [violation for plugin in report["pluginReports"] for violation in plugin.get("violations", [])] == []


def test_checkov_fails_no_check(synthesized):
    """No checkov check fails on the account stack (none applies to its two resources; nothing to accept)."""
    outdir, _ = synthesized
    assert _failed_checks([outdir]) == {}


@pytest.mark.parametrize("value", [-1, 100.5, 1000, "ten", None, True])
def test_the_indexing_percentage_is_checked(value):
    """Anything but a number from 0 to 100 names the field, the value and the range."""
    with pytest.raises(FieldError) as error:
        TransactionSearchConfig(indexing_percentage=value)
    assert str(error.value) == (
        f"transaction_search.indexing_percentage = {value!r} is invalid; "
        "use a percentage from 0 to 100 (the first 1 % is indexed free)."
    )


@pytest.mark.parametrize(("context", "expected"), [(None, 1.0), ("0", 0.0), ("12.5", 12.5), (100, 100)])
def test_the_percentage_is_read_from_the_cli_context(context, expected):
    """-c transaction_search_indexing_percentage=N arrives as a string; left out, the free 1 %."""
    assert TransactionSearchConfig.from_context(context).indexing_percentage == expected


def test_a_context_value_that_is_no_number_is_refused():
    """-c transaction_search_indexing_percentage=all names the value."""
    with pytest.raises(ConfigError, match=r"transaction_search.indexing_percentage = 'all' is invalid"):
        TransactionSearchConfig.from_context("all")
