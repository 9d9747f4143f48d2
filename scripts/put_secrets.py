"""Put the Honeycomb API key and (where Rollbar is on) the Rollbar access token into SSM as SecureString parameters.

    HONEYCOMB_API_KEY=... ROLLBAR_ACCESS_TOKEN=... make secrets ENV=dev
    HONEYCOMB_API_KEY=... ROLLBAR_ACCESS_TOKEN=... HONEYCOMB_CONFIGURATION_KEY=... make secrets ENV=dev

The values come from the environment variables of the same names and are
never printed, logged or written anywhere else. ``HONEYCOMB_CONFIGURATION_KEY``
is optional: the service never reads it; ``make honeycomb-queries`` does. The parameter names come
from the environment's configuration (``/<service>/<env>/<NAME>``), the same
names the task definition references.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from flask_aws_telemetry import contract
from flask_aws_telemetry_cdk import ConfigError, EnvironmentConfig
from infra.environments import load_environment

SECRET_NAMES = (contract.SECRET_HONEYCOMB_API_KEY, contract.SECRET_ROLLBAR_ACCESS_TOKEN)
# Honeycomb's Configuration key (Manage Queries and Columns), for make honeycomb-queries only; put when given.
HONEYCOMB_CONFIGURATION_KEY = "HONEYCOMB_CONFIGURATION_KEY"
OPTIONAL_SECRET_NAMES = (HONEYCOMB_CONFIGURATION_KEY,)


class SecretsError(RuntimeError):
    """Putting the secrets failed; the message says why and what to do."""


def required_secret_names(config: EnvironmentConfig) -> tuple[str, ...]:
    """The secrets ``config``'s task reads: Honeycomb's key, and Rollbar's token only where Rollbar is on."""
    return tuple(
        name for name in SECRET_NAMES if config.telemetry.rollbar or name != contract.SECRET_ROLLBAR_ACCESS_TOKEN
    )


def read_secret_values(
    environ: Mapping[str, str], env_name: str, secret_names: tuple[str, ...] = SECRET_NAMES
) -> dict[str, str]:
    """The values of ``secret_names`` from ``environ``, or a SecretsError naming every missing variable."""
    missing = [name for name in secret_names if not environ.get(name, "").strip()]
    if missing:
        exports = " ".join(f"{name}=..." for name in missing)
        raise SecretsError(
            f"missing environment variable(s) {', '.join(missing)}; set them and run again, "
            f"for example: {exports} make secrets ENV={env_name}"
        )
    given = [name for name in OPTIONAL_SECRET_NAMES if environ.get(name, "").strip()]
    return {name: environ[name].strip() for name in (*secret_names, *given)}


def put_secrets(config: EnvironmentConfig, values: Mapping[str, str], ssm_client) -> list[str]:
    """Write each value as a SecureString parameter; returns the parameter names written."""
    written = []
    for name, value in values.items():
        parameter_name = config.secret_parameter_name(name)
        try:
            ssm_client.put_parameter(
                Name=parameter_name,
                Value=value,
                Type="SecureString",
                Overwrite=True,
                Description=f"{name} for {config.service_name} in {config.name} (make secrets)",
            )
        except (ClientError, BotoCoreError) as error:
            # The error text from AWS never contains the value, but be explicit about what failed.
            raise SecretsError(f"could not put {parameter_name}: {error}") from None
        written.append(parameter_name)
    return written


def ssm_client(config: EnvironmentConfig, region: str | None):
    """An SSM client in ``region``, else the environment's region, else AWS_REGION; SecretsError when none is known."""
    region = region or config.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if region is None:
        raise SecretsError("no AWS region; set AWS_REGION or pass --region")
    return boto3.client("ssm", region_name=region)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, read the values, put them, and report the parameter names only."""
    parser = argparse.ArgumentParser(description="Put the telemetry secrets into SSM Parameter Store.")
    parser.add_argument("--env", required=True, help="environment name (dev, staging, prod)")
    parser.add_argument("--region", default=None, help="AWS region (default: the environment's, then AWS_REGION)")
    args = parser.parse_args(argv)
    try:
        config = load_environment(args.env)
        values = read_secret_values(os.environ, config.name, required_secret_names(config))
        written = put_secrets(config, values, ssm_client(config, args.region))
    except (ConfigError, SecretsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for parameter_name in written:
        print(f"put SecureString {parameter_name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
