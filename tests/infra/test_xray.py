"""X-Ray sampling rules and groups match the name the service actually reports."""

from __future__ import annotations

from aws_cdk.assertions import Match

from service.cruddur import contract


def _task_environment(env) -> dict[str, str]:
    task = next(iter(env.resources("service", "AWS::ECS::TaskDefinition").values()))
    app = next(c for c in task["Properties"]["ContainerDefinitions"] if c["Name"] == contract.APP_CONTAINER_NAME)
    return {item["Name"]: item["Value"] for item in app["Environment"]}


def test_sampling_rules_name_the_service_the_task_reports(any_env):
    """Every rule's ServiceName is the OTEL_SERVICE_NAME the task definition gives the app."""
    reported = _task_environment(any_env)[contract.SERVICE_NAME.name]
    rules = any_env.resources("observability", "AWS::XRay::SamplingRule")
    assert len(rules) == len(any_env.config.sampling_rules) == 2
    for rule in rules.values():
        assert rule["Properties"]["SamplingRule"]["ServiceName"] == reported


def test_the_course_seed_rule_is_there(dev):
    """The seeds' rule: priority 9000, reservoir 5, fixed rate 0.1, every method and path."""
    dev.template("observability").has_resource_properties(
        "AWS::XRay::SamplingRule",
        {
            "SamplingRule": Match.object_like(
                {
                    "RuleName": "cruddur-dev-default",
                    "Priority": 9000,
                    "ReservoirSize": 5,
                    "FixedRate": 0.1,
                    "HTTPMethod": "*",
                    "URLPath": "*",
                    "Host": "*",
                    "ServiceType": "*",
                    "ResourceARN": "*",
                    "Version": 1,
                }
            )
        },
    )


def test_health_checks_are_never_sampled(any_env):
    """A higher-priority rule keeps load-balancer health checks out of X-Ray."""
    any_env.template("observability").has_resource_properties(
        "AWS::XRay::SamplingRule",
        {
            "SamplingRule": Match.object_like(
                {"URLPath": contract.HEALTH_CHECK_PATH, "FixedRate": 0, "ReservoirSize": 0, "Priority": 100}
            )
        },
    )


def test_groups_filter_the_services_errors_and_slow_requests(any_env):
    """Both groups select service("<reported name>"); the slow one uses the configured threshold."""
    name = _task_environment(any_env)[contract.SERVICE_NAME.name]
    groups = {g["Properties"]["GroupName"]: g["Properties"] for g in any_env.resources("observability", "AWS::XRay::Group").values()}
    prefix = any_env.config.resource_prefix
    assert groups[f"{prefix}-errors"]["FilterExpression"] == f'service("{name}") {{ fault OR error }}'
    threshold = f"{any_env.config.slow_request_threshold_seconds:g}"
    assert groups[f"{prefix}-slow"]["FilterExpression"] == f'service("{name}") AND responsetime > {threshold}'


def test_insights_only_where_configured(dev, prod):
    """X-Ray Insights is on in prod and off in dev."""
    for env, expected in ((dev, False), (prod, True)):
        for group in env.resources("observability", "AWS::XRay::Group").values():
            assert group["Properties"]["InsightsConfiguration"]["InsightsEnabled"] is expected
