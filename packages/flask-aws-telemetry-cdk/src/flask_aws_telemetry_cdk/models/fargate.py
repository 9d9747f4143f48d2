"""The plain values the Fargate service's constructs take: where requests enter, the night schedule, the sidecars' room.

No CDK import: the configuration (``config/``) builds and checks
these without loading the CDK, so ``make secrets``, ``make cost`` and the
benchmarks read an environment in milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# What the sidecars reserve in every task (sidecars.py), and what the app needs beside them:
# gunicorn with 2 workers and every telemetry part on measured 214 MiB RSS.
# The configuration checks that a task size holds them (config/environment.py).
XRAY_DAEMON_CPU_UNITS = 32
XRAY_DAEMON_MEMORY_RESERVATION_MIB = 64
COLLECTOR_CPU_UNITS = 128
COLLECTOR_MEMORY_RESERVATION_MIB = 256
APP_MIN_MEMORY_MIB = 256
APP_MIN_CPU_UNITS = 64


class EntryPoint(StrEnum):
    """How requests reach the tasks."""

    LOAD_BALANCER = "load_balancer"  # an Application Load Balancer (billed by the hour)
    HTTP_API = "http_api"  # an API Gateway HTTP API with a VPC link to Cloud Map (billed by the request)


@dataclass(frozen=True)
class ScaleToZeroSchedule:
    """Scale the service to zero tasks outside working hours (EventBridge cron, UTC)."""

    scale_down_cron: str = "cron(0 19 ? * MON-FRI *)"
    scale_up_cron: str = "cron(0 7 ? * MON-FRI *)"
