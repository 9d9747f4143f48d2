"""Fixtures of the scripts' tests that talk to AWS: moto's SSM on loopback (make secrets puts the keys there)."""

from __future__ import annotations

import boto3
import pytest

from testsupport.standins.aws import MotoServer


@pytest.fixture(scope="module")
def moto(tmp_path_factory):
    """moto_server on loopback, for SSM."""
    with MotoServer(tmp_path_factory.mktemp("moto") / "moto.log") as server:
        yield server


@pytest.fixture
def ssm(moto):
    """moto's SSM, emptied after each test."""
    client = boto3.client(
        "ssm", endpoint_url=moto.url, region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t"
    )
    yield client
    for parameter in client.describe_parameters()["Parameters"]:
        client.delete_parameter(Name=parameter["Name"])
