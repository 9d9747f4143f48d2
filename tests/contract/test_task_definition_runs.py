"""Run the service exactly as the synthesized dev task definition describes, and follow each request through.

On both X-Ray paths (dev as shipped: X-Ray SDK and daemon; dev on the
OpenTelemetry-only path) the task runs once per module (``task_runs``):
gunicorn with the template's command and environment, the stand-ins where
the sidecars and the backends would be, ``TRACED_REQUESTS`` traced POSTs and
one request that raises, then SIGTERM as ECS stops a task. Each test below
reads what one sink received and checks one behaviour.

The command, environment, secret names and health check come from the
template. Only what must differ on a test machine differs, and only through
the contract's own variables: the port the app listens on (PORT), where the
collector, the daemon, the sampling proxy, CloudWatch Logs, Rollbar and
DynamoDB listen, and (through gunicorn's GUNICORN_CMD_ARGS) the loopback
address the app binds.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from cruddur import contract
from flask_aws_telemetry import contract as telemetry_contract
from scripts.honeycomb_queries import load_queries
from testsupport import logs_insights, templates
from testsupport.gunicorn import start_gunicorn, stop, task_environment
from testsupport.standins.aws import MotoServer, create_service_table
from testsupport.standins.honeycomb_api import honeycomb_event, what_the_spans_lack
from testsupport.standins.otlp import OtlpReceiver, ReceivedSpan
from testsupport.standins.rollbar import RollbarApi
from testsupport.standins.xray_daemon import XRayDaemon, all_subsegments
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

# The only variables the test machine changes, all in the contract: where the app listens, and where its backends do.
TEST_MACHINE_OVERRIDES = {
    telemetry_contract.PORT.name,
    contract.OTEL_EXPORTER_OTLP_ENDPOINT.name,
    contract.XRAY_DAEMON_ADDRESS.name,
    contract.XRAY_SAMPLING_ENDPOINT.name,
    contract.AWS_ENDPOINT_URL_LOGS.name,
    contract.ROLLBAR_ENDPOINT.name,
    contract.AWS_ENDPOINT_URL_DYNAMODB.name,
}
# What boto3 in the task needs to reach moto; a task gets its role's credentials from ECS instead.
TEST_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
TRACED_REQUESTS = 5
HEALTHY_WITHIN_SECONDS = 20
SERVER_SPAN = "POST /api/activities"
OPERATION_SPAN = "create-activity"  # the operation a POST runs, between its server span and its DynamoDB calls


@dataclass(frozen=True)
class TaskRun:
    """One run of the dev task on one X-Ray path: what the template said, what was sent, what every sink received."""

    name: str
    xray_sdk: bool
    # the template
    task_environ: dict[str, str]  # the container's environment as ECS resolves it
    rules: list[dict[str, Any]]
    groups: list[dict[str, Any]]
    log_queries: dict[str, str]
    # the test machine
    environ: dict[str, str]  # what gunicorn ran with
    overrides: dict[str, str]  # what the test machine changed, all in the contract
    table_name: str
    # what was sent
    traced: list[str]  # the trace ids of the POSTs
    error_trace: str  # the trace id of the request that raised
    statuses: dict[str, int]  # trace id -> the status its request got
    health_command: list[str]  # the container's health check, as the task definition gives it
    container_health_check: subprocess.CompletedProcess  # that command's run, with python as this test's
    # how it stopped
    returncode: int | None
    stderr: str
    # what the sinks received
    log_lines: list[dict[str, Any]]  # the JSON lines on stdout, which the awslogs driver ships
    spans: list[ReceivedSpan]  # at the collector's OTLP receiver
    daemon: XRayDaemon  # the UDP frames at the daemon's address
    rollbar_items: list[dict[str, Any]]
    rule_requests: int  # GetSamplingRules at the sampling proxy
    cloudwatch_log_groups: list[dict[str, Any]]  # what CloudWatch Logs (moto) holds

    @property
    def service_name(self) -> str:
        """The one service name the sampling rules match."""
        (name,) = {rule["ServiceName"] for rule in self.rules}
        return name

    def server_spans(self) -> list[ReceivedSpan]:
        """The server spans of the traced POSTs."""
        return [span for span in self.spans if span.name == SERVER_SPAN]

    def lines_of(self, logger: str) -> list[dict[str, Any]]:
        """The stdout lines of ``logger``."""
        return [line for line in self.log_lines if line["logger"] == logger]


@pytest.fixture(scope="module")
def moto(tmp_path_factory):
    """moto_server on loopback standing in for CloudWatch Logs and DynamoDB."""
    with MotoServer(tmp_path_factory.mktemp("moto") / "moto.log") as server:
        yield server


# dev as shipped runs the X-Ray SDK and its daemon; dev-otel is dev on the OpenTelemetry-only path.
SDK_PATH = "dev"
OPENTELEMETRY_PATH = "dev-otel"


@pytest.fixture(scope="module")
def task_runs(synthesized_environments, moto):
    """Each environment's task, run at most once per module, when a test first asks for it."""
    runs: dict[str, TaskRun] = {}

    def run_of(name: str) -> TaskRun:
        if name not in runs:
            runs[name] = _run_task(name, synthesized_environments, moto)
        return runs[name]

    return run_of


@pytest.fixture(params=[SDK_PATH, OPENTELEMETRY_PATH])
def run(request, task_runs) -> TaskRun:
    """The dev task on either X-Ray path: what holds on both."""
    return task_runs(request.param)


@pytest.fixture(params=[SDK_PATH])
def sdk_run(request, task_runs) -> TaskRun:
    """The dev task on the X-Ray SDK's path (segments to the daemon)."""
    run = task_runs(request.param)
    assert run.xray_sdk, f"{run.name} was expected to run the X-Ray SDK"
    return run


@pytest.fixture(params=[OPENTELEMETRY_PATH])
def opentelemetry_run(request, task_runs) -> TaskRun:
    """The dev task on the OpenTelemetry-only path (no X-Ray SDK, no daemon)."""
    run = task_runs(request.param)
    assert not run.xray_sdk, f"{run.name} was expected to run without the X-Ray SDK"
    return run


def _run_task(name: str, synthesized_environments, moto) -> TaskRun:
    """The dev task on one X-Ray path, run under gunicorn with the stand-ins, its requests sent, then stopped."""
    env = synthesized_environments(name)
    app = templates.app_container(env)
    xray_sdk = env.config.telemetry.xray_sdk
    rules = templates.sampling_rules(env)
    table_ref = templates.environment(app)[contract.DYNAMODB_TABLE_NAME.name]["Ref"]
    table_name = create_service_table(moto.url, f"test-{name}-{table_ref}")
    put_broken_user(moto.url, table_name)
    task_environ = task_environment(app, {table_ref: table_name})
    # dev has no load balancer (an HTTP API): the container's own health check probes the contract's path.
    health_check_path = next(
        (
            group["Properties"]["HealthCheckPath"]
            for group in env.resources("service", "AWS::ElasticLoadBalancingV2::TargetGroup").values()
        ),
        contract.HEALTH_CHECK_PATH,
    )
    logs = boto3.client(
        "logs", endpoint_url=moto.url, region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t"
    )

    with (
        OtlpReceiver() as collector,
        XRayDaemon() as daemon,
        RollbarApi() as rollbar,
        XRaySamplingApi(rules) as proxy,
    ):
        port = closed_port()
        overrides = {
            telemetry_contract.PORT.name: str(port),
            contract.OTEL_EXPORTER_OTLP_ENDPOINT.name: collector.url,
            contract.XRAY_DAEMON_ADDRESS.name: daemon.address,
            contract.XRAY_SAMPLING_ENDPOINT.name: proxy.url,
            contract.AWS_ENDPOINT_URL_LOGS.name: moto.url,
            contract.ROLLBAR_ENDPOINT.name: rollbar.endpoint,
            contract.AWS_ENDPOINT_URL_DYNAMODB.name: moto.url,
        }
        if not xray_sdk:  # the OpenTelemetry-only path has no daemon: no daemon address to move
            del overrides[contract.XRAY_DAEMON_ADDRESS.name]
        environ = task_environ | overrides | TEST_CREDENTIALS
        process = start_gunicorn(environ, port, command=app["Command"])
        base = f"http://127.0.0.1:{port}"
        traced = [new_trace_id() for _ in range(TRACED_REQUESTS)]
        error_trace = new_trace_id("6b03")
        statuses: dict[str, int] = {}
        try:
            if not wait_until(lambda: http_status(f"{base}{health_check_path}") == 200, timeout=HEALTHY_WITHIN_SECONDS):
                stop(process)
                pytest.fail(f"{health_check_path} did not answer 200 within {HEALTHY_WITHIN_SECONDS} s")
            # The container's own health check, run as ECS runs it inside the container: with the task's environment.
            container_health_check = subprocess.run(
                [sys.executable, *app["HealthCheck"]["Command"][2:]],
                env=environ,
                capture_output=True,
                text=True,
                timeout=10,
            )
            for trace_id in traced:
                statuses[trace_id] = post_status(port, f"trace {trace_id}", trace_id)
            statuses[error_trace] = http_status(f"{base}/api/activities/@{BROKEN_HANDLE}", error_trace)
        finally:
            stdout, stderr = stop(process)

    return TaskRun(
        name=name,
        xray_sdk=xray_sdk,
        task_environ=task_environ,
        rules=rules,
        groups=[g["Properties"] for g in env.resources("observability", "AWS::XRay::Group").values()],
        log_queries={
            q["Properties"]["Name"]: q["Properties"]["QueryString"]
            for q in env.resources("service", "AWS::Logs::QueryDefinition").values()
        },
        environ=environ,
        overrides=overrides,
        table_name=table_name,
        traced=traced,
        error_trace=error_trace,
        statuses=statuses,
        health_command=app["HealthCheck"]["Command"],
        container_health_check=container_health_check,
        returncode=process.returncode,
        stderr=stderr,
        log_lines=json_lines(stdout),
        spans=list(collector.spans),
        daemon=daemon,
        rollbar_items=list(rollbar.items),
        rule_requests=proxy.rule_requests,
        cloudwatch_log_groups=logs.describe_log_groups()["logGroups"],
    )


# The task as the test machine runs it


def test_the_task_asks_for_sampling_rules_at_the_daemons_proxy(run):
    """The task's sampling endpoint is the daemon's proxy on loopback, as in the deployed task."""
    assert run.task_environ[contract.XRAY_SAMPLING_ENDPOINT.name] == contract.XRAY_SAMPLING_PROXY_URL


def test_the_test_machine_changes_only_the_contracts_endpoints_and_the_credentials(run):
    """Every variable gunicorn ran with is the task's, except the backends' endpoints and moto's credentials."""
    changed = {name for name, value in run.environ.items() if run.task_environ.get(name) != value}
    without_a_daemon = set() if run.xray_sdk else {contract.XRAY_DAEMON_ADDRESS.name}
    assert set(run.overrides) == TEST_MACHINE_OVERRIDES - without_a_daemon
    assert changed == set(run.overrides) | set(TEST_CREDENTIALS)


def test_the_task_sets_a_daemon_address_only_on_the_x_ray_sdk_path(run):
    """The OpenTelemetry-only path has no daemon, so its task names no daemon address."""
    assert (contract.XRAY_DAEMON_ADDRESS.name in run.task_environ) == run.xray_sdk


def test_the_containers_health_check_passes(run):
    """The task definition's health-check command, run as ECS runs it in the container, exits 0."""
    assert run.health_command[:2] == ["CMD", "python"], run.health_command  # the test runs it with its own python
    check = run.container_health_check
    assert check.returncode == 0, f"{check.args}: {check.stdout}{check.stderr}"


def test_every_request_gets_its_normal_status(run):
    """Each traced POST is a 200; the request that raises is a 500."""
    assert run.statuses == {**dict.fromkeys(run.traced, 200), run.error_trace: 500}


def test_sigterm_stops_gunicorn_with_status_0_within_the_stop_timeout(run):
    """ECS's SIGTERM ends the service cleanly (``stop`` fails the run if it outlives the task's stop timeout)."""
    assert run.returncode == 0, run.stderr[-3000:]


# Spans at the collector


def test_the_sampling_rules_and_the_x_ray_groups_name_one_service(run):
    """Every rule matches one service name, and every X-Ray group filters on it."""
    assert len({rule["ServiceName"] for rule in run.rules}) == 1
    for group in run.groups:
        assert group["FilterExpression"].startswith(f'service("{run.service_name}")'), group


def test_each_traced_request_has_a_server_span_with_its_trace_id(run):
    """The server spans of the POSTs carry exactly the trace ids the callers sent."""
    assert {span.trace_id for span in run.server_spans()} == set(run.traced)


def test_the_request_that_raised_has_a_span_with_its_trace_id(run):
    """The failing request is traced too, under the caller's trace id."""
    assert run.error_trace in {span.trace_id for span in run.spans}


def test_server_spans_name_the_service_the_rules_match(run):
    """Their resource's service.name is the one the sampling rules and the groups match."""
    assert {span.resource["service.name"] for span in run.server_spans()} == {run.service_name}


def test_server_spans_name_the_deployment_environment(run):
    """Their resource's deployment.environment is the task's environment."""
    assert {span.resource["deployment.environment"] for span in run.server_spans()} == {"dev"}


def test_the_sampling_rules_came_from_the_proxy(run):
    """The service fetched the rules from the sampling proxy, as the task fetches them from the daemon."""
    assert run.rule_requests >= 1


def test_the_backends_saved_honeycomb_queries_find_the_server_spans(run):
    """Honeycomb's saved queries about the backend's server spans find every field they read in these spans.

    The callers' traceparents name parent spans that were never sent, so the
    ``root.`` fields and the rest are proved in
    tests/service/test_honeycomb_queries_find_spans.py.
    """
    events = [honeycomb_event(span) for span in run.spans]
    for name, prefix in (("Latency by route", ""), ("Browser-to-backend network time", "child.")):
        (query,) = [q for q in load_queries(run.service_name) if q.name == name]
        assert what_the_spans_lack(query.spec, events, prefix=prefix) == [], name


# DynamoDB calls in the spans


def _dynamodb_calls(run: TaskRun, trace_id: str) -> list[ReceivedSpan]:
    return [s for s in run.spans if s.trace_id == trace_id and s.attributes.get("rpc.service") == "DynamoDB"]


def test_each_requests_dynamodb_calls_are_client_spans_naming_the_table(run):
    """Each POST's trace has a GetItem and a PutItem span, and both name the task's table."""
    for trace_id in run.traced:
        calls = _dynamodb_calls(run, trace_id)
        assert {s.name for s in calls} == {"DynamoDB.GetItem", "DynamoDB.PutItem"}, calls
        assert {s.attributes["aws.dynamodb.table_names"][0] for s in calls} == {run.table_name}


def test_dynamodb_client_spans_are_marked_as_aws_calls(run):
    """rpc.system is aws-api, which X-Ray shows as an AWS node: the OpenTelemetry-only path keeps DynamoDB's node."""
    for trace_id in run.traced:
        assert {s.attributes.get("rpc.system") for s in _dynamodb_calls(run, trace_id)} == {"aws-api"}


def test_dynamodb_calls_are_children_of_the_operation_under_the_server_span(run):
    """Server span -> create-activity -> each DynamoDB call, in every POST's trace."""
    server_span_ids = {span.trace_id: span.span_id for span in run.server_spans()}
    for trace_id in run.traced:
        operation = next(s for s in run.spans if s.trace_id == trace_id and s.name == OPERATION_SPAN)
        assert operation.parent_span_id == server_span_ids[trace_id]
        assert {s.parent_span_id for s in _dynamodb_calls(run, trace_id)} == {operation.span_id}


# Segments at the daemon


def test_each_request_has_a_segment_with_its_trace_id(sdk_run):
    """The daemon received a segment for every request, under the caller's trace id in X-Ray's form, and no other."""
    expected = {xray_trace_id(t) for t in [*sdk_run.traced, sdk_run.error_trace]}
    assert {segment["trace_id"] for segment in sdk_run.daemon.segments} == expected


def test_segments_name_the_service_the_rules_match(sdk_run):
    """Each segment's name is the service name the rules and the groups match."""
    assert {segment["name"] for segment in sdk_run.daemon.segments} == {sdk_run.service_name}


def test_segments_are_valid_against_x_rays_segment_schema(sdk_run):
    """No segment the SDK sent breaks X-Ray's segment document schema."""
    sdk_run.daemon.assert_segments_valid()


def test_each_segment_has_a_dynamodb_subsegment_per_call_naming_the_table(sdk_run):
    """Each POST's segment has GetItem and PutItem subsegments (namespace aws) on the task's table."""
    traced = {xray_trace_id(t) for t in sdk_run.traced}
    segments = [segment for segment in sdk_run.daemon.segments if segment["trace_id"] in traced]
    assert len(segments) == len(traced)
    for segment in segments:
        dynamodb = [s for s in all_subsegments(segment) if s.get("namespace") == "aws" and s["name"] == "dynamodb"]
        assert {s["aws"]["operation"] for s in dynamodb} == {"GetItem", "PutItem"}
        assert {s["aws"]["table_name"] for s in dynamodb} == {sdk_run.table_name}


def test_without_the_x_ray_sdk_no_segment_is_sent(opentelemetry_run):
    """On the OpenTelemetry-only path the collector carries the spans to X-Ray: nothing reaches a daemon."""
    assert opentelemetry_run.daemon.segments == []


# Log lines on stdout


def test_each_created_activity_is_logged_once_with_its_trace_id(run):
    """One cruddur.activities line per POST on stdout, with that request's trace id."""
    created = run.lines_of("cruddur.activities")
    assert {line["trace_id"] for line in created} == set(run.traced)
    assert len(created) == TRACED_REQUESTS


def test_each_request_has_one_request_line_and_health_checks_have_none(run):
    """One cruddur.request line per request (the failing one included) with its trace id; health checks are quiet."""
    request_lines = run.lines_of("cruddur.request")
    assert {line["trace_id"] for line in request_lines} == {*run.traced, run.error_trace}
    assert len(request_lines) == TRACED_REQUESTS + 1


def test_the_failing_requests_line_has_its_500(run):
    """The request line of the request that raised says 500."""
    (line,) = [line for line in run.lines_of("cruddur.request") if line["trace_id"] == run.error_trace]
    assert line["http_status"] == 500


def test_error_lines_carry_the_failing_requests_trace_id(run):
    """The traceback logged for the request that raised carries its trace id, and no other error is logged."""
    error_lines = [line for line in run.log_lines if line.get("level") == "ERROR"]
    assert error_lines and {line["trace_id"] for line in error_lines} == {run.error_trace}, error_lines


def test_request_lines_have_numbers_as_numbers(run):
    """http_status is an int and duration_ms a float, so Logs Insights can compare and aggregate them."""
    line = run.lines_of("cruddur.request")[0]
    assert isinstance(line["http_status"], int) and isinstance(line["duration_ms"], float)


def test_the_saved_logs_insights_queries_read_only_fields_the_request_lines_have(run):
    """Each of the three saved queries reads only fields that a request line on stdout has."""
    line = run.lines_of("cruddur.request")[0]
    assert len(run.log_queries) == 3
    for name, query in run.log_queries.items():
        assert logs_insights.parse(query).fields <= set(line), name


def test_watchtower_is_off_in_the_task(run):
    """The awslogs driver ships stdout; the task does not turn on the service's own CloudWatch Logs handler."""
    assert run.task_environ[contract.WATCHTOWER_ENABLED.name] == "false"


def test_nothing_was_sent_to_cloudwatch_logs_directly(run):
    """No log group was written through CloudWatch Logs' API: each line reaches CloudWatch once, through stdout."""
    assert run.cloudwatch_log_groups == []


# Rollbar


def test_exactly_one_rollbar_item_for_the_failing_request(run):
    """The request that raised is the one item Rollbar received; the successful requests sent none."""
    (item,) = run.rollbar_items
    assert item["data"]["custom"]["trace_id"] == run.error_trace


def test_the_rollbar_item_carries_the_x_ray_form_of_the_trace_id(run):
    """The item names the trace as X-Ray does too, so a reader can open it from Rollbar on either path."""
    (item,) = run.rollbar_items
    assert item["data"]["custom"]["xray_trace_id"] == xray_trace_id(run.error_trace)
