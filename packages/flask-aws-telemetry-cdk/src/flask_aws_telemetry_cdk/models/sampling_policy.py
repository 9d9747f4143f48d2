"""X-Ray sampling rules: one policy per environment, and every form it takes.

``SamplingPolicy`` is the one translation of an environment's rules
(``SamplingRuleConfig``, listed in the app's own CDK app; the environment
hands them over as ``EnvironmentConfig.sampling_policy``):

- ``api_rules()``: the rules as X-Ray's API spells them, which
  ``xray_sampling.XRaySamplingRules`` deploys as ``AWS::XRay::SamplingRule``
  resources, and that decide live: the service's sampler fetches them
  through the task's sampling proxy and reports its statistics for X-Ray's
  targets (``flask_aws_telemetry/sampling.py``);
- ``fallback_rules_json()``: the same rules for the task definition
  (``XRAY_SAMPLING_RULES``), deciding until the proxy answers;
- ``traced_requests()``: what the cost estimate counts as recorded.

A rule's ``boost`` (``SamplingBoostConfig``: ``max_rate``,
``cooldown_minutes``) is X-Ray's adaptive sampling: it becomes the rule's
``SamplingRateBoost`` in every form (CloudFormation, the fallback rules).
The service reports each boosted rule's requests and anomalies, X-Ray
answers a temporary rate of at most ``max_rate``, at most once per
``cooldown_minutes``; the fallback rules boost locally the same way.

A rule whose ``ServiceName`` differs from the name the service reports never
matches and silently samples nothing; the configuration refuses such a
rule, and here a rule without a service name gets the service's own.

Plain values only, no CDK import: the configuration, ``make cost`` and the
benchmarks read the policy without loading the CDK.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flask_aws_telemetry import contract


@dataclass(frozen=True)
class SamplingBoostConfig:
    """X-Ray adaptive sampling for a rule: up to ``max_rate`` (0 to 1) after anomalies, one boost per
    ``cooldown_minutes``.
    """

    max_rate: float
    cooldown_minutes: int

    def api_boost(self) -> dict[str, Any]:
        """The boost as X-Ray's API (and CloudFormation's ``SamplingRateBoost``) spell it."""
        return {"MaxRate": self.max_rate, "CooldownWindowMinutes": self.cooldown_minutes}


@dataclass(frozen=True)
class SamplingRuleConfig:
    """One X-Ray sampling rule; ``service_name`` None means the service's own name."""

    rule_name: str
    priority: int
    reservoir_size: int
    fixed_rate: float
    http_method: str = "*"
    url_path: str = "*"
    host: str = "*"
    service_type: str = "*"
    service_name: str | None = None
    boost: SamplingBoostConfig | None = None


@dataclass(frozen=True)
class SamplingPolicy:
    """An environment's X-Ray sampling rules, for the service it samples."""

    service_name: str
    rules: tuple[SamplingRuleConfig, ...]

    @classmethod
    def from_cloudformation(cls, rules: Iterable[Mapping[str, Any]]) -> SamplingPolicy:
        """The policy of synthesized ``SamplingRule`` properties (for reading a template back)."""
        configs = tuple(
            SamplingRuleConfig(
                rule_name=rule["RuleName"],
                priority=rule["Priority"],
                reservoir_size=rule["ReservoirSize"],
                fixed_rate=rule["FixedRate"],
                http_method=rule.get("HTTPMethod", "*"),
                url_path=rule.get("URLPath", "*"),
                host=rule.get("Host", "*"),
                service_type=rule.get("ServiceType", "*"),
                service_name=rule.get("ServiceName"),
                boost=SamplingBoostConfig(
                    max_rate=rule["SamplingRateBoost"]["MaxRate"],
                    cooldown_minutes=rule["SamplingRateBoost"]["CooldownWindowMinutes"],
                )
                if "SamplingRateBoost" in rule
                else None,
            )
            for rule in rules
        )
        names = {rule.service_name for rule in configs}
        only_name = names.pop() if len(names) == 1 else None
        return cls(service_name=only_name or "*", rules=configs)

    def api_rules(self) -> list[dict[str, Any]]:
        """The rules as X-Ray's API (and CloudFormation's ``SamplingRule``) spell them, by priority."""
        return [
            {
                "RuleName": rule.rule_name,
                "Priority": rule.priority,
                "ReservoirSize": rule.reservoir_size,
                "FixedRate": rule.fixed_rate,
                "ServiceName": rule.service_name or self.service_name,
                "ServiceType": rule.service_type,
                "Host": rule.host,
                "HTTPMethod": rule.http_method,
                "URLPath": rule.url_path,
                "ResourceARN": "*",
                "Version": 1,
                **({"SamplingRateBoost": rule.boost.api_boost()} if rule.boost else {}),
            }
            for rule in sorted(self.rules, key=lambda rule: rule.priority)
        ]

    def fallback_rules_json(self) -> str:
        """``XRAY_SAMPLING_RULES`` for the task definition: the same rules, compact JSON."""
        return json.dumps(self.api_rules(), separators=(",", ":"))

    def catch_all(self) -> tuple[int, float]:
        """(reservoir per second, fixed rate) of the first rule that matches every request: X-Ray's Default if none."""
        for rule in sorted(self.rules, key=lambda rule: rule.priority):
            if rule.http_method == rule.url_path == rule.host == "*":
                return rule.reservoir_size, rule.fixed_rate
        default = contract.XRAY_DEFAULT_SAMPLING_RULE
        return int(default["ReservoirSize"]), float(default["FixedRate"])

    def traced_requests(self, requests: float, seconds: float) -> float:
        """How many of ``requests`` spread evenly over ``seconds`` the catch-all rule records.

        The reservoir takes up to its quota each second (X-Ray shares it
        between the tasks), the fixed rate a share of the rest.
        """
        reservoir, rate = self.catch_all()
        by_reservoir = min(requests, reservoir * seconds)
        return by_reservoir + rate * (requests - by_reservoir)
