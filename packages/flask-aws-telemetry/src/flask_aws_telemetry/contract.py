"""The telemetry's half of the contract between an ECS task definition and the service it runs.

Every environment variable the telemetry reads, the sidecars' ports and
container names and the stop timings are defined here, once. The CDK
constructs that build the task definition import these names to set them,
and ``flask_aws_telemetry.settings`` imports them to parse them, so the two
sides cannot drift apart. An app adds its own names in a contract of its own
(which may re-export these beside them).

This module is imported by the CDK app as well as by the container, so it
imports nothing but the standard library.

Where a standard name exists (OpenTelemetry, X-Ray SDK, AWS SDK) it is used,
so the libraries' own documentation applies to the value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

XRAY_DAEMON_CONTAINER_NAME = "xray-daemon"
COLLECTOR_CONTAINER_NAME = "otel-collector"
XRAY_DAEMON_PORT = 2000
# The sampling proxy: the daemon's TCP port, or the collector's awsproxy extension on the same port.
XRAY_SAMPLING_PROXY_URL = f"http://127.0.0.1:{XRAY_DAEMON_PORT}"
OTLP_GRPC_PORT = 4317
OTLP_HTTP_PORT = 4318
# ECS sends SIGTERM, waits stopTimeout seconds, then SIGKILL; gunicorn's
# graceful timeout and the telemetry drain must both fit inside it.
STOP_TIMEOUT_SECONDS = 30
SHUTDOWN_DRAIN_SECONDS = 10

SECRET_HONEYCOMB_API_KEY = "HONEYCOMB_API_KEY"
SECRET_ROLLBAR_ACCESS_TOKEN = "ROLLBAR_ACCESS_TOKEN"


@dataclass(frozen=True)
class EnvVar:
    """One variable of the contract: its name, default and meaning."""

    name: str
    default: str | None
    description: str
    secret: bool = False


SERVICE_NAME = EnvVar(
    "OTEL_SERVICE_NAME",
    None,
    "Name the service reports to OpenTelemetry and X-Ray; the X-Ray sampling rules and groups match on it.",
)
DEPLOYMENT_ENVIRONMENT = EnvVar(
    "DEPLOYMENT_ENVIRONMENT", "local", "Environment name (dev, staging, prod); becomes deployment.environment."
)
AWS_REGION = EnvVar("AWS_REGION", "us-east-1", "Region for the CloudWatch Logs client used by watchtower.")
SERVICE_VERSION = EnvVar(
    "SERVICE_VERSION",
    "",
    "The code revision deployed (a commit id); becomes service.version on the spans and Rollbar's code_version. "
    "Empty: neither is set.",
)
LOG_LEVEL = EnvVar("LOG_LEVEL", "INFO", "Root log level: DEBUG, INFO, WARNING, ERROR.")

OTEL_ENABLED = EnvVar("TELEMETRY_OTEL_ENABLED", "false", "Trace with OpenTelemetry and export OTLP/HTTP.")
OTEL_EXPORTER_OTLP_ENDPOINT = EnvVar(
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    f"http://localhost:{OTLP_HTTP_PORT}",
    "Base URL of the collector's OTLP/HTTP receiver; /v1/traces is appended.",
)
OTEL_SEMCONV_STABILITY_OPT_IN = EnvVar(
    "OTEL_SEMCONV_STABILITY_OPT_IN",
    "http",
    "HTTP attribute conventions of the server spans: http (the stable ones) or http/dup (stable and the old ones).",
)
OTEL_CONSOLE_EXPORT = EnvVar(
    "TELEMETRY_CONSOLE_EXPORT", "false", "Print finished spans to stdout instead of exporting (make local)."
)

XRAY_ENABLED = EnvVar("TELEMETRY_XRAY_ENABLED", "false", "Record X-Ray segments with the aws-xray-sdk.")
XRAY_DAEMON_ADDRESS = EnvVar(
    "AWS_XRAY_DAEMON_ADDRESS", f"127.0.0.1:{XRAY_DAEMON_PORT}", "host:port of the X-Ray daemon (UDP)."
)
XRAY_SAMPLING_ENDPOINT = EnvVar(
    "XRAY_SAMPLING_ENDPOINT",
    "",
    "URL of the X-Ray sampling proxy (the daemon's or the collector's awsproxy TCP port 2000) the sampler polls "
    "for the account's rules and targets; empty: the fallback rules alone decide.",
)
# X-Ray's own catch-all rule, last in every account: it decides what no rule of the environment matches,
# in the service's fallback and in the cost estimate alike.
XRAY_DEFAULT_SAMPLING_RULE: dict[str, Any] = {
    "RuleName": "Default",
    "Priority": 10000,
    "ReservoirSize": 1,
    "FixedRate": 0.05,
    "ServiceName": "*",
    "ServiceType": "*",
    "Host": "*",
    "HTTPMethod": "*",
    "URLPath": "*",
    "ResourceARN": "*",
    "Version": 1,
    "Attributes": {},
}
XRAY_SAMPLING_RULES = EnvVar(
    "XRAY_SAMPLING_RULES",
    "",
    "The environment's sampling rules as a JSON list of X-Ray SamplingRule objects, deciding until (and whenever) "
    "the proxy cannot serve the account's; empty: every request is sampled.",
)

SLOW_REQUEST_SECONDS = EnvVar(
    "TELEMETRY_SLOW_REQUEST_SECONDS",
    "1",
    "A request slower than this many seconds is an anomaly, exported even when head sampling said no (the X-Ray "
    "slow group's threshold, xray_groups.slow_request_seconds).",
)
ANOMALY_CAPTURE_PER_SECOND = EnvVar(
    "TELEMETRY_ANOMALY_CAPTURE_PER_SECOND",
    "10",
    "At most this many unsampled anomalies (5xx, unhandled exception, slow) a second are exported per task, shared "
    "equally by its WEB_CONCURRENCY gunicorn workers; 0 turns capture off.",
)

# The span attributes the library sets itself: every operation span's start time (``telemetry.operation``), and a
# captured anomaly's mark on its server span (``capture.py``). The X-Ray SDK path annotates each under
# ``xray_annotation_key(name)``; on the OpenTelemetry path to PutTraceSegments the collector's awsxray exporter
# does the same for the attributes it is told to index (the CDK config's ``telemetry.xray_indexed_attributes``,
# checked against these and the app's own). An app publishes the attributes it sets beside these.
OPERATION_TIME_ATTRIBUTE = "app.now"
ANOMALY_CAPTURED_ATTRIBUTE = "anomaly.captured"
ANOMALY_REASON_ATTRIBUTE = "anomaly.reason"
SPAN_ATTRIBUTES: tuple[str, ...] = (OPERATION_TIME_ATTRIBUTE, ANOMALY_CAPTURED_ATTRIBUTE, ANOMALY_REASON_ATTRIBUTE)
_ANNOTATION_KEY_CHARACTER = re.compile(r"[^A-Za-z0-9]")


def xray_annotation_key(attribute: str) -> str:
    """The X-Ray annotation a span attribute becomes: every character but a letter or digit as ``_``.

    X-Ray takes only letters, digits and ``_`` in an annotation's key; the
    collector's awsxray exporter maps an indexed attribute's name so, and the
    X-Ray SDK path maps it the same way (``anomaly.captured`` ->
    ``anomaly_captured``).
    """
    return _ANNOTATION_KEY_CHARACTER.sub("_", attribute)


# Log lines the dashboard counts (metric filters on the app's log group): one per captured anomaly trace, from
# the logger ``anomaly_logger(prefix)``; one per sampling boost, with this message prefix.
SAMPLING_BOOST_MESSAGE_PREFIX = "sampling boosted"

WATCHTOWER_ENABLED = EnvVar(
    "TELEMETRY_WATCHTOWER_ENABLED", "false", "Ship log records to CloudWatch Logs with watchtower."
)
WATCHTOWER_LOG_GROUP = EnvVar(
    "WATCHTOWER_LOG_GROUP", None, "Existing log group watchtower writes to (required when watchtower is on)."
)
AWS_ENDPOINT_URL_LOGS = EnvVar(
    "AWS_ENDPOINT_URL_LOGS", "", "Override of the CloudWatch Logs endpoint (tests and emulators only)."
)

ROLLBAR_ENABLED = EnvVar("TELEMETRY_ROLLBAR_ENABLED", "false", "Report unhandled exceptions to Rollbar.")
ROLLBAR_ACCESS_TOKEN = EnvVar(
    SECRET_ROLLBAR_ACCESS_TOKEN,
    None,
    "Rollbar post_server_item token (required when Rollbar is on); injected from SSM.",
    secret=True,
)
ROLLBAR_ENDPOINT = EnvVar(
    "ROLLBAR_ENDPOINT", "https://api.rollbar.com/api/1/", "Rollbar API base URL (tests point it at loopback)."
)

# -- the frontend (CORS of /v1/traces) -------------------------------------------
FRONTEND_URL = EnvVar(
    "FRONTEND_URL",
    "",
    "Origins of the frontend allowed by CORS, comma-separated (http://localhost:3000); none when empty.",
)

# -- the frontend's spans (flask_aws_telemetry.browser_traces) ------------------
# The path the frontend's OTLP/HTTP exporter posts to, on the backend's own origin (and the collector's).
BROWSER_TRACES_PATH = "/v1/traces"
BROWSER_TRACES_ENABLED = EnvVar(
    "BROWSER_TRACES_ENABLED",
    "false",
    "Accept the frontend's spans (OTLP/HTTP, JSON or protobuf) on POST /v1/traces from the FRONTEND_URL origins "
    "and forward them to the collector (OTEL_EXPORTER_OTLP_ENDPOINT); needs TELEMETRY_OTEL_ENABLED.",
)
BROWSER_TRACES_MAX_BODY_BYTES = EnvVar(
    "BROWSER_TRACES_MAX_BODY_BYTES", "65536", "Largest span batch accepted, in bytes; larger ones get 413."
)
BROWSER_TRACES_TASK_LIMIT_PER_SECOND = EnvVar(
    "BROWSER_TRACES_TASK_LIMIT_PER_SECOND",
    "20",
    "Span batches the task accepts per second (each of the WEB_CONCURRENCY workers takes an equal share); more get "
    "429.",
)
BROWSER_TRACES_SOURCE_LIMIT_PER_MINUTE = EnvVar(
    "BROWSER_TRACES_SOURCE_LIMIT_PER_MINUTE",
    "60",
    "Span batches the task accepts per minute from one source address (BROWSER_TRACES_SOURCE_HEADER); more get 429.",
)
# The header dev's HTTP API overwrites with the caller's address ($context.identity.sourceIp): it may not set
# X-Forwarded-For, and a header it overwrites cannot be forged by the caller.
HTTP_API_SOURCE_IP_HEADER = "X-Source-Ip"
# The load balancer appends the caller's address to X-Forwarded-For: its last entry.
LOAD_BALANCER_SOURCE_IP_HEADER = "X-Forwarded-For"
BROWSER_TRACES_SOURCE_HEADER = EnvVar(
    "BROWSER_TRACES_SOURCE_HEADER",
    LOAD_BALANCER_SOURCE_IP_HEADER,
    "The header the entry point writes the caller's address to: X-Forwarded-For (the load balancer appends it: "
    f"the last entry counts) or {HTTP_API_SOURCE_IP_HEADER} (the HTTP API overwrites it).",
)
BROWSER_TRACES_VARIABLES: tuple[EnvVar, ...] = (
    BROWSER_TRACES_ENABLED,
    BROWSER_TRACES_MAX_BODY_BYTES,
    BROWSER_TRACES_TASK_LIMIT_PER_SECOND,
    BROWSER_TRACES_SOURCE_LIMIT_PER_MINUTE,
    BROWSER_TRACES_SOURCE_HEADER,
)

# -- the app's process: gunicorn (flask_aws_telemetry.gunicorn_config) and the container's health check
# (python -m flask_aws_telemetry.healthcheck). PORT and WEB_CONCURRENCY are gunicorn's own variables.
PORT = EnvVar("PORT", "8000", "The port gunicorn binds on 0.0.0.0 and the container's health check calls.")
WEB_CONCURRENCY = EnvVar(
    "WEB_CONCURRENCY",
    "2",
    "gunicorn's worker processes; the per-task limits (anomaly capture, browser span batches) are shared by them.",
)
HEALTH_CHECK_PATH = EnvVar(
    "HEALTH_CHECK_PATH",
    "/health",
    "The app's health-check route: the container's health check calls it; its requests write no request line.",
)
APP_WRITABLE_PATH = EnvVar(
    "APP_WRITABLE_PATH",
    "/tmp",
    "The writable directory of the task's read-only root file system (gunicorn's worker heartbeat files).",
)
DEFAULT_LOGGER_PREFIX = "flask_aws_telemetry"
TELEMETRY_LOGGER_PREFIX = EnvVar(
    "TELEMETRY_LOGGER_PREFIX",
    DEFAULT_LOGGER_PREFIX,
    "Prefix of the logger names the dashboards count: <prefix>.anomalies (captured anomalies), <prefix>.request "
    "(request lines); a dotted logger name such as myapp.",
)
PROCESS_VARIABLES: tuple[EnvVar, ...] = (PORT, WEB_CONCURRENCY, HEALTH_CHECK_PATH, APP_WRITABLE_PATH)

# The container's health-check command (the task definition's and a Dockerfile's HEALTHCHECK) and gunicorn's
# --config argument for an app without a gunicorn.conf.py of its own.
HEALTH_CHECK_COMMAND: tuple[str, ...] = ("python", "-m", "flask_aws_telemetry.healthcheck")
GUNICORN_CONFIG = "python:flask_aws_telemetry.gunicorn_config"


def anomaly_logger(prefix: str) -> str:
    """The logger of the captured-anomaly lines an app's metric filter counts: ``<prefix>.anomalies``."""
    return f"{prefix}.anomalies"


def request_logger(prefix: str) -> str:
    """The logger of the request lines (one per request, health checks aside): ``<prefix>.request``."""
    return f"{prefix}.request"


# Set by the ECS agent itself, never by a task definition: the telemetry reads it to know it runs on ECS.
ECS_CONTAINER_METADATA_URI_V4 = EnvVar(
    "ECS_CONTAINER_METADATA_URI_V4",
    "",
    "Task metadata endpoint the ECS agent sets; when present, spans and segments carry the task's ECS attributes.",
)
# The variables the platform sets: a task definition must not set them, and no check expects it to.
PLATFORM_VARIABLES: tuple[EnvVar, ...] = (ECS_CONTAINER_METADATA_URI_V4,)

ALL: tuple[EnvVar, ...] = (
    SERVICE_NAME,
    DEPLOYMENT_ENVIRONMENT,
    SERVICE_VERSION,
    AWS_REGION,
    LOG_LEVEL,
    OTEL_ENABLED,
    OTEL_EXPORTER_OTLP_ENDPOINT,
    OTEL_SEMCONV_STABILITY_OPT_IN,
    OTEL_CONSOLE_EXPORT,
    XRAY_ENABLED,
    XRAY_DAEMON_ADDRESS,
    XRAY_SAMPLING_ENDPOINT,
    XRAY_SAMPLING_RULES,
    SLOW_REQUEST_SECONDS,
    ANOMALY_CAPTURE_PER_SECOND,
    WATCHTOWER_ENABLED,
    WATCHTOWER_LOG_GROUP,
    AWS_ENDPOINT_URL_LOGS,
    ROLLBAR_ENABLED,
    ROLLBAR_ACCESS_TOKEN,
    ROLLBAR_ENDPOINT,
    FRONTEND_URL,
    *BROWSER_TRACES_VARIABLES,
    *PROCESS_VARIABLES,
    TELEMETRY_LOGGER_PREFIX,
    *PLATFORM_VARIABLES,
)
NAMES: frozenset[str] = frozenset(var.name for var in ALL)
