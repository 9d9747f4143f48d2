"""Alarms to SNS, the ERROR-line metric filter, and one dashboard per environment."""

from __future__ import annotations

import dataclasses

import pytest

from stacks.environments import load_environment
from stacks.assembly import synthesize

EXPECTED_ALARMS = (
    "Alb5xx",
    "Target5xx",
    "P99Latency",
    "UnhealthyHosts",
    "Cpu",
    "Memory",
    "TasksBelowDesired",
    "ErrorLogLines",
)


def test_every_alarm_notifies_the_topic(any_env):
    """Each expected alarm exists, is named from the prefix and notifies the topic on ALARM and OK."""
    alarms = {a["Properties"]["AlarmName"]: a["Properties"] for a in any_env.resources("service", "AWS::CloudWatch::Alarm").values()}
    prefix = any_env.config.resource_prefix
    expected = set(EXPECTED_ALARMS) | ({"TraceNotDelivered"} if any_env.config.canary_rate_minutes else set())
    assert set(alarms) == {f"{prefix}-{name}" for name in expected}
    (topic_id,) = any_env.resources("service", "AWS::SNS::Topic")
    for properties in alarms.values():
        assert properties["AlarmActions"] == [{"Ref": topic_id}]
        assert properties["OKActions"] == [{"Ref": topic_id}]
        if properties["AlarmName"].endswith("-TraceNotDelivered"):
            continue  # the canary's alarm: see test_lambda_constructs
        assert properties["TreatMissingData"] == "notBreaching"
        assert properties["EvaluationPeriods"] == any_env.config.alarm_thresholds.evaluation_periods


def test_thresholds_come_from_the_config(prod):
    """p99 latency and CPU thresholds are the configured values."""
    alarms = {a["Properties"]["AlarmName"]: a["Properties"] for a in prod.resources("service", "AWS::CloudWatch::Alarm").values()}
    thresholds = prod.config.alarm_thresholds
    assert alarms["cruddur-prod-P99Latency"]["Threshold"] == thresholds.p99_latency_seconds
    assert alarms["cruddur-prod-P99Latency"]["ExtendedStatistic"] == "p99"
    assert alarms["cruddur-prod-Cpu"]["Threshold"] == thresholds.cpu_percent


def test_error_lines_are_counted_from_the_json_logs(any_env):
    """A metric filter on the app log group counts records whose level is ERROR."""
    (metric_filter,) = any_env.resources("service", "AWS::Logs::MetricFilter").values()
    properties = metric_filter["Properties"]
    assert properties["FilterPattern"] == '{ $.level = "ERROR" }'
    assert properties["LogGroupName"]["Ref"].startswith("LogGroupsApp")
    assert properties["MetricTransformations"][0]["MetricName"] == "ErrorLogLines"


def test_one_dashboard_with_xray_group_counts(any_env):
    """The dashboard charts the X-Ray groups' ApproximateTraceCount."""
    (dashboard,) = any_env.resources("service", "AWS::CloudWatch::Dashboard").values()
    assert dashboard["Properties"]["DashboardName"] == any_env.config.resource_prefix
    body = str(dashboard["Properties"]["DashboardBody"])
    assert "ApproximateTraceCount" in body
    assert f"{any_env.config.resource_prefix}-errors" in body and f"{any_env.config.resource_prefix}-slow" in body


def test_topic_has_no_subscription_without_an_email(any_env):
    """No e-mail configured, no subscription."""
    assert any_env.resources("service", "AWS::SNS::Subscription") == {}


@pytest.fixture(scope="module")
def with_email(tmp_path_factory):
    """dev with an alarm e-mail configured."""
    config = dataclasses.replace(load_environment("dev"), alarm_email="oncall@example.com")
    return synthesize(config, tmp_path_factory.mktemp("cdk-email"))


def test_configured_email_subscribes_to_the_topic(with_email):
    """An alarm e-mail becomes an email subscription of the topic."""
    (subscription,) = with_email.resources("service", "AWS::SNS::Subscription").values()
    assert subscription["Properties"]["Protocol"] == "email"
    assert subscription["Properties"]["Endpoint"] == "oncall@example.com"
