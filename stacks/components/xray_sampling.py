"""X-Ray sampling rules, one per rule in the environment's configuration.

A rule whose ``ServiceName`` differs from the name the service reports never
matches and silently samples nothing; ``EnvironmentConfig`` refuses such a
rule, and here a rule without a service name gets the service's own.
"""

from __future__ import annotations

from aws_cdk import aws_xray as xray
from constructs import Construct

from stacks.config import EnvironmentConfig


class XRaySamplingRules(Construct):
    """The environment's sampling rules, matching the service's reported name."""

    def __init__(self, scope: Construct, construct_id: str, *, config: EnvironmentConfig) -> None:
        """Create an AWS::XRay::SamplingRule for each configured rule."""
        super().__init__(scope, construct_id)
        self.rules: list[xray.CfnSamplingRule] = []
        for rule in config.sampling_rules:
            self.rules.append(
                xray.CfnSamplingRule(
                    self,
                    rule.rule_name,
                    sampling_rule=xray.CfnSamplingRule.SamplingRuleProperty(
                        rule_name=rule.rule_name,
                        priority=rule.priority,
                        reservoir_size=rule.reservoir_size,
                        fixed_rate=rule.fixed_rate,
                        service_name=rule.service_name or config.service_name,
                        service_type=rule.service_type,
                        host=rule.host,
                        http_method=rule.http_method,
                        url_path=rule.url_path,
                        resource_arn="*",
                        version=1,
                    ),
                )
            )
