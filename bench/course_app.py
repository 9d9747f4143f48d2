"""The course's week-2 instrumentation around the project's own app, for ``make bench`` ("course setup").

    gunicorn --config gunicorn.conf.py --pythonpath <repo> 'bench.course_app:create_course_app()'

The reference is the course's backend (omenking/aws-bootcamp-cruddur-2023,
``backend-flask/app.py`` at e161d54030c9156e6f30c056acb64f77771ffacc, "fix
xray", the last week-2 commit of branch week-2-xray-subsegments): an SDK
``TracerProvider()`` with ``BatchSpanProcessor(OTLPSpanExporter())`` set as
the global provider, ``xray_recorder.configure(service='backend-flask',
dynamic_naming=os.getenv("AWS_XRAY_URL"))``, then ``XRayMiddleware(app,
xray_recorder)``, ``FlaskInstrumentor().instrument_app(app)`` and
``RequestsInstrumentor().instrument()``, in that order. The app instrumented
here is the project's (``cruddur.app:create_app``) with every part of the
project's telemetry switched off through its contract variables, so only the
instrumentation differs from the "telemetry off" configuration.

What is left as the course has it, and why:

* OpenTelemetry samples with the SDK's default sampler (``parentbased_always_on``:
  every request, health checks included, since the course excludes no URL);
  the exporter and the resource take ``OTEL_EXPORTER_OTLP_ENDPOINT`` and
  ``OTEL_SERVICE_NAME`` from the environment, as the course's docker-compose
  set them.
* The X-Ray SDK keeps its default sampler (centralized sampling). The course
  created a sampling rule (``aws/json/xray.json``: fixed rate 0.1, reservoir 5)
  that its daemon proxied to the SDK; the bench has no rules API behind the
  daemon stand-in (it takes UDP segments only), so the SDK falls back to its
  built-in local rule: the first request each second and 5 % of the others.
  That is what a user of the course gets until the rule is fetched, and it
  records fewer segments than the course's rule would, so if anything it
  favours the course setup. No rule is written here by hand.

Left out: the console exporter (``SimpleSpanProcessor(ConsoleSpanExporter())``,
on in the earlier week-2 commit 535712f, commented out by e161d54), flask-cors,
and the course's two hand-made records (a span in ``HomeActivities.run``, an
X-Ray subsegment in ``UserActivities.run``): the service functions here are
the project's, whose own child spans are off with its telemetry. Leaving them
out makes the course setup slightly cheaper than the course's, never dearer.
"""

from __future__ import annotations

import os

from aws_xray_sdk.core import xray_recorder
from aws_xray_sdk.ext.flask.middleware import XRayMiddleware
from flask import Flask
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.flask import FlaskInstrumentor
from opentelemetry.instrumentation.requests import RequestsInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from bench.course_contract import SERVICE_NAME, XRAY_URL_VARIABLE
from cruddur import contract
from cruddur.app import create_app

# The project's own telemetry, each part switched off by its contract variable.
PROJECT_TELEMETRY_OFF = {
    var.name: "false"
    for var in (contract.OTEL_ENABLED, contract.XRAY_ENABLED, contract.WATCHTOWER_ENABLED, contract.ROLLBAR_ENABLED)
}


def create_course_app() -> Flask:
    """The project's app, its telemetry off, instrumented as the course's week-2 backend is (gunicorn factory)."""
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    xray_recorder.configure(service=SERVICE_NAME, dynamic_naming=os.getenv(XRAY_URL_VARIABLE))
    trace.set_tracer_provider(provider)

    app = create_app(environ={**os.environ, **PROJECT_TELEMETRY_OFF})
    XRayMiddleware(app, xray_recorder)
    FlaskInstrumentor().instrument_app(app)
    RequestsInstrumentor().instrument()
    return app
