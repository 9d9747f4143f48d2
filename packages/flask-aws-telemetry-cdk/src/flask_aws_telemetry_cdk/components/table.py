"""The app's DynamoDB table: the key schema of the environment's ``table`` section, deployed.

On-demand billing, string keys, every attribute projected into each index,
TTL where the app names an attribute for it, AWS-owned encryption,
point-in-time recovery unless the config turns it off (with its reason); a
retained table also has deletion protection, so neither ``cdk destroy`` nor
a stray delete can lose the data.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from constructs import Construct

from flask_aws_telemetry_cdk.models.table_index import TableIndex


def _string(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)


class ServiceTable(Construct):
    """One DynamoDB table with the string keys and indexes the app queries; ``actions`` are what the app calls."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        partition_key: str,
        sort_key: str | None = None,
        indexes: tuple[TableIndex, ...] = (),
        time_to_live_attribute: str | None = None,
        actions: tuple[str, ...],
        point_in_time_recovery: bool = True,
        removal_policy: RemovalPolicy = RemovalPolicy.DESTROY,
    ) -> None:
        """Create the table; ``RemovalPolicy.RETAIN`` also turns deletion protection on."""
        super().__init__(scope, construct_id)
        self.indexes, self.actions = indexes, actions
        retained = removal_policy is RemovalPolicy.RETAIN
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=_string(partition_key),
            sort_key=_string(sort_key) if sort_key is not None else None,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute=time_to_live_attribute,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=point_in_time_recovery
            ),
            deletion_protection=retained,
            removal_policy=removal_policy,
        )
        for index in indexes:
            self.table.add_global_secondary_index(
                index_name=index.name,
                partition_key=_string(index.partition_key),
                sort_key=_string(index.sort_key) if index.sort_key is not None else None,
                projection_type=dynamodb.ProjectionType.ALL,
            )

    def grant_service(self, grantee: iam.IGrantable) -> iam.Grant:
        """Exactly the actions the app calls (``actions``), on the table and its indexes."""
        return self.table.grant(grantee, *self.actions)
