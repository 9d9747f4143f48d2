"""The service's objectives at its entry point: CloudWatch SLOs and their multi-window burn-rate alarms.

Each objective is an ``AWS::ApplicationSignals::ServiceLevelObjective``, a
request-based SLI on the entry point's own CloudWatch metrics (no
Application Signals instrumentation): availability counts the requests
answered with a 5xx, latency those slower than the threshold, both against
all requests, with a goal over a rolling window of days and a burn rate per
look-back window the alarms use.

The alarms compute the same burn rate with CloudWatch metric math on the
same metrics (``bad / total / (1 - goal)``), one alarm per window, and a
composite alarm per alert that fires only when both of its windows burn
(``models/service_level_objectives.py``): the fast and the sustained burn
page through the facade's topic, the slow burn notifies its notice topic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_applicationsignals as applicationsignals
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions

from flask_aws_telemetry_cdk.components.monitoring import MonitoringFacade
from flask_aws_telemetry_cdk.models.service_level_objectives import (
    BURN_RATE_ALERTS,
    BurnRateAlert,
    ObjectiveGoal,
)

Sli = applicationsignals.CfnServiceLevelObjective
# Application Signals reads the SLI per minute; the alarms read it per window.
SLI_PERIOD_SECONDS = 60


@dataclass(frozen=True)
class RequestSignals:
    """What an entry point counts of its requests: the metrics an objective reads (statistic and period unset).

    ``requests`` counts requests (summed), ``server_errors`` counts 5xx
    responses (summed, added together), ``response_time`` has one value per
    request in units where one second is ``response_time_units_per_second``.
    """

    requests: cloudwatch.Metric
    server_errors: tuple[cloudwatch.Metric, ...]
    response_time: cloudwatch.Metric
    response_time_units_per_second: float


@dataclass(frozen=True)
class BadRequestRatio:
    """One objective's SLI as metric math: ``bad_expression`` over ``total_expression``, from ``metrics`` by id."""

    metrics: dict[str, cloudwatch.Metric]
    bad_expression: str
    total_expression: str

    def with_suffix(self, suffix: str) -> BadRequestRatio:
        """The same ratio with every metric id ending in ``suffix``: a graph of several windows needs ids apart."""

        def rename(expression: str) -> str:
            return re.sub(r"\b(" + "|".join(self.metrics) + r")\b", lambda m: m.group(1) + suffix, expression)

        return BadRequestRatio(
            metrics={f"{name}{suffix}": metric for name, metric in self.metrics.items()},
            bad_expression=rename(self.bad_expression),
            total_expression=rename(self.total_expression),
        )


def availability_ratio(signals: RequestSignals) -> BadRequestRatio:
    """Requests answered with a 5xx, of all requests (a 5xx no metric reports in a period counts as none)."""
    metrics = {f"errors{index}": metric.with_(statistic="Sum") for index, metric in enumerate(signals.server_errors)}
    metrics["requests"] = signals.requests.with_(statistic="Sum")
    bad = " + ".join(f"FILL({name}, 0)" for name in metrics if name != "requests")
    return BadRequestRatio(metrics=metrics, bad_expression=f"({bad})", total_expression="requests")


def latency_ratio(signals: RequestSignals, threshold_seconds: float) -> BadRequestRatio:
    """Requests slower than ``threshold_seconds``, of all requests: from the percentile rank of the threshold."""
    threshold = round(threshold_seconds * signals.response_time_units_per_second, 6)
    metrics = {
        "timed": signals.response_time.with_(statistic=cloudwatch.Stats.SAMPLE_COUNT),
        "withinThreshold": signals.response_time.with_(statistic=cloudwatch.Stats.percentile_rank(threshold)),
    }
    return BadRequestRatio(
        metrics=metrics, bad_expression="timed * (100 - withinThreshold) / 100", total_expression="timed"
    )


class ServiceLevelObjectives:
    """The SLOs ``Availability`` and ``Latency`` (``slos`` by name) and their burn-rate alarms in the facade.

    ``burn_rates[objective][minutes]`` is the burn-rate math of each window,
    ``budget_remaining[objective]`` the share of the window's budget left (%),
    for the dashboard.
    """

    def __init__(
        self,
        facade: MonitoringFacade,
        *,
        signals: RequestSignals,
        availability: ObjectiveGoal,
        latency: ObjectiveGoal,
        latency_threshold_seconds: float = 1.0,
    ) -> None:
        """Objectives on ``signals``: ``availability`` of answers without a 5xx, ``latency`` of answers within
        ``latency_threshold_seconds`` (default 1.0 s).
        """
        self.facade = facade
        self.slos: dict[str, Sli] = {}
        self.burn_rates: dict[str, dict[int, cloudwatch.MathExpression]] = {}
        self.budget_remaining: dict[str, cloudwatch.MathExpression] = {}
        objectives = {
            "Availability": (
                availability,
                availability_ratio(signals),
                f"{availability.goal_percent:g} % of requests answered without a 5xx",
            ),
            "Latency": (
                latency,
                latency_ratio(signals, latency_threshold_seconds),
                f"{latency.goal_percent:g} % of requests answered within {latency_threshold_seconds:g} s",
            ),
        }
        for name, (goal, ratio, description) in objectives.items():
            self.slos[name] = self._objective(name, goal, ratio, description)
            self.burn_rates[name] = {
                minutes: self.burn_rate(goal, ratio, minutes)
                for minutes in sorted(
                    {m for a in BURN_RATE_ALERTS for m in (a.long_window_minutes, a.short_window_minutes)}
                )
            }
            self.budget_remaining[name] = cloudwatch.MathExpression(
                expression=f"100 * (1 - ({ratio.bad_expression}) / {ratio.total_expression} / {goal.error_budget:.6g})",
                using_metrics=dict(ratio.metrics),
                period=Duration.days(goal.window_days),
                label=f"{name} budget remaining (%) over {goal.window_days} days",
            )
            for alert in BURN_RATE_ALERTS:
                self._alert(name, alert, description, self.burn_rates[name])

    def _objective(self, name: str, goal: ObjectiveGoal, ratio: BadRequestRatio, description: str) -> Sli:
        """The SLO resource: bad and total requests per minute, the goal over rolling days, the alerts' windows."""
        inputs = {
            query_id: Sli.MetricDataQueryProperty(
                id=query_id,
                return_data=False,
                metric_stat=Sli.MetricStatProperty(
                    metric=Sli.MetricProperty(
                        namespace=metric.namespace,
                        metric_name=metric.metric_name,
                        dimensions=[
                            Sli.DimensionProperty(name=key, value=value)
                            for key, value in (metric.dimensions or {}).items()
                        ],
                    ),
                    period=SLI_PERIOD_SECONDS,
                    stat=metric.statistic,
                ),
            )
            for query_id, metric in ratio.metrics.items()
        }

        def series(query_id: str, expression: str) -> list[Sli.MetricDataQueryProperty]:
            """The metrics ``expression`` reads, and the expression, the one query that returns data."""
            used = [query for name, query in inputs.items() if re.search(rf"\b{name}\b", expression)]
            return [*used, Sli.MetricDataQueryProperty(id=query_id, expression=expression, return_data=True)]

        windows = sorted(
            {m for alert in BURN_RATE_ALERTS for m in (alert.long_window_minutes, alert.short_window_minutes)}
        )
        return Sli(
            self.facade,
            f"{name}Slo",
            name=f"{self.facade.name_prefix}-{name}",
            description=f"{description}, over a rolling {goal.window_days} days.",
            request_based_sli=Sli.RequestBasedSliProperty(
                request_based_sli_metric=Sli.RequestBasedSliMetricProperty(
                    total_request_count_metric=series("total", ratio.total_expression),
                    monitored_request_count_metric=Sli.MonitoredRequestCountMetricProperty(
                        bad_count_metric=series("bad", ratio.bad_expression)
                    ),
                )
            ),
            goal=Sli.GoalProperty(
                attainment_goal=goal.goal_percent,
                interval=Sli.IntervalProperty(
                    rolling_interval=Sli.RollingIntervalProperty(duration=goal.window_days, duration_unit="DAY")
                ),
            ),
            burn_rate_configurations=[Sli.BurnRateConfigurationProperty(look_back_window_minutes=m) for m in windows],
        )

    @staticmethod
    def burn_rate(goal: ObjectiveGoal, ratio: BadRequestRatio, minutes: int) -> cloudwatch.MathExpression:
        """The burn rate over ``minutes``: the bad share of requests in the window over the error budget."""
        ratio = ratio.with_suffix(f"_{minutes}m")
        return cloudwatch.MathExpression(
            expression=f"({ratio.bad_expression}) / {ratio.total_expression} / {goal.error_budget:.6g}",
            using_metrics=dict(ratio.metrics),
            period=Duration.minutes(minutes),
            label=f"burn rate over {_window_label(minutes)}",
        )

    def _alert(
        self, name: str, alert: BurnRateAlert, description: str, burn_rates: dict[int, cloudwatch.MathExpression]
    ) -> cloudwatch.CompositeAlarm:
        """Two window alarms (no actions) and the composite of both, which notifies."""
        facade = self.facade
        windows = []
        for minutes in (alert.long_window_minutes, alert.short_window_minutes):
            alarm_id = f"{name}{alert.name}{_window_label(minutes).replace(' ', '')}"
            windows.append(
                cloudwatch.Alarm(
                    facade,
                    alarm_id,
                    alarm_name=f"{facade.name_prefix}-{alarm_id}",
                    alarm_description=(
                        f"{name} burn rate at or above {alert.burn_rate:g} over {_window_label(minutes)} "
                        f"(one window of the {alert.name} alert)."
                    ),
                    metric=burn_rates[minutes],
                    threshold=alert.burn_rate,
                    evaluation_periods=1,
                    comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                    treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                )
            )
        alert_id = f"{name}{alert.name}"
        composite = cloudwatch.CompositeAlarm(
            facade,
            alert_id,
            composite_alarm_name=f"{facade.name_prefix}-{alert_id}",
            alarm_description=(
                f"{'Page' if alert.pages else 'Notice'}: the {name.lower()} objective ({description}) burns its "
                f"error budget at {alert.burn_rate:g}x or faster over {_window_label(alert.long_window_minutes)} "
                f"and over {_window_label(alert.short_window_minutes)}."
            ),
            alarm_rule=cloudwatch.AlarmRule.all_of(
                *(cloudwatch.AlarmRule.from_alarm(w, cloudwatch.AlarmState.ALARM) for w in windows)
            ),
        )
        action = cloudwatch_actions.SnsAction(facade.topic if alert.pages else facade.notice_topic)
        composite.add_alarm_action(action)
        composite.add_ok_action(action)
        facade.composite_alarms[alert_id] = composite
        return composite


def _window_label(minutes: int) -> str:
    """``5 min``, ``1 h``, ``6 h``, ``3 d``."""
    if minutes % (24 * 60) == 0:
        return f"{minutes // (24 * 60)} d"
    return f"{minutes // 60} h" if minutes % 60 == 0 else f"{minutes} min"
