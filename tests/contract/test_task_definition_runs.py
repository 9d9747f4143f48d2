"""Run the service exactly as the synthesized dev task definition describes, and follow one trace through.

The command, environment, secret names and health check come from the
template. Only what must differ on a test machine differs, and only through
the contract's own variables: where the collector, the daemon, CloudWatch
Logs and Rollbar listen, and (through gunicorn's GUNICORN_CMD_ARGS) the
address the app binds.
"""

from __future__ import annotations

import json
import urllib.request
import uuid

import boto3
import pytest

from service.cruddur import contract
from tests.processes import start_gunicorn, stop
from tests.standins import MotoServer, OtlpReceiver, RollbarApi, XRayDaemon, closed_port, create_service_table, wait_until

# The only variables the test machine changes, all in the contract.
TEST_MACHINE_OVERRIDES = {
    contract.OTEL_EXPORTER_OTLP_ENDPOINT.name,
    contract.XRAY_DAEMON_ADDRESS.name,
    contract.AWS_ENDPOINT_URL_LOGS.name,
    contract.ROLLBAR_ENDPOINT.name,
    contract.AWS_ENDPOINT_URL_DYNAMODB.name,
}
REQUESTS = 5


@pytest.fixture(scope="module")
def task(dev) -> dict:
    """The app container of the synthesized dev task definition, and the template around it."""
    task_definition = next(iter(dev.resources("service", "AWS::ECS::TaskDefinition").values()))
    containers = task_definition["Properties"]["ContainerDefinitions"]
    return {
        "app": next(c for c in containers if c["Name"] == contract.APP_CONTAINER_NAME),
        "target_group": next(iter(dev.resources("service", "AWS::ElasticLoadBalancingV2::TargetGroup").values())),
        "rules": [r["Properties"]["SamplingRule"] for r in dev.resources("observability", "AWS::XRay::SamplingRule").values()],
        "groups": [g["Properties"] for g in dev.resources("observability", "AWS::XRay::Group").values()],
    }


@pytest.fixture(scope="module")
def cloudwatch_logs(tmp_path_factory):
    """moto_server on loopback standing in for CloudWatch Logs."""
    with MotoServer(tmp_path_factory.mktemp("moto") / "moto.log") as server:
        yield boto3.client("logs", endpoint_url=server.url, region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t")


def _resolve(value: object, logical_names: dict[str, str]) -> str:
    """A CloudFormation value as ECS would see it at run time."""
    if isinstance(value, str):
        return value
    ref = value.get("Ref")  # type: ignore[union-attr]
    if ref == "AWS::Region":
        return "us-east-1"
    if ref in logical_names:
        return logical_names[ref]
    raise AssertionError(f"unexpected token in the task environment: {value!r}")


def test_the_task_definition_runs_and_one_trace_id_reaches_every_sink(task, cloudwatch_logs):
    """Health check 200; spans, segments and log lines (stdout and CloudWatch) share each request's trace id,
    and each request's DynamoDB calls are client spans and subsegments of it."""
    app = task["app"]
    watchtower_ref = next(e["Value"]["Ref"] for e in app["Environment"] if e["Name"] == contract.WATCHTOWER_LOG_GROUP.name)
    watchtower_group = f"/test/{watchtower_ref}"
    cloudwatch_logs.create_log_group(logGroupName=watchtower_group)
    table_ref = next(e["Value"]["Ref"] for e in app["Environment"] if e["Name"] == contract.DYNAMODB_TABLE_NAME.name)
    moto_url = cloudwatch_logs.meta.endpoint_url
    table_name = create_service_table(moto_url, f"test-{table_ref}")
    logical_names = {watchtower_ref: watchtower_group, table_ref: table_name}

    with OtlpReceiver() as collector, XRayDaemon() as daemon, RollbarApi() as rollbar:
        environ = {e["Name"]: _resolve(e["Value"], logical_names) for e in app["Environment"]}
        environ.update({s["Name"]: f"test-value-for-{s['Name'].lower()}" for s in app["Secrets"]})
        overrides = {
            contract.OTEL_EXPORTER_OTLP_ENDPOINT.name: collector.url,
            contract.XRAY_DAEMON_ADDRESS.name: daemon.address,
            contract.AWS_ENDPOINT_URL_LOGS.name: cloudwatch_logs.meta.endpoint_url,
            contract.ROLLBAR_ENDPOINT.name: rollbar.endpoint,
            contract.AWS_ENDPOINT_URL_DYNAMODB.name: moto_url,
        }
        assert set(overrides) == TEST_MACHINE_OVERRIDES
        environ.update(overrides)
        environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})

        port = closed_port()
        process = start_gunicorn(environ, port, command=app["Command"])
        trace_ids = [f"6b01{uuid.uuid4().hex[4:]}" for _ in range(REQUESTS)]
        try:
            health_url = f"http://127.0.0.1:{port}{task['target_group']['Properties']['HealthCheckPath']}"

            def healthy() -> bool:
                try:
                    with urllib.request.urlopen(health_url, timeout=1) as response:
                        return response.status == 200
                except OSError:
                    return False

            assert wait_until(healthy, timeout=20), "the load balancer's health check path did not answer 200"
            for trace_id in trace_ids:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/api/activities",
                    data=json.dumps({"handle": "andrewbrown", "message": f"trace {trace_id}"}).encode(),
                    headers={"Content-Type": "application/json", "traceparent": f"00-{trace_id}-{'1' * 16}-01"},
                    method="POST",
                )
                with urllib.request.urlopen(request, timeout=5) as response:
                    assert response.status == 200
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

        # segments: same trace ids, in X-Ray form
        xray_ids = {f"1-{t[:8]}-{t[8:]}" for t in trace_ids}
        assert {s["trace_id"] for s in daemon.segments} == xray_ids
        assert {s["name"] for s in daemon.segments} == {service_name}

        # log lines: stdout (the awslogs driver) and watchtower
        stdout_lines = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
        created = [line for line in stdout_lines if line["logger"] == "cruddur.activities"]
        assert {line["trace_id"] for line in created} == set(trace_ids)
        streams = cloudwatch_logs.describe_log_streams(logGroupName=watchtower_group)["logStreams"]
        assert len(streams) == contract.GUNICORN_WORKERS  # one stream per worker process
        shipped = []
        for stream in streams:
            events = cloudwatch_logs.get_log_events(logGroupName=watchtower_group, logStreamName=stream["logStreamName"])
            shipped.extend(json.loads(e["message"]) for e in events["events"])
        assert {e["trace_id"] for e in shipped if e["logger"] == "cruddur.activities"} == set(trace_ids)
        assert rollbar.items == []  # no errors were raised

        # DynamoDB: a client span per call inside each request's trace, and a subsegment in its segment
        server_span_ids = {s.trace_id: s.span_id for s in server_spans}
        for trace_id in trace_ids:
            calls = [s for s in collector.spans if s.trace_id == trace_id and s.attributes.get("rpc.service") == "DynamoDB"]
            assert {s.name for s in calls} == {"DynamoDB.GetItem", "DynamoDB.PutItem"}, calls
            assert {s.attributes["aws.dynamodb.table_names"][0] for s in calls} == {table_name}
            operation_span = next(s for s in collector.spans if s.trace_id == trace_id and s.name == "create-activity")
            assert operation_span.parent_span_id == server_span_ids[trace_id]
            assert {s.parent_span_id for s in calls} == {operation_span.span_id}
        for segment in daemon.segments:
            subsegments = _all_subsegments(segment)
            dynamodb = [s for s in subsegments if s.get("namespace") == "aws" and s["name"] == "dynamodb"]
            assert {s["aws"]["operation"] for s in dynamodb} == {"GetItem", "PutItem"}
            assert {s["aws"]["table_name"] for s in dynamodb} == {table_name}


def _all_subsegments(entity: dict) -> list[dict]:
    """Every subsegment under ``entity``, at any depth."""
    found = []
    for child in entity.get("subsegments", []):
        found.append(child)
        found.extend(_all_subsegments(child))
    return found
