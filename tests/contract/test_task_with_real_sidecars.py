"""The synthesized dev task, run as ECS runs it, with the real sidecars, on each of the four X-Ray paths.

The paths (the environment's ``telemetry.xray_path``), one task run each:

* ``dev`` as shipped: the X-Ray SDK sends its segments to the X-Ray daemon
  (UDP 2000) and asks it for sampling (TCP 2000); the collector sends the
  OpenTelemetry spans to Honeycomb only;
* ``dev-sdk-collector``: the X-Ray SDK as above, the collector in the
  daemon's place (its ``awsxray`` receiver on UDP and TCP 2000, the
  ``awsxray`` exporter to ``PutTraceSegments``); no daemon container;
* ``dev-otel``: no X-Ray SDK; the collector sends the spans to X-Ray's OTLP
  endpoint and serves sampling with ``awsproxy``;
* ``dev-otel-segments``: no X-Ray SDK; the collector's ``awsxray`` exporter
  sends the spans as segments (``PutTraceSegments``); ``awsproxy`` for sampling.

The containers run as processes on loopback:

* the app: gunicorn with the task definition's command and environment;
* the X-Ray daemon (built from aws-xray-daemon by ``make sidecars``) with
  its image's entrypoint, on the daemon path. Its Go module is refused by
  the module proxy today, so where it cannot be built the collector's
  ``awsxray`` receiver and exporter (``ecs_task.collector_in_the_daemons_place``)
  run in its place: a real program reads the SDK's frames, proxies its
  sampling calls and sends ``PutTraceSegments``, and no check of the daemon
  path skips for want of a daemon (the run's id and a warning say which ran);
* the collector (built from the OpenTelemetry Collector's modules) with the
  SSM parameter's text as ``AOT_CONFIG_CONTENT`` and the Honeycomb key from a
  fake secret, as ECS injects them.

Where AWS and Honeycomb would be, stand-ins: X-Ray's API
(``standins.xray_api``: every request checked against botocore's model,
every segment document against X-Ray's schema, its SigV4 signature
recomputed for service ``xray`` in the task's region), Honeycomb's OTLP
endpoint (``standins.otlp``), Rollbar (``standins.rollbar``) and moto's
DynamoDB. The sidecars reach them through their own endpoint overrides and
take credentials from the environment, with a session token as a task role's
have. Between the app and its sampling sidecar a relay (``testsupport.relay``)
keeps what the app sent and got, and between the SDK and the reader of its
frames the UDP stand-in (``standins.xray_daemon``) keeps each frame and
passes it on, to compare with what reached X-Ray. The
stand-in serves the deployed rules with prod's boost on the seed rule, so
that boost statistics travel too. Only listening ports and backend endpoints
differ from the deployed task (``testsupport.ecs_task``).

The task is started once per path (``task_runs``) and stopped as ECS stops
it: SIGTERM to the app, then to the sidecars, each within the 30 s stop
timeout; the tests then read what every backend received.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import warnings
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import pytest
import yaml

from cruddur import contract
from flask_aws_telemetry_cdk.components.collector_config import COLLECTOR_HEALTH_PORT
from flask_aws_telemetry_cdk.models.collector_xray import CollectorXRay
from testsupport import sidecars, templates
from testsupport.ecs_task import (
    ContainerProcess,
    collector_config_on_loopback,
    collector_in_the_daemons_place,
    program,
    tcp_port_open,
    xray_daemon_command,
)
from testsupport.gunicorn import start_gunicorn, task_environment
from testsupport.relay import RecordingRelay
from testsupport.standins.aws import MotoServer, create_service_table
from testsupport.standins.otlp import OtlpReceiver
from testsupport.standins.rollbar import RollbarApi
from testsupport.standins.xray_api import XRayApi
from testsupport.standins.xray_daemon import XRayDaemon
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
PROD_BOOST = {"MaxRate": 0.25, "CooldownWindowMinutes": 15}  # prod's seed rule's SamplingRateBoost


@dataclass
class TaskRun:
    """What one run of the task left: the stand-ins, the containers' logs and exit statuses, and the trace ids sent."""

    name: str
    xray_sdk: bool
    collector_xray: CollectorXRay
    daemon_missing: str | None  # why the daemon could not be built, where the path has one and it could not
    honeycomb_key: str
    collector_config: dict[str, Any]
    collector_config_text: str  # the SSM parameter's text, as the template has it
    injected_collector_config: str = ""  # what the collector's environment carried before the test moved its ports
    daemon_container: dict[str, Any] = field(default_factory=dict)
    segment_reader: str = ""  # the program that read the SDK's frames: the daemon, or the collector's receiver
    xray: XRayApi = None  # type: ignore[assignment]
    honeycomb: OtlpReceiver = None  # type: ignore[assignment]
    rollbar: RollbarApi = None  # type: ignore[assignment]
    sampling: RecordingRelay = None  # type: ignore[assignment]
    sdk_frames: XRayDaemon | None = None  # on the SDK paths: the frames the SDK sent, passed on to the reader
    traced: list[str] = field(default_factory=list)
    in_flight: list[str] = field(default_factory=list)
    error_trace: str = ""
    statuses: dict[str, list[int]] = field(default_factory=dict)  # kind of request -> the statuses they got
    targets_reported: bool = False  # a SamplingTargets call reached X-Ray within TARGETS_WITHIN_SECONDS
    health_check: subprocess.CompletedProcess | None = None
    app_log: list[dict[str, Any]] = field(default_factory=list)
    exit_status: dict[str, int | None] = field(default_factory=dict)
    logs: dict[str, str] = field(default_factory=dict)

    @property
    def puts_trace_segments(self) -> bool:
        """X-Ray gets this path's traces as segments (PutTraceSegments), not OTLP."""
        return self.collector_xray is not CollectorXRay.OTLP


# dev as shipped runs the X-Ray SDK and its daemon; the others are dev on another X-Ray path (tests/conftest.py).
DAEMON_PATH = "dev"
COLLECTOR_AS_DAEMON_PATH = "dev-sdk-collector"
OTLP_PATH = "dev-otel"
OTEL_SEGMENTS_PATH = "dev-otel-segments"
SDK_PATHS = [DAEMON_PATH, COLLECTOR_AS_DAEMON_PATH]
SEGMENT_PATHS = [DAEMON_PATH, COLLECTOR_AS_DAEMON_PATH, OTEL_SEGMENTS_PATH]
ALL_PATHS = [*SDK_PATHS, OTLP_PATH, OTEL_SEGMENTS_PATH]


def _daemon_path_id() -> str:
    """The daemon path's test id says what reads the SDK's frames there: the daemon, or the receiver in its place."""
    try:
        sidecars.xray_daemon()
    except sidecars.SidecarUnavailable:
        return f"{DAEMON_PATH}-receiver-in-the-daemons-place"
    return DAEMON_PATH


def _ids(paths: list[str]) -> list[str]:
    return [_daemon_path_id() if path == DAEMON_PATH else path for path in paths]


@pytest.fixture(scope="module")
def task_runs(synthesized_environments, tmp_path_factory):
    """Each environment's task, run at most once per module, when a test first asks for it."""
    runs: dict[str, TaskRun] = {}

    def run_of(name: str) -> TaskRun:
        if name not in runs:
            runs[name] = _run_task(name, synthesized_environments, tmp_path_factory)
            if runs[name].daemon_missing is not None:  # said once, in the warnings summary, instead of a skip
                warnings.warn(f"{name}: {runs[name].segment_reader}", stacklevel=2)
        return runs[name]

    return run_of


@pytest.fixture(params=ALL_PATHS, ids=_ids(ALL_PATHS))
def task_run(request, task_runs) -> TaskRun:
    """The dev task on each X-Ray path: what holds on all four."""
    return task_runs(request.param)


@pytest.fixture(params=SDK_PATHS, ids=_ids(SDK_PATHS))
def sdk_task_run(request, task_runs) -> TaskRun:
    """The dev task on the X-Ray SDK's paths: the daemon (or the receiver in its place), and the collector as it."""
    run = task_runs(request.param)
    assert run.xray_sdk, f"{run.name} was expected to run the X-Ray SDK"
    return run


@pytest.fixture(params=SEGMENT_PATHS, ids=_ids(SEGMENT_PATHS))
def segments_task_run(request, task_runs) -> TaskRun:
    """The dev task on each path where X-Ray gets segments (PutTraceSegments)."""
    return task_runs(request.param)


def _sampling_rules(env) -> list[dict[str, Any]]:
    """The deployed rules, prod's boost on those without one: the stand-in serves these, so boosts are reported."""
    return [{"SamplingRateBoost": PROD_BOOST, **rule} for rule in templates.sampling_rules(env)]


Traffic = Callable[[TaskRun, int], None]  # sends requests to the app on a port, given the run


def _run_task(
    name: str, synthesized_environments, tmp_path_factory, *, traffic: Traffic | None = None, rules: list | None = None
) -> TaskRun:
    """The dev task on one X-Ray path, run with the real sidecars, requests sent, then stopped as ECS stops it.

    ``traffic(run, port)`` sends another module's requests instead of this module's (X-Ray's stand-in, ``run.xray``,
    serving ``rules`` instead of the deployed ones with prod's boost, when given); the stop is the same.
    """
    env = synthesized_environments(name)
    workdir = tmp_path_factory.mktemp(name)
    app = templates.app_container(env)
    containers = templates.sidecars(env)
    xray_sdk = env.config.telemetry.xray_sdk
    collector_xray = env.config.telemetry.xray_path.collector_xray
    has_daemon = contract.XRAY_DAEMON_CONTAINER_NAME in containers
    assert has_daemon == (collector_xray is CollectorXRay.NONE), f"{name}: a daemon container iff the daemon path"
    collector_binary, healthcheck_binary = sidecars.collector(), sidecars.healthcheck()
    daemon_binary, daemon_missing = None, None
    if has_daemon:
        try:
            daemon_binary = sidecars.xray_daemon()
        except sidecars.SidecarUnavailable as missing:
            daemon_missing = str(missing)
    table_ref = templates.environment(app)[contract.DYNAMODB_TABLE_NAME.name]["Ref"]
    honeycomb_key = f"test-value-for-{contract.SECRET_HONEYCOMB_API_KEY.lower()}"  # the fake secret ECS would inject
    collector_environ = sidecars.collector_environment(env, secrets={contract.SECRET_HONEYCOMB_API_KEY: honeycomb_key})
    run = TaskRun(name=name, xray_sdk=xray_sdk, collector_xray=collector_xray, daemon_missing=daemon_missing,
                  honeycomb_key=honeycomb_key, collector_config=templates.collector_configuration(env),
                  collector_config_text=templates.collector_configuration_text(env),
                  injected_collector_config=collector_environ[COLLECTOR_CONFIG_VARIABLE],
                  daemon_container=containers.get(contract.XRAY_DAEMON_CONTAINER_NAME, {}))  # fmt: skip

    with ExitStack() as stack:
        dynamodb = stack.enter_context(MotoServer(workdir / "moto.log"))
        run.xray = stack.enter_context(
            XRayApi(_sampling_rules(env) if rules is None else rules,
                    region=REGION, access_key=TASK_ROLE["AWS_ACCESS_KEY_ID"],
                    secret_key=TASK_ROLE["AWS_SECRET_ACCESS_KEY"], session_token=TASK_ROLE["AWS_SESSION_TOKEN"])
        )  # fmt: skip
        run.honeycomb = stack.enter_context(OtlpReceiver())
        run.rollbar = stack.enter_context(RollbarApi())
        table_name = create_service_table(dynamodb.url)
        put_broken_user(dynamodb.url, table_name, REGION)
        backends = {HONEYCOMB_HOST: run.honeycomb.url} | (
            {XRAY_HOST: run.xray.url} if collector_xray is CollectorXRay.OTLP else {}
        )
        config_text, ports = collector_config_on_loopback(
            run.collector_config_text, backends=backends, xray_endpoint=run.xray.url
        )
        collector_environ[COLLECTOR_CONFIG_VARIABLE] = config_text  # only listeners and backends moved
        running: list[ContainerProcess] = []

        def start(name: str, start_process) -> ContainerProcess:
            running.append(stack.enter_context(ContainerProcess(name, workdir / f"{name}.log", start_process)))
            return running[-1]

        environ = task_environment(app, {table_ref: table_name}) | TASK_ROLE
        segments_address, sampling_url = None, None
        if daemon_binary is not None:
            run.segment_reader = "the X-Ray daemon"
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
            segments_address, sampling_url = f"127.0.0.1:{udp_port}", f"http://127.0.0.1:{tcp_port}"
        elif has_daemon:
            # The daemon cannot be built: the collector's awsxray receiver and exporter do its work in its container.
            run.segment_reader = (
                f"{daemon_missing}; the collector's awsxray receiver and exporter read the SDK's frames and proxied "
                "its sampling calls in the daemon's place"
            )
            text, daemon_ports = collector_config_on_loopback(
                collector_in_the_daemons_place(), backends={}, xray_endpoint=run.xray.url
            )
            daemon_environ = task_environment(run.daemon_container, {}) | {"AWS_REGION": REGION} | TASK_ROLE
            daemon = start(
                contract.XRAY_DAEMON_CONTAINER_NAME,
                program([str(collector_binary)], daemon_environ | {COLLECTOR_CONFIG_VARIABLE: text}),
            )
            daemon_health = [str(healthcheck_binary), "--port", str(daemon_ports["health_check"])]
            daemon.wait_ready(lambda: subprocess.run(daemon_health, capture_output=True, timeout=10).returncode == 0)
            segments_address = f"127.0.0.1:{daemon_ports['xray_udp']}"
            sampling_url = f"http://127.0.0.1:{daemon_ports['xray_proxy']}"
        elif collector_xray is CollectorXRay.SDK_SEGMENTS:
            run.segment_reader = "the collector's awsxray receiver"
            segments_address = f"127.0.0.1:{ports['xray_udp']}"
            sampling_url = f"http://127.0.0.1:{ports['xray_proxy']}"
        else:
            sampling_url = f"http://127.0.0.1:{ports['awsproxy']}"
        run.sampling = stack.enter_context(RecordingRelay(sampling_url))
        environ[contract.XRAY_SAMPLING_ENDPOINT.name] = run.sampling.url
        if segments_address is not None:
            run.sdk_frames = stack.enter_context(XRayDaemon(forward_to=segments_address))
            environ[contract.XRAY_DAEMON_ADDRESS.name] = run.sdk_frames.address
        # The image's entrypoint with the container's command, as ECS starts it.
        command = [str(collector_binary), *containers[contract.COLLECTOR_CONTAINER_NAME].get("Command", [])]
        collector = start(contract.COLLECTOR_CONTAINER_NAME, program(command, collector_environ | TASK_ROLE))
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

        if traffic is not None:
            traffic(run, port)
        else:
            run.traced = [new_trace_id() for _ in range(TRACED_REQUESTS)]
            run.statuses["traced"] = [post_status(port, f"trace {trace_id}", trace_id) for trace_id in run.traced]
            # No caller decision: the rules decide, and their statistics go to X-Ray.
            run.statuses["rule sampled"] = [
                http_status(f"{base}/api/activities/home") for _ in range(RULE_SAMPLED_REQUESTS)
            ]
            run.error_trace = new_trace_id()
            run.statuses["raising"] = [http_status(f"{base}/api/activities/@{BROKEN_HANDLE}", run.error_trace)]
        run.health_check = subprocess.run(health_check, capture_output=True, text=True, timeout=10)
        run.targets_reported = wait_until(
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
    # What X-Ray got, and what the SDK sent, kept beside the containers' logs for a reader of a failure.
    (workdir / "xray-segments.json").write_text(json.dumps(run.xray.segments, indent=1))
    if run.sdk_frames is not None:
        (workdir / "sdk-segments.json").write_text(json.dumps(run.sdk_frames.segments, indent=1))
    return run


def _xray_trace_ids(run: TaskRun) -> set[str]:
    """The trace ids that reached X-Ray, as OpenTelemetry writes them."""
    if run.puts_trace_segments:
        return {s["trace_id"].replace("-", "")[1:] for s in run.xray.segments}
    return {s.trace_id for s in run.xray.otlp_spans}


def _honeycomb_trace_ids(run: TaskRun) -> set[str]:
    return {span.trace_id for span in run.honeycomb.spans}


# How the containers were started and what the requests got


def test_the_collector_gets_the_ssm_parameters_text_as_ecs_injects_it(task_run):
    """AOT_CONFIG_CONTENT is the configuration parameter's text, unchanged, before the test moves its ports."""
    assert task_run.injected_collector_config == task_run.collector_config_text


@pytest.mark.parametrize("name", [DAEMON_PATH])
def test_the_daemon_runs_its_images_entrypoint(name, synthesized_environments):
    """The task definition gives the daemon no command or entrypoint of its own: the image's runs."""
    daemon = templates.sidecars(synthesized_environments(name))[contract.XRAY_DAEMON_CONTAINER_NAME]
    assert "Command" not in daemon and "EntryPoint" not in daemon


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
    sent = set(task_run.traced + task_run.in_flight + [task_run.error_trace])
    assert sent <= _xray_trace_ids(task_run)


def test_segments_are_batched_into_put_trace_segments(segments_task_run):
    """Where X-Ray gets segments, the sidecar sends several in one PutTraceSegments call, not one call per segment."""
    assert max(segments_task_run.xray.batch_sizes) > 1, f"{segments_task_run.name}: each segment was sent alone"


def test_where_x_ray_gets_segments_no_otlp_reaches_it(segments_task_run):
    """SDK paths and OpenTelemetry with PutTraceSegments: PutTraceSegments carries the traces, no OTLP reaches X-Ray."""
    assert segments_task_run.xray.received("PutTraceSegments") >= 1
    assert segments_task_run.xray.received("OTLP traces") == 0


@pytest.mark.parametrize("name", [OTLP_PATH])
def test_on_the_otlp_path_the_collector_sends_otlp_to_x_ray(name, task_runs):
    """OpenTelemetry to X-Ray's OTLP endpoint: the collector exports OTLP to X-Ray, and nothing calls
    PutTraceSegments."""
    run = task_runs(name)
    assert run.xray.received("OTLP traces") >= 1
    assert run.xray.received("PutTraceSegments") == 0


@pytest.mark.parametrize("name", [OTEL_SEGMENTS_PATH])
def test_on_the_otel_segments_path_indexed_attributes_are_annotations_under_the_sdk_paths_keys(name, task_runs):
    """The awsxray exporter makes the indexed span attributes annotations, with underscores for dots as the X-Ray
    SDK path writes them (anomaly_captured, app_now), so the same groups and filter expressions find them."""
    run = task_runs(name)
    indexed = run.collector_config["exporters"]["awsxray"]["indexed_attributes"]
    keys = {key for segment in run.xray.segments for key in segment.get("annotations", {})}
    assert keys, "no segment X-Ray got has an annotation"
    assert keys <= {attribute.replace(".", "_") for attribute in indexed}, keys


def test_on_the_sdk_paths_the_sdks_own_segments_reach_x_ray(sdk_task_run):
    """The segments X-Ray gets are the SDK's (its name and version in aws.xray), read by the daemon or the
    receiver."""
    sdks = {json.dumps(s.get("aws", {}).get("xray", {}), sort_keys=True) for s in sdk_task_run.xray.segments}
    assert all("X-Ray for Python" in sdk for sdk in sdks), sdks


# What the collector's receiver and exporter change in the SDK's segments on their way to X-Ray, where
# the daemon passes them on as the SDK wrote them: each is upstream's (I30_FINDINGS / docs), none is ours.
# A field path (list positions as []) -> why it differs.
RECEIVER_AND_EXPORTER_CHANGES: dict[str, str] = {
    "aws": "the SDK's name and version copied into every subsegment that had no aws field",
    "aws.xray": "the same, where the subsegment had aws fields of its own",
    "aws.xray.auto_instrumentation": "added as false",
    "aws.xray.sdk": "'X-Ray for Python' becomes 'X-Ray for Python for Python': the receiver keeps the whole string as "
    "telemetry.sdk.name and 'Python' as its language, the exporter joins them with ' for '",
    "cause.exceptions[].id": "each exception gets a new id (the exporter rebuilds them from exception events)",
    "cause.exceptions[].stack[].line": "every stack frame's line becomes 0 (the receiver writes the stack as Java's, "
    "the exporter's parser finds no line in Python's frames)",
    "cause.working_directory": "dropped",
    "error": "false written where the SDK wrote nothing",
    "fault": "false written where the SDK wrote nothing",
    "throttle": "false written where the SDK wrote nothing",
    "in_progress": "a closed segment's in_progress: false is dropped (the exporter removes the attribute)",
    "http.request": "an empty request added to a subsegment that had only a response (DynamoDB's status)",
    "http.request.x_forwarded_for": "true on every request with a client_ip: the exporter infers it from the "
    "absence of net.peer.ip, whatever the SDK wrote (the request had no X-Forwarded-For)",
    "http.response.content_length": "becomes 0: the exporter takes a response size only from messaging events; "
    "the SDK's length goes to metadata.default['http.response_content_length']",
    "metadata": "a default namespace added: the content length above and the receiver's resource "
    "(otel.resource.cloud.provider, service.name, telemetry.sdk.*)",
    "namespace": "a subsegment's namespace 'local' is dropped (the exporter writes aws and remote only)",
    "service": "the SDK's service.runtime and runtime_version are dropped",
    "aws.<parameter>": "the DynamoDB call's request and response parameters the SDK records (index_name, limit, "
    "scan_index_forward, consistent_read, count, ...) are dropped; operation, table_name, region and request_id hold",
}
# What the SDK's aws fields must keep on every reader.
AWS_FIELDS_THAT_HOLD = ("operation", "table_name", "region", "request_id")


def _explained(path: str, got: Any, allowed: dict[str, str]) -> bool:
    """A change is one ``allowed`` lists, or the dropping of an aws parameter other than AWS_FIELDS_THAT_HOLD."""
    if path in allowed:
        return True
    parts = path.split(".")
    return (
        "aws.<parameter>" in allowed
        and len(parts) >= 2
        and parts[0] == "aws"
        and parts[1] not in (*AWS_FIELDS_THAT_HOLD, "xray")
        and got is None
    )


def _by_id(documents: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every segment and subsegment of ``documents`` by id, each without its nested subsegments: the daemon sends a
    segment with its subsegments inside it, the exporter each subsegment as a document of its own (``type``
    ``subsegment``, its ``trace_id`` and ``parent_id`` set, as X-Ray takes one sent alone)."""
    found: dict[str, dict[str, Any]] = {}

    def walk(entity: dict[str, Any], trace_id: str, parent_id: str | None) -> None:
        children = entity.get("subsegments", [])
        flat = {key: value for key, value in entity.items() if key != "subsegments"}
        if parent_id is not None:  # nested: what X-Ray knows of it from where it sits
            flat = {"trace_id": trace_id, "parent_id": parent_id, "type": "subsegment", **flat}
        found[entity["id"]] = flat
        for child in children:
            walk(child, trace_id, entity["id"])

    for document in documents:
        walk(document, document["trace_id"], None)
    return found


def _differences(sent: Any, got: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """(field path, sent, got) for each leaf where two segment documents differ; lists compared by position."""
    if isinstance(sent, dict) and isinstance(got, dict):
        return [
            difference
            for key in sorted(set(sent) | set(got))
            for difference in _differences(sent.get(key), got.get(key), f"{path}.{key}" if path else key)
        ]
    if isinstance(sent, list) and isinstance(got, list) and len(sent) == len(got):
        return [d for a, b in zip(sent, got, strict=True) for d in _differences(a, b, f"{path}[]")]
    if isinstance(sent, float) and isinstance(got, (int, float)) and abs(sent - got) < 1e-6:
        return []
    return [] if sent == got else [(path, sent, got)]


def test_the_sdks_segments_reach_x_ray_as_the_sdk_wrote_them_but_for_upstreams_known_changes(sdk_task_run):
    """Every segment the SDK sent reaches X-Ray under its id; the daemon changes nothing in it, the collector's
    receiver and exporter only the fields RECEIVER_AND_EXPORTER_CHANGES lists (ids, times, names, HTTP method, URL
    and status, error and fault, annotations and the DynamoDB subsegments hold on both)."""
    assert sdk_task_run.sdk_frames is not None
    sent = _by_id(sdk_task_run.sdk_frames.segments)
    got = _by_id(sdk_task_run.xray.segments)
    assert sent and set(sent) <= set(got), f"segments the SDK sent that X-Ray never got: {sorted(set(sent) - set(got))}"
    allowed = {} if sdk_task_run.segment_reader == "the X-Ray daemon" else RECEIVER_AND_EXPORTER_CHANGES
    changed = {}
    for segment_id, segment in sent.items():
        for field_path, before, after in _differences(segment, got[segment_id]):
            changed.setdefault(field_path, (segment_id, before, after))
    unexplained = {path: example for path, example in changed.items() if not _explained(path, example[2], allowed)}
    assert not unexplained, "fields changed on the way to X-Ray (segment id, sent, got):\n" + "\n".join(
        f"{path}: {example}" for path, example in sorted(unexplained.items())
    )


def test_every_request_the_sidecars_made_to_x_ray_is_one_x_ray_accepts(task_run):
    """No request off X-Ray's model, no bad signature, no segment off the schema."""
    task_run.xray.assert_clean()


# Sampling through the sidecar


def test_sampling_rules_travel_through_the_sidecar_signed_for_x_ray(task_run):
    """GetSamplingRules goes service -> daemon, the receiver's proxy or awsproxy -> X-Ray, signed (SigV4) for xray."""
    assert task_run.xray.received("GetSamplingRules") >= 1


def test_sampling_targets_reach_x_ray_with_the_rules_statistics(task_run):
    """Within TARGETS_WITHIN_SECONDS a SamplingTargets call reaches X-Ray with a statistics document that counted
    requests.
    """
    assert task_run.targets_reported and task_run.xray.received("GetSamplingTargets") >= 1, (
        f"no SamplingTargets reached X-Ray within {TARGETS_WITHIN_SECONDS} s; app log:\n"
        + "\n".join(task_run.logs[contract.APP_CONTAINER_NAME].splitlines()[-40:])
    )
    assert any(doc["RequestCount"] > 0 for doc in task_run.xray.statistics), "no statistics document reached X-Ray"


def test_every_sampling_call_and_answer_passes_the_sidecar_unchanged(task_run):
    """Each GetSamplingRules and SamplingTargets the app sent reached X-Ray byte for byte (statistics and boost
    statistics documents as the app wrote them), and X-Ray's rules and targets came back to the app byte for byte."""
    sent = [(e.path, e.request, e.status, e.response) for e in task_run.sampling.exchanges]
    arrived = [(e.path, e.request, e.status, e.response) for e in task_run.xray.sampling_exchanges]
    assert {path for path, *_ in sent} == {"/GetSamplingRules", "/SamplingTargets"}, sent
    assert {status for _, _, status, _ in sent} == {200}, sent
    assert sorted(sent) == sorted(arrived), f"{task_run.segment_reader or 'the collector'} changed a sampling call"


def test_boost_statistics_reach_x_ray_counting_the_rule_sampled_requests(task_run):
    """A rule with a SamplingRateBoost gets a boost statistics document each report, counting the requests the rule
    decided by then (each document is held to botocore's model: test_every_request_the_sidecars_made...)."""
    documents = task_run.xray.boost_statistics
    assert documents, "no SamplingBoostStatisticsDocument reached X-Ray"
    assert sum(doc["TotalCount"] for doc in documents) >= 1, documents


def test_the_service_says_it_samples_with_the_accounts_rules_and_reports_no_sampling_failure(task_run):
    """The app log has "sampling with the account's X-Ray rules", and no failure to refresh rules or report targets."""
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


@pytest.mark.parametrize("name", ALL_PATHS)
def test_only_listeners_and_backends_differ_from_the_deployed_collector_configuration(name, synthesized_environments):
    """On loopback the collector listens on free 127.0.0.1 ports and exports to the stand-ins; nothing else changes."""
    env = synthesized_environments(name)
    deployed = templates.collector_configuration(env)
    otlp_to_xray = env.config.telemetry.xray_path.collector_xray is CollectorXRay.OTLP
    backends = {HONEYCOMB_HOST: "http://127.0.0.1:1"} | ({XRAY_HOST: "http://127.0.0.1:2"} if otlp_to_xray else {})
    text, ports = collector_config_on_loopback(
        templates.collector_configuration_text(env), backends=backends, xray_endpoint="http://127.0.0.1:3"
    )
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
