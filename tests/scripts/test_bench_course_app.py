"""make bench's course setup really exports; a configuration whose stand-ins received nothing fails the run."""

from __future__ import annotations

import urllib.request

from bench.overhead import (
    ALL_SAMPLED,
    BACKENDS_DOWN,
    COURSE_SETUP,
    PROD,
    PROD_OPENTELEMETRY_ONLY,
    environ_for,
    undelivered,
)
from cruddur import contract
from flask_aws_telemetry.healthcheck import probe
from testsupport.gunicorn import start_gunicorn, stop
from testsupport.standins.aws import MotoServer, create_service_table
from testsupport.standins.otlp import OtlpReceiver
from testsupport.standins.rollbar import RollbarApi
from testsupport.standins.xray_daemon import XRayDaemon
from testsupport.waiting import closed_port, wait_until

REQUESTS = 5


def test_the_course_setup_sends_spans_and_segments_and_none_of_the_projects_own(tmp_path):
    """Under gunicorn as the bench runs it: OTLP spans for every request, X-Ray segments, no project child span."""
    with (
        OtlpReceiver() as collector,
        XRayDaemon() as daemon,
        RollbarApi() as rollbar,
        MotoServer(tmp_path / "moto.log") as dynamodb,
    ):
        port = closed_port()
        data = {"dynamodb_url": dynamodb.url, "table_name": create_service_table(dynamodb.url)}
        environ = environ_for(COURSE_SETUP, collector, daemon, None, "", rollbar, **data)
        process = start_gunicorn(environ, port, COURSE_SETUP.command)
        try:
            assert wait_until(
                lambda: probe(port, contract.HEALTH_CHECK_PATH, timeout_seconds=0.5) is None, timeout=20
            ), "gunicorn did not become healthy"
            for _ in range(REQUESTS):
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/activities/home", timeout=5) as response:
                    assert response.status == 200
            # The SDK's default sampler traces every request; the batch goes out within its 5 s delay.
            home = "GET /api/activities/home"
            assert wait_until(lambda: len(collector.spans_named(home)) == REQUESTS, timeout=15), collector.spans
            assert wait_until(lambda: daemon.segments, timeout=5), "no X-Ray segment reached the daemon stand-in"
        finally:
            _, err = stop(process)
    assert process.returncode == 0, err[-3000:]
    assert {s.resource["service.name"] for s in collector.spans} == {"backend-flask"}
    assert not collector.spans_named("home-activities")  # the project's own telemetry is off
    # The X-Ray SDK's local rule records the first request of each second, named by the course's dynamic naming.
    assert all(s["name"].startswith("127.0.0.1") for s in daemon.segments)


def test_a_configuration_whose_standins_received_nothing_is_named():
    """Each configuration that should export but did not is named with what is missing."""
    with OtlpReceiver() as quiet_otlp, XRayDaemon() as quiet_xray, OtlpReceiver() as otlp, XRayDaemon() as xray:
        otlp.requests, xray.frames = 3, 7
        missing = undelivered(
            {
                COURSE_SETUP: (quiet_otlp, xray, None),
                PROD: (otlp, quiet_xray, None),
                PROD_OPENTELEMETRY_ONLY: (otlp, quiet_xray, None),  # no X-Ray SDK: no segments expected
                ALL_SAMPLED: (otlp, xray, None),
                BACKENDS_DOWN: (quiet_otlp, quiet_xray, None),
            },
            timeout=0.1,
        )
    assert missing == [
        "course setup: no spans reached its stand-ins",
        "prod: no X-Ray segments reached its stand-ins",
    ]
