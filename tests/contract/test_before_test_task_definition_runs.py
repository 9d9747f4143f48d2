"""Run the service exactly as the synthesized dev task definition describes, and follow one trace through.

Both X-Ray paths: dev as shipped (X-Ray SDK and daemon), and dev on the
OpenTelemetry-only path; and the week-2 example app as the week2
environment's task definition describes it, whose request that raises
reaches Rollbar with the trace id the other sinks have. The command, environment, secret names and health
check come from the template. Only what must differ on a test machine
differs, and only through the contract's own variables: where the
collector, the daemon, the sampling proxy, CloudWatch Logs and Rollbar
listen, and (through gunicorn's GUNICORN_CMD_ARGS) the address the app binds.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import boto3
import pytest

from cruddur import contract
from scripts.honeycomb_queries import load_queries
from testsupport import logs_insights, templates
from testsupport.gunicorn import post_activity, start_gunicorn, stop, task_environment
from testsupport.standins.aws import MotoServer, create_service_table
from testsupport.standins.honeycomb_api import honeycomb_event, what_the_spans_lack
from testsupport.standins.otlp import OtlpReceiver
from testsupport.standins.rollbar import RollbarApi
from testsupport.standins.xray_daemon import XRayDaemon, all_subsegments
from testsupport.standins.xray_sampling_api import XRaySamplingApi
from testsupport.waiting import closed_port, wait_until

# The example's image runs its files from its working directory; the test runs them from the example's folder.
EXAMPLE_DIR = Path(__file__).resolve().parents[2] / "examples" / "week2-backend"

# The only variables the test machine changes, all in the contract.
TEST_MACHINE_OVERRIDES = {
    contract.OTEL_EXPORTER_OTLP_ENDPOINT.name,
    contract.XRAY_DAEMON_ADDRESS.name,
    contract.XRAY_SAMPLING_ENDPOINT.name,
    contract.AWS_ENDPOINT_URL_LOGS.name,
    contract.ROLLBAR_ENDPOINT.name,
    contract.AWS_ENDPOINT_URL_DYNAMODB.name,
}
REQUESTS = 5


@pytest.fixture(scope="module", params=["dev", "dev-otel"])
def task(request, synthesized_environments) -> dict:
    """The app container of the synthesized dev task definition (on either X-Ray path), and the template around it."""
    dev = synthesized_environments(request.param)
    return {
        "app": templates.app_container(dev),
        # dev has no load balancer (an HTTP API): the container's own health check probes the contract's path.
        "health_check_path": next(
            (
                g["Properties"]["HealthCheckPath"]
                for g in dev.resources("service", "AWS::ElasticLoadBalancingV2::TargetGroup").values()
            ),
            contract.HEALTH_CHECK_PATH,
        ),
        "rules": templates.sampling_rules(dev),
        "groups": [g["Properties"] for g in dev.resources("observability", "AWS::XRay::Group").values()],
        "xray_sdk": dev.config.telemetry.xray_sdk,
        "log_queries": {
            q["Properties"]["Name"]: q["Properties"]["QueryString"]
            for q in dev.resources("service", "AWS::Logs::QueryDefinition").values()
        },
        "name": request.param,
    }


@pytest.fixture(scope="module")
def cloudwatch_logs(tmp_path_factory):
    """moto_server on loopback standing in for CloudWatch Logs."""
    with MotoServer(tmp_path_factory.mktemp("moto") / "moto.log") as server:
        yield boto3.client(
            "logs", endpoint_url=server.url, region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t"
        )


def test_the_task_definition_runs_and_one_trace_id_reaches_every_sink(task, cloudwatch_logs):
    """Health check 200; spans, segments and stdout log lines (the awslogs driver's) share each request's trace id,
    and each request's DynamoDB calls are client spans and subsegments of it."""
    app = task["app"]
    table_ref = templates.environment(app)[contract.DYNAMODB_TABLE_NAME.name]["Ref"]
    moto_url = cloudwatch_logs.meta.endpoint_url
    table_name = create_service_table(moto_url, f"test-{task['name']}-{table_ref}")
    logical_names = {table_ref: table_name}

    with (
        OtlpReceiver() as collector,
        XRayDaemon() as daemon,
        RollbarApi() as rollbar,
        XRaySamplingApi(task["rules"]) as proxy,
    ):
        environ = task_environment(app, logical_names)
        assert environ[contract.XRAY_SAMPLING_ENDPOINT.name] == contract.XRAY_SAMPLING_PROXY_URL
        overrides = {
            contract.OTEL_EXPORTER_OTLP_ENDPOINT.name: collector.url,
            contract.XRAY_DAEMON_ADDRESS.name: daemon.address,
            contract.XRAY_SAMPLING_ENDPOINT.name: proxy.url,
            contract.AWS_ENDPOINT_URL_LOGS.name: cloudwatch_logs.meta.endpoint_url,
            contract.ROLLBAR_ENDPOINT.name: rollbar.endpoint,
            contract.AWS_ENDPOINT_URL_DYNAMODB.name: moto_url,
        }
        assert set(overrides) == TEST_MACHINE_OVERRIDES
        # The OpenTelemetry-only path has no daemon: the task sets no daemon address to override.
        assert (contract.XRAY_DAEMON_ADDRESS.name in environ) == task["xray_sdk"]
        if not task["xray_sdk"]:
            del overrides[contract.XRAY_DAEMON_ADDRESS.name]
        environ.update(overrides)
        environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})

        port = closed_port()
        process = start_gunicorn(environ, port, command=app["Command"])
        trace_ids = [f"6b01{uuid.uuid4().hex[4:]}" for _ in range(REQUESTS)]
        try:
            health_url = f"http://127.0.0.1:{port}{task['health_check_path']}"

            def healthy() -> bool:
                try:
                    with urllib.request.urlopen(health_url, timeout=1) as response:
                        return response.status == 200
                except OSError:
                    return False

            assert wait_until(healthy, timeout=20), "the health check path did not answer 200"
            for trace_id in trace_ids:
                assert post_activity(port, f"trace {trace_id}", trace_id) == 200
        finally:
            stdout, stderr = stop(process)
        assert process.returncode == 0, stderr[-3000:]

        # spans: service.name is what the sampling rules and the groups match
        names = {r["ServiceName"] for r in task["rules"]}
        assert len(names) == 1
        (service_name,) = names
        for group in task["groups"]:
            assert group["FilterExpression"].startswith(f'service("{service_name}")')
        server_spans = [s for s in collector.spans if s.name == "POST /api/activities"]
        assert {s.trace_id for s in server_spans} == set(trace_ids)
        assert {s.resource["service.name"] for s in server_spans} == {service_name}
        assert {s.resource["deployment.environment"] for s in server_spans} == {"dev"}

        # sampling: the rules came from the proxy, as the task would fetch them
        assert proxy.rule_requests >= 1

        # segments: same trace ids, in X-Ray form; none without the SDK (the collector carries the spans to X-Ray)
        if task["xray_sdk"]:
            xray_ids = {f"1-{t[:8]}-{t[8:]}" for t in trace_ids}
            assert {s["trace_id"] for s in daemon.segments} == xray_ids
            assert {s["name"] for s in daemon.segments} == {service_name}
            daemon.assert_segments_valid()
        else:
            assert daemon.segments == []

        # log lines: stdout, which the awslogs driver ships once; watchtower is off, so nothing else does
        stdout_lines = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
        created = [line for line in stdout_lines if line["logger"] == "cruddur.activities"]
        assert {line["trace_id"] for line in created} == set(trace_ids)
        assert len(created) == REQUESTS  # each line once
        assert environ[contract.WATCHTOWER_ENABLED.name] == "false"
        assert cloudwatch_logs.describe_log_groups()["logGroups"] == []  # nothing was sent to CloudWatch Logs directly
        assert rollbar.items == []  # no errors were raised

        # the saved Logs Insights queries read only fields that the request lines on stdout have,
        # with numbers as numbers
        request_lines = [line for line in stdout_lines if line["logger"] == "cruddur.request"]
        assert {line["trace_id"] for line in request_lines} == set(
            trace_ids
        )  # one per request; health checks are quiet
        line = request_lines[0]
        assert isinstance(line["http_status"], int) and isinstance(line["duration_ms"], float)
        assert len(task["log_queries"]) == 3
        for name, query in task["log_queries"].items():
            assert logs_insights.parse(query).fields <= set(line), name

        # DynamoDB: a client span per call inside each request's trace, and a subsegment in its segment
        server_span_ids = {s.trace_id: s.span_id for s in server_spans}
        for trace_id in trace_ids:
            calls = [
                s for s in collector.spans if s.trace_id == trace_id and s.attributes.get("rpc.service") == "DynamoDB"
            ]
            assert {s.name for s in calls} == {"DynamoDB.GetItem", "DynamoDB.PutItem"}, calls
            assert {s.attributes["aws.dynamodb.table_names"][0] for s in calls} == {table_name}
            # rpc.system aws-api marks an AWS call, which X-Ray shows as an AWS node: on the
            # OpenTelemetry-only path X-Ray's service map keeps the DynamoDB node
            assert {s.attributes.get("rpc.system") for s in calls} == {"aws-api"}
            operation_span = next(s for s in collector.spans if s.trace_id == trace_id and s.name == "create-activity")
            assert operation_span.parent_span_id == server_span_ids[trace_id]
            assert {s.parent_span_id for s in calls} == {operation_span.span_id}
        # Honeycomb's saved queries about the backend's server spans find these (the callers' traceparents name
        # parent spans that were never sent, so root. fields and the rest are proved in
        # tests/service/test_honeycomb_queries_find_spans.py)
        events = [honeycomb_event(span) for span in collector.spans]
        for name, prefix in (("Latency by route", ""), ("Browser-to-backend network time", "child.")):
            (query,) = [q for q in load_queries(service_name) if q.name == name]
            assert what_the_spans_lack(query.spec, events, prefix=prefix) == [], name
        for segment in daemon.segments:
            subsegments = all_subsegments(segment)
            dynamodb = [s for s in subsegments if s.get("namespace") == "aws" and s["name"] == "dynamodb"]
            assert {s["aws"]["operation"] for s in dynamodb} == {"GetItem", "PutItem"}
            assert {s["aws"]["table_name"] for s in dynamodb} == {table_name}


def _get(port: int, path: str, trace_id: str) -> int:
    """GET ``path`` on loopback ``port`` continuing ``trace_id`` (W3C); the status, error statuses included."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", headers={"traceparent": f"00-{trace_id}-{'1' * 16}-01"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_the_example_task_definition_runs_and_its_error_has_one_trace_id_in_every_sink(
    synthesized_environments, cloudwatch_logs
):
    """The week2 environment's app container (command, environment, health check from the template) runs the example
    under gunicorn; its feed requests and the request that raises keep their trace ids in the X-Ray segments, the
    spans at the Honeycomb stand-in and the stdout log lines, and the error's Rollbar item carries the same id."""
    week2 = synthesized_environments("week2")
    app = templates.app_container(week2)
    rules = templates.sampling_rules(week2)
    environ = task_environment(app, {})
    assert contract.DYNAMODB_TABLE_NAME.name not in environ  # the example reads no table
    assert environ[contract.XRAY_ENABLED.name] == environ[contract.ROLLBAR_ENABLED.name] == "true"
    health_command = app["HealthCheck"]["Command"]
    assert health_command[:2] == ["CMD", "python"], health_command

    with OtlpReceiver() as collector, XRayDaemon() as daemon, RollbarApi() as rollbar, XRaySamplingApi(rules) as proxy:
        overrides = {
            contract.OTEL_EXPORTER_OTLP_ENDPOINT.name: collector.url,
            contract.XRAY_DAEMON_ADDRESS.name: daemon.address,
            contract.XRAY_SAMPLING_ENDPOINT.name: proxy.url,
            contract.AWS_ENDPOINT_URL_LOGS.name: cloudwatch_logs.meta.endpoint_url,
            contract.ROLLBAR_ENDPOINT.name: rollbar.endpoint,
        }
        assert set(overrides) <= TEST_MACHINE_OVERRIDES
        environ.update(overrides)
        environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})

        port = closed_port()
        process = start_gunicorn(environ, port, command=app["Command"], cwd=EXAMPLE_DIR)
        trace_ids = [f"6b02{uuid.uuid4().hex[4:]}" for _ in range(REQUESTS)]
        error_trace = f"6b03{uuid.uuid4().hex[4:]}"
        try:
            # The container's own health check, run as the task runs it, told the port the test machine bound.
            check = [sys.executable, *health_command[2:]]

            def healthy() -> bool:
                result = subprocess.run(check, cwd=EXAMPLE_DIR, env={**environ, "PORT": str(port)}, timeout=10)
                return result.returncode == 0

            assert wait_until(healthy, timeout=20), "the container's health check did not pass"
            for trace_id in trace_ids:
                assert _get(port, "/api/activities/home", trace_id) == 200
            assert _get(port, "/rollbar/test", error_trace) == 500
        finally:
            stdout, stderr = stop(process)
        assert process.returncode == 0, stderr[-3000:]

        # spans at the Honeycomb stand-in: the service name the rules match, each feed request's operation in its trace
        (service_name,) = {r["ServiceName"] for r in rules}
        assert service_name == week2.config.service_name
        server_spans = [s for s in collector.spans if s.name == "GET /api/activities/home"]
        assert {s.trace_id for s in server_spans} == set(trace_ids)
        assert {s.resource["service.name"] for s in server_spans} == {service_name}
        assert {s.resource["deployment.environment"] for s in server_spans} == {"week2"}
        server_span_ids = {s.trace_id: s.span_id for s in server_spans}
        for trace_id in trace_ids:
            operation_span = next(s for s in collector.spans if s.trace_id == trace_id and s.name == "home-activities")
            assert operation_span.parent_span_id == server_span_ids[trace_id]
        assert error_trace in {s.trace_id for s in collector.spans}
        assert proxy.rule_requests >= 1

        # segments: the same trace ids, in X-Ray form
        def xray_id(trace_id: str) -> str:
            return f"1-{trace_id[:8]}-{trace_id[8:]}"

        assert {s["trace_id"] for s in daemon.segments} == {xray_id(t) for t in [*trace_ids, error_trace]}
        assert {s["name"] for s in daemon.segments} == {service_name}
        daemon.assert_segments_valid()

        # Rollbar: the one error, with both forms of its trace id
        (item,) = rollbar.items
        assert item["data"]["custom"]["trace_id"] == error_trace
        assert item["data"]["custom"]["xray_trace_id"] == xray_id(error_trace)

        # log lines on stdout (the awslogs driver's): each request's line, and the error's traceback, with the trace id
        stdout_lines = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
        request_lines = [line for line in stdout_lines if line["logger"] == "cruddur.request"]
        assert {line["trace_id"] for line in request_lines} == {*trace_ids, error_trace}
        (error_line,) = [line for line in request_lines if line["trace_id"] == error_trace]
        assert error_line["http_status"] == 500
        error_lines = [line for line in stdout_lines if line.get("level") == "ERROR"]
        assert error_lines and {line["trace_id"] for line in error_lines} == {error_trace}, error_lines
        assert cloudwatch_logs.describe_log_groups()["logGroups"] == []  # watchtower is off: stdout only
