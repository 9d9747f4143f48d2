"""The checks that the app's image fits the task's hardening, run once in gunicorn's master before any worker.

The task runs the app as a user without privileges, on a read-only root file
system with one writable volume (``APP_WRITABLE_PATH``). An image that needs
more fails at start with one sentence naming what to change, instead of at
the first write or never:

* running as root (uid 0) inside an ECS task: the image has no ``USER``;
* ``APP_WRITABLE_PATH`` missing, not a directory, or not writable: gunicorn
  keeps its worker heartbeat files there (``worker_tmp_dir``).

"Inside an ECS task" is what the ECS agent says: it sets
``ECS_CONTAINER_METADATA_URI_V4`` in every container it starts, and nothing
else does, so ``docker run`` on a laptop, as root or not, is not stopped.
"""

from __future__ import annotations

import os
import tempfile

from . import contract
from .settings import TelemetrySettings

# The uid of the image's user that the constructs' task definition also runs as.
SUGGESTED_USER = "10001"


def problem(settings: TelemetrySettings, *, uid: int | None = None) -> str | None:
    """The first way this process does not fit the task's hardening, as one sentence; None when it fits."""
    uid = os.geteuid() if uid is None else uid
    if uid == 0 and settings.on_ecs:
        return (
            f"the app runs as root (uid 0) in an ECS task; add `USER {SUGGESTED_USER}` to the image's Dockerfile "
            f"(after its last RUN, with `RUN useradd --uid {SUGGESTED_USER} --no-create-home app` before it) "
            "so that gunicorn and the app run without root"
        )
    return writable_path_problem(settings.process.app_writable_path)


def writable_path_problem(path: str) -> str | None:
    """Why ``path`` cannot take gunicorn's worker files, as one sentence; None when a file can be created there."""
    name = contract.APP_WRITABLE_PATH.name
    fix = (
        "the task mounts a writable volume there (its root file system is read-only), so set it to that volume's "
        "path and keep the image from writing anywhere else"
    )
    if not os.path.exists(path):
        return f"{name}={path!r} does not exist; {fix}"
    if not os.path.isdir(path):
        return f"{name}={path!r} is not a directory; {fix}"
    try:
        # What gunicorn does for each worker (WorkerTmp): create a file there and unlink it.
        descriptor, created = tempfile.mkstemp(prefix="wgunicorn-check-", dir=path)
    except OSError as error:
        reason = error.strerror or type(error).__name__
        return f"{name}={path!r} is not writable by uid {os.geteuid()} ({reason}); {fix}"
    os.close(descriptor)
    os.unlink(created)
    return None
