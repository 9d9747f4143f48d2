"""Alarms to SNS, the ERROR-line metric filter, and one dashboard per environment."""

from __future__ import annotations

import pytest

from cruddur import contract
from flask_aws_telemetry_cdk.assembly import synthesize
from flask_aws_telemetry_cdk.config import EntryPoint
from infra.environments import load_environment
from tests.infra.test_slos import burn_rate_window_alarm_names
from testsupport import templates

# Alarms on metrics every environment has, then those of its entry point and of Container Insights; the
# objectives' burn-rate alarms are asserted in test_slos.py (their window alarms notify no one, their alerts do).
EXPECTED_ALARMS = ("Cpu", "Memory", "ErrorLogLines")
LOAD_BALANCER_ALARMS = ("UnhealthyHosts",)
HTTP_API_ALARMS = ()
CONTAINER_INSIGHTS_ALARMS = ("TasksBelowDesired",)


def expected_alarms(config) -> set[str]:
    """The alarm names (without prefix) an environment must have: none on a metric it does not produce."""
    names = set(EXPECTED_ALARMS)
    names |= set(HTTP_API_ALARMS if config.edge.entry_point is EntryPoint.HTTP_API else LOAD_BALANCER_ALARMS)
    names |= set(CONTAINER_INSIGHTS_ALARMS) if config.task.container_insights else set()
    names |= {"TraceNotDelivered"} if config.canary is not None else set()
    return names


def test_every_alarm_notifies_the_topic(any_env):
    """Each expected alarm exists, is named from the prefix and notifies the topic on ALARM and OK."""
    prefix = any_env.config.resource_prefix
    burn_windows = burn_rate_window_alarm_names(prefix)
    alarms = {name: p for name, p in templates.alarms(any_env).items() if name not in burn_windows}
    assert set(alarms) == {f"{prefix}-{name}" for name in expected_alarms(any_env.config)}
    (topic_id,) = [
        lid for lid in any_env.resources("service", "AWS::SNS::Topic") if lid.startswith("MonitoringAlarmTopic")
    ]
    for properties in alarms.values():
        assert properties["AlarmActions"] == [{"Ref": topic_id}]
        assert properties["OKActions"] == [{"Ref": topic_id}]
        if properties["AlarmName"].endswith("-TraceNotDelivered"):
            continue  # the canary's alarm: see test_lambda_constructs
        assert properties["TreatMissingData"] == "notBreaching"
        assert properties["EvaluationPeriods"] == any_env.config.alarms.evaluation_periods


def test_thresholds_come_from_the_config(prod):
    """CPU and ERROR-line thresholds are the configured values."""
    alarms = templates.alarms(prod)
    thresholds = prod.config.alarms
    assert alarms["cruddur-prod-Cpu"]["Threshold"] == thresholds.cpu_percent
    assert alarms["cruddur-prod-ErrorLogLines"]["Threshold"] == thresholds.error_log_lines


def test_error_lines_captured_anomalies_and_boosts_are_counted_from_the_json_logs(any_env):
    """Metric filters on the app log group count ERROR records, captured anomaly traces and sampling boosts.

    The service's side (the lines these patterns match) is asserted in
    tests/service/test_anomaly_capture.py.
    """
    filters = {
        f["Properties"]["MetricTransformations"][0]["MetricName"]: f["Properties"]
        for f in any_env.resources("service", "AWS::Logs::MetricFilter").values()
    }
    assert {name: properties["FilterPattern"] for name, properties in filters.items()} == {
        "ErrorLogLines": '{ $.level = "ERROR" }',
        "CapturedAnomalyTraces": f'{{ $.logger = "{any_env.config.telemetry.logger_prefix}.anomalies" }}',
        "SamplingBoosts": f'{{ $.message = "{contract.SAMPLING_BOOST_MESSAGE_PREFIX}*" }}',
    }
    assert all(properties["LogGroupName"]["Ref"].startswith("LogGroupsApp") for properties in filters.values())


def test_one_dashboard_with_xray_group_counts(any_env):
    """The dashboard charts ApproximateTraceCount of exactly the X-Ray groups the observability stack deploys."""
    (dashboard,) = any_env.resources("service", "AWS::CloudWatch::Dashboard").values()
    assert dashboard["Properties"]["DashboardName"] == any_env.config.resource_prefix
    widgets = templates.dashboard_body(any_env)["widgets"]
    xray_metrics = [
        metric[:4]
        for widget in widgets
        for metric in widget["properties"].get("metrics", [])
        if metric[0] == "AWS/X-Ray"
    ]
    groups = sorted(
        g["Properties"]["GroupName"] for g in any_env.resources("observability", "AWS::XRay::Group").values()
    )
    prefix = any_env.config.resource_prefix
    assert groups == [f"{prefix}-errors", f"{prefix}-slow"]
    assert xray_metrics == [["AWS/X-Ray", "ApproximateTraceCount", "GroupName", group] for group in groups]


def test_the_dashboard_charts_captured_anomalies_and_boosts(any_env):
    """One widget charts the two log-line metrics of anomaly capture and sampling boosts."""
    widgets = templates.dashboard_body(any_env)["widgets"]
    names = ("CapturedAnomalyTraces", "SamplingBoosts")
    charted = {
        metric[1]
        for widget in widgets
        for metric in widget["properties"].get("metrics", [])
        if len(metric) > 1 and metric[1] in names
    }
    assert charted == {"CapturedAnomalyTraces", "SamplingBoosts"}


def test_topic_has_no_subscription_without_an_email(any_env):
    """No e-mail configured, no subscription."""
    assert any_env.resources("service", "AWS::SNS::Subscription") == {}


@pytest.fixture(scope="module")
def with_email(tmp_path_factory):
    """dev with an alarm e-mail configured."""
    config = load_environment("dev").with_changes(alarms={"email": "oncall@example.com"})
    return synthesize(config, tmp_path_factory.mktemp("cdk-email"))


def test_configured_email_subscribes_to_the_topic(with_email):
    """An alarm e-mail becomes an email subscription of the alarm topic and of the notice topic."""
    subscriptions = [s["Properties"] for s in with_email.resources("service", "AWS::SNS::Subscription").values()]
    assert sorted(s["TopicArn"]["Ref"] for s in subscriptions) == sorted(
        with_email.resources("service", "AWS::SNS::Topic")
    )
    assert all(s["Protocol"] == "email" and s["Endpoint"] == "oncall@example.com" for s in subscriptions)


def test_dev_alarms_only_on_metrics_it_has(dev):
    """dev has no load balancer and no Container Insights: its objectives' alarms read the HTTP API's metrics."""
    alarms = templates.alarms(dev)
    namespaces = set()
    for properties in alarms.values():
        if "Namespace" in properties:
            namespaces.add(properties["Namespace"])
        for query in properties.get("Metrics", []):
            if "MetricStat" in query:
                namespaces.add(query["MetricStat"]["Metric"]["Namespace"])
    assert "AWS/ApplicationELB" not in namespaces and "ECS/ContainerInsights" not in namespaces
    (api_id,) = dev.resources("service", "AWS::ApiGatewayV2::Api")
    for name in burn_rate_window_alarm_names("cruddur-dev"):
        for query in [q for q in alarms[name]["Metrics"] if "MetricStat" in q]:
            assert query["MetricStat"]["Metric"]["Namespace"] == "AWS/ApiGateway"
            assert query["MetricStat"]["Metric"]["Dimensions"] == [{"Name": "ApiId", "Value": {"Ref": api_id}}]
