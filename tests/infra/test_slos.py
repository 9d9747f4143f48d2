"""The objectives at each entry point: CloudWatch SLOs, their burn-rate alarms, the dashboard and the account note."""

from __future__ import annotations

import pytest

from flask_aws_telemetry_cdk.config import EntryPoint
from flask_aws_telemetry_cdk.models.service_level_objectives import (
    BURN_RATE_ALERTS,
    FAST_BURN,
    SLOW_BURN,
    SUSTAINED_BURN,
    BurnRateAlert,
)
from testsupport import templates

OBJECTIVES = ("Availability", "Latency")
SLO_TYPE = "AWS::ApplicationSignals::ServiceLevelObjective"


def _window(minutes: int) -> str:
    if minutes % 1440 == 0:
        return f"{minutes // 1440}d"
    return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}min"


def burn_rate_window_alarm_names(prefix: str) -> set[str]:
    """The names of the alarms that each watch one window of one alert of one objective."""
    return {
        f"{prefix}-{objective}{alert.name}{_window(minutes)}"
        for objective in OBJECTIVES
        for alert in BURN_RATE_ALERTS
        for minutes in (alert.long_window_minutes, alert.short_window_minutes)
    }


def _slos(env) -> dict[str, dict]:
    return {p["Properties"]["Name"]: p["Properties"] for p in env.resources("service", SLO_TYPE).values()}


def _composites(env) -> dict[str, dict]:
    return {
        p["Properties"]["AlarmName"]: p["Properties"]
        for p in env.resources("service", "AWS::CloudWatch::CompositeAlarm").values()
    }


def _metric_stats(queries: list[dict]) -> dict[str, dict]:
    return {q["Id"]: q["MetricStat"] for q in queries if "MetricStat" in q}


def _returned(queries: list[dict]) -> str:
    (returned,) = [q for q in queries if q.get("ReturnData", True)]
    return returned["Expression"]


def test_the_burn_rate_alerts_are_the_sre_workbooks():
    """The workbook's table: pages at 14.4x over 1 h and 5 min (2 % of a 30-day budget) and 6x over 6 h and
    30 min (5 %); a ticket (here a notice) at 1x over 3 days and 6 h (10 %).
    """
    assert (FAST_BURN.burn_rate, FAST_BURN.long_window_minutes, FAST_BURN.short_window_minutes) == (14.4, 60, 5)
    assert FAST_BURN.budget_share(30) == pytest.approx(0.02) and FAST_BURN.pages
    assert (SUSTAINED_BURN.burn_rate, SUSTAINED_BURN.long_window_minutes, SUSTAINED_BURN.short_window_minutes) == (
        6.0,
        360,
        30,
    )
    assert SUSTAINED_BURN.budget_share(30) == pytest.approx(0.05) and SUSTAINED_BURN.pages
    assert (SLOW_BURN.burn_rate, SLOW_BURN.long_window_minutes, SLOW_BURN.short_window_minutes) == (1.0, 4320, 360)
    assert SLOW_BURN.budget_share(30) == pytest.approx(0.10) and not SLOW_BURN.pages


@pytest.mark.parametrize("minutes", [0, 7 * 24 * 60 + 1])
def test_a_window_one_alarm_period_cannot_hold_is_refused(minutes):
    """PutMetricAlarm: Period times EvaluationPeriods (here 1) at most seven days."""
    with pytest.raises(ValueError, match=f"a window of {minutes} minutes is not one alarm period"):
        BurnRateAlert("Odd", burn_rate=1.0, long_window_minutes=minutes, short_window_minutes=5, pages=False)


def test_each_objective_is_a_request_based_slo_with_the_configured_goal(any_env):
    """Two SLOs named from the prefix: the config's goal over its rolling days, a burn rate per alert window."""
    prefix, slos = any_env.config.resource_prefix, any_env.config.slos
    found = _slos(any_env)
    assert set(found) == {f"{prefix}-{objective}" for objective in OBJECTIVES}
    goals = {"Availability": slos.availability, "Latency": slos.latency}
    for objective, goal in goals.items():
        properties = found[f"{prefix}-{objective}"]
        assert properties["Goal"] == {
            "AttainmentGoal": goal.goal_percent,
            "Interval": {"RollingInterval": {"Duration": goal.window_days, "DurationUnit": "DAY"}},
        }
        assert properties["BurnRateConfigurations"] == [
            {"LookBackWindowMinutes": minutes} for minutes in (5, 30, 60, 360, 4320)
        ]
        assert "Sli" not in properties  # request-based, not period-based


def test_availability_counts_the_entry_points_5xx_against_its_requests(any_env):
    """Load balancer: its own 5xx plus the targets' over RequestCount; HTTP API: 5xx over Count."""
    prefix = any_env.config.resource_prefix
    metric = _slos(any_env)[f"{prefix}-Availability"]["RequestBasedSli"]["RequestBasedSliMetric"]
    bad = metric["MonitoredRequestCountMetric"]["BadCountMetric"]
    total = metric["TotalRequestCountMetric"]
    names = lambda queries: sorted(s["Metric"]["MetricName"] for s in _metric_stats(queries).values())  # noqa: E731
    if any_env.config.edge.entry_point is EntryPoint.HTTP_API:
        assert names(bad) == ["5xx"] and names(total) == ["Count"]
        assert _returned(bad) == "(FILL(errors0, 0))"
    else:
        assert names(bad) == ["HTTPCode_ELB_5XX_Count", "HTTPCode_Target_5XX_Count"]
        assert names(total) == ["RequestCount"]
        assert _returned(bad) == "(FILL(errors0, 0) + FILL(errors1, 0))"
    assert _returned(total) == "requests"
    assert all(s["Stat"] == "Sum" and s["Period"] == 60 for s in _metric_stats(bad + total).values())


def test_latency_counts_requests_slower_than_the_threshold(any_env):
    """Bad: the requests above the threshold, from the percentile rank of the threshold in the entry point's unit."""
    config = any_env.config
    metric = _slos(any_env)[f"{config.resource_prefix}-Latency"]["RequestBasedSli"]["RequestBasedSliMetric"]
    stats = _metric_stats(metric["MonitoredRequestCountMetric"]["BadCountMetric"])
    http_api = config.edge.entry_point is EntryPoint.HTTP_API
    threshold = config.slos.latency_threshold_seconds * (1000 if http_api else 1)
    assert stats["withinThreshold"]["Stat"] == f"PR(:{threshold:g})"
    assert stats["timed"]["Stat"] == "SampleCount"
    assert {s["Metric"]["MetricName"] for s in stats.values()} == {"Latency" if http_api else "TargetResponseTime"}
    assert _returned(metric["MonitoredRequestCountMetric"]["BadCountMetric"]) == "timed * (100 - withinThreshold) / 100"
    assert _returned(metric["TotalRequestCountMetric"]) == "timed"


@pytest.mark.parametrize("objective", OBJECTIVES)
@pytest.mark.parametrize("alert", BURN_RATE_ALERTS, ids=lambda a: a.name)
def test_each_window_alarm_compares_the_burn_rate_over_its_window(any_env, objective, alert):
    """One period of the window, the alert's burn rate as threshold, no data not a breach, no action of its own."""
    prefix, slos = any_env.config.resource_prefix, any_env.config.slos
    budget = (slos.availability if objective == "Availability" else slos.latency).error_budget
    alarms = templates.alarms(any_env)
    for minutes in (alert.long_window_minutes, alert.short_window_minutes):
        alarm = alarms[f"{prefix}-{objective}{alert.name}{_window(minutes)}"]
        assert alarm["Threshold"] == alert.burn_rate
        assert alarm["EvaluationPeriods"] == 1
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert alarm["TreatMissingData"] == "notBreaching"
        assert "AlarmActions" not in alarm and "OKActions" not in alarm
        stats = _metric_stats(alarm["Metrics"])
        assert stats and all(s["Period"] == minutes * 60 for s in stats.values())
        assert _returned(alarm["Metrics"]).endswith(f" / {budget:.6g}")


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_fast_and_sustained_burn_page_the_topic_and_slow_burn_notifies_the_notice_topic(any_env, objective):
    """Each alert is ALARM of its long window AND of its short one; the pages to the alarm topic, the slow burn to the
    notices.
    """
    prefix = any_env.config.resource_prefix
    topics = {lid: p["Properties"]["DisplayName"] for lid, p in any_env.resources("service", "AWS::SNS::Topic").items()}
    (page_topic,) = [lid for lid, name in topics.items() if name == f"{prefix} alarms"]
    (notice_topic,) = [lid for lid, name in topics.items() if name.startswith(f"{prefix} notices")]
    composites = _composites(any_env)
    alarm_ids = {
        p["Properties"]["AlarmName"]: lid for lid, p in any_env.resources("service", "AWS::CloudWatch::Alarm").items()
    }
    for alert, topic in ((FAST_BURN, page_topic), (SUSTAINED_BURN, page_topic), (SLOW_BURN, notice_topic)):
        composite = composites[f"{prefix}-{objective}{alert.name}"]
        assert composite["AlarmActions"] == [{"Ref": topic}] and composite["OKActions"] == [{"Ref": topic}]
        parts = composite["AlarmRule"]["Fn::Join"][1]
        long_id = alarm_ids[f"{prefix}-{objective}{alert.name}{_window(alert.long_window_minutes)}"]
        short_id = alarm_ids[f"{prefix}-{objective}{alert.name}{_window(alert.short_window_minutes)}"]
        assert parts == [
            '(ALARM("',
            {"Fn::GetAtt": [long_id, "Arn"]},
            '") AND ALARM("',
            {"Fn::GetAtt": [short_id, "Arn"]},
            '"))',
        ]


def test_no_fixed_count_alarm_on_what_an_objective_covers(any_env):
    """The 5xx counts and the p99 latency alarm only through the objectives; unhealthy targets still alarm."""
    names = set(templates.alarms(any_env))
    prefix = any_env.config.resource_prefix
    assert not {f"{prefix}-{n}" for n in ("Alb5xx", "Target5xx", "Api5xx", "P99Latency")} & names
    if any_env.config.edge.entry_point is EntryPoint.LOAD_BALANCER:
        assert f"{prefix}-UnhealthyHosts" in names


def test_the_dashboard_shows_budget_remaining_and_burn_rates(any_env):
    """One single-value widget of both budgets over their windows; a burn-rate graph per objective with the alerts."""
    widgets = templates.dashboard_body(any_env)["widgets"]
    (budget,) = [w for w in widgets if w["properties"].get("title") == "Error budget remaining (%)"]
    slos = any_env.config.slos
    assert budget["type"] == "metric" and budget["properties"]["view"] == "singleValue"
    periods = {m[-1]["period"] for m in budget["properties"]["metrics"] if "expression" in m[-1]}
    assert periods == {slos.availability.window_days * 86400, slos.latency.window_days * 86400}
    for objective in OBJECTIVES:
        (graph,) = [w for w in widgets if w["properties"].get("title") == f"{objective} burn rate"]
        lines = {a["value"] for a in graph["properties"]["annotations"]["horizontal"]}
        assert lines == {FAST_BURN.burn_rate, SUSTAINED_BURN.burn_rate, SLOW_BURN.burn_rate}
        labels = {m[-1]["label"] for m in graph["properties"]["metrics"] if "expression" in m[-1]}
        assert labels == {f"burn rate over {w}" for w in ("5 min", "30 min", "1 h", "6 h", "3 d")}


def test_synth_says_what_the_account_needs_once(any_env):
    """One note naming the service-linked role the first SLO creates and the one-time alternative."""
    (note,) = [i for i in templates.infos(any_env) if "CloudWatch SLOs" in i]
    assert f"environment '{any_env.config.name}'" in note
    assert "AWSServiceRoleForCloudWatchApplicationSignals" in note and "iam:CreateServiceLinkedRole" in note
    assert "start-discovery" in note
