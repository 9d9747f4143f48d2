"""The end of the X-Ray SDKs' and daemon's support, and what synth says about it from that day on.

AWS put the X-Ray SDKs and daemon into maintenance on 25 February 2026 and
ends their support on ``XRAY_SDK_END_OF_SUPPORT`` (25 February 2027). From
that day, synthesizing an environment that still runs the daemon or records
with the X-Ray SDK warns once (``END_OF_SUPPORT_WARNING_ID``), naming the
one-line change; before it, nothing. The day synth judges by is today's in
UTC, or the CDK context value ``SYNTH_DATE_CONTEXT_KEY`` (an ISO date:
``cdk synth -c flask-aws-telemetry:synth-date=2027-03-01``), which is how
the tests fix the clock.
"""

from __future__ import annotations

import datetime as dt

from .errors import ConfigError
from .sections import TelemetryConfig, XRayPath

XRAY_SDK_END_OF_SUPPORT = dt.date(2027, 2, 25)
END_OF_SUPPORT_WARNING_ID = "flask-aws-telemetry:xray-sdk-end-of-support"
SYNTH_DATE_CONTEXT_KEY = "flask-aws-telemetry:synth-date"
# The page that says which path to choose and how to move without losing a trace.
MOVING_GUIDE = "docs/xray-after-2027.md"


def synth_date(context_value: object) -> dt.date:
    """The day synth judges support by: ``context_value`` (an ISO date) when given, else today in UTC."""
    if context_value is None:
        return dt.datetime.now(dt.UTC).date()
    try:
        return dt.date.fromisoformat(str(context_value))
    except ValueError:
        raise ConfigError(
            f"context {SYNTH_DATE_CONTEXT_KEY} = {context_value!r} is invalid; use an ISO date such as '2027-02-25', "
            "or leave it out for today's"
        ) from None


def end_of_support_warning(environment: str, telemetry: TelemetryConfig, today: dt.date) -> str | None:
    """The warning for ``environment`` on ``today`` (None before the end of support, or off the SDK and daemon)."""
    if today < XRAY_SDK_END_OF_SUPPORT or not telemetry.xray_sdk:
        return None
    ended = f"{XRAY_SDK_END_OF_SUPPORT:%d %B %Y}".lstrip("0")
    otel_change = "xray_path=XRayPath.OPENTELEMETRY_PUT_TRACE_SEGMENTS" + (
        "" if telemetry.opentelemetry else " and opentelemetry=True"
    )
    if telemetry.needs_xray_daemon:
        return (
            f"environment '{environment}' still sends X-Ray segments with the X-Ray SDK through the X-Ray daemon "
            f"(telemetry.xray_path = XRayPath.{telemetry.xray_path.name}), whose support ended on {ended}: set "
            "xray_path=XRayPath.XRAY_SDK_AND_COLLECTOR in its TelemetryConfig (the collector takes the daemon's "
            f"place), or move to OpenTelemetry with {otel_change} ({MOVING_GUIDE})"
        )
    assert telemetry.xray_path is XRayPath.XRAY_SDK_AND_COLLECTOR
    return (
        f"environment '{environment}' still records X-Ray segments with the X-Ray SDK "
        f"(telemetry.xray_path = XRayPath.{telemetry.xray_path.name}), whose support ended on {ended}: set "
        f"{otel_change} in its TelemetryConfig ({MOVING_GUIDE})"
    )
