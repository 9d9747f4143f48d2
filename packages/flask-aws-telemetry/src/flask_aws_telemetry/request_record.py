"""What one request leaves behind for the telemetry: its record (ids, status, error, AWS calls), kept per context.

The gate starts a record for every request (``gate.SamplingGate``), the
anomaly capture reads it at the end (``capture``), the AWS call hooks add
their calls to it (``aws_calls``) and Flask's ``got_request_exception``
notes the error (``note_exception``).
"""

from __future__ import annotations

import contextvars
import time
from typing import Any

REASON_EXCEPTION = "exception"
REASON_SERVER_ERROR = "server_error"
REASON_SLOW = "slow"

_current: contextvars.ContextVar[RequestRecord | None] = contextvars.ContextVar(
    "flask_aws_telemetry_request_record", default=None
)


class AwsCall:
    """One AWS SDK call as its hooks saw it: enough to build its span and subsegment later."""

    __slots__ = ("client", "operation", "params", "start_ns", "end_ns", "response", "error")

    def __init__(self, client: Any, operation: str, params: dict[str, Any], start_ns: int) -> None:
        """A call of ``operation`` with ``params`` on ``client``, started at ``start_ns`` (epoch ns)."""
        self.client = client
        self.operation = operation
        self.params = params
        self.start_ns = start_ns
        self.end_ns = start_ns
        self.response: dict[str, Any] | None = None  # botocore's parsed response, errors included
        self.error: BaseException | None = None  # the exception the caller saw, if any


class RequestRecord:
    """What an anomaly's trace needs of one request, kept for every request in the cheapest form."""

    __slots__ = (
        "trace_id",
        "span_id",
        "sampled",
        "rule_name",
        "start_ns",
        "end_ns",
        "status",
        "request",
        "error",
        "calls",
    )

    def __init__(self, trace_id: int, span_id: int, *, sampled: bool, rule_name: str | None = None) -> None:
        """A request of trace ``trace_id`` whose server span is ``span_id``, starting now."""
        self.trace_id = trace_id
        self.span_id = span_id
        self.sampled = sampled
        self.rule_name = rule_name
        self.start_ns = time.time_ns()
        self.end_ns = 0
        self.status: str | None = None
        self.request: Any = (
            None  # werkzeug's request, for its matched route (Flask takes it out of the environ at the end)
        )
        self.error: BaseException | None = None
        self.calls: list[AwsCall] = []

    def anomaly(self, slow_ns: int) -> str | None:
        """Why the request is an anomaly (``REASON_*``), or None."""
        if self.error is not None:
            return REASON_EXCEPTION
        if self.status is not None and self.status[:1] == "5":
            return REASON_SERVER_ERROR
        if self.end_ns - self.start_ns > slow_ns:
            return REASON_SLOW
        return None


def current_record() -> RequestRecord | None:
    """The record of the request being handled on this thread (sampled or not), or None."""
    return _current.get()


def begin(record: RequestRecord) -> contextvars.Token[RequestRecord | None]:
    """``record`` is the current request's from now on; ``end`` with the token returned."""
    return _current.set(record)


def end(token: contextvars.Token[RequestRecord | None]) -> None:
    """The request of ``begin``'s token is over."""
    _current.reset(token)


def note_exception(_sender: Any, exception: BaseException, **_: Any) -> None:
    """Flask's got_request_exception: the current request ended in ``exception`` (Flask answers 500)."""
    record = _current.get()
    if record is not None:
        record.error = exception
