"""One environment's monthly estimate: every pricer's lines over its templates, and what is not priced."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from cost import coverage
from cost.inputs import Inputs
from cost.lines import Line, Saving
from cost.pricers import (
    browser_traces,
    cloud_map,
    cloudwatch,
    container_insights,
    dynamodb,
    fargate,
    http_api,
    lambda_functions,
    load_balancer,
    logs,
    network,
    xray,
)
from cost.templates import Resources
from cost.usage import DEFAULT_PROFILE, Usage, profile_for

# In the order their lines are shown.
PRICERS = (
    fargate,
    container_insights,
    load_balancer,
    http_api,
    cloud_map,
    network,
    logs,
    cloudwatch,
    lambda_functions,
    dynamodb,
    xray,
    browser_traces,
)
PRICED_TYPES = frozenset().union(*(pricer.TYPES for pricer in PRICERS))


@dataclass
class Estimate:
    """One environment's monthly estimate."""

    environment: str
    variant: str
    lines: list[Line] = field(default_factory=list)
    not_priced: list[str] = field(default_factory=list)
    savings: list[Saving] = field(default_factory=list)  # shown beside the lines, never in the total

    @property
    def total(self) -> Decimal:
        """The sum of the lines, in USD."""
        return sum((line.monthly_usd for line in self.lines), Decimal("0.00"))


def estimate(
    environment: str,
    templates: list[dict[str, Any]],
    usage: Usage,
    prices: Mapping[str, Any],
    *,
    on_schedule: bool = False,
) -> Estimate:
    """Price ``templates`` (every stack of ``environment``) for ``usage``; ``on_schedule`` applies scale-to-zero."""
    inputs = Inputs.of(templates, usage, prices, on_schedule=on_schedule)
    result = Estimate(environment, "on schedule" if on_schedule else "always on")
    result.not_priced = (
        coverage.unknown_resources(inputs.resources, PRICED_TYPES)
        + dynamodb.not_priced(inputs)
        + xray.not_priced(inputs)
        + network.not_priced(inputs)
    )
    result.savings = network.savings(inputs)
    for pricer in PRICERS:
        result.lines += pricer.lines(inputs)
    return result


def estimates_for(
    environments: Mapping[str, list[dict[str, Any]]], usage: Mapping[str, Usage], prices: Mapping[str, Any]
) -> list[Estimate]:
    """Always-on estimates, plus on-schedule ones for environments that scale to zero.

    An environment without a profile of its own is priced with the ``default`` one, and its variant says so.
    """
    results = []
    for name, templates in environments.items():
        profile, is_default = profile_for(usage, name)
        variants = [False, True] if Resources(templates).scheduled_actions() else [False]
        for on_schedule in variants:
            result = estimate(name, templates, profile, prices, on_schedule=on_schedule)
            if is_default:
                result.variant += f", {DEFAULT_PROFILE} usage profile"
            results.append(result)
    return results
