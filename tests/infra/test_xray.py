"""X-Ray sampling rules and groups match the name the service actually reports."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match

from cruddur import contract
from flask_aws_telemetry_cdk.assembly import synthesize
from flask_aws_telemetry_cdk.config import SamplingRuleConfig
from flask_aws_telemetry_cdk.models.sampling_policy import SamplingPolicy
from infra.environments import load_environment
from testsupport import templates


def _task_environment(env) -> dict[str, str]:
    return templates.environment(templates.app_container(env))


def test_sampling_rules_name_the_service_the_task_reports(any_env):
    """Every rule's ServiceName is the OTEL_SERVICE_NAME the task definition gives the app: the platform's health-check
    rule and Cruddur's one rule.
    """
    reported = _task_environment(any_env)[contract.SERVICE_NAME.name]
    rules = any_env.resources("observability", "AWS::XRay::SamplingRule")
    assert len(rules) == len(any_env.config.sampling.rules) + 1 == 2
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
    groups = {
        g["Properties"]["GroupName"]: g["Properties"]
        for g in any_env.resources("observability", "AWS::XRay::Group").values()
    }
    prefix = any_env.config.resource_prefix
    assert groups[f"{prefix}-errors"]["FilterExpression"] == f'service("{name}") {{ fault OR error }}'
    threshold = f"{any_env.config.xray_groups.slow_request_seconds:g}"
    assert groups[f"{prefix}-slow"]["FilterExpression"] == f'service("{name}") AND responsetime > {threshold}'


def test_insights_only_where_configured(dev, prod):
    """X-Ray Insights is on in prod and off in dev."""
    for env, expected in ((dev, False), (prod, True)):
        for group in env.resources("observability", "AWS::XRay::Group").values():
            assert group["Properties"]["InsightsConfiguration"]["InsightsEnabled"] is expected


def test_the_task_carries_the_deployed_rules_as_its_fallback(any_env):
    """XRAY_SAMPLING_RULES is the SamplingPolicy's translation of the same rules the template deploys."""
    deployed = templates.sampling_rules(any_env)
    carried = json.loads(_task_environment(any_env)[contract.XRAY_SAMPLING_RULES.name])
    assert carried == sorted(deployed, key=lambda rule: rule["Priority"])
    assert _task_environment(any_env)[contract.XRAY_SAMPLING_ENDPOINT.name] == contract.XRAY_SAMPLING_PROXY_URL


def test_the_policy_reads_back_from_the_template_unchanged(any_env):
    """Reading the synthesized rules back gives the same policy (what make cost prices)."""
    deployed = templates.sampling_rules(any_env)
    policy = SamplingPolicy.from_cloudformation(deployed)
    assert policy.api_rules() == any_env.config.sampling_policy.api_rules()


@pytest.mark.parametrize(
    ("rules", "requests", "seconds", "expected"),
    [
        # the reservoir takes everything while traffic stays under it: dev's 20,000 a day with 5 a second
        ((SamplingRuleConfig("d", 9000, 5, 0.1),), 20_000, 86_400, 20_000),
        # above it, the reservoir's share and the rate of the rest: 1,000,000 in 100 s, 5 a second
        ((SamplingRuleConfig("d", 9000, 5, 0.1),), 1_000_000, 100, 500 + 0.1 * 999_500),
        # the first catch-all by priority decides; a path rule does not
        ((SamplingRuleConfig("h", 10, 0, 0.0, url_path="/x"), SamplingRuleConfig("d", 20, 0, 0.5)), 1000, 10, 500),
        # without a catch-all rule X-Ray's own Default rule applies: 1 a second and 5 %
        ((SamplingRuleConfig("h", 10, 0, 0.0, url_path="/x"),), 1100, 100, 100 + 0.05 * 1000),
    ],
)
def test_traced_requests_follow_reservoir_then_rate(rules, requests, seconds, expected):
    """The recorded-trace count the cost estimate uses."""
    policy = SamplingPolicy(service_name="cruddur-backend-flask", rules=rules)
    assert policy.traced_requests(requests, seconds) == pytest.approx(expected)


def test_a_boost_reaches_the_deployed_rule_and_the_fallback_from_the_one_policy(any_env):
    """A rule's boost is its SamplingRateBoost in the template and in XRAY_SAMPLING_RULES; prod's catch-all has one."""
    boosts = {
        rule.rule_name: {"MaxRate": rule.boost.max_rate, "CooldownWindowMinutes": rule.boost.cooldown_minutes}
        for rule in any_env.config.sampling.rules
        if rule.boost is not None
    }
    deployed = {rule["RuleName"]: rule.get("SamplingRateBoost") for rule in templates.sampling_rules(any_env)}
    carried = {
        rule["RuleName"]: rule.get("SamplingRateBoost")
        for rule in json.loads(_task_environment(any_env)[contract.XRAY_SAMPLING_RULES.name])
    }
    assert {name: boost for name, boost in deployed.items() if boost} == boosts
    assert carried == deployed
    if any_env.config.name == "prod":
        (catch_all,) = [rule for rule in templates.sampling_rules(any_env) if rule["URLPath"] == "*"]
        assert 0.05 < catch_all["SamplingRateBoost"]["MaxRate"] <= 1.0
        assert catch_all["SamplingRateBoost"]["CooldownWindowMinutes"] >= 1


@pytest.fixture(scope="module")
def xray_sdk_alone(tmp_path_factory):
    """prod with OpenTelemetry off: the X-Ray SDK samples alone."""
    config = load_environment("prod").with_changes(telemetry={"opentelemetry": False})
    return synthesize(config, tmp_path_factory.mktemp("cdk-xray-sdk-alone"))


def test_capture_and_boost_without_opentelemetry_are_a_synth_warning(xray_sdk_alone, prod):
    """They need OpenTelemetry's gate: with the X-Ray SDK alone synth says so once, naming the fix; prod as shipped
    is quiet.
    """
    (warning,) = [w for w in templates.warnings(xray_sdk_alone) if "not captured" in w]
    assert "environment 'prod'" in warning and "set telemetry.opentelemetry = True" in warning
    assert not [w for w in templates.warnings(prod) if "not captured" in w]
