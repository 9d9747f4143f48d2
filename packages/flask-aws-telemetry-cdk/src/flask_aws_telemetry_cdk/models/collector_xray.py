"""What the collector does for X-Ray, one value per X-Ray path (the environment's ``telemetry.xray_path``).

``config/`` maps each path to one of these; ``components/collector_config.py``
renders the collector's receivers, extensions and exporters from it; the task
definition, the task role's actions and ``make cost`` read the same value.
"""

from __future__ import annotations

from enum import StrEnum


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
