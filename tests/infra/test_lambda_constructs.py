"""The secrets preflight and the trace canary, as synthesized."""

from __future__ import annotations

from cruddur import contract
from testsupport import templates


def _functions(env) -> dict[str, dict]:
    return env.resources("service", "AWS::Lambda::Function")


def test_the_service_waits_for_the_preflight(any_env):
    """The ECS service DependsOn the preflight custom resource: a missing secret stops the deploy first."""
    (check_id,) = any_env.resources("service", "Custom::SecretsPreflight")
    assert check_id in templates.ecs_service(any_env)["DependsOn"]


def test_the_preflight_checks_exactly_the_secrets_the_task_injects(any_env):
    """ParameterNames are the two SecureStrings; the fix command names the environment; it reruns per task revision."""
    (check,) = any_env.resources("service", "Custom::SecretsPreflight").values()
    properties = check["Properties"]
    path = any_env.config.parameter_path
    assert properties["ParameterNames"] == [
        f"{path}/{contract.SECRET_HONEYCOMB_API_KEY}",
        f"{path}/{contract.SECRET_ROLLBAR_ACCESS_TOKEN}",
    ]
    assert properties["FixCommand"] == f"make secrets ENV={any_env.config.name}"
    assert properties["RerunWhen"] == {"Ref": templates.task_definition_id(any_env)}


def test_the_preflight_role_reads_metadata_only(any_env):
    """Its only SSM action is DescribeParameters: no GetParameter*, no kms:Decrypt."""
    actions = set()
    for statement in templates.policy_statements(any_env, "SecretsPreflightHandlerRole"):
        action = statement["Action"]
        actions |= set(action if isinstance(action, list) else [action])
    assert actions == {"ssm:DescribeParameters", "logs:CreateLogStream", "logs:PutLogEvents"}


def test_every_function_logs_to_a_group_with_retention(any_env):
    """No Lambda log group is left for CloudWatch to create without retention."""
    groups = any_env.resources("service", "AWS::Logs::LogGroup")
    for logical_id, function in _functions(any_env).items():
        group = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        assert groups[group]["Properties"]["RetentionInDays"] == any_env.config.logs.retention_days, logical_id


def test_the_canary_is_off_in_dev_and_on_elsewhere(dev, prod):
    """dev has no schedule; prod runs every 5 minutes with active tracing."""
    assert dev.resources("service", "AWS::Events::Rule") == {}
    (rule,) = prod.resources("service", "AWS::Events::Rule").values()
    assert rule["Properties"]["ScheduleExpression"] == "rate(5 minutes)"
    canary = next(f for lid, f in _functions(prod).items() if lid.startswith("TraceCanary"))
    assert canary["Properties"]["TracingConfig"] == {"Mode": "Active"}
    assert canary["Properties"]["Environment"]["Variables"]["SERVICE_NAME"] == prod.config.service_name
    assert canary["Properties"]["Timeout"] > prod.config.canary.wait_seconds


def test_the_canary_may_put_metrics_only_in_its_namespace(prod):
    """cloudwatch:PutMetricData carries a namespace condition."""
    statements = templates.policy_statements(prod, "TraceCanaryFunctionRole")
    (put,) = [s for s in statements if s["Action"] == "cloudwatch:PutMetricData"]
    assert put["Condition"] == {"StringEquals": {"cloudwatch:namespace": f"{prod.config.service_name}/prod"}}


def test_the_canary_alarm_fires_on_lost_traces_and_on_silence(prod):
    """TraceDelivered < 1 for the configured periods, missing data breaching, to the alarm topic."""
    alarm = templates.alarms(prod)["cruddur-prod-TraceNotDelivered"]
    assert alarm["MetricName"] == "TraceDelivered"
    assert alarm["Dimensions"] == [{"Name": "Environment", "Value": "prod"}]
    assert alarm["ComparisonOperator"] == "LessThanThreshold" and alarm["Threshold"] == 1
    assert alarm["EvaluationPeriods"] == prod.config.canary.failed_periods
    assert alarm["TreatMissingData"] == "breaching"
    topics = prod.resources("service", "AWS::SNS::Topic")
    (topic_id,) = [lid for lid in topics if lid.startswith("MonitoringAlarmTopic")]
    assert alarm["AlarmActions"] == [{"Ref": topic_id}]
