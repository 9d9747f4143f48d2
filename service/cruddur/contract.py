"""The contract between the ECS task definition and the service.

Every environment variable the service reads, the container port and the
health-check path are defined here, once. The CDK construct that builds the
task definition imports these names to set them, and the service imports
them to parse them (``cruddur.settings``), so the two sides cannot drift
apart: ``tests/contract`` proves that every variable the task definition
sets is read here, and every variable read here without a default is set.

This module is imported by both the CDK app (as ``service.cruddur.contract``)
and the container (as ``cruddur.contract``), so it must import nothing but
the standard library.

Where a standard name exists (OpenTelemetry, X-Ray SDK, AWS SDK) it is used,
so the libraries' own documentation applies to the value.
"""

from __future__ import annotations

from dataclasses import dataclass

CONTAINER_PORT = 5000
HEALTH_CHECK_PATH = "/api/health-check"
APP_CONTAINER_NAME = "app"
XRAY_DAEMON_CONTAINER_NAME = "xray-daemon"
COLLECTOR_CONTAINER_NAME = "otel-collector"
XRAY_DAEMON_PORT = 2000
# The sampling proxy: the daemon's TCP port, or the collector's awsproxy extension on the same port.
XRAY_SAMPLING_PROXY_URL = f"http://127.0.0.1:{XRAY_DAEMON_PORT}"
OTLP_GRPC_PORT = 4317
OTLP_HTTP_PORT = 4318
GUNICORN_WORKERS = 2
# ECS sends SIGTERM, waits stopTimeout seconds, then SIGKILL; gunicorn's
# graceful timeout and the telemetry drain must both fit inside it.
STOP_TIMEOUT_SECONDS = 30
SHUTDOWN_DRAIN_SECONDS = 10

# The app container's command, user and health check; the Dockerfile uses the same.
APP_COMMAND = ("gunicorn", "--config", "gunicorn.conf.py", "cruddur.app:create_app()")
APP_HEALTHCHECK_COMMAND = ("python", "-m", "cruddur.healthcheck")
APP_USER = "10001"
# The only writable path of the app container (its root file system is read-only):
# gunicorn's worker heartbeat files and Python's tempfile.
APP_TEMP_DIR = "/tmp"

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
XRAY_DEFAULT_SAMPLING_RULE: dict[str, object] = {
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
    "by its gunicorn workers; 0 turns capture off.",
)

# Log lines the dashboard counts (metric filters on the app's log group, ``stacks/components/monitoring.py``):
# one per captured anomaly trace, from this logger; one per sampling boost, with this message prefix.
ANOMALY_LOGGER = "cruddur.anomalies"
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

# -- the data and the frontend (DynamoDB, CORS) ---------------------------------
DYNAMODB_TABLE_NAME = EnvVar("DYNAMODB_TABLE_NAME", None, "The DynamoDB table the stack created (cruddur.table's design).")
AWS_ENDPOINT_URL_DYNAMODB = EnvVar(
    "AWS_ENDPOINT_URL_DYNAMODB", "", "Override of the DynamoDB endpoint (make local, tests and emulators only)."
)
FRONTEND_URL = EnvVar(
    "FRONTEND_URL",
    "",
    "Origins of the frontend allowed by CORS, comma-separated (http://localhost:3000); none when empty.",
)
DEMO_USER_HANDLE = EnvVar(
    "DEMO_USER_HANDLE", "andrewbrown", "Handle requests act as until sign-in exists (the course's demo user)."
)
DATA_VARIABLES: tuple[EnvVar, ...] = (DYNAMODB_TABLE_NAME, AWS_ENDPOINT_URL_DYNAMODB, FRONTEND_URL, DEMO_USER_HANDLE)

# -- the frontend's spans (cruddur.telemetry.browser_traces) ---------------------
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
    "Span batches the task accepts per second (each gunicorn worker takes an equal share); more get 429.",
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

ALL: tuple[EnvVar, ...] = (
    SERVICE_NAME,
    DEPLOYMENT_ENVIRONMENT,
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
    *DATA_VARIABLES,
    *BROWSER_TRACES_VARIABLES,
)
NAMES: frozenset[str] = frozenset(var.name for var in ALL)
