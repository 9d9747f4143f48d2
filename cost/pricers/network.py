"""NAT gateways (hours and data processed), public IPv4 addresses (of the NAT gateways, of tasks in public subnets),
and what gateway endpoints keep off the NAT.

The NAT's GB are the profile's ``nat_gb_per_day`` (telemetry, logs, ECR's API,
Secrets Manager, third parties: whatever has no endpoint) plus the DynamoDB
traffic its request units stand for (``dynamodb.traffic_gb_per_day``), unless a
DynamoDB gateway endpoint carries that: then the estimate prices the NAT
without it and ``savings`` shows the charge with and without the endpoint.
The image layers ECR serves from S3 at each task start cross the NAT too
without an S3 endpoint; the profile has neither the image's size nor the task
starts a day, so they are not estimated. ``public_ipv4`` is also how
``load_balancer`` prices its nodes' addresses.
"""

from __future__ import annotations

from typing import Any

from cost.inputs import Inputs
from cost.lines import Line, Saving, priced
from cost.pricers import dynamodb
from cost.prices import Prices
from cost.templates import Resources

NAT_GATEWAY = "AWS::EC2::NatGateway"
ELASTIC_IP = "AWS::EC2::EIP"
VPC_ENDPOINT = "AWS::EC2::VPCEndpoint"
TYPES = frozenset({NAT_GATEWAY, ELASTIC_IP, VPC_ENDPOINT})
NAT_DATA = "NAT gateway data processed"
GATEWAY = "Gateway"  # CloudFormation's default VpcEndpointType; gateway endpoints cost nothing


def public_ipv4(whose: str, ip_hours: float, prices: Prices, *, digits: int | None = None) -> Line:
    """``ip_hours`` of public IPv4 addresses held by ``whose``."""
    return priced(f"Public IPv4: {whose}", ip_hours, "IP-hours", prices["public_ipv4_hour"], digits=digits)


def service_of(service_name: Any) -> str:
    """The service an endpoint reaches, as its name ends: "dynamodb" of com.amazonaws.<region>.dynamodb.

    The name is a string, the ``Fn::Join`` CDK writes (its region a ``Ref``) or an ``Fn::Sub`` of one string.
    """
    if isinstance(service_name, dict) and "Fn::Join" in service_name:
        separator, parts = service_name["Fn::Join"]
        service_name = separator.join(part if isinstance(part, str) else "<token>" for part in parts)
    elif isinstance(service_name, dict) and isinstance(service_name.get("Fn::Sub"), str):
        service_name = service_name["Fn::Sub"]
    if not isinstance(service_name, str):
        raise ValueError(f"VPC endpoint ServiceName not understood: {service_name!r}")
    return service_name.rsplit(".", 1)[-1]


def gateway_services(resources: Resources) -> set[str]:
    """The services gateway endpoints of ``resources`` reach ("dynamodb", "s3")."""
    return {
        service_of(endpoint["Properties"]["ServiceName"])
        for endpoint in resources.of_type(VPC_ENDPOINT).values()
        if endpoint["Properties"].get("VpcEndpointType", GATEWAY) == GATEWAY
    }


def not_priced(inputs: Inputs) -> list[str]:
    """The interface endpoints (billed by the hour and the GB), as the estimate lists them."""
    return [
        f"{VPC_ENDPOINT} ({logical_id}, interface endpoint)"
        for logical_id, endpoint in inputs.resources.sorted_of_type(VPC_ENDPOINT)
        if endpoint["Properties"].get("VpcEndpointType", GATEWAY) != GATEWAY
    ]


def _nat_data(inputs: Inputs, gb_per_day: float) -> Line:
    return priced(NAT_DATA, gb_per_day * inputs.days, "GB", inputs.prices["nat_gateway_gb"], digits=1)


def _nat_gb_per_day(inputs: Inputs) -> tuple[float, float]:
    """GB a day through the NAT gateways, and GB a day a DynamoDB gateway endpoint keeps off them."""
    table_gb = dynamodb.traffic_gb_per_day(inputs)
    if "dynamodb" in gateway_services(inputs.resources):
        return inputs.usage.nat_gb_per_day, table_gb
    return inputs.usage.nat_gb_per_day + table_gb, 0.0


def lines(inputs: Inputs) -> list[Line]:
    """NAT gateway hours and the data that crosses them, and the public addresses of NAT gateways and tasks."""
    p, hours = inputs.prices, inputs.hours
    out = []
    nat_count = len(inputs.resources.of_type(NAT_GATEWAY))
    if nat_count:
        out.append(priced("NAT gateway hours", nat_count * hours, "hours", p["nat_gateway_hour"]))
        out.append(_nat_data(inputs, _nat_gb_per_day(inputs)[0]))
    eip_count = len(inputs.resources.of_type(ELASTIC_IP))
    if eip_count:
        out.append(public_ipv4("NAT gateway addresses", eip_count * hours, p))
    public_ip_tasks = inputs.workload.public_ip_tasks
    if public_ip_tasks:
        out.append(public_ipv4("tasks in public subnets", public_ip_tasks * hours, p, digits=1))
    return out


def savings(inputs: Inputs) -> list[Saving]:
    """The NAT data charge without and with the DynamoDB gateway endpoint, where there are both and traffic."""
    if not inputs.resources.of_type(NAT_GATEWAY):
        return []
    crossing, kept_off = _nat_gb_per_day(inputs)
    if not kept_off:
        return []
    item = "the DynamoDB gateway endpoint (its traffic off the NAT)"
    return [Saving(item, without=_nat_data(inputs, crossing + kept_off), with_it=_nat_data(inputs, crossing))]
