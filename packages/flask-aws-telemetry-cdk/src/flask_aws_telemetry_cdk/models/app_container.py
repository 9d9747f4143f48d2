"""What the app container runs, for any Flask app: command, port, user, health checks, its own environment.

The configuration's ``app`` section (``config/sections.py`` ``AppConfig``)
builds it, with the library's values as defaults; the task definition construct
(``components/task_definition.py``) runs it beside the telemetry
sidecars, and the entry point checks ``health_check_path``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class AppContainer:
    """The app's process and how ECS and the entry point talk to it.

    ``command`` runs as ``user`` and listens on ``port`` (TCP);
    ``health_check_command`` is the container's own health check (exit 0:
    healthy), ``health_check_path`` the HTTP path the load balancer checks.
    ``stop_timeout_seconds`` (default 30) is how long ECS waits after
    SIGTERM before SIGKILL; ``writable_path`` (default /tmp) is the one
    writable directory of the read-only root file system. ``environment`` is
    the app's own variables; the telemetry's are the construct's business.
    """

    command: tuple[str, ...]
    health_check_command: tuple[str, ...]
    health_check_path: str
    port: int = 8000
    user: str = "10001"
    stop_timeout_seconds: int = 30
    writable_path: str = "/tmp"
    environment: Mapping[str, str] = field(default_factory=dict)
