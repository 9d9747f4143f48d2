"""What OpenTelemetry sets for the whole process, not per app: HTTP conventions, propagators, outgoing ``requests``.

The only process-wide state the telemetry changes; everything else is held
by the app's ``Telemetry``. Nothing here writes the process environment.
"""

from __future__ import annotations

from opentelemetry.instrumentation._semconv import (
    _OpenTelemetrySemanticConventionStability,
    _OpenTelemetryStabilitySignalType,
    _StabilityMode,
)
from opentelemetry.instrumentation.requests import RequestsInstrumentor
from opentelemetry.sdk.trace import TracerProvider

from .provider import install_propagators


def instrument_process(provider: TracerProvider, *, http_conventions: str) -> None:
    """What OpenTelemetry sets for the whole process: HTTP conventions, propagators, outgoing ``requests`` calls.

    Runs before any server span middleware is built: each instrumentation
    reads its HTTP conventions when it is built.
    """
    use_http_conventions(http_conventions)
    install_propagators()
    requests_instrumentor = RequestsInstrumentor()
    if not requests_instrumentor.is_instrumented_by_opentelemetry:
        requests_instrumentor.instrument(tracer_provider=provider)


def use_http_conventions(opt_in: str) -> None:
    """HTTP spans built from now on follow ``opt_in`` (``OTEL_SEMCONV_STABILITY_OPT_IN``'s ``http`` or ``http/dup``).

    The instrumentations keep their conventions in one table per process,
    filled from the environment variable the first time one is built; the
    setting is handed to that table, as parsed, instead of being written
    back into the process environment. Only the HTTP row is set: the other
    signals keep what the environment says.
    """
    stability = _OpenTelemetrySemanticConventionStability
    stability._initialize()
    stability._OTEL_SEMCONV_STABILITY_SIGNAL_MAPPING[_OpenTelemetryStabilitySignalType.HTTP] = _StabilityMode(opt_in)
