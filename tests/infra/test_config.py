"""The environment configuration rejects bad values with a sentence naming what is wrong."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys

import pytest

from flask_aws_telemetry_cdk.config import (
    AlarmsConfig,
    AppConfig,
    BrowserTracesConfig,
    CanaryConfig,
    ConfigError,
    EdgeConfig,
    EntryPoint,
    FieldError,
    ImagesConfig,
    LogsConfig,
    NetworkConfig,
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
    XRayPath,
)
from infra.environments import ENVIRONMENTS, load_environment
from testsupport import REPO_ROOT


@pytest.mark.parametrize("name", list(ENVIRONMENTS))
def test_every_environment_is_valid(name):
    """Given the shipped environments, when loaded, then each builds and is frozen, sections too."""
    config = load_environment(name)
    assert config.name == name
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.name = "qa"
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.task.cpu = 4096


def test_unknown_environment_lists_the_valid_ones():
    """Given a typo, the error names it and every valid environment."""
    with pytest.raises(ConfigError) as error:
        load_environment("prd")
    message = str(error.value)
    assert "'prd'" in message
    for name in ENVIRONMENTS:
        assert name in message
    assert "-c env=NAME" in message


def _app(**fields) -> AppConfig:
    """An app section served by the library's gunicorn config, with ``fields`` changed."""
    return AppConfig(wsgi_app="app:create_app()", **fields)


def _rule(**overrides) -> SamplingRuleConfig:
    values = dict(rule_name="cruddur-dev-default", priority=9000, reservoir_size=5, fixed_rate=0.1)
    values.update(overrides)
    return SamplingRuleConfig(**values)


def _rules(*rules: SamplingRuleConfig) -> dict:
    return {"sampling": SamplingConfig(rules=rules)}


ZONE = {"hosted_zone_id": "Z0123456789ABCDEFGHIJ", "hosted_zone_name": "example.com"}
CERTIFICATE_ARN = "arn:aws:acm:us-east-1:123456789012:certificate/0f0e0d0c-0b0a-0908-0706-050403020100"


@pytest.mark.parametrize(
    ("overrides", "field", "value_text", "allowed_text"),
    [
        (_rules(_rule(fixed_rate=1.5)), "sampling.rules[0].fixed_rate", "1.5", "0.0 to 1.0"),
        (_rules(_rule(fixed_rate=-0.1)), "sampling.rules[0].fixed_rate", "-0.1", "0.0 to 1.0"),
        (_rules(_rule(priority=0)), "sampling.rules[0].priority", "0", "1 to 9999"),
        (_rules(_rule(reservoir_size=-1)), "sampling.rules[0].reservoir_size", "-1", "0 or more"),
        (_rules(_rule(service_name="Cruddur")), "sampling.rules[0].service_name", "'Cruddur'", "could never match"),
        (
            _rules(_rule(service_type="AWS::EC2::Instance")),
            "sampling.rules[0].service_type",
            "AWS::EC2::Instance",
            "could never match",
        ),
        (_rules(_rule(), _rule(priority=10)), "sampling.rules", "cruddur-dev-default", "unique"),
        (_rules(_rule(rule_name="x" * 33)), "sampling.rules[0].rule_name", "xxx", "1-32"),
        (_rules(_rule(url_path="api/activities")), "sampling.rules[0].url_path", "api/activities", "starting with '/'"),
        (
            _rules(_rule(boost=SamplingBoostConfig(max_rate=1.5, cooldown_minutes=5))),
            "sampling.rules[0].boost.max_rate",
            "1.5",
            "0.0 to 1.0",
        ),
        (
            _rules(_rule(boost=SamplingBoostConfig(max_rate=-0.5, cooldown_minutes=5))),
            "sampling.rules[0].boost.max_rate",
            "-0.5",
            "0.0 to 1.0",
        ),
        (
            _rules(_rule(boost=SamplingBoostConfig(max_rate=0.1, cooldown_minutes=5))),
            "sampling.rules[0].boost.max_rate",
            "0.1",
            "more than the rule's fixed_rate (0.1)",
        ),
        (
            _rules(_rule(boost=SamplingBoostConfig(max_rate=0.5, cooldown_minutes=0))),
            "sampling.rules[0].boost.cooldown_minutes",
            "0",
            "1 or more",
        ),
        (
            _rules(_rule(boost=SamplingBoostConfig(max_rate=0.5, cooldown_minutes=2.5))),
            "sampling.rules[0].boost.cooldown_minutes",
            "2.5",
            "whole number",
        ),
        ({"logs": LogsConfig(retention_days=10)}, "logs.retention_days", "10", "1, 3, 5, 7, 14"),
        ({"logs": LogsConfig(retention_days=0)}, "logs.retention_days", "0", "3653"),
        ({"logs": LogsConfig(level="TRACE")}, "logs.level", "TRACE", "DEBUG, INFO"),
        ({"scaling": ScalingConfig(min_capacity=3, max_capacity=2)}, "scaling.max_capacity", "2", "min_capacity (3)"),
        ({"scaling": ScalingConfig(desired_count=5)}, "scaling.desired_count", "5", "max_capacity"),
        ({"scaling": ScalingConfig(cpu_target_percent=95)}, "scaling.cpu_target_percent", "95", "10 to 90"),
        ({"task": TaskSizeConfig(cpu=300)}, "task.cpu", "300", "256"),
        ({"task": TaskSizeConfig(cpu=256, memory_mib=4096)}, "task.memory_mib", "4096", "with cpu 256"),
        ({"task": TaskSizeConfig(cpu=1024, memory_mib=1024)}, "task.memory_mib", "1024", "2048 to 8192"),
        ({"task": TaskSizeConfig(cpu=256, memory_mib=512)}, "task.memory_mib", "512", "need at least 576 MiB"),
        ({"alarms": AlarmsConfig(email="not-an-email")}, "alarms.email", "not-an-email", "e-mail"),
        ({"network": NetworkConfig(nat_gateways=3)}, "network.nat_gateways", "3", "max_azs"),
        ({"network": NetworkConfig(max_azs=1)}, "network.max_azs", "1", "two AZs"),
        (
            {"network": NetworkConfig(gateway_endpoints="no")},
            "network.gateway_endpoints",
            "no",
            "True or False",
        ),
        (
            {"network": NetworkConfig(existing_vpc_id="vpc-0abc1234")},
            "network.existing_vpc_id",
            "vpc-0abc1234",
            "account and region",
        ),
        (
            {"images": ImagesConfig(app_uri="nginx")},
            "images.app_uri",
            "nginx",
            "'REPOSITORY:TAG' or 'REPOSITORY@sha256:",
        ),
        ({"alarms": AlarmsConfig(cpu_percent=150)}, "alarms.cpu_percent", "150", "at most 100"),
        ({"alarms": AlarmsConfig(period_minutes=7)}, "alarms.period_minutes", "7", "1, 5"),
        ({"alarms": AlarmsConfig(evaluation_periods=0)}, "alarms.evaluation_periods", "0", "1 or more"),
        ({"slos": SlosConfig(availability_goal_percent=100)}, "slos.availability_goal_percent", "100", "below 100"),
        ({"slos": SlosConfig(latency_goal_percent=0)}, "slos.latency_goal_percent", "0", "above 0"),
        ({"slos": SlosConfig(availability_goal_percent=-5)}, "slos.availability_goal_percent", "-5", "above 0"),
        ({"slos": SlosConfig(availability_window_days=0)}, "slos.availability_window_days", "0", "1 or more"),
        ({"slos": SlosConfig(latency_window_days=1.5)}, "slos.latency_window_days", "1.5", "whole number"),
        ({"slos": SlosConfig(latency_threshold_seconds=0)}, "slos.latency_threshold_seconds", "0", "positive"),
        ({"slos": SlosConfig(latency_threshold_seconds=-1.0)}, "slos.latency_threshold_seconds", "-1.0", "positive"),
        ({"canary": CanaryConfig(rate_minutes=0)}, "canary.rate_minutes", "0", "1 to 1440"),
        ({"canary": CanaryConfig(rate_minutes=5, wait_seconds=5)}, "canary.wait_seconds", "5", "10 to 600"),
        (
            {"scaling": ScalingConfig(scale_to_zero=ScaleToZeroSchedule(scale_down_cron="0 19 * * *"))},
            "scaling.scale_to_zero.scale_down_cron",
            "0 19",
            "cron(",
        ),
        (
            {"scaling": ScalingConfig(deploy_min_healthy_percent=75)},
            "scaling.deploy_min_healthy_percent",
            "75",
            "0, 50 or 100",
        ),
        ({"service_name": "has space"}, "service_name", "has space", "letters"),
        (
            {"telemetry": TelemetryConfig(xray_path="opentelemetry")},
            "telemetry.xray_path",
            "'opentelemetry'",
            "XRayPath.XRAY_SDK_AND_DAEMON, XRayPath.XRAY_SDK_AND_COLLECTOR, XRayPath.OPENTELEMETRY_COLLECTOR, "
            "XRayPath.OPENTELEMETRY_PUT_TRACE_SEGMENTS",
        ),
        (
            {"telemetry": TelemetryConfig(opentelemetry=False, xray_path=XRayPath.OPENTELEMETRY_COLLECTOR)},
            "telemetry.xray_path",
            "opentelemetry-collector",
            "set telemetry.opentelemetry = True",
        ),
        (
            {"telemetry": TelemetryConfig(anomaly_capture_per_second=-1)},
            "telemetry.anomaly_capture_per_second",
            "-1",
            "0 (capture off) or more",
        ),
        ({"region": "mars-1"}, "region", "mars-1", "us-east-1"),
        ({"task": "256 CPU"}, "task", "256 CPU", "use a TaskSizeConfig"),
        # HTTPS and the entry point
        (
            {"edge": EdgeConfig(tls_certificate_arn="arn:aws:acm:us-east-1:1:certificate/x")},
            "edge.tls_certificate_arn",
            "certificate/x",
            "ACM certificate ARN",
        ),
        (
            {"edge": EdgeConfig(tls_certificate_arn=CERTIFICATE_ARN)},
            "edge.tls_certificate_arn",
            "0f0e0d0c",
            "set domain_name too",
        ),
        (
            {"edge": EdgeConfig(domain_name="api.example.com")},
            "edge.domain_name",
            "api.example.com",
            "hosted_zone_id and hosted_zone_name",
        ),
        ({"edge": EdgeConfig(domain_name="Not A Domain")}, "edge.domain_name", "Not A Domain", "DNS name"),
        (
            {"edge": EdgeConfig(domain_name="api.example.org", **ZONE)},
            "edge.hosted_zone_name",
            "example.com",
            "must contain domain_name 'api.example.org'",
        ),
        (
            {"edge": EdgeConfig(hosted_zone_id="Z0123456789ABCDEFGHIJ")},
            "edge.hosted_zone_id",
            "Z0123456789ABCDEFGHIJ",
            "together",
        ),
        (
            {"edge": EdgeConfig(hosted_zone_id="zone-1", hosted_zone_name="example.com")},
            "edge.hosted_zone_id",
            "zone-1",
            "Route 53 hosted zone id",
        ),
        ({"edge": EdgeConfig(entry_point="alb")}, "edge.entry_point", "alb", "EntryPoint.LOAD_BALANCER"),
        (
            {"edge": EdgeConfig(frontend_origins=("localhost:3000",))},
            "edge.frontend_origins[0]",
            "localhost:3000",
            "without a path",
        ),
        (
            {"edge": EdgeConfig(frontend_origins=("https://ok.example.com", "https://x.example.com/app"))},
            "edge.frontend_origins[1]",
            "/app",
            "origin such as",
        ),
        # the frontend's spans
        (
            {"browser_traces": BrowserTracesConfig(enabled=True)},
            "browser_traces.enabled",
            "True",
            "set edge.frontend_origins",
        ),
        (
            {
                "browser_traces": BrowserTracesConfig(enabled=True),
                "edge": EdgeConfig(entry_point=EntryPoint.HTTP_API, frontend_origins=("https://cruddur.example.com",)),
                "telemetry": TelemetryConfig(opentelemetry=False),
            },
            "browser_traces.enabled",
            "True",
            "set telemetry.opentelemetry = True",
        ),
        ({"browser_traces": BrowserTracesConfig(enabled="yes")}, "browser_traces.enabled", "yes", "True or False"),
        (
            {"browser_traces": BrowserTracesConfig(max_body_bytes=100)},
            "browser_traces.max_body_bytes",
            "100",
            "1024 or more",
        ),
        (
            {"browser_traces": BrowserTracesConfig(max_body_bytes=20_000_000)},
            "browser_traces.max_body_bytes",
            "20000000",
            "HTTP API",
        ),
        (
            {"browser_traces": BrowserTracesConfig(task_per_second=1)},
            "browser_traces.task_per_second",
            "1",
            "2 or more",
        ),
        (
            {"browser_traces": BrowserTracesConfig(source_per_minute=0)},
            "browser_traces.source_per_minute",
            "0",
            "1 or more",
        ),
        (
            {"browser_traces": BrowserTracesConfig(source_per_minute=3), "app": _app(web_concurrency=4)},
            "browser_traces.source_per_minute",
            "3",
            "each of the app's 4 gunicorn workers (app.web_concurrency) takes an equal share: use 4 or more",
        ),
        ({"app": AppConfig(command=())}, "app.command", "()", "one or more non-empty strings"),
        ({"app": AppConfig(command=("gunicorn", ""))}, "app.command", "('gunicorn', '')", "non-empty strings"),
        ({"app": AppConfig()}, "app.wsgi_app", "None", "give the app's WSGI target, such as 'app:create_app()'"),
        ({"app": AppConfig(wsgi_app="app")}, "app.wsgi_app", "'app'", "'module:variable' or 'module:factory()'"),
        ({"app": _app(command=("gunicorn",))}, "app.command", "('gunicorn',)", "give wsgi_app or command, not both"),
        ({"app": _app(health_check_command="true")}, "app.health_check_command", "'true'", "a tuple"),
        ({"app": _app(port=0)}, "app.port", "0", "1 to 65535"),
        ({"app": _app(port=70000)}, "app.port", "70000", "1 to 65535"),
        ({"app": _app(user="root")}, "app.user", "root", "other than root"),
        ({"app": _app(health_check_path="health")}, "app.health_check_path", "health", "starting with '/'"),
        ({"app": _app(web_concurrency=0)}, "app.web_concurrency", "0", "1 or more"),
        ({"app": _app(stop_timeout_seconds=300)}, "app.stop_timeout_seconds", "300", "2 to 120 seconds"),
        ({"app": _app(writable_path="tmp")}, "app.writable_path", "tmp", "absolute path"),
        ({"app": _app(environment={"has space": "x"})}, "app.environment", "has space", "letters, digits and '_'"),
        (
            {"app": _app(environment={"TELEMETRY_OTEL_ENABLED": "false"})},
            "app.environment",
            "TELEMETRY_OTEL_ENABLED",
            "telemetry's",
        ),
        ({"app": _app(environment={"WEB_CONCURRENCY": "4"})}, "app.environment", "WEB_CONCURRENCY", "process's"),
        (
            {"app": _app(environment={"DYNAMODB_TABLE_NAME": "t"})},
            "table.name_variable",
            "DYNAMODB_TABLE_NAME",
            "app.environment already sets it",
        ),
        ({"app": _app(environment={"GREETING": 1})}, "app.environment['GREETING']", "1", "a string"),
        (
            {"telemetry": TelemetryConfig(logger_prefix="my app")},
            "telemetry.logger_prefix",
            "'my app'",
            "a Python logger name",
        ),
        ({"table": TableConfig(partition_key="")}, "table.partition_key", "''", "1 to 255 characters"),
        (
            {"table": TableConfig(partition_key="pk", indexes=TableIndex("by_x", "x"))},
            "table.indexes",
            "TableIndex(",
            "a tuple of TableIndex",
        ),
        (
            {"table": TableConfig(partition_key="pk", indexes=(TableIndex("ix", "x"),))},
            "table.indexes[0].name",
            "'ix'",
            "3-255 letters",
        ),
        (
            {"table": TableConfig(partition_key="pk", indexes=(TableIndex("by_x", "x"), TableIndex("by_x", "y")))},
            "table.indexes[0].name",
            "'by_x'",
            "a unique name",
        ),
        (
            {"table": TableConfig(partition_key="pk", name_variable="OTEL_SERVICE_NAME")},
            "table.name_variable",
            "'OTEL_SERVICE_NAME'",
            "another name",
        ),
        (
            {"table": TableConfig(partition_key="pk", actions=("s3:GetObject",))},
            "table.actions",
            "'s3:GetObject'",
            "DynamoDB actions",
        ),
        (
            {"table": TableConfig(partition_key="pk", point_in_time_recovery=False)},
            "table.recovery_off_reason",
            "None",
            "say why the table's data may be lost",
        ),
        (
            {"images": ImagesConfig(app_directory="no-such-directory")},
            "images.app_directory",
            "no-such-directory",
            "a directory that holds the app, relative to where cdk runs",
        ),
        (
            {"images": ImagesConfig(app_dockerfile="Dockerfile.missing")},
            "images.app_dockerfile",
            "Dockerfile.missing",
            "inside app_directory (.)",
        ),
    ],
)
def test_bad_values_name_environment_field_value_and_allowed(overrides, field, value_text, allowed_text):
    """Given one bad field, when the config is built, then one sentence names env, field, value, allowed."""
    base = load_environment("dev")
    with pytest.raises(ConfigError) as error:
        dataclasses.replace(base, **overrides)
    message = str(error.value)
    assert message.startswith(f"environment 'dev': {field} = ")
    assert value_text in message
    assert allowed_text in message
    assert message.count("is invalid;") == 1


DIGEST = "sha256:" + "b" * 64
DAEMON = "public.ecr.aws/xray/aws-xray-daemon"
DIGEST_FORM = "use 'REPOSITORY@sha256:<64 hex digits>', ECS's digest form; put the release in"


@pytest.mark.parametrize(
    ("images", "field", "value", "allowed"),
    [
        # ECS documents 'repository:tag' and 'repository@digest'; a sidecar must be the second.
        (
            {"xray_daemon": f"{DAEMON}:3.7.0@{DIGEST}"},
            "xray_daemon",
            f"{DAEMON}:3.7.0@{DIGEST}",
            f"{DIGEST_FORM} xray_daemon_release",
        ),
        ({"xray_daemon": f"{DAEMON}:3.7.0"}, "xray_daemon", f"{DAEMON}:3.7.0", f"{DIGEST_FORM} xray_daemon_release"),
        ({"xray_daemon": f"{DAEMON}:latest"}, "xray_daemon", f"{DAEMON}:latest", DIGEST_FORM),
        ({"xray_daemon": f"{DAEMON}@sha256:abc"}, "xray_daemon", f"{DAEMON}@sha256:abc", DIGEST_FORM),
        ({"xray_daemon": f"{DAEMON}@sha256:{'B' * 64}"}, "xray_daemon", f"{DAEMON}@sha256:{'B' * 64}", DIGEST_FORM),
        ({"xray_daemon": f"aws-xray-daemon@{DIGEST}"}, "xray_daemon", f"aws-xray-daemon@{DIGEST}", DIGEST_FORM),
        (
            {"collector": f"public.ecr.aws/x/y:v1@{DIGEST}"},
            "collector",
            f"public.ecr.aws/x/y:v1@{DIGEST}",
            f"{DIGEST_FORM} collector_release",
        ),
        ({"collector": None}, "collector", None, DIGEST_FORM),
        (
            {"xray_daemon_release": "latest"},
            "xray_daemon_release",
            "latest",
            "the release tag xray_daemon's digest was read from",
        ),
        ({"xray_daemon_release": ""}, "xray_daemon_release", "", "such as '3.7.0'"),
        (
            {"collector_release": "v0.50.0 final"},
            "collector_release",
            "v0.50.0 final",
            "the release tag collector's digest was read from",
        ),
        (
            {"app_uri": f"123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1.0@{DIGEST}"},
            "app_uri",
            "app:1.0@sha256",
            "'REPOSITORY:TAG' or",
        ),
    ],
)
def test_images_must_be_in_the_form_ecs_documents(images, field, value, allowed):
    """Given a sidecar not pinned as 'repository@sha256:...' (or a bad release), the error names env, field, value
    and the form.
    """
    with pytest.raises(ConfigError) as error:
        load_environment("dev").with_changes(images=images)
    message = str(error.value)
    shown = value if field == "app_uri" else repr(value)
    assert message.startswith(f"environment 'dev': images.{field} = ")
    assert shown in message
    assert allowed in message


def test_the_shipped_sidecars_are_pinned_by_digest_with_their_release():
    """Every environment runs the daemon 3.7.0 and the collector v0.50.0, each by its index digest."""
    for name in ENVIRONMENTS:
        images = load_environment(name).images
        assert images.pinned_sidecars == {
            "xray_daemon": (
                "public.ecr.aws/xray/aws-xray-daemon@sha256:b67576293f4d3a0a155f807244957ed0aa4bc945df1573d62d81380a1d548071",
                "3.7.0",
            ),
            "collector": (
                "public.ecr.aws/aws-observability/aws-otel-collector"
                "@sha256:7968fb60db6a2390a47ba6a2df029745638486e285c9b2487da1b722d0855a3e",
                "v0.50.0",
            ),
        }


def test_access_logs_are_refused_on_the_http_api_entry_point():
    """dev's HTTP API has its own access log: asking for the load balancer's there names the field."""
    with pytest.raises(ConfigError) as error:
        load_environment("dev").with_changes(edge={"access_logs": True})
    assert str(error.value).startswith(
        "environment 'dev': edge.access_logs = True is invalid; access logs are the load balancer's"
    )


def test_a_section_checks_itself_and_the_environment_names_it():
    """A section alone raises FieldError naming its own field; within an environment the sentence gains both names."""
    section = NetworkConfig(nat_gateways=3)
    with pytest.raises(FieldError) as alone:
        section.check()
    assert str(alone.value) == "nat_gateways = 3 is invalid; use 0 to max_azs (2)."
    with pytest.raises(ConfigError) as within:
        dataclasses.replace(load_environment("staging"), network=section)
    assert str(within.value) == "environment 'staging': network.nat_gateways = 3 is invalid; use 0 to max_azs (2)."


def _run_app(context: dict, tmp_path) -> subprocess.CompletedProcess:
    env = {**os.environ, "CDK_CONTEXT_JSON": json.dumps(context), "CDK_OUTDIR": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "app.py"], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def test_app_rejects_an_unknown_environment_before_building_anything(tmp_path):
    """Given -c env=qa, app.py exits 2 with the valid names and writes no assembly."""
    result = _run_app({"env": "qa"}, tmp_path)
    assert result.returncode == 2
    assert "unknown environment 'qa'" in result.stderr
    assert "dev, staging, prod" in result.stderr
    assert not (tmp_path / "manifest.json").exists()


def test_app_rejects_a_malformed_image_uri(tmp_path):
    """Given -c image_uri=latest, app.py names the field and the expected form."""
    result = _run_app({"env": "dev", "image_uri": "latest"}, tmp_path)
    assert result.returncode == 2
    assert "images.app_uri = 'latest' is invalid" in result.stderr


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"transaction_search": "yes"}, "-c transaction_search='yes' is invalid; use true or false"),
        (
            {"transaction_search": "true", "transaction_search_indexing_percentage": "150"},
            "transaction_search.indexing_percentage = 150.0 is invalid; use a percentage from 0 to 100",
        ),
        (
            {"transaction_search": "true", "transaction_search_indexing_percentage": "ten"},
            "transaction_search.indexing_percentage = 'ten' is invalid",
        ),
    ],
)
def test_app_rejects_a_malformed_transaction_search_setting(tmp_path, context, message):
    """The account's Transaction Search switches are checked before anything is built."""
    result = _run_app({"env": "dev", **context}, tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert not (tmp_path / "manifest.json").exists()


def test_app_rejects_a_malformed_preflight_flag(tmp_path):
    """-c secrets_preflight=maybe names the flag and the allowed values."""
    result = _run_app({"env": "dev", "secrets_preflight": "maybe"}, tmp_path)
    assert result.returncode == 2
    assert "-c secrets_preflight='maybe' is invalid; use true or false" in result.stderr


def test_reading_an_environment_does_not_load_the_cdk():
    """make secrets, make cost and the benchmarks load every environment without starting the CDK's Node runtime."""
    program = (
        "import sys\n"
        "from infra.environments import ENVIRONMENTS, load_environment\n"
        "for name in ENVIRONMENTS:\n"
        "    load_environment(name).sampling_policy.fallback_rules_json()\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'aws_cdk', 'constructs', 'jsii'}))\n"
    )
    result = subprocess.run([sys.executable, "-c", program], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_config_and_the_models_never_import_the_constructs():
    """Layers: models/ and config/ import neither the CDK nor components/ (which import them)."""
    program = (
        "import importlib, pkgutil, sys\n"
        "import flask_aws_telemetry_cdk.models, flask_aws_telemetry_cdk.config\n"
        "for package in (flask_aws_telemetry_cdk.models, flask_aws_telemetry_cdk.config):\n"
        "    for module in pkgutil.iter_modules(package.__path__, package.__name__ + '.'):\n"
        "        importlib.import_module(module.name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'aws_cdk', 'constructs', 'jsii'}"
        " or m.startswith('flask_aws_telemetry_cdk.components')))\n"
    )
    result = subprocess.run([sys.executable, "-c", program], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_app_section_defaults_to_the_library_and_names_the_table_in_its_variable():
    """The library's gunicorn config, port, user and health checks by default; the table's name in its variable."""
    from flask_aws_telemetry import contract

    container = AppConfig(wsgi_app="app:create_app()").container(table_variables={"TABLE_NAME": "orders-dev"})
    assert container.command == (
        "gunicorn",
        "--config",
        "python:flask_aws_telemetry.gunicorn_config",
        "app:create_app()",
    )
    assert (container.port, container.user, container.writable_path) == (8000, "10001", "/tmp")
    assert (container.health_check_path, container.health_check_command) == (
        "/health",
        ("python", "-m", "flask_aws_telemetry.healthcheck"),
    )
    assert str(container.port) == contract.PORT.default
    assert container.health_check_path == contract.HEALTH_CHECK_PATH.default
    assert container.writable_path == contract.APP_WRITABLE_PATH.default
    assert str(AppConfig().web_concurrency) == contract.WEB_CONCURRENCY.default
    assert TelemetryConfig().logger_prefix == contract.TELEMETRY_LOGGER_PREFIX.default
    assert container.environment == {"TABLE_NAME": "orders-dev"}
    without_table = AppConfig(wsgi_app="app:app", environment={"GREETING": "hello"})
    assert without_table.container().environment == {"GREETING": "hello"}


def test_alarm_thresholds_are_the_alarms_section_without_its_recipient():
    """The monitoring takes one AlarmThresholds value: every threshold of the section, not whom it tells."""
    from flask_aws_telemetry_cdk.models.alarm_thresholds import AlarmThresholds

    alarms = load_environment("prod").alarms
    thresholds = alarms.thresholds
    assert type(thresholds) is AlarmThresholds
    assert thresholds == AlarmThresholds(evaluation_periods=3)
    assert {field.name for field in dataclasses.fields(alarms)} - {
        field.name for field in dataclasses.fields(thresholds)
    } == {"email"}


@pytest.mark.parametrize("name", list(ENVIRONMENTS))
def test_container_insights_is_configured_with_the_cluster_not_the_alarms(name):
    """Container Insights is a setting of the task's cluster; every environment keeps its value (dev and week2: off)."""
    config = load_environment(name)
    assert config.task.container_insights is (name not in ("dev", "week2"))
    assert not hasattr(config.alarms, "container_insights")
