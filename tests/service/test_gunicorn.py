"""gunicorn as the task runs it: start, serve, SIGTERM, and nothing buffered is lost."""

from __future__ import annotations

import re
import subprocess
import sys
import urllib.request

import pytest

from cruddur import contract
from tests.service.conftest import healthy, sampling_rules, telemetry_environ
from testsupport.gunicorn import post_activity, start_gunicorn, stop
from testsupport.waiting import closed_port, wait_until

REQUESTS = 30


def test_serve_then_sigterm_loses_no_span_or_segment(otlp_receiver, xray_daemon, gunicorn_data_environ):
    """Every request made before SIGTERM is exported by the worker that served it, and every worker exits, within the
    stop timeout.
    """
    port = closed_port()
    process = start_gunicorn(telemetry_environ(otlp_receiver, xray_daemon, **gunicorn_data_environ), port)
    try:
        assert wait_until(lambda: healthy(port), timeout=20), "gunicorn did not become healthy"
        for _ in range(REQUESTS):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/activities/home", timeout=5) as response:
                assert response.status == 200
    finally:
        _, err = stop(process)
    assert process.returncode == 0, err[-3000:]
    # Spans are batched every second: those of the last requests were still buffered at SIGTERM.
    server_spans = [s for s in otlp_receiver.spans if s.name == "GET /api/activities/home"]
    assert len(server_spans) == REQUESTS
    assert len(otlp_receiver.spans_named("home-activities")) == REQUESTS
    trace_ids = {f"1-{s.trace_id[:8]}-{s.trace_id[8:]}" for s in server_spans}
    assert {s["trace_id"] for s in xray_daemon.segments} == trace_ids
    booted = set(re.findall(r"Booting worker with pid: (\d+)", err))
    assert len(booted) == contract.WORKERS, err[-3000:]  # WEB_CONCURRENCY, as Cruddur's task sets it
    assert set(re.findall(r"Worker exiting \(pid: (\d+)\)", err)) == booted, err[-3000:]


def test_a_bad_variable_stops_gunicorn_at_once_naming_it(otlp_receiver, xray_daemon):
    """A sampling rule with a fixed rate of 1.5: the master exits before serving, with one sentence naming the
    variable.
    """
    environ = telemetry_environ(otlp_receiver, xray_daemon, XRAY_SAMPLING_RULES=sampling_rules(1.5))
    process = start_gunicorn(environ, closed_port())
    try:
        _, err = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail("gunicorn kept running with a bad variable")
    assert process.returncode != 0
    assert "XRAY_SAMPLING_RULES='" in err
    assert "is invalid; rule 0 ('catch-all'): FixedRate must be a number from 0 to 1" in err


def test_the_container_health_check_command_passes_on_cruddur_and_fails_when_it_is_down(
    otlp_receiver, xray_daemon, gunicorn_data_environ
):
    """The task's health-check command, with the task's variables: exit 0 while Cruddur serves, 1 once it stopped."""
    environ = telemetry_environ(otlp_receiver, xray_daemon, **gunicorn_data_environ)
    port = closed_port()
    command = [sys.executable, *contract.APP_HEALTHCHECK_COMMAND[1:]]
    check_environ = {**environ, "PORT": str(port)}
    process = start_gunicorn(environ, port)
    try:
        assert wait_until(lambda: healthy(port), timeout=20), "gunicorn did not become healthy"
        passed = subprocess.run(command, env=check_environ, capture_output=True, text=True, timeout=10)
    finally:
        _, err = stop(process)
    assert process.returncode == 0, err[-3000:]
    assert (passed.returncode, passed.stderr) == (0, "")
    failed = subprocess.run(command, env=check_environ, capture_output=True, text=True, timeout=10)
    assert failed.returncode == 1
    assert failed.stderr == f"unhealthy: GET http://127.0.0.1:{port}{contract.HEALTH_CHECK_PATH}: Connection refused\n"


def test_with_watchtower_misconfigured_every_line_still_reaches_stdout_and_stderr(
    otlp_receiver, xray_daemon, gunicorn_data_environ
):
    """What the awslogs driver ships does not depend on watchtower: gunicorn's own lines and the app's lines."""
    environ = telemetry_environ(
        otlp_receiver,
        xray_daemon,
        **gunicorn_data_environ,
        TELEMETRY_WATCHTOWER_ENABLED="true",
        WATCHTOWER_LOG_GROUP="/does/not/exist",
        AWS_ENDPOINT_URL_LOGS=f"http://127.0.0.1:{closed_port()}",  # nothing listens: CloudWatch Logs is down
    )
    port = closed_port()
    process = start_gunicorn(environ, port)
    try:
        assert wait_until(lambda: healthy(port), timeout=20), "gunicorn did not become healthy"
        assert post_activity(port, "still logged") == 200
    finally:
        out, err = stop(process)
    assert process.returncode == 0, err[-3000:]
    assert "Listening at: http://127.0.0.1:" in err and "Booting worker" in err  # gunicorn's own, on stderr
    app_lines = [line for line in out.splitlines() if '"logger": "cruddur.activities"' in line]
    assert len(app_lines) == 1  # the app's line, once, on stdout


def test_a_dynamodb_down_at_start_is_a_warning_and_the_task_still_serves_health(gunicorn_data_environ):
    """The master seeds before any worker: with no DynamoDB answering, one warning, then health 200."""
    unreachable = f"http://127.0.0.1:{closed_port()}"
    environ = {
        contract.SERVICE_NAME.name: "cruddur-backend-flask",
        **gunicorn_data_environ,
        contract.AWS_ENDPOINT_URL_DYNAMODB.name: unreachable,
    }
    port = closed_port()
    process = start_gunicorn(environ, port)
    try:
        assert wait_until(lambda: healthy(port), timeout=30), "gunicorn did not become healthy"
    finally:
        _, err = stop(process)
    assert process.returncode == 0, err[-3000:]
    table_name = gunicorn_data_environ[contract.DYNAMODB_TABLE_NAME.name]
    assert err.count(f"could not seed table {table_name}") == 1, err[-3000:]
