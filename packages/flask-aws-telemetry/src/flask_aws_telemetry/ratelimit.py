"""Bounded logging of telemetry failures: a backend that is down must not cause a log storm."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

# Loggers whose records describe telemetry failures (exporters, SDKs, our own glue); an app adds its own
# (``Telemetry.install(rate_limited_loggers=...)``).
TELEMETRY_LOGGER_PREFIXES = (
    "opentelemetry",
    "amazon.opentelemetry",
    "aws_xray_sdk",
    "rollbar",
    "watchtower",
    "py.warnings",
    "flask_aws_telemetry",
)


class RateLimitFilter(logging.Filter):
    """Lets at most ``burst`` telemetry records through per ``period_seconds`` for each logger prefix.

    Records from other loggers, and from the loggers named in ``exempt``
    (lines that are counted, such as ``<prefix>.anomalies`` under a
    telemetry prefix), pass untouched. When records were dropped, the next
    one let through says how many.
    """

    def __init__(
        self,
        *,
        burst: int = 5,
        period_seconds: float = 60.0,
        prefixes: tuple[str, ...] = TELEMETRY_LOGGER_PREFIXES,
        exempt: tuple[str, ...] = (),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Allow ``burst`` records per ``period_seconds`` for each of ``prefixes``, but never limit ``exempt``."""
        super().__init__()
        self._burst = burst
        self._period = period_seconds
        self._prefixes = prefixes
        self._exempt = frozenset(exempt)
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[float, int, int]] = {}  # prefix -> (window start, passed, dropped)

    def _prefix_of(self, name: str) -> str | None:
        if name in self._exempt:
            return None
        for prefix in self._prefixes:
            if name == prefix or name.startswith(prefix + "."):
                return prefix
        return None

    def filter(self, record: logging.LogRecord) -> bool:
        """True to emit ``record``; False once its prefix has used up the current window."""
        prefix = self._prefix_of(record.name)
        if prefix is None:
            return True
        now = self._clock()
        with self._lock:
            start, passed, dropped = self._windows.get(prefix, (now, 0, 0))
            if now - start >= self._period:
                start, passed = now, 0
            if passed >= self._burst:
                self._windows[prefix] = (start, passed, dropped + 1)
                return False
            self._windows[prefix] = (start, passed + 1, 0)
        if dropped:
            record.msg = f"{record.msg} ({dropped} similar telemetry messages suppressed)"
        return True


class DropCounter:
    """Counts what a limit drops, and says so in one log line per ``period_seconds`` at most.

    The line carries how many were dropped since the last one and in all, so
    a storm costs each dropped item a counter increment, not a log record.
    """

    def __init__(
        self,
        logger: logging.Logger,
        what: str,
        *,
        period_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Report drops of ``what`` (a sentence's subject) on ``logger``, at most once per ``period_seconds``."""
        self._logger = logger
        self._what = what
        self._period = period_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._last_report: float | None = None
        self._unreported = 0
        self.total = 0

    def drop(self) -> None:
        """Count one dropped item; log the count if the last report is ``period_seconds`` old (or there was none)."""
        now = self._clock()
        with self._lock:
            self.total += 1
            self._unreported += 1
            if self._last_report is not None and now - self._last_report < self._period:
                return
            self._last_report = now
            unreported, total, self._unreported = self._unreported, self.total, 0
        self._logger.warning("%s: %d dropped since the last report, %d in all", self._what, unreported, total)
