"""NAT gateways and public IPv4 addresses: per hour, and the data NAT processes."""

from __future__ import annotations

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
