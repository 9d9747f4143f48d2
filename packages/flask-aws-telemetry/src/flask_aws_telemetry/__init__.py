"""flask_aws_telemetry: a Flask app's traces, logs and errors on ECS, for X-Ray, OpenTelemetry, CloudWatch, Rollbar.

Usage, in any Flask app::

    from flask_aws_telemetry import Telemetry, operation

    telemetry = Telemetry.install(app)             # settings parsed from os.environ, once per worker
    telemetry = Telemetry.install(app, settings)   # or given: a TelemetrySettings
    with operation("home-activities") as op:       # in a service function: a child span and an X-Ray subsegment
        op.set("app.result_length", len(results))

run under gunicorn with the library's settings (bind, workers, hooks)::

    gunicorn --config python:flask_aws_telemetry.gunicorn_config "app:create_app()"

or, from an app's own ``gunicorn.conf.py``, ``from flask_aws_telemetry.gunicorn_config import *``
followed by what it adds or overrides; and the container's health check is::

    python -m flask_aws_telemetry.healthcheck

The public API is what ``__all__`` names, and nothing else:

* ``Telemetry`` (``Telemetry.install``, ``telemetry.shutdown(seconds)``),
  ``operation`` and the ``Operation`` it yields;
* ``TelemetrySettings`` (``TelemetrySettings.from_environ``), with its parts
  ``ProcessSettings`` and ``BrowserTraceLimits``; ``SettingsError``, which a
  bad variable raises with a sentence naming it and what is allowed; and
  ``EnvironReader``, for an app whose settings hold the telemetry's and add
  their own (it reads and reports variables the same way);
* ``EXTENSION_KEY``: where ``Telemetry.install`` keeps the app's telemetry
  in ``app.extensions``;
* ``parse_json_body(body, max_nesting=...)``: a request body as strict,
  bounded JSON, or a ``ValueError`` saying in one phrase what is wrong (the
  browser ingest's parser, for an app's own bodies: the standard library's
  ``json`` has no depth option, and a deeply nested body is a
  ``RecursionError``, a 500);
* the modules ``contract`` (every environment variable, port, container name
  and timing the task definition and the library share), ``gunicorn_config``,
  ``gunicorn_hooks`` (``on_starting``, ``on_starting_with``, ``worker_exit``)
  and ``healthcheck``.

Every other module is private: its names may change in any release.

``Telemetry.install`` also takes ``aws_clients`` (boto3 clients whose calls
become client spans and subsegments), ``quiet_paths`` (paths that write no
request line; default: the health check, ``HEALTH_CHECK_PATH``),
``rate_limited_loggers`` (the app's loggers whose failures could storm) and
``span_exporter`` (tests).

Settings: ``TelemetrySettings.from_environ`` parses the environment
variables of ``contract`` once; a bad value raises ``SettingsError`` naming
the variable. An app with settings of its own holds these (a field of type
``TelemetrySettings``). The contract also names the sidecars' ports and
containers and the stop timings, for the constructs that build the task
definition.

Environment variables: ``OTEL_SERVICE_NAME`` is required; every part is off
by default. The process variables (``PORT``, ``WEB_CONCURRENCY``,
``HEALTH_CHECK_PATH``, ``APP_WRITABLE_PATH``) are what gunicorn, the health
check and the hardening checks read; ``WEB_CONCURRENCY`` is also the number
the per-task limits below are shared by. ``TELEMETRY_LOGGER_PREFIX`` names
the loggers an app's dashboards count: ``<prefix>.anomalies`` and
``<prefix>.request``. Each part is switched on by its own variable:

* OpenTelemetry (``TELEMETRY_OTEL_ENABLED``): a server span for each request
  X-Ray's sampling rules sample, decided once, before any tracing work
  (the account's rules from the proxy at ``XRAY_SAMPLING_ENDPOINT``, the
  environment's ``XRAY_SAMPLING_RULES`` until then), X-Ray-compatible ids,
  exported OTLP/HTTP to ``OTEL_EXPORTER_OTLP_ENDPOINT`` + ``/v1/traces``
  (the collector).
* X-Ray SDK (``TELEMETRY_XRAY_ENABLED``): a segment per sampled request to
  the daemon at ``AWS_XRAY_DAEMON_ADDRESS``, with the same trace id and
  sampling decision as OpenTelemetry when both are on; alone, the SDK's own
  centralized sampler decides, with the same fallback rules.
* watchtower (``TELEMETRY_WATCHTOWER_ENABLED``): log records to the existing
  group ``WATCHTOWER_LOG_GROUP``, one stream per process.
* Rollbar (``TELEMETRY_ROLLBAR_ENABLED``): unhandled exceptions with the
  trace id; its token (``ROLLBAR_ACCESS_TOKEN``) is needed only when it is on.
* The frontend's spans (``BROWSER_TRACES_ENABLED``, with OpenTelemetry):
  ``POST /v1/traces`` from the ``FRONTEND_URL`` origins, checked and sent on
  to the collector; never traced itself.
* AWS SDK calls of recorded requests (``aws_clients``): a client span and an
  X-Ray subsegment each, built from botocore's event hooks by the
  libraries' own attribute extractors.
* Anomaly capture (with OpenTelemetry on): an unsampled request that answers
  5xx, raises, or is slower than ``TELEMETRY_SLOW_REQUEST_SECONDS`` is
  exported anyway, in both tracers, at most
  ``TELEMETRY_ANOMALY_CAPTURE_PER_SECOND`` a second per task.

JSON log lines on stdout always carry the trace ids. Nothing here may fail a
request: exporters run on background threads with short timeouts, request-path
hooks catch their own errors, and telemetry failures are logged at a bounded
rate. Nothing here writes the process environment.

For the library's maintainers: the request's whole path (every WSGI layer
and Flask hook, in order) is in ``request_path``; one module per concern:
``gate`` (the sampling decision), ``provider`` (tracer provider, ids,
export, propagators), ``route_naming``, ``process_instrumentation`` (the
process-wide settings of OpenTelemetry), ``xray``, ``logs``, ``capture``
with ``request_record``, ``sampling``, ``headers``, ``ratelimit``,
``aws_calls``, ``browser_traces``, ``json_body``, ``rollbar_reporter``, ``hardening``.

The distribution declares the ranges of what it needs (``pyproject.toml``):
Flask, flask-cors, gunicorn, the OpenTelemetry SDK, exporter,
instrumentations and AWS extensions, aws-opentelemetry-distro (the X-Ray
sampler), aws-xray-sdk, watchtower, boto3, rollbar, limits and urllib3.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from . import contract
from .extension_key import EXTENSION_KEY
from .json_body import parse_json_body
from .settings import BrowserTraceLimits, EnvironReader, ProcessSettings, SettingsError, TelemetrySettings

if TYPE_CHECKING:
    from . import gunicorn_config, gunicorn_hooks, healthcheck
    from .extension import Operation, Telemetry, operation

__all__ = [
    "EXTENSION_KEY",
    "BrowserTraceLimits",
    "EnvironReader",
    "Operation",
    "ProcessSettings",
    "SettingsError",
    "Telemetry",
    "TelemetrySettings",
    "contract",
    "gunicorn_config",
    "gunicorn_hooks",
    "healthcheck",
    "operation",
    "parse_json_body",
]

# Imported on first use: the package itself loads neither Flask nor OpenTelemetry, so ``contract`` and the
# settings can be imported by a CDK app, and gunicorn's master reads its config without loading the app's stack.
_LAZY_NAMES = {"Operation": "extension", "Telemetry": "extension", "operation": "extension"}
_LAZY_MODULES = ("gunicorn_config", "gunicorn_hooks", "healthcheck")


def __getattr__(name: str) -> Any:
    """``Telemetry``, ``Operation``, ``operation`` and the gunicorn and health-check modules, imported on first use."""
    if name in _LAZY_NAMES:
        return getattr(importlib.import_module(f".{_LAZY_NAMES[name]}", __name__), name)
    if name in _LAZY_MODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
