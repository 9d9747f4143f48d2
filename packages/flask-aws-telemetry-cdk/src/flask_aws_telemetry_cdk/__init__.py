"""flask-aws-telemetry-cdk: a traced Flask app on ECS Fargate, from one typed config.

One environment of one app is one ``EnvironmentConfig``; ``FlaskAppStacks``
turns it into three stacks, the way an aws-ecs-patterns construct turns its
props into a service::

    from aws_cdk import App

    from flask_aws_telemetry_cdk import AppConfig, EnvironmentConfig, FlaskAppStacks, TableConfig

    app = App()
    config = EnvironmentConfig(
        name="dev",
        short_name="orders",
        service_name="orders-api",
        app=AppConfig(wsgi_app="app:create_app()"),
        table=TableConfig(partition_key="pk", sort_key="sk"),
    )
    FlaskAppStacks(app, config)
    app.synth()

That deploys ``orders-dev-network`` (the VPC), ``orders-dev-observability``
(X-Ray sampling rules and groups, the collector's configuration) and
``orders-dev-service`` (the Fargate service behind a load balancer, the
X-Ray daemon and ADOT collector sidecars, log groups, alarms, a dashboard,
the table), checked by cdk-nag's AwsSolutions rules at synth.

The image
    Built from ``./Dockerfile`` (the folder of cdk.json) unless
    ``images=ImagesConfig(app_directory=..., app_dockerfile=...)`` names
    another directory (relative or absolute) and Dockerfile, or
    ``ImagesConfig(app_uri=...)`` a prebuilt image. A Dockerfile's final
    stage must set ``USER <app.user>`` (10001 by default): synth says which
    line to add otherwise.

The app (``AppConfig``)
    By default the library's: ``gunicorn --config
    python:flask_aws_telemetry.gunicorn_config <wsgi_app>`` on port 8000 with
    2 workers, ``/health`` checked by the load balancer and by ``python -m
    flask_aws_telemetry.healthcheck`` in the container, user 10001, ``/tmp``
    writable. The task sets PORT, WEB_CONCURRENCY, HEALTH_CHECK_PATH,
    APP_WRITABLE_PATH and TELEMETRY_LOGGER_PREFIX from the config, so
    gunicorn, the health check and the library read one value each.

The table (``TableConfig``, ``TableIndex``)
    None by default: no table, no DynamoDB permission. Given: its string keys
    and indexes, its name in ``TABLE_NAME`` (``name_variable``), the task
    granted ``actions`` on it and its indexes.

Sampling (``SamplingConfig``, ``SamplingRuleConfig``, ``SamplingBoostConfig``)
    Health checks are never sampled: the platform adds the rule
    ``<short_name>-<name>-health`` for ``app.health_check_path`` itself
    (priority 100). The app's own rules follow; X-Ray's Default rule decides
    the rest.

Telemetry (``TelemetryConfig``, ``XRayPath``)
    OpenTelemetry to Honeycomb through the collector, and X-Ray through the
    SDK and daemon (``XRayPath.XRAY_SDK_AND_DAEMON``), the SDK and the
    collector in the daemon's place (``XRAY_SDK_AND_COLLECTOR``), or
    OpenTelemetry alone through the collector, to ``PutTraceSegments``
    (``OPENTELEMETRY_PUT_TRACE_SEGMENTS``; ``xray_indexed_attributes`` the
    attributes it annotates) or to X-Ray's OTLP endpoint
    (``OPENTELEMETRY_COLLECTOR``, which needs Transaction Search). From
    25 February 2027, synth warns of the SDK and the daemon.
    Rollbar is off unless ``rollbar=True`` (then its token is read from SSM).
    The library's loggers are named under ``logger_prefix``; the dashboard
    counts ``<logger_prefix>.anomalies``.

Secrets
    SecureString parameters ``/<service_name>/<name>/HONEYCOMB_API_KEY`` (and
    ``ROLLBAR_ACCESS_TOKEN`` with Rollbar), written out of band; a deploy
    fails early, naming any that is missing (``secrets_preflight``).

Everything else (``NetworkConfig``, ``TaskSizeConfig``, ``ScalingConfig``,
``ScaleToZeroSchedule``, ``LogsConfig``, ``AlarmsConfig``, ``SlosConfig``, ``CanaryConfig``,
``EdgeConfig``, ``EntryPoint``, ``BrowserTracesConfig``, ``XRayGroupsConfig``,
``RemovalPolicyName``) has defaults that suit dev. Every value is checked
when the config is built: a bad one raises ``ConfigError`` with one sentence
naming the environment, the field, the value and what is allowed.

Once per account: ``TransactionSearchStack`` (X-Ray Transaction Search) and
``GitHubDeployRolesStack`` (GitHub OIDC roles for cdk diff and deploy).
``synthesize(config, outdir)`` synthesizes one environment in-process (for
tests and tools) and returns its templates.

This module names the public API; every other module of the package is private.
The config's names load without the CDK (a tool that only reads a config,
such as a secrets or cost script, starts in milliseconds); the stacks' names
load the CDK when first used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from flask_aws_telemetry_cdk.config import (
    AlarmsConfig,
    AppConfig,
    BrowserTracesConfig,
    CanaryConfig,
    ConfigError,
    EdgeConfig,
    EntryPoint,
    EnvironmentConfig,
    ImagesConfig,
    LogsConfig,
    NetworkConfig,
    RemovalPolicyName,
    SamplingBoostConfig,
    SamplingConfig,
    SamplingRuleConfig,
    ScaleToZeroSchedule,
    ScalingConfig,
    SlosConfig,
    TableConfig,
    TableIndex,
    TaskSizeConfig,
    TelemetryConfig,
    TransactionSearchConfig,
    XRayGroupsConfig,
    XRayPath,
)

if TYPE_CHECKING:
    from flask_aws_telemetry_cdk.assembly import SynthesizedEnvironment, synthesize
    from flask_aws_telemetry_cdk.compliance import apply_compliance_checks
    from flask_aws_telemetry_cdk.environment_stacks import FlaskAppStacks
    from flask_aws_telemetry_cdk.github_deploy_roles import GitHubDeployConfig, GitHubDeployRolesStack
    from flask_aws_telemetry_cdk.transaction_search_stack import TransactionSearchStack

# The names that need the CDK, by the private module that defines each: imported on first use.
_CDK_NAMES = {
    "FlaskAppStacks": "environment_stacks",
    "GitHubDeployConfig": "github_deploy_roles",
    "GitHubDeployRolesStack": "github_deploy_roles",
    "SynthesizedEnvironment": "assembly",
    "TransactionSearchStack": "transaction_search_stack",
    "apply_compliance_checks": "compliance",
    "synthesize": "assembly",
}


def __getattr__(name: str) -> Any:
    """Load a name that needs the CDK from its module when it is first asked for."""
    module = _CDK_NAMES.get(name)
    if module is None:
        raise AttributeError(f"module 'flask_aws_telemetry_cdk' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"flask_aws_telemetry_cdk.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "AlarmsConfig",
    "AppConfig",
    "BrowserTracesConfig",
    "CanaryConfig",
    "ConfigError",
    "EdgeConfig",
    "EntryPoint",
    "EnvironmentConfig",
    "FlaskAppStacks",
    "GitHubDeployConfig",
    "GitHubDeployRolesStack",
    "ImagesConfig",
    "LogsConfig",
    "NetworkConfig",
    "RemovalPolicyName",
    "SamplingBoostConfig",
    "SamplingConfig",
    "SamplingRuleConfig",
    "ScaleToZeroSchedule",
    "ScalingConfig",
    "SlosConfig",
    "SynthesizedEnvironment",
    "TableConfig",
    "TableIndex",
    "TaskSizeConfig",
    "TelemetryConfig",
    "TransactionSearchConfig",
    "TransactionSearchStack",
    "XRayGroupsConfig",
    "XRayPath",
    "apply_compliance_checks",
    "synthesize",
]
