"""The synthesized dev task, run as ECS runs it, with the real X-Ray daemon and a real OpenTelemetry Collector.

On each X-Ray path (dev as shipped, X-Ray SDK and daemon; dev on the
OpenTelemetry-only path) the three containers run as processes on loopback:

* the app: gunicorn with the task definition's command and environment;
* the X-Ray daemon (built from aws-xray-daemon, ``make sidecars``) with its
  image's entrypoint, on the SDK path;
* the collector (built from the OpenTelemetry Collector's modules) with the
  SSM parameter's text as ``AOT_CONFIG_CONTENT`` and the Honeycomb key from a
  fake secret, as ECS injects them.

Where AWS and Honeycomb would be, stand-ins: X-Ray's API
(``standins.xray_api``: every request checked against botocore's model and
its SigV4 signature recomputed for service ``xray`` in the task's region),
Honeycomb's OTLP endpoint (``standins.otlp``), Rollbar (``standins.rollbar``)
and moto's DynamoDB. The sidecars reach them through their own endpoint
overrides and take credentials from the environment, with a session token as
a task role's have. Only listening ports and backend endpoints differ from
the deployed task (``testsupport.ecs_task``).

The task is started once per path (``task_runs``) and stopped as ECS stops
it: SIGTERM to the app, then to the sidecars, each within the 30 s stop
timeout; the tests then read what every backend received.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import pytest
import yaml

from cruddur import contract
from flask_aws_telemetry_cdk.components.collector_config import COLLECTOR_HEALTH_PORT
from testsupport import sidecars, templates
from testsupport.ecs_task import (
    ContainerProcess,
    collector_config_on_loopback,
    program,
    tcp_port_open,
    xray_daemon_command,
)
from testsupport.gunicorn import start_gunicorn, task_environment
from testsupport.standins.aws import MotoServer, create_service_table
from testsupport.standins.otlp import OtlpReceiver
from testsupport.standins.rollbar import RollbarApi
from testsupport.standins.xray_api import XRayApi
from testsupport.standins.xray_daemon import XRayDaemon
from testsupport.standins.xray_sampling_api import XRaySamplingApi
from testsupport.traffic import (
    BROKEN_HANDLE,
    http_status,
    json_lines,
    new_trace_id,
    post_status,
    put_broken_user,
    xray_trace_id,
)
from testsupport.waiting import closed_port, wait_until

REGION = "us-east-1"  # what the task's AWS::Region resolves to in task_environment
# A task role's credentials, as the sidecars would get them: a key, a secret and a session token.
TASK_ROLE = {
    "AWS_ACCESS_KEY_ID": "ASIATASKROLETEST0001",
    "AWS_SECRET_ACCESS_KEY": "task-role-secret-for-the-loopback-test",
    "AWS_SESSION_TOKEN": "task-role-session-token-for-the-loopback-test",
}
COLLECTOR_CONFIG_VARIABLE = "AOT_CONFIG_CONTENT"  # where ADOT reads its whole configuration
HONEYCOMB_HOST = r"api\.honeycomb\.io"
XRAY_HOST = r"xray\.(\$\{env:AWS_REGION\}|" + re.escape(REGION) + r")\.amazonaws\.com"
TRACED_REQUESTS = 4
RULE_SAMPLED_REQUESTS = 3
IN_FLIGHT_REQUESTS = 6
TARGETS_WITHIN_SECONDS = 40  # the service reports statistics every 10 s; the first report waits for requests


@dataclass
class TaskRun:
    """What one run of the task left: the stand-ins, the containers' logs and exit statuses, and the trace ids sent."""

    name: str
    xray_sdk: bool
    daemon_missing: str | None  # why the daemon could not be built, where it could not
    honeycomb_key: str
    collector_config: dict[str, Any]
    collector_config_text: str  # the SSM parameter's text, as the template has it
    injected_collector_config: str = ""  # what the collector's environment carried before the test moved its ports
    daemon_container: dict[str, Any] = field(default_factory=dict)
    xray: XRayApi = None  # type: ignore[assignment]
    honeycomb: OtlpReceiver = None  # type: ignore[assignment]
    rollbar: RollbarApi = None  # type: ignore[assignment]
    udp_daemon: XRayDaemon | None = None
    traced: list[str] = field(default_factory=list)
    in_flight: list[str] = field(default_factory=list)
    error_trace: str = ""
    statuses: dict[str, list[int]] = field(default_factory=dict)  # kind of request -> the statuses they got
    targets_reported: bool = False  # a SamplingTargets call reached X-Ray within TARGETS_WITHIN_SECONDS
    health_check: subprocess.CompletedProcess | None = None
    app_log: list[dict[str, Any]] = field(default_factory=list)
    exit_status: dict[str, int | None] = field(default_factory=dict)
    logs: dict[str, str] = field(default_factory=dict)


# dev as shipped runs the X-Ray SDK and its daemon; dev-otel is dev on the OpenTelemetry-only path.
SDK_PATH = "dev"
OPENTELEMETRY_PATH = "dev-otel"


@pytest.fixture(scope="module")
def task_runs(synthesized_environments, tmp_path_factory):
    """Each environment's task, run at most once per module, when a test first asks for it."""
    runs: dict[str, TaskRun] = {}

    def run_of(name: str) -> TaskRun:
        if name not in runs:
            runs[name] = _run_task(name, synthesized_environments, tmp_path_factory)
        return runs[name]

    return run_of


@pytest.fixture(params=[SDK_PATH, OPENTELEMETRY_PATH])
def task_run(request, task_runs) -> TaskRun:
    """The dev task on either X-Ray path: what holds on both."""
    return task_runs(request.param)


@pytest.fixture(params=[SDK_PATH])
def sdk_task_run(request, task_runs) -> TaskRun:
    """The dev task on the X-Ray SDK's path, with its daemon (skipped, saying why, where the daemon cannot be built)."""
    run = task_runs(request.param)
    assert run.xray_sdk, f"{run.name} was expected to run the X-Ray SDK"
    _needs_the_daemon(run)
    return run


@pytest.fixture(params=[OPENTELEMETRY_PATH])
def opentelemetry_task_run(request, task_runs) -> TaskRun:
    """The dev task on the OpenTelemetry-only path (no X-Ray SDK, no daemon)."""
    run = task_runs(request.param)
    assert not run.xray_sdk, f"{run.name} was expected to run without the X-Ray SDK"
    return run


def _run_task(name: str, synthesized_environments, tmp_path_factory) -> TaskRun:
    """The dev task on one X-Ray path, run with the real sidecars, requests sent, then stopped as ECS stops it."""
    env = synthesized_environments(name)
    workdir = tmp_path_factory.mktemp(name)
    app = templates.app_container(env)
    containers = templates.sidecars(env)
    xray_sdk = env.config.telemetry.xray_sdk
    collector_binary, healthcheck_binary = sidecars.collector(), sidecars.healthcheck()
    daemon_binary, daemon_missing = None, None
    if xray_sdk:
        try:
            daemon_binary = sidecars.xray_daemon()
        except sidecars.SidecarUnavailable as missing:
            daemon_missing = str(missing)
    table_ref = templates.environment(app)[contract.DYNAMODB_TABLE_NAME.name]["Ref"]
    honeycomb_key = f"test-value-for-{contract.SECRET_HONEYCOMB_API_KEY.lower()}"  # the fake secret ECS would inject
    collector_environ = sidecars.collector_environment(env, secrets={contract.SECRET_HONEYCOMB_API_KEY: honeycomb_key})
    run = TaskRun(name=name, xray_sdk=xray_sdk, daemon_missing=daemon_missing, honeycomb_key=honeycomb_key,
                  collector_config=templates.collector_configuration(env),
                  collector_config_text=templates.collector_configuration_text(env),
                  injected_collector_config=collector_environ[COLLECTOR_CONFIG_VARIABLE],
                  daemon_container=containers.get(contract.XRAY_DAEMON_CONTAINER_NAME, {}))  # fmt: skip

    with ExitStack() as stack:
        dynamodb = stack.enter_context(MotoServer(workdir / "moto.log"))
        run.xray = stack.enter_context(
            XRayApi(templates.sampling_rules(env), region=REGION, access_key=TASK_ROLE["AWS_ACCESS_KEY_ID"],
                    secret_key=TASK_ROLE["AWS_SECRET_ACCESS_KEY"], session_token=TASK_ROLE["AWS_SESSION_TOKEN"])
        )  # fmt: skip
        run.honeycomb = stack.enter_context(OtlpReceiver())
        run.rollbar = stack.enter_context(RollbarApi())
        table_name = create_service_table(dynamodb.url)
        put_broken_user(dynamodb.url, table_name, REGION)
        backends = {HONEYCOMB_HOST: run.honeycomb.url} | ({} if xray_sdk else {XRAY_HOST: run.xray.url})
        config_text, ports = collector_config_on_loopback(
            run.collector_config_text, backends=backends, xray_endpoint=run.xray.url
        )
        collector_environ[COLLECTOR_CONFIG_VARIABLE] = config_text  # only listeners and backends moved
        running: list[ContainerProcess] = []

        def start(name: str, start_process) -> ContainerProcess:
            running.append(stack.enter_context(ContainerProcess(name, workdir / f"{name}.log", start_process)))
            return running[-1]

        environ = task_environment(app, {table_ref: table_name}) | TASK_ROLE
        if daemon_binary is not None:
            udp_port, tcp_port = closed_port(), closed_port()
            command = xray_daemon_command(
                daemon_binary,
                udp_port=udp_port,
                tcp_port=tcp_port,
                region=REGION,
                endpoint=run.xray.url,
                config_dir=workdir,
            )
            daemon = start(
                contract.XRAY_DAEMON_CONTAINER_NAME,
                program(command, task_environment(run.daemon_container, {}) | TASK_ROLE),
            )
            daemon.wait_ready(lambda: tcp_port_open(tcp_port))
            environ[contract.XRAY_DAEMON_ADDRESS.name] = f"127.0.0.1:{udp_port}"
            environ[contract.XRAY_SAMPLING_ENDPOINT.name] = f"http://127.0.0.1:{tcp_port}"
        elif daemon_missing is not None:
            # No daemon to run: the SDK's frames and the sampling API go to the old stand-ins, so the rest still runs.
            run.udp_daemon = stack.enter_context(XRayDaemon())
            environ[contract.XRAY_DAEMON_ADDRESS.name] = run.udp_daemon.address
            environ[contract.XRAY_SAMPLING_ENDPOINT.name] = stack.enter_context(
                XRaySamplingApi(templates.sampling_rules(env))
            ).url
        else:
            environ[contract.XRAY_SAMPLING_ENDPOINT.name] = f"http://127.0.0.1:{ports['awsproxy']}"
        collector = start(
            contract.COLLECTOR_CONTAINER_NAME, program([str(collector_binary)], collector_environ | TASK_ROLE)
        )
        # The task's /healthcheck, on the port the collector's health_check moved to.
        health_check = [str(healthcheck_binary), "--port", str(ports["health_check"])]
        collector.wait_ready(lambda: subprocess.run(health_check, capture_output=True, timeout=10).returncode == 0)

        environ |= {
            contract.OTEL_EXPORTER_OTLP_ENDPOINT.name: f"http://127.0.0.1:{ports['otlp_http']}",
            contract.ROLLBAR_ENDPOINT.name: run.rollbar.endpoint,
            contract.AWS_ENDPOINT_URL_DYNAMODB.name: dynamodb.url,
            contract.AWS_ENDPOINT_URL_LOGS.name: dynamodb.url,
        }
        port = closed_port()
        base = f"http://127.0.0.1:{port}"
        service = start(
            contract.APP_CONTAINER_NAME, lambda out: start_gunicorn(environ, port, app["Command"], output=out)
        )
        service.wait_ready(lambda: http_status(f"{base}{contract.HEALTH_CHECK_PATH}") == 200)

        run.traced = [new_trace_id() for _ in range(TRACED_REQUESTS)]
        run.statuses["traced"] = [post_status(port, f"trace {trace_id}", trace_id) for trace_id in run.traced]
        # No caller decision: the rules decide, and their statistics go to X-Ray.
        run.statuses["rule sampled"] = [
            http_status(f"{base}/api/activities/home") for _ in range(RULE_SAMPLED_REQUESTS)
        ]
        run.error_trace = new_trace_id()
        run.statuses["raising"] = [http_status(f"{base}/api/activities/@{BROKEN_HANDLE}", run.error_trace)]
        run.health_check = subprocess.run(health_check, capture_output=True, text=True, timeout=10)
        run.targets_reported = run.udp_daemon is not None or wait_until(
            lambda: run.xray.received("GetSamplingTargets") > 0, timeout=TARGETS_WITHIN_SECONDS, interval=0.5
        )
        for process in running:
            process.assert_running()

        # Requests answered just before ECS stops the task: their spans and segments are still in the sidecars.
        run.in_flight = [new_trace_id() for _ in range(IN_FLIGHT_REQUESTS)]
        run.statuses["in flight"] = [post_status(port, f"in flight {trace_id}", trace_id) for trace_id in run.in_flight]
        run.exit_status[service.name] = service.stop()
        for sidecar in running[:-1]:  # after the app, as ECS orders a stop by the containers' dependencies
            run.exit_status[sidecar.name] = sidecar.stop()
        run.logs = {process.name: process.log() for process in running}
    run.app_log = json_lines(run.logs[contract.APP_CONTAINER_NAME])
    return run


def _xray_trace_ids(run: TaskRun) -> set[str]:
    """The trace ids that reached X-Ray (or, without a daemon, its UDP stand-in), as OpenTelemetry writes them."""
    if run.udp_daemon is not None:
        return {s["trace_id"].replace("-", "")[1:] for s in run.udp_daemon.segments}
    if run.xray_sdk:
        return {s["trace_id"].replace("-", "")[1:] for s in run.xray.segments}
    return {s.trace_id for s in run.xray.otlp_spans}


def _needs_the_daemon(run: TaskRun) -> None:
    if run.daemon_missing is not None:
        pytest.skip(f"{run.daemon_missing} (this run sent the SDK's segments and sampling to the older stand-ins)")


def _honeycomb_trace_ids(run: TaskRun) -> set[str]:
    return {span.trace_id for span in run.honeycomb.spans}


# How the containers were started and what the requests got


def test_the_collector_gets_the_ssm_parameters_text_as_ecs_injects_it(task_run):
    """AOT_CONFIG_CONTENT is the configuration parameter's text, unchanged, before the test moves its ports."""
    assert task_run.injected_collector_config == task_run.collector_config_text


def test_the_daemon_runs_its_images_entrypoint(sdk_task_run):
    """The task definition gives the daemon no command or entrypoint of its own: the image's runs."""
    assert "Command" not in sdk_task_run.daemon_container and "EntryPoint" not in sdk_task_run.daemon_container


def test_every_request_gets_its_normal_status(task_run):
    """Traced POSTs, rule-sampled GETs and the POSTs just before the stop are 200; the request that raises is a 500."""
    assert task_run.statuses == {
        "traced": [200] * TRACED_REQUESTS,
        "rule sampled": [200] * RULE_SAMPLED_REQUESTS,
        "raising": [500],
        "in flight": [200] * IN_FLIGHT_REQUESTS,
    }


# X-Ray


def test_every_request_reaches_x_ray_through_its_sidecar(task_run):
    """Every traced request, the one that raised and those just before the stop have their trace in X-Ray."""
    _needs_the_daemon(task_run)
    sent = set(task_run.traced + task_run.in_flight + [task_run.error_trace])
    assert sent <= _xray_trace_ids(task_run)


def test_the_daemon_batches_segments_into_put_trace_segments(sdk_task_run):
    """SDK path: the daemon sends several segments in one PutTraceSegments call, not one call per segment."""
    assert max(sdk_task_run.xray.batch_sizes) > 1, "the daemon sent each segment alone"


def test_on_the_sdk_path_no_otlp_reaches_x_ray(sdk_task_run):
    """SDK path: the daemon's PutTraceSegments carries the traces; the collector sends X-Ray no OTLP."""
    assert sdk_task_run.xray.received("OTLP traces") == 0


def test_on_the_opentelemetry_path_the_collector_sends_otlp_to_x_ray(opentelemetry_task_run):
    """OpenTelemetry-only path: the collector exports OTLP to X-Ray, and nothing calls PutTraceSegments."""
    assert opentelemetry_task_run.xray.received("OTLP traces") >= 1
    assert opentelemetry_task_run.xray.received("PutTraceSegments") == 0


def test_every_request_the_sidecars_made_to_x_ray_is_one_x_ray_accepts(task_run):
    """No request off X-Ray's model, no bad signature, no segment off the schema."""
    task_run.xray.assert_clean()
    if task_run.udp_daemon is not None:
        task_run.udp_daemon.assert_segments_valid()


# Sampling through the sidecar


def test_sampling_rules_travel_through_the_sidecar_signed_for_x_ray(task_run):
    """GetSamplingRules goes service -> daemon or awsproxy -> X-Ray, signed (SigV4) for xray."""
    _needs_the_daemon(task_run)
    assert task_run.xray.received("GetSamplingRules") >= 1


def test_sampling_targets_reach_x_ray_with_the_rules_statistics(task_run):
    """Within TARGETS_WITHIN_SECONDS a SamplingTargets call reaches X-Ray with a statistics document that counted
    requests.
    """
    _needs_the_daemon(task_run)
    assert task_run.targets_reported and task_run.xray.received("GetSamplingTargets") >= 1, (
        f"no SamplingTargets reached X-Ray within {TARGETS_WITHIN_SECONDS} s; app log:\n"
        + "\n".join(task_run.logs[contract.APP_CONTAINER_NAME].splitlines()[-40:])
    )
    assert any(doc["RequestCount"] > 0 for doc in task_run.xray.statistics), "no statistics document reached X-Ray"


def test_the_service_says_it_samples_with_the_accounts_rules_and_reports_no_sampling_failure(task_run):
    """The app log has "sampling with the account's X-Ray rules", and no failure to refresh rules or report targets."""
    _needs_the_daemon(task_run)
    messages = [line.get("message", "") for line in task_run.app_log]
    assert any(m.startswith("sampling with the account's X-Ray rules") for m in messages)
    failures = [
        m for m in messages if m.startswith(("could not report X-Ray sampling", "could not refresh the X-Ray sampling"))
    ]
    assert failures == []


# Honeycomb


def test_every_export_to_honeycomb_carries_the_secret_as_its_team_header(task_run):
    """Each export has x-honeycomb-team equal to the secret ECS injected into the collector."""
    teams = [
        {k.lower(): v for k, v in headers.items()}.get("x-honeycomb-team") for headers in task_run.honeycomb.headers
    ]
    assert teams and set(teams) == {task_run.honeycomb_key}


def test_every_traced_request_reaches_honeycomb(task_run):
    """The spans of every traced request, those just before the stop included, reach Honeycomb."""
    assert set(task_run.traced + task_run.in_flight) <= _honeycomb_trace_ids(task_run)


def test_the_collector_sends_honeycomb_only_otlp_traces(task_run):
    """Every request to Honeycomb is to /v1/traces (the stand-in decodes each as OTLP, and fails on bad OTLP)."""
    assert set(task_run.honeycomb.paths) == {"/v1/traces"}


# The request that raised: one trace id in every sink


def test_the_failing_request_has_one_trace_id_in_x_ray_honeycomb_and_its_log_line(task_run):
    """The request that raised is in X-Ray and Honeycomb under its trace id, and its one unhandled-exception line
    has it.
    """
    trace_id = task_run.error_trace
    assert trace_id in _xray_trace_ids(task_run)
    assert trace_id in _honeycomb_trace_ids(task_run)
    unhandled = [line for line in task_run.app_log if line.get("message") == "unhandled exception"]
    assert [line["trace_id"] for line in unhandled] == [trace_id]


def test_exactly_one_rollbar_item_for_the_failing_request_with_both_forms_of_its_trace_id(task_run):
    """The one Rollbar item is the failing request's: its W3C trace id and X-Ray's form of it."""
    (item,) = task_run.rollbar.items
    assert item["data"]["custom"]["trace_id"] == task_run.error_trace
    assert item["data"]["custom"]["xray_trace_id"] == xray_trace_id(task_run.error_trace)


# The collector's health check


def test_the_collector_health_check_answers_as_the_task_asks_it(task_run):
    """The task runs /healthcheck, which asks 127.0.0.1:13133/: the configuration's health_check is there, and it
    passed.
    """
    assert task_run.collector_config["extensions"]["health_check"]["endpoint"].endswith(f":{COLLECTOR_HEALTH_PORT}")
    assert task_run.health_check.returncode == 0, task_run.health_check.stderr
    assert task_run.health_check.stdout.strip() == "STATUS: 200"


# Stopping as ECS stops a task


def test_requests_answered_just_before_the_stop_reach_x_ray(task_run):
    """The segments or spans the sidecars still held when SIGTERM came are sent before they exit."""
    assert set(task_run.in_flight) <= _xray_trace_ids(task_run)


def test_requests_answered_just_before_the_stop_reach_honeycomb(task_run):
    """The spans the collector still held when SIGTERM came are sent before it exits."""
    assert set(task_run.in_flight) <= _honeycomb_trace_ids(task_run)


def test_sigterm_stops_every_container_with_status_0_within_the_stop_timeout(task_run):
    """The app, then each sidecar, exits 0 on SIGTERM (``ContainerProcess.stop`` fails past the 30 s stop timeout)."""
    assert task_run.exit_status == dict.fromkeys(task_run.exit_status, 0), task_run.exit_status


# Without running the task


def test_a_container_that_exits_fails_the_test_with_its_last_log_lines(tmp_path):
    """A sidecar that stops before it is ready is a test failure quoting what it printed last."""
    command = [sys.executable, "-c", "print('error decoding AOT_CONFIG_CONTENT: bad config'); raise SystemExit(1)"]
    with ContainerProcess("aws-otel-collector", tmp_path / "collector.log", program(command, {})) as collector:
        with pytest.raises(pytest.fail.Exception, match=r"(?s)exited with status 1.*bad config"):
            collector.wait_ready(lambda: False, timeout=10)


@pytest.mark.parametrize("name", ["dev", "dev-otel"])
def test_only_listeners_and_backends_differ_from_the_deployed_collector_configuration(name, synthesized_environments):
    """On loopback the collector listens on free 127.0.0.1 ports and exports to the stand-ins; nothing else changes."""
    env = synthesized_environments(name)
    deployed = templates.collector_configuration(env)
    backends = {HONEYCOMB_HOST: "http://127.0.0.1:1"} | (
        {} if env.config.telemetry.xray_sdk else {XRAY_HOST: "http://127.0.0.1:2"}
    )
    text, ports = collector_config_on_loopback(templates.collector_configuration_text(env), backends=backends)
    loopback = yaml.safe_load(text)
    assert loopback["processors"] == deployed["processors"]
    # The collector's own metrics endpoint (localhost:8888 unless told) moves too: two collectors share this machine.
    telemetry = loopback["service"].pop("telemetry")
    assert telemetry["metrics"]["readers"][0]["pull"]["exporter"]["prometheus"] == {
        "host": "127.0.0.1",
        "port": ports["metrics"],
    }
    assert loopback["service"] == deployed["service"]
    assert loopback["extensions"]["health_check"] == {"endpoint": f"127.0.0.1:{ports['health_check']}"}
    exporters = json.dumps(loopback["exporters"])
    assert "honeycomb.io" not in exporters and "amazonaws.com" not in exporters
    assert json.dumps(loopback).count("0.0.0.0") == 0
