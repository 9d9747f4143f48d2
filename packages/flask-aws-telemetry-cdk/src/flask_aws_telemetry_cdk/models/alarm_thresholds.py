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
    threshold. Defaults: 5-minute windows, 2 of them; 1 unhealthy target;
    85.0 % CPU or memory; 10 ERROR log lines. The requests' 5xx responses and
    response times alarm by the burn rate of their objectives (the ``slos``
    section), not by a count.
    """

    period_minutes: int = 5
    evaluation_periods: int = 2
    unhealthy_hosts: int = 1
    cpu_percent: float = 85.0
    memory_percent: float = 85.0
    error_log_lines: int = 10
