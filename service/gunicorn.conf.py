"""gunicorn settings for the Cruddur service.

* The settings are validated once in the master (``on_starting``), so a bad
  variable stops the container at once with one sentence naming it.
* ``preload_app`` is off: each worker imports the app after fork, so every
  telemetry thread, socket and client (span exporter, X-Ray emitter,
  watchtower queue, Rollbar) is created in the worker that uses it.
* On SIGTERM (ECS stops the task) workers finish their requests, then
  ``worker_exit`` drains spans, log records and Rollbar items within
  ``SHUTDOWN_DRAIN_SECONDS``; ``graceful_timeout`` keeps the whole stop
  inside the task's ``stopTimeout``.

A test or a developer changes the address through gunicorn's own
``GUNICORN_CMD_ARGS`` (for example ``--bind 127.0.0.1:8080``).
"""

from __future__ import annotations

import os
import sys

from cruddur import contract, extensions, seed
from cruddur.settings import Settings, SettingsError

bind = f"0.0.0.0:{contract.CONTAINER_PORT}"
workers = contract.GUNICORN_WORKERS
worker_class = "gthread"
threads = 4
preload_app = False
timeout = 30
keepalive = 75  # longer than the ALB's 60 s idle timeout, so the ALB closes first
graceful_timeout = contract.STOP_TIMEOUT_SECONDS - 5
# Larger trace headers are refused with 400 by gunicorn itself.
limit_request_field_size = 8190
# gunicorn >= 25 opens a management socket under $HOME by default; the
# container user has no home, and nothing here manages workers at run time.
control_socket_disable = True
# The root file system is read-only in the task; this is the one writable path it declares.
worker_tmp_dir = contract.APP_TEMP_DIR
accesslog = None
errorlog = "-"
loglevel = "info"


def on_starting(server) -> None:
    """Fail fast, in the master, on a bad environment variable; then seed the table."""
    try:
        Settings.from_environ(os.environ)
    except SettingsError as error:
        print(f"cruddur: configuration error: {error}", file=sys.stderr, flush=True)
        sys.exit(3)
    # Once per task, before any worker: the course's mock data into an empty table (a DynamoDB down is a warning).
    seed.seed_at_start(os.environ, server.log)


def worker_exit(server, worker) -> None:
    """Drain this worker's telemetry before it exits."""
    app = getattr(worker, "wsgi", None)
    if app is None:
        return  # the app never loaded
    telemetry = getattr(app, "extensions", {}).get(extensions.TELEMETRY)
    if telemetry is not None:
        telemetry.shutdown(contract.SHUTDOWN_DRAIN_SECONDS)
