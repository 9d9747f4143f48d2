"""Service level objectives and their burn-rate alerts: values the config and the monitoring share.

An objective is a goal (a percentage of requests) over a rolling window of
days. Its error budget is the share of requests allowed to fail
(``100 - goal_percent``); the burn rate over a look-back window is the
error rate in that window divided by the budget, so a burn rate of 1 spends
the budget exactly over the objective's window (CloudWatch's definition for
``AWS::ApplicationSignals::ServiceLevelObjective``'s ``BurnRateConfigurations``).

The alerts follow Google's SRE workbook ("Alerting on SLOs", multiwindow,
multi-burn-rate): an alert fires when the burn rate is at or above its
threshold over a long window and, to stop as soon as the burning stops, over
a short one as well.
"""

from __future__ import annotations

from dataclasses import dataclass

# CloudWatch's alarms evaluate a period of at most one day; a burn-rate window is one alarm period.
MAX_ALERT_WINDOW_MINUTES = 24 * 60


@dataclass(frozen=True)
class ObjectiveGoal:
    """A goal of ``goal_percent`` of requests good, over a rolling window of ``window_days`` days."""

    goal_percent: float
    window_days: int

    @property
    def error_budget(self) -> float:
        """The share of requests (0 to 1) allowed to be bad."""
        return 1 - self.goal_percent / 100


@dataclass(frozen=True)
class BurnRateAlert:
    """Fires when the burn rate is at or above ``burn_rate`` over both windows (minutes); ``pages`` or not.

    ``budget_share`` is the share of a whole window's budget spent by the
    time the long window alone fires: ``burn_rate * long / window``.
    """

    name: str
    burn_rate: float
    long_window_minutes: int
    short_window_minutes: int
    pages: bool

    def budget_share(self, window_days: int) -> float:
        """The share of the objective's budget spent over the long window at exactly ``burn_rate``."""
        return self.burn_rate * self.long_window_minutes / (window_days * 24 * 60)


# The SRE workbook's page (2 % of a 30-day budget in 1 hour, confirmed over 5 minutes) and, within
# an alarm's one-day reach, its slower alert (5 % in 6 hours, confirmed over 30 minutes) as a notice.
FAST_BURN = BurnRateAlert("FastBurn", burn_rate=14.4, long_window_minutes=60, short_window_minutes=5, pages=True)
SLOW_BURN = BurnRateAlert("SlowBurn", burn_rate=6.0, long_window_minutes=360, short_window_minutes=30, pages=False)
BURN_RATE_ALERTS = (FAST_BURN, SLOW_BURN)
