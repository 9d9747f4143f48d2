"""Another Flask app moves in by configuration alone: its image, command, port, user, health checks, own variables.

The telemetry stays the constructs' business: the same sidecars, variables,
secrets and X-Ray permissions as Cruddur's, whatever the app.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from flask_aws_telemetry_cdk import AppConfig, EnvironmentConfig, ImagesConfig, synthesize
from infra.environments import load_environment
from testsupport import templates

OTHER_APP = AppConfig(
    command=("gunicorn", "--bind", "0.0.0.0:8000", "app:app"),
    port=8000,
    user="20002",
    health_check_path="/health",
    health_check_command=(
        "python",
        "-c",
        "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health')",
    ),
    environment={"GREETING": "hello"},
)
# What the task sets from the app's own config, so it differs from Cruddur's; the rest is the telemetry's, the same.
FROM_THE_APPS_CONFIG = {
    "PORT",
    "WEB_CONCURRENCY",
    "HEALTH_CHECK_PATH",
    "APP_WRITABLE_PATH",
    "XRAY_SAMPLING_RULES",
    "DYNAMODB_TABLE_NAME",
}


def _moved_in(name: str, directory: Path) -> EnvironmentConfig:
    """Environment ``name`` running the other app, built from ``directory`` by its Dockerfile named explicitly."""
    directory.mkdir()
    (directory / "Dockerfile.app").write_text("FROM python:3.11-slim\nUSER 20002\n")
    return dataclasses.replace(
        load_environment(name),
        app=OTHER_APP,
        table=None,
        images=ImagesConfig(app_directory=str(directory), app_dockerfile="Dockerfile.app"),
    )


def _assert_runs_the_other_app_with_cruddurs_telemetry(env, cruddur) -> None:
    app, cruddur_app = templates.app_container(env), templates.app_container(cruddur)
    assert app["Command"] == list(OTHER_APP.command)
    assert app["User"] == "20002"
    assert app["PortMappings"] == [{"ContainerPort": 8000, "Protocol": "tcp"}]
    assert app["HealthCheck"]["Command"] == ["CMD", *OTHER_APP.health_check_command]
    variables = templates.environment(app)
    assert variables["GREETING"] == "hello"
    assert "DYNAMODB_TABLE_NAME" not in variables
    assert (variables["PORT"], variables["HEALTH_CHECK_PATH"]) == ("8000", "/health")
    assert '"URLPath":"/health"' in variables["XRAY_SAMPLING_RULES"]
    telemetry = {
        name: value for name, value in templates.environment(cruddur_app).items() if name not in FROM_THE_APPS_CONFIG
    }
    assert {name: variables[name] for name in telemetry} == telemetry
    assert app["Secrets"] == cruddur_app["Secrets"]
    assert set(templates.sidecars(env)) == {"xray-daemon", "otel-collector"}
    task_actions = {
        action
        for statement in templates.policy_statements(env, "TaskRole")
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    }
    assert {"xray:PutTraceSegments", "xray:GetSamplingRules"} <= task_actions
    assert not {action for action in task_actions if action.startswith("dynamodb:")}


def test_behind_the_load_balancer(tmp_path, synthesized_environments):
    """staging with the other app: its port behind the load balancer, its health path checked there."""
    env = synthesize(_moved_in("staging", tmp_path / "app"), tmp_path / "cdk.out")
    _assert_runs_the_other_app_with_cruddurs_telemetry(env, synthesized_environments("staging"))
    target_group = next(iter(env.resources("service", "AWS::ElasticLoadBalancingV2::TargetGroup").values()))
    assert target_group["Properties"]["HealthCheckPath"] == "/health"
    (target,) = templates.ecs_service(env)["Properties"]["LoadBalancers"]
    assert target["ContainerPort"] == 8000
    ingress = env.resources("service", "AWS::EC2::SecurityGroupIngress").values()
    assert {(rule["Properties"]["FromPort"], rule["Properties"]["ToPort"]) for rule in ingress} == {(8000, 8000)}


def test_behind_the_http_api(tmp_path, synthesized_environments):
    """dev with the other app: Cloud Map registers its port, and the VPC link may reach only that port."""
    env = synthesize(_moved_in("dev", tmp_path / "app"), tmp_path / "cdk.out")
    _assert_runs_the_other_app_with_cruddurs_telemetry(env, synthesized_environments("dev"))
    (registry,) = templates.ecs_service(env)["Properties"]["ServiceRegistries"]
    assert registry["ContainerPort"] == 8000
    ingress = env.resources("service", "AWS::EC2::SecurityGroupIngress").values()
    assert {(rule["Properties"]["FromPort"], rule["Properties"]["ToPort"]) for rule in ingress} == {(8000, 8000)}
