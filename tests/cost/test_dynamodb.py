"""DynamoDB on demand: request units per API request, storage, point-in-time recovery; provisioned is not guessed."""

from __future__ import annotations

from cost.pricers import dynamodb
from tests.cost.fragments import by_item, inputs_of

USAGE = {
    "requests_per_day": 100000,
    "dynamodb_read_units_per_request": 2.5,
    "dynamodb_write_units_per_request": 0.15,
    "dynamodb_stored_gb": 10,
}


def table(billing_mode: str, *, recovery: bool = False) -> dict:
    """A table with ``billing_mode``, point-in-time recovery on when ``recovery``."""
    properties = {
        "BillingMode": billing_mode,
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": recovery},
    }
    return {"Type": "AWS::DynamoDB::Table", "Properties": properties}


def test_an_on_demand_table_with_recovery():
    """3,041,667 requests a month; 10 GB stored."""
    inputs = inputs_of({"Table": table("PAY_PER_REQUEST", recovery=True)}, **USAGE)
    assert by_item(dynamodb.lines(inputs)) == {
        "DynamoDB read request units: Table": (7604167, "0.95"),  # * 2.5 RRU * 0.125 / 1e6
        "DynamoDB write request units: Table (indexes included)": (456250, "0.29"),  # * 0.15 WRU * 0.625 / 1e6
        "DynamoDB storage: Table": (10, "2.50"),  # 10 GB * 0.25
        "DynamoDB point-in-time recovery: Table": (10, "2.00"),  # 10 GB * 0.20
    }
    assert dynamodb.not_priced(inputs) == []


def test_a_provisioned_table_is_listed_not_priced():
    """Its capacity is not guessed from the usage profile."""
    inputs = inputs_of({"Table": table("PROVISIONED")}, **USAGE)
    assert dynamodb.lines(inputs) == []
    assert dynamodb.not_priced(inputs) == ["AWS::DynamoDB::Table (Table, provisioned capacity)"]


def test_the_traffic_the_request_units_stand_for():
    """Per request 2.5 RRU * 8,192 B (eventually consistent) + 0.15 WRU * 1,024 B = 20,633.6 B;
    * 100,000 requests = 2.06336 GB a day, for each table (the profile's units apply to each, as its lines do).
    """
    assert dynamodb.traffic_gb_per_day(inputs_of({"Table": table("PAY_PER_REQUEST")}, **USAGE)) == 2.06336
    two = inputs_of({"Table": table("PAY_PER_REQUEST"), "Other": table("PROVISIONED")}, **USAGE)
    assert dynamodb.traffic_gb_per_day(two) == 2 * 2.06336
    assert dynamodb.traffic_gb_per_day(inputs_of({}, **USAGE)) == 0.0
