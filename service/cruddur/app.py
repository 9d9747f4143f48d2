"""The application factory.

    gunicorn --config gunicorn.conf.py 'cruddur.app:create_app()'
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from flask import Flask

from .api import activities, health, messages
from .api.errors import register_error_handlers
from .settings import Settings
from .store import Store
from .telemetry import Telemetry

MAX_BODY_BYTES = 16 * 1024


def create_app(settings: Settings | None = None, *, environ: Mapping[str, str] | None = None, **telemetry_options) -> Flask:
    """Build the app; ``settings`` default to those parsed from ``environ`` (default: os.environ)."""
    if settings is None:
        settings = Settings.from_environ(os.environ if environ is None else environ)
    app = Flask(__name__)
    app.config.update(MAX_CONTENT_LENGTH=MAX_BODY_BYTES)
    app.json.sort_keys = False
    app.extensions["cruddur.settings"] = settings
    app.extensions["cruddur.store"] = Store.seeded()
    app.register_blueprint(health.bp)
    app.register_blueprint(activities.bp)
    app.register_blueprint(messages.bp)
    register_error_handlers(app)
    Telemetry.install(app, settings, **telemetry_options)
    return app
