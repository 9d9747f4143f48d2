"""DynamoDB tables on demand: request units from the usage profile, storage, and point-in-time recovery where it is on.

A table with provisioned capacity is not priced (its capacity is not guessed).
"""

from __future__ import annotations

from cost.inputs import Inputs
from cost.lines import MILLION, Line, priced, priced_per

TABLE = "AWS::DynamoDB::Table"
TYPES = frozenset({TABLE})
ON_DEMAND = "PAY_PER_REQUEST"


def not_priced(inputs: Inputs) -> list[str]:
    """The tables with provisioned capacity, as the estimate lists them."""
    return [
        f"{TABLE} ({logical_id}, provisioned capacity)"
        for logical_id, table in inputs.resources.sorted_of_type(TABLE)
        if table["Properties"].get("BillingMode") != ON_DEMAND
    ]


def lines(inputs: Inputs) -> list[Line]:
    """Read and write request units, storage and point-in-time recovery of every on-demand table."""
    p, usage = inputs.prices, inputs.usage
    out = []
    for logical_id, table in inputs.resources.sorted_of_type(TABLE):
        properties = table["Properties"]
        if properties.get("BillingMode") != ON_DEMAND:
            continue
        reads = inputs.requests_per_month * usage.dynamodb_read_units_per_request
        writes = inputs.requests_per_month * usage.dynamodb_write_units_per_request
        stored_gb = usage.dynamodb_stored_gb
        out.append(
            priced_per(
                f"DynamoDB read request units: {logical_id}",
                reads,
                "RRUs",
                p["dynamodb_read_request_million"],
                MILLION,
                digits=0,
            )
        )
        out.append(priced_per(f"DynamoDB write request units: {logical_id} (indexes included)", writes, "WRUs",
                              p["dynamodb_write_request_million"], MILLION, digits=0))  # fmt: skip
        out.append(priced(f"DynamoDB storage: {logical_id}", stored_gb, "GB-months", p["dynamodb_storage_gb_month"]))
        if properties.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled"):
            out.append(
                priced(
                    f"DynamoDB point-in-time recovery: {logical_id}",
                    stored_gb,
                    "GB-months",
                    p["dynamodb_pitr_gb_month"],
                )
            )
    return out
