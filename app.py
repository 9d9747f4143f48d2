#!/usr/bin/env python3
"""CDK entry point: synthesize the stacks of one environment.

    cdk synth -c env=dev|staging|prod|all [-c image_uri=REGISTRY/IMAGE:TAG] [-c revision=GIT_SHA]
              [-c secrets_preflight=false]
    cdk deploy cruddur-github-deploy-roles -c github_repository=OWNER/REPO   (once per account)
    cdk deploy cruddur-transaction-search -c transaction_search=true [-c transaction_search_indexing_percentage=N]
                                                                             (once per account and region)

``image_uri`` deploys a prebuilt image instead of building service/Dockerfile.
``revision`` (``make deploy`` passes git's HEAD) is the code revision the
tasks report as ``service.version`` and Rollbar's ``code_version``; without
it they report none, and the task definition does not change.
``secrets_preflight=false`` leaves out the Lambda-backed check that the
secrets exist (for emulators that cannot run Lambda functions).

Environment look-ups happen here and nowhere else.
"""

from __future__ import annotations

import dataclasses
import sys

from aws_cdk import App

from flask_aws_telemetry_cdk import (
    ConfigError,
    FlaskAppStacks,
    GitHubDeployConfig,
    GitHubDeployRolesStack,
    TransactionSearchConfig,
    TransactionSearchStack,
    apply_compliance_checks,
)
from infra.environments import DEFAULT_ENVIRONMENT, ENVIRONMENTS, SHORT_NAME, load_environment

ALL_ENVIRONMENTS = "all"


def context_flag(name: str, value: object) -> bool:
    """A boolean from -c NAME=true|false (the CLI passes strings; cdk.json may pass booleans)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text not in ("true", "false"):
        raise ConfigError(f"-c {name}={value!r} is invalid; use true or false")
    return text == "true"


def main() -> None:
    """Build the selected environment and apply the compliance checks."""
    app = App()
    env_name = app.node.try_get_context("env") or DEFAULT_ENVIRONMENT
    try:
        names = list(ENVIRONMENTS) if env_name == ALL_ENVIRONMENTS else [env_name]
        configs = [load_environment(name) for name in names]
        image_uri = app.node.try_get_context("image_uri")
        if image_uri:
            configs = [config.with_changes(images={"app_uri": image_uri}) for config in configs]
        revision = app.node.try_get_context("revision")
        if revision:
            configs = [dataclasses.replace(config, revision=str(revision)) for config in configs]
        preflight = app.node.try_get_context("secrets_preflight")
        if preflight is not None:
            flag = context_flag("secrets_preflight", preflight)
            configs = [dataclasses.replace(config, secrets_preflight=flag) for config in configs]
        repository = app.node.try_get_context("github_repository")
        github = GitHubDeployConfig(repository=repository) if repository else None
        transaction_search = None
        if context_flag("transaction_search", app.node.try_get_context("transaction_search") or False):
            transaction_search = TransactionSearchConfig.from_context(
                app.node.try_get_context("transaction_search_indexing_percentage")
            )
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    for config in configs:
        FlaskAppStacks(app, config)
    if github is not None:
        GitHubDeployRolesStack(
            app,
            f"{SHORT_NAME}-github-deploy-roles",
            github=github,
            description=(
                f"GitHub OIDC roles for {github.repository}: cdk diff from pull requests, cdk deploy from environments"
            ),
        )
    if transaction_search is not None:
        TransactionSearchStack(
            app,
            f"{SHORT_NAME}-transaction-search",
            settings=transaction_search,
            policy_name=f"{SHORT_NAME}-transaction-search",
            description=(
                f"X-Ray Transaction Search for the account, {transaction_search.indexing_percentage:g} % indexed"
            ),
        )
    # FlaskAppStacks applied cdk-nag's checks already; the account-wide stacks alone need them too.
    apply_compliance_checks(app)
    app.synth()


if __name__ == "__main__":
    main()
