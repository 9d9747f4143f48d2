"""Telemetry never takes the service down: backends unreachable, slow or failing change nothing a client sees.

How a test tells "a request waited on a backend" from "the test machine is
loaded": every backend client here waits a long, known time before it gives
up, so a request that waited on one would take at least
``WAITED_AT_LEAST_SECONDS`` (10 s), and a busy machine (two cores shared by
several test runs) slows a request by one or two seconds (1.46 s was seen).
Each request must take under half of that, ``NO_WAIT_BOUND_SECONDS`` (5 s):
a loaded machine passes, a real wait fails. The 10 s is the shortest wait of
any backend in these tests:

* the span exporter and Rollbar are given ``BACKEND_TIMEOUT_SECONDS`` (20 s)
  here instead of their 3 s; a backend that never answers holds each for
  that long, and the exporter's retries on a refused connection or a 503
  (backoffs of 1, 2, 4 and 8 s, each within 20 %) take over 12 s;
* the CloudWatch Logs client tries twice with a 5 s read timeout: 10 s;
* a slow backend answers after ``BACKEND_DELAY_SECONDS`` (10 s).

A refused connection or a 500 costs Rollbar's and the logs client's sending
nothing to wait for; the test of a backend that never answers covers them.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import rollbar

from flask_aws_telemetry import provider
from flask_aws_telemetry.ratelimit import RateLimitFilter
from testsupport.waiting import closed_port, silent_port

REQUESTS = 40
BACKEND_TIMEOUT_SECONDS = 20.0  # the span exporter's and Rollbar's, in these tests
BACKEND_DELAY_SECONDS = 10.0  # how late a slow backend answers
WAITED_AT_LEAST_SECONDS = 10.0  # the shortest a request that waited on any backend here would take
NO_WAIT_BOUND_SECONDS = WAITED_AT_LEAST_SECONDS / 2


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


@pytest.fixture
def long_backend_timeouts(monkeypatch):
    """The span exporter's timeout (read when the app is built) at ``BACKEND_TIMEOUT_SECONDS``; call the result
    with the built app to set Rollbar's too.
    """
    monkeypatch.setattr(provider, "EXPORT_TIMEOUT_SECONDS", BACKEND_TIMEOUT_SECONDS)

    def after_the_app_is_built(app):
        monkeypatch.setitem(rollbar.SETTINGS, "timeout", BACKEND_TIMEOUT_SECONDS)  # rollbar.init set it to 3
        return app

    return after_the_app_is_built


def _assert_no_request_waited_on_a_backend(latencies: list[float]) -> None:
    slowest = max(latencies)
    assert slowest < NO_WAIT_BOUND_SECONDS, (
        f"a request took {slowest:.2f} s: over half of the {WAITED_AT_LEAST_SECONDS:.0f} s a request that waited on "
        f"a backend takes here, more than a loaded test machine explains"
    )


@contextmanager
def _unreachable(kind: str) -> Iterator[int]:
    """A loopback port where no backend can be reached: ``refused`` (nothing listens) or ``silent`` (never answers)."""
    if kind == "refused":
        yield closed_port()
    else:
        with silent_port() as port:
            yield port


def _with_bug_route(app):
    @app.get("/_bug")
    def bug():
        raise RuntimeError("a real bug")

    return app


@pytest.mark.parametrize("kind", ["refused", "silent"])
def test_every_backend_unreachable(kind, fake_aws_credentials, long_backend_timeouts, make_app, capsys):
    """Collector, daemon, CloudWatch Logs and Rollbar all refuse connections, or accept them and never answer:
    requests are unaffected.
    """
    with _unreachable(kind) as port:
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
        long_backend_timeouts(app)
        latencies = _exercise(app)
        _assert_no_request_waited_on_a_backend(latencies)
        time.sleep(2.5)  # let the exporters fail a few times in the background
    # A backend that never answers has failed no call yet: only refused connections have been reported by now.
    reported = ("opentelemetry", "rollbar") if kind == "refused" else ()
    _assert_bounded_telemetry_logging(capsys.readouterr().out, reported=reported)


def test_every_backend_slow(
    fake_aws_credentials, long_backend_timeouts, otlp_receiver, rollbar_api, xray_daemon, make_app, capsys
):
    """Collector and Rollbar answer after 10 s: requests are unaffected."""
    otlp_receiver.delay_seconds = BACKEND_DELAY_SECONDS
    rollbar_api.delay_seconds = BACKEND_DELAY_SECONDS
    app = _with_bug_route(
        make_app(
            _environ(otlp_receiver.url, xray_daemon.address, f"http://127.0.0.1:{closed_port()}", rollbar_api.endpoint)
        )
    )
    long_backend_timeouts(app)
    _assert_no_request_waited_on_a_backend(_exercise(app))
    _assert_bounded_telemetry_logging(capsys.readouterr().out)


def test_every_backend_failing(
    fake_aws_credentials, long_backend_timeouts, otlp_receiver, rollbar_api, xray_daemon, make_app, capsys
):
    """Collector and Rollbar answer 500/503: requests are unaffected."""
    otlp_receiver.status = 503
    rollbar_api.status = 500
    app = _with_bug_route(
        make_app(
            _environ(otlp_receiver.url, xray_daemon.address, f"http://127.0.0.1:{closed_port()}", rollbar_api.endpoint)
        )
    )
    long_backend_timeouts(app)
    _assert_no_request_waited_on_a_backend(_exercise(app))
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
