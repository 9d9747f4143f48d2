"""Typed, frozen configuration of one deployment environment.

Each environment (``stacks/environments.py``) is one ``EnvironmentConfig``
value. Every field is checked when the object is built, so a bad value fails
``cdk synth`` before any construct exists, with one sentence that names the
environment, the field, the value and what is allowed.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from enum import Enum

# The retention periods CloudWatch Logs accepts (AWS::Logs::LogGroup RetentionInDays).
# "Never expire" is deliberately absent: every log group here has a retention.
CLOUDWATCH_RETENTION_DAYS: tuple[int, ...] = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip

# Fargate task sizes: CPU units -> the memory values (MiB) allowed with them.
FARGATE_CPU_MEMORY: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}

# What the sidecars reserve in every task, and what the app needs beside them:
# gunicorn with 2 workers and every telemetry part on measured 214 MiB RSS.
XRAY_DAEMON_CPU_UNITS = 32
XRAY_DAEMON_MEMORY_RESERVATION_MIB = 64
COLLECTOR_CPU_UNITS = 128
COLLECTOR_MEMORY_RESERVATION_MIB = 256
APP_MIN_MEMORY_MIB = 256
APP_MIN_CPU_UNITS = 64

# The ECS X-Ray plugin of the aws-xray-sdk reports this origin; a sampling
# rule with any other ServiceType can never match the service.
XRAY_SERVICE_TYPES_MATCHING_ECS = ("*", "AWS::ECS::Container")

_SERVICE_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
_ENV_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9]{0,9}$")
_SHORT_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,11}$")
_RULE_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ACCOUNT_PATTERN = re.compile(r"^\d{12}$")
_REGION_PATTERN = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
_VPC_ID_PATTERN = re.compile(r"^vpc-[0-9a-f]{8,17}$")
_CRON_PATTERN = re.compile(r"^cron\(\S+ \S+ \S+ \S+ \S+ \S+\)$")
_IMAGE_URI_PATTERN = re.compile(r"^[a-z0-9.-]+(:\d+)?/[a-z0-9._/-]+(:[\w.-]+|@sha256:[0-9a-f]{64}|:[\w.-]+@sha256:[0-9a-f]{64})$")
_TAG_AND_DIGEST_PATTERN = re.compile(r":[\w.-]+@sha256:[0-9a-f]{64}$")
_CERTIFICATE_ARN_PATTERN = re.compile(r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}$")
_DOMAIN_NAME_PATTERN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_HOSTED_ZONE_ID_PATTERN = re.compile(r"^Z[A-Z0-9]{1,31}$")
_ORIGIN_PATTERN = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?$")


class ConfigError(ValueError):
    """A configuration value is invalid; the message says which and how to fix it."""


def _fail(env: str, field_name: str, value: object, allowed: str) -> ConfigError:
    return ConfigError(f"environment '{env}': {field_name} = {value!r} is invalid; {allowed}.")


class EntryPoint(str, Enum):
    """How requests reach the tasks."""

    LOAD_BALANCER = "load_balancer"  # an Application Load Balancer (billed by the hour)
    HTTP_API = "http_api"  # an API Gateway HTTP API with a VPC link to Cloud Map (billed by the request)


class RemovalPolicyName(str, Enum):
    """What `cdk destroy` does with stateful resources (log groups)."""

    DESTROY = "destroy"
    RETAIN = "retain"


@dataclass(frozen=True)
class SamplingRuleConfig:
    """One X-Ray sampling rule; ``service_name`` None means the service's own name."""

    rule_name: str
    priority: int
    reservoir_size: int
    fixed_rate: float
    http_method: str = "*"
    url_path: str = "*"
    host: str = "*"
    service_type: str = "*"
    service_name: str | None = None


@dataclass(frozen=True)
class AlarmThresholds:
    """When each alarm fires; counts are per ``period_minutes`` window."""

    alb_5xx_count: int = 5
    target_5xx_count: int = 5
    p99_latency_seconds: float = 2.0
    unhealthy_hosts: int = 1
    cpu_percent: float = 85.0
    memory_percent: float = 85.0
    error_log_lines: int = 10
    period_minutes: int = 5
    evaluation_periods: int = 2


class XRayPath(str, Enum):
    """How traces reach X-Ray.

    ``XRAY_SDK_AND_DAEMON`` (the default): the aws-xray-sdk records a segment
    per sampled request and sends it to the X-Ray daemon sidecar, which also
    proxies the sampling rules; the collector exports to Honeycomb only.
    ``OPENTELEMETRY_COLLECTOR``: no X-Ray SDK and no daemon; the ADOT
    collector exports the OpenTelemetry spans to X-Ray and proxies the
    sampling rules (``awsproxy``). AWS ends support for the X-Ray SDKs and
    daemon on 25 February 2027.
    """

    XRAY_SDK_AND_DAEMON = "xray-sdk-and-daemon"
    OPENTELEMETRY_COLLECTOR = "opentelemetry-collector"


@dataclass(frozen=True)
class TelemetryParts:
    """Which telemetry parts run, and the path traces take to X-Ray."""

    opentelemetry: bool = True
    xray_path: XRayPath = XRayPath.XRAY_SDK_AND_DAEMON
    # Off: stdout through the awslogs driver already carries every line once (README, "Where each log line lives").
    watchtower: bool = False
    rollbar: bool = True

    @property
    def xray_sdk(self) -> bool:
        """The app records X-Ray segments with the aws-xray-sdk."""
        return self.xray_path is XRayPath.XRAY_SDK_AND_DAEMON

    @property
    def collector_exports_to_xray(self) -> bool:
        """The collector sends the OpenTelemetry spans to X-Ray (and serves the sampling rules)."""
        return self.xray_path is XRayPath.OPENTELEMETRY_COLLECTOR

    @property
    def needs_collector(self) -> bool:
        """The ADOT collector sidecar runs when something sends it OTLP."""
        return self.opentelemetry

    @property
    def needs_xray_daemon(self) -> bool:
        """The X-Ray daemon sidecar runs only when the X-Ray SDK sends it segments."""
        return self.xray_sdk


@dataclass(frozen=True)
class ScaleToZeroSchedule:
    """Scale the service to zero tasks outside working hours (EventBridge cron, UTC)."""

    scale_down_cron: str = "cron(0 19 ? * MON-FRI *)"
    scale_up_cron: str = "cron(0 7 ? * MON-FRI *)"


@dataclass(frozen=True)
class EnvironmentConfig:
    """Everything that differs between dev, staging and prod."""

    name: str
    service_name: str = "cruddur-backend-flask"
    short_name: str = "cruddur"
    account: str | None = None
    region: str | None = None
    existing_vpc_id: str | None = None
    nat_gateways: int = 0
    max_azs: int = 2
    cpu: int = 512
    memory_mib: int = 1024
    desired_count: int = 1
    deploy_min_healthy_percent: int = 50
    min_capacity: int = 1
    max_capacity: int = 2
    cpu_target_percent: int = 60
    requests_per_target_per_minute: int = 1000
    sampling_rules: tuple[SamplingRuleConfig, ...] = ()
    log_retention_days: int = 7
    removal_policy: RemovalPolicyName = RemovalPolicyName.DESTROY
    alarm_thresholds: AlarmThresholds = field(default_factory=AlarmThresholds)
    alarm_email: str | None = None
    slow_request_threshold_seconds: float = 1.0
    xray_insights: bool = False
    telemetry: TelemetryParts = field(default_factory=TelemetryParts)
    image_uri: str | None = None
    image_directory: str = "service"
    scale_to_zero: ScaleToZeroSchedule | None = None
    # Pinned by tag and digest (the multi-architecture index of each release).
    xray_daemon_image: str = (
        "public.ecr.aws/xray/aws-xray-daemon:3.7.0@sha256:a2303d37f9dd7077c93e596689cb1de12f2ef8333c15b088ba223840164f6bc2"
    )
    collector_image: str = (
        "public.ecr.aws/aws-observability/aws-otel-collector:v0.48.0"
        "@sha256:9b28046359054b414f4ba76056ba4e8cffda2d53fbcee06171d7eeecd71326c3"
    )
    honeycomb_endpoint: str = "https://api.honeycomb.io"
    secrets_preflight: bool = True
    canary_rate_minutes: int | None = None
    canary_wait_seconds: int = 60
    canary_failed_periods: int = 3
    log_level: str = "INFO"
    # -- entry point, TLS, access logs, capacity -------------------------------
    entry_point: EntryPoint = EntryPoint.LOAD_BALANCER
    tls_certificate_arn: str | None = None
    domain_name: str | None = None
    hosted_zone_id: str | None = None
    hosted_zone_name: str | None = None
    warn_without_tls: bool = False
    access_logs: bool = False
    container_insights: bool = True
    fargate_spot: bool = False
    # -- the data and the frontend (DynamoDB, CORS) --
    table_point_in_time_recovery: bool = False
    frontend_origins: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        """Reject every invalid value with a sentence naming it."""
        for check in (
            self._check_identity,
            self._check_network,
            self._check_size,
            self._check_containers_fit,
            self._check_scaling,
            self._check_logs_and_alarms,
            self._check_sampling_rules,
            self._check_telemetry,
            self._check_images,
            self._check_canary,
            self._check_edge,
            self._check_frontend_origins,
        ):
            check()

    # -- derived values -------------------------------------------------
    @property
    def parameter_path(self) -> str:
        """SSM path under which this environment's parameters live."""
        return f"/{self.service_name}/{self.name}"

    def secret_parameter_name(self, secret: str) -> str:
        """Name of the SecureString parameter holding ``secret``."""
        return f"{self.parameter_path}/{secret}"

    @property
    def resource_prefix(self) -> str:
        """Prefix of every account-unique physical name (alarms, X-Ray groups, sampling rules)."""
        return f"{self.short_name}-{self.name}"

    @property
    def tls(self) -> bool:
        """The entry point serves HTTPS for ``domain_name``: a certificate is given, or issued in its zone."""
        return self.domain_name is not None

    # -- checks -----------------------------------------------------------
    def _check_identity(self) -> None:
        if not _ENV_NAME_PATTERN.match(self.name):
            raise _fail(self.name, "name", self.name, "use 1-10 lowercase letters or digits, starting with a letter")
        if not _SHORT_NAME_PATTERN.match(self.short_name):
            raise _fail(self.name, "short_name", self.short_name, "use 1-12 lowercase letters, digits or '-'")
        if not _SERVICE_NAME_PATTERN.match(self.service_name):
            raise _fail(self.name, "service_name", self.service_name, "use 1-63 letters, digits, '.', '_' or '-'")
        if self.account is not None and not _ACCOUNT_PATTERN.match(self.account):
            raise _fail(self.name, "account", self.account, "use a 12-digit AWS account id or None")
        if self.region is not None and not _REGION_PATTERN.match(self.region):
            raise _fail(self.name, "region", self.region, "use a region name such as 'us-east-1' or None")
        if self.log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise _fail(self.name, "log_level", self.log_level, "use DEBUG, INFO, WARNING or ERROR")

    def _check_network(self) -> None:
        if self.existing_vpc_id is not None and (self.account is None or self.region is None):
            raise _fail(
                self.name,
                "existing_vpc_id",
                self.existing_vpc_id,
                "looking up an existing VPC needs account and region set in the same environment",
            )
        if self.existing_vpc_id is not None and not _VPC_ID_PATTERN.match(self.existing_vpc_id):
            raise _fail(self.name, "existing_vpc_id", self.existing_vpc_id, "use a VPC id such as 'vpc-0abc1234'")
        if not 0 <= self.nat_gateways <= self.max_azs:
            raise _fail(self.name, "nat_gateways", self.nat_gateways, f"use 0 to max_azs ({self.max_azs})")
        if not 2 <= self.max_azs <= 3:
            raise _fail(self.name, "max_azs", self.max_azs, "use 2 or 3 (an ALB needs two AZs)")

    def _check_size(self) -> None:
        if self.cpu not in FARGATE_CPU_MEMORY:
            raise _fail(self.name, "cpu", self.cpu, f"Fargate allows {sorted(FARGATE_CPU_MEMORY)}")
        allowed = FARGATE_CPU_MEMORY[self.cpu]
        if self.memory_mib not in allowed:
            raise _fail(
                self.name,
                "memory_mib",
                self.memory_mib,
                f"with cpu {self.cpu} Fargate allows {allowed[0]} to {allowed[-1]} MiB in the steps {list(allowed)}",
            )

    def _check_containers_fit(self) -> None:
        parts = self.telemetry
        cpu = APP_MIN_CPU_UNITS + (XRAY_DAEMON_CPU_UNITS if parts.needs_xray_daemon else 0)
        cpu += COLLECTOR_CPU_UNITS if parts.needs_collector else 0
        memory = APP_MIN_MEMORY_MIB + (XRAY_DAEMON_MEMORY_RESERVATION_MIB if parts.needs_xray_daemon else 0)
        memory += COLLECTOR_MEMORY_RESERVATION_MIB if parts.needs_collector else 0
        if self.memory_mib < memory:
            raise _fail(
                self.name,
                "memory_mib",
                self.memory_mib,
                f"the app ({APP_MIN_MEMORY_MIB} MiB) and the sidecars' reservations need at least {memory} MiB",
            )
        if self.cpu < cpu:
            raise _fail(self.name, "cpu", self.cpu, f"the app and the sidecars' reservations need at least {cpu} CPU units")

    def _check_scaling(self) -> None:
        if self.min_capacity < 0:
            raise _fail(self.name, "min_capacity", self.min_capacity, "use 0 or more")
        if self.max_capacity < max(self.min_capacity, 1):
            raise _fail(
                self.name,
                "max_capacity",
                self.max_capacity,
                f"it must be at least 1 and at least min_capacity ({self.min_capacity})",
            )
        if not self.min_capacity <= self.desired_count <= self.max_capacity:
            raise _fail(
                self.name,
                "desired_count",
                self.desired_count,
                f"use a value from min_capacity ({self.min_capacity}) to max_capacity ({self.max_capacity})",
            )
        if self.deploy_min_healthy_percent not in (0, 50, 100):
            raise _fail(self.name, "deploy_min_healthy_percent", self.deploy_min_healthy_percent, "use 0, 50 or 100")
        if not 10 <= self.cpu_target_percent <= 90:
            raise _fail(self.name, "cpu_target_percent", self.cpu_target_percent, "use 10 to 90")
        if self.requests_per_target_per_minute < 1:
            raise _fail(
                self.name, "requests_per_target_per_minute", self.requests_per_target_per_minute, "use 1 or more"
            )
        if self.scale_to_zero is not None:
            for name in ("scale_down_cron", "scale_up_cron"):
                value = getattr(self.scale_to_zero, name)
                if not _CRON_PATTERN.match(value):
                    raise _fail(
                        self.name, f"scale_to_zero.{name}", value, "use an EventBridge cron such as 'cron(0 19 ? * MON-FRI *)'"
                    )

    def _check_logs_and_alarms(self) -> None:
        if self.log_retention_days not in CLOUDWATCH_RETENTION_DAYS:
            raise _fail(
                self.name,
                "log_retention_days",
                self.log_retention_days,
                f"CloudWatch Logs allows {', '.join(map(str, CLOUDWATCH_RETENTION_DAYS))}",
            )
        if not isinstance(self.removal_policy, RemovalPolicyName):
            raise _fail(self.name, "removal_policy", self.removal_policy, "use RemovalPolicyName.DESTROY or RETAIN")
        if self.alarm_email is not None and not _EMAIL_PATTERN.match(self.alarm_email):
            raise _fail(self.name, "alarm_email", self.alarm_email, "use an e-mail address or None")
        if self.slow_request_threshold_seconds <= 0:
            raise _fail(
                self.name, "slow_request_threshold_seconds", self.slow_request_threshold_seconds, "use a positive number"
            )
        thresholds = self.alarm_thresholds
        for name in ("cpu_percent", "memory_percent"):
            value = getattr(thresholds, name)
            if not 0 < value <= 100:
                raise _fail(self.name, f"alarm_thresholds.{name}", value, "use a percentage above 0 and at most 100")
        if thresholds.period_minutes not in (1, 5, 10, 15, 30, 60):
            raise _fail(
                self.name, "alarm_thresholds.period_minutes", thresholds.period_minutes, "use 1, 5, 10, 15, 30 or 60"
            )
        for name in ("alb_5xx_count", "target_5xx_count", "unhealthy_hosts", "error_log_lines", "evaluation_periods"):
            value = getattr(thresholds, name)
            if not isinstance(value, int) or value < 1:
                raise _fail(self.name, f"alarm_thresholds.{name}", value, "use a whole number of 1 or more")
        if thresholds.p99_latency_seconds <= 0:
            raise _fail(
                self.name, "alarm_thresholds.p99_latency_seconds", thresholds.p99_latency_seconds, "use a positive number"
            )

    def _check_sampling_rules(self) -> None:
        names = [rule.rule_name for rule in self.sampling_rules]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise _fail(self.name, "sampling_rules", duplicates, "give every rule a unique rule_name")
        for index, rule in enumerate(self.sampling_rules):
            where = f"sampling_rules[{index}]"
            if not _RULE_NAME_PATTERN.match(rule.rule_name):
                raise _fail(self.name, f"{where}.rule_name", rule.rule_name, "use 1-32 letters, digits, '_' or '-'")
            if not 1 <= rule.priority <= 9999:
                raise _fail(self.name, f"{where}.priority", rule.priority, "use 1 to 9999")
            if not 0.0 <= rule.fixed_rate <= 1.0:
                raise _fail(self.name, f"{where}.fixed_rate", rule.fixed_rate, "use a rate from 0.0 to 1.0")
            if not isinstance(rule.reservoir_size, int) or rule.reservoir_size < 0:
                raise _fail(self.name, f"{where}.reservoir_size", rule.reservoir_size, "use a whole number of 0 or more")
            if rule.service_name is not None and not fnmatch.fnmatchcase(self.service_name, rule.service_name):
                raise _fail(
                    self.name,
                    f"{where}.service_name",
                    rule.service_name,
                    f"the rule could never match: the service reports '{self.service_name}' "
                    "(leave service_name None to use it)",
                )
            if rule.service_type not in XRAY_SERVICE_TYPES_MATCHING_ECS:
                raise _fail(
                    self.name,
                    f"{where}.service_type",
                    rule.service_type,
                    f"the rule could never match: the service reports origin 'AWS::ECS::Container'; "
                    f"use one of {list(XRAY_SERVICE_TYPES_MATCHING_ECS)}",
                )
            if rule.url_path != "*" and not rule.url_path.startswith("/"):
                raise _fail(self.name, f"{where}.url_path", rule.url_path, "use '*' or a path starting with '/'")

    def _check_telemetry(self) -> None:
        parts = self.telemetry
        if not isinstance(parts.xray_path, XRayPath):
            raise _fail(
                self.name,
                "telemetry.xray_path",
                parts.xray_path,
                f"use one of {', '.join(f'XRayPath.{path.name}' for path in XRayPath)}",
            )
        if parts.collector_exports_to_xray and not parts.opentelemetry:
            raise _fail(
                self.name,
                "telemetry.xray_path",
                parts.xray_path.value,
                "the OpenTelemetry collector path needs telemetry.opentelemetry = True (it carries the spans to X-Ray)",
            )

    def _check_canary(self) -> None:
        if self.canary_rate_minutes is not None and not 1 <= self.canary_rate_minutes <= 1440:
            raise _fail(
                self.name, "canary_rate_minutes", self.canary_rate_minutes, "use 1 to 1440 minutes, or None to turn it off"
            )
        if not 10 <= self.canary_wait_seconds <= 600:
            raise _fail(self.name, "canary_wait_seconds", self.canary_wait_seconds, "use 10 to 600 seconds")
        if self.canary_failed_periods < 1:
            raise _fail(self.name, "canary_failed_periods", self.canary_failed_periods, "use 1 or more")

    def _check_images(self) -> None:
        if self.image_uri is not None and not _IMAGE_URI_PATTERN.match(self.image_uri):
            raise _fail(
                self.name,
                "image_uri",
                self.image_uri,
                "use a registry image with a tag or digest, such as '123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1.0'",
            )
        for name in ("xray_daemon_image", "collector_image"):
            value = getattr(self, name)
            if not _IMAGE_URI_PATTERN.match(value) or not _TAG_AND_DIGEST_PATTERN.search(value) or ":latest@" in value:
                raise _fail(
                    self.name, name, value, "pin the image by a tag other than 'latest' and its digest ('REPO:TAG@sha256:...')"
                )

    def _check_edge(self) -> None:
        if not isinstance(self.entry_point, EntryPoint):
            raise _fail(self.name, "entry_point", self.entry_point, "use EntryPoint.LOAD_BALANCER or EntryPoint.HTTP_API")
        if self.tls_certificate_arn is not None and not _CERTIFICATE_ARN_PATTERN.match(self.tls_certificate_arn):
            raise _fail(
                self.name,
                "tls_certificate_arn",
                self.tls_certificate_arn,
                "use an ACM certificate ARN such as 'arn:aws:acm:us-east-1:123456789012:certificate/<uuid>', or None",
            )
        if self.domain_name is not None and not _DOMAIN_NAME_PATTERN.match(self.domain_name):
            raise _fail(self.name, "domain_name", self.domain_name, "use a lowercase DNS name such as 'api.example.com', or None")
        if self.hosted_zone_id is not None and not _HOSTED_ZONE_ID_PATTERN.match(self.hosted_zone_id):
            raise _fail(self.name, "hosted_zone_id", self.hosted_zone_id, "use a Route 53 hosted zone id such as 'Z0123456789ABCDEFGHIJ'")
        zone_given = (self.hosted_zone_id is not None, self.hosted_zone_name is not None)
        if any(zone_given) and zone_given != (True, True):
            raise _fail(
                self.name, "hosted_zone_id", self.hosted_zone_id, "give hosted_zone_id and hosted_zone_name together, or neither"
            )
        if self.tls_certificate_arn is not None and self.domain_name is None:
            raise _fail(
                self.name,
                "tls_certificate_arn",
                self.tls_certificate_arn,
                "a certificate is served for a name: set domain_name too (the service's HTTPS address)",
            )
        if self.domain_name is not None and self.tls_certificate_arn is None and not all(zone_given):
            raise _fail(
                self.name,
                "domain_name",
                self.domain_name,
                "issuing its certificate needs the Route 53 zone that holds it (hosted_zone_id and hosted_zone_name), "
                "or give tls_certificate_arn",
            )
        if self.domain_name is None and any(zone_given):
            raise _fail(
                self.name, "hosted_zone_id", self.hosted_zone_id, "a hosted zone is used only with domain_name; set both or neither"
            )
        if all(zone_given) and not (
            self.domain_name == self.hosted_zone_name or str(self.domain_name).endswith(f".{self.hosted_zone_name}")
        ):
            raise _fail(
                self.name, "hosted_zone_name", self.hosted_zone_name, f"the zone must contain domain_name '{self.domain_name}'"
            )
        if self.entry_point is EntryPoint.HTTP_API:
            if self.access_logs:
                raise _fail(
                    self.name,
                    "access_logs",
                    self.access_logs,
                    "access logs are the load balancer's; the HTTP API logs every request to its access log group",
                )

    def _check_frontend_origins(self) -> None:
        for index, origin in enumerate(self.frontend_origins):
            if not isinstance(origin, str) or not _ORIGIN_PATTERN.match(origin):
                raise _fail(
                    self.name, f"frontend_origins[{index}]", origin, "use an origin such as 'https://cruddur.example.com', without a path"
                )
