"""Hostile input never pages anyone: every public route answers it with a 4xx and one sentence, logs at most one
bounded WARNING (no ERROR, no traceback), and sends nothing to Rollbar.

A 4xx never counts against an objective: availability counts the entry point's 5xx (``tests/infra/test_slos.py``)
and a refusal is answered in milliseconds, far inside the latency objective's threshold. What counts ERROR lines
is the log group's metric filter; ``test_the_error_lines_filter_does_not_count_the_refusal_warning`` reads its
pattern from the synthesized template and applies it to the line a refusal writes.

The routes are the app's ``url_map`` and the library's ``/v1/traces`` (its own small Flask app), listed from the
apps, never by hand: a route without a legitimate request in ``LEGITIMATE`` fails
``test_every_public_route_has_a_legitimate_request_here``, and each legitimate request must still work, so
"always 4xx" cannot pass by breaking a route.

What is hostile depends on what a route reads. A route that reads a body, a path value or a query parameter
answers a hostile one with a 4xx. Input a route does not read (a body sent to a GET, a query parameter it does not
know) and malformed trace headers change nothing: W3C Trace Context says a receiver ignores a ``traceparent`` it
cannot parse and starts a new trace, so the answer is the one the clean request gets, still with no ERROR line
and nothing at Rollbar. Oversized header lines never reach the app: gunicorn refuses them with 400
(``limit_request_field_size``, ``flask_aws_telemetry.gunicorn_config``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import gzip
import http.client
import io
import json
import logging
import re
import urllib.parse
from typing import Any

import pytest
import rollbar
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cruddur import contract, extensions
from cruddur.api import json_body
from flask_aws_telemetry.browser_traces import MAX_JSON_NESTING
from flask_aws_telemetry_cdk.components.service_monitoring import ERROR_LOG_METRIC_NAME
from testsupport import metric_filter
from testsupport.gunicorn import start_gunicorn, stop
from testsupport.waiting import closed_port, wait_until

from .conftest import healthy, telemetry_environ
from .test_browser_traces import FRONTEND, browser_environ, otlp_json

TOKEN = "rollbar-test-token-hostile"
INGEST_MAX_BODY_BYTES = 65536  # BROWSER_TRACES_MAX_BODY_BYTES's default
# A refusal's log line, all of it (JSON with the trace ids, service and environment), is at most this long.
MAX_WARNING_LINE_CHARS = 1024
MAX_MESSAGE_CHARS = 300
# The property tests run a fixed set of examples (derandomized, no example database): the same requests in CI as
# on a laptop.
PROPERTY = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
# Hypothesis warns when the global random state moves while it draws; here the app's own threads move it (the
# tracer's id generator and the sampler's poller call random), never a strategy.
OTHER_THREADS_USE_RANDOM = pytest.mark.filterwarnings(
    "ignore:Do not use the `random` module inside strategies:hypothesis.errors.HypothesisDeprecationWarning"
)
KNOWN_HANDLES = ("andrewbrown", "worf", "garek")
INGEST = "traces"  # the endpoint of the library's /v1/traces


@dataclasses.dataclass(frozen=True)
class Legitimate:
    """A request a route answers with a 2xx: its path values, query, JSON body or raw body and headers."""

    args: dict[str, str] = dataclasses.field(default_factory=dict)
    query: dict[str, str] = dataclasses.field(default_factory=dict)
    json: Any = None
    headers: dict[str, str] = dataclasses.field(default_factory=dict)


SEEDED_ACTIVITY = "{seeded activity}"  # replaced by a live activity's uuid once the app runs
INGEST_HEADERS = {"Origin": FRONTEND, "Content-Type": "application/json"}
# Every public route by endpoint, with a request it answers 2xx.
LEGITIMATE: dict[str, Legitimate] = {
    "health.health_check": Legitimate(),
    "activities.home": Legitimate(),
    "activities.notifications": Legitimate(),
    "activities.user": Legitimate(args={"handle": "worf"}),
    "activities.search": Legitimate(query={"term": "cloud"}),
    "activities.create": Legitimate(json={"message": "hello", "ttl": "1-day"}),
    "activities.reply": Legitimate(args={"activity_uuid": SEEDED_ACTIVITY}, json={"message": "agreed"}),
    "messages.message_groups": Legitimate(),
    "messages.conversation": Legitimate(args={"handle": "worf"}),
    "messages.create": Legitimate(json={"message": "hi", "user_receiver_handle": "worf"}),
    INGEST: Legitimate(json="otlp", headers=INGEST_HEADERS),
}


@dataclasses.dataclass(frozen=True)
class Route:
    """One public route: the app every request enters (the service's, whose WSGI chain holds the library's ingest),
    the app that serves the route, its rule, the method it answers, its legitimate request.
    """

    entry: Flask
    app: Flask
    endpoint: str
    rule: str
    method: str
    legitimate: Legitimate

    @property
    def reads_body(self) -> bool:
        """True for the routes that parse a JSON (or OTLP) body."""
        return self.method == "POST"

    @property
    def max_body_bytes(self) -> int:
        """The largest body the route's app reads."""
        return self.app.config["MAX_CONTENT_LENGTH"]

    def path(self, **args: str) -> str:
        """The route's path with ``args`` (percent-encoded) in place of the legitimate ones."""
        values = {**self.legitimate.args, **args}
        path = self.rule
        for name, value in values.items():
            path = re.sub(rf"<(?:\w+:)?{name}>", urllib.parse.quote(value, safe=""), path)
        return path

    def body(self, ids: tuple[str, str] | None = None) -> bytes:
        """The legitimate body, as bytes; an OTLP batch's span has ``ids`` (trace, span; default random ones)."""
        if self.legitimate.json == "otlp":
            return json.dumps(otlp_json(*(ids or (None, None)))).encode()
        return json.dumps(self.legitimate.json).encode() if self.legitimate.json is not None else b""


@pytest.fixture
def hostile_app(otlp_receiver, xray_daemon, rollbar_api, make_app):
    """The service as a task runs it: OpenTelemetry, X-Ray, Rollbar (at the stand-in) and /v1/traces all on, warmed
    up with one request (the sampler's one-time WARNING about its fallback rules is not a request's).
    """
    environ = browser_environ(
        otlp_receiver,
        xray_daemon,
        TELEMETRY_ROLLBAR_ENABLED="true",
        ROLLBAR_ACCESS_TOKEN=TOKEN,
        ROLLBAR_ENDPOINT=rollbar_api.endpoint,
        **{
            contract.BROWSER_TRACES_MAX_BODY_BYTES.name: str(INGEST_MAX_BODY_BYTES),
            contract.BROWSER_TRACES_SOURCE_LIMIT_PER_MINUTE.name: "100000",
            contract.BROWSER_TRACES_TASK_LIMIT_PER_SECOND.name: "100000",
        },
    )
    app = make_app(environ)
    with contextlib.redirect_stdout(io.StringIO()):
        assert app.test_client().get("/api/activities/home").status_code == 200
    return app


def public_routes(app: Flask) -> list[Route]:
    """Every route of the app's url_map and of the library's ingest app, one per method it answers."""
    seeded = app.test_client().get("/api/activities/home").json[0]["uuid"]
    ingest = app.extensions[extensions.TELEMETRY].browser_traces.app
    routes = []
    for served_by in (app, ingest):
        for rule in served_by.url_map.iter_rules():
            legitimate = LEGITIMATE.get(rule.endpoint, Legitimate())
            if SEEDED_ACTIVITY in legitimate.args.values():
                legitimate = dataclasses.replace(legitimate, args={"activity_uuid": seeded})
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                routes.append(Route(app, served_by, rule.endpoint, rule.rule, method, legitimate))
    return routes


def json_lines(text: str) -> list[dict]:
    """The JSON log lines the library's stdout handler wrote."""
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def send(app: Flask, method: str, path: str, *, data: bytes = b"", headers: dict[str, str] | None = None, **kwargs):
    """One request through the whole WSGI chain; its response and the log lines written while it ran."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        response = app.test_client().open(path, method=method, data=data, headers=headers or {}, **kwargs)
    return response, out.getvalue()


def send_legitimate(route: Route, *, extra_headers: dict[str, str] | None = None, body: bytes | None = None):
    """The route's legitimate request (with ``extra_headers``, and ``body`` for one that reads none)."""
    headers = {**route.legitimate.headers, **(extra_headers or {})}
    if route.reads_body:
        headers.setdefault("Content-Type", "application/json")
        body = route.body()
    return send(
        route.entry, route.method, route.path(), data=body or b"", headers=headers, query_string=route.legitimate.query
    )


QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")


def is_one_sentence(message: Any) -> bool:
    """One line of text, not too long, that ends no sentence before its end (quoted values aside)."""
    if not isinstance(message, str) or not message.strip() or len(message) > MAX_MESSAGE_CHARS:
        return False
    unquoted = QUOTED.sub("''", message)
    return "\n" not in message and not re.search(r"[.!?]\s+\S", unquoted)


def rollbar_items(rollbar_api) -> list[dict]:
    """What the Rollbar stand-in received, once Rollbar's sender threads are done."""
    rollbar.wait()
    return list(rollbar_api.items)


def assert_nothing_pages(log_text: str, rollbar_api) -> None:
    """At most one WARNING line, bounded; no ERROR or CRITICAL line; no traceback; no Rollbar item."""
    lines = json_lines(log_text)
    assert not [line for line in lines if line["level"] in ("ERROR", "CRITICAL")], log_text[:2000]
    assert not [line for line in lines if "exception" in line], log_text[:2000]
    warnings = [
        line for line in log_text.splitlines() if line.startswith("{") and json.loads(line)["level"] == "WARNING"
    ]
    assert len(warnings) <= 1, warnings
    assert all(len(line) <= MAX_WARNING_LINE_CHARS for line in warnings), warnings
    assert rollbar_items(rollbar_api) == []


def assert_refused_quietly(response, log_text: str, rollbar_api) -> None:
    """A 4xx whose body says what is wrong in one sentence, and nothing that pages."""
    assert 400 <= response.status_code < 500, (response.status_code, response.get_data(as_text=True)[:500])
    error = response.get_json()["error"]
    assert error["status"] == response.status_code
    assert is_one_sentence(error["message"]), error["message"]
    assert_nothing_pages(log_text, rollbar_api)


# -- the two requests


def test_3000_nested_brackets_to_api_activities_are_a_400(hostile_app, rollbar_api):
    """6 KB of ``[`` then ``]`` used to be a RecursionError: a 500, two ERROR lines with a traceback, a Rollbar item."""
    body = ("[" * 3000 + "]" * 3000).encode()
    response, log_text = send(
        hostile_app, "POST", "/api/activities", data=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json["error"]["message"] == (
        f"body: nests arrays and objects deeper than {json_body.MAX_NESTING} levels"
    )
    assert_refused_quietly(response, log_text, rollbar_api)


def test_1000_nested_brackets_to_v1_traces_are_a_400(hostile_app, rollbar_api):
    """2 KB of nesting on the browser ingest used to be a 500 and two ERROR lines with a traceback."""
    body = ("[" * 1000 + "]" * 1000).encode()
    response, log_text = send(hostile_app, "POST", contract.BROWSER_TRACES_PATH, data=body, headers=INGEST_HEADERS)
    assert response.status_code == 400
    assert response.json["error"]["message"] == (
        f"the body nests arrays and objects deeper than {MAX_JSON_NESTING} levels"
    )
    assert_refused_quietly(response, log_text, rollbar_api)
    (warning,) = [line for line in json_lines(log_text) if line["level"] == "WARNING"]
    assert warning["logger"] == "flask_aws_telemetry.browser_traces"


@pytest.mark.parametrize("path", ["/api/activities", contract.BROWSER_TRACES_PATH])
def test_the_error_lines_filter_does_not_count_the_refusal_warning(dev, hostile_app, path):
    """The log group's ERROR-lines metric filter, as synthesized, counts none of the lines a refusal writes (the
    ingest's WARNING, the request line), and counts an ERROR line the same handler writes.
    """
    (pattern,) = [
        properties["FilterPattern"]
        for properties in (f["Properties"] for f in dev.resources("service", "AWS::Logs::MetricFilter").values())
        if properties["MetricTransformations"][0]["MetricName"] == ERROR_LOG_METRIC_NAME
    ]
    body = ("[" * 3000 + "]" * 3000).encode()
    response, log_text = send(hostile_app, "POST", path, data=body, headers=INGEST_HEADERS)
    assert response.status_code == 400
    lines = [line for line in log_text.splitlines() if line.startswith("{")]
    assert lines and not [line for line in lines if metric_filter.matches(pattern, line)]
    if path == contract.BROWSER_TRACES_PATH:
        assert [json.loads(line)["level"] for line in lines] == ["WARNING"]
    # The control: an ERROR line from the same handler is counted.
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        logging.getLogger("cruddur.api").error("unhandled exception")
    (error_line,) = out.getvalue().splitlines()
    assert metric_filter.matches(pattern, error_line)


def _raw_request(port: int, method: str, path: str, headers: list[tuple[str, str]], body: bytes = b"") -> int:
    """One request as written, through a socket: http.client sends lines and headers of any size or number."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in [*headers, ("Content-Length", str(len(body)))]:
            connection.putheader(name, value)
        connection.endheaders(body)
        return connection.getresponse().status
    finally:
        connection.close()


def test_under_gunicorn_oversized_lines_and_headers_are_a_4xx_from_gunicorn_and_nothing_pages(
    otlp_receiver, xray_daemon, gunicorn_data_environ
):
    """What the test client cannot send: a header line over ``limit_request_field_size``, a request line over
    gunicorn's 4094 bytes, more than 100 headers. gunicorn refuses each before the app sees it, with one bounded
    WARNING line and no ERROR; the 3,000 nested brackets get the app's 400 through the real server too.
    """
    port = closed_port()
    process = start_gunicorn(telemetry_environ(otlp_receiver, xray_daemon, **gunicorn_data_environ), port)
    try:
        assert wait_until(lambda: healthy(port), timeout=30), "gunicorn did not become healthy"
        home = "/api/activities/home"
        statuses = [
            _raw_request(port, "GET", home, [("traceparent", "0" * 9000)]),
            _raw_request(port, "GET", home, [("Cookie", "c=" + "x" * 9000)]),
            _raw_request(port, "GET", home + "?term=" + "x" * 5000, []),
            _raw_request(port, "GET", home, [(f"X-Header-{n}", "v") for n in range(150)]),
            _raw_request(
                port,
                "POST",
                "/api/activities",
                [("Content-Type", "application/json")],
                ("[" * 3000 + "]" * 3000).encode(),
            ),
        ]
    finally:
        out, err = stop(process)
    assert statuses == [431, 431, 414, 431, 400]
    assert "[ERROR]" not in err and '"level": "ERROR"' not in out, err[-3000:]
    warnings = [line for line in (out + err).splitlines() if "WARNING" in line and "Invalid request" in line]
    assert len(warnings) == 4 and all(len(line) <= MAX_WARNING_LINE_CHARS for line in warnings), warnings


# -- every route still answers its legitimate request


def test_every_public_route_has_a_legitimate_request_here(hostile_app):
    """The routes the apps serve are exactly those LEGITIMATE knows: a new route needs its example here."""
    assert {route.endpoint for route in public_routes(hostile_app)} == set(LEGITIMATE)


@pytest.mark.parametrize("endpoint", sorted(LEGITIMATE))
def test_each_route_still_answers_its_legitimate_request(hostile_app, rollbar_api, endpoint):
    """The checks refuse hostile input only: the legitimate request of each route is a 2xx."""
    (route,) = [route for route in public_routes(hostile_app) if route.endpoint == endpoint]
    response, log_text = send_legitimate(route)
    assert 200 <= response.status_code < 300, (response.status_code, response.get_data(as_text=True)[:500])
    assert_nothing_pages(log_text, rollbar_api)


# -- generated hostile input


def nested(depth: int, opener: str, closed: bool) -> str:
    """``depth`` levels of ``[`` or ``{"a":``, closed or not."""
    closer = {"[": "]", '{"a":': "}"}[opener]
    inner = opener * depth + "0"
    return inner + closer * depth if closed else inner


# JSON has no NaN or Infinity; a double holds no 1e400; Python converts no 5,000 digits; a uint64 holds neither
# 2**64 nor -1 (the ingest's counters and times); no field of Cruddur's takes a number at all.
NON_NUMBERS = ("NaN", "Infinity", "-Infinity", "1e400", "-1e999", "9" * 5000, str(2**64), "-1")
printable = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
latin1 = st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f")


@st.composite
def hostile_body(draw, route: Route) -> tuple[bytes, dict[str, str]]:
    """A body (and its Content-Type and Content-Encoding) that ``route`` must refuse.

    Deep nesting, invalid UTF-8, numbers JSON has not or a double cannot hold, lone surrogates, wrong JSON types,
    more bytes than the route reads, wrong media types, compressed bodies, random bytes.
    """
    is_ingest = route.endpoint == INGEST
    trace_id, span_id = draw(st.binary(min_size=16, max_size=16)), draw(st.binary(min_size=8, max_size=8))
    legitimate = json.loads(route.body((trace_id.hex(), span_id.hex())))
    content_type = "application/json"
    kind = draw(
        st.sampled_from(
            ["nesting", "nesting-inside", "utf8", "number", "surrogate", "type", "oversized", "media", "gzip", "bytes"]
            + (["ids", "protobuf"] if is_ingest else [])
        )
    )
    limit = MAX_JSON_NESTING if is_ingest else json_body.MAX_NESTING
    if kind == "nesting":
        text = nested(draw(st.integers(limit + 1, 3000)), draw(st.sampled_from(["[", '{"a":'])), draw(st.booleans()))
        data = text.encode()
    elif kind == "nesting-inside":
        depth = draw(st.integers(limit, 3000))  # one level more inside the body's object
        data = (json.dumps(legitimate)[:-1] + ', "x": ' + nested(depth, "[", True) + "}").encode()
    elif kind == "utf8" and draw(st.booleans()):
        data = json.dumps(legitimate).encode(draw(st.sampled_from(["utf-16", "utf-32", "utf-16-be", "latin-1"])))
        if b"\x00" not in data:  # latin-1 of ASCII text is UTF-8: make it carry a byte UTF-8 lacks
            data = data[:-1] + b', "x": "\xe9"}'
    elif kind == "utf8":
        text = json.dumps(legitimate)
        at = draw(st.integers(1, len(text) - 1))
        junk = draw(
            st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\x80\x80", b"\xc0\xaf"])
        )
        data = text[:at].encode() + junk + text[at:].encode()
    elif kind == "number":
        literal = draw(st.sampled_from(NON_NUMBERS))
        data = _with_value(route, legitimate, literal, draw)
    elif kind == "surrogate":
        escaped = draw(st.sampled_from(["\\ud800", "\\udfff", "x\\ud83d"]))  # JSON escapes of lone surrogates
        data = _with_value(route, legitimate, f'"{escaped}"', draw, strings_only=True)
    elif kind == "type":
        # Types no field takes: none of the service's takes a non-string, no integer field of a span a list or object.
        wrong = draw(
            st.booleans()
            | st.lists(st.integers(), max_size=3)
            | st.dictionaries(st.text(max_size=5), st.integers(), max_size=2)
            | (
                st.none() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
                if not is_ingest
                else st.nothing()
            )
        )
        if draw(st.booleans()):
            data = json.dumps([wrong] if isinstance(wrong, dict) else wrong).encode()  # a whole body not an object
        else:
            data = _with_value(route, legitimate, json.dumps(wrong), draw)
    elif kind == "oversized":
        padding = "x" * (route.max_body_bytes + draw(st.integers(1, 4096)))
        data = json.dumps({**legitimate, "padding": padding}).encode()
    elif kind == "media":
        data = json.dumps(legitimate).encode()
        content_type = draw(
            st.sampled_from(
                ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "application/xml", ""]
            )
            | st.text(printable, min_size=1, max_size=300).filter(
                lambda t: "json" not in t.lower() and "protobuf" not in t.lower()
            )
        )
    elif kind == "gzip":
        return gzip.compress(json.dumps(legitimate).encode()), {
            "Content-Type": content_type,
            "Content-Encoding": "gzip",
        }
    elif kind == "bytes":
        data = draw(st.binary(min_size=0, max_size=2048))
        if is_ingest:
            content_type = draw(st.sampled_from(["application/json", "application/x-protobuf"]))
    elif kind == "ids":
        span = legitimate["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
        field = draw(st.sampled_from(["traceId", "spanId", "parentSpanId"]))
        span[field] = draw(
            st.text("0123456789abcdef", min_size=1, max_size=40).filter(lambda v: len(v) not in (16, 32))
            | st.text(printable, min_size=1, max_size=40).filter(lambda v: not re.fullmatch(r"[0-9a-fA-F]*", v))
            | st.integers()
            | st.lists(st.integers(), max_size=2)
        )
        data = json.dumps(legitimate).encode()
    else:  # protobuf: AnyValue nested deeper than protobuf's recursion limit, or a batch cut short
        content_type = "application/x-protobuf"
        whole = _protobuf_batch(trace_id, span_id, draw(st.integers(101, 2000)))
        if draw(st.booleans()):
            data = whole  # an attribute value nested deeper than protobuf's recursion limit (100)
        else:
            data = _protobuf_batch(trace_id, span_id, 1)
            data = data[: draw(st.integers(1, len(data) - 1))]  # a batch cut short
    return data, {"Content-Type": content_type}


def _with_value(route: Route, legitimate: dict, literal: str, draw, *, strings_only: bool = False) -> bytes:
    """The legitimate body with one of its values (for the ingest, one of a span's) replaced by ``literal``."""
    marker = "__hostile__"
    if route.endpoint == INGEST:
        span = legitimate["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
        fields = ["name"] if strings_only else ["startTimeUnixNano", "endTimeUnixNano", "droppedAttributesCount"]
        span[draw(st.sampled_from(fields))] = marker
    else:
        legitimate[draw(st.sampled_from(sorted(legitimate)))] = marker
    return json.dumps(legitimate).replace(json.dumps(marker), literal).encode()


def _varint(value: int) -> bytes:
    out = b""
    while True:
        byte, value = value & 0x7F, value >> 7
        if not value:
            return out + bytes([byte])
        out += bytes([byte | 0x80])


def _protobuf_batch(trace_id: bytes, span_id: bytes, depth: int) -> bytes:
    """An ExportTraceServiceRequest of one span whose attribute's AnyValue nests ``depth`` arrays.

    Written field by field (numbers from opentelemetry-proto's .proto files): the protobuf runtime cannot build a
    message deeper than its own recursion limit.
    """
    value = b""
    for _ in range(depth):
        array = b"\x0a" + _varint(len(value)) + value  # ArrayValue.values = 1
        value = b"\x2a" + _varint(len(array)) + array  # AnyValue.array_value = 5
    key_value = b"\x0a\x01k" + b"\x12" + _varint(len(value)) + value  # KeyValue.key = 1, .value = 2
    span = b"\x0a\x10" + trace_id + b"\x12\x08" + span_id  # Span.trace_id = 1, .span_id = 2
    span += b"\x4a" + _varint(len(key_value)) + key_value  # Span.attributes = 9
    scope_spans = b"\x12" + _varint(len(span)) + span  # ScopeSpans.spans = 2
    resource_spans = b"\x12" + _varint(len(scope_spans)) + scope_spans  # ResourceSpans.scope_spans = 2
    return b"\x0a" + _varint(len(resource_spans)) + resource_spans  # ExportTraceServiceRequest.resource_spans = 1


@st.composite
def hostile_trace_headers(draw) -> dict[str, str]:
    """Malformed or oversized trace headers (and other headers a client controls), up to gunicorn's 8190 bytes."""
    headers: dict[str, str] = {}
    for name in draw(
        st.lists(
            st.sampled_from(
                ["traceparent", "X-Amzn-Trace-Id", "tracestate", "baggage", "X-Forwarded-For", "User-Agent", "Accept"]
            ),
            max_size=4,
            unique=True,
        )
    ):
        headers[name] = draw(
            st.text(latin1, max_size=64)
            | st.sampled_from(
                [
                    "00-" + "0" * 32 + "-" + "0" * 16 + "-01",
                    "ff-" + "a" * 32 + "-" + "b" * 16 + "-01",
                    "00-" + "A" * 32 + "-" + "b" * 16 + "-01",
                    "Root=1-zzzzzzzz-" + "0" * 24 + ";Sampled=1",
                    "Root=1-5f0a3b2c-" + "f" * 24 + ";Parent=" + "g" * 16,
                    "Root=;Parent=;Sampled=2",
                    ";;;===",
                ]
            )
            | st.integers(257, 8000).map(lambda n: "x" * n)
            | st.integers(1, 700).map(lambda n: ", ".join(["203.0.113.9"] * n))
        )
    return headers


def _route_strategy(routes: list[Route], reading_body: bool | None = None) -> st.SearchStrategy[Route]:
    chosen = [r for r in routes if reading_body is None or r.reads_body == reading_body]
    return st.sampled_from(chosen)


BODY_EXAMPLES = 300


@OTHER_THREADS_USE_RANDOM
@settings(PROPERTY, max_examples=BODY_EXAMPLES)
@given(data=st.data())
def test_hostile_bodies_get_a_4xx_on_every_route_that_reads_one(hostile_app, rollbar_api, data):
    """Every route that reads a body refuses a hostile one with a 4xx and one sentence, and nothing pages."""
    routes = _routes_of(hostile_app)
    route = data.draw(_route_strategy(routes, reading_body=True), label="route")
    body, headers = data.draw(hostile_body(route), label="body")
    headers = {**route.legitimate.headers, **data.draw(hostile_trace_headers(), label="headers"), **headers}
    response, log_text = send(route.entry, route.method, route.path(), data=body, headers=headers)
    assert_refused_quietly(response, log_text, rollbar_api)


@st.composite
def hostile_path_or_query(draw, route: Route) -> tuple[str, dict[str, str]] | None:
    """A path value or query parameter ``route`` reads, made hostile; None for a route that reads neither."""
    if "handle" in route.legitimate.args:
        handle = draw(
            st.text(max_size=40).filter(lambda h: h not in KNOWN_HANDLES)
            | st.integers(33, 4000).map(lambda n: "a" * n)
            | st.sampled_from(["Worf", "wor f", "worf\x00", "../worf", "%ff%fe", "andrewbrown/..", "ωορφ"])
        )
        return route.path(handle=handle), {}
    if "activity_uuid" in route.legitimate.args:
        value = draw(st.text(max_size=60) | st.uuids().map(str) | st.integers(100, 4000).map(lambda n: "f" * n))
        return route.path(activity_uuid=value), {}
    if "term" in route.legitimate.query:
        term = draw(
            st.sampled_from(["", " ", "\t\n"]) | st.text(min_size=101, max_size=2000).filter(lambda t: len(t) > 100)
        )
        return route.path(), {} if draw(st.booleans()) and not term.strip() else {"term": term}
    return None


METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
PATH_EXAMPLES = 200


@OTHER_THREADS_USE_RANDOM
@settings(PROPERTY, max_examples=PATH_EXAMPLES)
@given(data=st.data())
def test_hostile_paths_queries_and_methods_get_a_4xx_on_every_route(hostile_app, rollbar_api, data):
    """A hostile path value or query parameter a route reads, a method it does not take, or a path below it that
    nothing serves: a 4xx and one sentence, and nothing pages.
    """
    routes = _routes_of(hostile_app)
    route = data.draw(_route_strategy(routes), label="route")
    hostile = data.draw(hostile_path_or_query(route), label="path or query")
    kind = data.draw(st.sampled_from(["value", "method", "below"] if hostile is not None else ["method", "below"]))
    method, path, query = route.method, route.path(), route.legitimate.query
    if kind == "value":
        path, query = hostile
    elif kind == "method":
        taken = {r.method for r in routes if r.rule == route.rule}
        method = data.draw(st.sampled_from([m for m in METHODS if m not in taken]), label="method")
    else:
        below = data.draw(
            st.text(min_size=1, max_size=200)
            .filter(lambda t: t.strip("."))
            .map(lambda t: urllib.parse.quote(t, safe=""))
            | st.sampled_from(["%ff%fe", "%c0%af", "%ed%a0%80", "%00", "%"]),
            label="below",
        )
        path = path.rstrip("/") + "/" + below
    headers = {**route.legitimate.headers, **data.draw(hostile_trace_headers(), label="headers")}
    body = route.body() if route.reads_body else b""
    response, log_text = send(route.entry, method, path, data=body, headers=headers, query_string=query)
    assert_refused_quietly(response, log_text, rollbar_api)


IGNORED_EXAMPLES = 100


@OTHER_THREADS_USE_RANDOM
@settings(PROPERTY, max_examples=IGNORED_EXAMPLES)
@given(data=st.data())
def test_hostile_trace_headers_and_ignored_input_change_no_answer(hostile_app, rollbar_api, data):
    """Malformed trace headers, a body sent to a route that reads none, query parameters a route does not know: the
    answer is the clean request's, and nothing pages.
    """
    routes = _routes_of(hostile_app)
    route = data.draw(_route_strategy(routes), label="route")
    clean, _ = send_legitimate(route)
    assert 200 <= clean.status_code < 300
    headers = data.draw(hostile_trace_headers(), label="headers")
    body = None if route.reads_body else data.draw(st.binary(max_size=4096), label="ignored body")
    extra = data.draw(
        st.dictionaries(
            st.text(printable, min_size=1, max_size=20).filter(lambda k: k not in route.legitimate.query),
            st.text(max_size=100),
            max_size=3,
        ),
        label="unknown query",
    )
    route = dataclasses.replace(
        route, legitimate=dataclasses.replace(route.legitimate, query={**route.legitimate.query, **extra})
    )
    response, log_text = send_legitimate(route, extra_headers=headers, body=body)
    assert response.status_code == clean.status_code, response.get_data(as_text=True)[:500]
    assert_nothing_pages(log_text, rollbar_api)


_LISTED: list[tuple[Flask, list[Route]]] = []


def _routes_of(app: Flask) -> list[Route]:
    """public_routes(app), listed once per app (the property tests draw from them for every example)."""
    if not _LISTED or _LISTED[0][0] is not app:
        _LISTED[:] = [(app, public_routes(app))]
    return _LISTED[0][1]
