"""The application factory.

gunicorn --config gunicorn.conf.py 'cruddur.app:create_app()'
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask
from flask.json.provider import DefaultJSONProvider
from flask_cors import CORS

from flask_aws_telemetry import Telemetry

from . import contract, extensions, seed
from .api import activities, health, messages
from .api.errors import register_error_handlers
from .settings import Settings
from .store import Store

MAX_BODY_BYTES = 16 * 1024


class _InsertionOrderJSON(DefaultJSONProvider):
    """Flask's JSON, with keys in the order the API built them."""

    sort_keys = False


def create_app(
    settings: Settings | None = None, *, environ: Mapping[str, str] | None = None, **telemetry_options: Any
) -> Flask:
    """Build the app; ``settings`` default to those parsed from ``environ`` (default: os.environ)."""
    if settings is None:
        settings = Settings.from_environ(os.environ if environ is None else environ)
    app = Flask(__name__, static_folder=None)  # an API: Flask's /static/<path:filename> would serve nothing
    app.config.update(MAX_CONTENT_LENGTH=MAX_BODY_BYTES)
    app.json = _InsertionOrderJSON(app)
    app.extensions[extensions.SETTINGS] = settings
    app.extensions[extensions.STORE] = store = Store(
        settings.dynamodb_table_name, region=settings.telemetry.aws_region, endpoint_url=settings.dynamodb_endpoint_url
    )
    # The frontend's origins only; no origin is allowed unless the contract names it.
    CORS(
        app,
        resources={r"/api/*": {"origins": list(settings.telemetry.frontend_origins)}},
        methods=["GET", "HEAD", "POST", "OPTIONS"],
        allow_headers=["Content-Type", "Accept", "If-Modified-Since", "traceparent", "X-Amzn-Trace-Id"],
        expose_headers=["Location", "Link"],
    )
    app.register_blueprint(health.bp)
    app.register_blueprint(activities.bp)
    app.register_blueprint(messages.bp)
    register_error_handlers(app)
    # The store's DynamoDB calls are traced and its failures logged at a bounded rate;
    # health checks write no request line.
    Telemetry.install(
        app,
        settings.telemetry,
        aws_clients=(store.client,),
        quiet_paths=(contract.HEALTH_CHECK_PATH,),
        rate_limited_loggers=("cruddur.store",),
        **telemetry_options,
    )
    seed.init_app(app)  # flask init-db; building the app never seeds
    return app
