"""The environment configuration rejects bad values with a sentence naming what is wrong."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys

import pytest

from stacks.config import (
    AlarmThresholds,
    ConfigError,
    SamplingRuleConfig,
    ScaleToZeroSchedule,
    TelemetryParts,
    XRayPath,
)
from stacks.environments import ENVIRONMENTS, load_environment
from stacks.assembly import REPO_ROOT


@pytest.mark.parametrize("name", list(ENVIRONMENTS))
def test_every_environment_is_valid(name):
    """Given the shipped environments, when loaded, then each builds and is frozen."""
    config = load_environment(name)
    assert config.name == name
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.cpu = 4096  # type: ignore[misc]


def test_unknown_environment_lists_the_valid_ones():
    """Given a typo, the error names it and every valid environment."""
    with pytest.raises(ConfigError) as error:
        load_environment("prd")
    message = str(error.value)
    assert "'prd'" in message
    for name in ENVIRONMENTS:
        assert name in message
    assert "-c env=NAME" in message


def _rule(**overrides) -> SamplingRuleConfig:
    values = dict(rule_name="cruddur-dev-default", priority=9000, reservoir_size=5, fixed_rate=0.1)
    values.update(overrides)
    return SamplingRuleConfig(**values)


@pytest.mark.parametrize(
    ("overrides", "field", "value_text", "allowed_text"),
    [
        ({"sampling_rules": (_rule(fixed_rate=1.5),)}, "sampling_rules[0].fixed_rate", "1.5", "0.0 to 1.0"),
        ({"sampling_rules": (_rule(fixed_rate=-0.1),)}, "sampling_rules[0].fixed_rate", "-0.1", "0.0 to 1.0"),
        ({"sampling_rules": (_rule(priority=0),)}, "sampling_rules[0].priority", "0", "1 to 9999"),
        ({"sampling_rules": (_rule(reservoir_size=-1),)}, "sampling_rules[0].reservoir_size", "-1", "0 or more"),
        (
            {"sampling_rules": (_rule(service_name="Cruddur"),)},
            "sampling_rules[0].service_name",
            "'Cruddur'",
            "could never match",
        ),
        (
            {"sampling_rules": (_rule(service_type="AWS::EC2::Instance"),)},
            "sampling_rules[0].service_type",
            "AWS::EC2::Instance",
            "could never match",
        ),
        ({"sampling_rules": (_rule(), _rule(priority=10))}, "sampling_rules", "cruddur-dev-default", "unique"),
        ({"sampling_rules": (_rule(rule_name="x" * 33),)}, "sampling_rules[0].rule_name", "xxx", "1-32"),
        ({"log_retention_days": 10}, "log_retention_days", "10", "1, 3, 5, 7, 14"),
        ({"log_retention_days": 0}, "log_retention_days", "0", "3653"),
        ({"min_capacity": 3, "max_capacity": 2}, "max_capacity", "2", "min_capacity (3)"),
        ({"desired_count": 5}, "desired_count", "5", "max_capacity"),
        ({"cpu": 300}, "cpu", "300", "256"),
        ({"cpu": 256, "memory_mib": 4096}, "memory_mib", "4096", "with cpu 256"),
        ({"cpu": 1024, "memory_mib": 1024}, "memory_mib", "1024", "2048 to 8192"),
        ({"cpu": 256, "memory_mib": 512}, "memory_mib", "512", "need at least 576 MiB"),
        ({"alarm_email": "not-an-email"}, "alarm_email", "not-an-email", "e-mail"),
        ({"nat_gateways": 3}, "nat_gateways", "3", "max_azs"),
        ({"existing_vpc_id": "vpc-0abc1234"}, "existing_vpc_id", "vpc-0abc1234", "account and region"),
        ({"image_uri": "nginx"}, "image_uri", "nginx", "tag or digest"),
        ({"xray_daemon_image": "public.ecr.aws/xray/aws-xray-daemon:latest"}, "xray_daemon_image", "latest", "pin"),
        ({"alarm_thresholds": AlarmThresholds(cpu_percent=150)}, "alarm_thresholds.cpu_percent", "150", "at most 100"),
        ({"alarm_thresholds": AlarmThresholds(period_minutes=7)}, "alarm_thresholds.period_minutes", "7", "1, 5"),
        ({"scale_to_zero": ScaleToZeroSchedule(scale_down_cron="0 19 * * *")}, "scale_to_zero.scale_down_cron", "0 19", "cron("),
        ({"deploy_min_healthy_percent": 75}, "deploy_min_healthy_percent", "75", "0, 50 or 100"),
        ({"service_name": "has space"}, "service_name", "has space", "letters"),
        (
            {"telemetry": TelemetryParts(xray_path="opentelemetry")},
            "telemetry.xray_path",
            "'opentelemetry'",
            "XRayPath.XRAY_SDK_AND_DAEMON, XRayPath.OPENTELEMETRY_COLLECTOR",
        ),
        (
            {"telemetry": TelemetryParts(opentelemetry=False, xray_path=XRayPath.OPENTELEMETRY_COLLECTOR)},
            "telemetry.xray_path",
            "opentelemetry-collector",
            "needs telemetry.opentelemetry = True",
        ),
        ({"region": "mars-1"}, "region", "mars-1", "us-east-1"),
        # pinned by tag and digest
        ({"xray_daemon_image": "public.ecr.aws/xray/aws-xray-daemon:3.7.0"}, "xray_daemon_image", "3.7.0", "and its digest"),
        ({"collector_image": f"public.ecr.aws/x/y@sha256:{'a' * 64}"}, "collector_image", "x/y@sha256", "by a tag"),
        # HTTPS and the entry point
        ({"tls_certificate_arn": "arn:aws:acm:us-east-1:1:certificate/x"}, "tls_certificate_arn", "certificate/x", "ACM certificate ARN"),
        (
            {"tls_certificate_arn": "arn:aws:acm:us-east-1:123456789012:certificate/0f0e0d0c-0b0a-0908-0706-050403020100"},
            "tls_certificate_arn",
            "0f0e0d0c",
            "set domain_name too",
        ),
        ({"domain_name": "api.example.com"}, "domain_name", "api.example.com", "hosted_zone_id and hosted_zone_name"),
        ({"domain_name": "Not A Domain"}, "domain_name", "Not A Domain", "DNS name"),
        (
            {"domain_name": "api.example.org", "hosted_zone_id": "Z0123456789ABCDEFGHIJ", "hosted_zone_name": "example.com"},
            "hosted_zone_name",
            "example.com",
            "must contain domain_name 'api.example.org'",
        ),
        ({"hosted_zone_id": "Z0123456789ABCDEFGHIJ"}, "hosted_zone_id", "Z0123456789ABCDEFGHIJ", "together"),
        ({"hosted_zone_id": "zone-1", "hosted_zone_name": "example.com"}, "hosted_zone_id", "zone-1", "Route 53 hosted zone id"),
        ({"access_logs": True}, "access_logs", "True", "the load balancer's"),
        ({"frontend_origins": ("localhost:3000",)}, "frontend_origins[0]", "localhost:3000", "without a path"),
        ({"frontend_origins": ("https://ok.example.com", "https://x.example.com/app")}, "frontend_origins[1]", "/app", "origin such as"),
    ],
)
def test_bad_values_name_environment_field_value_and_allowed(overrides, field, value_text, allowed_text):
    """Given one bad field, when the config is built, then one sentence names env, field, value, allowed."""
    base = load_environment("dev")
    with pytest.raises(ConfigError) as error:
        dataclasses.replace(base, **overrides)
    message = str(error.value)
    assert message.startswith("environment 'dev': ")
    assert f"{field} = " in message
    assert value_text in message
    assert allowed_text in message


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
    assert "image_uri = 'latest' is invalid" in result.stderr


def test_app_rejects_a_malformed_preflight_flag(tmp_path):
    """-c secrets_preflight=maybe names the flag and the allowed values."""
    result = _run_app({"env": "dev", "secrets_preflight": "maybe"}, tmp_path)
    assert result.returncode == 2
    assert "-c secrets_preflight='maybe' is invalid; use true or false" in result.stderr

