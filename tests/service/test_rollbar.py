"""Rollbar: unhandled exceptions are reported with the trace id, scrubbed, off the request thread."""

from __future__ import annotations

import json
import time

import pytest
import rollbar

from tests.service.conftest import flush, telemetry_environ
from testsupport.waiting import wait_until

TOKEN = "rollbar-test-token-0123456789"


@pytest.fixture
def rollbar_app(otlp_receiver, xray_daemon, rollbar_api, make_app):
    """The traced app with Rollbar on, pointed at the stand-in, and a route with a real bug."""
    environ = telemetry_environ(
        otlp_receiver,
        xray_daemon,
        TELEMETRY_ROLLBAR_ENABLED="true",
        ROLLBAR_ACCESS_TOKEN=TOKEN,
        ROLLBAR_ENDPOINT=rollbar_api.endpoint,
    )
    app = make_app(environ)

    @app.get("/_bug")
    def bug():
        raise ZeroDivisionError("a real bug")

    return app


def _bug_request(app):
    return app.test_client().get(
        "/_bug?password=hunter2",
        headers={"Authorization": "Bearer very-secret", "Cookie": "session=abc123", "X-Api-Key": "key-123"},
    )


def test_an_unhandled_exception_is_a_json_500_and_a_rollbar_item_with_the_trace(
    rollbar_app, rollbar_api, otlp_receiver
):
    """The client gets a JSON 500; Rollbar gets the exception, the request and the trace id."""
    response = _bug_request(rollbar_app)
    assert response.status_code == 500
    assert response.json == {"error": {"status": 500, "message": "internal server error"}}
    assert wait_until(lambda: rollbar_api.items)
    flush(rollbar_app)
    assert wait_until(lambda: otlp_receiver.spans)
    data = rollbar_api.items[0]["data"]
    assert data["body"]["trace"]["exception"]["class"] == "ZeroDivisionError"
    assert data["environment"] == "test"
    server_span = next(s for s in otlp_receiver.spans if s.parent_span_id == "")
    assert data["custom"]["trace_id"] == server_span.trace_id
    assert data["custom"]["xray_trace_id"] == f"1-{server_span.trace_id[:8]}-{server_span.trace_id[8:]}"
    assert data["request"]["url"].startswith("http://localhost/_bug")


def test_authorization_cookies_and_secrets_are_scrubbed(rollbar_app, rollbar_api):
    """No header or parameter value that could be a credential leaves the service."""
    _bug_request(rollbar_app)
    assert wait_until(lambda: rollbar_api.items)
    payload = json.dumps(rollbar_api.items[0]["data"])
    for secret in ("very-secret", "abc123", "key-123", "hunter2"):
        assert secret not in payload
    # the access token travels only in Rollbar's own header, never in the item
    assert TOKEN not in payload


# A Rollbar API that answers this late, and a client timeout longer still (rollbar.init set 3 s): a request that
# waited for its report would take at least ROLLBAR_DELAY_SECONDS. A loaded test machine slows a request by one or
# two seconds, so the bound is half the delay: a busy machine passes, a report sent on the request thread fails.
ROLLBAR_DELAY_SECONDS = 10.0


def test_reporting_does_not_block_the_request(rollbar_app, rollbar_api, monkeypatch):
    """A Rollbar API taking 10 s does not delay the 500."""
    monkeypatch.setitem(rollbar.SETTINGS, "timeout", 2 * ROLLBAR_DELAY_SECONDS)
    rollbar_api.delay_seconds = ROLLBAR_DELAY_SECONDS
    started = time.monotonic()
    assert _bug_request(rollbar_app).status_code == 500
    took = time.monotonic() - started
    assert took < ROLLBAR_DELAY_SECONDS / 2, (
        f"the 500 took {took:.2f} s: over half of the {ROLLBAR_DELAY_SECONDS:.0f} s a request that waited for its "
        f"Rollbar report takes, more than a loaded test machine explains"
    )


def test_client_errors_are_not_reported(rollbar_app, rollbar_api):
    """A 404 is the client's problem, not an item."""
    assert rollbar_app.test_client().get("/api/activities/@nobody").status_code == 404
    assert not wait_until(lambda: rollbar_api.items, timeout=0.5)
