"""Settings that hold for a whole AWS account rather than one environment.

Deployed by stacks of their own, once per account (``app.py``): they change
what every user of the account sees, whichever environment asked for them.
Like the environment sections, each setting checks itself when built and an
error names the field, the value and what is allowed.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import FieldError

# X-Ray indexes this share of the spans as trace summaries at no charge (CloudWatch, "Enable transaction search").
FREE_INDEXING_PERCENTAGE = 1.0


@dataclass(frozen=True)
class TransactionSearchConfig:
    """X-Ray Transaction Search for the account: every span to CloudWatch Logs (``aws/spans``), a share indexed.

    ``indexing_percentage`` is the share of spans X-Ray indexes as trace
    summaries, which its trace search, analytics and console read: 0 to 100,
    the first 1 % free (the default). ``make cost`` prices spans at this share.
    """

    indexing_percentage: float = FREE_INDEXING_PERCENTAGE

    def __post_init__(self) -> None:
        """Reject a share X-Ray would not accept (AWS::XRay::TransactionSearchConfig allows 0 to 100)."""
        value = self.indexing_percentage
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100:
            raise FieldError(
                "transaction_search.indexing_percentage",
                value,
                f"use a percentage from 0 to 100 (the first {FREE_INDEXING_PERCENTAGE:g} % is indexed free)",
            )

    @classmethod
    def from_context(cls, value: object | None) -> TransactionSearchConfig:
        """The setting from ``-c transaction_search_indexing_percentage=N`` (a string from the CLI), or the default."""
        if value is None:
            return cls()
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                pass
        # Whatever the CLI gave: the constructor's check rejects anything but a number from 0 to 100, naming it.
        return cls(indexing_percentage=value)  # type: ignore[arg-type]
