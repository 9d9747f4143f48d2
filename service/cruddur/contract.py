"""The contract between the ECS task definition and the Cruddur service.

Every environment variable the service reads is defined once: the
telemetry's in ``flask_aws_telemetry.contract`` (re-exported here, so
``contract.X`` names any of them but the process variables), Cruddur's own
below. Cruddur's values of the library's process variables (its port,
health-check path, worker count, writable path and logger prefix) are
Cruddur's too: ``PROCESS_ENVIRONMENT`` holds them by variable name. The CDK
app that builds the task definition imports these names to set them, and
the service imports them to parse them (``cruddur.settings``,
``flask_aws_telemetry.TelemetrySettings``), so the two sides cannot drift
apart: ``tests/contract`` proves that every variable the task definition
sets is read here, and every variable read here without a default is set.

This module is imported by both the CDK app and the container, so it imports
nothing but the standard library and the telemetry's contract (which imports
nothing but the standard library).
"""

from __future__ import annotations

from flask_aws_telemetry import contract as telemetry_contract
from flask_aws_telemetry.contract import (
    ANOMALY_CAPTURE_PER_SECOND,
    AWS_ENDPOINT_URL_LOGS,
    AWS_REGION,
    BROWSER_TRACES_ENABLED,
    BROWSER_TRACES_MAX_BODY_BYTES,
    BROWSER_TRACES_PATH,
    BROWSER_TRACES_SOURCE_HEADER,
    BROWSER_TRACES_SOURCE_LIMIT_PER_MINUTE,
    BROWSER_TRACES_TASK_LIMIT_PER_SECOND,
    BROWSER_TRACES_VARIABLES,
    COLLECTOR_CONTAINER_NAME,
    DEPLOYMENT_ENVIRONMENT,
    ECS_CONTAINER_METADATA_URI_V4,
    FRONTEND_URL,
    HTTP_API_SOURCE_IP_HEADER,
    LOAD_BALANCER_SOURCE_IP_HEADER,
    LOG_LEVEL,
    OTEL_CONSOLE_EXPORT,
    OTEL_ENABLED,
    OTEL_EXPORTER_OTLP_ENDPOINT,
    OTEL_SEMCONV_STABILITY_OPT_IN,
    OTLP_GRPC_PORT,
    OTLP_HTTP_PORT,
    PLATFORM_VARIABLES,
    ROLLBAR_ACCESS_TOKEN,
    ROLLBAR_ENABLED,
    ROLLBAR_ENDPOINT,
    SAMPLING_BOOST_MESSAGE_PREFIX,
    SECRET_HONEYCOMB_API_KEY,
    SECRET_ROLLBAR_ACCESS_TOKEN,
    SERVICE_NAME,
    SHUTDOWN_DRAIN_SECONDS,
    SLOW_REQUEST_SECONDS,
    STOP_TIMEOUT_SECONDS,
    WATCHTOWER_ENABLED,
    WATCHTOWER_LOG_GROUP,
    XRAY_DAEMON_ADDRESS,
    XRAY_DAEMON_CONTAINER_NAME,
    XRAY_DAEMON_PORT,
    XRAY_DEFAULT_SAMPLING_RULE,
    XRAY_ENABLED,
    XRAY_SAMPLING_ENDPOINT,
    XRAY_SAMPLING_PROXY_URL,
    XRAY_SAMPLING_RULES,
    EnvVar,
)

# -- Cruddur's values of the library's process variables and logger prefix (flask_aws_telemetry.contract:
# PORT, HEALTH_CHECK_PATH, WEB_CONCURRENCY, APP_WRITABLE_PATH, TELEMETRY_LOGGER_PREFIX). Cruddur's config has its
# task set them; gunicorn (flask_aws_telemetry.gunicorn_config) and the telemetry read them from there.
CONTAINER_PORT = 5000
HEALTH_CHECK_PATH = "/api/health-check"
WORKERS = 2
# The name the files outside the Cruddur app (cost/, tests/contract, tests/browser) still read Cruddur's worker
# count by; drop it when they read WORKERS.
GUNICORN_WORKERS = WORKERS
# The only writable path of the app container (its root file system is read-only):
# gunicorn's worker heartbeat files and Python's tempfile.
APP_TEMP_DIR = "/tmp"
# Cruddur's deployed metric filter counts "cruddur.anomalies" lines: the prefix keeps that name.
LOGGER_PREFIX = "cruddur"
ANOMALY_LOGGER = telemetry_contract.anomaly_logger(LOGGER_PREFIX)
PROCESS_ENVIRONMENT: dict[str, str] = {
    telemetry_contract.PORT.name: str(CONTAINER_PORT),
    telemetry_contract.WEB_CONCURRENCY.name: str(WORKERS),
    telemetry_contract.HEALTH_CHECK_PATH.name: HEALTH_CHECK_PATH,
    telemetry_contract.APP_WRITABLE_PATH.name: APP_TEMP_DIR,
    telemetry_contract.TELEMETRY_LOGGER_PREFIX.name: LOGGER_PREFIX,
}

APP_CONTAINER_NAME = "app"
# The app container's command, user and health check; the Dockerfile uses the same.
APP_COMMAND = ("gunicorn", "--config", "gunicorn.conf.py", "cruddur.app:create_app()")
APP_HEALTHCHECK_COMMAND = telemetry_contract.HEALTH_CHECK_COMMAND
APP_USER = "10001"

# -- the span attributes Cruddur's services set on their operations (telemetry.operation(...).set). The X-Ray SDK
# path annotates them (app_result_length ...); on the OpenTelemetry path to PutTraceSegments the collector does when
# they are indexed: Cruddur's config publishes them as app.span_attributes, which telemetry.xray_indexed_attributes
# is checked against.
RESULT_LENGTH_ATTRIBUTE = "app.result_length"
USER_HANDLE_ATTRIBUTE = "app.user_handle"
MESSAGE_UUID_ATTRIBUTE = "app.message_uuid"
ACTIVITY_UUID_ATTRIBUTE = "app.activity_uuid"
SPAN_ATTRIBUTES: tuple[str, ...] = (
    RESULT_LENGTH_ATTRIBUTE,
    USER_HANDLE_ATTRIBUTE,
    MESSAGE_UUID_ATTRIBUTE,
    ACTIVITY_UUID_ATTRIBUTE,
)

# -- the data (DynamoDB) and the demo user ---------------------------------------
DYNAMODB_TABLE_NAME = EnvVar(
    "DYNAMODB_TABLE_NAME", None, "The DynamoDB table the stack created (cruddur.table's design)."
)
AWS_ENDPOINT_URL_DYNAMODB = EnvVar(
    "AWS_ENDPOINT_URL_DYNAMODB", "", "Override of the DynamoDB endpoint (make local, tests and emulators only)."
)
DEMO_USER_HANDLE = EnvVar(
    "DEMO_USER_HANDLE", "andrewbrown", "Handle requests act as until sign-in exists (the course's demo user)."
)
DATA_VARIABLES: tuple[EnvVar, ...] = (DYNAMODB_TABLE_NAME, AWS_ENDPOINT_URL_DYNAMODB, DEMO_USER_HANDLE)

# Every variable of the task: the telemetry's, then Cruddur's own.
ALL: tuple[EnvVar, ...] = (*telemetry_contract.ALL, *DATA_VARIABLES)
NAMES: frozenset[str] = frozenset(var.name for var in ALL)

__all__ = [
    "ANOMALY_CAPTURE_PER_SECOND",
    "AWS_ENDPOINT_URL_LOGS",
    "AWS_REGION",
    "BROWSER_TRACES_ENABLED",
    "BROWSER_TRACES_MAX_BODY_BYTES",
    "BROWSER_TRACES_PATH",
    "BROWSER_TRACES_SOURCE_HEADER",
    "BROWSER_TRACES_SOURCE_LIMIT_PER_MINUTE",
    "BROWSER_TRACES_TASK_LIMIT_PER_SECOND",
    "BROWSER_TRACES_VARIABLES",
    "COLLECTOR_CONTAINER_NAME",
    "DEPLOYMENT_ENVIRONMENT",
    "ECS_CONTAINER_METADATA_URI_V4",
    "EnvVar",
    "FRONTEND_URL",
    "HTTP_API_SOURCE_IP_HEADER",
    "LOAD_BALANCER_SOURCE_IP_HEADER",
    "LOG_LEVEL",
    "OTEL_CONSOLE_EXPORT",
    "OTEL_ENABLED",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_SEMCONV_STABILITY_OPT_IN",
    "OTLP_GRPC_PORT",
    "OTLP_HTTP_PORT",
    "PLATFORM_VARIABLES",
    "ROLLBAR_ACCESS_TOKEN",
    "ROLLBAR_ENABLED",
    "ROLLBAR_ENDPOINT",
    "SAMPLING_BOOST_MESSAGE_PREFIX",
    "SECRET_HONEYCOMB_API_KEY",
    "SECRET_ROLLBAR_ACCESS_TOKEN",
    "SERVICE_NAME",
    "SHUTDOWN_DRAIN_SECONDS",
    "SLOW_REQUEST_SECONDS",
    "STOP_TIMEOUT_SECONDS",
    "WATCHTOWER_ENABLED",
    "WATCHTOWER_LOG_GROUP",
    "XRAY_DAEMON_ADDRESS",
    "XRAY_DAEMON_CONTAINER_NAME",
    "XRAY_DAEMON_PORT",
    "XRAY_DEFAULT_SAMPLING_RULE",
    "XRAY_ENABLED",
    "XRAY_SAMPLING_ENDPOINT",
    "XRAY_SAMPLING_PROXY_URL",
    "XRAY_SAMPLING_RULES",
    "CONTAINER_PORT",
    "HEALTH_CHECK_PATH",
    "WORKERS",
    "GUNICORN_WORKERS",
    "LOGGER_PREFIX",
    "ANOMALY_LOGGER",
    "PROCESS_ENVIRONMENT",
    "APP_CONTAINER_NAME",
    "APP_COMMAND",
    "APP_HEALTHCHECK_COMMAND",
    "APP_USER",
    "APP_TEMP_DIR",
    "RESULT_LENGTH_ATTRIBUTE",
    "USER_HANDLE_ATTRIBUTE",
    "MESSAGE_UUID_ATTRIBUTE",
    "ACTIVITY_UUID_ATTRIBUTE",
    "SPAN_ATTRIBUTES",
    "DYNAMODB_TABLE_NAME",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "DEMO_USER_HANDLE",
    "DATA_VARIABLES",
    "ALL",
    "NAMES",
]
