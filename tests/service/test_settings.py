"""Settings are parsed once from the contract's variables; a bad value names its variable."""

from __future__ import annotations

import pytest

from cruddur import contract
from cruddur.settings import Settings, SettingsError
from flask_aws_telemetry import ProcessSettings, TelemetrySettings
from flask_aws_telemetry import contract as telemetry_contract

BASE = {contract.SERVICE_NAME.name: "cruddur-backend-flask", contract.DYNAMODB_TABLE_NAME.name: "cruddur-local"}


def test_defaults_turn_every_telemetry_part_off():
    """Only the service name is required; every part defaults to off."""
    settings = Settings.from_environ(BASE).telemetry
    assert not (
        settings.otel_enabled or settings.xray_enabled or settings.watchtower_enabled or settings.rollbar_enabled
    )
    assert settings.otlp_traces_url == "http://localhost:4318/v1/traces"
    assert settings.xray_daemon_address == "127.0.0.1:2000"


def test_each_part_is_independent():
    """Turning one part on leaves the others off."""
    settings = Settings.from_environ({**BASE, contract.XRAY_ENABLED.name: "true"}).telemetry
    assert settings.xray_enabled and not settings.otel_enabled


def test_endpoint_is_a_base_url_the_sdk_appends_v1_traces_to():
    """OTEL_EXPORTER_OTLP_ENDPOINT is the base; a trailing slash is tolerated."""
    settings = Settings.from_environ(
        {**BASE, contract.OTEL_EXPORTER_OTLP_ENDPOINT.name: "http://collector:4318/"}
    ).telemetry
    assert settings.otlp_traces_url == "http://collector:4318/v1/traces"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        (contract.OTEL_ENABLED.name, "maybe", "use true or false"),
        (
            contract.XRAY_SAMPLING_RULES.name,
            '[{"RuleName": "a", "Priority": 1, "ReservoirSize": 0, "FixedRate": 1.5}]',
            "FixedRate must be a number from 0 to 1",
        ),
        (
            contract.XRAY_SAMPLING_RULES.name,
            '[{"RuleName": "a", "Priority": 1, "ReservoirSize": -1, "FixedRate": 0.1}]',
            "ReservoirSize must be a whole number of 0 or more",
        ),
        (
            contract.XRAY_SAMPLING_RULES.name,
            '[{"Priority": 1, "ReservoirSize": 1, "FixedRate": 0.1}]',
            "has no RuleName",
        ),
        (
            contract.XRAY_SAMPLING_RULES.name,
            '[{"RuleName": "a", "Priority": 1, "ReservoirSize": 1, "FixedRate": 0.1, "URLPath": ""}]',
            "must be non-empty strings",
        ),
        (
            contract.XRAY_SAMPLING_RULES.name,
            '[{"RuleName": "a", "Priority": 1, "ReservoirSize": 1, "FixedRate": 0.1, '
            '"SamplingRateBoost": {"MaxRate": 1.5, "CooldownWindowMinutes": 5}}]',
            "MaxRate, a number from 0 to 1",
        ),
        (
            contract.XRAY_SAMPLING_RULES.name,
            '[{"RuleName": "a", "Priority": 1, "ReservoirSize": 1, "FixedRate": 0.1, '
            '"SamplingRateBoost": {"MaxRate": 0.5, "CooldownWindowMinutes": 0}}]',
            "CooldownWindowMinutes, a whole number of 1 or more",
        ),
        (
            contract.XRAY_SAMPLING_RULES.name,
            '[{"RuleName": "a", "Priority": 1, "ReservoirSize": 1, "FixedRate": 0.1, "SamplingRateBoost": 0.5}]',
            "SamplingRateBoost must be an object",
        ),
        (contract.XRAY_SAMPLING_RULES.name, "ten percent", "a JSON list of X-Ray sampling rules"),
        (contract.XRAY_SAMPLING_RULES.name, "[]", "a JSON list of X-Ray sampling rules"),
        (contract.XRAY_SAMPLING_ENDPOINT.name, "127.0.0.1:2000", "http:// or https://"),
        (contract.OTEL_EXPORTER_OTLP_ENDPOINT.name, "localhost:4318", "http:// or https://"),
        (contract.XRAY_DAEMON_ADDRESS.name, "localhost", "host:port"),
        (contract.XRAY_DAEMON_ADDRESS.name, "127.0.0.1:70000", "host:port"),
        (contract.LOG_LEVEL.name, "LOUD", "DEBUG, INFO"),
        (contract.ROLLBAR_ENDPOINT.name, "ftp://rollbar", "http://"),
        (contract.DYNAMODB_TABLE_NAME.name, "a table", "DynamoDB table name"),
        (contract.AWS_ENDPOINT_URL_DYNAMODB.name, "localhost:8000", "http:// or https://"),
        (contract.FRONTEND_URL.name, "localhost:3000", "origins such as http://localhost:3000"),
        (contract.FRONTEND_URL.name, "http://localhost:3000/app", "without a path"),
        (contract.DEMO_USER_HANDLE.name, "Andrew Brown", "lowercase letters"),
        (contract.SLOW_REQUEST_SECONDS.name, "0", "a number above 0"),
        (contract.SLOW_REQUEST_SECONDS.name, "one", "a number above 0"),
        (contract.ANOMALY_CAPTURE_PER_SECOND.name, "-1", "a number of 0 or more"),
        (contract.ANOMALY_CAPTURE_PER_SECOND.name, "nan", "a number of 0 or more"),
        (telemetry_contract.PORT.name, "http", "a whole number from 1 to 65535"),
        (telemetry_contract.PORT.name, "0", "a whole number from 1 to 65535"),
        (telemetry_contract.PORT.name, "65536", "a whole number from 1 to 65535"),
        (telemetry_contract.WEB_CONCURRENCY.name, "0", "a whole number of 1 or more"),
        (telemetry_contract.WEB_CONCURRENCY.name, "two", "a whole number of 1 or more"),
        (telemetry_contract.WEB_CONCURRENCY.name, "²", "a whole number of 1 or more"),
        (telemetry_contract.HEALTH_CHECK_PATH.name, "health", "a URL path that starts with /"),
        (telemetry_contract.HEALTH_CHECK_PATH.name, "/health?full=1", "without a query"),
        (telemetry_contract.HEALTH_CHECK_PATH.name, "/health check", "a URL path that starts with /"),
        (telemetry_contract.APP_WRITABLE_PATH.name, "tmp", "an absolute directory path"),
        (telemetry_contract.TELEMETRY_LOGGER_PREFIX.name, "my-app", "a dotted logger name"),
        (telemetry_contract.TELEMETRY_LOGGER_PREFIX.name, "myapp.", "a dotted logger name"),
        (contract.BROWSER_TRACES_TASK_LIMIT_PER_SECOND.name, "1", "of 2 or more (each of the WEB_CONCURRENCY=2"),
    ],
)
def test_a_bad_value_names_the_variable_value_and_what_is_allowed(name, value, expected):
    """One sentence: NAME='value' is invalid; allowed."""
    browser = {contract.BROWSER_TRACES_ENABLED.name: "true", contract.OTEL_ENABLED.name: "true"}
    with pytest.raises(SettingsError) as error:
        Settings.from_environ({**BASE, **(browser if name.startswith("BROWSER_") else {}), name: value})
    message = str(error.value)
    assert message.startswith(f"{name}=")
    assert repr(value.strip().upper() if name == contract.LOG_LEVEL.name else value.strip()) in message
    assert expected in message


def test_the_data_and_frontend_variables():
    """The table is required; FRONTEND_URL takes comma-separated origins and defaults to none; the demo user to
    andrewbrown.
    """
    with pytest.raises(SettingsError, match="DYNAMODB_TABLE_NAME is not set"):
        Settings.from_environ({contract.SERVICE_NAME.name: "cruddur-backend-flask"})
    defaults = Settings.from_environ(BASE)
    assert (defaults.telemetry.frontend_origins, defaults.demo_user_handle, defaults.dynamodb_endpoint_url) == (
        (),
        "andrewbrown",
        None,
    )
    settings = Settings.from_environ(
        {**BASE, contract.FRONTEND_URL.name: "http://localhost:3000, https://cruddur.example.com/"}
    )
    assert settings.telemetry.frontend_origins == ("http://localhost:3000", "https://cruddur.example.com")


def test_missing_service_name_is_named():
    """OTEL_SERVICE_NAME is required: the sampling rules and groups match on it."""
    with pytest.raises(SettingsError, match="OTEL_SERVICE_NAME is not set"):
        Settings.from_environ({})


def test_watchtower_needs_its_log_group():
    """Watchtower on without a log group is refused with both names."""
    with pytest.raises(SettingsError, match="WATCHTOWER_LOG_GROUP is not set but TELEMETRY_WATCHTOWER_ENABLED"):
        Settings.from_environ({**BASE, contract.WATCHTOWER_ENABLED.name: "true"})


def test_rollbar_needs_its_token_and_says_where_it_comes_from():
    """Rollbar on without a token names the variable and where a token comes from, not a command of this
    repository.
    """
    with pytest.raises(SettingsError) as error:
        Settings.from_environ({**BASE, contract.ROLLBAR_ENABLED.name: "true"})
    message = str(error.value)
    assert message.startswith("ROLLBAR_ACCESS_TOKEN is not set but TELEMETRY_ROLLBAR_ENABLED is true; ")
    assert "post_server_item access token of the Rollbar project" in message and "turn Rollbar off" in message
    assert "make" not in message


def test_rollbar_off_needs_no_token():
    """Without TELEMETRY_ROLLBAR_ENABLED no token is asked for, whatever else is on."""
    settings = Settings.from_environ({**BASE, contract.OTEL_ENABLED.name: "true"}).telemetry
    assert settings.rollbar_enabled is False and settings.rollbar_access_token is None


def test_the_process_variables_default_to_the_contract_s_and_parse_once():
    """PORT, WEB_CONCURRENCY, HEALTH_CHECK_PATH and APP_WRITABLE_PATH: the contract's defaults, or the task's values,
    in the telemetry's settings and alone (gunicorn's config and the health check parse no more).
    """
    defaults = TelemetrySettings.from_environ(BASE).process
    assert defaults == ProcessSettings() == ProcessSettings.from_environ({})
    assert (defaults.port, defaults.web_concurrency, defaults.health_check_path, defaults.app_writable_path) == (
        8000,
        2,
        "/health",
        "/tmp",
    )
    cruddur = TelemetrySettings.from_environ({**BASE, **contract.PROCESS_ENVIRONMENT}).process
    assert cruddur == ProcessSettings(port=5000, web_concurrency=2, health_check_path="/api/health-check")
    assert cruddur.health_check_url == "http://127.0.0.1:5000/api/health-check"
    assert ProcessSettings.from_environ({telemetry_contract.WEB_CONCURRENCY.name: "5"}).web_concurrency == 5


def test_the_counted_loggers_are_named_by_the_prefix():
    """<TELEMETRY_LOGGER_PREFIX>.anomalies and .request: the library's own name by default, Cruddur's with its task's
    prefix.
    """
    library = TelemetrySettings.from_environ(BASE)
    assert (library.anomaly_logger, library.request_logger) == (
        "flask_aws_telemetry.anomalies",
        "flask_aws_telemetry.request",
    )
    cruddur = TelemetrySettings.from_environ({**BASE, **contract.PROCESS_ENVIRONMENT})
    assert (cruddur.anomaly_logger, cruddur.request_logger) == ("cruddur.anomalies", "cruddur.request")
    assert cruddur.anomaly_logger == contract.ANOMALY_LOGGER


def test_the_browser_trace_limits_are_at_least_one_a_worker():
    """A task limit below WEB_CONCURRENCY would leave a worker a share of nothing: refused, naming both."""
    environ = {**BASE, contract.OTEL_ENABLED.name: "true", contract.BROWSER_TRACES_ENABLED.name: "true"}
    with pytest.raises(SettingsError, match=r"BROWSER_TRACES_TASK_LIMIT_PER_SECOND='4' .* of 5 or more .*=5 workers"):
        Settings.from_environ(
            {**environ, "WEB_CONCURRENCY": "5", contract.BROWSER_TRACES_TASK_LIMIT_PER_SECOND.name: "4"}
        )
    limits = Settings.from_environ({**environ, "WEB_CONCURRENCY": "4"}).telemetry.browser_traces
    assert limits is not None and limits.task_per_second == 20


def test_sampling_rules_default_to_x_rays_wildcards_and_to_sampling_everything():
    """XRAY_SAMPLING_RULES is X-Ray's SamplingRule shape with '*' matchers by default; unset, every request is
    sampled.
    """
    rules = Settings.from_environ(
        {
            **BASE,
            contract.XRAY_SAMPLING_RULES.name: (
                '[{"RuleName": "a", "Priority": 5, "ReservoirSize": 2, "FixedRate": 0.25}]'
            ),
        }
    ).telemetry.sampling_rules
    assert rules == (
        {
            "RuleName": "a", "Priority": 5, "ReservoirSize": 2, "FixedRate": 0.25, "ServiceName": "*",
            "ServiceType": "*", "Host": "*", "HTTPMethod": "*", "URLPath": "*", "ResourceARN": "*",
            "Version": 1, "Attributes": {},
        },
    )  # fmt: skip
    (everything,) = Settings.from_environ(BASE).telemetry.sampling_rules
    assert everything["FixedRate"] == 1.0
    assert Settings.from_environ(BASE).telemetry.sampling_endpoint is None
