"""The VPC: two AZs; dev has no NAT gateway, prod has private subnets behind NAT, with DynamoDB and S3 endpoints."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App, RemovalPolicy, Stack
from aws_cdk.assertions import Template

from flask_aws_telemetry_cdk.assembly import SynthesizedEnvironment
from flask_aws_telemetry_cdk.components.network import Network
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


def _service_of(endpoint: dict[str, Any]) -> str:
    """The endpoint's service as its name ends ("dynamodb" of com.amazonaws.<region>.dynamodb)."""
    separator, parts = endpoint["Properties"]["ServiceName"]["Fn::Join"]
    assert (separator, parts[:2], len(parts)) == ("", ["com.amazonaws.", {"Ref": "AWS::Region"}], 3)
    return parts[2].removeprefix(".")


def _route_tables_of(env: SynthesizedEnvironment, *, public: bool) -> set[str]:
    """The logical ids of the route tables associated with the public (or the private) subnets."""
    subnets = env.resources("network", "AWS::EC2::Subnet")
    chosen = {lid for lid, subnet in subnets.items() if subnet["Properties"]["MapPublicIpOnLaunch"] is public}
    associations = env.resources("network", "AWS::EC2::SubnetRouteTableAssociation").values()
    tables = {
        a["Properties"]["RouteTableId"]["Ref"] for a in associations if a["Properties"]["SubnetId"]["Ref"] in chosen
    }
    assert tables <= set(env.resources("network", "AWS::EC2::RouteTable"))
    return tables


@pytest.mark.parametrize("name", ["staging", "prod"])
def test_every_private_route_table_carries_the_dynamodb_and_s3_gateway_endpoints(synthesized_environments, name):
    """Given private subnets behind NAT, DynamoDB and S3 are reached through gateway endpoints on their route tables."""
    env = synthesized_environments(name)
    endpoints = {_service_of(e): e["Properties"] for e in env.resources("network", "AWS::EC2::VPCEndpoint").values()}
    private_tables = _route_tables_of(env, public=False)
    assert sorted(endpoints) == ["dynamodb", "s3"]
    assert len(private_tables) == env.config.network.max_azs  # one per private subnet
    for endpoint in endpoints.values():
        assert endpoint["VpcEndpointType"] == "Gateway"
        assert {table["Ref"] for table in endpoint["RouteTableIds"]} == private_tables
        # No endpoint policy: the task role alone says what a task may do, as it did through the NAT.
        assert "PolicyDocument" not in endpoint


def test_public_route_tables_carry_no_endpoint(prod):
    """The public subnets (load balancer, NAT gateways) keep their routes: nothing of theirs uses DynamoDB or S3."""
    public_tables = _route_tables_of(prod, public=True)
    for endpoint in prod.resources("network", "AWS::EC2::VPCEndpoint").values():
        assert not {table["Ref"] for table in endpoint["Properties"]["RouteTableIds"]} & public_tables


def test_dev_without_private_subnets_has_no_endpoint(dev):
    """dev's tasks reach DynamoDB from public subnets through the internet gateway, which bills no GB: no endpoint."""
    assert dev.resources("network", "AWS::EC2::VPCEndpoint") == {}


def test_endpoints_off_leave_the_private_subnets_on_the_nat():
    """Given gateway_endpoints=False, a VPC with NAT gateways has private subnets and no endpoint."""
    stack = Stack(App(), "Network")
    Network(
        stack,
        "Network",
        flow_log_retention_days=7,
        removal_policy=RemovalPolicy.DESTROY,
        nat_gateways=1,
        gateway_endpoints=False,
    )
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::EC2::VPCEndpoint", 0)
    template.resource_count_is("AWS::EC2::NatGateway", 1)
