"""The service's DynamoDB table: the design of ``service/cruddur/table.py``, deployed.

On-demand billing, TTL on ``expires_at_epoch``, AWS-owned encryption,
point-in-time recovery where asked for; a retained table also has deletion
protection, so neither ``cdk destroy`` nor a stray delete can lose prod's data.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from constructs import Construct

from cruddur import table as design


def _string(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)


class ServiceTable(Construct):
    """One DynamoDB table with the keys and indexes the service queries."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        point_in_time_recovery: bool = False,
        removal_policy: RemovalPolicy = RemovalPolicy.DESTROY,
    ) -> None:
        """Create the table; ``RemovalPolicy.RETAIN`` also turns deletion protection on."""
        super().__init__(scope, construct_id)
        retained = removal_policy is RemovalPolicy.RETAIN
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=_string(design.PARTITION_KEY),
            sort_key=_string(design.SORT_KEY),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute=design.TTL_ATTRIBUTE,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=point_in_time_recovery
            ),
            deletion_protection=retained,
            removal_policy=removal_policy,
        )
        for index, (partition, sort) in design.INDEXES.items():
            self.table.add_global_secondary_index(
                index_name=index,
                partition_key=_string(partition),
                sort_key=_string(sort),
                projection_type=dynamodb.ProjectionType.ALL,
            )

    def grant_service(self, grantee: iam.IGrantable) -> iam.Grant:
        """Exactly the actions the service calls (``SERVICE_ACTIONS``), on the table and its indexes."""
        return self.table.grant(grantee, *design.SERVICE_ACTIONS)
