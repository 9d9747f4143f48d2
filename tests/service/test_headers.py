"""Trace-header hygiene, property-tested: malformed and oversized headers never reach a propagator."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

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
