"""The Flask extension: ``Telemetry.install`` builds every part for one app; ``operation`` traces a unit of work.

The package's docstring (``flask_aws_telemetry``) is the manual.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from flask import Flask, current_app, has_app_context
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter

from . import (
    aws_calls,
    capture,
    contract,
    logs,
    process_instrumentation,
    provider,
    request_path,
    rollbar_reporter,
    sampling,
    xray,
)
from .browser_traces import BrowserTraceIngest
from .extension_key import EXTENSION_KEY
from .settings import TelemetrySettings

log = logging.getLogger("flask_aws_telemetry")

TRACER_NAME = "flask_aws_telemetry"


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
                    self._subsegment.put_annotation(contract.xray_annotation_key(key), value)
        except Exception:
            log.exception("could not record %s", key)


_NO_OP = Operation()


class Telemetry:
    """The telemetry of one app: tracer provider, X-Ray recorder, log handlers, Rollbar."""

    def __init__(self, settings: TelemetrySettings) -> None:
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
    def install(
        cls,
        app: Flask,
        settings: TelemetrySettings | None = None,
        *,
        span_exporter: SpanExporter | None = None,
        aws_clients: Iterable[Any] = (),
        quiet_paths: Iterable[str] | None = None,
        rate_limited_loggers: Iterable[str] = (),
    ) -> Telemetry:
        """Configure every enabled part for ``app`` and register it as ``app.extensions[EXTENSION_KEY]``.

        ``settings`` default to those parsed from ``os.environ``; ``span_exporter``
        replaces the OTLP exporter (tests, benchmarks); ``aws_clients`` (boto3
        clients) get a client span and an X-Ray subsegment per call of a recorded
        request; requests to ``quiet_paths`` write no request line (default: the
        health check, ``HEALTH_CHECK_PATH``);
        ``rate_limited_loggers`` (prefixes of the app's loggers whose failures could
        storm, a database that is down) are limited like the telemetry's own.
        """
        if settings is None:
            settings = TelemetrySettings.from_environ(os.environ)
        telemetry = cls(settings)
        rate_limited = tuple(rate_limited_loggers)
        # The lines the app's dashboards count are never rate limited, whatever prefix they share.
        counted = (settings.anomaly_logger, settings.request_logger)
        telemetry.stdout_handler = logs.configure_logging(
            level=settings.log_level,
            service=settings.service_name,
            environment=settings.environment,
            rate_limited_loggers=rate_limited,
            never_limited=counted,
        )
        if settings.watchtower_enabled:
            telemetry.watchtower_handler = logs.watchtower_handler(
                log_group=settings.watchtower_log_group or "",
                region=settings.aws_region,
                endpoint_url=settings.logs_endpoint_url,
                service=settings.service_name,
                environment=settings.environment,
                rate_limited_loggers=rate_limited,
                never_limited=counted,
            )
        if settings.xray_enabled:
            telemetry.xray_recorder = xray.build_recorder(settings, follow_opentelemetry=settings.otel_enabled)
        if settings.otel_enabled:
            telemetry.tracer_provider = provider.build_tracer_provider(settings, span_exporter)
            telemetry.tracer = telemetry.tracer_provider.get_tracer(TRACER_NAME)
            telemetry.sampler = provider.build_rules_sampler(settings, telemetry.tracer_provider.resource)
            process_instrumentation.instrument_process(
                telemetry.tracer_provider, http_conventions=settings.semconv_opt_in
            )
            if settings.browser_traces is not None:
                telemetry.browser_traces = BrowserTraceIngest(settings)
        telemetry.aws_calls = aws_calls.AwsCallTracing(
            tracer_provider=telemetry.tracer_provider, xray_recorder=telemetry.xray_recorder
        )
        if settings.otel_enabled or settings.xray_enabled:
            for client in aws_clients:
                telemetry.aws_calls.trace_client(client)
        if telemetry.tracer_provider is not None:
            telemetry.capture = capture.AnomalyCapture(
                tracer_provider=telemetry.tracer_provider,
                xray_recorder=telemetry.xray_recorder,
                aws_calls=telemetry.aws_calls,
                slow_request_seconds=settings.slow_request_seconds,
                # The setting is per task; each of its WEB_CONCURRENCY gunicorn workers is a process of its own.
                per_second=settings.anomaly_capture_per_second / settings.process.web_concurrency,
                anomaly_logger=settings.anomaly_logger,
                on_anomaly=telemetry.sampler.count_anomaly if telemetry.sampler is not None else None,
            )
        # The request's whole path, once: its WSGI layers and Flask hooks, in the order request_path.py lists them.
        request_path.install(
            app,
            settings,
            request_path.WsgiParts(
                tracer_provider=telemetry.tracer_provider,
                sampler=telemetry.sampler,
                xray_recorder=telemetry.xray_recorder,
                capture=telemetry.capture,
                browser_traces=telemetry.browser_traces.layer if telemetry.browser_traces is not None else None,
            ),
            quiet_paths=(settings.process.health_check_path,) if quiet_paths is None else quiet_paths,
        )
        app.extensions[EXTENSION_KEY] = telemetry
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
                record.set(contract.OPERATION_TIME_ATTRIBUTE, dt.datetime.now(dt.UTC).isoformat())
                yield record
            finally:
                if subsegment is not None:
                    self._end_subsegment()

    def _begin_subsegment(self, name: str) -> Any:
        if self.xray_recorder is None or xray.current_segment() is None:
            return None
        try:
            return self.xray_recorder.begin_subsegment(name)
        except Exception:
            log.exception("could not begin X-Ray subsegment %s", name)
            return None

    def _end_subsegment(self) -> None:
        try:
            self.xray_recorder.end_subsegment()
        except Exception:
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
            _run_bounded(rollbar_reporter.wait, deadline.remaining())
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
        except Exception:
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
    return current_app.extensions.get(EXTENSION_KEY)


@contextlib.contextmanager
def operation(name: str) -> Iterator[Operation]:
    """Trace a unit of work of the current app; a no-op outside an app or with telemetry off."""
    telemetry = current_telemetry()
    if telemetry is None:
        yield _NO_OP
        return
    with telemetry.operation(name) as record:
        yield record
