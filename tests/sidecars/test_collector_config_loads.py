"""Every synthesized collector configuration loads in the real collector.

The collector is ``make sidecars``' build of ``sidecars/collector`` (the
upstream OpenTelemetry Collector modules, with exactly the components
``stacks/components/collector_config.py`` uses). Each configuration is given
as ECS gives it to the sidecar: the SSM parameter's text in
``AOT_CONFIG_CONTENT``, the secrets and ``AWS_REGION`` as environment
variables. A configuration the collector rejects fails with the collector's
own message.
"""

from __future__ import annotations

import subprocess

import pytest
import yaml

from testsupport import sidecars

FAKE_SECRETS = {"HONEYCOMB_API_KEY": "fake-honeycomb-key"}
# On ECS the task role's credentials come from the container credentials endpoint; here they are fake ones
# in the environment (sigv4auth loads credentials when the configuration is validated), and nothing may ask
# the EC2 instance metadata service.
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "fake-secret-access-key",
    "AWS_EC2_METADATA_DISABLED": "true",
}
TIMEOUT_SECONDS = 60


def validate(environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The collector's own ``validate`` command, reading its configuration from AOT_CONFIG_CONTENT as ADOT does."""
    return subprocess.run(
        [str(sidecars.collector()), "validate"],
        env={"PATH": "/usr/bin:/bin", **FAKE_CREDENTIALS, **environment},
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )


def last_lines(result: subprocess.CompletedProcess[str], count: int = 20) -> str:
    """The collector's last output lines, to quote in a failure."""
    return "\n".join((result.stdout + result.stderr).strip().splitlines()[-count:])


def test_every_synthesized_configuration_loads(any_env):
    """dev, staging, prod and dev on the OpenTelemetry-only path: the collector accepts each one."""
    # Given the collector's environment as the task definition and its SSM parameter give it
    environment = sidecars.collector_environment(any_env, secrets=FAKE_SECRETS)
    # When the collector validates its configuration
    result = validate(environment)
    # Then it accepts it
    assert result.returncode == 0, f"the collector rejects the configuration of {any_env.config.name} ({any_env.config.telemetry.xray_path.value}):\n{last_lines(result)}"


def broken(configuration: str, change: str) -> str:
    """``configuration`` with one mistake a person could make."""
    parsed = yaml.safe_load(configuration)
    if change == "misspelt field":
        parsed["processors"]["batch/traces"]["send_batch_sze"] = parsed["processors"]["batch/traces"].pop("send_batch_size")
    elif change == "exporter not built in":
        parsed["exporters"]["awsxray"] = {"region": "${env:AWS_REGION}"}
        parsed["service"]["pipelines"]["traces"]["exporters"].append("awsxray")
    elif change == "undefined extension":
        parsed["service"]["extensions"].append("sigv4auth/missing")
    return yaml.safe_dump(parsed, sort_keys=False)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("misspelt field", "send_batch_sze"),
        ("exporter not built in", "awsxray"),
        ("undefined extension", "sigv4auth/missing"),
    ],
)
def test_a_broken_configuration_is_rejected_with_the_collectors_message(dev, change, message):
    """The same check fails, naming what is wrong, when the configuration has a mistake."""
    # Given dev's configuration with one mistake
    environment = sidecars.collector_environment(dev, secrets=FAKE_SECRETS)
    environment["AOT_CONFIG_CONTENT"] = broken(environment["AOT_CONFIG_CONTENT"], change)
    # When the collector validates it
    result = validate(environment)
    # Then it refuses, and its message names the mistake
    assert result.returncode != 0, f"the collector accepted a configuration with a {change}"
    assert message in result.stdout + result.stderr, last_lines(result)
