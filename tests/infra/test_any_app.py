"""Any Flask app, by its own config: its names, health path, port, command, table and Rollbar, nothing of Cruddur's.

One app ("orders") is synthesized twice per module, once without a table and
once with one, from a directory outside the repository's layout (a temporary
folder: an image source may be anywhere); every test reads those templates.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from flask_aws_telemetry_cdk import (
    AppConfig,
    ConfigError,
    EnvironmentConfig,
    FlaskAppStacks,
    ImagesConfig,
    SamplingConfig,
    SamplingRuleConfig,
    SynthesizedEnvironment,
    TableConfig,
    TableIndex,
    synthesize,
)
from testsupport import templates

DOCKERFILE = """\
FROM python:3.11-slim
WORKDIR /app
COPY app.py .
USER 10001
"""
LIBRARY_COMMAND = ["gunicorn", "--config", "python:flask_aws_telemetry.gunicorn_config", "app:create_app()"]
ORDERS_TABLE = TableConfig(
    partition_key="order_id",
    sort_key="created_at",
    indexes=(TableIndex(name="by_customer", partition_key="customer_id", sort_key="created_at"),),
)


@pytest.fixture(scope="module")
def app_directory(tmp_path_factory) -> Path:
    """A Flask app's folder with its own Dockerfile, outside this repository's tree."""
    directory = tmp_path_factory.mktemp("orders-app")
    (directory / "Dockerfile").write_text(DOCKERFILE)
    (directory / "app.py").write_text("from flask import Flask\n\ndef create_app():\n    return Flask(__name__)\n")
    return directory


def orders(app_directory: Path, **fields) -> EnvironmentConfig:
    """The orders app's dev environment: the library's defaults but for its WSGI target, with ``fields`` changed."""
    return EnvironmentConfig(
        name="dev",
        short_name="orders",
        service_name="orders-api",
        images=ImagesConfig(app_directory=str(app_directory)),
        app=AppConfig(wsgi_app="app:create_app()", health_check_path="/health"),
        **fields,
    )


@pytest.fixture(scope="module")
def without_table(app_directory, tmp_path_factory) -> SynthesizedEnvironment:
    """The orders app with no table and Rollbar off (the defaults)."""
    return synthesize(orders(app_directory), tmp_path_factory.mktemp("orders-cdk"))


@pytest.fixture(scope="module")
def with_table(app_directory, tmp_path_factory) -> SynthesizedEnvironment:
    """The orders app with its own table."""
    return synthesize(orders(app_directory, table=ORDERS_TABLE), tmp_path_factory.mktemp("orders-table-cdk"))


def _text(env: SynthesizedEnvironment) -> str:
    return json.dumps(env.templates)


def test_stacks_are_named_from_the_apps_identity(without_table):
    """short_name "orders", environment dev: orders-dev-network, -observability, -service."""
    assert without_table.stack_names == {
        "network": "orders-dev-network",
        "observability": "orders-dev-observability",
        "service": "orders-dev-service",
    }


@pytest.mark.parametrize("env_name", ["without_table", "with_table"])
def test_nothing_in_the_templates_says_cruddur(env_name, request):
    """No name, path, logger, namespace, tag or reason of Cruddur's reaches another app's templates."""
    assert "cruddur" not in _text(request.getfixturevalue(env_name)).lower()


def test_health_checks_of_the_apps_path_are_never_sampled(without_table):
    """The platform's never-sample rule is built from app.health_check_path, before every other rule."""
    rules = templates.sampling_rules(without_table)
    health = next(rule for rule in rules if rule["RuleName"] == "orders-dev-health")
    assert health["URLPath"] == "/health"
    assert (health["HTTPMethod"], health["ReservoirSize"], health["FixedRate"]) == ("GET", 0, 0)
    assert health["ServiceName"] == "orders-api"
    assert health["Priority"] == min(rule["Priority"] for rule in rules)
    fallback = json.loads(templates.environment(templates.app_container(without_table))["XRAY_SAMPLING_RULES"])
    assert fallback[0]["URLPath"] == "/health"
    assert fallback[0]["FixedRate"] == 0


def test_the_load_balancer_and_the_container_check_the_apps_path(without_table):
    """The target group checks /health; the container runs the library's health check, told the path and port."""
    (target_group,) = without_table.resources("service", "AWS::ElasticLoadBalancingV2::TargetGroup").values()
    assert target_group["Properties"]["HealthCheckPath"] == "/health"
    app = templates.app_container(without_table)
    assert app["HealthCheck"]["Command"] == ["CMD", "python", "-m", "flask_aws_telemetry.healthcheck"]
    variables = templates.environment(app)
    assert (variables["HEALTH_CHECK_PATH"], variables["PORT"]) == ("/health", "8000")


def test_the_task_runs_gunicorn_with_the_librarys_config_and_its_process_variables(without_table):
    """Port 8000, two workers, /tmp writable, user 10001, the library's logger prefix: all from the config."""
    app = templates.app_container(without_table)
    assert app["Command"] == LIBRARY_COMMAND
    assert app["User"] == "10001"
    assert app["PortMappings"] == [{"ContainerPort": 8000, "Protocol": "tcp"}]
    variables = templates.environment(app)
    assert {name: variables[name] for name in ("WEB_CONCURRENCY", "APP_WRITABLE_PATH", "TELEMETRY_LOGGER_PREFIX")} == {
        "WEB_CONCURRENCY": "2",
        "APP_WRITABLE_PATH": "/tmp",
        "TELEMETRY_LOGGER_PREFIX": "flask_aws_telemetry",
    }
    assert variables["OTEL_SERVICE_NAME"] == "orders-api"


def test_the_anomaly_metric_filter_follows_the_logger_prefix(without_table):
    """The dashboard counts the library's <prefix>.anomalies lines, in the app's own namespace."""
    filters = without_table.resources("service", "AWS::Logs::MetricFilter").values()
    captured = next(f for f in filters if "anomalies" in f["Properties"]["FilterPattern"])
    assert '"flask_aws_telemetry.anomalies"' in captured["Properties"]["FilterPattern"]
    namespaces = {f["Properties"]["MetricTransformations"][0]["MetricNamespace"] for f in filters}
    assert namespaces == {"orders-api/dev"}


def test_no_table_means_no_table_and_no_dynamodb_permission(without_table):
    """An app without a table gets neither a DynamoDB table nor any dynamodb action, nor a table variable."""
    assert not without_table.all_resources("AWS::DynamoDB::Table")
    assert "dynamodb:" not in _text(without_table)
    assert "TABLE_NAME" not in templates.environment(templates.app_container(without_table))
    assert "TableName" not in without_table.templates["service"].get("Outputs", {})


def test_rollbar_off_asks_for_no_token(without_table):
    """Rollbar is off by default: no token parameter, no container secret, nothing for the preflight to check."""
    text = _text(without_table)
    assert "ROLLBAR_ACCESS_TOKEN" not in text
    assert templates.environment(templates.app_container(without_table))["TELEMETRY_ROLLBAR_ENABLED"] == "false"
    assert "Secrets" not in templates.app_container(without_table)
    preflight = without_table.resources("service", "AWS::CloudFormation::CustomResource")
    preflight.update(without_table.resources("service", "Custom::SecretsPreflight"))
    assert preflight, "the secrets preflight runs"
    for resource in preflight.values():
        names = json.dumps(resource["Properties"])
        assert "HONEYCOMB_API_KEY" in names
        assert "ROLLBAR" not in names


def test_the_table_has_the_apps_key_schema_and_indexes(with_table):
    """Partition and sort key, the index and its keys, from TableConfig; recovery on by default."""
    (table,) = with_table.resources("service", "AWS::DynamoDB::Table").values()
    properties = table["Properties"]
    assert properties["KeySchema"] == [
        {"AttributeName": "order_id", "KeyType": "HASH"},
        {"AttributeName": "created_at", "KeyType": "RANGE"},
    ]
    (index,) = properties["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "by_customer"
    assert index["KeySchema"] == [
        {"AttributeName": "customer_id", "KeyType": "HASH"},
        {"AttributeName": "created_at", "KeyType": "RANGE"},
    ]
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert "TimeToLiveSpecification" not in properties


def test_the_task_may_do_the_tables_actions_and_reads_its_name(with_table):
    """Exactly TableConfig.actions on the table and its indexes; its name in TABLE_NAME."""
    (table_id,) = with_table.resources("service", "AWS::DynamoDB::Table")
    actions = {
        action
        for statement in templates.policy_statements(with_table, "TaskRole")
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
        if action.startswith("dynamodb:")
    }
    assert actions == set(ORDERS_TABLE.actions)
    assert templates.environment(templates.app_container(with_table))["TABLE_NAME"] == {"Ref": table_id}


IDENTITY = {"name": "dev", "short_name": "orders", "service_name": "orders-api"}


@pytest.mark.parametrize("field", list(IDENTITY))
def test_each_missing_identity_field_is_one_sentence(field):
    """Leaving out name, short_name or service_name names the field and what to give, in one sentence."""
    given = {name: value for name, value in IDENTITY.items() if name != field}
    with pytest.raises(ConfigError) as error:
        EnvironmentConfig(**given, app=AppConfig(wsgi_app="app:app"), images=ImagesConfig(app_uri="r.example/app:1"))
    message = str(error.value)
    assert f"{field} is missing; give " in message
    assert "such as" in message
    assert message.endswith(".") and message.count(". ") == 0 and "\n" not in message


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", "Dev"), ("short_name", "orders_service_long"), ("service_name", "orders api"), ("short_name", 7)],
)
def test_each_invalid_identity_field_is_one_sentence(field, value):
    """A malformed identity field names the field, the value and the form to use, in one sentence."""
    with pytest.raises(ConfigError) as error:
        EnvironmentConfig(
            **{**IDENTITY, field: value},
            app=AppConfig(wsgi_app="app:app"),
            images=ImagesConfig(app_uri="r.example/app:1"),
        )
    message = str(error.value)
    assert f"{field} = {value!r} is invalid; use " in message
    assert message.count("is invalid;") == 1 and "\n" not in message


def test_a_rule_of_the_app_may_not_take_the_health_rules_name(app_directory):
    """The platform names the health-check rule; an app's rule of that name is refused, naming it."""
    rule = SamplingRuleConfig(rule_name="orders-dev-health", priority=10, reservoir_size=0, fixed_rate=0.5)
    with pytest.raises(ConfigError, match="sampling.rules = 'orders-dev-health' is invalid; the platform names"):
        orders(app_directory, sampling=SamplingConfig(rules=(rule,)))


def test_cruddurs_health_rule_keeps_its_name_priority_and_path(dev):
    """Built by the platform from Cruddur's health path: the rule its templates always had."""
    (health,) = [rule for rule in templates.sampling_rules(dev) if rule["URLPath"] != "*"]
    assert (health["RuleName"], health["Priority"], health["URLPath"]) == (
        "cruddur-dev-health",
        100,
        "/api/health-check",
    )


def test_stack_families_of_two_environments_share_one_compliance_check(app_directory):
    """FlaskAppStacks applies cdk-nag once per app, however many environments the app holds."""
    from aws_cdk import App

    app = App()
    dev = FlaskAppStacks(app, orders(app_directory))
    staging = FlaskAppStacks(app, dataclasses.replace(orders(app_directory), name="staging"))
    assert [stack.stack_name for stack in (*dev.all(), *staging.all())] == [
        "orders-dev-network",
        "orders-dev-observability",
        "orders-dev-service",
        "orders-staging-network",
        "orders-staging-observability",
        "orders-staging-service",
    ]
    markers = [child for child in app.node.children if child.node.id == "FlaskAwsTelemetryComplianceChecks"]
    assert len(markers) == 1
