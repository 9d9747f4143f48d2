"""gunicorn's settings for a Flask app with the telemetry, in a task with a read-only root file system.

    gunicorn --config python:flask_aws_telemetry.gunicorn_config "app:create_app()"

or, in an app's own ``gunicorn.conf.py`` that adds or overrides settings::

    from flask_aws_telemetry.gunicorn_config import *

What it sets, from the contract's process variables (parsed once,
``ProcessSettings``; a bad value stops gunicorn with one sentence, exit 3):

* ``bind`` 0.0.0.0:``$PORT`` and ``workers`` ``$WEB_CONCURRENCY``: the task
  sets both, and the telemetry's per-task limits divide by the same worker
  count, so the two cannot disagree;
* ``gthread`` workers, ``preload_app`` off: each worker imports the app after
  fork, so every telemetry thread, socket and client is created in the worker
  that uses it;
* ``worker_tmp_dir`` ``$APP_WRITABLE_PATH``, the task's one writable volume,
  and no control socket (gunicorn >= 25 opens one under ``$HOME``; the
  container user has no home, and nothing manages workers at run time);
* ``keepalive`` above the load balancer's idle timeout, so the load balancer
  closes an idle connection first and never sends on one gunicorn closed;
* ``graceful_timeout`` inside the task's stop timeout: on SIGTERM workers
  finish their requests, then drain their telemetry (``worker_exit``) before
  ECS sends SIGKILL;
* the hooks of ``gunicorn_hooks``: ``on_starting`` (settings and hardening
  checked in the master) and ``worker_exit`` (drain).

gunicorn's own ``GUNICORN_CMD_ARGS`` and command-line options override any of
these (a test binds ``--bind 127.0.0.1:<port>``).
"""

from __future__ import annotations

import os

from . import contract
from .gunicorn_hooks import on_starting, stop, worker_exit
from .settings import ProcessSettings, SettingsError

__all__ = [
    "accesslog",
    "bind",
    "control_socket_disable",
    "errorlog",
    "graceful_timeout",
    "keepalive",
    "limit_request_field_size",
    "loglevel",
    "on_starting",
    "preload_app",
    "threads",
    "timeout",
    "worker_class",
    "worker_exit",
    "worker_tmp_dir",
    "workers",
]

# An Application Load Balancer closes a connection idle for 60 s (its default idle timeout).
LOAD_BALANCER_IDLE_TIMEOUT_SECONDS = 60

try:
    _process = ProcessSettings.from_environ(os.environ)
except SettingsError as error:
    stop(str(error))

bind = f"0.0.0.0:{_process.port}"
workers = _process.web_concurrency
worker_class = "gthread"
threads = 4
preload_app = False
timeout = 30
keepalive = LOAD_BALANCER_IDLE_TIMEOUT_SECONDS + 15
graceful_timeout = contract.STOP_TIMEOUT_SECONDS - 5
# Larger trace headers are refused with 400 by gunicorn itself.
limit_request_field_size = 8190
control_socket_disable = True
worker_tmp_dir = _process.app_writable_path
# The telemetry writes one request line per request (``<TELEMETRY_LOGGER_PREFIX>.request``); gunicorn's
# access log would be a second, without the trace ids.
accesslog = None
errorlog = "-"
loglevel = "info"
