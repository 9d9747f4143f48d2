"""The telemetry's typed settings, parsed once from the environment variables of its contract.

    settings = TelemetrySettings.from_environ(os.environ)

Every name comes from ``flask_aws_telemetry.contract``. A bad value raises
``SettingsError`` with a sentence naming the variable, the value and what is
allowed, so a misconfigured task fails at start-up instead of at the first
request.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from . import contract

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off", ""}
_HOST_PORT = re.compile(r"^(?P<host>[A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):(?P<port>\d{1,5})$")
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_SEMCONV_OPT_INS = ("http", "http/dup")
# Without rules in the environment every request is sampled, as OpenTelemetry's default sampler does.
SAMPLE_EVERYTHING_RULES = '[{"RuleName": "SampleEverything", "Priority": 1, "ReservoirSize": 0, "FixedRate": 1.0}]'
# A sampling rule's matchers, defaulting to "*" as in X-Ray's API.
_RULE_MATCHERS = ("ServiceName", "ServiceType", "Host", "HTTPMethod", "URLPath", "ResourceARN")
_HEADER_NAME = re.compile(r"^[A-Za-z0-9-]{1,64}$")
# A path as a URL carries it: a leading slash, then RFC 3986's path characters (no query, no fragment, no space).
_URL_PATH = re.compile(r"^/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$")
# A dotted Python logger name, such as myapp or myapp.telemetry.
_LOGGER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def _default(var: contract.EnvVar) -> str:
    """The contract's default of ``var``, which has one."""
    assert var.default is not None, var.name
    return var.default


class SettingsError(ValueError):
    """An environment variable has a value the service cannot use."""


@dataclass(frozen=True)
class BrowserTraceLimits:
    """What the frontend's span batches on /v1/traces may be: their size and how many, per task and per source."""

    max_body_bytes: int
    task_per_second: int
    source_per_minute: int
    source_header: str = contract.LOAD_BALANCER_SOURCE_IP_HEADER


@dataclass(frozen=True)
class ProcessSettings:
    """The app's process (``contract.PROCESS_VARIABLES``): what gunicorn and the container's health check read."""

    port: int = int(_default(contract.PORT))
    web_concurrency: int = int(_default(contract.WEB_CONCURRENCY))
    health_check_path: str = _default(contract.HEALTH_CHECK_PATH)
    app_writable_path: str = _default(contract.APP_WRITABLE_PATH)

    @property
    def health_check_url(self) -> str:
        """The URL the container's health check asks: the app's health path on loopback."""
        return f"http://127.0.0.1:{self.port}{self.health_check_path}"

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> ProcessSettings:
        """Parse the process variables of ``environ`` alone (gunicorn's config and the health check need no more)."""
        return EnvironReader(environ).process()


@dataclass(frozen=True)
class TelemetrySettings:
    """Everything the telemetry reads from its environment."""

    service_name: str
    environment: str
    aws_region: str
    log_level: str
    otel_enabled: bool
    otlp_endpoint: str
    semconv_opt_in: str
    console_export: bool
    xray_enabled: bool
    xray_daemon_address: str
    sampling_endpoint: str | None
    sampling_rules: tuple[Mapping[str, Any], ...]
    watchtower_enabled: bool
    watchtower_log_group: str | None
    logs_endpoint_url: str | None
    rollbar_enabled: bool
    rollbar_access_token: str | None
    rollbar_endpoint: str
    # -- anomaly capture (``telemetry.capture``)
    slow_request_seconds: float = 1.0
    anomaly_capture_per_second: float = 10.0
    # -- the frontend and its spans
    frontend_origins: tuple[str, ...] = ()
    browser_traces: BrowserTraceLimits | None = None
    # -- the platform: set by the ECS agent when the process runs in an ECS task
    ecs_metadata_uri: str | None = None
    # -- the app's process (gunicorn, the health check) and the names of the loggers its dashboards count
    process: ProcessSettings = ProcessSettings()
    logger_prefix: str = _default(contract.TELEMETRY_LOGGER_PREFIX)
    # -- the code revision deployed (None: not reported)
    service_version: str | None = None

    @property
    def on_ecs(self) -> bool:
        """True inside an ECS task: the resource and the X-Ray segments then carry the task's attributes."""
        return self.ecs_metadata_uri is not None

    @property
    def anomaly_logger(self) -> str:
        """The logger of the captured-anomaly lines (``<TELEMETRY_LOGGER_PREFIX>.anomalies``)."""
        return contract.anomaly_logger(self.logger_prefix)

    @property
    def request_logger(self) -> str:
        """The logger of the request lines (``<TELEMETRY_LOGGER_PREFIX>.request``)."""
        return contract.request_logger(self.logger_prefix)

    @property
    def otlp_traces_url(self) -> str:
        """The OTLP/HTTP traces URL: the base endpoint with /v1/traces, as the SDK derives it."""
        return self.otlp_endpoint.rstrip("/") + "/v1/traces"

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> TelemetrySettings:
        """Parse ``environ``; raises SettingsError naming the first bad variable."""
        reader = EnvironReader(environ)
        process = reader.process()
        settings = cls(
            service_name=reader.required(contract.SERVICE_NAME),
            environment=reader.text(contract.DEPLOYMENT_ENVIRONMENT),
            aws_region=reader.text(contract.AWS_REGION),
            log_level=reader.choice(contract.LOG_LEVEL, _LOG_LEVELS),
            otel_enabled=reader.flag(contract.OTEL_ENABLED),
            otlp_endpoint=reader.url(contract.OTEL_EXPORTER_OTLP_ENDPOINT),
            semconv_opt_in=reader.choice(contract.OTEL_SEMCONV_STABILITY_OPT_IN, _SEMCONV_OPT_INS, upper=False),
            console_export=reader.flag(contract.OTEL_CONSOLE_EXPORT),
            xray_enabled=reader.flag(contract.XRAY_ENABLED),
            xray_daemon_address=reader.host_port(contract.XRAY_DAEMON_ADDRESS),
            sampling_endpoint=reader.optional_url(contract.XRAY_SAMPLING_ENDPOINT),
            sampling_rules=reader.sampling_rules(contract.XRAY_SAMPLING_RULES),
            watchtower_enabled=reader.flag(contract.WATCHTOWER_ENABLED),
            watchtower_log_group=reader.optional(contract.WATCHTOWER_LOG_GROUP),
            logs_endpoint_url=reader.optional(contract.AWS_ENDPOINT_URL_LOGS),
            rollbar_enabled=reader.flag(contract.ROLLBAR_ENABLED),
            rollbar_access_token=reader.optional(contract.ROLLBAR_ACCESS_TOKEN),
            rollbar_endpoint=reader.url(contract.ROLLBAR_ENDPOINT),
            slow_request_seconds=reader.number(contract.SLOW_REQUEST_SECONDS, minimum=0.0, inclusive=False),
            anomaly_capture_per_second=reader.number(contract.ANOMALY_CAPTURE_PER_SECOND, minimum=0.0),
            frontend_origins=reader.origins(contract.FRONTEND_URL),
            browser_traces=reader.browser_traces(workers=process.web_concurrency),
            ecs_metadata_uri=reader.optional(contract.ECS_CONTAINER_METADATA_URI_V4),
            process=process,
            logger_prefix=reader.logger_name(contract.TELEMETRY_LOGGER_PREFIX),
            service_version=reader.optional(contract.SERVICE_VERSION),
        )
        if settings.browser_traces is not None and not settings.otel_enabled:
            raise SettingsError(
                f"{contract.BROWSER_TRACES_ENABLED.name} is true but {contract.OTEL_ENABLED.name} is false; "
                "the frontend's spans go to the collector, which runs only with OpenTelemetry on: "
                "turn both on, or neither"
            )
        if settings.watchtower_enabled and not settings.watchtower_log_group:
            raise SettingsError(
                f"{contract.WATCHTOWER_LOG_GROUP.name} is not set but {contract.WATCHTOWER_ENABLED.name} is true; "
                "set it to the log group the stack created, or turn watchtower off"
            )
        if settings.rollbar_enabled and not settings.rollbar_access_token:
            raise SettingsError(
                f"{contract.ROLLBAR_ACCESS_TOKEN.name} is not set but {contract.ROLLBAR_ENABLED.name} is true; "
                "set it to a post_server_item access token of the Rollbar project (Project settings, Access Tokens; "
                "on ECS the task definition passes it from a secret), or turn Rollbar off"
            )
        return settings


class EnvironReader:
    """Reads contract variables with their defaults and reports bad values by name (an app's settings reuse it)."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def _raw(self, var: contract.EnvVar) -> str:
        value = self._environ.get(var.name)
        if value is None:
            return var.default or ""
        return value.strip()

    def fail(self, var: contract.EnvVar, value: str, allowed: str) -> SettingsError:
        """The error for ``var`` holding ``value``: what is allowed, the value redacted when it is a secret."""
        shown = "<redacted>" if var.secret else repr(value)
        return SettingsError(f"{var.name}={shown} is invalid; {allowed}")

    def required(self, var: contract.EnvVar) -> str:
        value = self._raw(var)
        if not value:
            raise SettingsError(f"{var.name} is not set; {var.description}")
        return value

    def text(self, var: contract.EnvVar) -> str:
        return self._raw(var)

    def optional(self, var: contract.EnvVar) -> str | None:
        return self._raw(var) or None

    def flag(self, var: contract.EnvVar) -> bool:
        value = self._raw(var).lower()
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        raise self.fail(var, value, "use true or false")

    def choice(self, var: contract.EnvVar, allowed: tuple[str, ...], *, upper: bool = True) -> str:
        value = self._raw(var).upper() if upper else self._raw(var)
        if value not in allowed:
            raise self.fail(var, value, f"use one of {', '.join(allowed)}")
        return value

    def sampling_rules(self, var: contract.EnvVar) -> tuple[Mapping[str, Any], ...]:
        """A JSON list of X-Ray SamplingRule objects; matchers default to '*', Version to 1."""
        value = self._raw(var) or SAMPLE_EVERYTHING_RULES
        shape = (
            'use a JSON list of X-Ray sampling rules such as [{"RuleName": "default", "Priority": 9000, '
            '"ReservoirSize": 5, "FixedRate": 0.1}]'
        )
        try:
            rules = json.loads(value)
        except ValueError:
            raise self.fail(var, value, shape) from None
        if not isinstance(rules, list) or not rules or not all(isinstance(rule, dict) for rule in rules):
            raise self.fail(var, value, shape)
        parsed = []
        for index, rule in enumerate(rules):
            name = rule.get("RuleName")
            where = f"rule {index} ({name!r})"
            if not isinstance(name, str) or not name:
                raise self.fail(var, value, f"{where} has no RuleName; {shape}")
            rate, reservoir, priority = rule.get("FixedRate"), rule.get("ReservoirSize"), rule.get("Priority")
            if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0.0 <= rate <= 1.0:
                raise self.fail(var, value, f"{where}: FixedRate must be a number from 0 to 1")
            if isinstance(reservoir, bool) or not isinstance(reservoir, int) or reservoir < 0:
                raise self.fail(var, value, f"{where}: ReservoirSize must be a whole number of 0 or more")
            if isinstance(priority, bool) or not isinstance(priority, int) or not 1 <= priority <= 10000:
                raise self.fail(var, value, f"{where}: Priority must be a whole number from 1 to 10000")
            boost = rule.get("SamplingRateBoost")
            if boost is not None:
                boost_shape = (
                    f"{where}: SamplingRateBoost must be an object with MaxRate, a number from 0 to 1, "
                    "and CooldownWindowMinutes, a whole number of 1 or more"
                )
                if not isinstance(boost, dict):
                    raise self.fail(var, value, boost_shape)
                max_rate, cooldown = boost.get("MaxRate"), boost.get("CooldownWindowMinutes")
                if isinstance(max_rate, bool) or not isinstance(max_rate, (int, float)) or not 0.0 <= max_rate <= 1.0:
                    raise self.fail(var, value, boost_shape)
                if isinstance(cooldown, bool) or not isinstance(cooldown, int) or cooldown < 1:
                    raise self.fail(var, value, boost_shape)
            matchers = {key: rule.get(key, "*") for key in _RULE_MATCHERS}
            if not all(isinstance(matcher, str) and matcher for matcher in matchers.values()):
                raise self.fail(var, value, f"{where}: {', '.join(_RULE_MATCHERS)} must be non-empty strings")
            parsed.append(
                {**rule, **matchers, "Version": rule.get("Version", 1), "Attributes": rule.get("Attributes") or {}}
            )
        return tuple(parsed)

    def number(self, var: contract.EnvVar, *, minimum: float, inclusive: bool = True) -> float:
        value = self._raw(var)
        allowed = f"use a number {'of' if inclusive else 'above'} {minimum:g}{' or more' if inclusive else ''}"
        try:
            number = float(value)
        except ValueError:
            raise self.fail(var, value, allowed) from None
        if (
            number != number
            or number in (float("inf"), float("-inf"))
            or number < minimum
            or (not inclusive and number == minimum)
        ):
            raise self.fail(var, value, allowed)
        return number

    def url(self, var: contract.EnvVar) -> str:
        value = self._raw(var)
        parsed = urlparse(value)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise self.fail(var, value, "use an http:// or https:// URL")
        return value

    def optional_url(self, var: contract.EnvVar) -> str | None:
        return self.url(var) if self._raw(var) else None

    def host_port(self, var: contract.EnvVar) -> str:
        value = self._raw(var)
        match = _HOST_PORT.match(value)
        if match is None or not 0 < int(match["port"]) < 65536:
            raise self.fail(var, value, "use host:port, such as 127.0.0.1:2000")
        return value

    def origins(self, var: contract.EnvVar) -> tuple[str, ...]:
        origins = []
        for origin in filter(None, (part.strip() for part in self._raw(var).split(","))):
            parsed = urlparse(origin)
            if parsed.scheme not in ("http", "https") or not parsed.netloc or parsed.path not in ("", "/"):
                raise self.fail(
                    var, origin, "use origins such as http://localhost:3000, comma-separated, without a path"
                )
            origins.append(origin.rstrip("/"))
        return tuple(origins)

    def whole_number(self, var: contract.EnvVar, minimum: int, *, maximum: int | None = None, why: str = "") -> int:
        value = self._raw(var)
        number = int(value) if value.isascii() and value.isdigit() else None
        if number is None or number < minimum or (maximum is not None and number > maximum):
            allowed = f"from {minimum} to {maximum}" if maximum is not None else f"of {minimum} or more"
            raise self.fail(var, value, f"use a whole number {allowed}{why}")
        return number

    def url_path(self, var: contract.EnvVar) -> str:
        value = self._raw(var)
        if not _URL_PATH.match(value):
            raise self.fail(var, value, "use a URL path that starts with /, such as /health, without a query")
        return value

    def absolute_path(self, var: contract.EnvVar) -> str:
        value = self._raw(var)
        if not value.startswith("/") or "\0" in value:
            raise self.fail(var, value, "use an absolute directory path, such as /tmp")
        return value

    def logger_name(self, var: contract.EnvVar) -> str:
        value = self._raw(var)
        if not _LOGGER_NAME.match(value):
            raise self.fail(var, value, "use a dotted logger name of letters, digits and '_', such as myapp")
        return value

    def process(self) -> ProcessSettings:
        """The process variables: the port, the workers, the health path and the writable directory."""
        return ProcessSettings(
            port=self.whole_number(contract.PORT, 1, maximum=65535),
            web_concurrency=self.whole_number(contract.WEB_CONCURRENCY, 1),
            health_check_path=self.url_path(contract.HEALTH_CHECK_PATH),
            app_writable_path=self.absolute_path(contract.APP_WRITABLE_PATH),
        )

    def browser_traces(self, *, workers: int) -> BrowserTraceLimits | None:
        """The limits of the frontend's span batches, or None when /v1/traces is off.

        Each of the ``workers`` gunicorn workers takes an equal share of a
        task's limit, so a limit is at least one a worker.
        """
        if not self.flag(contract.BROWSER_TRACES_ENABLED):
            return None
        share = f" (each of the {contract.WEB_CONCURRENCY.name}={workers} workers takes an equal share)"
        return BrowserTraceLimits(
            max_body_bytes=self.whole_number(contract.BROWSER_TRACES_MAX_BODY_BYTES, 1024),
            task_per_second=self.whole_number(contract.BROWSER_TRACES_TASK_LIMIT_PER_SECOND, workers, why=share),
            source_per_minute=self.whole_number(contract.BROWSER_TRACES_SOURCE_LIMIT_PER_MINUTE, workers, why=share),
            source_header=self.header_name(contract.BROWSER_TRACES_SOURCE_HEADER),
        )

    def header_name(self, var: contract.EnvVar) -> str:
        value = self._raw(var)
        if not _HEADER_NAME.match(value):
            raise self.fail(var, value, "use an HTTP header name such as X-Forwarded-For")
        return value
