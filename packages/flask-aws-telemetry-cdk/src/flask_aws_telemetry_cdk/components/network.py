"""The VPC the service runs in: new over two AZs, or an existing one by id.

A new VPC with private subnets gets gateway endpoints for DynamoDB and S3 on
their route tables: the tasks' table calls and the image layers ECR serves
from S3 then stay off the NAT gateways, whose every GB is billed, and the
endpoints themselves cost nothing. They carry no policy of their own (full
access): what a task may do is still its role's to say.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from flask_aws_telemetry_cdk.components.log_groups import retained_log_group


class Network(Construct):
    """A VPC with flow logs; public subnets only when there is no NAT gateway, else DynamoDB and S3 endpoints."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        flow_log_retention_days: int,
        removal_policy: RemovalPolicy,
        max_azs: int = 2,
        nat_gateways: int = 0,
        existing_vpc_id: str | None = None,
        gateway_endpoints: bool = True,
    ) -> None:
        """A new VPC over ``max_azs`` (default 2) zones with ``nat_gateways`` (default 0: tasks in public subnets).

        Or the VPC ``existing_vpc_id``, left as it is. ``gateway_endpoints`` (default True): DynamoDB and S3
        gateway endpoints on the private subnets' route tables, where there are private subnets.
        """
        super().__init__(scope, construct_id)
        # By short service name ("dynamodb", "s3"); empty where there are none.
        self.gateway_endpoints: dict[str, ec2.GatewayVpcEndpoint] = {}
        if existing_vpc_id is not None:
            self.vpc: ec2.IVpc = ec2.Vpc.from_lookup(self, "Vpc", vpc_id=existing_vpc_id)
            self.tasks_in_public_subnets = not self.vpc.private_subnets
            return

        # Without a NAT gateway a private subnet has no route out, so the
        # tasks (which pull images and export telemetry) live in public
        # subnets behind a security group that only admits the load balancer.
        self.tasks_in_public_subnets = nat_gateways == 0
        subnets = [ec2.SubnetConfiguration(name="Public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24)]
        if not self.tasks_in_public_subnets:
            subnets.append(
                ec2.SubnetConfiguration(name="Private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=22)
            )
        vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=max_azs,
            nat_gateways=nat_gateways,
            subnet_configuration=subnets,
            # True would add a Lambda-backed custom resource (and its log group) to every environment.
            restrict_default_security_group=False,
        )
        self.flow_log_group = retained_log_group(
            self, "FlowLogGroup", retention_days=flow_log_retention_days, removal_policy=removal_policy
        )
        vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(self.flow_log_group),
            traffic_type=ec2.FlowLogTrafficType.REJECT,
        )
        self.vpc = vpc
        if gateway_endpoints and not self.tasks_in_public_subnets:
            self._add_gateway_endpoints(vpc)

    def _add_gateway_endpoints(self, vpc: ec2.Vpc) -> None:
        """DynamoDB and S3 reached from the private subnets without the NAT gateways."""
        private = [ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)]
        for construct_id, name, service in (
            ("DynamoDbEndpoint", "dynamodb", ec2.GatewayVpcEndpointAwsService.DYNAMODB),
            ("S3Endpoint", "s3", ec2.GatewayVpcEndpointAwsService.S3),
        ):
            self.gateway_endpoints[name] = vpc.add_gateway_endpoint(construct_id, service=service, subnets=private)

    @property
    def task_subnets(self) -> ec2.SubnetSelection:
        """Where the tasks are placed."""
        subnet_type = ec2.SubnetType.PUBLIC if self.tasks_in_public_subnets else ec2.SubnetType.PRIVATE_WITH_EGRESS
        return ec2.SubnetSelection(subnet_type=subnet_type)
