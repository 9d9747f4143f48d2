"""SERVICE_VERSION: the revision deployed names the spans (service.version) and the Rollbar items (code_version)."""

from __future__ import annotations

import pytest

from flask_aws_telemetry import contract, rollbar_reporter
from flask_aws_telemetry.settings import TelemetrySettings
from tests.service.conftest import flush, telemetry_environ
from testsupport.waiting import wait_until

TOKEN = "rollbar-test-token-0123456789"
REVISION = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture(params=[REVISION, None], ids=["set", "unset"])
def revision(request):
    """SERVICE_VERSION set to a commit id, or not set at all."""
    return request.param


@pytest.fixture
def failing_app(otlp_receiver, xray_daemon, rollbar_api, make_app, revision):
    """OpenTelemetry and Rollbar on, SERVICE_VERSION as ``revision`` says, and a route that raises."""
    environ = telemetry_environ(
        otlp_receiver,
        xray_daemon,
        TELEMETRY_ROLLBAR_ENABLED="true",
        ROLLBAR_ACCESS_TOKEN=TOKEN,
        ROLLBAR_ENDPOINT=rollbar_api.endpoint,
    )
    if revision is not None:
        environ[contract.SERVICE_VERSION.name] = revision
    app = make_app(environ)

    @app.get("/_fail")
    def fail():
        raise ZeroDivisionError("a bug, on demand")

    return app


def test_the_revision_is_parsed_once_into_the_settings(revision):
    """Set: the settings hold it; unset or empty: None."""
    environ = {contract.SERVICE_NAME.name: "svc"}
    if revision is not None:
        environ[contract.SERVICE_VERSION.name] = revision
    assert TelemetrySettings.from_environ(environ).service_version == revision
    assert TelemetrySettings.from_environ({**environ, contract.SERVICE_VERSION.name: ""}).service_version is None


def test_spans_and_rollbar_items_name_the_revision_when_it_is_set(failing_app, otlp_receiver, rollbar_api, revision):
    """Given SERVICE_VERSION, a span's resource has service.version and the Rollbar item code_version; else
    neither.
    """
    assert failing_app.test_client().get("/_fail").status_code == 500
    flush(failing_app)
    rollbar_reporter.wait()
    assert wait_until(lambda: otlp_receiver.spans and rollbar_api.items)
    (item,) = rollbar_api.items
    resources = {tuple(sorted(span.resource.items())) for span in otlp_receiver.spans}
    assert len(resources) == 1
    resource = dict(next(iter(resources)))
    if revision is None:
        assert "service.version" not in resource
        assert "code_version" not in item["data"]
    else:
        assert resource["service.version"] == revision
        assert item["data"]["code_version"] == revision
    assert resource["service.name"] == "cruddur-backend-flask"
