"""DynamoDB tables on demand: request units from the usage profile, storage, and point-in-time recovery where it is on.

A table with provisioned capacity is not priced (its capacity is not guessed).
``traffic_gb_per_day`` is the bytes the same request units carry between the
tasks and DynamoDB, which the NAT gateways bill per GB unless a gateway
endpoint carries them (``network``).
"""

from __future__ import annotations

from cost.inputs import Inputs
from cost.lines import MILLION, Line, priced, priced_per

TABLE = "AWS::DynamoDB::Table"
TYPES = frozenset({TABLE})
ON_DEMAND = "PAY_PER_REQUEST"
# A read unit reads up to 4 KB strongly consistent, 8 KB eventually consistent: the profile's reads are the
# latter (a feed page's Query, 0.5 RRU per 4 KB). A write unit writes up to 1 KB; the profile's write units
# count the index copies too, which never cross the wire, so their bytes are an upper bound (0.1 KB a
# request at the shipped profile, against the 20 KB a feed page reads).
BYTES_PER_READ_UNIT = 8 * 1024
BYTES_PER_WRITE_UNIT = 1024
GB = 1e9


def traffic_gb_per_day(inputs: Inputs) -> float:
    """GB a day between the tasks and every table: the item bytes the profile's request units stand for.

    Items only: DynamoDB's JSON and each call's HTTP headers add to what crosses the network, more than the
    index copies in the write units take away.
    """
    usage = inputs.usage
    bytes_per_request = (
        usage.dynamodb_read_units_per_request * BYTES_PER_READ_UNIT
        + usage.dynamodb_write_units_per_request * BYTES_PER_WRITE_UNIT
    )
    tables = len(inputs.resources.of_type(TABLE))
    return tables * usage.requests_per_day * bytes_per_request / GB


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
