"""Roles that GitHub Actions assume through OIDC: no long-lived AWS keys anywhere.

Deployed once per account (``cdk deploy <short_name>-github-deploy-roles -c github_repository=OWNER/REPO``):

* the GitHub OIDC identity provider (native ``AWS::IAM::OIDCProvider``, so no
  Lambda-backed custom resource);
* ``DiffRole``: assumable only by pull-request workflows of the repository;
  it may assume only the CDK bootstrap *lookup* role (read-only), which is
  what ``cdk diff`` needs;
* ``DeployRole``: assumable only by workflow jobs running in the configured
  GitHub environments (dev, staging, prod: where reviewers are required);
  it may assume the CDK bootstrap roles (deploy, file and image publishing,
  lookup) and nothing else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from aws_cdk import Aws, CfnOutput, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from flask_aws_telemetry_cdk.compliance import acknowledge
from flask_aws_telemetry_cdk.config import ConfigError

GITHUB_OIDC_URL = "https://token.actions.githubusercontent.com"
GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
STS_AUDIENCE = "sts.amazonaws.com"
CDK_BOOTSTRAP_QUALIFIER = "hnb659fds"
BOOTSTRAP_ROLES = ("deploy-role", "file-publishing-role", "image-publishing-role", "lookup-role")
_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_ENVIRONMENT = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class GitHubDeployConfig:
    """Which repository, and which of its GitHub environments, may deploy."""

    repository: str
    environments: tuple[str, ...] = ("dev", "staging", "prod")
    qualifier: str = CDK_BOOTSTRAP_QUALIFIER

    def __post_init__(self) -> None:
        """Reject a repository or environment name GitHub would never put in a token."""
        if not _REPOSITORY.match(self.repository):
            raise ConfigError(
                f"github_repository = {self.repository!r} is invalid; "
                "use OWNER/REPO, for example -c github_repository=acme/orders"
            )
        for name in self.environments:
            if not _ENVIRONMENT.match(name):
                raise ConfigError(f"github environment {name!r} is invalid; use letters, digits, '-' or '_'")

    @property
    def pull_request_subject(self) -> str:
        """The OIDC ``sub`` of a pull-request workflow."""
        return f"repo:{self.repository}:pull_request"

    @property
    def environment_subjects(self) -> list[str]:
        """The OIDC ``sub`` of a job running in each GitHub environment."""
        return [f"repo:{self.repository}:environment:{name}" for name in self.environments]


def _bootstrap_role_arn(qualifier: str, role: str) -> str:
    return f"arn:{Aws.PARTITION}:iam::{Aws.ACCOUNT_ID}:role/cdk-{qualifier}-{role}-{Aws.ACCOUNT_ID}-*"


class GitHubDeployRolesStack(Stack):
    """The OIDC provider and the diff and deploy roles for one repository."""

    def __init__(self, scope: Construct, construct_id: str, *, github: GitHubDeployConfig, **kwargs: Any) -> None:
        """Create the provider and both roles for ``github.repository``."""
        super().__init__(scope, construct_id, **kwargs)
        provider = iam.CfnOIDCProvider(self, "GitHubOidcProvider", url=GITHUB_OIDC_URL, client_id_list=[STS_AUDIENCE])

        def principal(subjects: list[str]) -> iam.IPrincipal:
            return iam.WebIdentityPrincipal(
                provider.attr_arn,
                conditions={
                    "StringEquals": {
                        f"{GITHUB_OIDC_HOST}:aud": STS_AUDIENCE,
                        f"{GITHUB_OIDC_HOST}:sub": subjects,
                    }
                },
            )

        self.diff_role = iam.Role(
            self,
            "DiffRole",
            assumed_by=principal([github.pull_request_subject]),
            description=f"cdk diff from pull requests of {github.repository}",
        )
        self.diff_role.add_to_policy(
            iam.PolicyStatement(
                actions=["sts:AssumeRole"], resources=[_bootstrap_role_arn(github.qualifier, "lookup-role")]
            )
        )
        self.deploy_role = iam.Role(
            self,
            "DeployRole",
            assumed_by=principal(github.environment_subjects),
            description=f"cdk deploy from the GitHub environments of {github.repository}",
        )
        self.deploy_role.add_to_policy(
            iam.PolicyStatement(
                actions=["sts:AssumeRole"],
                resources=[_bootstrap_role_arn(github.qualifier, role) for role in BOOTSTRAP_ROLES],
            )
        )
        for role, bootstrap_roles in ((self.diff_role, ("lookup-role",)), (self.deploy_role, BOOTSTRAP_ROLES)):
            policy = role.node.find_child("DefaultPolicy").node.default_child
            for bootstrap_role in bootstrap_roles:
                acknowledge(
                    policy,
                    "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:role/"
                    f"cdk-{github.qualifier}-{bootstrap_role}-<AWS::AccountId>-*]",
                    "A CDK bootstrap role's name ends in its region; the wildcard covers that role in the regions "
                    "this account is bootstrapped in, and no other role.",
                )
        CfnOutput(self, "DiffRoleArn", value=self.diff_role.role_arn)
        CfnOutput(self, "DeployRoleArn", value=self.deploy_role.role_arn)
