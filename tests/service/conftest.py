"""Fixtures for the service: loopback stand-ins and an app wired to them."""

from __future__ import annotations

import json
import logging

import pytest
from flask.testing import FlaskClient

from cruddur import contract, extensions
from cruddur.app import create_app
from cruddur.seed import seed_at_start
from flask_aws_telemetry.healthcheck import probe
from testsupport.standins.aws import MotoServer, create_service_table
from testsupport.standins.otlp import OtlpReceiver
from testsupport.standins.rollbar import RollbarApi
from testsupport.standins.xray_daemon import XRayDaemon


@pytest.fixture(scope="session")
def dynamodb_server(tmp_path_factory):
    """moto_server on loopback standing in for DynamoDB, one per test process."""
    with MotoServer(tmp_path_factory.mktemp("dynamodb") / "moto.log") as server:
        yield server


# What boto3 in a gunicorn started by a test needs to reach moto (it inherits no credentials).
TEST_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@pytest.fixture
def dynamodb_environ(dynamodb_server, fake_aws_credentials) -> dict[str, str]:
    """The contract's DynamoDB variables for a fresh table on the moto server."""
    return {
        contract.DYNAMODB_TABLE_NAME.name: create_service_table(dynamodb_server.url),
        contract.AWS_ENDPOINT_URL_DYNAMODB.name: dynamodb_server.url,
    }


@pytest.fixture
def gunicorn_data_environ(dynamodb_environ) -> dict[str, str]:
    """The DynamoDB variables and the credentials a gunicorn subprocess needs to use a fresh moto table."""
    return {**dynamodb_environ, **TEST_CREDENTIALS}


@pytest.fixture
def otlp_receiver():
    """An OTLP/HTTP receiver on loopback."""
    with OtlpReceiver() as receiver:
        yield receiver


@pytest.fixture
def xray_daemon():
    """A UDP X-Ray daemon socket on loopback; every segment it received must keep X-Ray's schema."""
    with XRayDaemon() as daemon:
        yield daemon
    daemon.assert_segments_valid()


@pytest.fixture
def rollbar_api():
    """A Rollbar API stand-in on loopback."""
    with RollbarApi() as api:
        yield api


# The deployed environments' health rule: load-balancer health checks are never sampled.
HEALTH_RULE = {
    "RuleName": "health", "Priority": 100, "ReservoirSize": 0, "FixedRate": 0.0,
    "HTTPMethod": "GET", "URLPath": contract.HEALTH_CHECK_PATH,
}  # fmt: skip


# What a DynamoDB client span and subsegment carry (README, "What a DynamoDB call records").
DYNAMODB_SPAN_ATTRIBUTES = {
    "rpc.system", "rpc.service", "rpc.method", "cloud.region", "aws.region", "server.address", "server.port",
    "db.system", "db.operation", "net.peer.name", "aws.dynamodb.table_names",
    "aws.request_id", "http.status_code", "retry_attempts",
}  # fmt: skip
QUERY_SPAN_ATTRIBUTES = {"aws.dynamodb.index_name", "aws.dynamodb.limit", "aws.dynamodb.scan_forward"}
DYNAMODB_SUBSEGMENT_FIELDS = {"operation", "region", "request_id", "table_name"}
QUERY_SUBSEGMENT_FIELDS = {"index_name", "limit", "scan_index_forward"}


def sampling_rules(fixed_rate: float, reservoir_size: int = 0, *rules: dict) -> str:
    """XRAY_SAMPLING_RULES: ``rules`` first, then a catch-all rule with ``fixed_rate`` and ``reservoir_size``."""
    catch_all = {"RuleName": "catch-all", "Priority": 9000, "ReservoirSize": reservoir_size, "FixedRate": fixed_rate}
    return json.dumps([*rules, catch_all])


def telemetry_environ(otlp_receiver, xray_daemon, **overrides) -> dict[str, str]:
    """The contract's variables with OpenTelemetry and X-Ray on, pointed at the stand-ins; all but health checks
    sampled; Cruddur's process variables and logger prefix as its task sets them.

    A request counts as slow (and is captured unsampled) only after 30 s, not the contract's 1 s: a machine
    loaded by other work can slow a cold request past 1 s, and a test of head sampling would then see it
    captured. The tests of slow capture set their own threshold.
    """
    environ = {
        **contract.PROCESS_ENVIRONMENT,
        contract.SLOW_REQUEST_SECONDS.name: "30",
        contract.SERVICE_NAME.name: "cruddur-backend-flask",
        contract.DEPLOYMENT_ENVIRONMENT.name: "test",
        contract.OTEL_ENABLED.name: "true",
        contract.OTEL_EXPORTER_OTLP_ENDPOINT.name: otlp_receiver.url,
        contract.XRAY_ENABLED.name: "true",
        contract.XRAY_DAEMON_ADDRESS.name: xray_daemon.address,
        contract.XRAY_SAMPLING_RULES.name: sampling_rules(1.0, 0, HEALTH_RULE),
    }
    environ.update(overrides)
    return environ


class ServerLikeClient(FlaskClient):
    """A test client that reads each response whole and closes it at once, as gunicorn does.

    The server span ends when its response has been iterated; werkzeug's
    default client reads the body lazily, gunicorn does not.
    """

    def open(self, *args, **kwargs):
        kwargs.setdefault("buffered", True)
        return super().open(*args, **kwargs)


@pytest.fixture
def make_app(dynamodb_environ):
    """Build apps from an environ mapping (Cruddur's process variables unless it sets them), on a fresh seeded
    DynamoDB table unless it names one; shut them down after.

    The table is seeded before the app is built, as the task seeds it at start: a DynamoDB that is down is a warning.
    """
    built = []

    def build(environ: dict[str, str], **options):
        environ = {**contract.PROCESS_ENVIRONMENT, **dynamodb_environ, **environ}
        seed_at_start(environ)
        app = create_app(environ=environ, **options)
        app.test_client_class = ServerLikeClient
        built.append(app)
        return app

    yield build
    for app in built:
        app.extensions[extensions.TELEMETRY].shutdown(3)
    logging.getLogger().setLevel(logging.WARNING)


@pytest.fixture
def traced_app(otlp_receiver, xray_daemon, make_app):
    """The app with OpenTelemetry and X-Ray on, everything sampled."""
    return make_app(telemetry_environ(otlp_receiver, xray_daemon))


@pytest.fixture
def plain_app(make_app):
    """The app with every telemetry part off."""
    return make_app({contract.SERVICE_NAME.name: "cruddur-backend-flask"})


@pytest.fixture
def client(plain_app):
    """A test client of the plain app."""
    return plain_app.test_client()


def healthy(port: int) -> bool:
    """True when Cruddur's health path on loopback ``port`` answers 2xx, as the container's health check asks it."""
    return probe(port, contract.HEALTH_CHECK_PATH, timeout_seconds=0.5) is None


def flush(app) -> None:
    """Export every finished span now."""
    provider = app.extensions[extensions.TELEMETRY].tracer_provider
    assert provider.force_flush(5000)
