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
a short one as well. The workbook's table (multiwindow, multi-burn-rate, for
a 30-day budget) has three: two pages and a ticket, all three here.
"""

from __future__ import annotations

from dataclasses import dataclass

# A burn-rate window is one alarm period (EvaluationPeriods 1). PutMetricAlarm (botocore's cloudwatch model, Period):
# "An alarm's total current evaluation period can be no longer than seven days [...] For alarms with a period
# of less than one hour (3,600 seconds), the total evaluation period can't be longer than one day" (which a single
# period under an hour never is).
MAX_ALERT_WINDOW_MINUTES = 7 * 24 * 60


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

    def __post_init__(self) -> None:
        """A window CloudWatch's alarms cannot evaluate in one period is refused here, not at deploy."""
        for minutes in (self.long_window_minutes, self.short_window_minutes):
            if not 0 < minutes <= MAX_ALERT_WINDOW_MINUTES:
                raise ValueError(
                    f"{self.name}: a window of {minutes} minutes is not one alarm period "
                    f"(1 to {MAX_ALERT_WINDOW_MINUTES})"
                )


# The SRE workbook's table ("Alerting on SLOs", recommended parameters for a 30-day budget): two pages, 2 % of
# the budget in 1 hour (confirmed over 5 minutes) and 5 % in 6 hours (over 30 minutes), and a ticket, 10 % in
# 3 days (over 6 hours), here a notice. Three days is one alarm period of 259,200 s (at most 7 days from 1 hour).
FAST_BURN = BurnRateAlert("FastBurn", burn_rate=14.4, long_window_minutes=60, short_window_minutes=5, pages=True)
SUSTAINED_BURN = BurnRateAlert(
    "SustainedBurn", burn_rate=6.0, long_window_minutes=360, short_window_minutes=30, pages=True
)
SLOW_BURN = BurnRateAlert(
    "SlowBurn", burn_rate=1.0, long_window_minutes=3 * 24 * 60, short_window_minutes=360, pages=False
)
BURN_RATE_ALERTS = (FAST_BURN, SUSTAINED_BURN, SLOW_BURN)
# An objective's window holds its longest alert window.
SHORTEST_OBJECTIVE_WINDOW_DAYS = -(-max(a.long_window_minutes for a in BURN_RATE_ALERTS) // (24 * 60))
