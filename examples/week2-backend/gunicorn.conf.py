"""gunicorn settings for the week-2 example, with the library's hooks.

* ``on_starting`` (the library's) validates the telemetry's settings once in the master, so a bad variable
  stops the container at once with one sentence naming it (exit 3).
* ``preload_app`` is off: each worker builds the app after fork, so every telemetry thread, socket and client
  is created in the worker that uses it.
* ``worker_exit`` (the library's) drains the worker's spans, log records and Rollbar items before it exits;
  ``graceful_timeout`` keeps the whole stop inside the 30 s an ECS task is given after SIGTERM.

The address is ``0.0.0.0:$PORT`` (default 5000); a developer changes anything else with ``GUNICORN_CMD_ARGS``.
"""

from __future__ import annotations

import os

from healthcheck import DEFAULT_PORT, PORT

from flask_aws_telemetry.gunicorn_hooks import on_starting, worker_exit

# gunicorn reads its hooks from this module's names.
__all__ = ["on_starting", "worker_exit"]

bind = f"0.0.0.0:{os.environ.get(PORT, DEFAULT_PORT)}"
workers = 2
worker_class = "gthread"
threads = 4
preload_app = False
timeout = 30
keepalive = 75  # longer than a load balancer's 60 s idle timeout, so the load balancer closes first
graceful_timeout = 25
# gunicorn >= 25 opens a management socket under $HOME by default; the container user has none.
control_socket_disable = True
# The task's root file system is read-only; /tmp is the writable volume it mounts.
worker_tmp_dir = "/tmp"
accesslog = None
errorlog = "-"
loglevel = "info"
