"""gunicorn settings for the Cruddur service: the telemetry library's, and Cruddur's seeding.

Everything but the seeding is ``flask_aws_telemetry.gunicorn_config``: the
address (0.0.0.0:``$PORT``) and the workers (``$WEB_CONCURRENCY``), which
Cruddur's task sets to ``cruddur.contract.PROCESS_ENVIRONMENT``; gthread
workers, the app imported after fork, the worker files in
``$APP_WRITABLE_PATH``, the keep-alive and graceful timeouts; its hooks
check the settings and the image's hardening in the master and drain each
worker on exit. Cruddur's ``on_starting`` checks Cruddur's settings (which
hold the telemetry's) the same way, then seeds the table once per task.

A test or a developer changes the address through gunicorn's own
``GUNICORN_CMD_ARGS`` (for example ``--bind 127.0.0.1:8080``).
"""

from __future__ import annotations

import os

from cruddur import seed
from cruddur.settings import Settings
from flask_aws_telemetry.gunicorn_config import *  # noqa: F403
from flask_aws_telemetry.gunicorn_hooks import on_starting_with

# The app's settings hold the telemetry's: both, and the hardening, are checked before any worker forks.
check_settings = on_starting_with(Settings.from_environ)


def on_starting(server) -> None:
    """Fail fast, in the master, on a bad variable or image; then seed the table once per task."""
    check_settings(server)
    # The course's mock data into an empty table, before any worker (a DynamoDB that is down is a warning).
    seed.seed_at_start(os.environ, server.log)
