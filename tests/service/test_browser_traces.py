"""POST /v1/traces: the frontend's spans, checked and sent on to the collector's OTLP/HTTP receiver.

The receiver is the OTLP stand-in on loopback; every batch is a real OTLP
request (protobuf from opentelemetry-proto, OTLP/JSON as the JS exporter
writes it). The browser-driven end-to-end run is ``tests/browser``.
"""

from __future__ import annotations

import json
import logging
import secrets
import time

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from cruddur import contract, extensions
from cruddur.settings import Settings, SettingsError
from flask_aws_telemetry.browser_traces import decode_batch

from .conftest import flush, telemetry_environ

FRONTEND = "http://localhost:3000"
PATH = contract.BROWSER_TRACES_PATH


def otlp_json(trace_id: str | None = None, span_id: str | None = None, name: str = "documentLoad") -> dict:
    """One span in OTLP/JSON, ids in hex, as @opentelemetry/exporter-trace-otlp-http sends it."""
    return {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": "cruddur-frontend-react-js"}}]
                },
                "scopeSpans": [
                    {
                        "scope": {"name": "@opentelemetry/instrumentation-document-load"},
                        "spans": [
                            {
                                "traceId": trace_id or secrets.token_hex(16),
                                "spanId": span_id or secrets.token_hex(8),
                                "name": name,
                                "kind": 1,
                                "startTimeUnixNano": "1700000000000000000",
                                "endTimeUnixNano": "1700000000100000000",
                            }
                        ],
                    }
                ],
            }
        ]
    }


def otlp_protobuf(trace_id: str) -> bytes:
    """The same span as protobuf."""
    batch = ExportTraceServiceRequest()
    span = batch.resource_spans.add().scope_spans.add().spans.add()
    span.trace_id, span.span_id, span.name = bytes.fromhex(trace_id), secrets.token_bytes(8), "fetch"
    return batch.SerializeToString()


def browser_environ(otlp_receiver, xray_daemon, **overrides) -> dict[str, str]:
    """The traced app with /v1/traces on for the frontend's origin."""
    return telemetry_environ(
        otlp_receiver,
        xray_daemon,
        **{
            contract.FRONTEND_URL.name: FRONTEND,
            contract.BROWSER_TRACES_ENABLED.name: "true",
            contract.BROWSER_TRACES_MAX_BODY_BYTES.name: "4096",
            contract.BROWSER_TRACES_TASK_LIMIT_PER_SECOND.name: "1000",
            contract.BROWSER_TRACES_SOURCE_LIMIT_PER_MINUTE.name: "1000",
            **overrides,
        },
    )


@pytest.fixture
def ingest_app(otlp_receiver, xray_daemon, make_app):
    """The traced app with /v1/traces on."""
    return make_app(browser_environ(otlp_receiver, xray_daemon))


def post(client, body: bytes | str, content_type: str = "application/json", origin: str | None = FRONTEND, **headers):
    """POST a batch to /v1/traces as the browser would, from ``origin``."""
    if origin is not None:
        headers["Origin"] = origin
    return client.post(PATH, data=body, headers={"Content-Type": content_type, **headers})


def test_json_and_protobuf_batches_reach_the_collector_and_the_ingest_request_is_not_traced(ingest_app, otlp_receiver):
    """Both OTLP encodings arrive with their ids; no server span is made for the ingest request itself."""
    json_trace, proto_trace = secrets.token_hex(16), secrets.token_hex(16)
    client = ingest_app.test_client()

    answer = post(client, json.dumps(otlp_json(json_trace)))
    assert answer.status_code == 200 and answer.get_json() == {}
    assert answer.headers["Access-Control-Allow-Origin"] == FRONTEND
    answer = post(client, otlp_protobuf(proto_trace), "application/x-protobuf")
    assert answer.status_code == 200 and answer.content_type == "application/x-protobuf"

    flush(ingest_app)
    received = {span.trace_id: span.name for span in otlp_receiver.spans}
    assert received == {json_trace: "documentLoad", proto_trace: "fetch"}
    assert not otlp_receiver.spans_named(f"POST {PATH}")
    assert ingest_app.extensions[extensions.TELEMETRY].browser_traces.accepted == 2


def test_the_preflight_allows_the_frontend_origin_only(ingest_app):
    """flask-cors answers the frontend's preflight; another origin's is refused and gets no CORS header."""
    client = ingest_app.test_client()
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    allowed = client.options(PATH, headers={"Origin": FRONTEND, **preflight})
    assert allowed.status_code == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == FRONTEND
    assert "content-type" in allowed.headers["Access-Control-Allow-Headers"].lower()
    refused = client.options(PATH, headers={"Origin": "https://evil.example", **preflight})
    assert refused.status_code == 403
    assert "Access-Control-Allow-Origin" not in refused.headers


@pytest.mark.parametrize(
    ("body", "content_type", "origin", "status", "reason"),
    [
        ("{}", "application/json", "https://evil.example", 403, "origin"),
        ("{}", "application/json", None, 403, "origin"),
        ("x" * 5000, "application/json", FRONTEND, 413, "too_large"),
        ("hello", "text/plain", FRONTEND, 415, "content_type"),
        ("not json", "application/json", FRONTEND, 400, "malformed"),
        ("[1, 2]", "application/json", FRONTEND, 400, "malformed"),
        ("{}", "application/json", FRONTEND, 400, "malformed"),
        (b"\xff\xff\xff", "application/x-protobuf", FRONTEND, 400, "malformed"),
        (json.dumps(otlp_json(trace_id="abcd")), "application/json", FRONTEND, 400, "malformed"),
        (json.dumps(otlp_json(trace_id="zz" * 16)), "application/json", FRONTEND, 400, "malformed"),
    ],
    ids=[
        "other-origin",
        "no-origin",
        "oversized",
        "not-otlp-type",
        "not-json",
        "json-array",
        "no-spans",
        "bad-protobuf",
        "short-id",
        "not-hex",
    ],
)
def test_bad_batches_get_a_4xx_are_counted_and_never_reach_the_collector(
    ingest_app, otlp_receiver, caplog, body, content_type, origin, status, reason
):
    """Each refusal names what is wrong, counts under its reason, and sends nothing on."""
    client = ingest_app.test_client()
    with caplog.at_level(logging.WARNING, logger="flask_aws_telemetry.browser_traces"):
        answer = post(client, body, content_type, origin)
    assert answer.status_code == status, answer.get_data(as_text=True)
    assert answer.get_json()["error"]["message"]
    assert ingest_app.extensions[extensions.TELEMETRY].browser_traces.refused == {reason: 1}
    assert any(f"{reason} 1" in record.getMessage() for record in caplog.records)
    flush(ingest_app)
    assert otlp_receiver.paths == []


def test_the_rate_limits_hold_per_task_and_per_source(otlp_receiver, xray_daemon, make_app):
    """A worker's share (the task's limit over WEB_CONCURRENCY) of the task's limit, then of one address's (the last
    X-Forwarded-For entry).
    """
    app = make_app(
        browser_environ(
            otlp_receiver,
            xray_daemon,
            **{
                contract.BROWSER_TRACES_TASK_LIMIT_PER_SECOND.name: "1000",
                contract.BROWSER_TRACES_SOURCE_LIMIT_PER_MINUTE.name: "6",
                "WEB_CONCURRENCY": "3",
            },
        )
    )
    client = app.test_client()
    share = 6 // 3
    body = json.dumps(otlp_json())
    statuses = [post(client, body, X_Forwarded_For="198.51.100.7, 203.0.113.9").status_code for _ in range(share + 2)]
    assert statuses == [200] * share + [429, 429]
    # Another address, even with the first one's address earlier in its header, has its own budget.
    assert post(client, body, X_Forwarded_For="203.0.113.9, 192.0.2.1").status_code == 200
    limited = post(client, body, X_Forwarded_For="203.0.113.9")
    assert limited.headers["Retry-After"] == "60"


@pytest.mark.parametrize("failure", ["failing", "slow"])
def test_a_collector_that_fails_or_hangs_is_a_quick_503_and_the_api_is_unaffected(
    xray_daemon, make_app, otlp_receiver, failure
):
    """The forward gives up within its bound (1 s read); the batch is not counted as refused; the API answers."""
    app = make_app(browser_environ(otlp_receiver, xray_daemon))
    if failure == "failing":
        otlp_receiver.status = 503
    else:
        otlp_receiver.delay_seconds = 5.0
    client = app.test_client()
    started = time.monotonic()
    assert post(client, json.dumps(otlp_json())).status_code == 503
    assert time.monotonic() - started < 2.0
    assert app.extensions[extensions.TELEMETRY].browser_traces.refused == {}
    assert client.get(contract.HEALTH_CHECK_PATH).status_code == 200
    otlp_receiver.delay_seconds = 0.0


def test_decode_reads_otlp_json_ids_as_hex():
    """OTLP/JSON's hex ids become the 16 and 8 bytes they name."""
    trace_id, span_id = secrets.token_hex(16), secrets.token_hex(8)
    batch = decode_batch(json.dumps(otlp_json(trace_id, span_id)).encode(), "application/json")
    span = batch.resource_spans[0].scope_spans[0].spans[0]
    assert (span.trace_id.hex(), span.span_id.hex()) == (trace_id, span_id)


def test_browser_traces_need_opentelemetry():
    """Without the collector there is nowhere to send the spans: the settings say so."""
    environ = {
        contract.SERVICE_NAME.name: "svc",
        contract.DYNAMODB_TABLE_NAME.name: "table",
        contract.BROWSER_TRACES_ENABLED.name: "true",
    }
    with pytest.raises(SettingsError, match="BROWSER_TRACES_ENABLED is true but TELEMETRY_OTEL_ENABLED is false"):
        Settings.from_environ(environ)
    with pytest.raises(
        SettingsError, match="BROWSER_TRACES_MAX_BODY_BYTES='10' is invalid; use a whole number of 1024"
    ):
        Settings.from_environ(
            {**environ, contract.OTEL_ENABLED.name: "true", contract.BROWSER_TRACES_MAX_BODY_BYTES.name: "10"}
        )
