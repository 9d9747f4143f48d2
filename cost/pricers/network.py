"""NAT gateways (hours and data processed) and public IPv4 addresses (of the NAT gateways, of tasks in public subnets).

``public_ipv4`` is also how ``load_balancer`` prices its nodes' addresses.
"""

from __future__ import annotations

from cost.inputs import Inputs
from cost.lines import Line, priced
from cost.prices import Prices

NAT_GATEWAY = "AWS::EC2::NatGateway"
ELASTIC_IP = "AWS::EC2::EIP"
VPC_ENDPOINT = "AWS::EC2::VPCEndpoint"
TYPES = frozenset({NAT_GATEWAY, ELASTIC_IP, VPC_ENDPOINT})
GATEWAY = "Gateway"  # CloudFormation's default VpcEndpointType; gateway endpoints cost nothing


def public_ipv4(whose: str, ip_hours: float, prices: Prices, *, digits: int | None = None) -> Line:
    """``ip_hours`` of public IPv4 addresses held by ``whose``."""
    return priced(f"Public IPv4: {whose}", ip_hours, "IP-hours", prices["public_ipv4_hour"], digits=digits)


def not_priced(inputs: Inputs) -> list[str]:
    """The interface endpoints (billed by the hour and the GB), as the estimate lists them."""
    return [
        f"{VPC_ENDPOINT} ({logical_id}, interface endpoint)"
        for logical_id, endpoint in inputs.resources.sorted_of_type(VPC_ENDPOINT)
        if endpoint["Properties"].get("VpcEndpointType", GATEWAY) != GATEWAY
    ]


def lines(inputs: Inputs) -> list[Line]:
    """NAT gateway hours and data, and the public addresses of NAT gateways and tasks."""
    p, hours = inputs.prices, inputs.hours
    out = []
    nat_count = len(inputs.resources.of_type(NAT_GATEWAY))
    if nat_count:
        out.append(priced("NAT gateway hours", nat_count * hours, "hours", p["nat_gateway_hour"]))
        nat_gb = inputs.usage.nat_gb_per_day * inputs.days
        out.append(priced("NAT gateway data processed", nat_gb, "GB", p["nat_gateway_gb"], digits=1))
    eip_count = len(inputs.resources.of_type(ELASTIC_IP))
    if eip_count:
        out.append(public_ipv4("NAT gateway addresses", eip_count * hours, p))
    public_ip_tasks = inputs.workload.public_ip_tasks
    if public_ip_tasks:
        out.append(public_ipv4("tasks in public subnets", public_ip_tasks * hours, p, digits=1))
    return out
