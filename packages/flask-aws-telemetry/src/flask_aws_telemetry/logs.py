"""Structured logs: JSON lines on stdout and, when enabled, watchtower to CloudWatch Logs.

Every record carries the current trace: ``trace_id`` and ``span_id`` in
OpenTelemetry's hex form and ``xray_trace_id`` in X-Ray's ``1-...`` form,
so a log line, an X-Ray trace, a Honeycomb trace and a Rollbar item can be
joined on one id. (OpenTelemetry's logging instrumentation would add only
the hex ids and replaces the global record factory; this filter is local
to our handlers and adds the X-Ray form too.)

Every request the app serves (health checks aside) ends with one *request
line* (``install_request_lines``), logger ``<TELEMETRY_LOGGER_PREFIX>.request``
(``myapp.request`` below), level INFO::

    {"timestamp": "...", "level": "INFO", "logger": "myapp.request",
     "message": "GET /api/activities/home 200 12.4 ms", "trace_id": "...", "span_id": "...",
     "xray_trace_id": "1-...", "http_method": "GET", "http_route": "/api/activities/home",
     "http_status": 200, "duration_ms": 12.4, "service": "myapp-backend", "environment": "dev"}

``http_route`` is the Flask rule that matched (null when none did), so a
scanner's random paths never make a route of their own; ``duration_ms`` is
the time from Flask's first hook to its last. The saved CloudWatch Logs
Insights queries of the constructs read these fields.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import logging.handlers
import os
import socket
import sys
import threading
import time
from typing import Any

from flask import Flask, Response, g, request
from opentelemetry import trace

from . import contract, xray
from .headers import xray_trace_id
from .ratelimit import TELEMETRY_LOGGER_PREFIXES, RateLimitFilter

HANDLER_MARK = "_flask_aws_telemetry_handler"
# A record's own fields for its JSON line (``extra={LINE_FIELDS: {...}}``), after the trace fields.
LINE_FIELDS = "line_fields"

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
    # Only the X-Ray SDK (no OpenTelemetry) traces the request, if anything does.
    return {"trace_id": None, "span_id": None, "xray_trace_id": xray.current_trace_id()}


class TraceContextFilter(logging.Filter):
    """Adds trace_id, span_id and xray_trace_id of the active trace to each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Annotate ``record`` (once: stdout's and watchtower's filters see the same record); never drops it."""
        if "trace_id" not in record.__dict__:
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
        cached = record.__dict__.get("_flask_aws_telemetry_json")
        if cached is not None and cached[0] is self._static:
            return cached[1]
        document: dict[str, Any] = {
            "timestamp": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "trace_id": getattr(record, "trace_id", None),
            "span_id": getattr(record, "span_id", None),
            "xray_trace_id": getattr(record, "xray_trace_id", None),
            **record.__dict__.get(LINE_FIELDS, {}),
            **self._static,
        }
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        rendered = json.dumps(document, default=str)
        record._flask_aws_telemetry_json = (self._static, rendered)
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

    @property
    def stream(self):
        """The current standard output."""
        return sys.stdout

    @stream.setter
    def stream(self, _value) -> None:
        pass


class BurstHandler(logging.handlers.MemoryHandler):
    """Holds records and hands them to ``target`` in bursts, from its own thread.

    watchtower wakes its sender thread for every record it is handed: under
    load, that wake-up (a context switch and a hand-over of the GIL per log
    line) cost more than shipping the record. Handed over in bursts, every
    ``interval`` seconds or as soon as ``capacity`` records wait, the sender
    wakes once per burst, and a request thread only appends to a list. The
    request's trace is on the record already (filters run here, when the
    record is logged); ``close()`` hands over what is left and closes
    ``target``, so a clean stop loses no record.
    """

    def __init__(self, target: logging.Handler, *, capacity: int = 512, interval: float = 1.0) -> None:
        """Buffer for ``target``; a daemon thread flushes every ``interval`` seconds, sooner at ``capacity``."""
        super().__init__(capacity, flushLevel=logging.CRITICAL + 1, target=target, flushOnClose=True)
        self._interval = interval
        self._due = threading.Event()
        self._stopped = threading.Event()
        self._flusher = threading.Thread(target=self._run, name="flask-aws-telemetry-log-burst", daemon=True)
        self._flusher.start()

    def shouldFlush(self, record: logging.LogRecord) -> bool:
        """Never on the logging thread: at ``capacity``, wake the flusher instead."""
        if len(self.buffer) >= self.capacity:
            self._due.set()
        return False

    def flush(self) -> None:
        """Hand every held record to ``target``; the lock is held only to take the list."""
        lock = self.lock
        assert lock is not None, "logging.Handler creates its lock in __init__"
        with lock:
            records, self.buffer = self.buffer, []
            target = self.target
        if target is None:
            return
        for record in records:
            target.handle(record)

    def close(self) -> None:
        """Stop the flusher, hand over what is left, close ``target``."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        self._due.set()
        self._flusher.join(timeout=self._interval + 1)
        target = self.target
        super().close()  # flushes (flushOnClose) and lets go of the target
        if target is not None:
            target.close()

    def _run(self) -> None:
        while not self._stopped.is_set():
            self._due.wait(self._interval)
            self._due.clear()
            try:
                self.flush()
            except Exception:
                logging.getLogger("flask_aws_telemetry.logs").exception("could not hand log records to CloudWatch Logs")


def _mark(handler: logging.Handler) -> logging.Handler:
    setattr(handler, HANDLER_MARK, True)
    return handler


def configure_logging(
    *,
    level: str,
    service: str,
    environment: str,
    rate_limited_loggers: tuple[str, ...] = (),
    never_limited: tuple[str, ...] = (),
) -> logging.Handler:
    """Install the stdout JSON handler on the root logger (replacing ours from an earlier call).

    ``rate_limited_loggers`` are the app's loggers whose failures could storm
    too (a database that is down); they are limited like the telemetry's own.
    ``never_limited`` are loggers whose every line counts (the anomaly and
    request lines), let through whatever prefix they share.
    """
    root = logging.getLogger()
    for existing in [h for h in root.handlers if getattr(h, HANDLER_MARK, False)]:
        root.removeHandler(existing)
    root.setLevel(level)
    handler = StdoutHandler()
    handler.setFormatter(JsonFormatter(service=service, environment=environment))
    handler.addFilter(TraceContextFilter())
    handler.addFilter(
        RateLimitFilter(prefixes=(*TELEMETRY_LOGGER_PREFIXES, *rate_limited_loggers), exempt=never_limited)
    )
    root.addHandler(_mark(handler))
    # watchtower reports delivery failures as warnings from its sender thread;
    # route them through logging so the rate limit applies.
    logging.captureWarnings(True)
    return handler


def install_request_lines(
    app: Flask,
    *,
    logger_name: str = contract.request_logger(contract.DEFAULT_LOGGER_PREFIX),
    quiet_paths: frozenset[str] = frozenset(),
) -> None:
    """Log one request line (module docstring) to ``logger_name`` at the end of each request to ``app``, but those
    to ``quiet_paths``.

    Health checks are quiet: the load balancer and ECS ask every few seconds,
    and their lines would be most of the log and none of its questions.
    """
    request_log = logging.getLogger(logger_name)

    @app.before_request
    def start_clock() -> None:
        g.flask_aws_telemetry_request_started = time.perf_counter()

    @app.after_request
    def log_request_line(response: Response) -> Response:
        try:
            if request.path not in quiet_paths and request_log.isEnabledFor(logging.INFO):
                started = g.get("flask_aws_telemetry_request_started")
                duration_ms = round((time.perf_counter() - started) * 1000, 1) if started is not None else None
                method, status = request.method, response.status_code
                route = request.url_rule.rule if request.url_rule is not None else None
                request_log.info(
                    "%s %s %s %s ms",
                    method,
                    route or "(no route)",
                    status,
                    duration_ms,
                    extra={
                        LINE_FIELDS: {
                            "http_method": method,
                            "http_route": route,
                            "http_status": status,
                            "duration_ms": duration_ms,
                        }
                    },
                )
        except Exception:
            logging.getLogger("flask_aws_telemetry.logs").exception("could not log the request line")
        return response


def watchtower_handler(
    *,
    log_group: str,
    region: str,
    endpoint_url: str | None,
    service: str,
    environment: str,
    rate_limited_loggers: tuple[str, ...] = (),
    never_limited: tuple[str, ...] = (),
) -> logging.Handler:
    """A watchtower handler writing to the existing ``log_group``, one stream per process, fed in bursts.

    The handler returned is the ``BurstHandler`` in front of watchtower's (on
    the root logger); closing it ships what is held and closes watchtower's.
    """
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
    # Filters run in front, on the logging thread: the trace ids are those of the request.
    burst = BurstHandler(handler)
    burst.addFilter(_ExcludeLoggers(WATCHTOWER_EXCLUDED_PREFIXES))
    burst.addFilter(TraceContextFilter())
    burst.addFilter(RateLimitFilter(prefixes=(*TELEMETRY_LOGGER_PREFIXES, *rate_limited_loggers), exempt=never_limited))
    logging.getLogger().addHandler(_mark(burst))
    return burst
