"""What every pricer reads: one environment's resources, its usage profile, the prices, and its workload."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cost.prices import Prices
from cost.templates import Resources
from cost.usage import SECONDS_PER_DAY, Usage
from cost.workload import Workload


@dataclass(frozen=True)
class Inputs:
    """One environment as the pricers see it."""

    resources: Resources
    usage: Usage
    prices: Prices
    workload: Workload

    @classmethod
    def of(
        cls,
        templates: Iterable[Mapping[str, Any]],
        usage: Usage,
        price_document: Mapping[str, Any],
        *,
        on_schedule: bool = False,
    ) -> Inputs:
        """Read ``templates`` (every stack of one environment) once; ``on_schedule`` applies scale-to-zero."""
        resources = Resources(templates)
        prices = Prices.of(price_document)
        return cls(resources, usage, prices, Workload.of(resources, prices.hours_per_month, on_schedule=on_schedule))

    @property
    def hours(self) -> float:
        """Hours in the month priced."""
        return self.prices.hours_per_month

    @property
    def days(self) -> float:
        """Days in the month priced."""
        return self.prices.days_per_month

    @property
    def seconds(self) -> float:
        """Seconds in the month priced."""
        return self.days * float(SECONDS_PER_DAY)

    @property
    def requests_per_month(self) -> float:
        """API requests in the month, from the usage profile."""
        return self.usage.requests_per_day * self.days
