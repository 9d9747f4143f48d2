"""The GitHub OIDC roles: only the repository's pull requests may diff, only its environments may deploy."""

from __future__ import annotations

import json

import pytest
from aws_cdk import App

from flask_aws_telemetry_cdk.assembly import project_context
from flask_aws_telemetry_cdk.compliance import apply_compliance_checks
from flask_aws_telemetry_cdk.config import ConfigError
from flask_aws_telemetry_cdk.github_deploy_roles import BOOTSTRAP_ROLES, GitHubDeployConfig, GitHubDeployRolesStack
from testsupport.templates import joined


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> dict:
    """The roles stack for acme/cruddur, synthesized with the compliance checks."""
    outdir = tmp_path_factory.mktemp("github-roles")
    app = App(outdir=str(outdir), context=project_context())
    stack = GitHubDeployRolesStack(app, "roles", github=GitHubDeployConfig(repository="acme/cruddur"))
    apply_compliance_checks(app)
    assembly = app.synth()
    return json.loads(open(assembly.get_stack_by_name(stack.stack_name).template_full_path).read())


def _of_type(template, kind):
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def test_the_github_oidc_provider_is_native(template):
    """AWS::IAM::OIDCProvider for token.actions.githubusercontent.com with the STS audience; no Lambda."""
    (provider,) = _of_type(template, "AWS::IAM::OIDCProvider").values()
    assert provider["Properties"]["Url"] == "https://token.actions.githubusercontent.com"
    assert provider["Properties"]["ClientIdList"] == ["sts.amazonaws.com"]
    assert _of_type(template, "AWS::Lambda::Function") == {}


def _trust(template, prefix):
    role = next(r for k, r in _of_type(template, "AWS::IAM::Role").items() if k.startswith(prefix))
    (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    return statement["Condition"]["StringEquals"]


def test_only_pull_requests_of_the_repository_may_diff(template):
    """The diff role's subject is exactly the repository's pull_request subject."""
    condition = _trust(template, "DiffRole")
    assert condition["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com"
    assert condition["token.actions.githubusercontent.com:sub"] == ["repo:acme/cruddur:pull_request"]


def test_only_the_repositorys_environments_may_deploy(template):
    """The deploy role trusts jobs in the dev, staging and prod environments, not branches or pull requests."""
    condition = _trust(template, "DeployRole")
    assert condition["token.actions.githubusercontent.com:sub"] == [
        "repo:acme/cruddur:environment:dev",
        "repo:acme/cruddur:environment:staging",
        "repo:acme/cruddur:environment:prod",
    ]


def _assumable(template, prefix) -> list[str]:
    policy = next(p for k, p in _of_type(template, "AWS::IAM::Policy").items() if k.startswith(prefix))
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Action"] == "sts:AssumeRole"
    resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
    return [joined(r) for r in resources]


def test_the_roles_may_assume_only_cdk_bootstrap_roles(template):
    """Diff: the lookup role. Deploy: the four bootstrap roles. Nothing else."""
    assert [arn.split(":role/")[1] for arn in _assumable(template, "DiffRole")] == [
        "cdk-hnb659fds-lookup-role-<token>-*"
    ]
    assert sorted(arn.split(":role/")[1] for arn in _assumable(template, "DeployRole")) == sorted(
        f"cdk-hnb659fds-{role}-<token>-*" for role in BOOTSTRAP_ROLES
    )


@pytest.mark.parametrize("repository", ["cruddur", "acme/", "acme/cruddur/extra", "acme cruddur"])
def test_a_malformed_repository_is_named(repository):
    """-c github_repository must be OWNER/REPO."""
    with pytest.raises(ConfigError, match="use OWNER/REPO"):
        GitHubDeployConfig(repository=repository)
