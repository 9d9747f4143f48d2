"""What the collector does for X-Ray, one value per X-Ray path (the environment's ``telemetry.xray_path``).

``config/`` maps each path to one of these; ``components/collector_config.py``
renders the collector's receivers, extensions and exporters from it; the task
definition, the task role's actions and ``make cost`` read the same value.
"""

from __future__ import annotations

from enum import StrEnum

# The task role's X-Ray actions on each path; X-Ray offers no resource-level permissions for them.
# The daemon, or the collector's awsxray exporter in its place, sends segments (PutTraceSegments) and the
# telemetry records the daemon sends (PutTelemetryRecords: the exporter's ``telemetry`` setting); the daemon's
# TCP port, or the collector's awsxray receiver or awsproxy extension, forwards the app's sampling calls.
XRAY_SEGMENT_ACTIONS: tuple[str, ...] = (
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
)
# The collector's otlphttp exporter writes spans to X-Ray's OTLP endpoint (PutSpans, and
# PutSpansForIndexing for the spans Transaction Search indexes); its awsproxy forwards the sampling calls.
XRAY_OTLP_ACTIONS: tuple[str, ...] = (
    "xray:PutSpans",
    "xray:PutSpansForIndexing",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
)


class CollectorXRay(StrEnum):
    """The collector's part in getting traces to X-Ray.

    ``NONE``: the X-Ray daemon sidecar carries the SDK's segments; the
    collector sends to Honeycomb only.
    ``SDK_SEGMENTS``: the collector takes the daemon's place: its ``awsxray``
    receiver reads the X-Ray SDK's segments on UDP 2000 and serves the
    sampling rules on TCP 2000 (``proxy_server``); the ``awsxray`` exporter
    sends them with ``PutTraceSegments``. No daemon container.
    ``OTLP``: the OpenTelemetry spans go to X-Ray's OTLP endpoint (SigV4;
    the account needs Transaction Search); ``awsproxy`` serves sampling.
    ``OTEL_SEGMENTS``: the OpenTelemetry spans become segments in the
    ``awsxray`` exporter (``PutTraceSegments``; no Transaction Search);
    ``awsproxy`` serves sampling.
    """

    NONE = "none"
    SDK_SEGMENTS = "sdk-segments"
    OTLP = "otlp"
    OTEL_SEGMENTS = "otel-segments"

    @property
    def puts_trace_segments(self) -> bool:
        """The collector calls ``xray:PutTraceSegments`` (the ``awsxray`` exporter)."""
        return self in (CollectorXRay.SDK_SEGMENTS, CollectorXRay.OTEL_SEGMENTS)

    @property
    def serves_sampling(self) -> bool:
        """The collector answers the app's sampling calls on TCP 2000 (where the daemon would)."""
        return self is not CollectorXRay.NONE

    @property
    def task_role_actions(self) -> tuple[str, ...]:
        """The task role's X-Ray actions: OTLP's on the OTLP path, else segments' (the daemon's, or the awsxray
        exporter's in its place).
        """
        return XRAY_OTLP_ACTIONS if self is CollectorXRay.OTLP else XRAY_SEGMENT_ACTIONS
