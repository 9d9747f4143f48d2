"""make secrets: SecureString parameters from the environment, values never printed."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from infra.environments import load_environment
from scripts import put_secrets

VALUES = {"HONEYCOMB_API_KEY": "hc-test-value-123", "ROLLBAR_ACCESS_TOKEN": "rb-test-value-456"}


@pytest.fixture
def aws(fake_aws_credentials):
    """moto in-process with fake credentials and a region."""
    with mock_aws():
        yield boto3.client("ssm", region_name="us-east-1")


def test_puts_both_secrets_as_securestring_at_the_task_definition_names(aws, monkeypatch, capsys):
    """Given both variables, both parameters exist as SecureString with the values, and only names are printed."""
    for name, value in VALUES.items():
        monkeypatch.setenv(name, value)
    assert put_secrets.main(["--env", "dev"]) == 0
    config = load_environment("dev")
    for name, value in VALUES.items():
        parameter = aws.get_parameter(Name=config.secret_parameter_name(name), WithDecryption=True)["Parameter"]
        assert parameter["Type"] == "SecureString"
        assert parameter["Value"] == value
    output = capsys.readouterr()
    assert "/cruddur-backend-flask/dev/HONEYCOMB_API_KEY" in output.out
    for value in VALUES.values():
        assert value not in output.out and value not in output.err


def test_overwrites_an_existing_value(aws, monkeypatch):
    """Running it again rotates the value."""
    for name, value in VALUES.items():
        monkeypatch.setenv(name, value)
    put_secrets.main(["--env", "staging"])
    monkeypatch.setenv("ROLLBAR_ACCESS_TOKEN", "rotated-value")
    assert put_secrets.main(["--env", "staging"]) == 0
    name = load_environment("staging").secret_parameter_name("ROLLBAR_ACCESS_TOKEN")
    assert aws.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"] == "rotated-value"


@pytest.mark.parametrize("missing", ["HONEYCOMB_API_KEY", "ROLLBAR_ACCESS_TOKEN"])
def test_a_missing_variable_is_named_and_nothing_is_written(aws, monkeypatch, capsys, missing):
    """Given one variable unset, the error names it and the command to run, and no parameter is put."""
    for name, value in VALUES.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv(missing)
    assert put_secrets.main(["--env", "dev"]) == 2
    err = capsys.readouterr().err
    assert missing in err and "make secrets ENV=dev" in err
    assert aws.describe_parameters()["Parameters"] == []


def test_an_unknown_environment_is_rejected(aws, monkeypatch, capsys):
    """--env prd lists the valid environments."""
    for name, value in VALUES.items():
        monkeypatch.setenv(name, value)
    assert put_secrets.main(["--env", "prd"]) == 2
    assert "dev, staging, prod" in capsys.readouterr().err


def test_the_honeycomb_configuration_key_is_put_only_when_given(aws, monkeypatch, capsys):
    """HONEYCOMB_CONFIGURATION_KEY (make honeycomb-queries') is optional: put as SecureString when set, never
    required.
    """
    for name, value in VALUES.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("HONEYCOMB_CONFIGURATION_KEY", raising=False)
    assert put_secrets.main(["--env", "dev"]) == 0
    name = load_environment("dev").secret_parameter_name("HONEYCOMB_CONFIGURATION_KEY")
    assert name not in [p["Name"] for p in aws.describe_parameters()["Parameters"]]
    monkeypatch.setenv("HONEYCOMB_CONFIGURATION_KEY", "hc-config-value-789")
    assert put_secrets.main(["--env", "dev"]) == 0
    parameter = aws.get_parameter(Name=name, WithDecryption=True)["Parameter"]
    assert (parameter["Type"], parameter["Value"]) == ("SecureString", "hc-config-value-789")
    assert "hc-config-value-789" not in capsys.readouterr().out


def test_an_app_without_rollbar_is_asked_for_no_token():
    """Rollbar off (the platform's default): make secrets needs only Honeycomb's key; Cruddur, with Rollbar, both."""
    cruddur = load_environment("dev")
    assert put_secrets.required_secret_names(cruddur) == ("HONEYCOMB_API_KEY", "ROLLBAR_ACCESS_TOKEN")
    without_rollbar = cruddur.with_changes(telemetry={"rollbar": False})
    assert put_secrets.required_secret_names(without_rollbar) == ("HONEYCOMB_API_KEY",)
    values = put_secrets.read_secret_values(
        {"HONEYCOMB_API_KEY": "hc"}, "dev", put_secrets.required_secret_names(without_rollbar)
    )
    assert values == {"HONEYCOMB_API_KEY": "hc"}
