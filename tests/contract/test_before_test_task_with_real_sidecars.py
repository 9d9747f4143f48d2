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

The task is started once per path (``task_run``) and stopped as ECS stops
it: SIGTERM to the app, then to the sidecars, each within the 30 s stop
timeout; the tests then read what every backend received.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import boto3
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
from testsupport.gunicorn import post_activity, start_gunicorn, task_environment
from testsupport.standins.aws import MotoServer, create_service_table
from testsupport.standins.otlp import OtlpReceiver
from testsupport.standins.rollbar import RollbarApi
from testsupport.standins.xray_api import XRayApi
from testsupport.standins.xray_daemon import XRayDaemon
from testsupport.standins.xray_sampling_api import XRaySamplingApi
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
BROKEN_HANDLE = "broken"  # a user item without display_name: reading it raises, an unhandled 500
TARGETS_WITHIN_SECONDS = 40  # the service reports statistics every 10 s; the first report waits for requests


@dataclass
class TaskRun:
    """What one run of the task left: the stand-ins, the containers' logs and exit statuses, and the trace ids sent."""

    name: str
    xray_sdk: bool
    daemon_missing: str | None  # why the daemon could not be built, where it could not
    honeycomb_key: str
    collector_config: dict[str, Any]
    xray: XRayApi = None  # type: ignore[assignment]
    honeycomb: OtlpReceiver = None  # type: ignore[assignment]
    rollbar: RollbarApi = None  # type: ignore[assignment]
    udp_daemon: XRayDaemon | None = None
    traced: list[str] = field(default_factory=list)
    in_flight: list[str] = field(default_factory=list)
    error_trace: str = ""
    health_check: subprocess.CompletedProcess | None = None
    app_log: list[dict[str, Any]] = field(default_factory=list)
    exit_status: dict[str, int | None] = field(default_factory=dict)
    logs: dict[str, str] = field(default_factory=dict)


def _xray_id(trace_id: str) -> str:
    return f"1-{trace_id[:8]}-{trace_id[8:]}"


def _new_trace_id() -> str:
    return f"6b01{uuid.uuid4().hex[4:]}"


def _status(url: str, trace_id: str | None = None) -> int:
    headers = {"traceparent": f"00-{trace_id}-{'1' * 16}-01"} if trace_id else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


def _put_broken_user(moto_url: str, table_name: str) -> None:
    client = boto3.client(
        "dynamodb", endpoint_url=moto_url, region_name=REGION, aws_access_key_id="t", aws_secret_access_key="t"
    )
    client.put_item(
        TableName=table_name,
        Item={"pk": {"S": f"USER#{BROKEN_HANDLE}"}, "sk": {"S": "PROFILE"}, "handle": {"S": BROKEN_HANDLE}},
    )


@pytest.fixture(scope="module", params=["dev", "dev-otel"])
def task_run(request, synthesized_environments, tmp_path_factory) -> TaskRun:
    """The dev task on one X-Ray path, run with the real sidecars, requests sent, then stopped as ECS stops it."""
    env = synthesized_environments(request.param)
    workdir = tmp_path_factory.mktemp(request.param)
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
    run = TaskRun(name=request.param, xray_sdk=xray_sdk, daemon_missing=daemon_missing, honeycomb_key=honeycomb_key,
                  collector_config=templates.collector_configuration(env))  # fmt: skip

    with ExitStack() as stack:
        dynamodb = stack.enter_context(MotoServer(workdir / "moto.log"))
        run.xray = stack.enter_context(
            XRayApi(templates.sampling_rules(env), region=REGION, access_key=TASK_ROLE["AWS_ACCESS_KEY_ID"],
                    secret_key=TASK_ROLE["AWS_SECRET_ACCESS_KEY"], session_token=TASK_ROLE["AWS_SESSION_TOKEN"])
        )  # fmt: skip
        run.honeycomb = stack.enter_context(OtlpReceiver())
        run.rollbar = stack.enter_context(RollbarApi())
        table_name = create_service_table(dynamodb.url)
        _put_broken_user(dynamodb.url, table_name)
        backends = {HONEYCOMB_HOST: run.honeycomb.url} | ({} if xray_sdk else {XRAY_HOST: run.xray.url})
        config_text, ports = collector_config_on_loopback(
            templates.collector_configuration_text(env), backends=backends, xray_endpoint=run.xray.url
        )
        assert collector_environ[COLLECTOR_CONFIG_VARIABLE] == templates.collector_configuration_text(
            env
        )  # as ECS injects it
        collector_environ[COLLECTOR_CONFIG_VARIABLE] = config_text  # then only listeners and backends moved
        running: list[ContainerProcess] = []

        def start(name: str, start_process) -> ContainerProcess:
            running.append(stack.enter_context(ContainerProcess(name, workdir / f"{name}.log", start_process)))
            return running[-1]

        environ = task_environment(app, {table_ref: table_name}) | TASK_ROLE
        if daemon_binary is not None:
            daemon_container = containers[contract.XRAY_DAEMON_CONTAINER_NAME]
            assert (
                "Command" not in daemon_container and "EntryPoint" not in daemon_container
            )  # the image's entrypoint runs
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
                program(command, task_environment(daemon_container, {}) | TASK_ROLE),
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
        health_check = [
            str(healthcheck_binary),
            "--port",
            str(ports["health_check"]),
        ]  # the task's /healthcheck, on our port
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
        service.wait_ready(lambda: _status(f"{base}{contract.HEALTH_CHECK_PATH}") == 200)

        run.traced = [_new_trace_id() for _ in range(TRACED_REQUESTS)]
        for trace_id in run.traced:
            assert post_activity(port, f"trace {trace_id}", trace_id) == 200
        for _ in range(RULE_SAMPLED_REQUESTS):  # no caller decision: the rules decide, and their statistics go to X-Ray
            assert _status(f"{base}/api/activities/home") == 200
        run.error_trace = _new_trace_id()
        assert _status(f"{base}/api/activities/@{BROKEN_HANDLE}", run.error_trace) == 500
        run.health_check = subprocess.run(health_check, capture_output=True, text=True, timeout=10)
        if run.udp_daemon is None and not wait_until(
            lambda: run.xray.received("GetSamplingTargets") > 0, timeout=TARGETS_WITHIN_SECONDS, interval=0.5
        ):
            pytest.fail(
                f"no SamplingTargets reached X-Ray within {TARGETS_WITHIN_SECONDS} s; app log:\n{service.last_lines()}"
            )
        for process in running:
            process.assert_running()

        # Requests answered just before ECS stops the task: their spans and segments are still in the sidecars.
        run.in_flight = [_new_trace_id() for _ in range(IN_FLIGHT_REQUESTS)]
        for trace_id in run.in_flight:
            assert post_activity(port, f"in flight {trace_id}", trace_id) == 200
        run.exit_status[service.name] = service.stop()
        for sidecar in running[:-1]:  # after the app, as ECS orders a stop by the containers' dependencies
            run.exit_status[sidecar.name] = sidecar.stop()
        run.logs = {process.name: process.log() for process in running}
    run.app_log = [
        json.loads(line) for line in run.logs[contract.APP_CONTAINER_NAME].splitlines() if line.startswith("{")
    ]
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


def test_every_request_reaches_x_ray_through_its_sidecar(task_run):
    """SDK path: the daemon batches segments into PutTraceSegments; OpenTelemetry path: the collector sends OTLP to
    X-Ray.
    """
    _needs_the_daemon(task_run)
    sent = set(task_run.traced + task_run.in_flight + [task_run.error_trace])
    assert sent <= _xray_trace_ids(task_run)
    if task_run.xray_sdk:
        assert max(task_run.xray.batch_sizes) > 1, "the daemon sent each segment alone"
        assert task_run.xray.received("OTLP traces") == 0
    else:
        assert task_run.xray.received("OTLP traces") >= 1
        assert task_run.xray.received("PutTraceSegments") == 0


def test_spans_reach_honeycomb_with_the_secret_as_its_team_header(task_run):
    """Every export to Honeycomb carries x-honeycomb-team equal to the injected secret, and every request's spans."""
    teams = [
        {k.lower(): v for k, v in headers.items()}.get("x-honeycomb-team") for headers in task_run.honeycomb.headers
    ]
    assert teams and set(teams) == {task_run.honeycomb_key}  # every export, the secret's value
    assert set(task_run.traced + task_run.in_flight) <= {s.trace_id for s in task_run.honeycomb.spans}


def test_one_trace_id_across_x_ray_honeycomb_the_log_lines_and_rollbar(task_run):
    """The request that raised has one trace id in X-Ray, Honeycomb, its stdout log line and its Rollbar item."""
    trace_id = task_run.error_trace
    assert trace_id in _xray_trace_ids(task_run)
    assert trace_id in {s.trace_id for s in task_run.honeycomb.spans}
    (item,) = task_run.rollbar.items
    assert item["data"]["custom"]["trace_id"] == trace_id
    assert item["data"]["custom"]["xray_trace_id"] == _xray_id(trace_id)
    unhandled = [line for line in task_run.app_log if line.get("message") == "unhandled exception"]
    assert [line["trace_id"] for line in unhandled] == [trace_id]


def test_sampling_rules_and_targets_travel_through_the_sidecar_signed_for_x_ray(task_run):
    """GetSamplingRules and SamplingTargets go service -> daemon or awsproxy -> X-Ray (SigV4 for xray) and back."""
    _needs_the_daemon(task_run)
    assert task_run.xray.received("GetSamplingRules") >= 1
    assert task_run.xray.received("GetSamplingTargets") >= 1
    assert any(doc["RequestCount"] > 0 for doc in task_run.xray.statistics), "no statistics document reached X-Ray"
    messages = [line.get("message", "") for line in task_run.app_log]
    assert any(m.startswith("sampling with the account's X-Ray rules") for m in messages)
    failures = [
        m for m in messages if m.startswith(("could not report X-Ray sampling", "could not refresh the X-Ray sampling"))
    ]
    assert failures == []


def test_the_collector_health_check_answers_as_the_task_asks_it(task_run):
    """The task runs /healthcheck, which asks 127.0.0.1:13133/: the configuration's health_check is there, and it
    passed.
    """
    assert task_run.collector_config["extensions"]["health_check"]["endpoint"].endswith(f":{COLLECTOR_HEALTH_PORT}")
    assert task_run.health_check.returncode == 0, task_run.health_check.stderr
    assert task_run.health_check.stdout.strip() == "STATUS: 200"


def test_sigterm_stops_every_container_in_time_and_loses_nothing_the_sidecars_held(task_run):
    """Requests answered just before the stop reach X-Ray and Honeycomb; every container exits 0 within 30 s."""
    assert set(task_run.in_flight) <= _xray_trace_ids(task_run)
    assert set(task_run.in_flight) <= {s.trace_id for s in task_run.honeycomb.spans}
    assert task_run.exit_status == dict.fromkeys(task_run.exit_status, 0), task_run.exit_status


def test_every_request_the_sidecars_made_was_one_x_ray_and_honeycomb_accept(task_run):
    """No request off X-Ray's model, no bad signature, no segment off the schema, no bad OTLP."""
    task_run.xray.assert_clean()
    if task_run.udp_daemon is not None:
        task_run.udp_daemon.assert_segments_valid()
    assert set(task_run.honeycomb.paths) == {"/v1/traces"}


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
