"""The account's X-Ray Transaction Search, deployed once per account and region, never per environment.

    cdk deploy <short_name>-transaction-search -c transaction_search=true [-c transaction_search_indexing_percentage=N]

It changes what every X-Ray user of the account sees and pays (README,
"Transaction Search"); the OpenTelemetry-only path needs it.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from flask_aws_telemetry_cdk.components.transaction_search import TransactionSearch
from flask_aws_telemetry_cdk.config import TransactionSearchConfig


class TransactionSearchStack(Stack):
    """Transaction Search for the account, at the configured indexing percentage."""

    def __init__(
        self, scope: Construct, construct_id: str, *, settings: TransactionSearchConfig, policy_name: str, **kwargs: Any
    ) -> None:
        """Compose ``TransactionSearch`` with ``settings``; ``policy_name`` names the account's Logs resource policy."""
        super().__init__(scope, construct_id, **kwargs)
        self.transaction_search = TransactionSearch(
            self, "TransactionSearch", policy_name=policy_name, indexing_percentage=settings.indexing_percentage
        )
        CfnOutput(self, "IndexingPercentage", value=f"{settings.indexing_percentage:g}")
