"""Trace-header hygiene and id conversion between OpenTelemetry and X-Ray.

Malformed or oversized ``traceparent``, ``tracestate``, ``baggage`` and
``X-Amzn-Trace-Id`` headers are removed before any propagator reads them, so
a hostile or broken client starts a fresh trace instead of corrupting one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

MAX_TRACE_HEADER_LENGTH = 256
MAX_TRACESTATE_LENGTH = 512
MAX_BAGGAGE_LENGTH = 2048

_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")
_XRAY_ROOT = re.compile(r"^1-[0-9a-f]{8}-[0-9a-f]{24}$")
_XRAY_PARENT = re.compile(r"^[0-9a-f]{16}$")
_PRINTABLE = re.compile(r"^[\x20-\x7e]*$")


def is_valid_traceparent(value: str) -> bool:
    """True for a W3C traceparent of the right shape with non-zero ids."""
    if len(value) > MAX_TRACE_HEADER_LENGTH or not _TRACEPARENT.match(value):
        return False
    version, trace_id, span_id, _ = value.split("-")
    return version != "ff" and trace_id != "0" * 32 and span_id != "0" * 16


def is_valid_xray_header(value: str) -> bool:
    """True for an X-Amzn-Trace-Id whose Root, Parent and Sampled fields (where present) are well formed."""
    if len(value) > MAX_TRACE_HEADER_LENGTH or not _PRINTABLE.match(value):
        return False
    for part in value.split(";"):
        key, sep, field_value = part.strip().partition("=")
        if not sep:
            return False
        if key == "Root" and not _XRAY_ROOT.match(field_value):
            return False
        if key == "Parent" and not _XRAY_PARENT.match(field_value):
            return False
        if key == "Sampled" and field_value not in ("0", "1", "?"):
            return False
    return True


def _bounded_printable(limit: int) -> Callable[[str], bool]:
    return lambda value: len(value) <= limit and bool(_PRINTABLE.match(value))


# WSGI environ key -> validity check.
_CHECKS: dict[str, Callable[[str], bool]] = {
    "HTTP_TRACEPARENT": is_valid_traceparent,
    "HTTP_X_AMZN_TRACE_ID": is_valid_xray_header,
    "HTTP_TRACESTATE": _bounded_printable(MAX_TRACESTATE_LENGTH),
    "HTTP_BAGGAGE": _bounded_printable(MAX_BAGGAGE_LENGTH),
}


def drop_invalid_trace_headers(environ: dict[str, Any]) -> list[str]:
    """Remove the invalid trace headers from ``environ``; returns the keys removed."""
    removed = []
    for key, is_valid in _CHECKS.items():
        value = environ.get(key)
        if value is not None and not is_valid(value):
            del environ[key]
            removed.append(key)
    if "HTTP_TRACEPARENT" in removed:
        environ.pop("HTTP_TRACESTATE", None)  # tracestate is meaningless without its traceparent
    return removed


class TraceHeaderGuard:
    """WSGI middleware, outermost, that drops invalid trace headers before anything parses them."""

    def __init__(self, wsgi_app: Callable[..., Iterable[bytes]]) -> None:
        """Wrap ``wsgi_app``."""
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """Clean the headers, then call the wrapped app."""
        drop_invalid_trace_headers(environ)
        return self.wsgi_app(environ, start_response)


def xray_trace_id(otel_trace_id: int) -> str:
    """The X-Ray form ``1-<8 hex epoch>-<24 hex>`` of a 128-bit OpenTelemetry trace id."""
    hex_id = f"{otel_trace_id:032x}"
    return f"1-{hex_id[:8]}-{hex_id[8:]}"


def otel_trace_id(xray_id: str) -> int:
    """The 128-bit OpenTelemetry trace id of an X-Ray trace id."""
    if not _XRAY_ROOT.match(xray_id):
        raise ValueError(f"not an X-Ray trace id: {xray_id!r}")
    return int(xray_id[2:10] + xray_id[11:], 16)
