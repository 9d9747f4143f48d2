"""When each alarm fires: one value the monitoring of every resource family reads.

Built from an environment's ``alarms`` section (``config/sections.py``
``AlarmsConfig.thresholds``); the monitoring in ``components/monitoring.py``
takes it whole, so a threshold has one name from the configuration to the alarm.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AlarmThresholds:
    """Thresholds of the service's alarms; counts are per ``period_minutes`` window.

    An alarm fires after ``evaluation_periods`` windows at or above its
    threshold. Defaults: 5-minute windows, 2 of them; 5 responses 5xx from
    the entry point itself (``edge_5xx_count``: the load balancer or the HTTP
    API) or from the tasks (``target_5xx_count``); 1 unhealthy target; a p99
    response time of 2.0 seconds; 85.0 % CPU or memory; 10 ERROR log lines.
    """

    period_minutes: int = 5
    evaluation_periods: int = 2
    edge_5xx_count: int = 5
    target_5xx_count: int = 5
    unhealthy_hosts: int = 1
    p99_latency_seconds: float = 2.0
    cpu_percent: float = 85.0
    memory_percent: float = 85.0
    error_log_lines: int = 10
