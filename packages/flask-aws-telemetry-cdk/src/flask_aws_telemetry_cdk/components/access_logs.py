"""The S3 bucket the load balancer writes its access logs to."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack, region_info
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from flask_aws_telemetry_cdk.compliance import acknowledge


class AccessLogBucket(Construct):
    """Private, TLS-only, encrypted with S3-managed keys (the only kind ALB access logs accept), expiring."""

    def __init__(
        self, scope: Construct, construct_id: str, *, expiration_days: int, removal_policy: RemovalPolicy
    ) -> None:
        """Objects expire after ``expiration_days``; with DESTROY, ``cdk destroy`` empties and removes the bucket."""
        super().__init__(scope, construct_id)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            encryption=s3.BucketEncryption.S3_MANAGED,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[
                s3.LifecycleRule(
                    expiration=Duration.days(expiration_days), abort_incomplete_multipart_upload_after=Duration.days(1)
                )
            ],
            removal_policy=removal_policy,
            auto_delete_objects=removal_policy == RemovalPolicy.DESTROY,
        )
        acknowledge(
            self.bucket.node.default_child,
            "AwsSolutions-S1",
            "This bucket holds the load balancer's access logs; logging access to it would need yet another bucket, "
            "and only the load balancer's log delivery writes to it.",
        )

    def deliver_from(self, load_balancer: elbv2.ApplicationLoadBalancer) -> None:
        """Turn on ``load_balancer``'s access logs into this bucket.

        ``log_access_logs`` needs the stack's region at synth; these stacks are
        region-agnostic, so the region's load balancer account comes from a
        CloudFormation mapping of every region CDK knows (``regional_fact``).
        """
        stack = Stack.of(self)
        elb_account = stack.regional_fact(region_info.FactName.ELBV2_ACCOUNT)
        objects = self.bucket.arn_for_objects(f"AWSLogs/{stack.account}/*")
        policy = self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                actions=["s3:PutObject"], principals=[iam.AccountPrincipal(elb_account)], resources=[objects]
            )
        )
        load_balancer.set_attribute("access_logs.s3.enabled", "true")
        load_balancer.set_attribute("access_logs.s3.bucket", self.bucket.bucket_name)
        if policy.policy_dependable is not None:
            # The load balancer checks it may write before it accepts the bucket.
            load_balancer.node.add_dependency(policy.policy_dependable)
