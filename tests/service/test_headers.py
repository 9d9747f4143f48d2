"""Trace-header hygiene, property-tested: malformed and oversized headers never reach a propagator."""

from __future__ import annotations

import logging

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from flask_aws_telemetry.headers import (
    MAX_TRACE_HEADER_LENGTH,
    drop_invalid_trace_headers,
    is_valid_traceparent,
    is_valid_xray_header,
    otel_trace_id,
    xray_trace_id,
)

hex_digits = "0123456789abcdef"


@given(st.integers(min_value=1, max_value=2**128 - 1))
def test_xray_and_otel_ids_round_trip(trace_id):
    """Converting an OpenTelemetry id to X-Ray form and back is lossless."""
    converted = xray_trace_id(trace_id)
    assert converted.startswith("1-") and len(converted) == 35
    assert otel_trace_id(converted) == trace_id


@given(
    st.text(alphabet=hex_digits, min_size=32, max_size=32).filter(lambda s: s != "0" * 32),
    st.text(alphabet=hex_digits, min_size=16, max_size=16).filter(lambda s: s != "0" * 16),
    st.sampled_from(["00", "01"]),
)
def test_well_formed_traceparents_are_kept(trace_id, span_id, flags):
    """Every well-formed traceparent passes untouched."""
    value = f"00-{trace_id}-{span_id}-{flags}"
    environ = {"HTTP_TRACEPARENT": value}
    assert drop_invalid_trace_headers(environ) == []
    assert environ["HTTP_TRACEPARENT"] == value


@given(st.text(max_size=600))
def test_arbitrary_text_is_kept_only_when_it_is_a_valid_traceparent(value):
    """Any other text is removed (and tracestate with it)."""
    environ = {"HTTP_TRACEPARENT": value, "HTTP_TRACESTATE": "k=v"}
    removed = drop_invalid_trace_headers(environ)
    if is_valid_traceparent(value):
        assert removed == [] and environ["HTTP_TRACEPARENT"] == value
    else:
        assert "HTTP_TRACEPARENT" not in environ and "HTTP_TRACESTATE" not in environ


@given(st.text(max_size=600))
def test_xray_headers_are_bounded_and_printable(value):
    """A kept X-Amzn-Trace-Id is at most 256 printable ASCII characters."""
    environ = {"HTTP_X_AMZN_TRACE_ID": value}
    drop_invalid_trace_headers(environ)
    if "HTTP_X_AMZN_TRACE_ID" in environ:
        kept = environ["HTTP_X_AMZN_TRACE_ID"]
        assert len(kept) <= MAX_TRACE_HEADER_LENGTH
        assert all(0x20 <= ord(c) <= 0x7E for c in kept)


def test_the_load_balancers_header_is_valid():
    """What an ALB adds (Root, optionally Self) is kept."""
    assert is_valid_xray_header("Root=1-5f0a3b2c-aaaaaaaaaaaaaaaaaaaaaaaa")
    assert is_valid_xray_header("Self=1-5f0a3b2c-bbbbbbbbbbbbbbbbbbbbbbbb;Root=1-5f0a3b2c-aaaaaaaaaaaaaaaaaaaaaaaa")
    assert not is_valid_xray_header("Root=1-5f0a3b2c-aaaa;Sampled=1")


def _propagator_warnings(caplog, header: str, value: str) -> list[str]:
    """What OpenTelemetry's W3C propagators log while extracting ``header: value``."""
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="opentelemetry"):
        carrier = {"traceparent": "00-" + "a" * 32 + "-" + "b" * 16 + "-01", header: value}
        W3CBaggagePropagator().extract(carrier)
        TraceContextTextMapPropagator().extract(carrier)
    return [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING]


VALID_BAGGAGE = ["userId=alice", "serverNode=DF%2028", "isProduction=false", "key1=value1;property1;property2"]
VALID_TRACESTATE = ["congo=t61rcWkgMzE", "rojo=00f067aa0ba902b7", "tenant@system=v"]
# Members as a client might write them: the specifications' examples, near misses, and any printable text.
baggage_members = st.sampled_from(
    ["userId=alice", "serverNode=DF%2028", "isProduction=false", "key1=value1;property1;property2", "k=v;p = q",
     "k = v", "k=", "=v", "k", "k=v w", "k=\"v\"", "ключ=v", ""]
) | st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=12)  # fmt: skip
tracestate_members = st.sampled_from(
    ["congo=t61rcWkgMzE", "rojo=00f067aa0ba902b7", "tenant@system=v", "k=v ", "K=v", "k=", "k=v,", "0k=v", ""]
) | st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=12)  # fmt: skip


@settings(
    max_examples=300, derandomize=True, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    header=st.sampled_from(["baggage", "tracestate"]),
    members=st.data(),
    separator=st.sampled_from([",", ", ", " ,\t"]),
)
def test_a_kept_tracestate_or_baggage_is_read_by_opentelemetry_without_a_warning(caplog, header, members, separator):
    """The guard keeps what the propagators read whole and drops the rest: a kept header makes no WARNING."""
    strategy = baggage_members if header == "baggage" else tracestate_members
    valid = st.sampled_from(VALID_BAGGAGE if header == "baggage" else VALID_TRACESTATE)
    # Half the headers are made of valid members only, so that the kept branch is exercised as much as the other.
    value = separator.join(
        members.draw(st.lists(valid, min_size=1, max_size=40, unique=True) | st.lists(strategy, max_size=40))
    )
    environ = {f"HTTP_{header.upper()}": value}
    drop_invalid_trace_headers(environ)
    event(f"{header} kept" if environ else f"{header} dropped")
    if environ:
        assert _propagator_warnings(caplog, header, value) == []


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("baggage", "userId=alice,serverNode=DF%2028,isProduction=false"),
        ("baggage", "key1=value1;property1;property2"),
        ("tracestate", "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"),
        ("tracestate", "tenant@system=v, other=w"),
    ],
)
def test_the_specifications_examples_are_kept(header, value):
    """The W3C specifications' own examples pass the guard untouched."""
    environ = {"HTTP_TRACEPARENT": "00-" + "a" * 32 + "-" + "b" * 16 + "-01", f"HTTP_{header.upper()}": value}
    assert drop_invalid_trace_headers(environ) == []


def test_a_hundred_malformed_baggage_members_are_one_dropped_header():
    """What made the propagator log a WARNING per member is dropped before it reads it."""
    environ = {"HTTP_BAGGAGE": ", ".join(["203.0.113.9"] * 100)}
    assert drop_invalid_trace_headers(environ) == ["HTTP_BAGGAGE"]
