"""flask_aws_telemetry installs into any Flask app, not only Cruddur: two lines, and the request is traced end to
end.
"""

from __future__ import annotations

import json
import logging

import pytest
from flask import Flask
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from flask_aws_telemetry import EXTENSION_KEY, Telemetry, contract, operation
from flask_aws_telemetry.gunicorn_hooks import CONFIGURATION_ERROR_EXIT_STATUS, on_starting, worker_exit
from tests.service.conftest import sampling_rules, telemetry_environ
from testsupport.waiting import wait_until


def _week2_app() -> Flask:
    """A backend in the shape of the course's week 2: a route calling a service function that returns mock data."""
    app = Flask("week2_backend")

    def home_activities() -> list[dict[str, str]]:
        with operation("home-activities") as op:
            results = [{"uuid": "68f126b0", "handle": "andrewbrown"}, {"uuid": "66e12864", "handle": "worf"}]
            op.set("app.result_length", len(results))
            return results

    app.add_url_rule("/api/activities/home", "home", home_activities)
    return app


@pytest.fixture
def week2_environ(otlp_receiver, xray_daemon, monkeypatch) -> dict[str, str]:
    """The telemetry's variables in the process environment, as the task definition sets them."""
    environ = telemetry_environ(otlp_receiver, xray_daemon)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    yield environ
    logging.getLogger().setLevel(logging.WARNING)


def test_a_flask_app_that_is_not_cruddur_is_traced_in_both_tracers(week2_environ, otlp_receiver, xray_daemon):
    """Telemetry.install(app) reads os.environ; the route's server span, its operation and the X-Ray segment share a
    trace.
    """
    # Given a Flask app that knows nothing of Cruddur, with the telemetry installed from the environment
    app = _week2_app()
    telemetry = Telemetry.install(app)
    try:
        assert app.extensions[EXTENSION_KEY] is telemetry
        # When its route is called
        response = app.test_client().get("/api/activities/home")
        assert response.status_code == 200 and len(response.get_json()) == 2
        assert telemetry.tracer_provider.force_flush(5000)
    finally:
        telemetry.shutdown(3)
    # Then the server span is named after the route, the operation is its child, and X-Ray has the same trace
    assert wait_until(lambda: otlp_receiver.spans_named("home-activities"))
    (server,) = otlp_receiver.spans_named("GET /api/activities/home")
    (child,) = otlp_receiver.spans_named("home-activities")
    assert (child.trace_id, child.parent_span_id) == (server.trace_id, server.span_id)
    assert child.attributes["app.result_length"] == 2
    assert server.resource["service.name"] == week2_environ[contract.SERVICE_NAME.name]
    assert wait_until(lambda: xray_daemon.segments_of(f"1-{server.trace_id[:8]}-{server.trace_id[8:]}"))


def test_on_starting_exits_3_with_one_sentence_naming_the_bad_variable(monkeypatch, capsys):
    """The gunicorn hook any app imports stops the master on a bad telemetry variable."""
    monkeypatch.setenv(contract.SERVICE_NAME.name, "week2-backend")
    monkeypatch.setenv(contract.XRAY_SAMPLING_RULES.name, sampling_rules(1.5))
    with pytest.raises(SystemExit) as stopped:
        on_starting(server=None)
    assert stopped.value.code == CONFIGURATION_ERROR_EXIT_STATUS == 3
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"configuration error: {contract.XRAY_SAMPLING_RULES.name}=")
    assert "FixedRate must be a number from 0 to 1" in line


def test_worker_exit_drains_the_spans_of_the_worker_s_app(monkeypatch):
    """The hook finds the app's Telemetry in app.extensions and drains it; a worker whose app never loaded is
    skipped.
    """
    # Given a worker whose app has a finished request whose spans wait in the batch (exported every second)
    monkeypatch.setenv(contract.SERVICE_NAME.name, "week2-backend")
    monkeypatch.setenv(contract.OTEL_ENABLED.name, "true")
    on_starting(server=None)  # valid variables start the master
    exporter = InMemorySpanExporter()
    app = _week2_app()
    Telemetry.install(app, span_exporter=exporter)
    assert app.test_client().get("/api/activities/home").status_code == 200

    class Worker:
        wsgi = app

    class WorkerWithoutApp:
        wsgi = None

    # When gunicorn calls worker_exit for each
    worker_exit(server=None, worker=WorkerWithoutApp())
    worker_exit(server=None, worker=Worker())
    # Then the request's spans were exported before the worker exits
    assert {span.name for span in exporter.get_finished_spans()} == {"GET /api/activities/home", "home-activities"}
    logging.getLogger().setLevel(logging.WARNING)


@pytest.mark.parametrize(
    ("environ", "quiet", "logger"),
    [
        ({}, "/health", "flask_aws_telemetry.request"),
        ({"HEALTH_CHECK_PATH": "/healthz", "TELEMETRY_LOGGER_PREFIX": "week2"}, "/healthz", "week2.request"),
    ],
    ids=["the defaults", "the app's own"],
)
def test_the_health_check_is_quiet_and_the_request_line_is_on_the_prefix_logger(
    monkeypatch, capsys, environ, quiet, logger
):
    """Without quiet_paths, HEALTH_CHECK_PATH writes no request line; every other request writes one, on
    <TELEMETRY_LOGGER_PREFIX>.request.
    """
    # Given an app with a health route at the path the environment names, the telemetry installed without options
    monkeypatch.setenv(contract.SERVICE_NAME.name, "week2-backend")
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    app = _week2_app()
    app.add_url_rule(quiet, "health", lambda: {"status": "ok"})
    telemetry = Telemetry.install(app)
    try:
        capsys.readouterr()
        # When the load balancer asks the health path three times and a user calls the route once
        for _ in range(3):
            assert app.test_client().get(quiet).status_code == 200
        assert app.test_client().get("/api/activities/home").status_code == 200
    finally:
        telemetry.shutdown(3)
        logging.getLogger().setLevel(logging.WARNING)
    # Then there is one request line, the route's, on the prefix's logger
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    request_lines = [line for line in lines if line["logger"].endswith(".request")]
    assert [(line["logger"], line["http_route"]) for line in request_lines] == [(logger, "/api/activities/home")]
