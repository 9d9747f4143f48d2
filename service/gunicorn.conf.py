"""gunicorn settings for the Cruddur service; the hooks are the telemetry's (``flask_aws_telemetry.gunicorn_hooks``).

* The settings, the app's and its telemetry's, are validated once in the
  master (``on_starting``), so a bad variable stops the container at once
  with one sentence naming it.
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

from cruddur import contract, seed
from cruddur.settings import Settings
from flask_aws_telemetry.gunicorn_hooks import on_starting_with, worker_exit

__all__ = ["on_starting", "worker_exit"]

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


# The app's settings hold the telemetry's: both are checked before any worker forks.
check_settings = on_starting_with(Settings.from_environ)


def on_starting(server) -> None:
    """Fail fast, in the master, on a bad environment variable; then seed the table once per task."""
    check_settings(server)
    # The course's mock data into an empty table, before any worker (a DynamoDB that is down is a warning).
    seed.seed_at_start(os.environ, server.log)
