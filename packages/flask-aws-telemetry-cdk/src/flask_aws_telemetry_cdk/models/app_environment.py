"""The telemetry's and the process's part of the app container's environment, set in one place.

The names come from ``flask_aws_telemetry.contract``, the module the library
parses them with (``flask_aws_telemetry.settings``, its gunicorn config and
health check); a test proves both sides agree
(``tests/contract/test_environment_contract.py``). The app's own variables
(its table's name, say) come from the environment's ``app`` and ``table`` sections instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_aws_telemetry import contract
from flask_aws_telemetry.settings import BrowserTraceLimits


def _flag(value: bool) -> str:
    return "true" if value else "false"


@dataclass(frozen=True)
class ProcessSettings:
    """The app process's settings from the app's config: gunicorn's PORT and WEB_CONCURRENCY, the health path, the
    writable directory.
    """

    port: int
    web_concurrency: int
    health_check_path: str
    writable_path: str

    def variables(self) -> dict[str, str]:
        """The process's variables, by the library's contract."""
        return {
            contract.PORT.name: str(self.port),
            contract.WEB_CONCURRENCY.name: str(self.web_concurrency),
            contract.HEALTH_CHECK_PATH.name: self.health_check_path,
            contract.APP_WRITABLE_PATH.name: self.writable_path,
        }


@dataclass(frozen=True)
class AppEnvironment:
    """What the app is told: who it is, which telemetry parts run, its sampling rules and allowed origins.

    ``sampling_rules_json`` is ``SamplingPolicy.fallback_rules_json()``: the
    rules that decide until the sampling proxy answers.
    ``slow_request_seconds`` (the X-Ray slow group's threshold) and
    ``anomaly_capture_per_second`` (per task) govern anomaly capture;
    ``browser_traces`` (default None: off) turns on ``POST /v1/traces`` with these limits.
    ``service_version`` (default None: not set) is the revision deployed, reported on spans and to Rollbar.
    ``process`` is what gunicorn and the health check read; ``logger_prefix``
    names the library's loggers (the dashboards count ``<prefix>.anomalies``).
    """

    service_name: str
    environment_name: str
    log_level: str
    opentelemetry: bool
    xray_sdk: bool
    watchtower: bool
    rollbar: bool
    sampling_rules_json: str
    slow_request_seconds: float
    anomaly_capture_per_second: float
    process: ProcessSettings
    logger_prefix: str
    frontend_origins: tuple[str, ...] = ()
    browser_traces: BrowserTraceLimits | None = None
    service_version: str | None = None

    def variables(self, *, region: str, watchtower_log_group_name: str | None) -> dict[str, str]:
        """The telemetry's variables, given what only the stack knows (region, watchtower's group)."""
        environment = {
            contract.SERVICE_NAME.name: self.service_name,
            contract.DEPLOYMENT_ENVIRONMENT.name: self.environment_name,
            contract.AWS_REGION.name: region,
            contract.LOG_LEVEL.name: self.log_level,
            contract.OTEL_ENABLED.name: _flag(self.opentelemetry),
            contract.XRAY_ENABLED.name: _flag(self.xray_sdk),
            contract.WATCHTOWER_ENABLED.name: _flag(self.watchtower),
            contract.ROLLBAR_ENABLED.name: _flag(self.rollbar),
        }
        if self.service_version:
            environment[contract.SERVICE_VERSION.name] = self.service_version
        if self.opentelemetry or self.xray_sdk:
            # The sampler asks the proxy (daemon or collector) for the account's rules; these decide until it answers.
            environment[contract.XRAY_SAMPLING_ENDPOINT.name] = contract.XRAY_SAMPLING_PROXY_URL
            environment[contract.XRAY_SAMPLING_RULES.name] = self.sampling_rules_json
        if self.opentelemetry:
            environment[contract.OTEL_EXPORTER_OTLP_ENDPOINT.name] = f"http://localhost:{contract.OTLP_HTTP_PORT}"
            semconv = contract.OTEL_SEMCONV_STABILITY_OPT_IN.default
            assert semconv is not None, "the contract gives OTEL_SEMCONV_STABILITY_OPT_IN a default"
            environment[contract.OTEL_SEMCONV_STABILITY_OPT_IN.name] = semconv
            environment[contract.SLOW_REQUEST_SECONDS.name] = f"{self.slow_request_seconds:g}"
            environment[contract.ANOMALY_CAPTURE_PER_SECOND.name] = f"{self.anomaly_capture_per_second:g}"
        if self.xray_sdk:
            environment[contract.XRAY_DAEMON_ADDRESS.name] = f"127.0.0.1:{contract.XRAY_DAEMON_PORT}"
        if self.watchtower and watchtower_log_group_name is not None:
            environment[contract.WATCHTOWER_LOG_GROUP.name] = watchtower_log_group_name
        if self.frontend_origins:
            environment[contract.FRONTEND_URL.name] = ",".join(self.frontend_origins)
        if self.browser_traces is not None:
            limits = self.browser_traces
            environment[contract.BROWSER_TRACES_ENABLED.name] = _flag(True)
            environment[contract.BROWSER_TRACES_MAX_BODY_BYTES.name] = str(limits.max_body_bytes)
            environment[contract.BROWSER_TRACES_TASK_LIMIT_PER_SECOND.name] = str(limits.task_per_second)
            environment[contract.BROWSER_TRACES_SOURCE_LIMIT_PER_MINUTE.name] = str(limits.source_per_minute)
            environment[contract.BROWSER_TRACES_SOURCE_HEADER.name] = limits.source_header
        environment.update(self.process.variables())
        environment[contract.TELEMETRY_LOGGER_PREFIX.name] = self.logger_prefix
        return environment
