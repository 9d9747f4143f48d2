"""Trace-header hygiene and id conversion between OpenTelemetry and X-Ray.

Malformed or oversized ``traceparent``, ``tracestate``, ``baggage`` and
``X-Amzn-Trace-Id`` headers are removed before any propagator reads them, so
a hostile or broken client starts a fresh trace instead of corrupting one,
and no propagator logs about it: OpenTelemetry's logs a WARNING for each
baggage member it cannot read (a 2 KB header holds a hundred) and one for a
bad ``tracestate``. ``tracestate`` and ``baggage`` are checked against the
W3C grammars (Trace Context section 3.3, Baggage section 3), as strictly as
OpenTelemetry's propagators read them: a baggage key is followed by ``=``
without spaces, and a header with a member it would refuse is dropped whole.
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
# List members are separated by a comma with optional spaces or tabs around it; empty members are allowed.
_LIST_DELIMITER = re.compile(r"[ \t]*,[ \t]*")
_OWS = r"[ \t]*"
# W3C Trace Context: a key (simple or tenant@system), "=", a value of printable characters ending in a non-space.
_TRACESTATE_MEMBER = re.compile(
    r"(?:[a-z][_0-9a-z\-*/]{0,255}|[a-z0-9][_0-9a-z\-*/]{0,240}@[a-z][_0-9a-z\-*/]{0,13})"
    r"=[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]" + _OWS
)
MAX_TRACESTATE_MEMBERS = 32
# W3C Baggage: a key (an RFC 7230 token), "=", a value of baggage octets, then properties (key, or key=value).
_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_BAGGAGE_VALUE = r"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*"
_BAGGAGE_MEMBER = re.compile(rf"{_TOKEN}={_BAGGAGE_VALUE}(?:;{_OWS}{_TOKEN}{_OWS}(?:={_OWS}{_BAGGAGE_VALUE}{_OWS})?)*")
MAX_BAGGAGE_MEMBERS = 180


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


def _valid_members(value: str, limit: int, most: int, member: re.Pattern[str]) -> list[str] | None:
    """The members of a list header of at most ``limit`` printable characters and ``most`` members, each one
    ``member``; None for any other value.
    """
    if len(value) > limit or not _PRINTABLE.match(value):
        return None
    members = [m for m in _LIST_DELIMITER.split(value.strip(" \t")) if m]
    if len(members) > most or not all(member.fullmatch(m) for m in members):
        return None
    return members


def is_valid_tracestate(value: str) -> bool:
    """True for a W3C tracestate: at most 32 members ``key=value``, no key twice."""
    members = _valid_members(value, MAX_TRACESTATE_LENGTH, MAX_TRACESTATE_MEMBERS, _TRACESTATE_MEMBER)
    if members is None:
        return False
    keys = [m.partition("=")[0] for m in members]
    return len(keys) == len(set(keys))


def is_valid_baggage(value: str) -> bool:
    """True for a W3C baggage header OpenTelemetry's propagator reads whole: at most 180 members ``key=value;...``."""
    return _valid_members(value, MAX_BAGGAGE_LENGTH, MAX_BAGGAGE_MEMBERS, _BAGGAGE_MEMBER) is not None


# WSGI environ key -> validity check.
_CHECKS: dict[str, Callable[[str], bool]] = {
    "HTTP_TRACEPARENT": is_valid_traceparent,
    "HTTP_X_AMZN_TRACE_ID": is_valid_xray_header,
    "HTTP_TRACESTATE": is_valid_tracestate,
    "HTTP_BAGGAGE": is_valid_baggage,
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
