"""The VPC: two AZs; dev has no NAT gateway, prod has private subnets behind NAT."""

from __future__ import annotations

from testsupport import templates


def test_dev_has_public_subnets_only_and_no_nat(dev):
    """dev keeps the NAT gateway's hourly cost away: two public subnets, tasks with public IPs."""
    assert dev.resources("network", "AWS::EC2::NatGateway") == {}
    subnets = dev.resources("network", "AWS::EC2::Subnet")
    assert len(subnets) == 2
    assert all(s["Properties"]["MapPublicIpOnLaunch"] for s in subnets.values())
    awsvpc = templates.ecs_service(dev)["Properties"]["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert awsvpc["AssignPublicIp"] == "ENABLED"


def test_prod_runs_tasks_in_private_subnets_behind_nat(prod):
    """prod: a NAT gateway per AZ and tasks without public IPs."""
    assert len(prod.resources("network", "AWS::EC2::NatGateway")) == 2
    subnets = prod.resources("network", "AWS::EC2::Subnet")
    private = [s for s in subnets.values() if not s["Properties"]["MapPublicIpOnLaunch"]]
    assert len(private) == 2
    awsvpc = templates.ecs_service(prod)["Properties"]["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert awsvpc["AssignPublicIp"] == "DISABLED"


def test_every_vpc_has_rejected_traffic_flow_logs(any_env):
    """Flow logs record rejected traffic into a log group with retention."""
    (flow_log,) = any_env.resources("network", "AWS::EC2::FlowLog").values()
    assert flow_log["Properties"]["TrafficType"] == "REJECT"
