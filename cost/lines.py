"""One priced quantity (a line of the estimate) and the arithmetic every pricer shares to make one."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
THOUSAND = 1000
MILLION = 1e6


@dataclass(frozen=True)
class Line:
    """One priced quantity."""

    item: str
    quantity: float
    unit: str
    unit_price: float
    monthly_usd: Decimal


@dataclass(frozen=True)
class Saving:
    """What one part of the templates keeps off the bill: a charge without it, and the same charge with it.

    ``with_it`` is the line the estimate has; ``without`` is shown beside it and never added to the total.
    """

    item: str
    without: Line
    with_it: Line

    @property
    def monthly_usd(self) -> Decimal:
        """USD a month saved."""
        return self.without.monthly_usd - self.with_it.monthly_usd


def money(value: float) -> Decimal:
    """``value`` in USD, rounded half up to the cent."""
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def shown(quantity: float, digits: int | None) -> float:
    """``quantity`` as a line shows it: as is (None), a whole number (0), or rounded to ``digits``."""
    if digits is None:
        return quantity
    return round(quantity) if digits == 0 else round(quantity, digits)


def priced(item: str, quantity: float, unit: str, unit_price: float, *, digits: int | None = None) -> Line:
    """``quantity`` at ``unit_price`` a unit; the amount from the exact quantity, the line shows it to ``digits``."""
    return Line(item, shown(quantity, digits), unit, unit_price, money(quantity * unit_price))


def priced_per(
    item: str, quantity: float, unit: str, block_price: float, block: float, *, digits: int | None = None
) -> Line:
    """``quantity`` at ``block_price`` per ``block`` units (per thousand PUTs, per million requests)."""
    return Line(item, shown(quantity, digits), unit, block_price / block, money(quantity / block * block_price))
