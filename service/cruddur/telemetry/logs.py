"""Structured logs: JSON lines on stdout and, when enabled, watchtower to CloudWatch Logs.

Every record carries the current trace: ``trace_id`` and ``span_id`` in
OpenTelemetry's hex form and ``xray_trace_id`` in X-Ray's ``1-...`` form,
so a log line, an X-Ray trace, a Honeycomb trace and a Rollbar item can be
joined on one id. (OpenTelemetry's logging instrumentation would add only
the hex ids and replaces the global record factory; this filter is local
to our handlers and adds the X-Ray form too.)
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import os
import socket
import sys
from typing import Any

from opentelemetry import trace

from .headers import xray_trace_id
from .ratelimit import RateLimitFilter

# Set by the X-Ray integration when only X-Ray (no OpenTelemetry) traces the request.
current_xray_trace_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("xray_trace_id", default=None)

HANDLER_MARK = "_cruddur_handler"

# Records from these loggers never go to watchtower: they are watchtower's own
# transport (botocore, urllib3) or its failure reports, and would loop back.
WATCHTOWER_EXCLUDED_PREFIXES = ("botocore", "boto3", "urllib3", "s3transfer", "watchtower", "py.warnings")


def current_trace_ids() -> dict[str, str | None]:
    """The active trace as trace_id and span_id (hex) and xray_trace_id, for logs and error reports."""
    span_context = trace.get_current_span().get_span_context()
    if span_context.is_valid:
        return {
            "trace_id": f"{span_context.trace_id:032x}",
            "span_id": f"{span_context.span_id:016x}",
            "xray_trace_id": xray_trace_id(span_context.trace_id),
        }
    return {"trace_id": None, "span_id": None, "xray_trace_id": current_xray_trace_id.get()}


class TraceContextFilter(logging.Filter):
    """Adds trace_id, span_id and xray_trace_id of the active trace to each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Annotate ``record``; never drops it."""
        record.__dict__.update(current_trace_ids())
        return True


_IDENTITIES: dict[tuple[str, str], dict[str, str]] = {}


def _identity(service: str, environment: str) -> dict[str, str]:
    """One shared mapping per identity, so formatters of the same service recognise each other's output."""
    return _IDENTITIES.setdefault((service, environment), {"service": service, "environment": environment})


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the trace fields and the service's identity."""

    def __init__(self, *, service: str, environment: str) -> None:
        """Stamp every line with ``service`` and ``environment``."""
        super().__init__()
        self._static = _identity(service, environment)

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record`` as JSON, once: stdout and watchtower share the rendering."""
        cached = record.__dict__.get("_cruddur_json")
        if cached is not None and cached[0] is self._static:
            return cached[1]
        document: dict[str, Any] = {
            "timestamp": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "trace_id": getattr(record, "trace_id", None),
            "span_id": getattr(record, "span_id", None),
            "xray_trace_id": getattr(record, "xray_trace_id", None),
            **self._static,
        }
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        rendered = json.dumps(document, default=str)
        record._cruddur_json = (self._static, rendered)
        return rendered


class _ExcludeLoggers(logging.Filter):
    def __init__(self, prefixes: tuple[str, ...]) -> None:
        super().__init__()
        self._prefixes = prefixes

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.name.startswith(self._prefixes)


class StdoutHandler(logging.StreamHandler):
    """Writes each record to whatever ``sys.stdout`` is when the record is emitted."""

    def __init__(self) -> None:
        """A stream handler without a fixed stream."""
        super().__init__(sys.stdout)

    @property  # type: ignore[override]
    def stream(self):  # noqa: D401
        """The current standard output."""
        return sys.stdout

    @stream.setter
    def stream(self, _value) -> None:
        pass


def _mark(handler: logging.Handler) -> logging.Handler:
    setattr(handler, HANDLER_MARK, True)
    return handler


def configure_logging(*, level: str, service: str, environment: str) -> logging.Handler:
    """Install the stdout JSON handler on the root logger (replacing ours from an earlier call)."""
    root = logging.getLogger()
    for existing in [h for h in root.handlers if getattr(h, HANDLER_MARK, False)]:
        root.removeHandler(existing)
    root.setLevel(level)
    handler = StdoutHandler()
    handler.setFormatter(JsonFormatter(service=service, environment=environment))
    handler.addFilter(TraceContextFilter())
    handler.addFilter(RateLimitFilter())
    root.addHandler(_mark(handler))
    # watchtower reports delivery failures as warnings from its sender thread;
    # route them through logging so the rate limit applies.
    logging.captureWarnings(True)
    return handler


def watchtower_handler(
    *, log_group: str, region: str, endpoint_url: str | None, service: str, environment: str
) -> logging.Handler:
    """A watchtower handler writing to the existing ``log_group``, one stream per process."""
    import boto3
    import watchtower
    from botocore.config import Config

    client = boto3.client(
        "logs",
        region_name=region,
        endpoint_url=endpoint_url or None,
        config=Config(
            connect_timeout=2,
            read_timeout=5,
            retries={"max_attempts": 2, "mode": "standard"},
            # watchtower builds well-formed batches; botocore checking every event of
            # every batch again was about a third of the CPU of shipping a record.
            parameter_validation=False,
        ),
    )
    handler = watchtower.CloudWatchLogHandler(
        log_group_name=log_group,
        log_stream_name=f"{service}/{socket.gethostname()}/{os.getpid()}",
        boto3_client=client,
        create_log_group=False,
        send_interval=5,
        max_batch_count=1000,
        use_queues=True,
    )
    handler.setFormatter(JsonFormatter(service=service, environment=environment))
    handler.addFilter(_ExcludeLoggers(WATCHTOWER_EXCLUDED_PREFIXES))
    handler.addFilter(TraceContextFilter())
    handler.addFilter(RateLimitFilter())
    logging.getLogger().addHandler(_mark(handler))
    return handler
