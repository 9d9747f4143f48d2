"""AWS SDK calls (DynamoDB) of sampled requests, traced by the libraries' own botocore instrumentation.

* OpenTelemetry: ``opentelemetry-instrumentation-botocore`` makes each call a
  CLIENT span (``DynamoDB.Query``, with ``rpc.service``, ``rpc.method``,
  ``aws.dynamodb.table_names``, ...) under the request's span.
* X-Ray: the SDK's botocore patch (``aws_xray_sdk.core.patch``) makes each call
  an ``aws`` subsegment (``dynamodb``, with ``operation`` and ``table_name``),
  so the service map draws the service calling DynamoDB.

Both patch botocore for the whole process, and left alone they would trace
calls nobody asked for: every call of an unsampled request would pay for a
non-recording span, and the X-Ray patch, finding no segment, would log
"cannot find the current segment" each time; watchtower's and other
background threads' calls would start traces of their own. So one gate,
outermost, sends a call through the instrumentation only inside a request
that is being recorded (a recording span or a sampled X-Ray segment); every
other call goes straight to botocore's own function and pays for one
context-variable look-up.

Errors are recorded by the instrumentation itself: the span gets status
ERROR, the subsegment the exception (a fault or, for throttling, a throttle).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import botocore.client
import botocore.endpoint
import wrapt
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from .xray import current_segment

# botocore's own functions, before any instrumentation wraps them.
_UNTRACED: dict[str, Callable[..., Any]] = {
    "BaseClient._make_api_call": botocore.client.BaseClient._make_api_call,
    "Endpoint.prepare_request": botocore.endpoint.Endpoint.prepare_request,
}
_GATED_MODULES = {"BaseClient._make_api_call": "botocore.client", "Endpoint.prepare_request": "botocore.endpoint"}


def recording() -> bool:
    """True inside a request that OpenTelemetry or the X-Ray SDK is recording."""
    return trace.get_current_span().is_recording() or current_segment() is not None


def _gate(name: str) -> Callable[..., Any]:
    untraced = _UNTRACED[name]

    def only_when_recording(wrapped: Callable[..., Any], instance: Any, args: tuple, kwargs: dict) -> Any:
        if recording():
            return wrapped(*args, **kwargs)
        return untraced(instance, *args, **kwargs)

    return only_when_recording


_state: dict[str, bool] = {"gated": False}


def instrument(*, tracer_provider: TracerProvider | None, xray: bool) -> None:
    """Trace AWS SDK calls of recorded requests: as spans of ``tracer_provider``, and as X-Ray subsegments if ``xray``.

    The instrumentation is process-wide and installed once: the first app of a
    process (a gunicorn worker has one) owns its spans.
    """
    from opentelemetry.instrumentation.botocore import BotocoreInstrumentor

    if tracer_provider is not None:
        instrumentor = BotocoreInstrumentor()
        if not instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.instrument(tracer_provider=tracer_provider)
    if xray:
        from aws_xray_sdk.core import patch

        patch(("botocore",))
    if (tracer_provider is not None or xray) and not _state["gated"]:
        # Installed last, so it wraps both instrumentations and decides before either runs.
        for name, module in _GATED_MODULES.items():
            wrapt.wrap_function_wrapper(module, name, _gate(name))
        _state["gated"] = True
