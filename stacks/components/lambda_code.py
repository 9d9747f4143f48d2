"""Where the Lambda functions' code lives, and the runtime they share."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import aws_lambda as lambda_

LAMBDA_ROOT = Path(__file__).resolve().parents[2] / "lambda"
# The newest Python runtime this aws-cdk-lib knows (cdk-nag AwsSolutions-L1).
RUNTIME = lambda_.Runtime.PYTHON_3_14


def function_code(name: str) -> lambda_.Code:
    """``lambda/<name>/`` as an asset, without Docker bundling (the handlers need only boto3)."""
    return lambda_.Code.from_asset(str(LAMBDA_ROOT / name), exclude=["__pycache__", "*.pyc"])
