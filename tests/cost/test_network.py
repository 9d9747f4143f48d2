"""NAT gateways and public IPv4 addresses: per hour, and the data NAT processes, without and with gateway endpoints."""

from __future__ import annotations

import pytest

from cost.pricers import network
from tests.cost.fragments import app_service, by_item, inputs_of

TWO_NATS = {
    name: {"Type": kind, "Properties": {}}
    for name, kind in [
        ("Nat1", "AWS::EC2::NatGateway"),
        ("Nat2", "AWS::EC2::NatGateway"),
        ("Ip1", "AWS::EC2::EIP"),
        ("Ip2", "AWS::EC2::EIP"),
    ]
}


def test_two_nat_gateways_and_their_addresses():
    """Two gateways all month, 1 GB a day through them; tasks in private subnets hold no address."""
    lines = by_item(network.lines(inputs_of({**TWO_NATS, **app_service()}, nat_gb_per_day=1)))
    assert lines == {
        "NAT gateway hours": (1460.0, "65.70"),  # 2 * 730 h * 0.045
        "NAT gateway data processed": (30.4, "1.37"),  # 30.41667 GB * 0.045
        "Public IPv4: NAT gateway addresses": (1460.0, "7.30"),  # 2 * 730 h * 0.005
    }


def test_tasks_in_public_subnets_hold_an_address_while_they_run():
    """One task with a public IP, on a schedule of 60 hours a week: 730 * 60/168 IP-hours."""
    target = {
        "Type": "AWS::ApplicationAutoScaling::ScalableTarget",
        "Properties": {
            "ScheduledActions": [
                {"Schedule": "cron(0 20 ? * MON-FRI *)", "ScalableTargetAction": {"MinCapacity": 0, "MaxCapacity": 0}},
                {"Schedule": "cron(0 8 ? * MON-FRI *)", "ScalableTargetAction": {"MinCapacity": 1, "MaxCapacity": 1}},
            ]
        },
    }
    resources = {**app_service(public_ip=True), "Target": target}
    assert by_item(network.lines(inputs_of(resources))) == {"Public IPv4: tasks in public subnets": (730.0, "3.65")}
    assert by_item(network.lines(inputs_of(resources, on_schedule=True))) == {
        "Public IPv4: tasks in public subnets": (260.7, "1.30"),  # 730 * 60/168 = 260.71 IP-h * 0.005
    }


def endpoint(service: str, kind: str | None = "Gateway") -> dict:
    """A VPC endpoint to ``service`` as CDK writes it (its region a Ref); ``kind`` None leaves the default type."""
    name = {"Fn::Join": ["", ["com.amazonaws.", {"Ref": "AWS::Region"}, f".{service}"]]}
    properties = {"ServiceName": name, "RouteTableIds": [{"Ref": "PrivateRouteTable1"}]}
    if kind is not None:
        properties["VpcEndpointType"] = kind
    return {"Type": "AWS::EC2::VPCEndpoint", "Properties": properties}


TABLE = {"Table": {"Type": "AWS::DynamoDB::Table", "Properties": {"BillingMode": "PAY_PER_REQUEST"}}}
# staging's profile: 100,000 requests a day, a feed page of 2.5 RRU and 0.15 WRU each, 1 GB a day of the rest
STAGING_TRAFFIC = {
    "requests_per_day": 100000,
    "dynamodb_read_units_per_request": 2.5,
    "dynamodb_write_units_per_request": 0.15,
    "nat_gb_per_day": 1,
}


def test_without_an_endpoint_dynamodb_traffic_crosses_the_nat():
    """DynamoDB: 100,000 * (2.5 * 8,192 + 0.15 * 1,024) B = 2.06336 GB a day, plus the profile's 1 GB:
    3.06336 GB * 30.41667 days = 93.1772 GB * 0.045 = 4.19; nothing saved.
    """
    inputs = inputs_of({**TWO_NATS, **app_service(), **TABLE, "S3": endpoint("s3")}, **STAGING_TRAFFIC)
    assert by_item(network.lines(inputs))["NAT gateway data processed"] == (93.2, "4.19")
    assert network.savings(inputs) == []


@pytest.mark.parametrize("kind", ["Gateway", None])
def test_a_dynamodb_gateway_endpoint_keeps_its_traffic_off_the_nat(kind):
    """With the endpoint only the profile's 1 GB a day crosses: 30.41667 GB * 0.045 = 1.37 (the type defaults to
    Gateway). The saving names the charge without it, 93.1772 GB (4.19 as above), and with it: 4.19 - 1.37 = 2.82.
    """
    inputs = inputs_of({**TWO_NATS, **app_service(), **TABLE, "Ddb": endpoint("dynamodb", kind)}, **STAGING_TRAFFIC)
    assert by_item(network.lines(inputs))["NAT gateway data processed"] == (30.4, "1.37")
    (saving,) = network.savings(inputs)
    assert (saving.without.quantity, str(saving.without.monthly_usd)) == (93.2, "4.19")
    assert (saving.with_it.quantity, str(saving.with_it.monthly_usd)) == (30.4, "1.37")
    assert str(saving.monthly_usd) == "2.82"
    assert saving.item == "the DynamoDB gateway endpoint (its traffic off the NAT)"
    assert network.not_priced(inputs) == []


def test_an_interface_endpoint_is_listed_not_priced_and_keeps_nothing_off():
    """An interface endpoint bills by the hour and the GB: not guessed; its traffic is not the NAT's saving."""
    inputs = inputs_of({**TWO_NATS, **TABLE, "Ddb": endpoint("dynamodb", "Interface")}, **STAGING_TRAFFIC)
    assert network.not_priced(inputs) == ["AWS::EC2::VPCEndpoint (Ddb, interface endpoint)"]
    assert by_item(network.lines(inputs))["NAT gateway data processed"] == (93.2, "4.19")
    assert network.savings(inputs) == []


def test_without_a_nat_gateway_there_is_no_nat_charge_to_save():
    """dev's shape: tasks in public subnets reach DynamoDB through the internet gateway, which bills no GB."""
    inputs = inputs_of({**app_service(public_ip=True), **TABLE, "Ddb": endpoint("dynamodb")}, **STAGING_TRAFFIC)
    assert not [line for line in network.lines(inputs) if line.item.startswith("NAT")]
    assert network.savings(inputs) == []


@pytest.mark.parametrize(
    ("name", "service"),
    [
        ("com.amazonaws.us-east-1.dynamodb", "dynamodb"),
        ({"Fn::Join": ["", ["com.amazonaws.", {"Ref": "AWS::Region"}, ".s3"]]}, "s3"),
        ({"Fn::Sub": "com.amazonaws.${AWS::Region}.dynamodb"}, "dynamodb"),
    ],
)
def test_the_service_an_endpoint_reaches(name, service):
    """A literal name, CDK's join with the region's Ref, or a Sub."""
    assert network.service_of(name) == service


def test_an_endpoint_name_not_understood_is_refused_rather_than_guessed():
    """A service name built some other way is an error naming it."""
    with pytest.raises(ValueError, match="ServiceName not understood"):
        network.service_of({"Ref": "EndpointServiceName"})
