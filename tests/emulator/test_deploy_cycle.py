"""bootstrap, deploy, diff and destroy of dev through the project's own CDK CLI, against moto_server.

moto_server runs on loopback (``testsupport/standins/moto_server.py``, moto with
four documented CloudFormation fixes). The CLI reaches it through
``AWS_ENDPOINT_URL=http://localhost:PORT``. Where moto does not emulate a
resource type or a deletion, the test names it and asserts on everything else.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import boto3
import pytest
import yaml

from cruddur import contract
from cruddur import table as table_design
from infra.environments import load_environment
from testsupport.standins.aws import MotoServer

pytestmark = pytest.mark.emulator

REPO_ROOT = Path(__file__).resolve().parents[2]
ACCOUNT, REGION = "123456789012", "us-east-1"
IMAGE_URI = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/cruddur-backend-flask:1.0.0"
CONFIG = load_environment("dev")
STACKS = [f"{CONFIG.resource_prefix}-{name}" for name in ("network", "observability", "service")]

# Resource types moto's CloudFormation skips (it logs "not supported"): they
# are asserted in the template tests instead. Any change here is a finding.
NOT_EMULATED = {
    # dev's entry point: moto has no CloudFormation models for API Gateway v2 (HTTP APIs, VPC links)
    "AWS::ApiGatewayV2::Api",
    "AWS::ApiGatewayV2::Integration",
    "AWS::ApiGatewayV2::Route",
    "AWS::ApiGatewayV2::Stage",
    "AWS::ApiGatewayV2::VpcLink",
    "AWS::ECS::ClusterCapacityProviderAssociations",  # dev's Fargate Spot capacity provider
    "AWS::ApplicationAutoScaling::ScalableTarget",
    "AWS::ApplicationAutoScaling::ScalingPolicy",
    "AWS::CDK::Metadata",
    "AWS::ApplicationSignals::ServiceLevelObjective",  # the SLOs (tests/infra/test_slos.py)
    "AWS::CloudWatch::Alarm",
    "AWS::CloudWatch::CompositeAlarm",  # the burn-rate alerts (tests/infra/test_slos.py)
    "AWS::EC2::SecurityGroupEgress",
    "AWS::Logs::MetricFilter",
    "AWS::Logs::QueryDefinition",  # the saved Logs Insights queries (tests/infra/test_log_queries.py)
    "AWS::S3::BucketPolicy",  # the bootstrap stack's
    "AWS::SNS::TopicPolicy",
    "AWS::XRay::Group",
    "AWS::XRay::SamplingRule",
}
# moto runs Lambda functions only through Docker, which this machine lacks: a
# Lambda-backed custom resource would never answer and the deploy would wait.
# The secrets preflight is therefore left out here (-c secrets_preflight=false);
# its handler is tested against moto in tests/lambda_functions/, and its place
# in the deploy order in tests/infra/test_lambda_constructs.py.
NOT_RUNNABLE = ("Custom::SecretsPreflight",)
# Deletions moto does not perform, named so that the rest can be asserted.
MOTO_VPC_DELETE_ORDER = "has dependencies and cannot be deleted"  # deletes the VPC before its gateway and routes
# moto's ECS models implement CloudFormation create and update but no delete.
MOTO_KEEPS_ON_STACK_DELETE = ("AWS::ECS::Cluster", "AWS::ECS::Service", "AWS::ECS::TaskDefinition")


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    """moto_server on 127.0.0.1 for the whole cycle; its log is read for unsupported types."""
    with MotoServer(tmp_path_factory.mktemp("moto") / "moto.log") as server:
        yield {"port": server.port, "log": server.log_path}


@pytest.fixture(scope="module")
def aws_env(emulator):
    """The environment of every CLI and boto3 call: fake credentials, the emulator's endpoint."""
    return {
        "PATH": f"{REPO_ROOT / 'node_modules/.bin'}:{REPO_ROOT / '.venv/bin'}:{os.environ['PATH']}",
        "HOME": os.environ.get("HOME", "/tmp"),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        # 'localhost', not 127.0.0.1: moto reads the template URL's host to find its S3 bucket
        "AWS_ENDPOINT_URL": f"http://localhost:{emulator['port']}",
        "CDK_DISABLE_CLI_TELEMETRY": "true",
    }


def client(aws_env, service: str):
    """A boto3 client for the emulator."""
    return boto3.client(
        service,
        endpoint_url=aws_env["AWS_ENDPOINT_URL"],
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def cdk(aws_env, *args: str, outdir: Path) -> subprocess.CompletedProcess:
    """The project's CDK CLI (node_modules/.bin/cdk), as a user runs it."""
    command = ["cdk", *args, "--no-notices", "-o", str(outdir)]
    return subprocess.run(command, cwd=REPO_ROOT, env=aws_env, capture_output=True, text=True, timeout=240)


def _app_args() -> list[str]:
    return ["-c", f"env={CONFIG.name}", "-c", f"image_uri={IMAGE_URI}", "-c", "secrets_preflight=false"]


def _stack_statuses(aws_env) -> dict[str, str]:
    stacks = client(aws_env, "cloudformation").describe_stacks()["Stacks"]
    return {s["StackName"]: s["StackStatus"] for s in stacks}


def _log_groups(aws_env) -> dict[str, int | None]:
    groups = client(aws_env, "logs").describe_log_groups()["logGroups"]
    return {g["logGroupName"]: g.get("retentionInDays") for g in groups}


def test_deploy_diff_destroy_cycle(aws_env, emulator, tmp_path):
    """Bootstrap, deploy dev with an image URI, diff shows nothing, destroy removes what moto can delete."""
    # -- bootstrap ------------------------------------------------------
    result = cdk(aws_env, "bootstrap", f"aws://{ACCOUNT}/{REGION}", outdir=tmp_path / "bootstrap")
    assert result.returncode == 0, result.stderr[-3000:]

    # -- deploy ---------------------------------------------------------
    # --method=direct: moto's change-set execution drops stack outputs, so
    # cross-stack exports would be missing; direct create/update keeps them.
    result = cdk(
        aws_env,
        "deploy",
        "--all",
        *_app_args(),
        "--require-approval",
        "never",
        "--method=direct",
        outdir=tmp_path / "deploy",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    statuses = _stack_statuses(aws_env)
    assert all(statuses[name] == "CREATE_COMPLETE" for name in STACKS), statuses

    ecs = client(aws_env, "ecs")
    (cluster,) = ecs.list_clusters()["clusterArns"]
    (service_arn,) = ecs.list_services(cluster=cluster)["serviceArns"]
    service = ecs.describe_services(cluster=cluster, services=[service_arn])["services"][0]
    task = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
    assert {c["name"] for c in task["containerDefinitions"]} == {
        contract.APP_CONTAINER_NAME,
        contract.XRAY_DAEMON_CONTAINER_NAME,
        contract.COLLECTOR_CONTAINER_NAME,
    }
    app = next(c for c in task["containerDefinitions"] if c["name"] == contract.APP_CONTAINER_NAME)
    assert app["image"] == IMAGE_URI

    # dev's entry point is an HTTP API (not emulated, see above) in front of Cloud Map: no load balancer
    elbv2 = client(aws_env, "elbv2")
    assert elbv2.describe_load_balancers()["LoadBalancers"] == []
    cloud_map = client(aws_env, "servicediscovery")
    (namespace,) = cloud_map.list_namespaces()["Namespaces"]
    assert namespace["Name"] == f"{CONFIG.resource_prefix}.internal"
    (discovered,) = cloud_map.list_services()["Services"]
    assert discovered["Name"] == CONFIG.service_name
    assert [r["Type"] for r in cloud_map.get_service(Id=discovered["Id"])["Service"]["DnsConfig"]["DnsRecords"]] == [
        "SRV"
    ]

    log_groups = _log_groups(aws_env)
    assert len(log_groups) == 5  # app, daemon, collector, HTTP API access log, VPC flow logs
    assert set(log_groups.values()) == {CONFIG.logs.retention_days}

    parameter = client(aws_env, "ssm").get_parameter(Name=f"{CONFIG.parameter_path}/otel-collector-config")["Parameter"]
    assert parameter["Type"] == "String"
    assert set(yaml.safe_load(parameter["Value"])["receivers"]) == {"otlp"}
    # The alarms that page, and the notices that do not (the slow burn of an error budget).
    topics = client(aws_env, "sns").list_topics()["Topics"]
    assert len(topics) == 2 and sum(":" in topic["TopicArn"] for topic in topics) == 2
    dashboards = client(aws_env, "cloudwatch").list_dashboards()["DashboardEntries"]
    assert [d["DashboardName"] for d in dashboards] == [CONFIG.resource_prefix]
    # the table: the one the task is given, with the service's design
    dynamodb = client(aws_env, "dynamodb")
    (table_name,) = dynamodb.list_tables()["TableNames"]
    assert {"name": contract.DYNAMODB_TABLE_NAME.name, "value": table_name} in app["environment"]
    described = dynamodb.describe_table(TableName=table_name)["Table"]
    assert {i["IndexName"] for i in described["GlobalSecondaryIndexes"]} == set(table_design.INDEXES)
    assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"

    skipped = set(re.findall(r"Tried to parse (\S+) but it's not supported", emulator["log"].read_text()))
    assert skipped == NOT_EMULATED
    body = client(aws_env, "cloudformation").get_template(StackName=STACKS[-1])["TemplateBody"]
    deployed_types = {r["Type"] for r in (json.loads(body) if isinstance(body, str) else body)["Resources"].values()}
    assert "AWS::ECS::Service" in deployed_types and not deployed_types & set(NOT_RUNNABLE)

    # -- diff -------------------------------------------------------------
    result = cdk(aws_env, "diff", *_app_args(), "--method=template", "--fail", outdir=tmp_path / "diff")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Number of stacks with differences: 0" in result.stdout + result.stderr

    # -- destroy, one stack at a time so that one emulator gap cannot hide the others --
    for name in reversed(STACKS):
        result = cdk(aws_env, "destroy", name, *_app_args(), "--force", outdir=tmp_path / f"destroy-{name}")
        if name.endswith("-network") and MOTO_VPC_DELETE_ORDER in result.stdout + result.stderr:
            continue  # named above: moto's VPC deletion order
        assert result.returncode == 0, result.stderr[-3000:]

    statuses = _stack_statuses(aws_env)
    assert not [name for name in STACKS if statuses.get(name, "DELETE_COMPLETE") != "DELETE_COMPLETE"], statuses
    assert _log_groups(aws_env) == {}  # dev: every log group is deleted with its stack
    assert cloud_map.list_services()["Services"] == [] and cloud_map.list_namespaces()["Namespaces"] == []
    parameters = [p["Name"] for p in client(aws_env, "ssm").describe_parameters()["Parameters"]]
    assert parameters == ["/cdk-bootstrap/hnb659fds/version"]
    assert client(aws_env, "sns").list_topics()["Topics"] == []
    assert client(aws_env, "cloudwatch").list_dashboards()["DashboardEntries"] == []
    assert dynamodb.list_tables()["TableNames"] == []  # dev: the table is deleted with its stack
    # Named above: the ECS resources outlive their stack only in moto (MOTO_KEEPS_ON_STACK_DELETE);
    # on AWS, CloudFormation deletes them with the stack.
    assert ecs.list_services(cluster=cluster)["serviceArns"] == [service_arn]
