"""X-Ray Transaction Search: every span that reaches X-Ray goes to CloudWatch Logs, a share is indexed.

An account-wide setting (one per account and region), as AWS documents it
for CloudFormation ("Using Transaction Search with AWS CloudFormation"):

* a CloudWatch Logs resource policy letting ``xray.amazonaws.com`` write
  (``logs:PutLogEvents``) the log groups X-Ray keeps spans in, ``aws/spans``
  and ``/aws/application-signals/data``, and only for X-Ray of this account
  (``aws:SourceArn``, ``aws:SourceAccount``);
* ``AWS::XRay::TransactionSearchConfig``, created after the policy: the
  segment destination becomes CloudWatch Logs and ``indexing_percentage`` of
  the spans are indexed as trace summaries.

X-Ray's OTLP endpoint (``https://xray.<region>.amazonaws.com/v1/traces``)
accepts spans only where it is on. The log groups themselves are X-Ray's:
it creates them when spans first arrive.
"""

from __future__ import annotations

from aws_cdk import Aws, Stack
from aws_cdk import aws_logs as logs
from aws_cdk import aws_xray as xray
from constructs import Construct

XRAY_SERVICE_PRINCIPAL = "xray.amazonaws.com"
SPANS_LOG_GROUP = "aws/spans"
APPLICATION_SIGNALS_LOG_GROUP = "/aws/application-signals/data"


def span_log_group_arns() -> list[str]:
    """The ARNs (every stream) of the log groups X-Ray writes spans to, in this stack's account and region."""
    prefix = f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:log-group"
    return [f"{prefix}:{SPANS_LOG_GROUP}:*", f"{prefix}:{APPLICATION_SIGNALS_LOG_GROUP}:*"]


class TransactionSearch(Construct):
    """The resource policy X-Ray needs, then the account's Transaction Search configuration."""

    def __init__(
        self, scope: Construct, construct_id: str, *, policy_name: str, indexing_percentage: float = 1.0
    ) -> None:
        """Let X-Ray write its span log groups (``policy_name``), then turn Transaction Search on.

        ``indexing_percentage`` (default 1.0, the share X-Ray indexes free) of the spans become trace summaries.
        """
        super().__init__(scope, construct_id)
        document = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "TransactionSearchXRayAccess",
                    "Effect": "Allow",
                    "Principal": {"Service": XRAY_SERVICE_PRINCIPAL},
                    "Action": "logs:PutLogEvents",
                    "Resource": span_log_group_arns(),
                    "Condition": {
                        "ArnLike": {"aws:SourceArn": f"arn:{Aws.PARTITION}:xray:{Aws.REGION}:{Aws.ACCOUNT_ID}:*"},
                        "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                    },
                }
            ],
        }
        self.resource_policy = logs.CfnResourcePolicy(
            self,
            "SpansResourcePolicy",
            policy_name=policy_name,
            policy_document=Stack.of(self).to_json_string(document),
        )
        self.config = xray.CfnTransactionSearchConfig(self, "Config", indexing_percentage=indexing_percentage)
        # X-Ray checks that it may write the log groups when the destination changes.
        self.config.add_resource_dependency(self.resource_policy)
