"""The secrets preflight handler, against moto's SSM."""

from __future__ import annotations

import boto3
import pytest

from tests.lambda_functions.conftest import load_handler

HONEYCOMB = "/cruddur-backend-flask/dev/HONEYCOMB_API_KEY"
ROLLBAR = "/cruddur-backend-flask/dev/ROLLBAR_ACCESS_TOKEN"


def _event(request_type: str, names=(HONEYCOMB, ROLLBAR)) -> dict:
    return {
        "RequestType": request_type,
        "ResourceProperties": {
            "ParameterNames": list(names),
            "FixCommand": "make secrets ENV=dev",
            "Environment": "dev",
        },
    }


@pytest.fixture
def handler(aws):
    """A fresh handler module inside moto."""
    return load_handler("secrets_preflight")


def _put(name: str, kind: str = "SecureString") -> None:
    boto3.client("ssm").put_parameter(Name=name, Value="a-value", Type=kind)


@pytest.mark.parametrize("request_type", ["Create", "Update"])
def test_passes_and_changes_nothing_when_every_secret_exists(handler, request_type):
    """Both SecureStrings exist: success, and the parameters are untouched."""
    _put(HONEYCOMB)
    _put(ROLLBAR)
    result = handler.on_event(_event(request_type))
    assert result["PhysicalResourceId"] == "secrets-preflight-dev"
    assert result["Data"] == {"Checked": 2}
    versions = [p["Version"] for p in boto3.client("ssm").describe_parameters()["Parameters"]]
    assert versions == [1, 1]


def test_names_every_missing_parameter_and_the_fix(handler):
    """Nothing put: one message names both parameters and the exact make secrets command."""
    with pytest.raises(handler.PreflightFailed) as error:
        handler.on_event(_event("Create"))
    message = str(error.value)
    assert f"{HONEYCOMB} does not exist" in message
    assert f"{ROLLBAR} does not exist" in message
    assert "make secrets ENV=dev" in message


def test_a_plain_string_is_refused(handler):
    """A secret put as a String (readable by anyone with GetParameter) fails the check."""
    _put(HONEYCOMB, "String")
    _put(ROLLBAR)
    with pytest.raises(handler.PreflightFailed, match=f"{HONEYCOMB} is a String, not a SecureString"):
        handler.on_event(_event("Update"))


def test_delete_succeeds_without_looking(handler):
    """Delete never fails, even with nothing in SSM, and keeps the physical id."""
    event = {**_event("Delete"), "PhysicalResourceId": "secrets-preflight-dev"}
    assert handler.on_event(event) == {"PhysicalResourceId": "secrets-preflight-dev"}


def test_many_parameters_are_checked_in_chunks(handler):
    """More than 50 names (DescribeParameters' filter limit) are all checked."""
    names = [f"/cruddur-backend-flask/dev/SECRET_{index}" for index in range(60)]
    for name in names[:-1]:
        _put(name)
    with pytest.raises(handler.PreflightFailed) as error:
        handler.on_event(_event("Create", names))
    assert "SECRET_59 does not exist" in str(error.value)
    assert "SECRET_58" not in str(error.value)
