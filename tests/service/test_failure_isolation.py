"""Telemetry never takes the service down: backends unreachable, slow or failing change nothing a client sees."""

from __future__ import annotations

import json
import logging
import time

from flask_aws_telemetry.ratelimit import RateLimitFilter
from testsupport.waiting import closed_port

REQUESTS = 40
BACKEND_DELAY_SECONDS = 5.0


def _environ(otlp_url: str, daemon_address: str, logs_url: str, rollbar_endpoint: str) -> dict[str, str]:
    return {
        "OTEL_SERVICE_NAME": "cruddur-backend-flask",
        "DEPLOYMENT_ENVIRONMENT": "test",
        "TELEMETRY_OTEL_ENABLED": "true",
        "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_url,
        "TELEMETRY_XRAY_ENABLED": "true",
        "AWS_XRAY_DAEMON_ADDRESS": daemon_address,
        "TELEMETRY_WATCHTOWER_ENABLED": "true",
        "WATCHTOWER_LOG_GROUP": "/test/cruddur/watchtower",
        "AWS_ENDPOINT_URL_LOGS": logs_url,
        "AWS_REGION": "us-east-1",
        "TELEMETRY_ROLLBAR_ENABLED": "true",
        "ROLLBAR_ACCESS_TOKEN": "rollbar-test-token",
        "ROLLBAR_ENDPOINT": rollbar_endpoint,
    }


def _exercise(app) -> list[float]:
    """Every kind of request, timed; asserts each gets its normal status."""
    client = app.test_client()
    latencies = []
    for index in range(REQUESTS):
        started = time.monotonic()
        if index % 4 == 0:
            response = client.post("/api/activities", json={"handle": "worf", "message": f"message {index}"})
            assert response.status_code == 200
        elif index % 4 == 1:
            assert client.get("/api/activities/@nobody").status_code == 404
        elif index % 4 == 2:
            assert client.get("/_bug").status_code == 500
        else:
            assert client.get("/api/activities/home").status_code == 200
        latencies.append(time.monotonic() - started)
    return latencies


def _with_bug_route(app):
    @app.get("/_bug")
    def bug():
        raise RuntimeError("a real bug")

    return app


def test_every_backend_unreachable(fake_aws_credentials, make_app, capsys):
    """Collector, daemon, CloudWatch Logs and Rollbar all refuse connections: requests are unaffected."""
    port = closed_port()
    app = _with_bug_route(
        make_app(
            _environ(
                f"http://127.0.0.1:{port}",
                f"127.0.0.1:{port}",
                f"http://127.0.0.1:{port}",
                f"http://127.0.0.1:{port}/api/1/",
            )
        )
    )
    latencies = _exercise(app)
    # No request waits on a backend's timeouts (the exporter's is 3 s, the logs client's 2 s).
    assert max(latencies) < 1.0
    time.sleep(2.5)  # let the exporters fail a few times in the background
    _assert_bounded_telemetry_logging(capsys.readouterr().out, reported=("opentelemetry", "rollbar"))


def test_every_backend_slow(fake_aws_credentials, otlp_receiver, rollbar_api, xray_daemon, make_app, capsys):
    """Collector and Rollbar answer after 5 s: requests are unaffected."""
    otlp_receiver.delay_seconds = BACKEND_DELAY_SECONDS
    rollbar_api.delay_seconds = BACKEND_DELAY_SECONDS
    app = _with_bug_route(
        make_app(
            _environ(otlp_receiver.url, xray_daemon.address, f"http://127.0.0.1:{closed_port()}", rollbar_api.endpoint)
        )
    )
    latencies = _exercise(app)
    # Well under the backends' delay: no request waited for one (a loaded test machine can take a second).
    assert max(latencies) < BACKEND_DELAY_SECONDS / 2
    _assert_bounded_telemetry_logging(capsys.readouterr().out)


def test_every_backend_failing(fake_aws_credentials, otlp_receiver, rollbar_api, xray_daemon, make_app, capsys):
    """Collector and Rollbar answer 500/503: requests are unaffected."""
    otlp_receiver.status = 503
    rollbar_api.status = 500
    app = _with_bug_route(
        make_app(
            _environ(otlp_receiver.url, xray_daemon.address, f"http://127.0.0.1:{closed_port()}", rollbar_api.endpoint)
        )
    )
    latencies = _exercise(app)
    assert max(latencies) < 1.0
    time.sleep(2.0)
    _assert_bounded_telemetry_logging(capsys.readouterr().out, reported=("opentelemetry",))


def _assert_bounded_telemetry_logging(stdout: str, *, reported: tuple[str, ...] = ()) -> None:
    """Failures of the ``reported`` families are logged, and no family logs more than the burst."""
    counts: dict[str, int] = {}
    for line in stdout.splitlines():
        if not line.startswith("{"):
            continue
        record = json.loads(line)
        if record["level"] in ("WARNING", "ERROR"):
            family = record["logger"].split(".")[0]
            counts[family] = counts.get(family, 0) + 1
    for family in ("opentelemetry", "rollbar", "py", "aws_xray_sdk"):
        assert counts.get(family, 0) <= 5, counts
    for family in reported:
        assert counts.get(family, 0) >= 1, f"{family} failures were not reported: {counts}"


def test_rate_limit_filter_lets_a_burst_through_then_counts_what_it_dropped():
    """5 records per window pass; the first after the window reports how many were suppressed."""
    now = [0.0]
    limiter = RateLimitFilter(burst=5, period_seconds=60, clock=lambda: now[0])

    def record(name: str) -> logging.LogRecord:
        return logging.LogRecord(name, logging.ERROR, __file__, 1, "export failed", None, None)

    passed = [limiter.filter(record("opentelemetry.exporter")) for _ in range(20)]
    assert passed.count(True) == 5
    assert limiter.filter(record("cruddur.api"))  # not telemetry: never limited
    now[0] = 61.0
    after = record("opentelemetry.exporter")
    assert limiter.filter(after)
    assert "15 similar telemetry messages suppressed" in after.msg
