"""The price data file (``cost/prices-us-east-1.json``): unit prices, the month's length, and where and when they
were read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_PRICES = Path(__file__).resolve().parent / "prices-us-east-1.json"


def load_prices(path: Path = DEFAULT_PRICES) -> dict[str, Any]:
    """The price data file, as its document (region, currency, as_of, source, hours_per_month, prices)."""
    return json.loads(path.read_text())


@dataclass(frozen=True)
class Prices:
    """The unit prices of a price document and the month they are for."""

    unit: Mapping[str, float]
    hours_per_month: float

    @classmethod
    def of(cls, document: Mapping[str, Any]) -> Prices:
        """The prices of a document as ``load_prices`` returns it."""
        return cls(unit=document["prices"], hours_per_month=float(document["hours_per_month"]))

    @property
    def days_per_month(self) -> float:
        """The month's length in days."""
        return self.hours_per_month / 24

    def __getitem__(self, name: str) -> float:
        """The unit price called ``name`` in the file."""
        return self.unit[name]
