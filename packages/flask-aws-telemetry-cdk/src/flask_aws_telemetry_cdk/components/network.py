"""The VPC the service runs in: new over two AZs, or an existing one by id."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from flask_aws_telemetry_cdk.components.log_groups import retained_log_group


class Network(Construct):
    """A VPC with flow logs; public subnets only when there is no NAT gateway."""

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
    ) -> None:
        """A new VPC over ``max_azs`` (default 2) zones with ``nat_gateways`` (default 0: tasks in public subnets).

        Or the VPC ``existing_vpc_id``.
        """
        super().__init__(scope, construct_id)
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

    @property
    def task_subnets(self) -> ec2.SubnetSelection:
        """Where the tasks are placed."""
        subnet_type = ec2.SubnetType.PUBLIC if self.tasks_in_public_subnets else ec2.SubnetType.PRIVATE_WITH_EGRESS
        return ec2.SubnetSelection(subnet_type=subnet_type)
