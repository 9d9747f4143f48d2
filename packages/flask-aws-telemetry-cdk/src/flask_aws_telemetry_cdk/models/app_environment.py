"""The telemetry's part of the app container's environment: the service contract's variables, set in one place.

The names come from ``service/cruddur/contract.py``, the module the service
parses them with (``service/cruddur/settings.py``); a test proves both sides
agree (``tests/contract/test_environment_contract.py``). The app's own variables
(Cruddur's table name, say) come from the environment's ``app`` section instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from cruddur import contract
from cruddur.settings import BrowserTraceLimits


def _flag(value: bool) -> str:
    return "true" if value else "false"


@dataclass(frozen=True)
class AppEnvironment:
    """What the app is told: who it is, which telemetry parts run, its sampling rules and allowed origins.

    ``sampling_rules_json`` is ``SamplingPolicy.fallback_rules_json()``: the
    rules that decide until the sampling proxy answers.
    ``slow_request_seconds`` (the X-Ray slow group's threshold) and
    ``anomaly_capture_per_second`` (per task) govern anomaly capture;
    ``browser_traces`` (default None: off) turns on ``POST /v1/traces`` with these limits.
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
    frontend_origins: tuple[str, ...] = ()
    browser_traces: BrowserTraceLimits | None = None

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
        return environment
