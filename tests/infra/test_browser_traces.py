"""The frontend's spans in the stacks: off by default; one field turns on /v1/traces, the task's variables and the
HTTP API's caller address, and the collector's existing OTLP/HTTP receiver carries them on."""

from __future__ import annotations

import pytest

from cruddur import contract
from cruddur.settings import BrowserTraceLimits, Settings
from flask_aws_telemetry_cdk.models.app_environment import AppEnvironment, ProcessSettings
from infra.environments import CRUDDUR_APP
from testsupport import templates


def test_every_shipped_environment_leaves_browser_traces_off(any_env):
    """No environment accepts browser spans until its config turns them on."""
    assert not any_env.config.browser_traces.enabled
    environment = templates.environment(templates.app_container(any_env))
    assert not set(environment) & {var.name for var in contract.BROWSER_TRACES_VARIABLES}


def test_one_field_turns_on_the_route_with_the_configured_limits(synthesized_environments):
    """dev with browser_traces.enabled: the app is told its limits and that the HTTP API writes the caller's address."""
    dev = synthesized_environments("dev-browser")
    limits = dev.config.browser_traces
    environment = templates.environment(templates.app_container(dev))
    assert {name: environment[name] for name in (var.name for var in contract.BROWSER_TRACES_VARIABLES)} == {
        contract.BROWSER_TRACES_ENABLED.name: "true",
        contract.BROWSER_TRACES_MAX_BODY_BYTES.name: str(limits.max_body_bytes),
        contract.BROWSER_TRACES_TASK_LIMIT_PER_SECOND.name: str(limits.task_per_second),
        contract.BROWSER_TRACES_SOURCE_LIMIT_PER_MINUTE.name: str(limits.source_per_minute),
        contract.BROWSER_TRACES_SOURCE_HEADER.name: contract.HTTP_API_SOURCE_IP_HEADER,
    }
    assert environment[contract.FRONTEND_URL.name] == ",".join(dev.config.edge.frontend_origins)


def test_the_http_api_overwrites_the_callers_address_header(dev):
    """A caller cannot forge the address the per-source rate limit reads: API Gateway overwrites it."""
    (integration,) = dev.resources("service", "AWS::ApiGatewayV2::Integration").values()
    assert integration["Properties"]["RequestParameters"] == {
        f"overwrite:header.{contract.HTTP_API_SOURCE_IP_HEADER}": "$context.identity.sourceIp"
    }


@pytest.mark.parametrize("source_header", [contract.LOAD_BALANCER_SOURCE_IP_HEADER, contract.HTTP_API_SOURCE_IP_HEADER])
def test_what_the_stack_sets_the_service_reads_back(source_header):
    """AppEnvironment's variables, beside the app's own, parse into the same limits (load balancer and HTTP API
    alike).
    """
    limits = BrowserTraceLimits(
        max_body_bytes=32768, task_per_second=40, source_per_minute=90, source_header=source_header
    )
    app_environment = AppEnvironment(
        service_name="cruddur-backend-flask",
        environment_name="dev",
        log_level="INFO",
        opentelemetry=True,
        xray_sdk=False,
        watchtower=False,
        rollbar=False,
        sampling_rules_json="",
        slow_request_seconds=3.0,
        anomaly_capture_per_second=10.0,
        process=ProcessSettings(port=8000, web_concurrency=2, health_check_path="/health", writable_path="/tmp"),
        logger_prefix="flask_aws_telemetry",
        frontend_origins=("https://cruddur.example.com",),
        browser_traces=limits,
    )
    app_variables = CRUDDUR_APP.container(table_variables={"DYNAMODB_TABLE_NAME": "cruddur-dev"}).environment
    variables = {**app_environment.variables(region="us-east-1", watchtower_log_group_name=None), **app_variables}
    assert Settings.from_environ(variables).telemetry.browser_traces == limits


@pytest.mark.parametrize("name", ["dev", "dev-otel"])
def test_the_collector_receives_otlp_http_and_sends_traces_on(synthesized_environments, name):
    """The app forwards to the collector's OTLP/HTTP receiver, whose traces pipeline goes to Honeycomb (and X-Ray
    on the OpenTelemetry-only path): browser spans need no pipeline of their own."""
    env = synthesized_environments(name)
    config = templates.collector_configuration(env)
    assert config["receivers"]["otlp"]["protocols"]["http"]["endpoint"].endswith(f":{contract.OTLP_HTTP_PORT}")
    traces = config["service"]["pipelines"]["traces"]
    assert "otlp" in traces["receivers"]
    assert any("honeycomb" in exporter for exporter in traces["exporters"])
    # On the OpenTelemetry-only path the collector also exports to X-Ray's OTLP endpoint (otlphttp/xray).
    assert (
        any(exporter.endswith("/xray") for exporter in traces["exporters"])
        == env.config.telemetry.collector_exports_to_xray
    )
