"""The revision deployed reaches the task as SERVICE_VERSION, only when cdk is given it (-c revision=...)."""

from __future__ import annotations

import dataclasses
import json

import pytest

from flask_aws_telemetry import contract
from flask_aws_telemetry_cdk import ConfigError
from flask_aws_telemetry_cdk.models.app_environment import AppEnvironment, ProcessSettings
from infra.environments import load_environment
from tests.infra.test_config import _run_app
from testsupport import templates

REVISION = "0123456789abcdef0123456789abcdef01234567"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/cruddur:1.4.0"


def _telemetry(**changes) -> AppEnvironment:
    return AppEnvironment(
        service_name="app", environment_name="dev", log_level="INFO", opentelemetry=True, xray_sdk=False,
        watchtower=False, rollbar=True, sampling_rules_json="[]", slow_request_seconds=1.0,
        anomaly_capture_per_second=1.0, logger_prefix="flask_aws_telemetry",
        process=ProcessSettings(port=8000, web_concurrency=2, health_check_path="/health", writable_path="/tmp"),
        **changes,
    )  # fmt: skip


def test_the_app_is_told_its_version_only_when_there_is_one():
    """service_version set: SERVICE_VERSION; not set: no such variable."""
    told = _telemetry(service_version=REVISION).variables(region="us-east-1", watchtower_log_group_name=None)
    assert told[contract.SERVICE_VERSION.name] == REVISION
    untold = _telemetry().variables(region="us-east-1", watchtower_log_group_name=None)
    assert contract.SERVICE_VERSION.name not in untold


@pytest.mark.parametrize("revision", ["a b", "-rf", "x" * 41, ""])
def test_a_malformed_revision_stops_synth_naming_it(revision):
    """A revision with a space, a leading dash or over Rollbar's 40 characters: one sentence naming the field."""
    with pytest.raises(ConfigError, match=r"revision = .* is invalid; use a commit id or a tag"):
        dataclasses.replace(load_environment("dev"), revision=revision)


def test_the_synthesized_environments_set_no_version(any_env):
    """Without -c revision (as the snapshots synthesize), the task definition has no SERVICE_VERSION."""
    assert contract.SERVICE_VERSION.name not in templates.environment(templates.app_container(any_env))


def test_cdk_context_revision_sets_the_tasks_service_version(tmp_path):
    """app.py given -c revision=SHA: the app container's environment has SERVICE_VERSION=SHA."""
    result = _run_app({"env": "dev", "image_uri": IMAGE, "revision": REVISION, "secrets_preflight": "false"}, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    environments = []
    for path in tmp_path.glob("*.template.json"):
        for resource in json.loads(path.read_text())["Resources"].values():
            if resource["Type"] == "AWS::ECS::TaskDefinition":
                for container in resource["Properties"]["ContainerDefinitions"]:
                    environments.append({v["Name"]: v["Value"] for v in container.get("Environment", [])})
    told = [env for env in environments if contract.SERVICE_NAME.name in env]
    assert told and all(env[contract.SERVICE_VERSION.name] == REVISION for env in told)


def test_app_rejects_a_malformed_revision_context(tmp_path):
    """-c revision='not a sha': app.py exits 2 naming the field, before building anything."""
    result = _run_app({"env": "dev", "revision": "not a sha"}, tmp_path)
    assert result.returncode == 2
    assert "revision = 'not a sha' is invalid" in result.stderr
