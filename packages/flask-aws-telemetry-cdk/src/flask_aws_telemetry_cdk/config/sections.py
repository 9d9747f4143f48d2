"""The sections an environment's configuration is made of, each checking its own fields.

Every section is a small frozen dataclass with defaults that suit dev, and a
``check()`` that raises ``FieldError`` for the first bad field. The
environment (``config/environment.py``) runs every check and adds
its name and the section's to the message, and checks what involves two
sections. AWS's own limits come from ``models/aws_limits.py``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from flask_aws_telemetry import contract
from flask_aws_telemetry.settings import BrowserTraceLimits
from flask_aws_telemetry_cdk.models import aws_limits
from flask_aws_telemetry_cdk.models.alarm_thresholds import AlarmThresholds
from flask_aws_telemetry_cdk.models.app_container import AppContainer
from flask_aws_telemetry_cdk.models.collector_xray import CollectorXRay
from flask_aws_telemetry_cdk.models.fargate import EntryPoint, ScaleToZeroSchedule
from flask_aws_telemetry_cdk.models.sampling_policy import SamplingBoostConfig, SamplingRuleConfig
from flask_aws_telemetry_cdk.models.service_level_objectives import ObjectiveGoal
from flask_aws_telemetry_cdk.models.table_index import TableIndex

from .errors import FieldError

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_LOGGER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?$")
# An OpenTelemetry attribute name as the semantic conventions write them: dotted words of letters, digits and '_'.
_SPAN_ATTRIBUTE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$")


def _whole_number_at_least(name: str, value: object, minimum: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise FieldError(name, value, f"use a whole number of {minimum} or more")


def check_format(name: str, value: str | None, pattern: re.Pattern[str], allowed: str) -> None:
    """Raise FieldError unless ``value`` is None or matches ``pattern``."""
    if value is not None and not pattern.match(value):
        raise FieldError(name, value, allowed)


def _positive(name: str, value: float) -> None:
    if not value > 0:
        raise FieldError(name, value, "use a positive number")


@dataclass(frozen=True)
class NetworkConfig:
    """The VPC: a new one over ``max_azs`` zones with ``nat_gateways``, or an existing one by id."""

    existing_vpc_id: str | None = None
    nat_gateways: int = 0
    max_azs: int = 2
    # Gateway endpoints for DynamoDB and S3 on the private subnets' route tables (where there are NAT gateways):
    # free, and that traffic stops paying the NAT's per-GB charge. Off only where every request must leave
    # through the NAT: a bucket policy that admits the NAT's addresses (aws:SourceIp never matches through an
    # endpoint), or egress inspected on its way out. An existing VPC (existing_vpc_id) is never changed.
    gateway_endpoints: bool = True

    def check(self) -> None:
        """Raise FieldError for the first invalid field."""
        check_format("existing_vpc_id", self.existing_vpc_id, aws_limits.VPC_ID, "use a VPC id such as 'vpc-0abc1234'")
        if not 2 <= self.max_azs <= 3:
            raise FieldError("max_azs", self.max_azs, "use 2 or 3 (an ALB needs two AZs)")
        if not 0 <= self.nat_gateways <= self.max_azs:
            raise FieldError("nat_gateways", self.nat_gateways, f"use 0 to max_azs ({self.max_azs})")
        if not isinstance(self.gateway_endpoints, bool):
            raise FieldError("gateway_endpoints", self.gateway_endpoints, "use True or False")


@dataclass(frozen=True)
class TaskSizeConfig:
    """The Fargate task's size, and the cluster it runs in: Fargate Spot or not, Container Insights or not."""

    cpu: int = 512
    memory_mib: int = 1024
    # Spot: about 70 % cheaper; a reclaimed task is replaced. x86_64 only (Fargate Spot has no ARM64).
    fargate_spot: bool = False
    # The cluster's task-count metrics, which the TasksBelowDesired alarm and the dashboard's Tasks widget
    # read (billed per task).
    container_insights: bool = True

    def check(self) -> None:
        """Raise FieldError for the first invalid field."""
        if self.cpu not in aws_limits.FARGATE_CPU_MEMORY:
            raise FieldError("cpu", self.cpu, f"Fargate allows {sorted(aws_limits.FARGATE_CPU_MEMORY)}")
        allowed = aws_limits.FARGATE_CPU_MEMORY[self.cpu]
        if self.memory_mib not in allowed:
            raise FieldError(
                "memory_mib",
                self.memory_mib,
                f"with cpu {self.cpu} Fargate allows {allowed[0]} to {allowed[-1]} MiB in the steps {list(allowed)}",
            )


DEPLOY_MIN_HEALTHY_PERCENTS = (0, 50, 100)


@dataclass(frozen=True)
class ScalingConfig:
    """How many tasks run: the count, its bounds, what scales it, and rolling deploys."""

    desired_count: int = 1
    min_capacity: int = 1
    max_capacity: int = 2
    deploy_min_healthy_percent: int = 50
    cpu_target_percent: int = 60
    requests_per_target_per_minute: int = 1000
    scale_to_zero: ScaleToZeroSchedule | None = None

    def check(self) -> None:
        """Raise FieldError for the first invalid field."""
        if self.min_capacity < 0:
            raise FieldError("min_capacity", self.min_capacity, "use 0 or more")
        if self.max_capacity < max(self.min_capacity, 1):
            raise FieldError(
                "max_capacity",
                self.max_capacity,
                f"it must be at least 1 and at least min_capacity ({self.min_capacity})",
            )
        if not self.min_capacity <= self.desired_count <= self.max_capacity:
            raise FieldError(
                "desired_count",
                self.desired_count,
                f"use a value from min_capacity ({self.min_capacity}) to max_capacity ({self.max_capacity})",
            )
        if self.deploy_min_healthy_percent not in DEPLOY_MIN_HEALTHY_PERCENTS:
            raise FieldError("deploy_min_healthy_percent", self.deploy_min_healthy_percent, "use 0, 50 or 100")
        if not 10 <= self.cpu_target_percent <= 90:
            raise FieldError("cpu_target_percent", self.cpu_target_percent, "use 10 to 90")
        if self.requests_per_target_per_minute < 1:
            raise FieldError("requests_per_target_per_minute", self.requests_per_target_per_minute, "use 1 or more")
        if self.scale_to_zero is not None:
            for name in ("scale_down_cron", "scale_up_cron"):
                value = getattr(self.scale_to_zero, name)
                if not aws_limits.EVENTBRIDGE_CRON.match(value):
                    raise FieldError(
                        f"scale_to_zero.{name}", value, "use an EventBridge cron such as 'cron(0 19 ? * MON-FRI *)'"
                    )


@dataclass(frozen=True)
class LogsConfig:
    """How long every log group keeps its lines, and the app's log level."""

    retention_days: int = 7
    level: str = "INFO"

    def check(self) -> None:
        """Raise FieldError for the first invalid field."""
        if self.retention_days not in aws_limits.CLOUDWATCH_RETENTION_DAYS:
            raise FieldError(
                "retention_days",
                self.retention_days,
                f"CloudWatch Logs allows {', '.join(map(str, aws_limits.CLOUDWATCH_RETENTION_DAYS))}",
            )
        if self.level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise FieldError("level", self.level, "use DEBUG, INFO, WARNING or ERROR")


ALARM_PERIOD_MINUTES = (1, 5, 10, 15, 30, 60)


@dataclass(frozen=True)
class AlarmsConfig(AlarmThresholds):
    """When each alarm fires (``AlarmThresholds``: counts per ``period_minutes`` window) and whom it tells."""

    email: str | None = None

    @property
    def thresholds(self) -> AlarmThresholds:
        """The thresholds alone, the one value the monitoring constructs take."""
        return AlarmThresholds(**{name.name: getattr(self, name.name) for name in dataclasses.fields(AlarmThresholds)})

    def check(self) -> None:
        """Raise FieldError for the first invalid field."""
        check_format("email", self.email, _EMAIL, "use an e-mail address or None")
        for name in ("cpu_percent", "memory_percent"):
            value = getattr(self, name)
            if not 0 < value <= 100:
                raise FieldError(name, value, "use a percentage above 0 and at most 100")
        if self.period_minutes not in ALARM_PERIOD_MINUTES:
            raise FieldError("period_minutes", self.period_minutes, "use 1, 5, 10, 15, 30 or 60")
        for name in ("unhealthy_hosts", "error_log_lines", "evaluation_periods"):
            _whole_number_at_least(name, getattr(self, name), 1)


@dataclass(frozen=True)
class SlosConfig:
    """The service's objectives at its entry point (the load balancer or the HTTP API), each over rolling days.

    Availability: ``availability_goal_percent`` of requests answered without
    a 5xx (the entry point's own and the service's), over
    ``availability_window_days``. Latency: ``latency_goal_percent`` of
    requests answered within ``latency_threshold_seconds``, over
    ``latency_window_days``. Defaults suit dev: 99.0 % and 95.0 % under
    1.0 s, over 7 days. A window is whole days, 1 or more, as CloudWatch's
    SLO resource takes it (``RollingInterval``, unit ``DAY``), and at least
    a day so the slow-burn alert's six hours fit in it.
    """

    availability_goal_percent: float = 99.0
    availability_window_days: int = 7
    latency_goal_percent: float = 95.0
    latency_threshold_seconds: float = 1.0
    latency_window_days: int = 7

    @property
    def availability(self) -> ObjectiveGoal:
        """The availability objective's goal and window."""
        return ObjectiveGoal(self.availability_goal_percent, self.availability_window_days)

    @property
    def latency(self) -> ObjectiveGoal:
        """The latency objective's goal and window."""
        return ObjectiveGoal(self.latency_goal_percent, self.latency_window_days)

    def check(self) -> None:
        """Raise FieldError for the first invalid field."""
        for name in ("availability_goal_percent", "latency_goal_percent"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 100:
                raise FieldError(name, value, "use a percentage above 0 and below 100")
        for name in ("availability_window_days", "latency_window_days"):
            _whole_number_at_least(name, getattr(self, name), 1)
        if isinstance(self.latency_threshold_seconds, bool) or not isinstance(
            self.latency_threshold_seconds, int | float
        ):
            raise FieldError("latency_threshold_seconds", self.latency_threshold_seconds, "use a positive number")
        _positive("latency_threshold_seconds", self.latency_threshold_seconds)


@dataclass(frozen=True)
class CanaryConfig:
    """A scheduled request that proves a trace reaches X-Ray, every ``rate_minutes``."""

    rate_minutes: int
    wait_seconds: int = 60
    failed_periods: int = 3

    def check(self) -> None:
        """Raise FieldError for the first invalid field."""
        if not 1 <= self.rate_minutes <= 1440:
            raise FieldError(
                "rate_minutes", self.rate_minutes, "use 1 to 1440 minutes, or canary = None to turn it off"
            )
        if not 10 <= self.wait_seconds <= 600:
            raise FieldError("wait_seconds", self.wait_seconds, "use 10 to 600 seconds")
        if self.failed_periods < 1:
            raise FieldError("failed_periods", self.failed_periods, "use 1 or more")


# ECS documents two forms of a container image, 'repository:tag' and 'repository@digest'
# (not Docker's combined 'repository:tag@digest'): a sidecar is pinned by the second.
SIDECAR_IMAGE_FORM = "'REPOSITORY@sha256:<64 hex digits>', ECS's digest form; put the release in {release_field}"
APP_IMAGE_FORM = (
    "use ECS's 'REPOSITORY:TAG' or 'REPOSITORY@sha256:<64 hex digits>', "
    "such as '123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1.0'"
)


@dataclass(frozen=True)
class ImagesConfig:
    """The images the task runs: the app's (prebuilt by URI, or built from ``app_directory``) and the sidecars'.

    Each sidecar is pinned by the digest of its release's multi-architecture
    index, in the form ECS documents (``repository@sha256:...``), with the
    release beside it for people (``*_release``: the tag the digest was read
    from). The pull-request workflow resolves every pin against its registry
    (``python -m scripts.pinned_images``); the README's "Sidecar images" says
    where each digest was confirmed.
    """

    app_uri: str | None = None
    # Built from this directory (relative to the folder of cdk.json, or absolute) when app_uri is None, with the
    # Dockerfile in it or app_dockerfile (relative to app_directory).
    app_directory: str = "."
    app_dockerfile: str | None = None
    # ECR Public's own index of 3.7.0 (Docker Hub's amazon/aws-xray-daemon:3.7.0 is another index, a2303d37...).
    xray_daemon: str = (
        "public.ecr.aws/xray/aws-xray-daemon@sha256:b67576293f4d3a0a155f807244957ed0aa4bc945df1573d62d81380a1d548071"
    )
    xray_daemon_release: str = "3.7.0"
    # ADOT v0.50.0, built on opentelemetry-collector-contrib v0.158.0.
    collector: str = (
        "public.ecr.aws/aws-observability/aws-otel-collector"
        "@sha256:7968fb60db6a2390a47ba6a2df029745638486e285c9b2487da1b722d0855a3e"
    )
    collector_release: str = "v0.50.0"

    @property
    def dockerfile_path(self) -> Path:
        """The Dockerfile the app's image is built with: ``app_dockerfile`` (default ``Dockerfile``) in
        ``app_directory``.
        """
        return Path(self.app_directory) / (self.app_dockerfile or "Dockerfile")

    @property
    def pinned_sidecars(self) -> dict[str, tuple[str, str]]:
        """Each sidecar's field name -> (its image reference, its release)."""
        return {
            "xray_daemon": (self.xray_daemon, self.xray_daemon_release),
            "collector": (self.collector, self.collector_release),
        }

    def check(self) -> None:
        """Raise FieldError for the first invalid field."""
        check_format("app_uri", self.app_uri, aws_limits.IMAGE_URI, APP_IMAGE_FORM)
        directory = Path(self.app_directory)
        if self.app_uri is None and not directory.is_dir():
            raise FieldError(
                "app_directory",
                self.app_directory,
                "use a directory that holds the app, relative to where cdk runs (the folder of cdk.json)",
            )
        dockerfile = directory / (self.app_dockerfile or "Dockerfile")
        if self.app_uri is None and not dockerfile.is_file():
            raise FieldError(
                "app_dockerfile", self.app_dockerfile, f"use a Dockerfile inside app_directory ({self.app_directory})"
            )
        for name, (image, release) in self.pinned_sidecars.items():
            release_field = f"{name}_release"
            if not isinstance(image, str) or not aws_limits.IMAGE_BY_DIGEST.match(image):
                raise FieldError(name, image, "use " + SIDECAR_IMAGE_FORM.format(release_field=release_field))
            if not isinstance(release, str) or not aws_limits.IMAGE_TAG.match(release) or release == "latest":
                raise FieldError(
                    release_field,
                    release,
                    f"use the release tag {name}'s digest was read from, such as '3.7.0' (not 'latest')",
                )


def check_span_attribute_names(name: str, value: object) -> None:
    """Raise FieldError unless ``value`` is a tuple of distinct span attribute names."""
    if not isinstance(value, tuple) or not all(isinstance(item, str) and _SPAN_ATTRIBUTE.match(item) for item in value):
        raise FieldError(name, value, "use a tuple of span attribute names such as ('app.result_length',)")
    repeated = sorted({item for item in value if value.count(item) > 1})
    if repeated:
        raise FieldError(name, repeated[0], "name each attribute once")


def _library_default(variable: contract.EnvVar) -> str:
    """The default the library's contract gives ``variable`` (the task sets it; the library reads it)."""
    if variable.default is None:
        raise ValueError(f"the library's contract gives {variable.name} no default")
    return variable.default


# The library's own entry points: gunicorn with the telemetry's hooks and settings, and the container's health check
# (flask_aws_telemetry.gunicorn_config, flask_aws_telemetry.healthcheck).
LIBRARY_GUNICORN_CONFIG = "python:flask_aws_telemetry.gunicorn_config"
LIBRARY_HEALTHCHECK_COMMAND: tuple[str, ...] = ("python", "-m", "flask_aws_telemetry.healthcheck")

# The variables the task definition sets itself (models/app_environment.py): the telemetry's and the process's.
TELEMETRY_VARIABLE_NAMES: frozenset[str] = contract.NAMES | {
    variable.name for variable in (*contract.PROCESS_VARIABLES, contract.TELEMETRY_LOGGER_PREFIX)
}
_VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# ECS waits at most this long after SIGTERM on Fargate (ContainerDefinition.StopTimeout).
FARGATE_MAX_STOP_TIMEOUT_SECONDS = 120


def check_variable_name(name: str, value: object) -> None:
    """Raise FieldError unless ``value`` is a variable name the app may set (not one the task sets for it)."""
    if not isinstance(value, str) or not _VARIABLE_NAME.match(value):
        raise FieldError(name, value, "use a variable name of letters, digits and '_'")
    if value in TELEMETRY_VARIABLE_NAMES:
        raise FieldError(
            name, value, "the constructs set the telemetry's and the process's variables; use another name"
        )


@dataclass(frozen=True)
class AppConfig:
    """The app the task runs: what it serves, its port, user, health checks and own environment.

    The defaults are the library's: ``gunicorn --config
    python:flask_aws_telemetry.gunicorn_config <wsgi_app>`` on port 8000 with
    ``web_concurrency`` (2) workers, checked by the load balancer on
    ``health_check_path`` (/health) and by the container with ``python -m
    flask_aws_telemetry.healthcheck``, run as user 10001 with ``writable_path``
    (/tmp) the one writable directory. Give ``wsgi_app`` (such as
    ``"app:create_app()"``), or a ``command`` of the app's own instead. The task
    sets PORT, WEB_CONCURRENCY, HEALTH_CHECK_PATH and APP_WRITABLE_PATH from
    these fields, so gunicorn, the health check and the telemetry's per-worker
    limits read one value each. ``environment`` holds the app's own variables;
    ``span_attributes`` (default none) the names of the span attributes the
    app sets (``telemetry.operation(...).set``).
    """

    wsgi_app: str | None = None
    command: tuple[str, ...] | None = None
    port: int = int(_library_default(contract.PORT))
    health_check_path: str = _library_default(contract.HEALTH_CHECK_PATH)
    health_check_command: tuple[str, ...] = LIBRARY_HEALTHCHECK_COMMAND
    user: str = "10001"
    web_concurrency: int = int(_library_default(contract.WEB_CONCURRENCY))
    stop_timeout_seconds: int = contract.STOP_TIMEOUT_SECONDS
    writable_path: str = _library_default(contract.APP_WRITABLE_PATH)
    environment: dict[str, str] = field(default_factory=dict)
    # The span attributes the app sets itself (telemetry.operation(...).set(name, value)), as its contract
    # publishes them: what telemetry.xray_indexed_attributes may name beside the library's own.
    span_attributes: tuple[str, ...] = ()

    @property
    def process_command(self) -> tuple[str, ...]:
        """What the container runs: ``command``, or gunicorn with the library's config serving ``wsgi_app``."""
        if self.command is not None:
            return self.command
        return ("gunicorn", "--config", LIBRARY_GUNICORN_CONFIG, str(self.wsgi_app))

    def container(self, *, table_variables: Mapping[str, str] | None = None) -> AppContainer:
        """What the task definition runs, with the app's table name in its variable (``table_variables``)."""
        return AppContainer(
            command=self.process_command,
            health_check_command=self.health_check_command,
            health_check_path=self.health_check_path,
            port=self.port,
            user=self.user,
            stop_timeout_seconds=self.stop_timeout_seconds,
            writable_path=self.writable_path,
            environment={**self.environment, **(table_variables or {})},
        )

    def check(self) -> None:
        """Raise FieldError for the first invalid field."""
        self._check_what_runs()
        if isinstance(self.port, bool) or not isinstance(self.port, int) or not 1 <= self.port <= 65535:
            raise FieldError("port", self.port, "use a TCP port from 1 to 65535")
        if not isinstance(self.user, str) or not self.user or self.user in ("0", "root"):
            raise FieldError("user", self.user, "use a user other than root, such as '10001'")
        if not isinstance(self.health_check_path, str) or not self.health_check_path.startswith("/"):
            raise FieldError("health_check_path", self.health_check_path, "use a path starting with '/'")
        _whole_number_at_least("web_concurrency", self.web_concurrency, 1)
        timeout = self.stop_timeout_seconds
        if (
            isinstance(timeout, bool)
            or not isinstance(timeout, int)
            or not 2 <= timeout <= FARGATE_MAX_STOP_TIMEOUT_SECONDS
        ):
            raise FieldError(
                "stop_timeout_seconds",
                timeout,
                f"use 2 to {FARGATE_MAX_STOP_TIMEOUT_SECONDS} seconds (Fargate's maximum)",
            )
        if not isinstance(self.writable_path, str) or not self.writable_path.startswith("/"):
            raise FieldError("writable_path", self.writable_path, "use an absolute path such as '/tmp'")
        for name in self.environment:
            check_variable_name("environment", name)
        for name, value in self.environment.items():
            if not isinstance(value, str):
                raise FieldError(f"environment[{name!r}]", value, "use a string")
        check_span_attribute_names("span_attributes", self.span_attributes)

    def _check_what_runs(self) -> None:
        if self.wsgi_app is None and self.command is None:
            raise FieldError(
                "wsgi_app",
                None,
                "give the app's WSGI target, such as 'app:create_app()' (gunicorn serves it with the library's "
                "config), or a command of the app's own",
            )
        if self.wsgi_app is not None and self.command is not None:
            raise FieldError("command", self.command, "give wsgi_app or command, not both")
        if self.wsgi_app is not None and (not isinstance(self.wsgi_app, str) or not _WSGI_APP.match(self.wsgi_app)):
            raise FieldError(
                "wsgi_app", self.wsgi_app, "use 'module:variable' or 'module:factory()', such as 'app:app'"
            )
        for name in ("command", "health_check_command"):
            value = getattr(self, name)
            if value is None and name == "command":
                continue
            if not isinstance(value, tuple) or not value or not all(isinstance(part, str) and part for part in value):
                raise FieldError(
                    name, value, "use a tuple of one or more non-empty strings, such as ('gunicorn', 'app:app')"
                )


_WSGI_APP = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*(\(.*\))?$")
_INDEX_NAME = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
# What an app usually calls on its table: single items, batches and queries; no scan, no table administration.
DEFAULT_TABLE_ACTIONS: tuple[str, ...] = (
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:Query",
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
)


@dataclass(frozen=True)
class TableConfig:
    """The app's DynamoDB table: its string keys, its indexes, the variable its name is given in, what the task may do.

    On-demand billing. ``time_to_live_attribute`` (default None: no TTL)
    names the epoch-seconds attribute DynamoDB expires items by. The task is
    granted ``actions`` (default: single items, batches and queries, no scan)
    on the table and its indexes, and reads the table's name from
    ``name_variable`` (default ``TABLE_NAME``). Point-in-time recovery is on
    unless ``point_in_time_recovery=False`` with ``recovery_off_reason`` (why
    the data may be lost: the cdk-nag acknowledgement says it).
    """

    partition_key: str
    sort_key: str | None = None
    indexes: tuple[TableIndex, ...] = ()
    time_to_live_attribute: str | None = None
    name_variable: str = "TABLE_NAME"
    actions: tuple[str, ...] = DEFAULT_TABLE_ACTIONS
    point_in_time_recovery: bool = True
    recovery_off_reason: str | None = None

    def check(self) -> None:
        """Raise FieldError for the first invalid field."""
        for name in ("partition_key", "sort_key", "time_to_live_attribute"):
            value = getattr(self, name)
            if (value is not None or name == "partition_key") and not _attribute_name(value):
                raise FieldError(name, value, "use an attribute name of 1 to 255 characters")
        if not isinstance(self.indexes, tuple) or not all(isinstance(index, TableIndex) for index in self.indexes):
            raise FieldError("indexes", self.indexes, "use a tuple of TableIndex, such as (TableIndex('by_x', 'x'),)")
        names = [index.name for index in self.indexes]
        for position, index in enumerate(self.indexes):
            if not isinstance(index.name, str) or not _INDEX_NAME.match(index.name):
                raise FieldError(f"indexes[{position}].name", index.name, "use 3-255 letters, digits, '_', '-' or '.'")
            if names.count(index.name) > 1:
                raise FieldError(f"indexes[{position}].name", index.name, "give every index a unique name")
            for key in ("partition_key", "sort_key"):
                value = getattr(index, key)
                if (value is not None or key == "partition_key") and not _attribute_name(value):
                    raise FieldError(
                        f"indexes[{position}].{key}", value, "use an attribute name of 1 to 255 characters"
                    )
        check_variable_name("name_variable", self.name_variable)
        if not isinstance(self.actions, tuple) or not self.actions:
            raise FieldError("actions", self.actions, "use a tuple of one or more DynamoDB actions")
        for action in self.actions:
            if not isinstance(action, str) or not re.match(r"^dynamodb:[A-Za-z*]+$", action):
                raise FieldError("actions", action, "use DynamoDB actions such as 'dynamodb:GetItem'")
        if not isinstance(self.point_in_time_recovery, bool):
            raise FieldError("point_in_time_recovery", self.point_in_time_recovery, "use True or False")
        if not self.point_in_time_recovery and not self.recovery_off_reason:
            raise FieldError(
                "recovery_off_reason",
                self.recovery_off_reason,
                "with point_in_time_recovery = False say why the table's data may be lost (cdk-nag's DDB3 "
                "acknowledgement), such as 'demo data, seeded again'",
            )


def _attribute_name(value: object) -> bool:
    return isinstance(value, str) and 1 <= len(value) <= 255


class XRayPath(StrEnum):
    """How traces reach X-Ray.

    ``XRAY_SDK_AND_DAEMON`` (the default): the aws-xray-sdk records a segment
    per sampled request and sends it to the X-Ray daemon sidecar, which also
    proxies the sampling rules; the collector exports to Honeycomb only.
    ``XRAY_SDK_AND_COLLECTOR``: the aws-xray-sdk as above, but the collector
    takes the daemon's place (its ``awsxray`` receiver on UDP and TCP 2000,
    the ``awsxray`` exporter to ``PutTraceSegments``); no daemon container.
    ``OPENTELEMETRY_COLLECTOR``: no X-Ray SDK and no daemon; the ADOT
    collector exports the OpenTelemetry spans to X-Ray's OTLP endpoint (the
    account needs Transaction Search) and proxies the sampling rules
    (``awsproxy``).
    ``OPENTELEMETRY_PUT_TRACE_SEGMENTS``: as above, but the ``awsxray``
    exporter sends the spans as segments (``PutTraceSegments``; no
    Transaction Search needed).
    AWS ends support for the X-Ray SDKs and daemon on 25 February 2027.
    """

    XRAY_SDK_AND_DAEMON = "xray-sdk-and-daemon"
    XRAY_SDK_AND_COLLECTOR = "xray-sdk-and-collector"
    OPENTELEMETRY_COLLECTOR = "opentelemetry-collector"
    OPENTELEMETRY_PUT_TRACE_SEGMENTS = "opentelemetry-put-trace-segments"

    @property
    def collector_xray(self) -> CollectorXRay:
        """What the collector does for X-Ray on this path."""
        return _COLLECTOR_XRAY[self]


_COLLECTOR_XRAY = {
    XRayPath.XRAY_SDK_AND_DAEMON: CollectorXRay.NONE,
    XRayPath.XRAY_SDK_AND_COLLECTOR: CollectorXRay.SDK_SEGMENTS,
    XRayPath.OPENTELEMETRY_COLLECTOR: CollectorXRay.OTLP,
    XRayPath.OPENTELEMETRY_PUT_TRACE_SEGMENTS: CollectorXRay.OTEL_SEGMENTS,
}


@dataclass(frozen=True)
class TelemetryConfig:
    """Which telemetry parts run, the path traces take to X-Ray, and where the collector sends to Honeycomb.

    ``xray_indexed_attributes`` (only on
    ``XRayPath.OPENTELEMETRY_PUT_TRACE_SEGMENTS``): the span attributes the
    collector's ``awsxray`` exporter turns into X-Ray annotations, so that
    filter expressions and groups find what the X-Ray SDK path annotates.
    None (the default) indexes every attribute the service sets: the
    library's (``flask_aws_telemetry.contract.SPAN_ATTRIBUTES``) and the app's
    (``app.span_attributes``), which are the SDK path's annotations.
    """

    opentelemetry: bool = True
    xray_path: XRayPath = XRayPath.XRAY_SDK_AND_DAEMON
    # Off: stdout through the awslogs driver already carries every line once (README, "Where each log line lives").
    watchtower: bool = False
    # Unhandled exceptions to Rollbar (its token a SecureString parameter, written by make secrets); off: none asked.
    rollbar: bool = False
    honeycomb_endpoint: str = "https://api.honeycomb.io"
    # Unsampled anomalies (5xx, unhandled exception, slower than xray_groups.slow_request_seconds)
    # exported anyway, at most this many a second per task; 0 turns capture off.
    anomaly_capture_per_second: float = 10.0
    # The library's loggers are named under it (TELEMETRY_LOGGER_PREFIX); the dashboard counts <prefix>.anomalies.
    logger_prefix: str = _library_default(contract.TELEMETRY_LOGGER_PREFIX)
    xray_indexed_attributes: tuple[str, ...] | None = None

    @property
    def anomaly_logger(self) -> str:
        """The logger whose lines are the captured anomaly traces (one each), which a metric filter counts."""
        return f"{self.logger_prefix}.anomalies"

    @property
    def collector_xray(self) -> CollectorXRay:
        """What the collector does for X-Ray on this environment's path."""
        return self.xray_path.collector_xray

    @property
    def xray_sdk(self) -> bool:
        """The app records X-Ray segments with the aws-xray-sdk (to the daemon, or to the collector in its place)."""
        return self.xray_path in (XRayPath.XRAY_SDK_AND_DAEMON, XRayPath.XRAY_SDK_AND_COLLECTOR)

    @property
    def collector_exports_to_xray(self) -> bool:
        """The collector sends traces to X-Ray (OTLP or PutTraceSegments) and serves the sampling rules."""
        return self.collector_xray is not CollectorXRay.NONE

    @property
    def needs_collector(self) -> bool:
        """The ADOT collector sidecar runs when something sends it OTLP, or when it takes the daemon's place."""
        return self.opentelemetry or self.collector_xray is CollectorXRay.SDK_SEGMENTS

    @property
    def needs_xray_daemon(self) -> bool:
        """The X-Ray daemon sidecar runs only on the path that names it."""
        return self.xray_path is XRayPath.XRAY_SDK_AND_DAEMON

    @property
    def indexes_attributes(self) -> bool:
        """The collector makes segments of OpenTelemetry spans, whose annotations are the attributes it indexes."""
        return self.collector_xray is CollectorXRay.OTEL_SEGMENTS

    def check(self) -> None:
        """Raise FieldError for the first invalid field."""
        if not isinstance(self.xray_path, XRayPath):
            raise FieldError(
                "xray_path", self.xray_path, f"use one of {', '.join(f'XRayPath.{path.name}' for path in XRayPath)}"
            )
        if self.collector_xray in (CollectorXRay.OTLP, CollectorXRay.OTEL_SEGMENTS) and not self.opentelemetry:
            raise FieldError(
                "xray_path",
                self.xray_path.value,
                f"XRayPath.{self.xray_path.name} carries OpenTelemetry's spans to X-Ray: set telemetry.opentelemetry "
                "= True, or use XRayPath.XRAY_SDK_AND_COLLECTOR (the X-Ray SDK alone, no daemon)",
            )
        if self.xray_indexed_attributes is not None:
            if not self.indexes_attributes:
                raise FieldError(
                    "xray_indexed_attributes",
                    self.xray_indexed_attributes,
                    "only the awsxray exporter of OpenTelemetry's spans indexes attributes: leave it None, or use "
                    "xray_path = XRayPath.OPENTELEMETRY_PUT_TRACE_SEGMENTS"
                    + (
                        " (on this path the X-Ray SDK's own annotations reach X-Ray unchanged)"
                        if self.xray_sdk
                        else " (on the OTLP path every attribute is searchable in Transaction Search)"
                        if self.collector_xray is CollectorXRay.OTLP
                        else ""
                    ),
                )
            check_span_attribute_names("xray_indexed_attributes", self.xray_indexed_attributes)
        if not isinstance(self.logger_prefix, str) or not _LOGGER_NAME.match(self.logger_prefix):
            raise FieldError(
                "logger_prefix", self.logger_prefix, "use a Python logger name such as 'orders' or 'acme.orders'"
            )
        rate = self.anomaly_capture_per_second
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < float("inf"):
            raise FieldError(
                "anomaly_capture_per_second", rate, "use a number of traces a second of 0 (capture off) or more"
            )


@dataclass(frozen=True)
class SamplingConfig:
    """The X-Ray sampling rules; ``models/sampling_policy.py`` turns them into every form they take."""

    rules: tuple[SamplingRuleConfig, ...] = ()

    def check(self) -> None:
        """Raise FieldError for the first invalid rule (whether it can match the service is checked across sections)."""
        names = [rule.rule_name for rule in self.rules]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise FieldError("rules", duplicates, "give every rule a unique rule_name")
        for index, rule in enumerate(self.rules):
            where = f"rules[{index}]"
            if not aws_limits.XRAY_RULE_NAME.match(rule.rule_name):
                raise FieldError(f"{where}.rule_name", rule.rule_name, "use 1-32 letters, digits, '_' or '-'")
            if rule.priority not in aws_limits.XRAY_RULE_PRIORITIES:
                raise FieldError(f"{where}.priority", rule.priority, "use 1 to 9999")
            if not 0.0 <= rule.fixed_rate <= 1.0:
                raise FieldError(f"{where}.fixed_rate", rule.fixed_rate, "use a rate from 0.0 to 1.0")
            _whole_number_at_least(f"{where}.reservoir_size", rule.reservoir_size, 0)
            if rule.service_type not in aws_limits.XRAY_SERVICE_TYPES_MATCHING_ECS:
                raise FieldError(
                    f"{where}.service_type",
                    rule.service_type,
                    "the rule could never match: the service reports origin 'AWS::ECS::Container'; "
                    f"use one of {list(aws_limits.XRAY_SERVICE_TYPES_MATCHING_ECS)}",
                )
            if rule.url_path != "*" and not rule.url_path.startswith("/"):
                raise FieldError(f"{where}.url_path", rule.url_path, "use '*' or a path starting with '/'")
            if rule.boost is not None:
                _check_boost(f"{where}.boost", rule.boost, rule.fixed_rate)


def _check_boost(where: str, boost: SamplingBoostConfig, fixed_rate: float) -> None:
    max_rate = boost.max_rate
    if isinstance(max_rate, bool) or not isinstance(max_rate, (int, float)) or not 0.0 <= max_rate <= 1.0:
        raise FieldError(f"{where}.max_rate", max_rate, "use a rate from 0.0 to 1.0")
    if max_rate <= fixed_rate:
        raise FieldError(
            f"{where}.max_rate",
            max_rate,
            f"a boost raises the rate: use more than the rule's fixed_rate ({fixed_rate})",
        )
    if (
        not isinstance(boost.cooldown_minutes, int)
        or isinstance(boost.cooldown_minutes, bool)
        or boost.cooldown_minutes < 1
    ):
        raise FieldError(
            f"{where}.cooldown_minutes",
            boost.cooldown_minutes,
            "use a whole number of 1 or more (CloudFormation's minimum)",
        )


@dataclass(frozen=True)
class XRayGroupsConfig:
    """The X-Ray groups of failing and slow requests, and whether X-Ray Insights watches them."""

    slow_request_seconds: float = 1.0
    insights: bool = False

    def check(self) -> None:
        """Raise FieldError for the first invalid field."""
        _positive("slow_request_seconds", self.slow_request_seconds)


@dataclass(frozen=True)
class EdgeConfig:
    """How requests reach the tasks: the entry point, its domain and certificate, access logs, allowed origins."""

    entry_point: EntryPoint = EntryPoint.LOAD_BALANCER
    domain_name: str | None = None
    tls_certificate_arn: str | None = None
    hosted_zone_id: str | None = None
    hosted_zone_name: str | None = None
    warn_without_tls: bool = False
    access_logs: bool = False
    # The course's frontend origins allowed by CORS (none: no browser origin may call the API).
    frontend_origins: tuple[str, ...] = ()

    @property
    def tls(self) -> bool:
        """The entry point serves HTTPS for ``domain_name``: a certificate is given, or issued in its zone."""
        return self.domain_name is not None

    def check(self) -> None:
        """Raise FieldError for the first invalid field or combination."""
        if not isinstance(self.entry_point, EntryPoint):
            raise FieldError("entry_point", self.entry_point, "use EntryPoint.LOAD_BALANCER or EntryPoint.HTTP_API")
        self._check_formats()
        self._check_domain_combination()
        if self.entry_point is EntryPoint.HTTP_API and self.access_logs:
            raise FieldError(
                "access_logs",
                self.access_logs,
                "access logs are the load balancer's; the HTTP API logs every request to its access log group",
            )
        for index, origin in enumerate(self.frontend_origins):
            if not isinstance(origin, str) or not _ORIGIN.match(origin):
                raise FieldError(
                    f"frontend_origins[{index}]",
                    origin,
                    "use an origin such as 'https://app.example.com', without a path",
                )

    def _check_formats(self) -> None:
        check_format(
            "tls_certificate_arn",
            self.tls_certificate_arn,
            aws_limits.ACM_CERTIFICATE_ARN,
            "use an ACM certificate ARN such as 'arn:aws:acm:us-east-1:123456789012:certificate/<uuid>', or None",
        )
        check_format(
            "domain_name",
            self.domain_name,
            aws_limits.DNS_NAME,
            "use a lowercase DNS name such as 'api.example.com', or None",
        )
        check_format(
            "hosted_zone_id",
            self.hosted_zone_id,
            aws_limits.ROUTE53_HOSTED_ZONE_ID,
            "use a Route 53 hosted zone id such as 'Z0123456789ABCDEFGHIJ'",
        )

    def _check_domain_combination(self) -> None:
        zone_given = (self.hosted_zone_id is not None, self.hosted_zone_name is not None)
        if any(zone_given) and zone_given != (True, True):
            raise FieldError(
                "hosted_zone_id", self.hosted_zone_id, "give hosted_zone_id and hosted_zone_name together, or neither"
            )
        if self.tls_certificate_arn is not None and self.domain_name is None:
            raise FieldError(
                "tls_certificate_arn",
                self.tls_certificate_arn,
                "a certificate is served for a name: set domain_name too (the service's HTTPS address)",
            )
        if self.domain_name is not None and self.tls_certificate_arn is None and not all(zone_given):
            raise FieldError(
                "domain_name",
                self.domain_name,
                "issuing its certificate needs the Route 53 zone that holds it (hosted_zone_id and hosted_zone_name), "
                "or give tls_certificate_arn",
            )
        if self.domain_name is None and any(zone_given):
            raise FieldError(
                "hosted_zone_id",
                self.hosted_zone_id,
                "a hosted zone is used only with domain_name; set both or neither",
            )
        if all(zone_given) and not (
            self.domain_name == self.hosted_zone_name or str(self.domain_name).endswith(f".{self.hosted_zone_name}")
        ):
            raise FieldError(
                "hosted_zone_name", self.hosted_zone_name, f"the zone must contain domain_name '{self.domain_name}'"
            )


@dataclass(frozen=True)
class BrowserTracesConfig:
    """The frontend's spans: ``POST /v1/traces`` through the app to the collector (Honeycomb; X-Ray on its path).

    Off by default; ``enabled=True`` turns it on for ``edge.frontend_origins``.
    ``max_body_bytes`` bounds one span batch; ``task_per_second`` (shared by the
    task's gunicorn workers) and ``source_per_minute`` (one caller's address)
    bound how many are accepted.
    """

    enabled: bool = False
    max_body_bytes: int = 65536
    task_per_second: int = 20
    source_per_minute: int = 60

    def limits(self, *, source_header: str) -> BrowserTraceLimits | None:
        """What the app is told (None when off); ``source_header``: where the entry point puts the caller's address."""
        if not self.enabled:
            return None
        return BrowserTraceLimits(
            max_body_bytes=self.max_body_bytes,
            task_per_second=self.task_per_second,
            source_per_minute=self.source_per_minute,
            source_header=source_header,
        )

    def check(self) -> None:
        """Raise FieldError for the first invalid field."""
        if not isinstance(self.enabled, bool):
            raise FieldError("enabled", self.enabled, "use True or False")
        _whole_number_at_least("max_body_bytes", self.max_body_bytes, 1024)
        if self.max_body_bytes > aws_limits.HTTP_API_MAX_PAYLOAD_BYTES:
            raise FieldError(
                "max_body_bytes",
                self.max_body_bytes,
                f"use at most {aws_limits.HTTP_API_MAX_PAYLOAD_BYTES} bytes (an HTTP API's largest request)",
            )
        # At least one per gunicorn worker (each takes an equal share): checked against app.web_concurrency.
        _whole_number_at_least("task_per_second", self.task_per_second, 1)
        _whole_number_at_least("source_per_minute", self.source_per_minute, 1)


class Section(Protocol):
    """What every section of an environment has: a check of its own fields."""

    def check(self) -> None:
        """Raise FieldError naming the first field that is out of range."""


# The sections of an environment, by the name of the field that holds each (the prefix of its errors).
SECTION_TYPES: dict[str, type[Section]] = {
    "network": NetworkConfig,
    "task": TaskSizeConfig,
    "scaling": ScalingConfig,
    "logs": LogsConfig,
    "alarms": AlarmsConfig,
    "slos": SlosConfig,
    "canary": CanaryConfig,
    "images": ImagesConfig,
    "app": AppConfig,
    "telemetry": TelemetryConfig,
    "sampling": SamplingConfig,
    "xray_groups": XRayGroupsConfig,
    "table": TableConfig,
    "edge": EdgeConfig,
    "browser_traces": BrowserTracesConfig,
}
