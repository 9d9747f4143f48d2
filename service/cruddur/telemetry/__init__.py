"""Telemetry for the Cruddur service, behind one entry point.

Usage::

    telemetry = Telemetry.install(app, settings)   # in create_app, once per worker
    with operation("home-activities") as op:       # in a service function
        op.set("app.result_length", len(results))
    telemetry.shutdown()                           # gunicorn worker_exit: drain everything

Each part is switched on by its own environment variable (``cruddur.contract``):

* OpenTelemetry (``TELEMETRY_OTEL_ENABLED``): a server span for each request
  X-Ray's sampling rules sample, decided once, before any tracing work
  (``otel.SamplingGate``, ``sampling.XRayRulesSampler``: the account's rules
  from the proxy at ``XRAY_SAMPLING_ENDPOINT``, the environment's
  ``XRAY_SAMPLING_RULES`` until then), X-Ray-compatible ids, exported
  OTLP/HTTP to ``OTEL_EXPORTER_OTLP_ENDPOINT`` + ``/v1/traces`` (the collector).
* X-Ray SDK (``TELEMETRY_XRAY_ENABLED``): a segment per sampled request to
  the daemon at ``AWS_XRAY_DAEMON_ADDRESS``, with the same trace id and
  sampling decision as OpenTelemetry when both are on; alone, the SDK's own
  centralized sampler decides, with the same fallback rules.
* watchtower (``TELEMETRY_WATCHTOWER_ENABLED``): log records to the existing
  group ``WATCHTOWER_LOG_GROUP``, one stream per process.
* Rollbar (``TELEMETRY_ROLLBAR_ENABLED``): unhandled exceptions with the trace id.
* The frontend's spans (``BROWSER_TRACES_ENABLED``, with OpenTelemetry):
  ``POST /v1/traces`` from the ``FRONTEND_URL`` origins, checked and sent on
  to the collector (``browser_traces``); never traced itself.
* DynamoDB calls of recorded requests (``aws_calls``): a client span and an
  X-Ray subsegment each, built from botocore's event hooks by the
  libraries' own attribute extractors.
* Anomaly capture (``capture``, with OpenTelemetry on): an unsampled request
  that answers 5xx, raises, or is slower than ``TELEMETRY_SLOW_REQUEST_SECONDS``
  is exported anyway, in both tracers, at most
  ``TELEMETRY_ANOMALY_CAPTURE_PER_SECOND`` a second per task.

Where things are: ``wsgi.build_wsgi_chain`` builds the request path (every
WSGI layer, listed in order) and ``Telemetry.install`` assigns it once, then
connects the Flask hooks; each module keeps its own per-request state and
hands it out through functions (``xray.current_segment``,
``logs.current_trace_ids``). Nothing here writes the process environment.

JSON log lines on stdout always carry the trace ids. Nothing here may fail a
request: exporters run on background threads with short timeouts, request-path
hooks catch their own errors, and telemetry failures are logged at a bounded
rate (``ratelimit``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from flask import Flask, current_app, got_request_exception, has_app_context
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter

from .. import contract, extensions
from ..settings import Settings
from . import aws_calls, capture, errors, logs, otel, sampling, xray
from .browser_traces import BrowserTraceIngest
from .wsgi import build_wsgi_chain

log = logging.getLogger("cruddur.telemetry")

# Where the app keeps its Telemetry (gunicorn.conf.py, tests and benchmarks look it up there).
TRACER_NAME = "cruddur"


class Operation:
    """What a service function records: attributes go to its span and its X-Ray subsegment."""

    def __init__(self, span: Any = None, subsegment: Any = None) -> None:
        """Wrap the active span and subsegment (either may be None)."""
        self._span = span
        self._subsegment = subsegment

    def set(self, key: str, value: Any) -> None:
        """Record ``key`` = ``value``; never raises."""
        try:
            if self._span is not None and self._span.is_recording():
                self._span.set_attribute(key, value)
            if self._subsegment is not None:
                self._subsegment.put_metadata(key, value, "app")
                if isinstance(value, (int, float, bool, str)):
                    self._subsegment.put_annotation(key.replace(".", "_"), value)
        except Exception:  # noqa: BLE001
            log.exception("could not record %s", key)


_NO_OP = Operation()


class Telemetry:
    """The telemetry of one app: tracer provider, X-Ray recorder, log handlers, Rollbar."""

    def __init__(self, settings: Settings) -> None:
        """Hold the parts; ``install`` builds them."""
        self.settings = settings
        self.tracer_provider: TracerProvider | None = None
        self.sampler: sampling.XRayRulesSampler | None = None
        self.tracer: Any = None
        self.xray_recorder: Any = None
        self.watchtower_handler: logging.Handler | None = None
        self.aws_calls: aws_calls.AwsCallTracing | None = None
        self.capture: capture.AnomalyCapture | None = None
        self.stdout_handler: logging.Handler | None = None
        self.browser_traces: BrowserTraceIngest | None = None

    @classmethod
    def install(cls, app: Flask, settings: Settings, *, span_exporter: SpanExporter | None = None) -> Telemetry:
        """Configure every enabled part for ``app`` and register it as ``app.extensions[extensions.TELEMETRY]``."""
        telemetry = cls(settings)
        telemetry.stdout_handler = logs.configure_logging(
            level=settings.log_level, service=settings.service_name, environment=settings.environment
        )
        if settings.watchtower_enabled:
            telemetry.watchtower_handler = logs.watchtower_handler(
                log_group=settings.watchtower_log_group or "",
                region=settings.aws_region,
                endpoint_url=settings.logs_endpoint_url,
                service=settings.service_name,
                environment=settings.environment,
            )
        if settings.xray_enabled:
            telemetry.xray_recorder = xray.build_recorder(settings, follow_opentelemetry=settings.otel_enabled)
        if settings.otel_enabled:
            telemetry.tracer_provider = otel.build_tracer_provider(settings, span_exporter)
            telemetry.tracer = telemetry.tracer_provider.get_tracer(TRACER_NAME)
            telemetry.sampler = otel.build_rules_sampler(settings, telemetry.tracer_provider.resource)
            otel.instrument_process(telemetry.tracer_provider, http_conventions=settings.semconv_opt_in)
            if settings.browser_traces is not None:
                telemetry.browser_traces = BrowserTraceIngest(settings)
        logs.install_request_lines(app)
        telemetry.aws_calls = aws_calls.AwsCallTracing(
            tracer_provider=telemetry.tracer_provider, xray_recorder=telemetry.xray_recorder
        )
        store = app.extensions.get(extensions.STORE)
        if store is not None and (settings.otel_enabled or settings.xray_enabled):
            telemetry.aws_calls.trace_client(store.client)
        if telemetry.tracer_provider is not None:
            telemetry.capture = capture.AnomalyCapture(
                tracer_provider=telemetry.tracer_provider,
                xray_recorder=telemetry.xray_recorder,
                aws_calls=telemetry.aws_calls,
                slow_request_seconds=settings.slow_request_seconds,
                # The setting is per task; each gunicorn worker is a process of its own.
                per_second=settings.anomaly_capture_per_second / contract.GUNICORN_WORKERS,
                on_anomaly=telemetry.sampler.count_anomaly if telemetry.sampler is not None else None,
            )
        # The request path, once (wsgi.py lists its layers in order); X-Ray follows OpenTelemetry's decision.
        app.wsgi_app = build_wsgi_chain(  # type: ignore[method-assign]
            app.wsgi_app,
            tracer_provider=telemetry.tracer_provider,
            sampler=telemetry.sampler,
            xray_recorder=telemetry.xray_recorder,
            browser_traces=telemetry.browser_traces.layer if telemetry.browser_traces is not None else None,
            capture=telemetry.capture,
        )
        # Flask's hooks and signals, in the order they are connected.
        if telemetry.capture is not None:
            got_request_exception.connect(capture.note_exception, app, weak=False)
        if telemetry.xray_recorder is not None:
            if settings.otel_enabled:
                xray.record_unhandled_exceptions(app, telemetry.xray_recorder)
            else:
                xray.install_middleware(app, telemetry.xray_recorder)
        if settings.rollbar_enabled:
            errors.install(app, settings)
        app.extensions[extensions.TELEMETRY] = telemetry
        log.info("telemetry started: %s", ", ".join(telemetry.enabled_parts()) or "logs only")
        return telemetry

    def enabled_parts(self) -> list[str]:
        """The names of the parts that are on."""
        s = self.settings
        flags = {
            "opentelemetry": s.otel_enabled,
            "xray": s.xray_enabled,
            "watchtower": s.watchtower_enabled,
            "rollbar": s.rollbar_enabled,
            "browser traces": s.browser_traces is not None,
        }
        return [name for name, on in flags.items() if on]

    @contextlib.contextmanager
    def operation(self, name: str) -> Iterator[Operation]:
        """A child span and an X-Ray subsegment named ``name`` around a unit of work.

        Each is recorded only inside a request its tracer sampled; an
        unsampled request pays for two checks and no span.
        """
        recording = self.tracer is not None and trace.get_current_span().is_recording()
        span_cm = self.tracer.start_as_current_span(name) if recording else contextlib.nullcontext()
        with span_cm as span:
            subsegment = self._begin_subsegment(name)
            try:
                if span is None and subsegment is None:
                    yield _NO_OP
                    return
                record = Operation(span, subsegment)
                record.set("app.now", dt.datetime.now(dt.timezone.utc).isoformat())
                yield record
            finally:
                if subsegment is not None:
                    self._end_subsegment()

    def _begin_subsegment(self, name: str) -> Any:
        if self.xray_recorder is None or xray.current_segment() is None:
            return None
        try:
            return self.xray_recorder.begin_subsegment(name)
        except Exception:  # noqa: BLE001
            log.exception("could not begin X-Ray subsegment %s", name)
            return None

    def _end_subsegment(self) -> None:
        try:
            self.xray_recorder.end_subsegment()
        except Exception:  # noqa: BLE001
            log.exception("could not end X-Ray subsegment")

    def shutdown(self, timeout_seconds: float = 10.0) -> None:
        """Drain spans, log records and Rollbar items, within ``timeout_seconds`` in all."""
        deadline = _Deadline(timeout_seconds)
        if self.sampler is not None:
            self.sampler.shutdown(min(1.0, deadline.remaining()))
        if self.tracer_provider is not None:
            provider = self.tracer_provider
            _run_bounded(lambda: provider.force_flush(int(deadline.remaining() * 1000)), deadline.remaining())
            _run_bounded(provider.shutdown, deadline.remaining())
        if self.settings.rollbar_enabled:
            _run_bounded(errors.wait, deadline.remaining())
        if self.watchtower_handler is not None:
            handler = self.watchtower_handler
            _run_bounded(handler.close, deadline.remaining())
            logging.getLogger().removeHandler(handler)
        if self.stdout_handler is not None:
            self.stdout_handler.flush()


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self._end = time.monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self._end - time.monotonic())


def _run_bounded(work: Callable[[], Any], seconds: float) -> bool:
    """Run ``work`` on a daemon thread; give up waiting after ``seconds``. True if it finished."""
    done = threading.Event()

    def target() -> None:
        try:
            work()
        except Exception:  # noqa: BLE001
            log.exception("telemetry shutdown step failed")
        finally:
            done.set()

    threading.Thread(target=target, name="telemetry-shutdown", daemon=True).start()
    finished = done.wait(seconds)
    if not finished:
        log.warning("telemetry shutdown step did not finish within %.1fs", seconds)
    return finished


def current_telemetry() -> Telemetry | None:
    """The telemetry of the current Flask app, or None outside an app."""
    if not has_app_context():
        return None
    return current_app.extensions.get(extensions.TELEMETRY)


@contextlib.contextmanager
def operation(name: str) -> Iterator[Operation]:
    """Trace a unit of work of the current app; a no-op outside an app or with telemetry off."""
    telemetry = current_telemetry()
    if telemetry is None:
        yield _NO_OP
        return
    with telemetry.operation(name) as record:
        yield record
