"""flask_aws_telemetry: a Flask app's traces, logs and errors on ECS, for X-Ray, OpenTelemetry, CloudWatch, Rollbar.

Usage, in any Flask app::

    from flask_aws_telemetry import Telemetry, operation

    telemetry = Telemetry.install(app)             # settings parsed from os.environ, once per worker
    telemetry = Telemetry.install(app, settings)   # or given: a TelemetrySettings
    with operation("home-activities") as op:       # in a service function: a child span and an X-Ray subsegment
        op.set("app.result_length", len(results))

and in the app's ``gunicorn.conf.py`` (validate in the master, drain each worker)::

    from flask_aws_telemetry.gunicorn_hooks import on_starting, worker_exit

``Telemetry.install`` also takes ``aws_clients`` (boto3 clients whose calls
become client spans and subsegments), ``quiet_paths`` (health checks: no
request line) and ``span_exporter`` (tests). ``telemetry.shutdown(seconds)``
drains everything; ``gunicorn_hooks.worker_exit`` calls it.

Settings: ``flask_aws_telemetry.settings.TelemetrySettings.from_environ``
parses the environment variables of ``flask_aws_telemetry.contract`` once; a
bad value raises ``SettingsError`` naming the variable. An app with settings
of its own holds these (Cruddur's ``Settings.telemetry``). The contract also
names the sidecars' ports and containers and the stop timings, for the
constructs that build the task definition.

Environment variables: ``OTEL_SERVICE_NAME`` is required; every part is off
by default. Each part is switched on by its own variable:

* OpenTelemetry (``TELEMETRY_OTEL_ENABLED``): a server span for each request
  X-Ray's sampling rules sample, decided once, before any tracing work
  (``gate.SamplingGate``, ``sampling.XRayRulesSampler``: the account's rules
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

The request's whole path (every WSGI layer and Flask hook, in order) is in
``request_path``; one module per concern: ``gate`` (the sampling decision),
``provider`` (tracer provider, ids, export, propagators), ``route_naming``,
``process_instrumentation`` (the process-wide settings of OpenTelemetry),
``xray``, ``logs``, ``capture`` with ``request_record``, ``sampling``,
``headers``, ``ratelimit``, ``aws_calls``, ``browser_traces``,
``rollbar_reporter``. Nothing here writes the process environment.

JSON log lines on stdout always carry the trace ids. Nothing here may fail a
request: exporters run on background threads with short timeouts, request-path
hooks catch their own errors, and telemetry failures are logged at a bounded
rate (``ratelimit``).

Distributions it needs (pinned in ``service/requirements.txt``): Flask,
flask-cors, opentelemetry-sdk, opentelemetry-exporter-otlp-proto-http,
opentelemetry-instrumentation-wsgi, -requests and -botocore,
opentelemetry-propagator-aws-xray, opentelemetry-sdk-extension-aws,
aws-opentelemetry-distro (the X-Ray sampler), aws-xray-sdk, watchtower,
boto3, rollbar, limits and urllib3.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .extension import Operation, Telemetry, operation

__all__ = ["Operation", "Telemetry", "operation"]


def __getattr__(name: str) -> Any:
    """``Telemetry``, ``Operation`` and ``operation``, imported on first use.

    The package itself imports nothing, so ``flask_aws_telemetry.contract``
    can be imported without Flask or OpenTelemetry (the CDK app does).
    """
    if name in __all__:
        from . import extension

        return getattr(extension, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
