"""The environment's X-Ray sampling rules as ``AWS::XRay::SamplingRule`` resources.

What the rules are, and every other form they take (the task's fallback
rules, the cost estimate's count), is ``sampling_policy.SamplingPolicy``.
"""

from __future__ import annotations

from aws_cdk import aws_xray as xray
from constructs import Construct

from flask_aws_telemetry_cdk.models.sampling_policy import SamplingPolicy


def cloudformation_rules(policy: SamplingPolicy) -> list[xray.CfnSamplingRule.SamplingRuleProperty]:
    """One ``SamplingRuleProperty`` per rule of ``policy``, by priority."""
    return [
        xray.CfnSamplingRule.SamplingRuleProperty(
            rule_name=rule["RuleName"],
            priority=rule["Priority"],
            reservoir_size=rule["ReservoirSize"],
            fixed_rate=rule["FixedRate"],
            service_name=rule["ServiceName"],
            service_type=rule["ServiceType"],
            host=rule["Host"],
            http_method=rule["HTTPMethod"],
            url_path=rule["URLPath"],
            resource_arn=rule["ResourceARN"],
            version=rule["Version"],
            sampling_rate_boost=xray.CfnSamplingRule.SamplingRateBoostProperty(
                max_rate=rule["SamplingRateBoost"]["MaxRate"],
                cooldown_window_minutes=rule["SamplingRateBoost"]["CooldownWindowMinutes"],
            )
            if "SamplingRateBoost" in rule
            else None,
        )
        for rule in policy.api_rules()
    ]


class XRaySamplingRules(Construct):
    """The environment's sampling rules, matching the service's reported name."""

    def __init__(self, scope: Construct, construct_id: str, *, policy: SamplingPolicy) -> None:
        """Create an AWS::XRay::SamplingRule for each rule of ``policy``."""
        super().__init__(scope, construct_id)
        self.rules: list[xray.CfnSamplingRule] = []
        for rule in cloudformation_rules(policy):
            if rule.rule_name is None:
                raise ValueError(f"a sampling rule of {construct_id} has no RuleName: it is the rule's construct id")
            self.rules.append(xray.CfnSamplingRule(self, rule.rule_name, sampling_rule=rule))
